//! Requests no other site can forge. A browser sends the session cookie with any request to this
//! host, whichever page made it (SameSite only stops other *sites*; another port on the same host
//! is the same site). So every state-changing request a browser could be made to send — any call
//! of a server function under `/rpc` (sign-in and sign-out included), and any API call carrying
//! the session cookie — must come from a page of the portal itself: its `Origin` header (or,
//! without one, its `Referer`) must be the portal's own origin. Bearer-token calls, calls with no
//! credential at all (refused later with 401), and safe methods (GET, HEAD, OPTIONS) pass.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ServerError;

/// Where the portal's pages are served from, as browsers write it in `Origin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnOrigin {
    /// `PORTAL_PUBLIC_URL`'s scheme, host and port (`https://portal.example.com`).
    Public(String),
    /// No public URL set: the request's own `Host` must match the origin's host and port.
    SameHost,
}

impl OwnOrigin {
    pub fn from_public_url(public_url: Option<&str>) -> OwnOrigin {
        match public_url.and_then(origin_of) {
            Some(origin) => OwnOrigin::Public(origin),
            None => OwnOrigin::SameHost,
        }
    }
}

/// `scheme://host[:port]` of a URL, lower-cased, without path, query or a trailing slash.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().filter(|a| !a.is_empty())?;
    // Credentials in an origin are never legitimate.
    if authority.contains('@') {
        return None;
    }
    Some(format!("{}://{}", scheme.to_ascii_lowercase(), authority.to_ascii_lowercase()))
}

/// Why a request was refused, for the 403's message.
fn check(method: &Method, path: &str, headers: &HeaderMap, own: &OwnOrigin) -> Result<(), String> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    // A bearer token is not sent by a browser on its own: such a call cannot be forged by a page.
    let bearer =
        headers.get(header::AUTHORIZATION).and_then(|h| h.to_str().ok()).is_some_and(|v| v.starts_with("Bearer "));
    if bearer {
        return Ok(());
    }
    // Either cookie name: a request carrying one is a browser's, whichever this portal uses.
    let cookies = headers.get(header::COOKIE).and_then(|h| h.to_str().ok());
    let cookie =
        app::backend::session_from_cookies(cookies, false).or(app::backend::session_from_cookies(cookies, true));
    if !path.starts_with("/rpc/") && cookie.is_none() {
        return Ok(());
    }
    let text = |name: header::HeaderName| headers.get(name).and_then(|h| h.to_str().ok());
    let claimed = match (text(header::ORIGIN), text(header::REFERER)) {
        (Some(origin), _) if origin != "null" => origin_of(origin),
        (Some(_), _) => None,
        (None, Some(referer)) => origin_of(referer),
        (None, None) => return Err("the request names no Origin or Referer".into()),
    };
    let Some(claimed) = claimed else {
        return Err("the request's Origin is not a web origin".into());
    };
    let matches = match own {
        OwnOrigin::Public(origin) => claimed == *origin,
        OwnOrigin::SameHost => {
            let host = text(header::HOST).map(str::to_ascii_lowercase);
            host.is_some_and(|host| claimed.split_once("://").is_some_and(|(_, authority)| authority == host))
        }
    };
    if matches {
        Ok(())
    } else {
        Err(format!("the request comes from {claimed}, not from the portal's own pages"))
    }
}

/// The middleware: a forged request gets 403 before any handler runs.
pub async fn same_origin_only(State(own): State<OwnOrigin>, request: Request, next: Next) -> Response {
    match check(request.method(), request.uri().path(), request.headers(), &own) {
        Ok(()) => next.run(request).await,
        Err(reason) => {
            tracing::warn!(method = %request.method(), path = %request.uri().path(), %reason, "cross-origin request refused");
            ServerError::Forbidden(format!("refused: {reason}; use the portal's pages, or an API token"))
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(name.clone(), HeaderValue::from_str(value).unwrap_or(HeaderValue::from_static("")));
        }
        h
    }

    type Headers = Vec<(header::HeaderName, &'static str)>;

    #[test]
    fn only_the_portals_own_pages_may_change_things() {
        let public = OwnOrigin::from_public_url(Some("https://Portal.example.com/"));
        assert_eq!(public, OwnOrigin::Public("https://portal.example.com".into()));
        let same_host = OwnOrigin::SameHost;
        let host = (header::HOST, "127.0.0.1:3000");
        let session =
            (header::COOKIE, "portal_session=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        let cases: Vec<(Method, Headers, &OwnOrigin, bool)> = vec![
            (Method::GET, vec![], &public, true),
            (Method::POST, vec![(header::ORIGIN, "https://portal.example.com")], &public, true),
            (Method::POST, vec![(header::ORIGIN, "https://evil.example.com")], &public, false),
            (Method::POST, vec![(header::ORIGIN, "http://portal.example.com")], &public, false),
            (Method::POST, vec![(header::ORIGIN, "null")], &public, false),
            (Method::POST, vec![], &public, false),
            (Method::POST, vec![(header::REFERER, "https://portal.example.com/admin")], &public, true),
            (Method::POST, vec![(header::REFERER, "https://portal.example.com.evil.net/x")], &public, false),
            (Method::POST, vec![(header::AUTHORIZATION, "Bearer cpp_x")], &public, true),
            (Method::PUT, vec![host.clone(), (header::ORIGIN, "http://127.0.0.1:3000")], &same_host, true),
            (Method::POST, vec![host.clone(), (header::ORIGIN, "http://127.0.0.1:4000")], &same_host, false),
            (Method::POST, vec![host.clone(), (header::ORIGIN, "http://user@127.0.0.1:3000")], &same_host, false),
            (Method::DELETE, vec![host.clone()], &same_host, false),
        ];
        for (method, pairs, own, allowed) in cases {
            let result = check(&method, "/rpc/create_user", &headers(&pairs), own);
            assert_eq!(result.is_ok(), allowed, "{method} {pairs:?} against {own:?}: {result:?}");
        }
        // The JSON API: only calls carrying the session cookie are a browser's; others get their 401 later.
        let api: Vec<(Headers, bool)> = vec![
            (vec![host.clone()], true),
            (vec![host.clone(), session.clone()], false),
            (vec![host.clone(), session.clone(), (header::ORIGIN, "http://127.0.0.1:3000")], true),
            (vec![host, session, (header::ORIGIN, "http://127.0.0.1:3001")], false),
        ];
        for (pairs, allowed) in api {
            let result = check(&Method::POST, "/api/requests", &headers(&pairs), &same_host);
            assert_eq!(result.is_ok(), allowed, "POST /api/requests {pairs:?}: {result:?}");
        }
    }
}
