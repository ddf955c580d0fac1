//! The catalog and how the portal is set up: public, no session needed.

use leptos::prelude::*;

use crate::model::{Pricing, TierQuery, TierSummary, TierView};
#[cfg(feature = "ssr")]
use crate::rpc::context::backend;

/// The three tiers, side by side, priced with one model.
#[server(prefix = "/rpc", endpoint = "list_tiers")]
pub async fn list_tiers(pricing: Pricing) -> Result<Vec<TierSummary>, ServerFnError> {
    backend()?.tiers(pricing).map_err(|e| ServerFnError::new(e.to_string()))
}

/// One tier evaluated for the given options and usage: cost, diagram, phases.
/// JSON in, since a query carries nested lists that form encoding drops.
#[server(prefix = "/rpc", endpoint = "tier_view", input = leptos::server_fn::codec::Json)]
pub async fn get_tier_view(query: TierQuery) -> Result<TierView, ServerFnError> {
    backend()?.tier(&query).map_err(|e| ServerFnError::new(e.to_string()))
}

/// The single sign-on provider's label, when OpenID Connect sign-in is configured.
#[server(prefix = "/rpc", endpoint = "single_sign_on")]
pub async fn single_sign_on() -> Result<Option<String>, ServerFnError> {
    Ok(backend()?.single_sign_on())
}

/// Whether deployments go to the local sandbox (moto) rather than AWS.
#[server(prefix = "/rpc", endpoint = "sandbox_mode")]
pub async fn sandbox_mode() -> Result<bool, ServerFnError> {
    Ok(backend()?.sandbox())
}
