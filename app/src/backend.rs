//! The server side of the server functions, implemented by the `server` crate and handed to the
//! app through Leptos context. Keeps AWS, database and catalog code out of the UI crate.
//!
//! A server function resolves its caller once ([`Backend::caller`], from the session cookie) and
//! hands the [`Caller`] to the method it calls; the server checks what that caller may do.

use std::net::IpAddr;
use std::sync::Arc;

use crate::model::{
    ActionOutcome, Decision, EnvironmentAction, EnvironmentDetail, EnvironmentForm, EnvironmentsPage, EnvironmentsView,
    HistoryPage, HistoryQuery, NewTokenView, PolicyText, Pricing, Refusal, RegisteredView, RequestDetail, RequestForm,
    Role, RolloutDetail, RunningTiers, SessionUser, SettingsView, TeardownForm, TierQuery, TierSummary, TierView,
    TokenView, UserView,
};

/// A failure the UI can show as it is: the message names what was wrong.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BackendError {
    #[error("{0}")]
    NotFound(String),
    #[error("{}", .0.message)]
    Refused(Refusal),
    #[error("{0}")]
    Internal(String),
}

impl BackendError {
    /// A refusal not about one field.
    pub fn refused(message: impl Into<String>) -> BackendError {
        BackendError::Refused(Refusal { field: None, message: message.into() })
    }
}

/// The signed-in person a server function acts for, resolved from the session once per call.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    pub id: i64,
    pub name: String,
    pub roles: Vec<Role>,
}

impl Caller {
    pub fn session_user(&self) -> SessionUser {
        SessionUser { name: self.name.clone(), roles: self.roles.clone() }
    }
}

pub type Boxed<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, BackendError>> + Send + 'a>>;

pub trait Backend: Send + Sync + 'static {
    // Public: the catalog and how the portal is set up.
    fn tiers(&self, pricing: Pricing) -> Result<Vec<TierSummary>, BackendError>;
    fn tier(&self, query: &TierQuery) -> Result<TierView, BackendError>;
    /// [`Backend::tier`]'s view as JSON safe inside a `<script>` ([`crate::island::script_safe`]),
    /// for a tier page's island props; the server keeps it with the view.
    fn tier_script_json(&self, query: &TierQuery) -> Result<std::sync::Arc<str>, BackendError>;
    fn sandbox(&self) -> bool;
    /// The label of the configured single sign-on provider, if there is one.
    fn single_sign_on(&self) -> Option<String>;
    /// Whether cookies must be `Secure` (the portal is served over HTTPS).
    fn secure_cookies(&self) -> bool;

    // Sessions.
    /// The user behind a session cookie's value; `None` for no or an ended session.
    fn caller<'a>(&'a self, session: &'a str) -> Boxed<'a, Option<Caller>>;
    /// Returns the user and the new session id.
    fn sign_in<'a>(
        &'a self,
        name: &'a str,
        password: &'a str,
        address: Option<IpAddr>,
    ) -> Boxed<'a, (SessionUser, String)>;
    fn sign_out<'a>(&'a self, session: &'a str) -> Boxed<'a, ()>;

    // Requests.
    fn create_request<'a>(&'a self, caller: &'a Caller, form: RequestForm) -> Boxed<'a, i64>;
    fn history<'a>(&'a self, caller: &'a Caller, query: HistoryQuery) -> Boxed<'a, HistoryPage>;
    fn request<'a>(&'a self, caller: &'a Caller, id: i64) -> Boxed<'a, RequestDetail>;
    fn decide<'a>(
        &'a self,
        caller: &'a Caller,
        id: i64,
        decision: Decision,
        comment: String,
    ) -> Boxed<'a, RequestDetail>;
    /// Requests the teardown of an environment; returns the new request's id.
    fn request_teardown<'a>(&'a self, caller: &'a Caller, form: TeardownForm) -> Boxed<'a, i64>;

    // Rollouts.
    fn rollout<'a>(&'a self, caller: &'a Caller, id: i64) -> Boxed<'a, RolloutDetail>;
    /// Retries (`retry`) or cancels a rollout; answers with its new state.
    fn steer_rollout<'a>(&'a self, caller: &'a Caller, id: i64, retry: bool) -> Boxed<'a, RolloutDetail>;

    // The caller's API tokens.
    fn tokens<'a>(&'a self, caller: &'a Caller) -> Boxed<'a, Vec<TokenView>>;
    fn create_token<'a>(&'a self, caller: &'a Caller, name: String, days: i64) -> Boxed<'a, NewTokenView>;
    fn revoke_token<'a>(&'a self, caller: &'a Caller, id: i64) -> Boxed<'a, TokenView>;

    // Environments.
    /// The registered environments (and, for admins, the unregistered ones the portal deployed to).
    fn environments<'a>(&'a self, caller: &'a Caller) -> Boxed<'a, EnvironmentsView>;
    fn register_environment<'a>(&'a self, caller: &'a Caller, form: EnvironmentForm) -> Boxed<'a, RegisteredView>;

    // Day two: where each environment stands, and what people ask for there.
    fn environments_page<'a>(&'a self, caller: &'a Caller) -> Boxed<'a, EnvironmentsPage>;
    fn environment_detail<'a>(&'a self, caller: &'a Caller, name: String) -> Boxed<'a, EnvironmentDetail>;
    fn environment_action<'a>(
        &'a self,
        caller: &'a Caller,
        name: String,
        action: EnvironmentAction,
    ) -> Boxed<'a, ActionOutcome>;
    /// Changes an environment's day-two policy (admins); answers with its page.
    fn change_policy<'a>(
        &'a self,
        caller: &'a Caller,
        name: String,
        policy: PolicyText,
    ) -> Boxed<'a, EnvironmentDetail>;
    /// The environments running each tier (for signed-in people; empty otherwise).
    fn running_tiers<'a>(&'a self, caller: &'a Caller) -> Boxed<'a, RunningTiers>;

    // Administration.
    fn settings<'a>(&'a self, caller: &'a Caller) -> Boxed<'a, SettingsView>;
    fn users<'a>(&'a self, caller: &'a Caller) -> Boxed<'a, Vec<UserView>>;
    fn set_roles<'a>(&'a self, caller: &'a Caller, name: String, roles: Vec<Role>) -> Boxed<'a, UserView>;
    /// Disables (`disabled`) or enables a user.
    fn set_disabled<'a>(&'a self, caller: &'a Caller, name: String, disabled: bool) -> Boxed<'a, UserView>;
    fn add_user<'a>(
        &'a self,
        caller: &'a Caller,
        name: String,
        roles: Vec<Role>,
        password: String,
    ) -> Boxed<'a, UserView>;
}

