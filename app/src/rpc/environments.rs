//! Registered environments: the request form's choices, and the admin page's registry.

use leptos::prelude::*;

use crate::model::{
    ActionOutcome, EnvironmentAction, EnvironmentDetail, EnvironmentForm, EnvironmentsPage, EnvironmentsView,
    PolicyText, Refusal, RegisteredView, RunningTiers,
};
#[cfg(feature = "ssr")]
use crate::rpc::context::{backend, signed_in, split};

#[server(prefix = "/rpc", endpoint = "list_environments")]
pub async fn list_environments() -> Result<Result<EnvironmentsView, Refusal>, ServerFnError> {
    let backend = backend()?;
    split(async { backend.environments(&signed_in(&backend).await?).await }.await)
}

/// Registers an environment (admins); the answer's ExternalId and trust policy are shown once.
#[server(prefix = "/rpc", endpoint = "register_environment", input = leptos::server_fn::codec::Json)]
pub async fn register_environment(form: EnvironmentForm) -> Result<Result<RegisteredView, Refusal>, ServerFnError> {
    let backend = backend()?;
    split(async { backend.register_environment(&signed_in(&backend).await?, form).await }.await)
}

/// `/environments`: every registered environment and where it stands.
#[server(prefix = "/rpc", endpoint = "list_environment_statuses")]
pub async fn list_environment_statuses() -> Result<Result<EnvironmentsPage, Refusal>, ServerFnError> {
    let backend = backend()?;
    split(async { backend.environments_page(&signed_in(&backend).await?).await }.await)
}

/// `/environments/{name}`.
#[server(prefix = "/rpc", endpoint = "get_environment_detail")]
pub async fn get_environment_detail(name: String) -> Result<Result<EnvironmentDetail, Refusal>, ServerFnError> {
    let backend = backend()?;
    split(async { backend.environment_detail(&signed_in(&backend).await?, name).await }.await)
}

/// Checks for drift, requests a repair, an extension or an upgrade, or overrides a change window.
#[server(prefix = "/rpc", endpoint = "act_on_environment", input = leptos::server_fn::codec::Json)]
pub async fn act_on_environment(
    name: String,
    action: EnvironmentAction,
) -> Result<Result<ActionOutcome, Refusal>, ServerFnError> {
    let backend = backend()?;
    split(async { backend.environment_action(&signed_in(&backend).await?, name, action).await }.await)
}

/// The environments running each tier, for a signed-in person; nothing for anyone else.
#[server(prefix = "/rpc", endpoint = "list_running_tiers")]
pub async fn list_running_tiers() -> Result<RunningTiers, ServerFnError> {
    let backend = backend()?;
    let Ok(caller) = signed_in(&backend).await else { return Ok(RunningTiers::default()) };
    backend.running_tiers(&caller).await.map_err(|e| ServerFnError::new(e.to_string()))
}

/// Changes an environment's day-two policy (admins); answers with the environment's page data.
#[server(prefix = "/rpc", endpoint = "change_environment_policy", input = leptos::server_fn::codec::Json)]
pub async fn change_environment_policy(
    name: String,
    policy: PolicyText,
) -> Result<Result<EnvironmentDetail, Refusal>, ServerFnError> {
    let backend = backend()?;
    split(async { backend.change_policy(&signed_in(&backend).await?, name, policy).await }.await)
}
