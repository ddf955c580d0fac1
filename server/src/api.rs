//! The JSON API: `/api/tiers`, `/api/tiers/{id}`, `/api/tiers/{id}/diagram.svg`.

use std::sync::Arc;

use app::model::TierQuery;
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::error::ServerError;
use crate::people::{authenticate, parse_roles, Role, User};
use crate::requests::{history_csv, HistoryFilter, NewRequest, NewTeardown, RequestRecord};
use crate::state::Portal;

/// API request bodies are small; anything larger is refused with 413.
const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn routes() -> Router<Arc<Portal>> {
    Router::new()
        .route("/api/tiers", get(list_tiers))
        .route("/api/tiers/{id}", get(tier))
        .route("/api/tiers/{id}/diagram.svg", get(diagram))
        .route("/api/requests", post(create_request).get(list_requests))
        .route("/api/requests.csv", get(requests_csv))
        .route("/api/requests/{id}", get(get_request))
        .route("/api/requests/{id}/approve", post(approve))
        .route("/api/requests/{id}/reject", post(reject))
        .route("/api/audit", get(audit_log))
        .route("/api/identity", get(identity))
        .route("/api/users", get(list_users).post(add_user))
        .route("/api/users/{name}/roles", axum::routing::put(set_roles))
        .route("/api/teardowns", post(create_teardown))
        .route("/api/rollouts/{id}", get(get_rollout))
        .route("/api/rollouts/{id}/events", get(rollout_events))
        .route("/api/rollouts/{id}/retry", post(retry_rollout))
        .route("/api/rollouts/{id}/cancel", post(cancel_rollout))
        .route("/api/webhooks/deliveries", get(webhook_deliveries))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// A JSON body whose every rejection (syntax, wrong type, unknown field, size) is our JSON error.
struct Body<T>(T);

impl<S, T> FromRequest<S> for Body<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ServerError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            Err(JsonRejection::JsonDataError(e)) => {
                Err(ServerError::Invalid { code: "invalid_body", message: e.body_text(), field: None })
            }
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ServerError::TooLarge(format!("the body is over {MAX_BODY_BYTES} bytes")))
            }
            Err(e) => Err(ServerError::BadRequest(e.body_text())),
        }
    }
}

/// The caller: a bearer token, or else the browser's session cookie.
async fn caller(portal: &Portal, headers: &HeaderMap) -> Result<User, ServerError> {
    let authorization = headers.get(header::AUTHORIZATION).and_then(|h| h.to_str().ok());
    if authorization.is_none() {
        let cookies = headers.get(header::COOKIE).and_then(|h| h.to_str().ok());
        if let Some(id) = app::backend::session_from_cookies(cookies) {
            if let Some(user) = crate::sessions::user_for_session(&portal.db, &id).await? {
                return Ok(user);
            }
        }
    }
    authenticate(&portal.db, authorization).await
}

fn request_id(raw: &str) -> Result<i64, ServerError> {
    raw.parse().map_err(|_| ServerError::NotFound { code: "unknown_request", message: format!("no request `{raw}`") })
}

async fn create_request(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    Body(input): Body<NewRequest>,
) -> Result<impl IntoResponse, ServerError> {
    let user = caller(&portal, &headers).await?;
    let mut record = portal.requests().create(&user, input).await?;
    crate::preview::start(&portal, &record).await;
    record.preview = crate::preview::load(&portal.db, record.id).await?;
    Ok((axum::http::StatusCode::CREATED, Json(record)))
}

async fn list_requests(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    Query(filter): Query<HistoryFilter>,
) -> Result<impl IntoResponse, ServerError> {
    let user = caller(&portal, &headers).await?;
    let (rows, next) = portal.requests().history(&user, &filter).await?;
    Ok(Json(serde_json::json!({ "requests": rows, "next_before": next })))
}

