//! The server functions, grouped by domain, with fixed URLs under `/rpc/` (the default ones hash
//! the build path, so a browser bundle and a server built in different checkouts would disagree).
//! Their bodies run on the server only: each resolves its caller once, from the session cookie,
//! and calls the [`Backend`](crate::backend::Backend) the `server` crate put in the context.

mod catalog;
mod environments;
mod people;
mod requests;
mod rollouts;

pub use catalog::*;
pub use environments::*;
pub use people::*;
pub use requests::*;
pub use rollouts::*;

#[cfg(feature = "ssr")]
pub(crate) mod context {
    use leptos::prelude::*;

    use crate::backend::{session_from_cookies, BackendError, Caller, SharedBackend};
    use crate::model::Refusal;

    pub fn backend() -> Result<SharedBackend, ServerFnError> {
        use_context::<SharedBackend>().ok_or_else(|| ServerFnError::new("the portal backend is not configured"))
    }

    /// The session id the browser sent with this call.
    pub fn session() -> Option<String> {
        let parts = use_context::<http::request::Parts>()?;
        let secure = use_context::<SharedBackend>()?.secure_cookies();
        session_from_cookies(parts.headers.get(http::header::COOKIE).and_then(|v| v.to_str().ok()), secure)
    }

    /// The signed-in caller, resolved once per call; refused with what to do otherwise.
    pub async fn signed_in(backend: &SharedBackend) -> Result<Caller, BackendError> {
        let id = session().ok_or_else(|| BackendError::refused("sign in first"))?;
        backend.caller(&id).await?.ok_or_else(|| BackendError::refused("your session has ended; sign in again"))
    }

    /// The caller's address as the server worked it out (see `ClientAddress`).
    pub fn address() -> Option<std::net::IpAddr> {
        let parts = use_context::<http::request::Parts>()?;
        parts.extensions.get::<crate::backend::ClientAddress>().map(|a| a.0)
    }

    pub fn set_cookie(value: String) {
        if let (Some(response), Ok(value)) = (use_context::<leptos_axum::ResponseOptions>(), value.parse()) {
            response.append_header(http::header::SET_COOKIE, value);
        }
    }

    /// Refusals travel as data (shown next to their field); other failures as errors.
    pub fn split<T>(result: Result<T, BackendError>) -> Result<Result<T, Refusal>, ServerFnError> {
        match result {
            Ok(v) => Ok(Ok(v)),
            Err(BackendError::Refused(r)) => Ok(Err(r)),
            Err(e) => Err(ServerFnError::new(e.to_string())),
        }
    }
}
