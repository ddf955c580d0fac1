//! Single sign-on over HTTP: `GET /auth/oidc/start` sends the browser to the provider,
//! `GET /auth/oidc/callback` finishes the sign-in ([`crate::people::oidc`] does the protocol) and
//! sets the session cookie; failures are a readable page with the reason.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{AppendHeaders, Html, IntoResponse, Redirect, Response};

use crate::error::ServerError;
use crate::people::oidc::{OidcProvider, CALLBACK_PATH, START_PATH};
use crate::web::state::Portal;

/// `GET /auth/oidc/start` and `GET /auth/oidc/callback`.
pub fn routes() -> axum::Router<Arc<Portal>> {
    axum::Router::new()
        .route(START_PATH, axum::routing::get(start_handler))
        .route(CALLBACK_PATH, axum::routing::get(callback_handler))
}

fn provider(portal: &Portal) -> Result<&OidcProvider, ServerError> {
    portal.oidc.as_deref().ok_or_else(|| ServerError::NotFound {
        code: "sso_not_configured",
        message: "single sign-on is not configured on this portal (PORTAL_OIDC_ISSUER)".into(),
    })
}

/// The cookie that binds a sign-in to the browser that started it: SameSite=Lax, since it must
/// come back on the provider's redirect (a cross-site top-level navigation).
const BROWSER_COOKIE: &str = "portal_sso";

fn browser_cookie(value: &str, secure: bool) -> String {
    let max_age = if value.is_empty() { 0 } else { 600 };
    format!(
        "{BROWSER_COOKIE}={value}; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

fn browser_secret(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == BROWSER_COOKIE)
        .map(|(_, v)| v.to_owned())
        .filter(|v| v.len() == 64 && v.chars().all(|c| c.is_ascii_hexdigit()))
}

async fn start_handler(State(portal): State<Arc<Portal>>) -> Response {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    match async { provider(&portal)?.start(&portal.db, &secret).await }.await {
        Ok(url) => {
            ([(header::SET_COOKIE, browser_cookie(&secret, portal.secure_cookies))], Redirect::to(&url)).into_response()
        }
        Err(e) => sign_in_problem(e),
    }
}

#[derive(serde::Deserialize)]
struct Callback {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback_handler(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    Query(callback): Query<Callback>,
) -> Response {
    let browser = browser_secret(&headers);
    let outcome = async {
        let provider = provider(&portal)?;
        if let Some(error) = &callback.error {
            return Err(ServerError::Unauthorized(format!(
                "the provider refused the sign-in: {error}{}",
                callback.error_description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default()
            )));
        }
        let (Some(state), Some(code)) = (&callback.state, &callback.code) else {
            return Err(ServerError::BadRequest("the provider's answer lacks `state` or `code`".into()));
        };
        provider.finish(&portal.db, state, code, browser.as_deref()).await
    }
    .await;
    match outcome {
        Ok((user, session)) => {
            let cookie = app::backend::session_cookie(&session, portal.secure_cookies);
            // A page of our own rather than a redirect: a SameSite=Strict cookie is not sent on a
            // redirect chain that started at the provider's site, but is on this page's navigation.
            let body = format!(
                "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Signed in</title>\
                 <meta http-equiv=\"refresh\" content=\"0;url=/\"></head><body><main>\
                 <p>Signed in as {}. <a href=\"/\">Continue to the portal</a>.</p></main></body></html>",
                html_escape(&user.name)
            );
            let done = browser_cookie("", portal.secure_cookies);
            (AppendHeaders([(header::SET_COOKIE, cookie), (header::SET_COOKIE, done)]), Html(body)).into_response()
        }
        Err(e) => sign_in_problem(e),
    }
}

/// A sign-in that failed in the browser flow: a readable page with the reason and a way back.
fn sign_in_problem(e: ServerError) -> Response {
    let status = e.status();
    if status.is_server_error() {
        tracing::warn!(error = %e, "single sign-on failed");
    }
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in failed</title></head>\
         <body><main><h1>Sign-in failed</h1><p role=\"alert\">{}</p><p><a href=\"/signin\">Back to sign-in</a></p></main></body></html>",
        html_escape(&e.to_string())
    );
    (status, Html(body)).into_response()
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