/// The whole filtered history as CSV, fetched page by page.
async fn requests_csv(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    Query(mut filter): Query<HistoryFilter>,
) -> Result<impl IntoResponse, ServerError> {
    let user = caller(&portal, &headers).await?;
    filter.limit = Some(500);
    let mut all = Vec::new();
    loop {
        let (rows, next) = portal.requests().history(&user, &filter).await?;
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

async fn get_request(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ServerError> {
    caller(&portal, &headers).await?;
    Ok(Json(portal.requests().get(request_id(&id)?).await?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Decision {
    #[serde(default)]
    comment: String,
}

async fn approve(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Body(decision): Body<Decision>,
) -> Result<impl IntoResponse, ServerError> {
    decide(&portal, &headers, &id, true, &decision.comment).await
}

async fn reject(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Body(decision): Body<Decision>,
) -> Result<impl IntoResponse, ServerError> {
    decide(&portal, &headers, &id, false, &decision.comment).await
}

async fn decide(
    portal: &Portal,
    headers: &HeaderMap,
    id: &str,
    approve: bool,
    comment: &str,
) -> Result<Json<RequestRecord>, ServerError> {
    let user = caller(portal, headers).await?;
    Ok(Json(portal.requests().decide(&user, request_id(id)?, approve, comment).await?))
}

/// Which AWS account the portal deploys from: shown before anyone approves.
async fn identity(State(portal): State<Arc<Portal>>, headers: HeaderMap) -> Result<impl IntoResponse, ServerError> {
    caller(&portal, &headers).await?;
    let config =
        portal.aws.as_ref().ok_or_else(|| ServerError::Startup("the portal has no AWS configuration".into()))?;
    let identity = crate::aws::caller_identity(config).await?;
    Ok(Json(serde_json::json!({
        "account": identity.account,
        "arn": identity.arn,
        "user_id": identity.user_id,
        "region": config.region().map(|r| r.to_string()),
        "sandbox": portal.catalog.sandbox,
    })))
}

async fn list_users(State(portal): State<Arc<Portal>>, headers: HeaderMap) -> Result<impl IntoResponse, ServerError> {
    let user = caller(&portal, &headers).await?;
    user.require(&[Role::Admin], "list users")?;
    Ok(Json(serde_json::json!({ "users": crate::people::list_users(&portal.db).await? })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    name: String,
    roles: Vec<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    token: bool,
}

/// Adds a user; with `token: true` the answer carries the token, once.
async fn add_user(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    Body(input): Body<NewUser>,
) -> Result<impl IntoResponse, ServerError> {
    let admin = caller(&portal, &headers).await?;
    admin.require(&[Role::Admin], "add users")?;
    let roles = parse_roles(&input.roles)?;
    if input.password.is_none() && !input.token {
        return Err(ServerError::Invalid {
            code: "no_credentials",
            message: "give a password or ask for a token: otherwise the user could never sign in".into(),
            field: Some("password".into()),
        });
    }
    let (user, token) =
        crate::people::add_user(&portal.db, &input.name, &roles, input.password.as_deref(), input.token).await?;
    Ok((axum::http::StatusCode::CREATED, Json(serde_json::json!({ "user": user, "token": token }))))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleChange {
    roles: Vec<String>,
}

async fn set_roles(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Body(change): Body<RoleChange>,
) -> Result<impl IntoResponse, ServerError> {
    let admin = caller(&portal, &headers).await?;
    let user = crate::people::set_roles(&portal.db, &admin, &name, &parse_roles(&change.roles)?).await?;
    Ok(Json(serde_json::json!({ "user": user })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    before: Option<i64>,
    limit: Option<i64>,
}

async fn audit_log(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> Result<impl IntoResponse, ServerError> {
    caller(&portal, &headers).await?;
    let entries = crate::audit::page(&portal.db, q.before, q.limit.unwrap_or(100)).await?;
    let next = entries.last().map(|e| e.id);
    Ok(Json(serde_json::json!({ "entries": entries, "next_before": next })))
}

/// `?options=sqs,sns&free_tier=false&usage.cloudfront_transfer_gb=2048`
#[derive(Debug, Default, Deserialize)]
#[serde(transparent)]
struct TierParams(std::collections::BTreeMap<String, String>);

impl TierParams {
    fn query(self, tier: String) -> Result<TierQuery, ServerError> {
        let invalid = |key: &str, message: String| ServerError::Invalid {
            code: "invalid_input",
            message,
            field: Some(key.to_owned()),
        };
        let mut query = TierQuery { tier, free_tier: true, ..Default::default() };
        for (key, raw) in self.0 {
            match key.as_str() {
                "options" => {
                    query.options = Some(raw.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect())
                }
                "free_tier" => {
                    query.free_tier = raw
                        .parse()
                        .map_err(|_| invalid(&key, format!("`free_tier` must be true or false, got `{raw}`")))?
                }
                _ => {
                    let Some(name) = key.strip_prefix("usage.") else {
                        return Err(invalid(&key, format!("unknown query parameter `{key}`")));
                    };
                    let value = raw
                        .parse::<f64>()
                        .map_err(|_| invalid(&key, format!("usage `{name}` must be a number, got `{raw}`")))?;
                    query.usage.push((name.to_owned(), value));
                }
            }
        }
        Ok(query)
    }
}

async fn list_tiers(State(portal): State<Arc<Portal>>) -> Result<impl IntoResponse, ServerError> {
    Ok(Json(serde_json::json!({ "tiers": portal.catalog.summaries()? })))
}

async fn tier(
    State(portal): State<Arc<Portal>>,
    Path(id): Path<String>,
    Query(params): Query<TierParams>,
) -> Result<impl IntoResponse, ServerError> {
    let service = &portal.catalog;
    let report = service.report(&params.query(id)?)?;
    let summary = service.summary(&report);
    let phases: Vec<serde_json::Value> = report
        .evaluation
        .phases
        .iter()
        .map(|p| {
            serde_json::json!({
                "number": p.phase.number(),
                "slug": p.phase.slug(),
                "title": p.phase.title(),
                "stack_name": p.stack_name,
                "parameters": p.parameters,
                "resources": p.resources.iter().map(|r| serde_json::json!({
                    "logical_id": r.key.logical_id,
                    "type": r.resource_type,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Json(serde_json::json!({
        "tier": summary,
        "decisions": report.tier.decisions,
        "estimate": report.estimate,
        "usage": report.usage,
        "options": report.evaluation.spec.options,
        "phases": phases,
    })))
}

async fn diagram(
    State(portal): State<Arc<Portal>>,
    Path(id): Path<String>,
    Query(params): Query<TierParams>,
) -> Result<impl IntoResponse, ServerError> {
    let report = portal.catalog.report(&params.query(id)?)?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")], portal.catalog.catalog.diagram(&report)))
}

async fn create_teardown(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    Body(input): Body<NewTeardown>,
) -> Result<impl IntoResponse, ServerError> {
    let user = caller(&portal, &headers).await?;
    let record = portal.requests().create_teardown(&user, input).await?;
    Ok((axum::http::StatusCode::CREATED, Json(record)))
}

fn rollout_id(raw: &str) -> Result<i64, ServerError> {
    raw.parse().map_err(|_| ServerError::NotFound { code: "unknown_rollout", message: format!("no rollout `{raw}`") })
}

async fn get_rollout(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ServerError> {
    caller(&portal, &headers).await?;
    Ok(Json(crate::rollout::view(&portal.db, rollout_id(&id)?).await?))
}

async fn retry_rollout(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ServerError> {
    steer(&portal, &headers, &id, true).await
}

async fn cancel_rollout(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ServerError> {
    steer(&portal, &headers, &id, false).await
}

async fn steer(
    portal: &Portal,
    headers: &HeaderMap,
    id: &str,
    retry: bool,
) -> Result<Json<crate::rollout::RolloutView>, ServerError> {
    let user = caller(portal, headers).await?;
    let id = rollout_id(id)?;
    crate::rollout::steer(portal, &user, id, retry).await?;
    Ok(Json(crate::rollout::view(&portal.db, id).await?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventsQuery {
    /// Resume after this event id (as `Last-Event-ID` does).
    after: Option<i64>,
}

/// Server-sent events: `state` (the whole rollout view) whenever it changes, `resource` for each
/// stack event as it is recorded; the stream ends once the rollout has ended and all is sent.
async fn rollout_events(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<EventsQuery>,
) -> Result<impl IntoResponse, ServerError> {
    caller(&portal, &headers).await?;
    let id = rollout_id(&id)?;
    crate::rollout::view(&portal.db, id).await?;
    let resume = headers
        .get("last-event-id")
        .and_then(|h| h.to_str().ok())
        .and_then(|v| v.parse().ok())
        .or(q.after)
        .unwrap_or(0);
    Ok(crate::live::rollout_stream(portal, id, resume))
}

async fn webhook_deliveries(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ServerError> {
    let user = caller(&portal, &headers).await?;
    user.require(&[Role::Admin], "see webhook deliveries")?;
    Ok(Json(serde_json::json!({
        "webhook": portal.webhook_url.is_some(),
        "deliveries": crate::notify::deliveries(&portal.db, 200).await?,
    })))
}
