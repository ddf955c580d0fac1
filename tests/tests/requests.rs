//! Requests, approvals and the audit trail through the API, on SQLite and on PostgreSQL.

use std::collections::{BTreeMap, BTreeSet};

use portal_tests::{backends, Backend, TestPortal};
use serde_json::{json, Value};
use server::people::{add_user, Role};

struct People {
    tokens: BTreeMap<&'static str, String>,
}

impl People {
    fn token(&self, who: &str) -> &str {
        self.tokens.get(who).map(String::as_str).unwrap_or_default()
    }
}

/// lead (requester), alice and bob (approvers), root (admin), watcher (viewer), and
/// selfie, who is both requester and approver.
async fn people(portal: &TestPortal) -> People {
    let mut tokens = BTreeMap::new();
    for (name, roles) in [
        ("lead", vec![Role::Requester]),
        ("alice", vec![Role::Approver]),
        ("bob", vec![Role::Approver]),
        ("root", vec![Role::Admin]),
        ("watcher", vec![Role::Viewer]),
        ("selfie", vec![Role::Requester, Role::Approver]),
    ] {
        let roles: BTreeSet<Role> = roles.into_iter().collect();
        let (_, token) = add_user(&portal.portal.db, name, &roles, None, true).await.expect("user added");
        tokens.insert(name, token.expect("a token"));
    }
    People { tokens }
}

fn request_body(environment: &str, tier: &str) -> Value {
    json!({
        "environment": environment,
        "tier": tier,
        "region": "us-east-1",
        "role_arn": "arn:aws:iam::123456789012:role/portal-deploy",
        "justification": "Launch of the spring concert season",
    })
}

async fn call(portal: &TestPortal, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
    portal.call(method, path, token, body).await
}

async fn count(portal: &TestPortal, table: &str) -> i64 {
    let sql = match table {
        "deployment_requests" => "SELECT COUNT(*) AS n FROM deployment_requests",
        "approvals" => "SELECT COUNT(*) AS n FROM approvals",
        "rollouts" => "SELECT COUNT(*) AS n FROM rollouts",
        _ => "SELECT COUNT(*) AS n FROM audit_log",
    };
    let row = sqlx::query(sql).fetch_one(&portal.portal.db.pool).await.expect("count");
    sqlx::Row::try_get::<i64, _>(&row, "n").expect("n")
}

