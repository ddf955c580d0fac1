//! `/api/users` (list, add, roles), `/api/audit`, `/api/identity` and
//! `/api/webhooks/deliveries`: the portal's own administration.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;

use crate::error::ServerError;
use crate::people::{add_user as add, list_users as list, parse_roles, tokens, Role};
use crate::web::api::{Body, Params};
use crate::web::auth::Caller;
use crate::web::state::Portal;

/// Which AWS account the portal deploys from: shown before anyone approves.
pub(super) async fn identity(
    State(portal): State<Arc<Portal>>,
    _caller: Caller,
) -> Result<impl IntoResponse, ServerError> {
    let config =
        portal.aws.as_ref().ok_or_else(|| ServerError::Unavailable("the portal has no AWS configuration".into()))?;
    let identity = crate::rollout::sts::caller_identity(config).await?;
    Ok(Json(serde_json::json!({
        "account": identity.account,
        "arn": identity.arn,
        "user_id": identity.user_id,
        "region": config.region().map(|r| r.to_string()),
        "sandbox": portal.catalog.sandbox,
    })))
}

pub(super) async fn list_users(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
) -> Result<impl IntoResponse, ServerError> {
    caller.require(&[Role::Admin], "list users")?;
    Ok(Json(serde_json::json!({ "users": list(&portal.db).await? })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewUser {
    name: String,
    roles: Vec<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    token: bool,
}

/// Adds a user; with `token: true` the answer carries the token, once.
pub(super) async fn add_user(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
    Body(input): Body<NewUser>,
) -> Result<impl IntoResponse, ServerError> {
    caller.require(&[Role::Admin], "add users")?;
    let roles = parse_roles(&input.roles)?;
    if input.password.is_none() && !input.token {
        return Err(ServerError::Invalid {
            code: "no_credentials",
            message: "give a password or ask for a token: otherwise the user could never sign in".into(),
            field: Some("password".into()),
        });
    }
    let (user, token) = add(&portal.db, &input.name, &roles, input.password.as_deref(), input.token).await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "user": user, "token": token }))))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RoleChange {
    roles: Vec<String>,
}

pub(super) async fn set_roles(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
    Path(name): Path<String>,
    Body(change): Body<RoleChange>,
) -> Result<impl IntoResponse, ServerError> {
    let user = crate::people::set_roles(&portal.db, &caller, &name, &parse_roles(&change.roles)?).await?;
    Ok(Json(serde_json::json!({ "user": user })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AuditQuery {
    before: Option<i64>,
    limit: Option<i64>,
}

pub(super) async fn audit_log(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
    Params(q): Params<AuditQuery>,
) -> Result<impl IntoResponse, ServerError> {
    // The raw trail holds sign-in addresses and every account's activity; viewers keep the
    // timelines on request pages.
    caller.require(&[Role::Admin, Role::Approver], "read the audit trail")?;
    let entries = crate::audit::page(&portal.db, q.before, q.limit.unwrap_or(100)).await?;
    let next = entries.last().map(|e| e.id);
    Ok(Json(serde_json::json!({ "entries": entries, "next_before": next })))
}

pub(super) async fn webhook_deliveries(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
) -> Result<impl IntoResponse, ServerError> {
    caller.require(&[Role::Admin], "see webhook deliveries")?;
    Ok(Json(serde_json::json!({
        "webhook": portal.notifier.enabled(),
        "deliveries": crate::notify::deliveries(&portal.db, 200).await?,
    })))
}

pub(super) async fn disable_user(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<impl IntoResponse, ServerError> {
    Ok(Json(serde_json::json!({ "user": crate::people::set_disabled(&portal.db, &caller, &name, true).await? })))
}

pub(super) async fn enable_user(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<impl IntoResponse, ServerError> {
    Ok(Json(serde_json::json!({ "user": crate::people::set_disabled(&portal.db, &caller, &name, false).await? })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PasswordReset {
    password: String,
}

/// An admin sets a new password; the user's sessions end.
pub(super) async fn reset_password(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
    Path(name): Path<String>,
    Body(body): Body<PasswordReset>,
) -> Result<impl IntoResponse, ServerError> {
    crate::people::reset_password(&portal.db, &caller, &name, &body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TokenQuery {
    /// Admins only: every user's tokens.
    #[serde(default)]
    all: bool,
}

/// The caller's tokens (an admin's `?all=true`: everyone's), never the tokens themselves.
pub(super) async fn list_tokens(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
    Params(q): Params<TokenQuery>,
) -> Result<impl IntoResponse, ServerError> {
    let whose = if q.all {
        caller.require(&[Role::Admin], "list everyone's tokens")?;
        None
    } else {
        Some(caller.id)
    };
    Ok(Json(serde_json::json!({ "tokens": tokens::list(&portal.db, whose).await? })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewToken {
    name: String,
    #[serde(default)]
    expires_in_days: Option<i64>,
}

/// A new token for the caller; the answer is the only time it is shown.
pub(super) async fn create_token(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
    Body(body): Body<NewToken>,
) -> Result<impl IntoResponse, ServerError> {
    let (info, token) = tokens::create(&portal.db, &caller, &body.name, body.expires_in_days).await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "token": token, "info": info }))))
}

pub(super) async fn revoke_token(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ServerError> {
    let id = super::path_id(&id, "unknown_token", "token")?;
    Ok(Json(serde_json::json!({ "token": tokens::revoke(&portal.db, &caller, id).await? })))
}
