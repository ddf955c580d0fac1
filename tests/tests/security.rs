//! The trust boundary, over HTTP against the real server, on SQLite and on PostgreSQL: requests
//! another site forges are refused, access can be revoked (disabled users, revoked and expired
//! tokens, sessions ended by a role change), a demoted approver's approval stops counting, the
//! sign-in limit holds under a burst, and the raw audit trail is for admins and approvers.

use std::collections::BTreeSet;

use portal_tests::{backends, TestPortal};
use serde_json::{json, Value};
use server::people::{add_user, Role};

async fn user(portal: &TestPortal, name: &str, roles: &[Role], password: Option<&str>) -> String {
    let roles: BTreeSet<Role> = roles.iter().copied().collect();
    let (_, token) = add_user(&portal.portal.db, name, &roles, password, true).await.expect("user added");
    token.expect("a token")
}

/// Signs in through the pages' server function, from the portal's own origin; the session cookie.
async fn session(portal: &TestPortal, name: &str, password: &str) -> String {
    let (cookie, body) = portal.sign_in(name, password).await;
    cookie.and_then(|c| c.split(';').next().map(str::to_owned)).unwrap_or_else(|| panic!("no session: {body}"))
}

/// `GET path` with a session cookie: the status.
async fn get_with_cookie(portal: &TestPortal, path: &str, cookie: &str) -> u16 {
    portal.client.get(portal.url(path)).header("cookie", cookie).send().await.expect("get").status().as_u16()
}

async fn count(portal: &TestPortal, sql: &'static str) -> i64 {
    let row = sqlx::query(sql).fetch_one(&portal.portal.db.pool).await.expect("count");
    sqlx::Row::try_get::<i64, _>(&row, "n").expect("n")
}

