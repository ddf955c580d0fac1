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
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

pub use crate::rpc::*;

/// The browser bundle's file names under `/pkg` (scripts/build-site hashes them and lists them in
/// `pkg/manifest.txt`; the server reads that list at start and provides it as context). Without a
/// list, the names wasm-bindgen writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteAssets {
    pub js: String,
    pub wasm: String,
    pub css: String,
}

impl Default for SiteAssets {
    fn default() -> Self {
        Self { js: "portal.js".into(), wasm: "portal_bg.wasm".into(), css: "portal.css".into() }
    }
}

impl SiteAssets {
    /// Reads `js <name>` / `wasm <name>` / `css <name>` lines; a missing or unsafe name keeps
    /// the default one.
    pub fn from_manifest(text: &str) -> Self {
        let mut assets = Self::default();
        let plain =
            |name: &str| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        for line in text.lines() {
            match line.trim().split_once(' ') {
                Some(("js", name)) if plain(name) => assets.js = name.into(),
                Some(("wasm", name)) if plain(name) => assets.wasm = name.into(),
                Some(("css", name)) if plain(name) => assets.css = name.into(),
                _ => {}
            }
        }
        assets
    }
}

/// Starts the bundle: what Leptos's `HydrationScripts` writes, with our file names.
fn hydration_script(assets: &SiteAssets) -> String {
    format!(
        "import(\"/pkg/{js}\").then(m => m.default({{module_or_path: \"/pkg/{wasm}\"}}).then(() => m.hydrate()));",
        js = assets.js,
        wasm = assets.wasm
    )
}

/// Pages with nothing to hydrate (links and text; signing out is a plain form): the server's
/// HTML is all they are, so they load no wasm.
pub const STATIC_PAGES: &[&str] = &["/"];

/// Whether the page being rendered loads the bundle.
fn hydrates() -> bool {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>().is_none_or(|parts| !STATIC_PAGES.contains(&parts.uri.path()))
    }
    #[cfg(not(feature = "ssr"))]
    {
        true
    }
}

/// The HTML document around the app, rendered by the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let assets = use_context::<SiteAssets>().unwrap_or_default();
    let script = hydration_script(&assets);
    let bundle = hydrates().then(|| {
        view! {
            <link rel="modulepreload" href=format!("/pkg/{}", assets.js)/>
            <link rel="preload" href=format!("/pkg/{}", assets.wasm) r#as="fetch" r#type="application/wasm" crossorigin=""/>
            <script type="module">{script}</script>
        }
    });
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="stylesheet" href=format!("/pkg/{}", assets.css)/>
                <AutoReload options/>
                {bundle}
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

#[cfg(test)]
mod tests {
    use super::SiteAssets;

    #[test]
    fn the_manifest_names_the_hashed_files_and_refuses_paths() {
        let assets = SiteAssets::from_manifest("js portal.0123abcd.js\nwasm portal.99.wasm\ncss ../etc/passwd\n");
        assert_eq!(assets.js, "portal.0123abcd.js");
        assert_eq!(assets.wasm, "portal.99.wasm");
        assert_eq!(assets.css, "portal.css", "a name with a slash is not a file under /pkg");
        assert_eq!(SiteAssets::from_manifest(""), SiteAssets::default());
    }
}
