//! Registered environments: the request form's choices, and the admin page's registry.

use leptos::prelude::*;

use crate::model::{EnvironmentForm, EnvironmentsView, Refusal, RegisteredView};
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
