//! An environment's day two through the API: where it stands (`/status`), its drift (`/drift`:
//! the latest check, or a new one), its estimate against its bill (`/bill`: the last read of Cost
//! Explorer compared, or a new read; `/bill/usage`: use the bill's usage), and the requests that
//! start from what runs there (`/extend`, `/upgrade`, `/repair`); a waiting rollout started outside
//! its window by an admin (`/override`).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;

use crate::environments::Environment;
use crate::error::ServerError;
use crate::people::Role;
use crate::requests::{NewCarryOver, NewExtension};
use crate::web::api::{path_id, Body};
use crate::web::auth::Caller;
use crate::web::state::Portal;

/// Who may see an environment's day two: whoever may see the history.
const READERS: &[Role] = &[Role::Admin, Role::Requester, Role::Approver, Role::Viewer];

async fn registered(portal: &Portal, name: &str) -> Result<Environment, ServerError> {
    portal.lifecycle().registry().find(name).await?.ok_or_else(|| ServerError::NotFound {
        code: "unknown_environment",
        message: format!("no registered environment `{name}`"),
    })
}

pub(super) async fn status(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<impl IntoResponse, ServerError> {
    caller.require(READERS, "see environments")?;
    let environment = registered(&portal, &name).await?;
    let lifecycle = portal.lifecycle();
    let known = lifecycle.known(&environment).await?;
    let row = lifecycle.row_of(&environment, &known);
    let sleep = match &known.running {
        Some(running) => lifecycle.sleep_view(&environment, running)?,
        None => None,
    };
    let mut body = serde_json::to_value(row)?;
    body["sleep"] = serde_json::to_value(sleep)?;
    Ok(Json(body))
}

/// The latest drift check with every resource it found.
pub(super) async fn drift(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<impl IntoResponse, ServerError> {
    caller.require(READERS, "see environments")?;
    let environment = registered(&portal, &name).await?;
    let report = portal.lifecycle().drift_report(environment.name.as_str()).await?;
    report.map(Json).ok_or_else(|| ServerError::NotFound {
        code: "no_drift_check",
        message: format!("environment `{name}` has not been checked for drift yet"),
    })
}

/// Starts a drift check; 202 with its id (`GET …/drift` shows it running, then its results).
pub(super) async fn check_drift(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<impl IntoResponse, ServerError> {
    let environment = registered(&portal, &name).await?;
    let id = portal.start_drift_check(&caller, environment).await?;
    Ok((StatusCode::ACCEPTED, Json(serde_json::json!({ "check_id": id, "status": "running" }))))
}

/// The running deployment's estimate against its last bill read (see `web::bill_views`).
pub(super) async fn bill(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<impl IntoResponse, ServerError> {
    caller.require(READERS, "see environments")?;
    let environment = registered(&portal, &name).await?;
    let lifecycle = portal.lifecycle();
    let known = lifecycle.known(&environment).await?;
    let row = lifecycle.row_of(&environment, &known);
    let running = known.running.as_ref().ok_or_else(|| {
        ServerError::invalid("environment", format!("environment `{name}` runs nothing: it has no bill"))
    })?;
    Ok(Json(portal.bill_view(&caller, &environment, running, row.expires_at).await?))
}

/// Reads the bill from Cost Explorer now: 201 with what came of it (the page shows it compared).
pub(super) async fn read_bill(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<impl IntoResponse, ServerError> {
    let environment = registered(&portal, &name).await?;
    let read = portal.lifecycle().request_bill_read(&caller, &environment).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({
            "read": read.id, "status": read.status, "read_at": read.read_at, "message": read.message,
            "periods": read.periods,
        })),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UseUsage {
    /// The first day of the month whose bill the usage comes from (`YYYY-MM-DD`).
    period: String,
}

/// Sets the running deployment's usage assumptions from a month's bill.
pub(super) async fn use_bill_usage(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
    Path(name): Path<String>,
    Body(input): Body<UseUsage>,
) -> Result<impl IntoResponse, ServerError> {
    let environment = registered(&portal, &name).await?;
    let running = crate::requests::deployed::deployed(&portal.db, &environment)
        .await?
        .ok_or_else(|| ServerError::invalid("environment", format!("environment `{name}` runs nothing")))?;
    portal.use_usage_from_bill(&caller, &environment, &running, &input.period).await?;
    let row = portal.lifecycle().row_of(&environment, &portal.lifecycle().known(&environment).await?);
    let running = crate::requests::deployed::deployed(&portal.db, &environment).await?.unwrap_or(running);
    Ok(Json(portal.bill_view(&caller, &environment, &running, row.expires_at).await?))
}

pub(super) async fn extend(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
    Path(name): Path<String>,
    Body(input): Body<NewExtension>,
) -> Result<impl IntoResponse, ServerError> {
    let record = portal.requests().create_extension(&caller, &name, input).await?;
    Ok((StatusCode::CREATED, Json(record)))
}

pub(super) async fn upgrade(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
    Path(name): Path<String>,
    Body(input): Body<NewCarryOver>,
) -> Result<impl IntoResponse, ServerError> {
    let record = portal.requests().create_upgrade(&caller, &name, input).await?;
    portal.previews().start(&record).await;
    Ok((StatusCode::CREATED, Json(record)))
}

pub(super) async fn repair(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
    Path(name): Path<String>,
    Body(input): Body<NewCarryOver>,
) -> Result<impl IntoResponse, ServerError> {
    let record = portal.requests().create_repair(&caller, &name, input).await?;
    portal.previews().start(&record).await;
    Ok((StatusCode::CREATED, Json(record)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Override {
    reason: String,
}

/// An admin starts a rollout waiting for its change window now; the reason is audited.
pub(super) async fn override_window(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(input): Body<Override>,
) -> Result<impl IntoResponse, ServerError> {
    let id = path_id(&id, "unknown_rollout", "rollout")?;
    portal.lifecycle().override_window(&caller, id, &input.reason).await?;
    Ok(Json(portal.rollout_view(id).await?))
}
