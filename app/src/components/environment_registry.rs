//! The admin page's environments: the registered ones, the deployed ones nobody registered, and
//! the form that registers one and shows its ExternalId and trust policy, once, with a copy button.

use leptos::prelude::*;

use crate::components::feedback::error_view;
use crate::model::{EnvironmentForm, EnvironmentView, EnvironmentsView, Refusal, RegisteredView, UnregisteredView};
use crate::register_environment;

const TIERS: [(&str, &str); 3] =
    [("development", "Development"), ("production-lite", "Production Lite"), ("full-production", "Full Production")];
const REGIONS: [&str; 8] = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-1",
    "ap-northeast-1",
];

/// The registry, from the page's `environments` resource (made with the page, so hydration finds
/// it); `registered` holds the last registration's answer, and changing it reloads the list.
#[component]
pub fn EnvironmentRegistry(
    environments: Resource<Result<Result<EnvironmentsView, Refusal>, ServerFnError>>,
    registered: RwSignal<Option<RegisteredView>>,
) -> impl IntoView {
    view! {
        <section class="environments" aria-labelledby="environments-heading">
            <h2 id="environments-heading">"Environments"</h2>
            <p class="hint">"The portal deploys only to registered environments, with the ExternalId each deploy role's trust policy requires."</p>
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading environments…"</p> }>
                {move || Suspend::new(async move {
                    match environments.await {
                        Ok(Ok(view)) => registry_tables(view),
                        Ok(Err(r)) => error_view(r.message),
                        Err(e) => error_view(e.to_string()),
                    }
                })}
            </Transition>
            {move || registered.get().map(|r| view! { <TrustPolicy registered=r/> })}
            <RegisterEnvironment registered=registered/>
        </section>
    }
}

