//! The portal's pages (Leptos, rendered on the server and hydrated in the
//! browser) and its server functions. The server functions' bodies call a
//! [`backend::Backend`] that the `server` crate provides through context.

pub mod format;
pub mod model;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod backend;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use crate::model::{TierQuery, TierSummary, TierView};

/// The HTML document around the app, rendered by the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/portal.css"/>
        <Title text="Concert Platform deployment portal"/>
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="site-header">
                <a class="brand" href="/">"Concert Platform"</a>
                <span class="brand-sub">"Deployment portal"</span>
            </header>
            <main id="main">
                <Routes fallback=|| view! { <pages::NotFound/> }>
                    // Async: the server sends each page complete, so it reads without
                    // JavaScript and nothing moves when hydration finishes.
                    <Route path=path!("/") view=pages::CatalogPage ssr=SsrMode::Async/>
                    <Route path=path!("/tiers/:id") view=pages::TierPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

#[cfg(feature = "ssr")]
fn backend() -> Result<backend::SharedBackend, ServerFnError> {
    use_context::<backend::SharedBackend>()
        .ok_or_else(|| ServerFnError::new("the portal backend is not configured"))
}

// Server functions get fixed URLs under /rpc: the default ones hash the build
// path, so a browser bundle and a server built in different checkouts disagree.

/// The three tiers, side by side.
#[server(prefix = "/rpc", endpoint = "list_tiers")]
pub async fn list_tiers() -> Result<Vec<TierSummary>, ServerFnError> {
    backend()?.tiers().map_err(|e| ServerFnError::new(e.to_string()))
}

/// One tier evaluated for the given options and usage: cost, diagram, phases.
/// JSON in, since a query carries nested lists that form encoding drops.
#[server(prefix = "/rpc", endpoint = "tier_view", input = leptos::server_fn::codec::Json)]
pub async fn get_tier_view(query: TierQuery) -> Result<TierView, ServerFnError> {
    backend()?.tier(&query).map_err(|e| ServerFnError::new(e.to_string()))
}
