//! The JSON API under `/api/`: tiers, requests and teardowns, rollouts (with their live events),
//! registered environments, and for admins users, the audit trail, the AWS identity and webhook deliveries. Handlers parse
//! and authenticate ([`Caller`](crate::web::auth::Caller)), call a domain module, and answer;
//! errors are [`ServerError`]'s JSON body with its status.

mod admin;
mod catalog;
mod environments;
mod lifecycle;
mod requests;
mod rollouts;

pub(crate) use environments::portal_principal;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRequest};
use axum::routing::{get, post, put};
use axum::Router;

use crate::error::ServerError;
use crate::web::state::Portal;

/// API request bodies are small; anything larger is refused with 413.
const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn routes() -> Router<Arc<Portal>> {
    Router::new()
        .route("/api/tiers", get(catalog::list_tiers))
        .route("/api/tiers/{id}", get(catalog::tier))
        .route("/api/tiers/{id}/diagram.svg", get(catalog::diagram))
        .route("/api/requests", post(requests::create).get(requests::list))
        .route("/api/requests.csv", get(requests::csv))
        .route("/api/requests/{id}", get(requests::one))
        .route("/api/requests/{id}/approve", post(requests::approve))
        .route("/api/requests/{id}/reject", post(requests::reject))
        .route("/api/teardowns", post(requests::create_teardown))
        .route("/api/rollouts/{id}", get(rollouts::one))
        .route("/api/rollouts/{id}/events", get(rollouts::events))
        .route("/api/rollouts/{id}/retry", post(rollouts::retry))
        .route("/api/rollouts/{id}/cancel", post(rollouts::cancel))
        .route("/api/environments", get(environments::list).post(environments::register))
        .route("/api/environments/{name}", get(environments::one).put(environments::change))
        .route("/api/environments/{name}/status", get(lifecycle::status))
        .route("/api/environments/{name}/drift", get(lifecycle::drift).post(lifecycle::check_drift))
        .route("/api/environments/{name}/bill", get(lifecycle::bill).post(lifecycle::read_bill))
        .route("/api/environments/{name}/bill/usage", post(lifecycle::use_bill_usage))
        .route("/api/environments/{name}/extend", post(lifecycle::extend))
        .route("/api/environments/{name}/upgrade", post(lifecycle::upgrade))
        .route("/api/environments/{name}/repair", post(lifecycle::repair))
        .route("/api/rollouts/{id}/override", post(lifecycle::override_window))
        .route("/api/audit", get(admin::audit_log))
        .route("/api/identity", get(admin::identity))
        .route("/api/users", get(admin::list_users).post(admin::add_user))
        .route("/api/users/{name}/roles", put(admin::set_roles))
        .route("/api/users/{name}/disable", post(admin::disable_user))
        .route("/api/users/{name}/enable", post(admin::enable_user))
        .route("/api/users/{name}/password", put(admin::reset_password))
        .route("/api/tokens", get(admin::list_tokens).post(admin::create_token))
        .route("/api/tokens/{id}/revoke", post(admin::revoke_token))
        .route("/api/webhooks/deliveries", get(admin::webhook_deliveries))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// A JSON object body whose every rejection (syntax, wrong type, unknown field, size, not an
/// object) is our JSON error; a value of the wrong type names its field.
struct Body<T>(T);

impl<S, T> FromRequest<S> for Body<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ServerError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|ct| ct.split(';').next())
            .map(|mime| mime.trim().to_ascii_lowercase())
            .is_some_and(|mime| mime == "application/json" || mime.ends_with("+json"));
        if !json {
            return Err(ServerError::BadRequest("send the body as JSON, with `Content-Type: application/json`".into()));
        }
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ServerError::TooLarge(format!("the body is over {MAX_BODY_BYTES} bytes"))
            } else {
                ServerError::BadRequest(e.body_text())
            }
        })?;
        // A struct would also read from an array (`[]` is an empty tuple): only an object is a body.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ServerError::BadRequest("the body must be a JSON object".into()));
        }
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
            let field = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                ServerError::BadRequest(format!("malformed JSON: {inner}"))
            } else {
                let field = (field != ".").then_some(field);
                let message = match &field {
                    Some(f) => format!("{f}: {inner}"),
                    None => inner.to_string(),
                };
                ServerError::Invalid { code: "invalid_body", message, field }
            }
        })?;
        deserializer.end().map_err(|e| ServerError::BadRequest(format!("malformed JSON: {e}")))?;
        Ok(Body(value))
    }
}

/// Query parameters whose every rejection is our JSON error (422) naming the parameter.
struct Params<T>(T);

impl<S, T> axum::extract::FromRequestParts<S> for Params<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer).map(Params).map_err(|e| {
            let field = e.path().to_string();
            let message = format!("query parameter {field}: {}", e.inner());
            ServerError::Invalid { code: "invalid_query", message, field: (field != ".").then_some(field) }
        })
    }
}

/// A numeric id from the path; anything else is "no such thing" (404), as an unknown id is.
fn path_id(raw: &str, code: &'static str, what: &str) -> Result<i64, ServerError> {
    raw.parse().map_err(|_| ServerError::NotFound { code, message: format!("no {what} `{raw}`") })
}