fn registry_tables(view: EnvironmentsView) -> AnyView {
    let EnvironmentsView { environments, unregistered } = view;
    let anyone = |list: &[String], role: &str| {
        if list.is_empty() {
            format!("anyone with the {role} role")
        } else {
            list.join(", ")
        }
    };
    view! {
        <div class="table-scroll">
            <table class="registry">
                <caption>"Registered environments"</caption>
                <thead><tr>
                    <th scope="col">"Name"</th><th scope="col">"Account / region"</th><th scope="col">"Deploy role"</th>
                    <th scope="col">"Domain"</th><th scope="col">"Tiers"</th><th scope="col">"Requesters"</th><th scope="col">"Approvers"</th>
                </tr></thead>
                <tbody>
                    {environments.into_iter().map(|e: EnvironmentView| view! {
                        <tr>
                            <th scope="row">{e.name.clone()}</th>
                            <td>{format!("{} / {}", e.account_id, e.region)}</td>
                            <td><code>{e.role_arn.clone()}</code></td>
                            <td>{e.domain_name.clone().unwrap_or_else(|| "none: no HTTPS without CloudFront".to_owned())}</td>
                            <td>{e.tiers.join(", ")}</td>
                            <td>{anyone(&e.requesters, "requester")}</td>
                            <td>{anyone(&e.approvers, "approver")}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {(!unregistered.is_empty()).then(|| view! {
            <div class="table-scroll">
                <table class="registry unregistered">
                    <caption>"Deployed but not registered: nothing more can be requested there until an admin registers them"</caption>
                    <thead><tr><th scope="col">"Name"</th><th scope="col">"Account / region"</th><th scope="col">"Last rollout"</th></tr></thead>
                    <tbody>
                        {unregistered.into_iter().map(|u: UnregisteredView| view! {
                            <tr>
                                <th scope="row">{u.name.clone()}<span class="badge">"unregistered"</span></th>
                                <td>{format!("{} / {}", u.account_id, u.region)}</td>
                                <td><a href=format!("/rollouts/{}", u.last_rollout_id)>{format!("#{} ({})", u.last_rollout_id, u.last_status)}</a></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        })}
    }
    .into_any()
}

/// The new environment's ExternalId and the trust policy to give its deploy role: shown once.
#[component]
fn TrustPolicy(registered: RegisteredView) -> impl IntoView {
    let copied = RwSignal::new(None::<bool>);
    let policy = registered.trust_policy.clone();
    let copy = move |_| {
        let text = policy.clone();
        leptos::task::spawn_local(async move { copied.set(Some(copy_text(text).await)) });
    };
    view! {
        <div class="registered" role="region" aria-labelledby="registered-heading">
            <h3 id="registered-heading">{format!("Registered {}", registered.environment.name)}</h3>
            <p>"Give the deploy role "<code>{registered.environment.role_arn.clone()}</code>
                " this trust policy. The ExternalId is shown this once; registering a new role makes a new one."</p>
            <p>"ExternalId: "<code class="external-id">{registered.external_id.clone()}</code></p>
            <label for="trust-policy">"Trust policy"</label>
            <textarea id="trust-policy" class="trust-policy" readonly rows="16">{registered.trust_policy.clone()}</textarea>
            <button type="button" class="button secondary" on:click=copy>"Copy trust policy"</button>
            <span role="status">{move || match copied.get() {
                Some(true) => "Copied to the clipboard",
                Some(false) => "The browser refused the clipboard: select the text and copy it",
                None => "",
            }}</span>
        </div>
    }
}

/// Writes to the clipboard; `false` when the browser refuses.
async fn copy_text(text: String) -> bool {
    #[cfg(feature = "hydrate")]
    {
        #[wasm_bindgen::prelude::wasm_bindgen]
        extern "C" {
            #[wasm_bindgen(js_namespace = ["navigator", "clipboard"], js_name = writeText)]
            fn write_text(text: &str) -> js_sys::Promise;
        }
        wasm_bindgen_futures::JsFuture::from(write_text(&text)).await.is_ok()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = text;
        false
    }
}

/// What a field of the registration form takes, under it.
fn hint(field: &str) -> &'static str {
    match field {
        "account_id" => "12 digits; the deploy role must be in this account.",
        "domain_name" => {
            "The environment's own domain: an ACM certificate, HTTPS, HTTP redirected. Empty: plain HTTP wherever no CloudFront is in front."
        }
        "requesters" => {
            "Who may request here: names or group:NAME (single sign-on), comma-separated; empty for every requester."
        }
        "approvers" => {
            "Who may approve here: names or group:NAME (single sign-on), comma-separated; empty for every approver."
        }
        _ => "",
    }
}

#[component]
fn RegisterEnvironment(registered: RwSignal<Option<RegisteredView>>) -> impl IntoView {
    let form = RwSignal::new(EnvironmentForm { region: "us-east-1".into(), ..Default::default() });
    let register = Action::new(move |_: &()| register_environment(form.get_untracked()));
    let refusal = RwSignal::new(None::<Refusal>);
    Effect::new(move |_| match register.value().get() {
        Some(Ok(Ok(view))) => {
            refusal.set(None);
            registered.set(Some(view));
        }
        Some(Ok(Err(r))) => refusal.set(Some(r)),
        Some(Err(e)) => refusal.set(Some(Refusal { field: None, message: e.to_string() })),
        None => {}
    });
    let error_for = move |field: &'static str| {
        view! {
            <p class="field-error" id=format!("env-{field}-error") role="alert">
                {move || refusal.get().filter(|r| r.field.as_deref() == Some(field)).map(|r| r.message)}
            </p>
        }
    };
    let text_field = move |id: &'static str,
                           label: &'static str,
                           placeholder: &'static str,
                           field: &'static str,
                           set: fn(&mut EnvironmentForm, String)| {
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input id=id placeholder=placeholder autocomplete="off" aria-describedby=format!("env-{field}-hint env-{field}-error")
                    on:input=move |ev| { let value = event_target_value(&ev); form.update(|f| set(f, value)); }/>
                <p class="hint" id=format!("env-{field}-hint")>{hint(field)}</p>
                {error_for(field)}
            </div>
        }
    };
    view! {
        <form class="register-environment" on:submit=move |ev| { ev.prevent_default(); register.dispatch(()); }>
            <h3>"Register an environment"</h3>
            {text_field("env-name", "Environment name", "concert-prod", "name", |f, v| f.name = v)}
            {text_field("env-account", "AWS account id", "123456789012", "account_id", |f, v| f.account_id = v)}
            <div class="field">
                <label for="env-region">"Region"</label>
                <select id="env-region" on:change=move |ev| { let value = event_target_value(&ev); form.update(|f| f.region = value); }>
                    {REGIONS.into_iter().map(|r| view! { <option value=r selected=r == "us-east-1">{r}</option> }).collect_view()}
                </select>
                {error_for("region")}
            </div>
            {text_field("env-role", "Deploy role ARN", "arn:aws:iam::123456789012:role/portal-deploy", "role_arn", |f, v| f.role_arn = v)}
            {text_field("env-domain", "Domain (optional)", "concerts.example.com", "domain_name", |f, v| f.domain_name = v)}
            <fieldset aria-describedby="env-tiers-error"><legend>"Tiers it allows"</legend>
                {TIERS.into_iter().map(|(id, label)| view! {
                    <label class="check"><input type="checkbox" on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        form.update(|f| { f.tiers.retain(|t| t != id); if on { f.tiers.push(id.to_owned()); } });
                    }/>{label}</label>
                }).collect_view()}
                {error_for("tiers")}
            </fieldset>
            {text_field("env-requesters", "Requesters", "lead, group:release-managers", "requesters", |f, v| f.requesters = v)}
            {text_field("env-approvers", "Approvers", "group:prod-approvers", "approvers", |f, v| f.approvers = v)}
            <p class="error" role="alert">{move || refusal.get().filter(|r| r.field.is_none()).map(|r| r.message)}</p>
            <button type="submit" class="button" disabled=move || register.pending().get()>
                {move || if register.pending().get() { "Registering…" } else { "Register environment" }}
            </button>
        </form>
    }
}
