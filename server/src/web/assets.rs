//! The browser bundle under `/pkg`: files named by their content hash (scripts/build-site), sent
//! precompressed (`.br`, `.gz` beside each file) and cached by browsers for a year, since a new
//! build has new names. The other files of the site root (favicon) get a one-day cache.

use std::path::Path;

use app::SiteAssets;
use axum::Router;
use http::header::{HeaderValue, CACHE_CONTROL};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

/// The bundle's names from `<site_root>/pkg/manifest.txt`; the unhashed defaults when the site
/// was built without one (then nothing is cached for long: see [`routes`]).
pub fn read_manifest(site_root: &str) -> Option<SiteAssets> {
    let path = Path::new(site_root).join("pkg").join("manifest.txt");
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(SiteAssets::from_manifest(&text)),
        Err(e) => {
            tracing::warn!("no bundle manifest at {} ({e}): serving unhashed names", path.display());
            None
        }
    }
}

/// `/pkg/*` from `<site_root>/pkg`. Immutable only when the names are hashed.
pub fn routes<S: Clone + Send + Sync + 'static>(site_root: &str, hashed: bool) -> Router<S> {
    let cache = if hashed { "public, max-age=31536000, immutable" } else { "no-cache" };
    let pkg = ServeDir::new(Path::new(site_root).join("pkg")).precompressed_br().precompressed_gzip();
    Router::new()
        .nest_service("/pkg", pkg)
        .layer(SetResponseHeaderLayer::overriding(CACHE_CONTROL, HeaderValue::from_static(cache)))
}
