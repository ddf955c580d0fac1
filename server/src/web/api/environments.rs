//! `/api/environments`: the registry. Admins register and change environments; whoever
//! requests, approves or administers lists them (no ExternalId); admins also see the running
//! environments nobody registered.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;

use crate::environments::trust::trusted_principal;
use crate::environments::{EnvironmentChange, Environments, NewEnvironment};
use crate::error::ServerError;
use crate::people::Role;
use crate::web::api::Body;
use crate::web::auth::Caller;
use crate::web::state::Portal;

/// Who may read the registry: whoever requests, approves or administers.
const READERS: &[Role] = &[Role::Admin, Role::Requester, Role::Approver];

pub(super) async fn list(State(portal): State<Arc<Portal>>, caller: Caller) -> Result<impl IntoResponse, ServerError> {
    caller.require(READERS, "list environments")?;
    let registry = Environments { db: &portal.db, catalog: &portal.catalog.catalog };
    let environments = registry.list().await?;
    if caller.has(Role::Admin) {
        let unregistered = registry.unregistered().await?;
        return Ok(Json(serde_json::json!({ "environments": environments, "unregistered": unregistered })));
    }
    Ok(Json(serde_json::json!({ "environments": environments })))
}

pub(super) async fn one(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<impl IntoResponse, ServerError> {
    caller.require(READERS, "read environments")?;
    let registry = Environments { db: &portal.db, catalog: &portal.catalog.catalog };
    let environment = registry.find(&name).await?.ok_or_else(|| ServerError::NotFound {
        code: "unknown_environment",
        message: format!("no registered environment `{name}`"),
    })?;
    Ok(Json(environment))
}

/// Registers an environment; the answer carries its ExternalId and trust policy, once.
pub(super) async fn register(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
    Body(input): Body<NewEnvironment>,
) -> Result<impl IntoResponse, ServerError> {
    caller.require(&[Role::Admin], "register environments")?;
    let principal = portal_principal(&portal).await;
    let registry = Environments { db: &portal.db, catalog: &portal.catalog.catalog };
    Ok((StatusCode::CREATED, Json(registry.register(&caller, input, principal.as_deref()).await?)))
}

pub(super) async fn change(
    State(portal): State<Arc<Portal>>,
    caller: Caller,
    Path(name): Path<String>,
    Body(change): Body<EnvironmentChange>,
) -> Result<impl IntoResponse, ServerError> {
    caller.require(&[Role::Admin], "change environments")?;
    let principal = portal_principal(&portal).await;
    let registry = Environments { db: &portal.db, catalog: &portal.catalog.catalog };
    Ok(Json(registry.change(&caller, &name, change, principal.as_deref()).await?))
}

/// The principal deploy roles must trust: who the portal's own credentials are, if STS says so
/// within a few seconds (without, the trust policy carries a placeholder to fill in).
pub(crate) async fn portal_principal(portal: &Portal) -> Option<String> {
    let config = portal.aws.as_ref()?;
    let identity =
        tokio::time::timeout(Duration::from_secs(5), crate::rollout::sts::caller_identity(config)).await.ok()?.ok()?;
    trusted_principal(&identity.arn)
}
