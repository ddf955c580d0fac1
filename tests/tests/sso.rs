//! OpenID Connect sign-in against a real provider (oidc-provider-mock), over HTTP, as a browser
//! would go through it: portal → provider's authorization form → portal's callback.

use std::collections::BTreeSet;

use app::model::AuditAction;
use portal_tests::{backends, Backend, OidcMock, TestPortal};
use server::people::oidc::{parse_role_map, OidcConfig};
use server::people::{add_user, list_users, Role};

async fn portal_with_sso(backend: Backend, provider: &OidcMock) -> TestPortal {
    let issuer = provider.issuer.clone();
    TestPortal::start_configured(backend, None, move |addr, settings| {
        let config = OidcConfig {
            issuer,
            client_id: "concert-portal".into(),
            client_secret: Some("portal-secret".into()),
            redirect_url: format!("http://{addr}/auth/oidc/callback"),
            groups_claim: "cognito:groups".into(),
            role_map: parse_role_map("portal-approvers=approver,portal-leads=requester+viewer,portal-admins=admin")
                .expect("role map"),
            label: "Cognito".into(),
        };
        settings.oidc = Some(config);
    })
    .await
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

fn location(response: &reqwest::Response) -> String {
    response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

/// Starts a sign-in at the portal and submits the provider's form as `sub`; returns the callback
/// URL and the cookie binding the sign-in to this "browser".
async fn authorize_at_provider(portal: &TestPortal, sub: &str) -> (String, String) {
    let client = no_redirects();
    let start = client.get(portal.url("/auth/oidc/start")).send().await.expect("start");
    assert_eq!(start.status().as_u16(), 303, "start redirects to the provider");
    let binding = start
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
        .expect("the start binds the sign-in to the browser");
    assert!(binding.starts_with("portal_sso="), "{binding}");
    let authorize = location(&start);
    assert!(authorize.contains("code_challenge="), "PKCE: {authorize}");
    assert!(authorize.contains("nonce="), "nonce: {authorize}");
    let form = client.post(&authorize).form(&[("sub", sub)]).send().await.expect("authorize");
    assert_eq!(form.status().as_u16(), 302, "the provider sends the browser back");
    let callback = location(&form);
    assert!(callback.starts_with(&portal.url("/auth/oidc/callback")), "{callback}");
    (callback, binding)
}

/// Follows the callback in the browser holding `binding` (none: another browser); returns its
/// status, the session cookie it set, and the page text.
async fn finish(callback: &str, binding: Option<&str>) -> (u16, Option<String>, String) {
    let mut request = no_redirects().get(callback);
    if let Some(cookie) = binding {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.expect("callback");
    let status = response.status().as_u16();
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .map(str::to_owned);
    (status, cookie, response.text().await.unwrap_or_default())
}

/// A whole sign-in as `sub`, in one browser.
async fn sign_in_as(portal: &TestPortal, sub: &str) -> (u16, Option<String>, String) {
    let (callback, binding) = authorize_at_provider(portal, sub).await;
    finish(&callback, Some(&binding)).await
}

async fn roles_of(portal: &TestPortal, name: &str) -> Option<BTreeSet<Role>> {
    let users = list_users(&portal.portal.db).await.expect("users");
    users.into_iter().find(|u| u.name == name).map(|u| u.roles)
}

async fn audit_actions(portal: &TestPortal) -> Vec<(AuditAction, String)> {
    server::audit::page(&portal.portal.db, None, 100)
        .await
        .expect("audit")
        .into_iter()
        .map(|e| (e.action, e.details.get("method").and_then(|m| m.as_str()).unwrap_or_default().to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_through_the_provider_maps_groups_to_roles() {
    let provider = OidcMock::start();
    for backend in backends() {
        let portal = portal_with_sso(backend, &provider).await;
        provider
            .set_user("sub-carol", serde_json::json!({ "preferred_username": "carol", "cognito:groups": ["portal-approvers", "unrelated"] }))
            .await;

        let (status, cookie, page) = sign_in_as(&portal, "sub-carol").await;
        assert_eq!(status, 200, "{backend:?}: {page}");
        assert!(page.contains("Signed in as carol"), "{page}");
        let cookie = cookie.expect("a session cookie");
        assert!(cookie.starts_with("portal_session="), "{cookie}");
        assert_eq!(roles_of(&portal, "carol").await, Some(BTreeSet::from([Role::Approver])));

        // The session works like a password session: the approvals API answers for carol.
        let queue = portal
            .client
            .get(portal.url("/api/requests?status=pending"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("requests");
        assert_eq!(queue.status().as_u16(), 200, "{backend:?}");

        // The provider is the source of truth: changed groups change the roles at the next sign-in.
        provider
            .set_user(
                "sub-carol",
                serde_json::json!({ "preferred_username": "carol", "cognito:groups": ["portal-leads"] }),
            )
            .await;
        let (status, _, _) = sign_in_as(&portal, "sub-carol").await;
        assert_eq!(status, 200);
        assert_eq!(roles_of(&portal, "carol").await, Some(BTreeSet::from([Role::Requester, Role::Viewer])));
        let signins =
            audit_actions(&portal).await.into_iter().filter(|(a, m)| *a == AuditAction::SignIn && m == "oidc").count();
        assert_eq!(signins, 2, "{backend:?}: each sign-in audited");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_sign_ins_say_why_and_create_nothing() {
    let provider = OidcMock::start();
    for backend in backends() {
        let portal = portal_with_sso(backend, &provider).await;

        // No group that grants a role: 403, no user, a failed sign-in in the audit trail.
        provider
            .set_user("sub-dave", serde_json::json!({ "preferred_username": "dave", "cognito:groups": ["marketing"] }))
            .await;
        let (status, cookie, page) = sign_in_as(&portal, "sub-dave").await;
        assert_eq!(status, 403, "{backend:?}: {page}");
        assert!(cookie.is_none());
        assert!(page.contains("none of your groups (marketing) grants a role"), "{page}");
        assert_eq!(roles_of(&portal, "dave").await, None);
        assert!(audit_actions(&portal).await.contains(&(AuditAction::SignInFailed, "oidc".into())));

        // A provider identity never takes over a local account by name.
        let roles = BTreeSet::from([Role::Admin]);
        add_user(&portal.portal.db, "erin", &roles, Some("local-password"), false).await.expect("local user");
        provider
            .set_user(
                "sub-erin",
                serde_json::json!({ "preferred_username": "erin", "cognito:groups": ["portal-approvers"] }),
            )
            .await;
        let (status, cookie, page) = sign_in_as(&portal, "sub-erin").await;
        assert_eq!(status, 409, "{backend:?}: {page}");
        assert!(cookie.is_none());
        assert_eq!(roles_of(&portal, "erin").await, Some(roles.clone()), "the local account is untouched");

        // A callback replayed, or with a state the portal never issued, is refused.
        provider
            .set_user(
                "sub-frank",
                serde_json::json!({ "preferred_username": "frank", "cognito:groups": ["portal-admins"] }),
            )
            .await;
        let (callback, binding) = authorize_at_provider(&portal, "sub-frank").await;
        assert_eq!(finish(&callback, Some(&binding)).await.0, 200);
        let (status, cookie, page) = finish(&callback, Some(&binding)).await;
        assert_eq!((status, cookie), (401, None), "replayed: {page}");
        assert!(page.contains("already used"), "{page}");
        let forged = callback.replace("state=", "state=x");
        assert_eq!(finish(&forged, Some(&binding)).await.0, 401);

        // A callback URL opened in another browser (sent to a victim: login CSRF) signs nobody in,
        // with no binding cookie or with that browser's own.
        for other in [None, Some("portal_sso=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")] {
            let (callback, _) = authorize_at_provider(&portal, "sub-frank").await;
            let (status, cookie, page) = finish(&callback, other).await;
            assert_eq!((status, cookie), (401, None), "{backend:?} {other:?}: {page}");
            assert!(page.contains("started in another browser"), "{page}");
        }

        // The provider's own refusal is shown, not a 500.
        let denied = no_redirects()
            .get(portal.url("/auth/oidc/callback?error=access_denied&error_description=user%20said%20no"))
            .send()
            .await
            .expect("callback");
        assert_eq!(denied.status().as_u16(), 401);
        assert!(denied.text().await.unwrap_or_default().contains("access_denied (user said no)"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_configuration_single_sign_on_is_absent() {
    let portal = TestPortal::start().await;
    let response = no_redirects().get(portal.url("/auth/oidc/start")).send().await.expect("start");
    assert_eq!(response.status().as_u16(), 404);
    assert!(response.text().await.unwrap_or_default().contains("PORTAL_OIDC_ISSUER"));
}
