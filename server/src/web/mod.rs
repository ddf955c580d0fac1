//! The web layer: the axum router (Leptos pages and server functions, the JSON API, single
//! sign-on, static files), the authenticated caller, live events, and the pages' backend.
//! HTTP stays here: domain modules get typed values, never requests or headers.

pub mod api;
pub mod assets;
pub mod auth;
mod bill_views;
pub mod client;
pub mod csrf;
mod environment_views;
pub mod live;
pub mod ops;
mod registry_views;
mod request_views;
pub mod sso;
pub mod state;
pub mod ui;

use std::net::SocketAddr;
use std::sync::Arc;

use app::backend::SharedBackend;
use axum::response::IntoResponse;
pub use axum::Router;
use leptos::prelude::provide_context;
pub use leptos::prelude::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::compression::CompressionLayer;

use crate::web::state::Portal;

pub fn router(portal: Arc<Portal>, leptos_options: LeptosOptions) -> Router {
    let routes = generate_route_list(app::App);
    let backend: SharedBackend = portal.clone();
    let site_root = leptos_options.site_root.to_string();
    let manifest = assets::read_manifest(&site_root);
    let bundle = assets::routes(&site_root, manifest.is_some());
    let site_assets = manifest.unwrap_or_default();
    let context = move || {
        provide_context(backend.clone());
        provide_context(site_assets.clone());
    };
    let pages = Router::new()
        .leptos_routes_with_context(&leptos_options, routes, context.clone(), {
            let options = leptos_options.clone();
            move || app::shell(options.clone())
        })
        .route(
            "/rpc/{*fn_name}",
            axum::routing::post({
                let context = context.clone();
                move |req| leptos_axum::handle_server_fns_with_context(context.clone(), req)
            }),
        )
        .fallback(leptos_axum::file_and_error_handler_with_context(context, app::shell))
        .with_state(leptos_options)
        // Leptos registers each server function's own route: the mapping wraps them all.
        .layer(axum::middleware::map_response(bad_arguments_are_400));
    let own_origin = portal.own_origin.clone();
    let proxies = portal.trusted_proxies.clone();
    api::routes()
        .merge(sso::routes())
        .merge(ops::routes())
        .with_state(portal)
        .merge(bundle)
        .merge(pages)
        .layer(axum::middleware::from_fn_with_state(own_origin, csrf::same_origin_only))
        .layer(axum::middleware::from_fn_with_state(proxies, client::client_address))
        .layer(axum::middleware::from_fn(ops::track_http))
        .layer(CompressionLayer::new())
}

/// Leptos options for a compiled site under `site_root` (cargo-leptos's `site-root`).
pub fn leptos_options(addr: SocketAddr, site_root: &str) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("portal")
        .site_root(site_root)
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .env(leptos::config::Env::PROD)
        .build()
}

/// Serves on a bound listener (tests bind port 0 first) until `shutdown` completes; then finishes
/// the requests in flight.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(local) = listener.local_addr() {
        tracing::info!("listening on http://{local}");
    }
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}

/// Leptos answers a server function whose arguments do not deserialize with a 500; it is the
/// caller's mistake (our own pages never send such a call), so it is a 400, with the same body
/// (`Deserialization|…`, which the server-function client still reads).
async fn bad_arguments_are_400(response: axum::response::Response) -> axum::response::Response {
    if response.status() != http::StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return (http::StatusCode::INTERNAL_SERVER_ERROR, "the server function failed").into_response();
    };
    if [&b"Deserialization|"[..], b"Args|", b"MissingArg|"].iter().any(|p| bytes.starts_with(p)) {
        parts.status = http::StatusCode::BAD_REQUEST;
    }
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
}
