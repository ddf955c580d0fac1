//! The settings page: which AWS account and identity deployments go to, how people sign in, and
//! how notifications fare (the webhook and its recent deliveries); the caller's API tokens.

use leptos::prelude::*;

use crate::components::feedback::error_view;
use crate::components::tokens::TokenManager;
use crate::format::timestamp;
use crate::model::SettingsView;
use crate::{get_settings, list_tokens};

#[component]
pub fn SettingsPage() -> impl IntoView {
    let settings = Resource::new(|| (), |_| get_settings());
    let changed = RwSignal::new(0u32);
    let tokens = Resource::new(move || changed.get(), |_| list_tokens());
    view! {
        <section class="page">
            <h1>"Settings"</h1>
            <Suspense fallback=|| view! { <p class="loading" role="status">"Reading the AWS identity…"</p> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Ok(Ok(s)) => view! {
                            <SettingsView settings=s/>
                            <TokenManager tokens=tokens changed=changed/>
                        }.into_any(),
                        Ok(Err(r)) => error_view(r.message),
                        Err(e) => error_view(e.to_string()),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn SettingsView(settings: SettingsView) -> impl IntoView {
    view! {
        <h2>"Where deployments go"</h2>
        {match settings.identity {
            Ok(identity) => view! {
                <dl class="facts">
                    <dt>"AWS account"</dt><dd><code>{identity.account}</code></dd>
                    <dt>"Portal identity"</dt><dd><code>{identity.arn}</code></dd>
                    <dt>"Default region"</dt><dd>{identity.region.unwrap_or_else(|| "not set".into())}</dd>
                    <dt>"Mode"</dt><dd>{if settings.sandbox { "sandbox (local moto server, not AWS)" } else { "AWS" }}</dd>
                </dl>
                <p class="muted">"Each environment is deployed by assuming its own deploy role from this identity."</p>
            }.into_any(),
            Err(e) => view! { <p class="error" role="alert">{format!("The AWS identity could not be read: {e}")}</p> }.into_any(),
        }}
        <h2>"Sign-in"</h2>
        <p>{match settings.single_sign_on {
            Some(label) => format!("Portal accounts and single sign-on ({label})."),
            None => "Portal accounts only (no single sign-on configured).".to_owned(),
        }}</p>
        <h2>"Notifications"</h2>
        <p>{if settings.webhook { "A webhook receives approval requests and rollout results." } else { "No webhook is configured (PORTAL_WEBHOOK_URL)." }}</p>
        {settings.deliveries.map(|deliveries| view! {
            <div class="table-scroll"><table class="deliveries">
                <caption>"Recent webhook deliveries"</caption>
                <thead><tr><th scope="col">"Queued"</th><th scope="col">"Event"</th><th scope="col">"Status"</th><th scope="col">"Attempts"</th><th scope="col">"Last error"</th></tr></thead>
                <tbody>
                    {deliveries.into_iter().map(|d| view! {
                        <tr class=format!("delivery-{}", d.status)>
                            <td>{timestamp(d.created_at)}</td>
                            <td>{format!("{} ({})", d.event, d.subject)}</td>
                            <td>{d.status.as_str()}</td>
                            <td>{d.attempts}</td>
                            <td>{d.last_error.unwrap_or_default()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table></div>
        })}
    }
}
