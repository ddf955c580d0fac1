//! What operators and load balancers ask: `GET /healthz` (the process answers), `GET /readyz`
//! (it should take traffic: its database answers and has every migration this build knows, and it
//! is not stopping; 503 with the reason otherwise).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};

use crate::web::state::Portal;

/// A load balancer's probe must get an answer before its own timeout (commonly 2 to 5 s).
const READY_TIMEOUT: Duration = Duration::from_secs(2);

pub fn routes() -> Router<Arc<Portal>> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
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
