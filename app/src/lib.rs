#![recursion_limit = "512"]
//! The portal's pages (Leptos, rendered on the server and hydrated in the
//! browser) and its server functions. The server functions' bodies call a
//! [`backend::Backend`] that the `server` crate provides through context.

pub mod admin;
pub mod format;
pub mod model;
pub mod pages;
pub mod rollouts;
pub mod workflow;

#[cfg(feature = "ssr")]
pub mod backend;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use crate::model::{
    HistoryPage, HistoryQuery, Refusal, RequestDetail, RequestForm, RolloutDetail, SessionUser, SettingsView,
    TierQuery, TierSummary, TierView, UserView,
};

/// The HTML document around the app, rendered by the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/portal.css"/>
        <Title text="Concert Platform deployment portal"/>
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="site-header">
                <a class="brand" href="/">"Concert Platform"</a>
                <span class="brand-sub">"Deployment portal"</span>
                <workflow::SiteNav/>
            </header>
            <main id="main">
                <Routes fallback=|| view! { <pages::NotFound/> }>
                    // Async: the server sends each page complete, so it reads without
                    // JavaScript and nothing moves when hydration finishes.
                    <Route path=path!("/") view=pages::CatalogPage ssr=SsrMode::Async/>
                    <Route path=path!("/tiers/:id") view=pages::TierPage ssr=SsrMode::Async/>
                    <Route path=path!("/signin") view=workflow::SignInPage ssr=SsrMode::Async/>
                    <Route path=path!("/requests") view=workflow::HistoryPageView ssr=SsrMode::Async/>
                    <Route path=path!("/approvals") view=workflow::ApprovalsPage ssr=SsrMode::Async/>
                    <Route path=path!("/requests/:id") view=workflow::RequestPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin") view=admin::AdminPage ssr=SsrMode::Async/>
                    <Route path=path!("/rollouts/:id") view=rollouts::RolloutPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings") view=rollouts::SettingsPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

#[cfg(feature = "ssr")]
fn backend() -> Result<backend::SharedBackend, ServerFnError> {
    use_context::<backend::SharedBackend>().ok_or_else(|| ServerFnError::new("the portal backend is not configured"))
}

// Server functions get fixed URLs under /rpc: the default ones hash the build
// path, so a browser bundle and a server built in different checkouts disagree.

/// The three tiers, side by side.
#[server(prefix = "/rpc", endpoint = "list_tiers")]
pub async fn list_tiers() -> Result<Vec<TierSummary>, ServerFnError> {
    backend()?.tiers().map_err(|e| ServerFnError::new(e.to_string()))
}

/// One tier evaluated for the given options and usage: cost, diagram, phases.
/// JSON in, since a query carries nested lists that form encoding drops.
#[server(prefix = "/rpc", endpoint = "tier_view", input = leptos::server_fn::codec::Json)]
pub async fn get_tier_view(query: TierQuery) -> Result<TierView, ServerFnError> {
    backend()?.tier(&query).map_err(|e| ServerFnError::new(e.to_string()))
}

#[cfg(feature = "ssr")]
mod request_context {
    use leptos::prelude::*;

    use crate::backend::{session_from_cookies, BackendError};
    use crate::model::Refusal;

    /// The session id the browser sent with this call.
    pub fn session() -> Option<String> {
        let parts = use_context::<http::request::Parts>()?;
        session_from_cookies(parts.headers.get(http::header::COOKIE).and_then(|v| v.to_str().ok()))
    }

    pub fn address() -> Option<std::net::IpAddr> {
        let parts = use_context::<http::request::Parts>()?;
        parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip())
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

/// Who is signed in, if anyone.
#[server(prefix = "/rpc", endpoint = "whoami")]
pub async fn whoami() -> Result<Option<SessionUser>, ServerFnError> {
    let session = request_context::session();
    backend()?.who(session.as_deref()).await.map_err(|e| ServerFnError::new(e.to_string()))
}

#[server(prefix = "/rpc", endpoint = "sign_in")]
pub async fn sign_in(name: String, password: String) -> Result<Result<SessionUser, Refusal>, ServerFnError> {
    let backend = backend()?;
    let result = backend.sign_in(name.trim(), &password, request_context::address()).await;
    let result = result.map(|(user, id)| {
        request_context::set_cookie(backend::session_cookie(&id, backend.secure_cookies()));
        user
    });
    request_context::split(result)
}

#[server(prefix = "/rpc", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), ServerFnError> {
    let backend = backend()?;
    let session = request_context::session();
    backend.sign_out(session.as_deref()).await.map_err(|e| ServerFnError::new(e.to_string()))?;
    request_context::set_cookie(backend::session_cookie("", backend.secure_cookies()));
    Ok(())
}

