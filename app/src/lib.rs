#![recursion_limit = "512"]
//! The portal's UI: pages (Leptos, rendered on the server and hydrated in the browser) in
//! [`pages`], the widgets they share in [`components`], the page data in [`model`], and the
//! server functions in [`rpc`], whose bodies call a [`backend::Backend`] that the `server` crate
//! provides through context. Pages import components, never each other.

pub mod components;
pub mod format;
pub mod island;
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

/// One bundle's files under `/pkg`: the JS loader wasm-bindgen writes and its wasm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleFiles {
    pub js: String,
    pub wasm: String,
}

impl BundleFiles {
    fn named(stem: &str) -> Self {
        Self { js: format!("{stem}.js"), wasm: format!("{stem}_bg.wasm") }
    }
}

/// The browser bundles' file names under `/pkg` (scripts/build-site hashes them and lists them in
/// `pkg/manifest.txt`; the server reads that list at start and provides it as context). Without a
/// list, the names wasm-bindgen writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteAssets {
    /// The whole app (`frontend/`): router and every page, hydrated at once.
    pub app: BundleFiles,
    /// The tier page's island alone (`frontend/tier/`).
    pub tier: BundleFiles,
    pub css: String,
}

impl Default for SiteAssets {
    fn default() -> Self {
        Self { app: BundleFiles::named("portal"), tier: BundleFiles::named("tier"), css: "portal.css".into() }
    }
}

impl SiteAssets {
    /// Reads `js|wasm|tier-js|tier-wasm|css <name>` lines; a missing or unsafe name keeps the
    /// default one.
    pub fn from_manifest(text: &str) -> Self {
        let mut assets = Self::default();
        let plain =
            |name: &str| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        for line in text.lines() {
            let Some((key, name)) = line.trim().split_once(' ') else { continue };
            if !plain(name) {
                continue;
            }
            let slot = match key {
                "js" => &mut assets.app.js,
                "wasm" => &mut assets.app.wasm,
                "tier-js" => &mut assets.tier.js,
                "tier-wasm" => &mut assets.tier.wasm,
                "css" => &mut assets.css,
                _ => continue,
            };
            *slot = name.into();
        }
        assets
    }

    /// The files a page with `bundle` loads.
    pub fn files(&self, bundle: Bundle) -> Option<&BundleFiles> {
        match bundle {
            Bundle::None => None,
            Bundle::App => Some(&self.app),
            Bundle::Tier => Some(&self.tier),
        }
    }
}

/// Which bundle a page loads: none for a page with nothing to hydrate, the tier page's island
/// bundle for a tier page (its budget is 250 KB in all, and the full bundle alone is 383 KB), the
/// whole app for the rest. A page that loads no app bundle is left by full page loads; from a page
/// that does, its router renders any page itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bundle {
    None,
    App,
    Tier,
}

impl Bundle {
    pub fn for_path(path: &str) -> Self {
        if STATIC_PAGES.contains(&path) {
            return Bundle::None;
        }
        match path.strip_prefix("/tiers/") {
            Some(id) if !id.is_empty() && !id.contains('/') => Bundle::Tier,
            _ => Bundle::App,
        }
    }
}

/// Starts a bundle: what Leptos's `HydrationScripts` writes, with our file names.
fn hydration_script(files: &BundleFiles) -> String {
    format!(
        "import(\"/pkg/{js}\").then(m => m.default({{module_or_path: \"/pkg/{wasm}\"}}).then(() => m.hydrate()));",
        js = files.js,
        wasm = files.wasm
    )
}

/// Marks the page as hydrated (`data-hydrated` on the body): what browser tests and scripts wait
/// for before they type. Each bundle's entry point calls it when its hydration is done.
pub fn mark_hydrated() {
    if let Some(body) = document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}

/// Pages with nothing to hydrate (links and text; signing out is a plain form): the server's
/// HTML is all they are, so they load no wasm.
pub const STATIC_PAGES: &[&str] = &["/"];

/// The bundle of the page being rendered.
fn page_bundle() -> Bundle {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>().map_or(Bundle::App, |parts| Bundle::for_path(parts.uri.path()))
    }
    #[cfg(not(feature = "ssr"))]
    {
        Bundle::App
    }
}

/// The HTML document around the app, rendered by the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let assets = use_context::<SiteAssets>().unwrap_or_default();
    let page = page_bundle();
    if page != Bundle::App {
        // Nothing outside an island is hydrated on this page: its resources are not sent to the
        // browser, and those of its islands are numbered from zero, as their bundle counts them.
        if let Some(context) = Owner::current_shared_context() {
            context.set_is_hydrating(false);
        }
    }
    let bundle = assets.files(page).map(|files| {
        let script = hydration_script(files);
        view! {
            <link rel="modulepreload" href=format!("/pkg/{}", files.js)/>
            <link rel="preload" href=format!("/pkg/{}", files.wasm) r#as="fetch" r#type="application/wasm" crossorigin=""/>
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
                    <Route path=path!("/environments") view=pages::environments::EnvironmentsPage ssr=SsrMode::Async/>
                    <Route path=path!("/environments/:name") view=pages::environments::EnvironmentPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

#[cfg(test)]
mod tests {
    use super::{Bundle, SiteAssets};

    #[test]
    fn the_manifest_names_the_hashed_files_and_refuses_paths() {
        let assets = SiteAssets::from_manifest(
            "js portal.0123abcd.js\nwasm portal.99.wasm\ntier-js tier.ab.js\ntier-wasm tier.cd.wasm\ncss ../etc/passwd\n",
        );
        assert_eq!(assets.app.js, "portal.0123abcd.js");
        assert_eq!(assets.app.wasm, "portal.99.wasm");
        assert_eq!((assets.tier.js.as_str(), assets.tier.wasm.as_str()), ("tier.ab.js", "tier.cd.wasm"));
        assert_eq!(assets.css, "portal.css", "a name with a slash is not a file under /pkg");
        assert_eq!(SiteAssets::from_manifest(""), SiteAssets::default());
    }

    #[test]
    fn each_page_loads_the_bundle_it_needs() {
        for (path, bundle) in [
            ("/", Bundle::None),
            ("/tiers/full-production", Bundle::Tier),
            ("/tiers/", Bundle::App),
            ("/tiers/a/b", Bundle::App),
            ("/requests/3", Bundle::App),
            ("/rollouts/1", Bundle::App),
            ("/nowhere", Bundle::App),
        ] {
            assert_eq!(Bundle::for_path(path), bundle, "{path}");
        }
        let assets = SiteAssets::default();
        assert_eq!(assets.files(Bundle::None), None);
        assert_eq!(assets.files(Bundle::Tier).map(|f| f.js.as_str()), Some("tier.js"));
    }
}
