//! Signing in and out, who is signed in, and the admin page's users and roles.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::backend::session_cookie;
use crate::model::{NewTokenView, Refusal, Role, SessionUser, TokenView, UserView};
#[cfg(feature = "ssr")]
use crate::rpc::context::{address, backend, session, set_cookie, signed_in, split};

/// Who is signed in, if anyone.
#[server(prefix = "/rpc", endpoint = "whoami")]
pub async fn whoami() -> Result<Option<SessionUser>, ServerFnError> {
    let Some(id) = session() else { return Ok(None) };
    let caller = backend()?.caller(&id).await.map_err(|e| ServerFnError::new(e.to_string()))?;
    Ok(caller.map(|c| c.session_user()))
}

#[server(prefix = "/rpc", endpoint = "sign_in")]
pub async fn sign_in(name: String, password: String) -> Result<Result<SessionUser, Refusal>, ServerFnError> {
    let backend = backend()?;
    let result = backend.sign_in(name.trim(), &password, address()).await;
    split(result.map(|(user, id)| {
        set_cookie(session_cookie(&id, backend.secure_cookies()));
        user
    }))
}

#[server(prefix = "/rpc", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), ServerFnError> {
    let backend = backend()?;
    if let Some(id) = session() {
        backend.sign_out(&id).await.map_err(|e| ServerFnError::new(e.to_string()))?;
    }
    set_cookie(session_cookie("", backend.secure_cookies()));
    // A plain form post (a page without JavaScript) lands on the catalog, as the script does.
    leptos_axum::redirect("/");
    Ok(())
}

#[server(prefix = "/rpc", endpoint = "list_users")]
pub async fn list_users() -> Result<Result<Vec<UserView>, Refusal>, ServerFnError> {
    let backend = backend()?;
    split(async { backend.users(&signed_in(&backend).await?).await }.await)
}

#[server(prefix = "/rpc", endpoint = "save_roles", input = leptos::server_fn::codec::Json)]
pub async fn save_roles(name: String, roles: Vec<Role>) -> Result<Result<UserView, Refusal>, ServerFnError> {
    let backend = backend()?;
    split(async { backend.set_roles(&signed_in(&backend).await?, name, roles).await }.await)
}

/// Disables (`disabled: true`) or enables a user: their sessions end at once when disabled.
#[server(prefix = "/rpc", endpoint = "set_user_disabled")]
pub async fn set_user_disabled(name: String, disabled: bool) -> Result<Result<UserView, Refusal>, ServerFnError> {
    let backend = backend()?;
    split(async { backend.set_disabled(&signed_in(&backend).await?, name, disabled).await }.await)
}

#[server(prefix = "/rpc", endpoint = "create_user", input = leptos::server_fn::codec::Json)]
pub async fn create_user(
    name: String,
    roles: Vec<Role>,
    password: String,
) -> Result<Result<UserView, Refusal>, ServerFnError> {
    let backend = backend()?;
    split(async { backend.add_user(&signed_in(&backend).await?, name, roles, password).await }.await)
}

/// The caller's own API tokens, newest first.
#[server(prefix = "/rpc", endpoint = "list_tokens")]
pub async fn list_tokens() -> Result<Result<Vec<TokenView>, Refusal>, ServerFnError> {
    let backend = backend()?;
    split(async { backend.tokens(&signed_in(&backend).await?).await }.await)
}

/// A new token for the caller, expiring after `days`; the answer is the only time it is shown.
#[server(prefix = "/rpc", endpoint = "create_token")]
pub async fn create_token(name: String, days: i64) -> Result<Result<NewTokenView, Refusal>, ServerFnError> {
    let backend = backend()?;
    split(async { backend.create_token(&signed_in(&backend).await?, name, days).await }.await)
}

#[server(prefix = "/rpc", endpoint = "revoke_token")]
pub async fn revoke_token(id: i64) -> Result<Result<TokenView, Refusal>, ServerFnError> {
    let backend = backend()?;
    split(async { backend.revoke_token(&signed_in(&backend).await?, id).await }.await)
}