pub type SharedBackend = Arc<dyn Backend>;

/// The address of the person calling, as the server worked it out (the TCP peer, or the client a
/// trusted proxy names in `X-Forwarded-For`); put in the request's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

/// Name of the session cookie over plain HTTP (a local portal).
pub const SESSION_COOKIE: &str = "portal_session";
/// Its name over HTTPS: the `__Host-` prefix makes the browser refuse it unless it is `Secure`,
/// for `/` and set by this very host, so a neighbouring subdomain cannot plant a session.
pub const SECURE_SESSION_COOKIE: &str = "__Host-portal_session";

fn cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

/// The session id from a `Cookie` header, if it has a well-formed one under the name this portal
/// uses (`secure`: the `__Host-` one).
pub fn session_from_cookies(cookie_header: Option<&str>, secure: bool) -> Option<String> {
    let name = cookie_name(secure);
    cookie_header?
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| v.len() == 64 && v.chars().all(|c| c.is_ascii_hexdigit()))
}

/// `Set-Cookie` value for a session id; an empty id clears the cookie.
pub fn session_cookie(id: &str, secure: bool) -> String {
    let max_age = if id.is_empty() { 0 } else { 12 * 3600 };
    format!(
        "{}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        cookie_name(secure),
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_https_the_session_cookie_is_host_only_and_secure() {
        let id = "ab".repeat(32);
        let plain = session_cookie(&id, false);
        let secure = session_cookie(&id, true);
        assert!(plain.starts_with("portal_session=") && !plain.contains("Secure"), "{plain}");
        assert!(
            secure.starts_with("__Host-portal_session=") && secure.contains("; Secure") && secure.contains("Path=/;")
        );
        assert!(!secure.contains("Domain"), "{secure}");
        let header = format!("portal_session={id}");
        assert_eq!(session_from_cookies(Some(&header), false), Some(id.clone()));
        assert_eq!(
            session_from_cookies(Some(&header), true),
            None,
            "a cookie without the prefix is not ours over https"
        );
        let header = format!("other=1; __Host-portal_session={id}");
        assert_eq!(session_from_cookies(Some(&header), true), Some(id));
        assert_eq!(session_from_cookies(Some("portal_session=not-hex"), false), None);
    }
}
