//! The "Request this tier" section at the foot of a tier's page: the request form for
//! requesters (a registered environment, the justification), a sign-in link for everyone else.

use leptos::prelude::*;

use crate::components::feedback::error_view;
use crate::components::nav::go;
use crate::model::{EnvironmentView, EnvironmentsView, Refusal, RequestForm, Role, TierQuery};
use crate::{list_environments, request_deployment, whoami};

/// The request form at the foot of a tier page, for signed-in requesters.
#[component]
pub fn RequestSection(query: Signal<TierQuery>) -> impl IntoView {
    let user = Resource::new(|| (), |_| whoami());
    // Created with the section, not inside its Suspense: hydration must meet the same resources
    // in the same order as the server rendered them.
    let environments = Resource::new(|| (), |_| list_environments());
    view! {
        <section class="request" aria-labelledby="request-heading">
            <h2 id="request-heading">"Request this tier"</h2>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(u)) if u.has(Role::Requester) => {
                            view! { <RequestFormView query=query environments=environments.await/> }.into_any()
                        }
                        Ok(Some(u)) => view! {
                            <p>{format!("{} cannot request deployments: that needs the requester role.", u.name)}</p>
                        }.into_any(),
                        _ => view! { <p><a href="/signin">"Sign in"</a>" to request a deployment."</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The registered environments the requester may request in, as a form; a note when there are none.
#[component]
fn RequestFormView(
    query: Signal<TierQuery>,
    environments: Result<Result<EnvironmentsView, Refusal>, ServerFnError>,
) -> impl IntoView {
    match environments {
        Ok(Ok(list)) => {
            let open: Vec<EnvironmentView> = list.environments.into_iter().filter(|e| e.may_request).collect();
            if open.is_empty() {
                view! {
                    <p class="hint">"No environment is registered for you to request in: an admin registers environments, and who may request there, on the admin page."</p>
                }
                .into_any()
            } else {
                view! { <EnvironmentRequest query=query environments=open/> }.into_any()
            }
        }
        Ok(Err(r)) => error_view(r.message),
        Err(e) => error_view(e.to_string()),
    }
}

/// The form proper: a choice of the registered environments (account, region and deploy role
/// shown for the one chosen), and why.
#[component]
fn EnvironmentRequest(query: Signal<TierQuery>, environments: Vec<EnvironmentView>) -> impl IntoView {
    let first = environments.first().map(|e| e.name.clone()).unwrap_or_default();
    let environment = RwSignal::new(first);
    let justification = RwSignal::new(String::new());
    let adopt = RwSignal::new(false);
    let refusal = RwSignal::new(None::<Refusal>);
    let action = Action::new(|form: &RequestForm| request_deployment(form.clone()));
    Effect::new(move |_| match action.value().get() {
        Some(Ok(Ok(id))) => go(&format!("/requests/{id}")),
        Some(Ok(Err(r))) => refusal.set(Some(r)),
        Some(Err(e)) => refusal.set(Some(Refusal { field: None, message: e.to_string() })),
        None => {}
    });
    let described = |field: &'static str| format!("{field}-error");
    let chosen = {
        let environments = environments.clone();
        move || environments.iter().find(|e| e.name == environment.get()).cloned()
    };
    let tier = move || query.with(|q| q.tier.clone());
    view! {
        <form class="request-form" on:submit=move |ev| {
            ev.prevent_default();
            refusal.set(None);
            action.dispatch(RequestForm {
                environment: environment.get_untracked(),
                justification: justification.get_untracked(),
                adopt: adopt.get_untracked(),
                query: query.get_untracked(),
            });
        }>
            <p class="hint">"The request records the cost, options and assumptions shown above."</p>
            <div class="field">
                <label for="req-environment">"Environment"</label>
                <select id="req-environment" name="environment" aria-describedby="environment-details environment-error"
                    on:change=move |ev| environment.set(event_target_value(&ev))>
                    {environments.iter().map(|e| {
                        let name = e.name.clone();
                        let label = format!("{} ({} / {})", e.name, e.account_id, e.region);
                        view! { <option value=name.clone() selected=move || environment.get() == name>{label}</option> }
                    }).collect_view()}
                </select>
                <p class="hint" id="environment-details">
                    {move || chosen().map(|e| {
                        let allowed = e.tiers.contains(&tier());
                        format!(
                            "Deploys into account {} in {} as {}.{}",
                            e.account_id,
                            e.region,
                            e.role_arn,
                            if allowed { String::new() } else { format!(" It does not allow this tier: it allows {}.", e.tiers.join(", ")) },
                        )
                    })}
                </p>
                {field_error(refusal, "environment")}
            </div>
            <div class="field">
                <label for="req-justification">"Justification"</label>
                <textarea id="req-justification" name="justification" required rows="3"
                    aria-describedby=described("justification") on:input=move |ev| justification.set(event_target_value(&ev))></textarea>
                {field_error(refusal, "justification")}
            </div>
            <div class="field">
                <label class="check">
                    <input type="checkbox" name="adopt" aria-describedby="adopt-hint"
                        on:change=move |ev| adopt.set(event_target_checked(&ev))/>
                    "Adopt existing stacks"
                </label>
                <p class="hint" id="adopt-hint">"Only when stacks of this environment were made outside the portal: they are taken over, and the approvers see what will change in them."</p>
            </div>
            <p class="error" role="alert">
                {move || refusal.get().filter(|r| r.field.is_none() || r.field.as_deref().is_some_and(|f| f.starts_with("usage") || f == "options" || f == "tier")).map(|r| r.message)}
            </p>
            <button type="submit" class="button" disabled=move || action.pending().get()>
                {move || if action.pending().get() { "Requesting…" } else { "Request deployment" }}
            </button>
        </form>
    }
}

/// The refusal's message when it is about `field`, under that field (`{field}-error`).
fn field_error(refusal: RwSignal<Option<Refusal>>, field: &'static str) -> impl IntoView {
    let id = format!("{field}-error");
    view! {
        <p class="field-error" id=id role="alert">
            {move || refusal.get().filter(|r| r.field.as_deref() == Some(field)).map(|r| r.message)}
        </p>
    }
}
