//! The JSON API under `/api/`: tiers, requests and teardowns, rollouts (with their live events),
//! and for admins users, the audit trail, the AWS identity and webhook deliveries. Handlers parse
//! and authenticate ([`Caller`](crate::web::auth::Caller)), call a domain module, and answer;
//! errors are [`ServerError`]'s JSON body with its status.

mod admin;
mod catalog;
mod requests;
mod rollouts;

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequest};
use axum::routing::{get, post, put};
use axum::{Json, Router};

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

/// A numeric id from the path; anything else is "no such thing" (404), as an unknown id is.
fn path_id(raw: &str, code: &'static str, what: &str) -> Result<i64, ServerError> {
    raw.parse().map_err(|_| ServerError::NotFound { code, message: format!("no {what} `{raw}`") })
}
