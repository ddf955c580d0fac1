//! What operators and load balancers ask: `GET /healthz` (the process answers), `GET /readyz`
//! (it should take traffic: its database answers and has every migration this build knows, and it
//! is not stopping; 503 with the reason otherwise), `GET /metrics` (Prometheus; with a bearer
//! token when `PORTAL_METRICS_TOKEN` is set), and the middleware that counts every request.

use std::sync::Arc;
use std::time::Duration;

use app::model::DeliveryStatus;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::error::ServerError;
use crate::telemetry;
use crate::web::state::Portal;

/// A load balancer's probe must get an answer before its own timeout (commonly 2 to 5 s).
const READY_TIMEOUT: Duration = Duration::from_secs(2);

pub fn routes() -> Router<Arc<Portal>> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).route("/metrics", get(metrics))
}

async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn readyz(State(portal): State<Arc<Portal>>) -> impl IntoResponse {
    let reason = if *portal.stopping.borrow() {
        Some("the process is stopping".to_owned())
    } else {
        portal.db.not_ready(READY_TIMEOUT).await.map(|why| format!("database: {why}"))
    };
    match reason {
        None => (StatusCode::OK, Json(serde_json::json!({ "status": "ready" }))),
        Some(reason) => {
            tracing::warn!(%reason, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({ "status": "not ready", "reason": reason })))
        }
    }
}

async fn metrics(State(portal): State<Arc<Portal>>, headers: HeaderMap) -> Result<Response, ServerError> {
    if let Some(expected) = &portal.metrics_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !same_secret(given.as_bytes(), expected.as_bytes()) {
            return Err(ServerError::Unauthorized(
                "metrics need `Authorization: Bearer <PORTAL_METRICS_TOKEN>`".into(),
            ));
        }
    }
    let deliveries = crate::notify::delivery_counts(&portal.db).await?;
    let count = |status| deliveries.iter().find(|(s, _)| *s == status).map_or(0, |(_, n)| *n);
    let snapshot = telemetry::Snapshot {
        webhook_pending: count(DeliveryStatus::Pending),
        webhook_failed: count(DeliveryStatus::Failed),
        live_streams: portal.live_limits.open_total(),
        live_readers: portal.feed.readers(),
        pool_size: portal.db.pool.size(),
        pool_idle: portal.db.pool.num_idle(),
    };
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], telemetry::render(&snapshot)).into_response())
}

/// Compares without stopping at the first difference, so the time taken says nothing of the token.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len() && given.iter().zip(expected).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// Counts and times every request by method, route pattern (never the raw path) and status, and
/// serves it inside a `request` span carrying its id: the caller's `X-Request-Id` when it is a
/// plain token (1 to 64 of letters, digits, `-`, `_`, `.`), else a new one; the answer carries it
/// back, and every log line written while serving it names it.
pub async fn track_http(request: Request, next: Next) -> Response {
    use tracing::Instrument;
    let started = std::time::Instant::now();
    let method = request.method().as_str().to_owned();
    let route = match request.extensions().get::<MatchedPath>() {
        Some(path) => path.as_str().to_owned(),
        // Files of the compiled site, and pages Leptos routes itself: bounded either way.
        None if request.uri().path().starts_with("/pkg/") => "/pkg/*".to_owned(),
        None => "other".to_owned(),
    };
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| (1..=64).contains(&v.len()) && v.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)))
        .map(str::to_owned)
        .unwrap_or_else(new_request_id);
    let span = tracing::info_span!("request", request_id = %id, method = %method, route = %route);
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let seconds = started.elapsed().as_secs_f64();
    telemetry::http_request(&method, &route, status, seconds);
    span.in_scope(|| tracing::debug!(status, ms = (seconds * 1000.0).round(), "served"));
    if let Ok(value) = axum::http::HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

const REQUEST_ID: &str = "x-request-id";

fn new_request_id() -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut bytes = [0u8; 8];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
