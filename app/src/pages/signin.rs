//! The sign-in page: single sign-on when it is configured, and the portal account form.

use leptos::prelude::*;

use crate::components::nav::go;
use crate::{sign_in, single_sign_on};

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = Action::new(|(name, password): &(String, String)| sign_in(name.clone(), password.clone()));
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let provider = Resource::new(|| (), |_| single_sign_on());
    let message = move || match action.value().get() {
        Some(Ok(Err(refusal))) => Some(refusal.message),
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    };
    Effect::new(move |_| {
        if let Some(Ok(Ok(_))) = action.value().get() {
            go("/");
        }
    });
    view! {
        <section class="page narrow">
            <h1>"Sign in"</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    provider.await.ok().flatten().map(|label| view! {
                        <p class="sso">
                            // A plain link: the provider's page is a full navigation, not a fetch.
                            <a class="button" href="/auth/oidc/start" rel="external">{format!("Sign in with {label}")}</a>
                        </p>
                        <p class="muted">"or with a portal account:"</p>
                    })
                })}
            </Suspense>
            <form on:submit=move |ev| {
                ev.prevent_default();
                action.dispatch((name.get_untracked(), password.get_untracked()));
            }>
                <div class="field">
                    <label for="signin-name">"User name"</label>
                    <input id="signin-name" name="name" autocomplete="username" required
                        on:input=move |ev| name.set(event_target_value(&ev)) prop:value=name/>
                </div>
                <div class="field">
                    <label for="signin-password">"Password"</label>
                    <input id="signin-password" name="password" type="password" autocomplete="current-password" required
                        on:input=move |ev| password.set(event_target_value(&ev)) prop:value=password/>
                </div>
                <p class="error" role="alert">{message}</p>
                <button type="submit" class="button" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
        </section>
    }
}
