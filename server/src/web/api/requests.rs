//! `/api/requests` (create, list with filters, CSV, one, approve, reject) and `/api/teardowns`.

use std::sync::Arc;

use app::model::Decision;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;

use crate::error::ServerError;
use crate::requests::{history_csv, HistoryFilter, NewRequest, NewTeardown, RequestRecord};
use crate::web::api::{path_id, Body};
use crate::web::auth::Caller;
use crate::web::state::Portal;

fn request_id(raw: &str) -> Result<i64, ServerError> {
    path_id(raw, "unknown_request", "request")
}

pub(super) async fn create(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
    Body(input): Body<NewRequest>,
) -> Result<impl IntoResponse, ServerError> {
    let mut record = portal.requests().create(&caller, input).await?;
    portal.previews().start(&record).await;
    record.preview = crate::requests::preview::load(&portal.db, record.id).await?;
    Ok((StatusCode::CREATED, Json(record)))
}

pub(super) async fn list(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
    Query(filter): Query<HistoryFilter>,
) -> Result<impl IntoResponse, ServerError> {
    let (rows, next) = portal.requests().history(&caller, &filter).await?;
    Ok(Json(serde_json::json!({ "requests": rows, "next_before": next })))
}

/// The whole filtered history as CSV, fetched page by page.
pub(super) async fn csv(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
    Query(mut filter): Query<HistoryFilter>,
) -> Result<impl IntoResponse, ServerError> {
    filter.limit = Some(500);
    let mut all = Vec::new();
    loop {
        let (rows, next) = portal.requests().history(&caller, &filter).await?;
        all.extend(rows);
        match next {
            Some(before) => filter.before = Some(before),
            None => break,
        }
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"deployment-requests.csv\""),
        ],
        history_csv(&all),
    ))
}

pub(super) async fn one(
    State(portal): State<Arc<Portal>>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ServerError> {
    Ok(Json(portal.requests().get(request_id(&id)?).await?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DecisionBody {
    #[serde(default)]
    comment: String,
}

pub(super) async fn approve(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<DecisionBody>,
) -> Result<Json<RequestRecord>, ServerError> {
    decide(&portal, &caller, &id, Decision::Approve, &body.comment).await
}

pub(super) async fn reject(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<DecisionBody>,
) -> Result<Json<RequestRecord>, ServerError> {
    decide(&portal, &caller, &id, Decision::Reject, &body.comment).await
}

async fn decide(
    portal: &Portal,
    caller: &Caller,
    id: &str,
    decision: Decision,
    comment: &str,
) -> Result<Json<RequestRecord>, ServerError> {
    Ok(Json(portal.requests().decide(caller, request_id(id)?, decision, comment).await?))
}

pub(super) async fn create_teardown(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
    Body(input): Body<NewTeardown>,
) -> Result<impl IntoResponse, ServerError> {
    let record = portal.requests().create_teardown(&caller, input).await?;
    Ok((StatusCode::CREATED, Json(record)))
}
