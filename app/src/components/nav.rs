//! The site navigation in the header (links by role, the sandbox badge, sign-out) and [`go`],
//! the full-load navigation used after signing in and after a request is made.

use leptos::prelude::*;

use crate::model::Role;
use crate::{sandbox_mode, whoami};

/// Sends the browser to `path` with a full load, so every part of the page sees the new session.
pub fn go(path: &str) {
    let _ = window().location().set_href(path);
}

#[component]
pub fn SiteNav() -> impl IntoView {
    let user = Resource::new(|| (), |_| whoami());
    let sandbox = Resource::new(|| (), |_| sandbox_mode());
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
            <a href="/environments">"Environments"</a>
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
                                // A plain form, the same with or without the bundle (the pages in
                                // `STATIC_PAGES` load none): the server function signs out and
                                // redirects to the catalog. (ActionForm would add 20 KB of wasm.)
                                <form method="post" action="/rpc/sign_out" class="sign-out">
                                    <button type="submit" class="link-button">"Sign out"</button>
                                </form>
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

/// The environments running a tier, as links to their pages.
pub fn runs_in(environments: Vec<String>) -> impl IntoView {
    (!environments.is_empty()).then(|| {
        let links = environments
            .into_iter()
            .enumerate()
            .map(|(i, e)| view! { {(i > 0).then_some(", ")}<a href=format!("/environments/{e}")>{e.clone()}</a> })
            .collect_view();
        view! { <p class="runs-in">"Runs in "{links}</p> }
    })
}
