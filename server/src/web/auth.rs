//! Who calls: the [`Caller`] extractor authenticates every API call once, from a bearer token or
//! else the browser's session cookie, before the handler runs.

use std::ops::Deref;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use crate::error::ServerError;
use crate::people::{authenticate, sessions, User};
use crate::web::state::Portal;

/// The signed-in user behind a request; 401 when there is none.
#[derive(Debug, Clone)]
pub struct Caller(pub User);

impl Deref for Caller {
    type Target = User;
    fn deref(&self) -> &User {
        &self.0
    }
}

impl FromRequestParts<Arc<Portal>> for Caller {
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, portal: &Arc<Portal>) -> Result<Self, Self::Rejection> {
        let authorization = parts.headers.get(header::AUTHORIZATION).and_then(|h| h.to_str().ok());
        // A bearer token, when sent, is the only credential looked at: a wrong token is refused
        // even if a session cookie rides along.
        if authorization.is_none() {
            let cookies = parts.headers.get(header::COOKIE).and_then(|h| h.to_str().ok());
            if let Some(id) = app::backend::session_from_cookies(cookies, portal.secure_cookies) {
                if let Some(user) = sessions::user_for_session(&portal.db, &id).await? {
                    return Ok(Caller(user));
                }
            }
        }
        Ok(Caller(authenticate(&portal.db, authorization).await?))
    }
}