async fn create(portal: &TestPortal, who: &str, people: &People, environment: &str, tier: &str) -> i64 {
    portal.register(&[environment]).await;
    let (status, body) =
        call(portal, "POST", "/api/requests", Some(people.token(who)), Some(request_body(environment, tier))).await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().expect("id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn role_matrix() {
    for backend in backends() {
        let portal = TestPortal::start_on(backend).await;
        let people = people(&portal).await;
        let target = create(&portal, "lead", &people, "matrix-base", "development").await;

        // (role, may create, may approve/reject, may read requests, may read the raw audit trail)
        let matrix = [
            ("lead", true, false, true, false),
            ("alice", false, true, true, true),
            ("root", false, false, true, true),
            ("watcher", false, false, true, false),
        ];
        for (i, (who, may_create, may_decide, may_read, may_audit)) in matrix.into_iter().enumerate() {
            portal.register(&[&format!("matrix-{i}")]).await;
            let before = (
                count(&portal, "deployment_requests").await,
                count(&portal, "approvals").await,
                count(&portal, "audit_log").await,
            );
            let (s, body) = call(
                &portal,
                "POST",
                "/api/requests",
                Some(people.token(who)),
                Some(request_body(&format!("matrix-{i}"), "development")),
            )
            .await;
            assert_eq!(s, if may_create { 201 } else { 403 }, "{backend:?} {who} create: {body}");
            if !may_create {
                assert_eq!(body["error"]["code"], "forbidden");
                assert_eq!(count(&portal, "deployment_requests").await, before.0, "{who}: nothing written");
                assert_eq!(count(&portal, "audit_log").await, before.2, "{who}: nothing audited");
            }
            for action in ["reject", "approve"] {
                if may_decide && action == "reject" {
                    continue; // alice approves below; a rejection would close the request first
                }
                let (s, body) = call(
                    &portal,
                    "POST",
                    &format!("/api/requests/{target}/{action}"),
                    Some(people.token(who)),
                    Some(json!({"comment": "ok"})),
                )
                .await;
                assert_eq!(s, if may_decide { 200 } else { 403 }, "{backend:?} {who} {action}: {body}");
                if !may_decide {
                    assert_eq!(count(&portal, "approvals").await, before.1, "{who} {action}: nothing written");
                }
            }
            let (s, _) = call(&portal, "GET", &format!("/api/requests/{target}"), Some(people.token(who)), None).await;
            assert_eq!(s, if may_read { 200 } else { 403 }, "{backend:?} {who} read");
            let (s, _) = call(&portal, "GET", "/api/audit", Some(people.token(who)), None).await;
            assert_eq!(s, if may_audit { 200 } else { 403 }, "{backend:?} {who} audit");
        }
        // No token, or a wrong one: 401.
        let (s, body) = call(&portal, "POST", "/api/requests", None, Some(request_body("anon", "development"))).await;
        assert_eq!((s, body["error"]["code"].as_str()), (401, Some("unauthorized")));
        let (s, _) = call(&portal, "GET", "/api/audit", Some("cpp_not-a-token"), None).await;
        assert_eq!(s, 401);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn full_production_needs_two_distinct_approvers_and_nobody_approves_their_own() {
    for backend in backends() {
        let portal = TestPortal::start_on(backend).await;
        let people = people(&portal).await;

        let own = create(&portal, "selfie", &people, "own-env", "development").await;
        let (s, body) = call(
            &portal,
            "POST",
            &format!("/api/requests/{own}/approve"),
            Some(people.token("selfie")),
            Some(json!({"comment": "mine"})),
        )
        .await;
        assert_eq!(s, 403, "{backend:?}: self-approval: {body}");
        assert_eq!(count(&portal, "approvals").await, 0);

        let id = create(&portal, "lead", &people, "prod-env", "full-production").await;
        let path = format!("/api/requests/{id}/approve");
        let (s, body) =
            call(&portal, "POST", &path, Some(people.token("alice")), Some(json!({"comment": "looks right"}))).await;
        assert_eq!((s, body["status"].as_str()), (200, Some("pending")), "{backend:?}: {body}");
        assert_eq!(body["required_approvals"], 2);
        // A double click records one approval.
        let (s, body) =
            call(&portal, "POST", &path, Some(people.token("alice")), Some(json!({"comment": "looks right"}))).await;
        assert_eq!((s, body["status"].as_str()), (200, Some("pending")));
        assert_eq!(body["approvals"].as_array().map(Vec::len), Some(1));
        assert!(body["rollout_id"].is_null());

        let (s, body) =
            call(&portal, "POST", &path, Some(people.token("bob")), Some(json!({"comment": "agreed"}))).await;
        assert_eq!((s, body["status"].as_str()), (200, Some("approved")), "{backend:?}: {body}");
        assert!(body["rollout_id"].as_i64().is_some(), "a rollout is queued");
        let (_, got) = call(&portal, "GET", &format!("/api/requests/{id}"), Some(people.token("watcher")), None).await;
        assert_eq!(got["status"], "approved");
        assert_eq!(got["approvals"].as_array().map(Vec::len), Some(2));
        assert!(got["monthly_usd"].as_f64().unwrap_or_default() > 100.0, "the cost snapshot is stored");

        // Rejection closes a request; nobody can approve it afterwards.
        let other = create(&portal, "lead", &people, "other-env", "production-lite").await;
        let (s, body) = call(
            &portal,
            "POST",
            &format!("/api/requests/{other}/reject"),
            Some(people.token("bob")),
            Some(json!({"comment": "too early"})),
        )
        .await;
        assert_eq!((s, body["status"].as_str()), (200, Some("rejected")));
        let (s, _) = call(
            &portal,
            "POST",
            &format!("/api/requests/{other}/approve"),
            Some(people.token("alice")),
            Some(json!({})),
        )
        .await;
        assert_eq!(s, 409);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_approvals_approve_once_and_queue_one_rollout() {
    for backend in backends() {
        let portal = TestPortal::start_on(backend).await;
        let people = people(&portal).await;
        let id = create(&portal, "lead", &people, "race-env", "development").await;
        let mut calls = Vec::new();
        for i in 0..20 {
            let who = if i % 2 == 0 { "alice" } else { "bob" };
            let req = portal
                .client
                .post(portal.url(&format!("/api/requests/{id}/approve")))
                .bearer_auth(people.token(who).to_owned())
                .json(&json!({"comment": format!("call {i}")}));
            calls.push(tokio::spawn(async move { req.send().await.map(|r| r.status().as_u16()) }));
        }
        let mut statuses = Vec::new();
        for c in calls {
            statuses.push(c.await.expect("join").expect("response"));
        }
        assert!(statuses.iter().all(|s| *s == 200 || *s == 409), "{backend:?}: {statuses:?}");
        assert!(statuses.contains(&200));
        let (_, body) = call(&portal, "GET", &format!("/api/requests/{id}"), Some(people.token("lead")), None).await;
        assert_eq!(body["status"], "approved");
        assert_eq!(count(&portal, "rollouts").await, 1, "{backend:?}: exactly one rollout");
        let approved = sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'request.approved'")
            .fetch_one(&portal.portal.db.pool)
            .await
            .expect("count");
        assert_eq!(sqlx::Row::try_get::<i64, _>(&approved, "n").expect("n"), 1, "{backend:?}: approved once");
        assert!(server::audit::verify(&portal.portal.db).await.expect("verify").is_ok());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_request_bodies_are_4xx_and_write_nothing() {
    for backend in backends() {
        let portal = TestPortal::start_on(backend).await;
        let people = people(&portal).await;
        let token = people.token("lead").to_owned();
        portal.register(&["bad-env"]).await;
        let before = count(&portal, "deployment_requests").await;
        let with = |f: &dyn Fn(&mut Value)| {
            let mut b = request_body("bad-env", "development");
            f(&mut b);
            b
        };
        let cases: Vec<(Value, u16, Option<&str>)> = vec![
            (with(&|b| b["environment"] = json!("Bad_Name")), 422, Some("environment")),
            (with(&|b| b["tier"] = json!("gold")), 422, Some("tier")),
            (with(&|b| b["region"] = json!("us-east-9")), 422, Some("region")),
            (with(&|b| b["role_arn"] = json!("arn:aws:iam::42:role/x")), 422, Some("role_arn")),
            (with(&|b| b["justification"] = json!("why")), 422, Some("justification")),
            (with(&|b| b["options"] = json!(["teleporter"])), 422, Some("options")),
            (with(&|b| b["usage"] = json!({"cognito_mau": -1})), 422, Some("usage.cognito_mau")),
            (with(&|b| b["usage"] = json!({"alb_lcu": 2})), 422, Some("usage.alb_lcu")),
            (with(&|b| b["colour"] = json!("blue")), 422, None),
            (with(&|b| b["tier"] = json!(7)), 422, None),
        ];
        for (body, status, field) in cases {
            let (s, got) = call(&portal, "POST", "/api/requests", Some(&token), Some(body.clone())).await;
            assert_eq!(s, status, "{backend:?} {body}: {got}");
            assert!(!got["error"]["message"].as_str().unwrap_or_default().is_empty());
            if let Some(field) = field {
                assert_eq!(got["error"]["field"], field, "{body}");
            }
        }
        // A fresh client for bodies the server refuses before reading them whole: it closes
        // those connections, and a pooled client would try to reuse them.
        let once = reqwest::Client::builder().pool_max_idle_per_host(0).build().expect("client");
        let malformed = once
            .post(portal.url("/api/requests"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .expect("send");
        assert_eq!(malformed.status().as_u16(), 400);
        let huge = once
            .post(portal.url("/api/requests"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(format!("{{\"justification\": \"{}\"}}", "x".repeat(200_000)))
            .send()
            .await
            .expect("send");
        assert_eq!(huge.status().as_u16(), 413);
        assert_eq!(count(&portal, "deployment_requests").await, before, "{backend:?}: nothing written");

        // One pending request per environment.
        create(&portal, "lead", &people, "dup-env", "development").await;
        let (s, body) =
            call(&portal, "POST", "/api/requests", Some(&token), Some(request_body("dup-env", "development"))).await;
        assert_eq!((s, body["error"]["code"].as_str()), (409, Some("conflict")));
        let (s, _) = call(&portal, "GET", "/api/requests/999999", Some(&token), None).await;
        assert_eq!(s, 404);
    }
}

async fn tamper(portal: &TestPortal, backend: Backend, statement: &'static str) {
    let db = &portal.portal.db.pool;
    // Someone with direct database access first switches the append-only guard off.
    match backend {
        Backend::Sqlite => {
            sqlx::query("DROP TRIGGER IF EXISTS audit_log_no_update").execute(db).await.expect("drop trigger");
            sqlx::query("DROP TRIGGER IF EXISTS audit_log_no_delete").execute(db).await.expect("drop trigger");
        }
        Backend::Postgres => {
            sqlx::query("ALTER TABLE audit_log DISABLE TRIGGER USER").execute(db).await.expect("disable trigger");
        }
    }
    sqlx::query(statement).execute(db).await.expect("tamper");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn audit_verify_finds_edited_and_removed_entries() {
    for backend in backends() {
        for (statement, broken_id) in [
            ("UPDATE audit_log SET actor = 'mallory' WHERE id = 3", 3),
            ("DELETE FROM audit_log WHERE id = 4", 5),
            ("UPDATE audit_log SET at = at + 1 WHERE id = 8", 8),
        ] {
            let portal = TestPortal::start_on(backend).await;
            let people = people(&portal).await; // six audited user additions
            let id = create(&portal, "lead", &people, "audit-env", "development").await;
            call(&portal, "POST", &format!("/api/requests/{id}/approve"), Some(people.token("alice")), Some(json!({})))
                .await;
            let db = &portal.portal.db;
            let intact = server::audit::verify(db).await.expect("verify");
            assert_eq!(
                intact,
                Ok(11),
                "{backend:?}: 6 users, 1 environment, 1 request, 1 approval, 1 approved, 1 expiry set (Development's \
                 default lifetime)"
            );

            // Editing is refused by the database itself.
            assert!(sqlx::query("UPDATE audit_log SET actor = 'x' WHERE id = 1").execute(&db.pool).await.is_err());
            assert!(sqlx::query("DELETE FROM audit_log WHERE id = 1").execute(&db.pool).await.is_err());
            if backend == Backend::Postgres {
                assert!(sqlx::query("TRUNCATE audit_log").execute(&db.pool).await.is_err(), "TRUNCATE too");
            }

            tamper(&portal, backend, statement).await;
            let broken = server::audit::verify(db).await.expect("verify").expect_err("tampering is found");
            assert_eq!(broken.id, broken_id, "{backend:?} {statement}: {broken}");

            let command = server::cli::Command::Audit {
                command: server::cli::AuditCommand::Verify { database_url: portal.database.url.clone(), head: None },
            };
            let err = server::cli::run_database(&command).await.expect_err("portal audit verify fails");
            assert!(err.to_string().contains(&format!("audit entry {broken_id}")), "{err}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_past_their_time_expire_and_are_audited() {
    for backend in backends() {
        let portal = TestPortal::start_on(backend).await;
        let people = people(&portal).await;
        let id = create(&portal, "lead", &people, "late-env", "development").await;
        let policy = server::requests::ApprovalPolicy { expires_after_hours: -1, ..Default::default() };
        let requests = server::requests::Requests {
            db: &portal.portal.db,
            catalog: &portal.portal.catalog.catalog,
            digest: &portal.portal.digest,
            clock: portal.portal.clock.as_ref(),
            policy: &policy,
            notifier: server::notify::Notifier::new(false),
            rollout_wake: &portal.portal.rollout_wake,
        };
        // A request made under a policy whose requests are already due.
        portal.register(&["stale-env"]).await;
        let stale = requests
            .create(
                &server::people::User {
                    id: 1,
                    name: "lead".into(),
                    roles: [Role::Requester].into_iter().collect(),
                    disabled: false,
                },
                serde_json::from_value(request_body("stale-env", "development")).expect("body"),
            )
            .await
            .expect("created");
        assert_eq!(requests.expire_due().await.expect("sweep"), 1, "{backend:?}");
        assert_eq!(requests.expire_due().await.expect("sweep"), 0, "{backend:?}: only once");
        let (_, body) =
            call(&portal, "GET", &format!("/api/requests/{}", stale.id), Some(people.token("lead")), None).await;
        assert_eq!(body["status"], "expired");
        let (_, body) = call(&portal, "GET", &format!("/api/requests/{id}"), Some(people.token("lead")), None).await;
        assert_eq!(body["status"], "pending", "the fresh one is untouched");
        let (s, _) = call(
            &portal,
            "POST",
            &format!("/api/requests/{}/approve", stale.id),
            Some(people.token("alice")),
            Some(json!({})),
        )
        .await;
        assert_eq!(s, 409, "an expired request cannot be approved");
        assert!(server::audit::verify(&portal.portal.db).await.expect("verify").is_ok());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_filters_pages_and_exports_csv() {
    for backend in backends() {
        let portal = TestPortal::start_on(backend).await;
        let people = people(&portal).await;
        let mut ids = Vec::new();
        for i in 0..7 {
            let tier = if i % 2 == 0 { "development" } else { "production-lite" };
            ids.push(create(&portal, "lead", &people, &format!("hist-{i}"), tier).await);
        }
        let token = people.token("watcher");
        let (s, body) = call(&portal, "GET", "/api/requests?limit=3", Some(token), None).await;
        assert_eq!(s, 200, "{body}");
        let first: Vec<i64> =
            body["requests"].as_array().expect("rows").iter().filter_map(|r| r["id"].as_i64()).collect();
        assert_eq!(first, vec![ids[6], ids[5], ids[4]], "newest first");
        let before = body["next_before"].as_i64().expect("a next page");
        let (_, body) =
            call(&portal, "GET", &format!("/api/requests?limit=3&before={before}"), Some(token), None).await;
        let second: Vec<i64> =
            body["requests"].as_array().expect("rows").iter().filter_map(|r| r["id"].as_i64()).collect();
        assert_eq!(second, vec![ids[3], ids[2], ids[1]]);

        let (_, body) = call(&portal, "GET", "/api/requests?tier=production-lite", Some(token), None).await;
        assert_eq!(body["requests"].as_array().map(Vec::len), Some(3));
        let (_, body) =
            call(&portal, "GET", "/api/requests?environment=hist-4&status=pending&requester=lead", Some(token), None)
                .await;
        assert_eq!(body["requests"].as_array().map(Vec::len), Some(1));
        let (s, body) = call(&portal, "GET", "/api/requests?status=sleeping", Some(token), None).await;
        assert_eq!((s, body["error"]["field"].as_str()), (422, Some("status")));

        let csv = portal
            .client
            .get(portal.url("/api/requests.csv?tier=development"))
            .bearer_auth(token)
            .send()
            .await
            .expect("csv");
        assert_eq!(csv.status(), 200);
        let text = csv.text().await.expect("text");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "header and four development requests:\n{text}");
        assert!(lines[0].starts_with("id,kind,environment,tier"));
        assert!(lines[1].starts_with(&format!("{},deploy,hist-6,development", ids[6])));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_manage_users_and_roles() {
    for backend in backends() {
        let portal = TestPortal::start_on(backend).await;
        let people = people(&portal).await;
        for who in ["lead", "alice", "watcher"] {
            let (s, _) = call(&portal, "GET", "/api/users", Some(people.token(who)), None).await;
            assert_eq!(s, 403, "{backend:?} {who}");
            let (s, _) = call(
                &portal,
                "POST",
                "/api/users",
                Some(people.token(who)),
                Some(json!({"name": "x-user", "roles": ["viewer"]})),
            )
            .await;
            assert_eq!(s, 403, "{backend:?} {who}");
        }
        let root = people.token("root");
        let (s, body) = call(
            &portal,
            "POST",
            "/api/users",
            Some(root),
            Some(json!({"name": "carol", "roles": ["approver"], "token": true})),
        )
        .await;
        assert_eq!(s, 201, "{body}");
        let carol = body["token"].as_str().expect("token once").to_owned();
        let (s, body) =
            call(&portal, "POST", "/api/users", Some(root), Some(json!({"name": "dave", "roles": ["pilot"]}))).await;
        // The field is the body's own name for it.
        assert_eq!((s, body["error"]["field"].as_str()), (422, Some("roles")));

        let id = create(&portal, "lead", &people, "roles-env", "development").await;
        let req = client_put(&portal, "/api/users/carol/roles", root, json!({"roles": ["viewer"]})).await;
        assert_eq!(req, 200);
        // carol lost the approver role: her approval is now refused.
        let (s, _) = call(&portal, "POST", &format!("/api/requests/{id}/approve"), Some(&carol), Some(json!({}))).await;
        assert_eq!(s, 403);
        assert_eq!(
            client_put(&portal, "/api/users/root/roles", root, json!({"roles": ["viewer"]})).await,
            409,
            "no self-demotion"
        );
        assert_eq!(client_put(&portal, "/api/users/nobody/roles", root, json!({"roles": ["viewer"]})).await, 404);
        let (_, body) = call(&portal, "GET", "/api/users", Some(root), None).await;
        let carol_roles =
            body["users"].as_array().expect("users").iter().find(|u| u["name"] == "carol").map(|u| u["roles"].clone());
        assert_eq!(carol_roles, Some(json!(["viewer"])));
    }
}

async fn client_put(portal: &TestPortal, path: &str, token: &str, body: Value) -> u16 {
    portal.client.put(portal.url(path)).bearer_auth(token).json(&body).send().await.expect("put").status().as_u16()
}

async fn sign_in(portal: &TestPortal, name: &str, password: &str) -> (Option<String>, String) {
    portal.sign_in(name, password).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_sets_a_strict_cookie_and_failures_are_limited_and_audited() {
    let portal = TestPortal::start().await;
    let roles: BTreeSet<Role> = [Role::Viewer].into_iter().collect();
    add_user(&portal.portal.db, "vera", &roles, Some("vera-password-long"), false).await.expect("user");

    let (cookie, _) = sign_in(&portal, "vera", "vera-password-long").await;
    let cookie = cookie.expect("a session cookie");
    for flag in ["portal_session=", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http here: {cookie}");
    // The session works for the API too.
    let session = cookie.split(';').next().unwrap_or_default().to_owned();
    let res = portal.client.get(portal.url("/api/requests")).header("cookie", &session).send().await.expect("req");
    assert_eq!(res.status(), 200);

    for _ in 0..5 {
        let (cookie, body) = sign_in(&portal, "vera", "wrong-password").await;
        assert!(cookie.is_none() && body.contains("wrong user name or password"), "{body}");
    }
    // Locked for the window, even with the right password.
    let (cookie, body) = sign_in(&portal, "vera", "vera-password-long").await;
    assert!(cookie.is_none(), "no session while locked");
    assert!(body.contains("too many failed sign-ins"), "{body}");
    let failed = sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'signin.failed'")
        .fetch_one(&portal.portal.db.pool)
        .await
        .expect("count");
    assert_eq!(sqlx::Row::try_get::<i64, _>(&failed, "n").expect("n"), 5);

    // The lock is in the database: another portal process on it refuses vera too.
    let db = server::db::Database::connect(&portal.database.url).await.expect("database");
    let refused = server::people::sessions::sign_in(&db, "vera", "vera-password-long", None).await;
    assert!(matches!(refused, Err(server::ServerError::TooManyRequests(_))), "{refused:?}");
}

/// Waits until the exported head names entry `id`.
async fn head_reaches(path: &std::path::Path, id: i64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        if server::audit::head::read(path).expect("head readable").is_some_and(|h| h.id == id) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "the head never reached entry {id}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_exported_head_shows_removed_newest_entries_and_a_trail_begun_again() {
    for backend in backends() {
        for (tampering, expected) in [
            ("DELETE FROM audit_log WHERE id > 6", "the trail ends at entry 6: entries after 6 were removed"),
            ("DELETE FROM audit_log", "audit entry 8: is the exported head"),
        ] {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("audit-head.json");
            let head_file = path.clone();
            let portal = TestPortal::start_configured(backend, None, move |_, settings| {
                settings.audit_head = Some(head_file);
                settings.background.audit_head = true;
            })
            .await;
            let people = people(&portal).await; // six audited user additions
            create(&portal, "lead", &people, "head-env", "development").await; // registered, requested
            head_reaches(&path, 8).await;
            let db = &portal.portal.db;
            let exported = server::audit::head::read(&path).expect("read").expect("a head");
            assert_eq!(server::audit::head::reaches(db, &exported).await.expect("check"), Ok(()));

            tamper(&portal, backend, tampering).await;
            if tampering == "DELETE FROM audit_log" {
                // Begun again: a fresh chain, intact on its own.
                add_user(db, "newcomer", &[Role::Viewer].into_iter().collect(), None, false).await.expect("user");
            }
            assert!(
                server::audit::verify(db).await.expect("verify").is_ok(),
                "{backend:?}: the chain alone looks intact"
            );
            let broken = server::audit::head::reaches(db, &exported).await.expect("check").expect_err("found");
            assert_eq!(broken.id, 8);
            assert!(broken.to_string().contains(expected), "{backend:?} {tampering}: {broken}");
            // The exporter does not follow the database back: the evidence stays.
            tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
            assert_eq!(server::audit::head::read(&path).expect("read"), Some(exported.clone()), "{backend:?}");

            let output = std::process::Command::new(portal_tests::portal_binary())
                .args(["audit", "verify", "--head"])
                .arg(&path)
                .env("DATABASE_URL", &portal.database.url)
                .output()
                .expect("portal runs");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(!output.status.success() && stderr.contains("audit entry 8"), "{backend:?}: {stderr}");
        }
    }
}
