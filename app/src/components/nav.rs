//! The site navigation in the header (links by role, the sandbox badge, sign-out) and [`go`],
//! the full-load navigation used after signing in or out and after a request is made.

use leptos::prelude::*;

use crate::model::Role;
use crate::{sandbox_mode, whoami, SignOut};

/// Sends the browser to `path` with a full load, so every part of the page sees the new session.
pub fn go(path: &str) {
    let _ = window().location().set_href(path);
}

#[component]
pub fn SiteNav() -> impl IntoView {
    let user = Resource::new(|| (), |_| whoami());
    let sandbox = Resource::new(|| (), |_| sandbox_mode());
    // A form: it signs out without JavaScript too (the pages in `STATIC_PAGES` load none).
    let signing_out = ServerAction::<SignOut>::new();
    Effect::new(move |_| {
        if signing_out.value().get().is_some() {
            go("/");
        }
    });
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                matches!(sandbox.await, Ok(true)).then(|| view! {
                    <span class="badge-sandbox" title="Deployments go to the local moto sandbox on this machine, not to AWS">
                        "Sandbox"
                    </span>
                })
            })}
        </Suspense>
        <nav class="site-nav" aria-label="Main">
            <a href="/">"Tiers"</a>
            <a href="/requests">"History"</a>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(u)) => {
                            let approver = u.has(Role::Approver);
                            let admin = u.has(Role::Admin);
                            let mine = format!("/requests?requester={}", u.name);
                            view! {
                                <a href=mine>"My requests"</a>
                                {approver.then(|| view! { <a href="/approvals">"Approvals"</a> })}
                                {admin.then(|| view! { <a href="/admin">"Users"</a> })}
                                <a href="/settings">"Settings"</a>
                                <span class="who">{format!("Signed in as {}", u.name)}</span>
                                <ActionForm action=signing_out attr:class="sign-out">
                                    <button type="submit" class="link-button">"Sign out"</button>
                                </ActionForm>
                            }
                                .into_any()
                        }
                        _ => view! { <a href="/signin">"Sign in"</a> }.into_any(),
                    }
                })}
            </Suspense>
        </nav>
    }
}
