//! `/api/requests` (create, list with filters, CSV, one, approve, reject) and `/api/teardowns`.

use std::sync::Arc;

use app::model::Decision;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;

use crate::error::ServerError;
use futures::StreamExt;

use crate::requests::history::{csv_rows, CSV_HEADER};
use crate::requests::{HistoryFilter, NewRequest, NewTeardown, RequestRecord};
use crate::web::api::{path_id, Body, Params};
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
    Params(filter): Params<HistoryFilter>,
) -> Result<impl IntoResponse, ServerError> {
    let (rows, next) = portal.requests().history(&caller, &filter).await?;
    Ok(Json(serde_json::json!({ "requests": rows, "next_before": next })))
}

/// The whole filtered history as CSV, streamed a page (500 rows) at a time: memory stays flat
/// however long the history is. The first page is read before answering, so a bad filter is
/// still a 422 rather than a broken download.
pub(super) async fn csv(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
    Params(mut filter): Params<HistoryFilter>,
) -> Result<impl IntoResponse, ServerError> {
    filter.limit = Some(500);
    let (rows, next) = portal.requests().history(&caller, &filter).await?;
    let first = format!("{CSV_HEADER}{}", csv_rows(&rows));
    filter.before = next;
    let user = caller.0;
    let rest = futures::stream::unfold(Some(filter), move |filter| {
        let (portal, user) = (portal.clone(), user.clone());
        async move {
            let mut filter = filter?;
            filter.before?;
            match portal.requests().history(&user, &filter).await {
                Ok((rows, next)) => {
                    filter.before = next;
                    Some((Ok::<_, ServerError>(csv_rows(&rows)), Some(filter)))
                }
                // Mid-stream the status is sent already: the download ends short, and the log says why.
                Err(e) => {
                    tracing::error!(error = %e, "the CSV export stopped");
                    Some((Err(e), None))
                }
            }
        }
    });
    let body = futures::stream::once(async move { Ok(first) }).chain(rest);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"deployment-requests.csv\""),
        ],
        axum::body::Body::from_stream(body),
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