#[server(prefix = "/rpc", endpoint = "request_deployment", input = leptos::server_fn::codec::Json)]
pub async fn request_deployment(form: RequestForm) -> Result<Result<i64, Refusal>, ServerFnError> {
    let session = request_context::session();
    request_context::split(backend()?.create_request(session.as_deref(), form).await)
}

#[server(prefix = "/rpc", endpoint = "history", input = leptos::server_fn::codec::Json)]
pub async fn history(query: HistoryQuery) -> Result<Result<HistoryPage, Refusal>, ServerFnError> {
    let session = request_context::session();
    request_context::split(backend()?.history(session.as_deref(), query).await)
}

#[server(prefix = "/rpc", endpoint = "request_detail")]
pub async fn get_request_detail(id: i64) -> Result<Result<RequestDetail, Refusal>, ServerFnError> {
    let session = request_context::session();
    request_context::split(backend()?.request(session.as_deref(), id).await)
}

#[server(prefix = "/rpc", endpoint = "decide_request")]
pub async fn decide_request(
    id: i64,
    approve: bool,
    comment: String,
) -> Result<Result<RequestDetail, Refusal>, ServerFnError> {
    let session = request_context::session();
    request_context::split(backend()?.decide(session.as_deref(), id, approve, comment).await)
}

#[server(prefix = "/rpc", endpoint = "list_users")]
pub async fn list_users() -> Result<Result<Vec<UserView>, Refusal>, ServerFnError> {
    let session = request_context::session();
    request_context::split(backend()?.users(session.as_deref()).await)
}

#[server(prefix = "/rpc", endpoint = "save_roles", input = leptos::server_fn::codec::Json)]
pub async fn save_roles(name: String, roles: Vec<String>) -> Result<Result<UserView, Refusal>, ServerFnError> {
    let session = request_context::session();
    request_context::split(backend()?.set_roles(session.as_deref(), name, roles).await)
}

#[server(prefix = "/rpc", endpoint = "create_user", input = leptos::server_fn::codec::Json)]
pub async fn create_user(
    name: String,
    roles: Vec<String>,
    password: String,
) -> Result<Result<UserView, Refusal>, ServerFnError> {
    let session = request_context::session();
    request_context::split(backend()?.add_user(session.as_deref(), name, roles, password).await)
}

#[server(prefix = "/rpc", endpoint = "get_rollout", output = leptos::server_fn::codec::Json)]
pub async fn get_rollout(id: i64) -> Result<Result<RolloutDetail, Refusal>, ServerFnError> {
    let session = request_context::session();
    request_context::split(backend()?.rollout(session.as_deref(), id).await)
}

/// Retries (`retry: true`) or cancels a rollout.
#[server(prefix = "/rpc", endpoint = "steer_rollout", output = leptos::server_fn::codec::Json)]
pub async fn steer_rollout(id: i64, retry: bool) -> Result<Result<RolloutDetail, Refusal>, ServerFnError> {
    let session = request_context::session();
    request_context::split(backend()?.steer_rollout(session.as_deref(), id, retry).await)
}

/// Requests the teardown of an environment the portal deployed; answers with the request's id.
#[server(prefix = "/rpc", endpoint = "request_teardown")]
pub async fn request_teardown(
    environment: String,
    region: String,
    role_arn: String,
    justification: String,
) -> Result<Result<i64, Refusal>, ServerFnError> {
    let session = request_context::session();
    request_context::split(
        backend()?.request_teardown(session.as_deref(), environment, region, role_arn, justification).await,
    )
}

#[server(prefix = "/rpc", endpoint = "get_settings", output = leptos::server_fn::codec::Json)]
pub async fn get_settings() -> Result<Result<SettingsView, Refusal>, ServerFnError> {
    let session = request_context::session();
    request_context::split(backend()?.settings(session.as_deref()).await)
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