fn request_body(environment: &str, tier: &str) -> Value {
    json!({
        "environment": environment, "tier": tier, "region": "us-east-1",
        "role_arn": "arn:aws:iam::123456789012:role/portal-deploy",
        "justification": "Security test of the trust boundary",
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_from_another_origin_are_refused() {
    for backend in backends() {
        let portal = TestPortal::start_on(backend).await;
        user(&portal, "root", &[Role::Admin], Some("root-password-long")).await;
        let cookie = session(&portal, "root", "root-password-long").await;
        let users_before = count(&portal, "SELECT COUNT(*) AS n FROM users").await;
        // Another port on the same host is the same *site*: SameSite does not stop it, Origin does.
        let evil = format!("http://127.0.0.1:{}", portal.addr.port() + 1);
        let forged_json = json!({ "name": "mallory", "roles": ["admin"], "password": "mallory-password-long" });
        // (path, Origin, Referer, content type, body)
        type Forged = (&'static str, Option<String>, Option<String>, &'static str, String);
        let attempts: Vec<Forged> = vec![
            ("/rpc/create_user", Some(evil.clone()), None, "text/plain", forged_json.to_string()),
            ("/rpc/create_user", Some(evil.clone()), None, "application/json", forged_json.to_string()),
            ("/rpc/create_user", None, None, "application/json", forged_json.to_string()),
            ("/rpc/create_user", Some("null".into()), None, "application/json", forged_json.to_string()),
            ("/rpc/create_user", None, Some(format!("{evil}/page")), "application/json", forged_json.to_string()),
            ("/rpc/sign_out", Some(evil.clone()), None, "application/x-www-form-urlencoded", String::new()),
            ("/api/users", Some(evil.clone()), None, "application/json", forged_json.to_string()),
            (
                "/api/requests",
                Some(evil.clone()),
                None,
                "text/plain",
                request_body("forged", "development").to_string(),
            ),
        ];
        for (path, origin, referer, content_type, body) in attempts {
            let mut request = portal
                .client
                .post(portal.url(path))
                .header("cookie", &cookie)
                .header("content-type", content_type)
                .body(body);
            if let Some(origin) = &origin {
                request = request.header("origin", origin);
            }
            if let Some(referer) = &referer {
                request = request.header("referer", referer);
            }
            let response = request.send().await.expect("post");
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            assert_eq!(status, 403, "{backend:?} {path} from {origin:?}/{referer:?}: {text}");
            assert!(
                text.contains("not from the portal's own pages")
                    || text.contains("names no Origin")
                    || text.contains("not a web origin"),
                "{text}"
            );
        }
        assert_eq!(
            count(&portal, "SELECT COUNT(*) AS n FROM users").await,
            users_before,
            "{backend:?}: nobody created"
        );
        // The session survived the forged sign-out.
        assert_eq!(get_with_cookie(&portal, "/api/requests", &cookie).await, 200);

        // The same calls from the portal's own pages work, and bearer tokens need no Origin.
        let own = portal
            .client
            .post(portal.url("/rpc/create_user"))
            .header("cookie", &cookie)
            .header("origin", portal.url(""))
            .json(&json!({ "name": "nina", "roles": ["viewer"], "password": "nina-password-long" }))
            .send()
            .await
            .expect("post");
        assert_eq!(own.status().as_u16(), 200, "{backend:?}: {}", own.text().await.unwrap_or_default());
        let token = user(&portal, "api-admin", &[Role::Admin], None).await;
        let (status, _) = portal
            .call(
                "POST",
                "/api/users",
                Some(&token),
                Some(json!({ "name": "otto", "roles": ["viewer"], "token": true })),
            )
            .await;
        assert_eq!(status, 201, "{backend:?}: bearer calls are not browser calls");
        assert_eq!(count(&portal, "SELECT COUNT(*) AS n FROM users").await, users_before + 3);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_user_is_locked_out_at_once_and_enabled_again() {
    for backend in backends() {
        let portal = TestPortal::start_on(backend).await;
        let admin = user(&portal, "root", &[Role::Admin], None).await;
        let token = user(&portal, "vic", &[Role::Requester], Some("vic-password-long")).await;
        let cookie = session(&portal, "vic", "vic-password-long").await;
        assert_eq!(get_with_cookie(&portal, "/api/requests", &cookie).await, 200);
        assert_eq!(portal.call("GET", "/api/requests", Some(&token), None).await.0, 200);

        let (status, body) = portal.call("POST", "/api/users/vic/disable", Some(&admin), None).await;
        assert_eq!((status, body["user"]["disabled"].as_bool()), (200, Some(true)), "{backend:?}: {body}");
        // The very next request: session and token refused; sign-in says why.
        assert_eq!(get_with_cookie(&portal, "/api/requests", &cookie).await, 401, "{backend:?}: session ended");
        let (status, body) = portal.call("GET", "/api/requests", Some(&token), None).await;
        assert_eq!(status, 401, "{backend:?}");
        assert!(body["error"]["message"].as_str().unwrap_or_default().contains("disabled"), "{body}");
        let (cookie, body) = portal.sign_in("vic", "vic-password-long").await;
        assert!(cookie.is_none() && body.contains("is disabled"), "{body}");
        // An admin cannot lock themselves out; a viewer cannot disable anyone.
        let (status, _) = portal.call("POST", "/api/users/root/disable", Some(&admin), None).await;
        assert_eq!(status, 409);
        let (status, _) = portal.call("POST", "/api/users/root/disable", Some(&token), None).await;
        assert_eq!(status, 401, "vic's token is dead");

        let (status, _) = portal.call("POST", "/api/users/vic/enable", Some(&admin), None).await;
        assert_eq!(status, 200);
        assert_eq!(
            portal.call("GET", "/api/requests", Some(&token), None).await.0,
            200,
            "{backend:?}: the token works again"
        );
        let actions =
            count(&portal, "SELECT COUNT(*) AS n FROM audit_log WHERE action IN ('user.disabled', 'user.enabled')")
                .await;
        assert_eq!(actions, 2, "{backend:?}: both audited");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_named_listed_revoked_and_expire() {
    for backend in backends() {
        let portal = TestPortal::start_on(backend).await;
        let admin = user(&portal, "root", &[Role::Admin], None).await;
        let first = user(&portal, "tess", &[Role::Viewer], None).await;

        let (status, body) = portal
            .call("POST", "/api/tokens", Some(&first), Some(json!({ "name": "ci pipeline", "expires_in_days": 7 })))
            .await;
        assert_eq!(status, 201, "{backend:?}: {body}");
        let second = body["token"].as_str().expect("token shown once").to_owned();
        let id = body["info"]["id"].as_i64().expect("id");
        assert!(second.starts_with(body["info"]["prefix"].as_str().unwrap_or("?")), "{body}");
        let (_, listed) = portal.call("GET", "/api/tokens", Some(&second), None).await;
        let tokens = listed["tokens"].as_array().cloned().unwrap_or_default();
        assert_eq!(tokens.len(), 2, "{listed}");
        assert!(tokens.iter().all(|t| t.get("token").is_none() && t["expires_at"].as_i64().is_some()), "{listed}");
        assert!(!listed.to_string().contains(&second), "a listing never shows a token");

        // Bad names and lifetimes are 422s naming the field.
        for (body, field) in [
            (json!({ "name": "" }), "name"),
            (json!({ "name": "x", "expires_in_days": 0 }), "expires_in_days"),
            (json!({ "name": "x", "expires_in_days": 10000 }), "expires_in_days"),
        ] {
            let (status, answer) = portal.call("POST", "/api/tokens", Some(&first), Some(body)).await;
            assert_eq!((status, answer["error"]["field"].as_str()), (422, Some(field)), "{answer}");
        }

        // Someone else's token cannot be revoked (nor seen); its owner or an admin can.
        let other = user(&portal, "uma", &[Role::Viewer], None).await;
        let (status, _) = portal.call("POST", &format!("/api/tokens/{id}/revoke"), Some(&other), None).await;
        assert_eq!(status, 404, "{backend:?}");
        let (status, body) = portal.call("POST", &format!("/api/tokens/{id}/revoke"), Some(&first), None).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = portal.call("GET", "/api/requests", Some(&second), None).await;
        assert_eq!(status, 401);
        assert!(body["error"]["message"].as_str().unwrap_or_default().contains("revoked"), "{body}");
        assert_eq!(portal.call("GET", "/api/tokens?all=true", Some(&first), None).await.0, 403);
        let (_, all) = portal.call("GET", "/api/tokens?all=true", Some(&admin), None).await;
        assert!(all["tokens"].as_array().is_some_and(|t| t.len() >= 4), "{all}");

        // A token past its expiry is refused with the reason.
        sqlx::query("UPDATE api_tokens SET expires_at = 1 WHERE user_id = (SELECT id FROM users WHERE name = 'tess')")
            .execute(&portal.portal.db.pool)
            .await
            .expect("expire");
        let (status, body) = portal.call("GET", "/api/requests", Some(&first), None).await;
        assert_eq!(status, 401, "{backend:?}");
        assert!(body["error"]["message"].as_str().unwrap_or_default().contains("expired"), "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_change_ends_sessions_and_a_demoted_approver_no_longer_counts() {
    for backend in backends() {
        let portal = TestPortal::start_on(backend).await;
        let admin = user(&portal, "root", &[Role::Admin], None).await;
        let lead = user(&portal, "lead", &[Role::Requester], None).await;
        let alice = user(&portal, "alice", &[Role::Approver], Some("alice-password-long")).await;
        let bob = user(&portal, "bob", &[Role::Approver], None).await;
        let cookie = session(&portal, "alice", "alice-password-long").await;

        // Full Production needs two approvals: alice gives one.
        portal.register(&["void-env"]).await;
        let (status, request) =
            portal.call("POST", "/api/requests", Some(&lead), Some(request_body("void-env", "full-production"))).await;
        assert_eq!(status, 201, "{request}");
        let id = request["id"].as_i64().expect("id");
        let (status, _) =
            portal.call("POST", &format!("/api/requests/{id}/approve"), Some(&alice), Some(json!({}))).await;
        assert_eq!(status, 200);

        // alice is demoted: her session ends, her approval of the pending request is void.
        let (status, _) =
            portal.call("PUT", "/api/users/alice/roles", Some(&admin), Some(json!({ "roles": ["viewer"] }))).await;
        assert_eq!(status, 200);
        assert_eq!(get_with_cookie(&portal, "/api/requests", &cookie).await, 401, "{backend:?}: session ended");
        let (_, record) = portal.call("GET", &format!("/api/requests/{id}"), Some(&lead), None).await;
        assert_eq!(record["approvals"][0]["void"], true, "{backend:?}: {record}");
        assert_eq!(record["status"], "pending");
        let voided =
            count(&portal, "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'request.approval_voided'").await;
        assert_eq!(voided, 1);

        // bob's approval alone is not enough: the void one does not count.
        let (_, after_bob) =
            portal.call("POST", &format!("/api/requests/{id}/approve"), Some(&bob), Some(json!({}))).await;
        assert_eq!(after_bob["status"], "pending", "{backend:?}: {after_bob}");
        // Promoted again, alice decides afresh and the request is approved.
        portal.call("PUT", "/api/users/alice/roles", Some(&admin), Some(json!({ "roles": ["approver"] }))).await;
        let (status, approved) =
            portal.call("POST", &format!("/api/requests/{id}/approve"), Some(&alice), Some(json!({}))).await;
        assert_eq!((status, approved["status"].as_str()), (200, Some("approved")), "{backend:?}: {approved}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_wrong_passwords_checks_at_most_the_limit() {
    for backend in backends() {
        let portal = TestPortal::start_on(backend).await;
        user(&portal, "wendy", &[Role::Viewer], Some("wendy-password-long")).await;
        let attempts = (0..40).map(|_| {
            let (client, url, origin) = (portal.client.clone(), portal.url("/rpc/sign_in"), portal.url(""));
            tokio::spawn(async move {
                let response = client
                    .post(url)
                    .header("origin", origin)
                    .form(&[("name", "wendy"), ("password", "not-her-password")])
                    .send()
                    .await
                    .expect("sign in");
                response.text().await.unwrap_or_default()
            })
        });
        let mut limited = 0;
        for attempt in attempts.collect::<Vec<_>>() {
            let text = attempt.await.expect("task");
            limited += usize::from(text.contains("too many failed sign-ins"));
        }
        // Each attempt that got past the limit had its password checked and left a failed sign-in.
        let checked = count(&portal, "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'signin.failed'").await;
        assert!(checked <= 5, "{backend:?}: {checked} passwords checked");
        assert_eq!(limited, 40 - checked as usize, "{backend:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_keeps_no_mistyped_secret_and_the_raw_trail_is_for_admins_and_approvers() {
    for backend in backends() {
        let portal = TestPortal::start_on(backend).await;
        let viewer = user(&portal, "walt", &[Role::Viewer], None).await;
        let approver = user(&portal, "ada", &[Role::Approver], None).await;
        // A password typed into the name field is not stored.
        let (_, body) = portal.sign_in("Hunter2-is-my-password", "whatever-it-is").await;
        assert!(body.contains("wrong user name or password"), "{body}");
        let kept = count(&portal, "SELECT COUNT(*) AS n FROM audit_log WHERE actor LIKE '%Hunter2%' OR subject LIKE '%Hunter2%' OR details LIKE '%Hunter2%'").await;
        assert_eq!(kept, 0, "{backend:?}");
        // A name longer than any account's is refused before anything is looked up or stored.
        let long = "x".repeat(10_000);
        let (cookie, body) = portal.sign_in(&long, "whatever-it-is").await;
        assert!(cookie.is_none() && body.contains("wrong user name"), "{body}");
        let stored = count(&portal, "SELECT COUNT(*) AS n FROM signin_failures WHERE LENGTH(key) > 200").await;
        assert_eq!(stored, 0);

        assert_eq!(portal.call("GET", "/api/audit", Some(&viewer), None).await.0, 403, "{backend:?}");
        assert_eq!(portal.call("GET", "/api/audit", Some(&approver), None).await.0, 200, "{backend:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_is_bounded_and_cannot_dodge_the_extra_approver() {
    // What Full Production costs at the default usage and with every usage figure at zero.
    let probe = TestPortal::start().await;
    let (_, tier) = probe.call("GET", "/api/tiers/full-production", None, None).await;
    let keys: Vec<String> =
        tier["usage"]["typical"].as_object().map(|u| u.keys().cloned().collect()).unwrap_or_default();
    assert!(keys.len() > 10, "{tier}");
    let zero_query: Vec<String> = keys.iter().map(|k| format!("usage.{k}=0")).collect();
    let (_, zero) =
        probe.call("GET", &format!("/api/tiers/full-production?{}", zero_query.join("&")), None, None).await;
    let (default_monthly, zero_monthly) = (
        tier["estimate"]["monthly_usd"].as_f64().unwrap_or(0.0),
        zero["estimate"]["monthly_usd"].as_f64().unwrap_or(0.0),
    );
    assert!(zero_monthly < default_monthly, "{zero_monthly} < {default_monthly}");
    // Not a number, negative or past the bound: 422 naming the key, on every way in.
    for value in ["NaN", "-1", "1e308", "inf"] {
        let (status, body) =
            probe.call("GET", &format!("/api/tiers/full-production?usage.cognito_mau={value}"), None, None).await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some("usage.cognito_mau")), "{value}: {body}");
    }

    for backend in backends() {
        // A policy whose extra-approver threshold lies between the two.
        let threshold = (default_monthly + zero_monthly) / 2.0;
        let portal = TestPortal::start_configured(backend, None, |_, settings| {
            settings.policy.extra_approval_over_monthly_usd = threshold;
        })
        .await;
        let lead = user(&portal, "lead", &[Role::Requester], None).await;
        portal.register(&["bounded-0", "bounded-1", "zero-traffic"]).await;
        for (i, value) in [1e308, -1.0].into_iter().enumerate() {
            let mut body = request_body(&format!("bounded-{i}"), "full-production");
            body["usage"] = json!({ "cognito_mau": value });
            let (status, answer) = portal.call("POST", "/api/requests", Some(&lead), Some(body)).await;
            assert_eq!((status, answer["error"]["field"].as_str()), (422, Some("usage.cognito_mau")), "{answer}");
        }
        assert_eq!(count(&portal, "SELECT COUNT(*) AS n FROM deployment_requests").await, 0, "nothing stored");

        let mut body = request_body("zero-traffic", "full-production");
        body["usage"] = keys.iter().map(|k| (k.clone(), json!(0))).collect::<serde_json::Map<_, _>>().into();
        let (status, zeroed) = portal.call("POST", "/api/requests", Some(&lead), Some(body)).await;
        assert_eq!(status, 201, "{zeroed}");
        assert!(zeroed["monthly_usd"].as_f64().unwrap_or(f64::MAX) < threshold, "{zeroed}");
        assert_eq!(
            zeroed["required_approvals"], 3,
            "{backend:?}: two for Full Production, one more above the threshold"
        );
    }
}

/// A receiver that redirects every delivery elsewhere, and counts what arrives elsewhere.
async fn redirecting_receiver() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let followed = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = followed.clone();
    let app = axum::Router::new()
        .route("/moved", axum::routing::post(|| async { axum::response::Redirect::temporary("/elsewhere") }))
        .route(
            "/elsewhere",
            axum::routing::post(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                async { axum::http::StatusCode::OK }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/moved"), followed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_failures_keep_no_url_and_redirects_are_not_followed() {
    let closed = portal_tests::free_port();
    let (moved, followed) = redirecting_receiver().await;
    for (url, expected) in
        [(format!("http://127.0.0.1:{closed}/services/T000/B000/SECRET-PART"), "error"), (moved, "HTTP 307")]
    {
        let hook = url.clone();
        let portal = TestPortal::start_configured(portal_tests::Backend::Sqlite, None, move |_, settings| {
            settings.webhook = Some(server::notify::Webhook { url: hook, secret: "sixteen-chars-or-more".into() });
            settings.background.webhooks = true;
        })
        .await;
        let admin = user(&portal, "root", &[Role::Admin], None).await;
        let lead = user(&portal, "lead", &[Role::Requester], None).await;
        portal.register(&["hooked"]).await;
        let (status, _) =
            portal.call("POST", "/api/requests", Some(&lead), Some(request_body("hooked", "development"))).await;
        assert_eq!(status, 201);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let delivery = loop {
            let (_, body) = portal.call("GET", "/api/webhooks/deliveries", Some(&admin), None).await;
            let first = body["deliveries"][0].clone();
            if first["attempts"].as_i64().unwrap_or(0) >= 1 {
                break first;
            }
            assert!(std::time::Instant::now() < deadline, "no delivery attempt: {body}");
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        };
        let error = delivery["last_error"].as_str().unwrap_or_default();
        assert!(error.contains(expected), "{url}: {delivery}");
        for part in ["SECRET-PART", "/services/", "/moved", "127.0.0.1"] {
            assert!(!error.contains(part), "the stored error names the URL: {error}");
        }
    }
    assert_eq!(followed.load(std::sync::atomic::Ordering::SeqCst), 0, "the redirect was not followed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_https_the_session_cookie_is_prefixed_and_secure() {
    let portal = TestPortal::start_configured(portal_tests::Backend::Sqlite, None, |_, settings| {
        settings.public_url = Some("https://portal.example.test".into());
    })
    .await;
    user(&portal, "hana", &[Role::Viewer], Some("hana-password-long")).await;
    let response = portal
        .client
        .post(portal.url("/rpc/sign_in"))
        .header("origin", "https://portal.example.test")
        .form(&[("name", "hana"), ("password", "hana-password-long")])
        .send()
        .await
        .expect("sign in");
    let cookie = response.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(cookie.starts_with("__Host-portal_session=") && cookie.contains("; Secure"), "{cookie}");
    let pair = cookie.split(';').next().unwrap_or_default().to_owned();
    assert_eq!(get_with_cookie(&portal, "/api/requests", &pair).await, 200);
    // The same id under the unprefixed name (as a neighbouring subdomain could set it) is not a session.
    let unprefixed = pair.replace("__Host-", "");
    assert_eq!(get_with_cookie(&portal, "/api/requests", &unprefixed).await, 401);
    // The public URL is the one origin state changes may come from.
    let (status, _) = portal
        .client
        .post(portal.url("/rpc/sign_in"))
        .header("origin", portal.url(""))
        .form(&[("name", "hana"), ("password", "hana-password-long")])
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .expect("sign in");
    assert_eq!(status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_approver_cancels_the_requester_needs_a_fresh_approval() {
    for backend in backends() {
        // No engine and no AWS: approved rollouts stay queued, so cancel and retry are all that happen.
        let portal = TestPortal::start_on(backend).await;
        let lead = user(&portal, "lead", &[Role::Requester], None).await;
        let alice = user(&portal, "alice", &[Role::Approver], None).await;
        let mut rollouts = Vec::new();
        for environment in ["stopped-by-alice", "stopped-by-lead"] {
            portal.register(&[environment]).await;
            let (_, request) =
                portal.call("POST", "/api/requests", Some(&lead), Some(request_body(environment, "development"))).await;
            let id = request["id"].as_i64().expect("id");
            let (_, approved) =
                portal.call("POST", &format!("/api/requests/{id}/approve"), Some(&alice), Some(json!({}))).await;
            rollouts.push(approved["rollout_id"].as_i64().expect("a rollout"));
        }
        let (by_alice, by_lead) = (rollouts[0], rollouts[1]);
        portal.call("POST", &format!("/api/rollouts/{by_alice}/cancel"), Some(&alice), None).await;
        portal.call("POST", &format!("/api/rollouts/{by_lead}/cancel"), Some(&lead), None).await;

        let (status, body) = portal.call("POST", &format!("/api/rollouts/{by_alice}/retry"), Some(&lead), None).await;
        assert_eq!(status, 409, "{backend:?}: {body}");
        assert!(body["error"]["message"].as_str().unwrap_or_default().contains("cancelled by alice"), "{body}");
        // Their own cancel they may undo; an approver may retry what an approver stopped.
        assert_eq!(portal.call("POST", &format!("/api/rollouts/{by_lead}/retry"), Some(&lead), None).await.0, 200);
        assert_eq!(portal.call("POST", &format!("/api/rollouts/{by_alice}/retry"), Some(&alice), None).await.0, 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_streams_are_capped_per_user_and_in_total() {
    let portal = TestPortal::start_configured(portal_tests::Backend::Sqlite, None, |_, settings| {
        settings.live_streams_per_user = 2;
        settings.live_streams_total = 3;
    })
    .await;
    let lead = user(&portal, "lead", &[Role::Requester], None).await;
    let alice = user(&portal, "alice", &[Role::Approver], None).await;
    portal.register(&["watched"]).await;
    let (_, request) =
        portal.call("POST", "/api/requests", Some(&lead), Some(request_body("watched", "development"))).await;
    let id = request["id"].as_i64().expect("id");
    let (_, approved) =
        portal.call("POST", &format!("/api/requests/{id}/approve"), Some(&alice), Some(json!({}))).await;
    let rollout = approved["rollout_id"].as_i64().expect("rollout");
    let path = format!("/api/rollouts/{rollout}/events");
    let open = |token: String| {
        let (client, url) = (portal.client.clone(), portal.url(&path));
        async move { client.get(url).bearer_auth(token).send().await.expect("stream") }
    };
    // No engine runs: the rollout stays queued and each stream stays open.
    let mut streams = vec![open(lead.clone()).await, open(lead.clone()).await];
    assert!(streams.iter().all(|s| s.status() == 200));
    let third = open(lead.clone()).await;
    assert_eq!(third.status().as_u16(), 429, "a third stream for one user");
    assert!(third.text().await.unwrap_or_default().contains("2 live streams open"));
    streams.push(open(alice.clone()).await);
    assert_eq!(streams[2].status().as_u16(), 200);
    let fourth = open(alice.clone()).await;
    assert_eq!(fourth.status().as_u16(), 429, "over the total");

    // The rollout ends: every stream says so and closes, and its slot is given back.
    portal.call("POST", &format!("/api/rollouts/{rollout}/cancel"), Some(&lead), None).await;
    for stream in streams {
        let text = tokio::time::timeout(std::time::Duration::from_secs(20), stream.text()).await.expect("ends");
        assert!(text.unwrap_or_default().contains("event: end"));
    }
    let again = open(lead).await;
    assert_eq!(again.status().as_u16(), 200, "slots come back when streams end");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_csv_export_streams_every_page() {
    for backend in backends() {
        let portal = TestPortal::start_on(backend).await;
        let viewer = user(&portal, "walt", &[Role::Viewer], None).await;
        // 1,200 requests: three pages of the export's 500.
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200) \
             INSERT INTO deployment_requests (environment, tier, region, account_id, role_arn, justification, options, \
             usage, monthly_cents, estimate, catalog_digest, required_approvals, requester_id, status, created_at, \
             expires_at) SELECT 'env-' || i, 'development', 'us-east-1', '123456789012', \
             'arn:aws:iam::123456789012:role/portal-deploy', 'bulk', '[]', '{}', 11111, '{}', 'x', 1, \
             (SELECT id FROM users WHERE name = 'walt'), 'rejected', 1700000000000 + i, 1800000000000 FROM n",
        )
        .execute(&portal.portal.db.pool)
        .await
        .expect("fill");
        let response =
            portal.client.get(portal.url("/api/requests.csv")).bearer_auth(&viewer).send().await.expect("csv");
        assert_eq!(response.status(), 200);
        let text = response.text().await.expect("text");
        let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 1201, "{backend:?}: header and every row");
        let ids: Vec<i64> = lines[1..].iter().filter_map(|l| l.split(',').next()?.parse().ok()).collect();
        assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first, each once");
        let (status, body) = portal.call("GET", "/api/requests.csv?status=sleeping", Some(&viewer), None).await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some("status")), "a bad filter is still a 422");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
    for trusted in [false, true] {
        let portal = TestPortal::start_configured(portal_tests::Backend::Sqlite, None, move |_, settings| {
            if trusted {
                settings.trusted_proxies = server::web::client::TrustedProxies::parse("127.0.0.1").expect("proxies");
            }
        })
        .await;
        user(&portal, "pia", &[Role::Viewer], Some("pia-password-long")).await;
        let response = portal
            .client
            .post(portal.url("/rpc/sign_in"))
            .header("origin", portal.url(""))
            .header("x-forwarded-for", "203.0.113.7")
            .form(&[("name", "pia"), ("password", "pia-password-long")])
            .send()
            .await
            .expect("sign in");
        assert!(response.status().is_success());
        let row = sqlx::query("SELECT details FROM audit_log WHERE action = 'signin'")
            .fetch_one(&portal.portal.db.pool)
            .await
            .expect("audited");
        let details: String = sqlx::Row::try_get(&row, "details").expect("details");
        let expected = if trusted { "203.0.113.7" } else { "127.0.0.1" };
        assert!(details.contains(expected), "trusted={trusted}: {details}");
    }
}
