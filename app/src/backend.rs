//! The server side of the server functions, implemented by the `server` crate
//! and handed to the app through Leptos context. Keeps AWS, database and
//! catalog code out of the UI crate.

use std::net::IpAddr;
use std::sync::Arc;

use crate::model::{
    HistoryPage, HistoryQuery, Refusal, RequestDetail, RequestForm, RolloutDetail, SessionUser, SettingsView,
    TierQuery, TierSummary, TierView, UserView,
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

pub type Boxed<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, BackendError>> + Send + 'a>>;

/// `session` is the value of the session cookie, if the browser sent one.
pub trait Backend: Send + Sync + 'static {
    fn tiers(&self) -> Result<Vec<TierSummary>, BackendError>;
    fn tier(&self, query: &TierQuery) -> Result<TierView, BackendError>;
    fn sandbox(&self) -> bool;
    /// The label of the configured single sign-on provider, if there is one.
    fn single_sign_on(&self) -> Option<String>;
    /// Whether cookies must be `Secure` (the portal is served over HTTPS).
    fn secure_cookies(&self) -> bool;
    fn who<'a>(&'a self, session: Option<&'a str>) -> Boxed<'a, Option<SessionUser>>;
    /// Returns the user and the new session id.
    fn sign_in<'a>(
        &'a self,
        name: &'a str,
        password: &'a str,
        address: Option<IpAddr>,
    ) -> Boxed<'a, (SessionUser, String)>;
    fn sign_out<'a>(&'a self, session: Option<&'a str>) -> Boxed<'a, ()>;
    fn create_request<'a>(&'a self, session: Option<&'a str>, form: RequestForm) -> Boxed<'a, i64>;
    fn history<'a>(&'a self, session: Option<&'a str>, query: HistoryQuery) -> Boxed<'a, HistoryPage>;
    fn request<'a>(&'a self, session: Option<&'a str>, id: i64) -> Boxed<'a, RequestDetail>;
    fn decide<'a>(
        &'a self,
        session: Option<&'a str>,
        id: i64,
        approve: bool,
        comment: String,
    ) -> Boxed<'a, RequestDetail>;
    fn rollout<'a>(&'a self, session: Option<&'a str>, id: i64) -> Boxed<'a, RolloutDetail>;
    /// Retries (`retry`) or cancels a rollout; answers with its new state.
    fn steer_rollout<'a>(&'a self, session: Option<&'a str>, id: i64, retry: bool) -> Boxed<'a, RolloutDetail>;
    /// Requests the teardown of an environment; returns the new request's id.
    fn request_teardown<'a>(
        &'a self,
        session: Option<&'a str>,
        environment: String,
        region: String,
        role_arn: String,
        justification: String,
    ) -> Boxed<'a, i64>;
    fn settings<'a>(&'a self, session: Option<&'a str>) -> Boxed<'a, SettingsView>;
    fn users<'a>(&'a self, session: Option<&'a str>) -> Boxed<'a, Vec<UserView>>;
    fn set_roles<'a>(&'a self, session: Option<&'a str>, name: String, roles: Vec<String>) -> Boxed<'a, UserView>;
    fn add_user<'a>(
        &'a self,
        session: Option<&'a str>,
        name: String,
        roles: Vec<String>,
        password: String,
    ) -> Boxed<'a, UserView>;
}

pub type SharedBackend = Arc<dyn Backend>;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "portal_session";

/// The session id from a `Cookie` header, if it has a well-formed one.
pub fn session_from_cookies(cookie_header: Option<&str>) -> Option<String> {
    cookie_header?
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_owned())
        .filter(|v| v.len() == 64 && v.chars().all(|c| c.is_ascii_hexdigit()))
}

/// `Set-Cookie` value for a session id; an empty id clears the cookie.
pub fn session_cookie(id: &str, secure: bool) -> String {
    let max_age = if id.is_empty() { 0 } else { 12 * 3600 };
    format!(
        "{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}
