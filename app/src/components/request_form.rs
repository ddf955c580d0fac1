//! The "Request this tier" section at the foot of a tier's page: the request form for
//! requesters (environment, region, deploy role, justification), a sign-in link for everyone else.

use leptos::prelude::*;

use crate::components::nav::go;
use crate::model::{Refusal, RequestForm, Role, TierQuery};
use crate::{request_deployment, whoami};

/// The request form at the foot of a tier page, for signed-in requesters.
#[component]
pub fn RequestSection(query: Signal<TierQuery>) -> impl IntoView {
    let user = Resource::new(|| (), |_| whoami());
    view! {
        <section class="request" aria-labelledby="request-heading">
            <h2 id="request-heading">"Request this tier"</h2>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(u)) if u.has(Role::Requester) => view! { <RequestFormView query=query/> }.into_any(),
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

#[component]
fn RequestFormView(query: Signal<TierQuery>) -> impl IntoView {
    let environment = RwSignal::new(String::new());
    let region = RwSignal::new("us-east-1".to_owned());
    let role_arn = RwSignal::new(String::new());
    let justification = RwSignal::new(String::new());
    let refusal = RwSignal::new(None::<Refusal>);
    let action = Action::new(|form: &RequestForm| request_deployment(form.clone()));
    Effect::new(move |_| match action.value().get() {
        Some(Ok(Ok(id))) => go(&format!("/requests/{id}")),
        Some(Ok(Err(r))) => refusal.set(Some(r)),
        Some(Err(e)) => refusal.set(Some(Refusal { field: None, message: e.to_string() })),
        None => {}
    });
    let described = |field: &'static str| format!("{field}-error");
    view! {
        <form class="request-form" on:submit=move |ev| {
            ev.prevent_default();
            refusal.set(None);
            action.dispatch(RequestForm {
                environment: environment.get_untracked(),
                region: region.get_untracked(),
                role_arn: role_arn.get_untracked(),
                justification: justification.get_untracked(),
                query: query.get_untracked(),
            });
        }>
            <p class="hint">"The request records the cost, options and assumptions shown above."</p>
            <div class="field">
                <label for="req-environment">"Environment name"</label>
                <input id="req-environment" name="environment" required placeholder="concert-prod"
                    aria-describedby=described("environment") on:input=move |ev| environment.set(event_target_value(&ev))/>
                {field_error(refusal, "environment")}
            </div>
            <div class="field">
                <label for="req-region">"Region"</label>
                <select id="req-region" name="region" aria-describedby=described("region")
                    on:change=move |ev| region.set(event_target_value(&ev))>
                    {["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1"]
                        .into_iter()
                        .map(|r| view! { <option value=r selected=r == "us-east-1">{r}</option> })
                        .collect_view()}
                </select>
                {field_error(refusal, "region")}
            </div>
            <div class="field">
                <label for="req-role">"Deploy role ARN"</label>
                <input id="req-role" name="role_arn" required placeholder="arn:aws:iam::123456789012:role/portal-deploy"
                    aria-describedby=described("role_arn") on:input=move |ev| role_arn.set(event_target_value(&ev))/>
                {field_error(refusal, "role_arn")}
            </div>
            <div class="field">
                <label for="req-justification">"Justification"</label>
                <textarea id="req-justification" name="justification" required rows="3"
                    aria-describedby=described("justification") on:input=move |ev| justification.set(event_target_value(&ev))></textarea>
                {field_error(refusal, "justification")}
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
