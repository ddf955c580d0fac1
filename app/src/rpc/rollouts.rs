//! Rollouts (the page's data, retry and cancel) and the settings page.

use leptos::prelude::*;

use crate::model::{Refusal, RolloutDetail, SettingsView};
#[cfg(feature = "ssr")]
use crate::rpc::context::{backend, signed_in, split};

#[server(prefix = "/rpc", endpoint = "get_rollout", output = leptos::server_fn::codec::Json)]
pub async fn get_rollout(id: i64) -> Result<Result<RolloutDetail, Refusal>, ServerFnError> {
    let backend = backend()?;
    split(async { backend.rollout(&signed_in(&backend).await?, id).await }.await)
}

/// Retries (`retry: true`) or cancels a rollout.
#[server(prefix = "/rpc", endpoint = "steer_rollout", output = leptos::server_fn::codec::Json)]
pub async fn steer_rollout(id: i64, retry: bool) -> Result<Result<RolloutDetail, Refusal>, ServerFnError> {
    let backend = backend()?;
    split(async { backend.steer_rollout(&signed_in(&backend).await?, id, retry).await }.await)
}

#[server(prefix = "/rpc", endpoint = "get_settings", output = leptos::server_fn::codec::Json)]
pub async fn get_settings() -> Result<Result<SettingsView, Refusal>, ServerFnError> {
    let backend = backend()?;
    split(async { backend.settings(&signed_in(&backend).await?).await }.await)
}
