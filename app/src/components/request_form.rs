//! The "Request this tier" section at the foot of a tier's page: the request form for
//! requesters (a registered environment, the justification), a sign-in link for everyone else.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::components::feedback::error_view;
use crate::components::nav::go;
use crate::format::usd;
use crate::model::{EnvironmentView, Refusal, RequestForm, Role, TierQuery};
use crate::{list_environments, request_deployment, whoami};

/// What the caller may do at the foot of a tier page, asked of the server before the page is
/// drawn: it travels with the tier page's island (its props), which makes no request of its own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum RequestAccess {
    SignedOut,
    /// Signed in without the requester role.
    NotRequester {
        name: String,
    },
    /// A requester, with the registered environments they may request in (perhaps none).
    Environments(Vec<EnvironmentView>),
    /// The environments could not be listed: why.
    Unavailable(String),
}

impl RequestAccess {
    /// The signed-in caller's access (server functions: on the server, direct calls).
    pub async fn load() -> Self {
        match whoami().await {
            Ok(Some(user)) if user.has(Role::Requester) => match list_environments().await {
                Ok(Ok(list)) => {
                    RequestAccess::Environments(list.environments.into_iter().filter(|e| e.may_request).collect())
                }
                Ok(Err(refusal)) => RequestAccess::Unavailable(refusal.message),
                Err(e) => RequestAccess::Unavailable(e.to_string()),
            },
            Ok(Some(user)) => RequestAccess::NotRequester { name: user.name },
            _ => RequestAccess::SignedOut,
        }
    }
}

/// The request form at the foot of a tier page, for signed-in requesters.
#[component]
pub fn RequestSection(
    query: Signal<TierQuery>,
    access: RequestAccess,
    /// The estimate's monthly total and the hours it counts, for a lifetime's cost.
    monthly: Signal<(f64, f64)>,
) -> impl IntoView {
    let body = match access {
        RequestAccess::Environments(open) if open.is_empty() => view! {
            <p class="hint">"No environment is registered for you to request in: an admin registers environments, and who may request there, on the admin page."</p>
        }
        .into_any(),
        RequestAccess::Environments(open) => {
            view! { <EnvironmentRequest query=query environments=open monthly=monthly/> }.into_any()
        }
        RequestAccess::Unavailable(message) => error_view(message),
        RequestAccess::NotRequester { name } => {
            view! { <p>{format!("{name} cannot request deployments: that needs the requester role.")}</p> }.into_any()
        }
        RequestAccess::SignedOut => view! { <p><a href="/signin">"Sign in"</a>" to request a deployment."</p> }.into_any(),
    };
    view! {
        <section class="request" aria-labelledby="request-heading">
            <h2 id="request-heading">"Request this tier"</h2>
            {body}
        </section>
    }
}

/// The form proper: a choice of the registered environments (account, region and deploy role
/// shown for the one chosen), and why.
#[component]
fn EnvironmentRequest(
    query: Signal<TierQuery>,
    environments: Vec<EnvironmentView>,
    monthly: Signal<(f64, f64)>,
) -> impl IntoView {
    let first = environments.first().map(|e| e.name.clone()).unwrap_or_default();
    let environment = RwSignal::new(first);
    let justification = RwSignal::new(String::new());
    let adopt = RwSignal::new(false);
    let lifetime = RwSignal::new(String::new());
    let refusal = RwSignal::new(None::<Refusal>);
    let action = Action::new(|form: &RequestForm| request_deployment(form.clone()));
    Effect::new(move |_| match action.value().get() {
        Some(Ok(Ok(id))) => go(&format!("/requests/{id}")),
        Some(Ok(Err(r))) => refusal.set(Some(r)),
        Some(Err(e)) => refusal.set(Some(Refusal { field: None, message: e.to_string() })),
        None => {}
    });
    let described = |field: &'static str| format!("{field}-error");
    let listed = StoredValue::new(environments.clone());
    let chosen = move || listed.with_value(|all| all.iter().find(|e| e.name == environment.get()).cloned());
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
                lifetime: lifetime.get_untracked(),
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
                <label for="req-lifetime">"Lifetime"</label>
                <input id="req-lifetime" name="lifetime" type="text" inputmode="text" placeholder="default"
                    aria-describedby="lifetime-hint lifetime-error" on:input=move |ev| lifetime.set(event_target_value(&ev))/>
                <p class="hint" id="lifetime-hint">
                    {move || chosen().map(|e| lifetime_hint(&e, &tier()))}
                </p>
                <p class="lifetime-cost" aria-live="polite">
                    {move || chosen().and_then(|e| {
                        let asked = lifetime.get();
                        let asked = asked.trim();
                        let rule = e.lifetimes.iter().find(|l| l.tier == tier());
                        let text = if asked.is_empty() { rule.and_then(|r| r.default.clone())? } else { asked.to_owned() };
                        let hours = hours_of(&text)?;
                        let (month, per_month) = monthly.get();
                        Some(format!("For {text}: {} (at {} a month).", usd(month * hours / per_month), usd(month)))
                    })}
                </p>
                {field_error(refusal, "lifetime")}
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

/// Hours in `90m`, `12h` or `14d` (the server checks it; this only prices it).
fn hours_of(text: &str) -> Option<f64> {
    let (number, unit) = text.split_at(text.len().checked_sub(1)?);
    let n: f64 = number.parse().ok().filter(|n: &f64| *n > 0.0)?;
    match unit {
        "m" => Some(n / 60.0),
        "h" => Some(n),
        "d" => Some(n * 24.0),
        _ => None,
    }
}

/// What the lifetime field takes in the chosen environment for this tier.
fn lifetime_hint(environment: &EnvironmentView, tier: &str) -> String {
    let rule = environment.lifetimes.iter().find(|l| l.tier == tier);
    let default = rule.and_then(|r| r.default.clone());
    let max = rule.and_then(|r| r.max.clone());
    let how = "Write it as 12h or 14d; when it ends, the portal tears the environment down unless someone extends it.";
    match (default, max) {
        (Some(d), Some(m)) => format!("Empty: {d}. At most {m}. {how}"),
        (Some(d), None) => format!("Empty: {d}. {how}"),
        (None, Some(m)) => format!("Empty: it does not expire. At most {m}. {how}"),
        (None, None) => format!("Empty: it does not expire. {how}"),
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
