#![recursion_limit = "512"]
//! The portal's UI: pages (Leptos, rendered on the server and hydrated in the browser) in
//! [`pages`], the widgets they share in [`components`], the page data in [`model`], and the
//! server functions in [`rpc`], whose bodies call a [`backend::Backend`] that the `server` crate
//! provides through context. Pages import components, never each other.

pub mod components;
pub mod format;
pub mod model;
pub mod pages;
pub mod rpc;

#[cfg(feature = "ssr")]
pub mod backend;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

pub use crate::rpc::*;

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
                <components::nav::SiteNav/>
            </header>
            <main id="main">
                <Routes fallback=|| view! { <pages::catalog::NotFound/> }>
                    // Async: the server sends each page complete, so it reads without
                    // JavaScript and nothing moves when hydration finishes.
                    <Route path=path!("/") view=pages::catalog::CatalogPage ssr=SsrMode::Async/>
                    <Route path=path!("/tiers/:id") view=pages::tier::TierPage ssr=SsrMode::Async/>
                    <Route path=path!("/signin") view=pages::signin::SignInPage ssr=SsrMode::Async/>
                    <Route path=path!("/requests") view=pages::history::HistoryPageView ssr=SsrMode::Async/>
                    <Route path=path!("/approvals") view=pages::history::ApprovalsPage ssr=SsrMode::Async/>
                    <Route path=path!("/requests/:id") view=pages::request::RequestPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin") view=pages::admin::AdminPage ssr=SsrMode::Async/>
                    <Route path=path!("/rollouts/:id") view=pages::rollout::RolloutPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings") view=pages::settings::SettingsPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}
