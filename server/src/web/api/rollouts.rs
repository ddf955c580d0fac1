//! `/api/rollouts/{id}`: the rollout, its live events (server-sent), retry and cancel.

use std::sync::Arc;

use app::model::RolloutView;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;

use crate::error::ServerError;
use crate::web::api::{path_id, Params};
use crate::web::auth::Caller;
use crate::web::state::Portal;

fn rollout_id(raw: &str) -> Result<i64, ServerError> {
    path_id(raw, "unknown_rollout", "rollout")
}

pub(super) async fn one(
    State(portal): State<Arc<Portal>>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ServerError> {
    Ok(Json(portal.rollout_view(rollout_id(&id)?).await?))
}

pub(super) async fn retry(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<RolloutView>, ServerError> {
    steer(&portal, &caller, &id, true).await
}

pub(super) async fn cancel(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<RolloutView>, ServerError> {
    steer(&portal, &caller, &id, false).await
}

async fn steer(portal: &Portal, caller: &Caller, id: &str, retry: bool) -> Result<Json<RolloutView>, ServerError> {
    let id = rollout_id(id)?;
    portal.steering().steer(caller, id, retry).await?;
    Ok(Json(portal.rollout_view(id).await?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EventsQuery {
    /// Resume after this event id (as `Last-Event-ID` does).
    after: Option<i64>,
}

/// Server-sent events: `state` (the whole rollout view) whenever it changes, `resource` for each
/// stack event as it is recorded; the stream ends once the rollout has ended and all is sent.
pub(super) async fn events(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    Params(q): Params<EventsQuery>,
) -> Result<impl IntoResponse, ServerError> {
    let id = rollout_id(&id)?;
    portal.rollouts().view(id).await?;
    let resume = headers
        .get("last-event-id")
        .and_then(|h| h.to_str().ok())
        .and_then(|v| v.parse().ok())
        .or(q.after)
        .unwrap_or(0);
    let slot = portal.live_limits.take(caller.id)?;
    Ok(crate::web::live::rollout_stream(slot, portal.stopping.subscribe(), portal.feed.clone(), id, resume))
}
