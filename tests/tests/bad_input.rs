//! A corpus of bad input over the JSON API, its query strings and the pages' server functions:
//! wrong types, huge, empty and odd Unicode strings, unknown fields, wrong content types,
//! malformed JSON, missing or wrong credentials, ids that are not there or not yours. Every case
//! must be refused with a 4xx (never a 5xx), as a JSON error naming the field where there is one,
//! and nothing may be stored by a refused call. The command line gets its own corpus: a refusal
//! exits non-zero with an error naming what was wrong, and stores nothing.

use std::collections::BTreeSet;

use portal_tests::{backends, portal_binary, Backend, TestDatabase, TestPortal};
use serde_json::{json, Value};
use server::people::{add_user, Role};

/// One bad call and what must come back.
struct Case {
    method: &'static str,
    path: String,
    token: Option<String>,
    content_type: &'static str,
    body: String,
    /// The field the refusal must name, when it is about one.
    field: Option<String>,
}

fn valid_request() -> Value {
    json!({
        "environment": "corpus-env", "tier": "development", "region": "us-east-1",
        "role_arn": "arn:aws:iam::123456789012:role/portal-deploy",
        "justification": "A request the corpus breaks one field at a time",
        "options": ["sqs"], "usage": { "cognito_mau": 100 },
    })
}

/// Values of the wrong shape or content for a JSON field.
fn bad_values() -> Vec<Value> {
    vec![
        json!(42),
        json!(true),
        json!(null),
        json!([]),
        json!({}),
        json!(""),
        json!("x".repeat(5_000)),
        json!("🎸🎤".repeat(50)),
        json!("\u{202e}gnp.exe"),
        json!("a\u{0000}b"),
    ]
}

/// Which (field, value) pairs an endpoint rightly accepts, so they are not in its corpus.
type Accepts = dyn Fn(&str, &Value) -> bool;

/// Every field of a valid body replaced by each bad value (but those the field rightly accepts);
/// every required field removed; one unknown field.
fn field_cases(
    method: &'static str,
    path: &str,
    token: &str,
    base: &Value,
    required: &[&str],
    accepts: &Accepts,
    names_field: bool,
) -> Vec<Case> {
    let json_case = |body: Value, field: Option<String>| Case {
        method,
        path: path.to_owned(),
        token: Some(token.to_owned()),
        content_type: "application/json",
        body: body.to_string(),
        field,
    };
    let mut cases = Vec::new();
    let fields: Vec<String> = base.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    for field in &fields {
        for value in bad_values().into_iter().filter(|v| !accepts(field, v)) {
            let mut body = base.clone();
            body[field.as_str()] = value;
            cases.push(json_case(body, names_field.then(|| field.clone())));
        }
    }
    for field in required {
        let mut body = base.clone();
        if let Some(o) = body.as_object_mut() {
            o.remove(*field);
        }
        cases.push(json_case(body, None));
    }
    let mut body = base.clone();
    body["is_admin"] = json!(true);
    cases.push(json_case(body, None));
    cases
}

/// Bodies that are not the JSON asked for at all, and calls without a valid credential.
fn envelope_cases(method: &'static str, path: &str, token: &str, base: &Value) -> Vec<Case> {
    let valid = base.to_string();
    let mut cases: Vec<Case> = [
        ("application/json", "{not json".to_owned()),
        ("application/json", String::new()),
        ("application/json", "[]".to_owned()),
        ("application/json", "\"a string\"".to_owned()),
        ("application/json", format!("{valid}{valid}")),
        ("application/json", format!("{{\"justification\": \"{}\"}}", "x".repeat(100_000))),
        ("text/plain", valid.clone()),
        ("application/x-www-form-urlencoded", "environment=x&tier=development".to_owned()),
        ("application/xml", "<request/>".to_owned()),
    ]
    .into_iter()
    .map(|(content_type, body)| Case {
        method,
        path: path.to_owned(),
        token: Some(token.to_owned()),
        content_type,
        body,
        field: None,
    })
    .collect();
    for token in [None, Some("cpp_not-a-token".to_owned()), Some(String::new())] {
        cases.push(Case {
            method,
            path: path.to_owned(),
            token,
            content_type: "application/json",
            body: valid.clone(),
            field: None,
        });
    }
    cases
}

fn get(path: impl Into<String>, token: &str, field: Option<&str>) -> Case {
    Case {
        method: "GET",
        path: path.into(),
        token: Some(token.to_owned()),
        content_type: "application/json",
        body: String::new(),
        field: field.map(str::to_owned),
    }
}

async fn counts(portal: &TestPortal) -> Vec<i64> {
    let mut out = Vec::new();
    for table in [
        "deployment_requests",
        "approvals",
        "users",
        "api_tokens",
        "rollouts",
        "audit_log",
        "user_roles",
        "environments",
        "environment_expiry",
        "drift_checks",
    ] {
        let sql = format!("SELECT COUNT(*) AS n FROM {table}");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_one(&portal.portal.db.pool).await.expect("count");
        out.push(sqlx::Row::try_get::<i64, _>(&row, "n").expect("n"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_a_4xx_naming_the_field_and_stores_nothing() {
    for backend in backends() {
        let portal = TestPortal::start_on(backend).await;
        let mut tokens = std::collections::BTreeMap::new();
        for (name, role) in [("lead", Role::Requester), ("alice", Role::Approver), ("root", Role::Admin)] {
            let roles: BTreeSet<Role> = [role].into_iter().collect();
            let (_, token) = add_user(&portal.portal.db, name, &roles, None, true).await.expect("user");
            tokens.insert(name, token.expect("token"));
        }
        let (lead, alice, root) = (tokens["lead"].clone(), tokens["alice"].clone(), tokens["root"].clone());
        portal.register(&["corpus-env", "corpus-other"]).await;
        // One pending request to decide on, made before the corpus runs.
        let (status, request) = portal.call("POST", "/api/requests", Some(&lead), Some(valid_request())).await;
        assert_eq!(status, 201, "{request}");
        let id = request["id"].as_i64().expect("id");

        let mut cases = Vec::new();
        let new_request = {
            let mut r = valid_request();
            r["environment"] = json!("corpus-other");
            r
        };
        let request_fields = ["environment", "tier", "justification"];
        // A short enough justification in emoji is a justification; no options or usage means the
        // defaults; no region or role means the environment's.
        let request_accepts = |field: &str, value: &Value| match field {
            "region" | "role_arn" => value.is_null(),
            "justification" => value.as_str().is_some_and(|s| (10..=2000).contains(&s.chars().count())),
            "options" => value.is_null() || value.as_array().is_some_and(Vec::is_empty),
            "usage" => value.is_null() || value.as_object().is_some_and(|o| o.is_empty()),
            _ => false,
        };
        cases.extend(field_cases(
            "POST",
            "/api/requests",
            &lead,
            &new_request,
            &request_fields,
            &request_accepts,
            true,
        ));
        cases.extend(envelope_cases("POST", "/api/requests", &lead, &new_request));
        let teardown = json!({ "environment": "corpus-env", "region": "us-east-1", "role_arn": "arn:aws:iam::123456789012:role/portal-deploy", "justification": "Nothing was ever deployed here" });
        // Nothing was deployed: every teardown here is refused, whatever its justification.
        cases.extend(field_cases(
            "POST",
            "/api/teardowns",
            &lead,
            &teardown,
            &["environment", "justification"],
            &|field, value| matches!(field, "region" | "role_arn") && value.is_null(),
            false,
        ));
        // The registry: a new environment, field by field (an empty list of principals is fine),
        // and a change of a registered one (leaving a field out, or null, keeps it).
        let new_environment = json!({
            "name": "corpus-new", "account_id": "123456789012", "region": "eu-west-1",
            "role_arn": "arn:aws:iam::123456789012:role/corpus", "tiers": ["development"],
            "requesters": ["lead"], "approvers": ["group:corpus-approvers"], "domain_name": "corpus.example.com",
        });
        // No domain (left out, null or empty) is a valid choice: no certificate, no HTTPS.
        let environment_accepts = |field: &str, value: &Value| {
            (matches!(field, "requesters" | "approvers") && value.as_array().is_some_and(Vec::is_empty))
                || (field == "domain_name" && (value.is_null() || value == &json!("")))
        };
        cases.extend(field_cases(
            "POST",
            "/api/environments",
            &root,
            &new_environment,
            &["name", "account_id", "region", "role_arn", "tiers"],
            &environment_accepts,
            true,
        ));
        cases.extend(envelope_cases("POST", "/api/environments", &root, &new_environment));
        let change = json!({
            "account_id": "123456789012", "region": "us-east-1", "role_arn": "arn:aws:iam::123456789012:role/portal-deploy",
            "tiers": ["development"], "requesters": ["lead"], "approvers": ["alice"], "rotate_external_id": false,
            "domain_name": "corpus.example.com",
        });
        let change_accepts = move |field: &str, value: &Value| {
            value.is_null()
                || environment_accepts(field, value)
                || (field == "rotate_external_id" && value == &json!(true))
        };
        cases.extend(field_cases("PUT", "/api/environments/corpus-env", &root, &change, &[], &change_accepts, true));
        for (path, token, body) in [
            ("/api/environments/Bad_Name", &root, json!({ "tiers": ["development"] })),
            ("/api/environments/not-registered", &root, json!({ "tiers": ["development"] })),
            ("/api/environments/corpus-env", &lead, json!({ "tiers": ["development"] })),
            ("/api/environments", &lead, new_environment.clone()),
            ("/api/environments", &alice, new_environment.clone()),
        ] {
            cases.push(Case {
                method: if path == "/api/environments" { "POST" } else { "PUT" },
                path: path.into(),
                token: Some(token.clone()),
                content_type: "application/json",
                body: body.to_string(),
                field: None,
            });
        }
        // A body pointing the request elsewhere than its environment: refused, naming the field.
        for (field, value) in [("region", "eu-west-1"), ("role_arn", "arn:aws:iam::210987654321:role/portal-deploy")] {
            let mut body = new_request.clone();
            body[field] = json!(value);
            cases.push(Case {
                method: "POST",
                path: "/api/requests".into(),
                token: Some(lead.clone()),
                content_type: "application/json",
                body: body.to_string(),
                field: Some(field.into()),
            });
        }
        let decision = json!({ "comment": "fine" });
        cases.extend(envelope_cases("POST", &format!("/api/requests/{id}/reject"), &alice, &decision));
        let new_user = json!({ "name": "corpus-user", "roles": ["viewer"], "password": "corpus-password-long" });
        // A long password is a good password.
        let long_password =
            |field: &str, value: &Value| field == "password" && value.as_str().is_some_and(|s| s.chars().count() >= 12);
        cases.extend(field_cases("POST", "/api/users", &root, &new_user, &["name", "roles"], &long_password, true));
        cases.extend(envelope_cases("POST", "/api/users", &root, &new_user));
        cases.extend(field_cases(
            "PUT",
            "/api/users/lead/roles",
            &root,
            &json!({ "roles": ["requester", "viewer"] }),
            &["roles"],
            &|_, _| false,
            true,
        ));
        // A token's name is any printable text up to 64 characters; no lifetime means the default; 42 days is one.
        let token_accepts = |field: &str, value: &Value| match field {
            "name" => value.as_str().is_some_and(|s| {
                let n = s.chars().count();
                (1..=64).contains(&n) && !s.chars().any(char::is_control)
            }),
            "expires_in_days" => value.is_null() || value.as_i64().is_some_and(|d| (1..=366).contains(&d)),
            _ => false,
        };
        cases.extend(field_cases(
            "POST",
            "/api/tokens",
            &lead,
            &json!({ "name": "ci", "expires_in_days": 30 }),
            &["name"],
            &token_accepts,
            true,
        ));
        cases.extend(field_cases(
            "PUT",
            "/api/users/lead/password",
            &root,
            &json!({ "password": "a-new-long-password" }),
            &["password"],
            &long_password,
            true,
        ));

        // Day two: an environment's policy, field by field (a policy that cannot work is refused
        // naming its field: a time zone nobody has, windows that never open, a lifetime's default
        // over its maximum); a lifetime beyond the maximum; what needs a running environment asked
        // of one that runs nothing.
        for (lifecycle, field) in [
            (json!({ "lifetimes": { "gold": { "max": "1d" } } }), "lifecycle.lifetimes.gold"),
            (json!({ "lifetimes": { "development": { "max": "forever" } } }), "lifecycle.lifetimes.development.max"),
            (
                json!({ "lifetimes": { "development": { "default": "40d", "max": "30d" } } }),
                "lifecycle.lifetimes.development.default",
            ),
            (json!({ "expiry_reminders": ["2h", "0m"] }), "lifecycle.expiry_reminders[1]"),
            (json!({ "expiry_reminders": ["1h", "2h", "3h", "4h", "5h", "6h"] }), "lifecycle.expiry_reminders"),
            (json!({ "extension_approvals": 9 }), "lifecycle.extension_approvals"),
            (json!({ "drift_check_hours": 100000 }), "lifecycle.drift_check_hours"),
            (
                json!({ "schedule": { "time_zone": "Moon/Tranquility", "days": ["mon"], "from": "08:00", "until": "19:00" } }),
                "lifecycle.schedule.time_zone",
            ),
            (
                json!({ "schedule": { "time_zone": "UTC", "days": ["someday"], "from": "08:00", "until": "19:00" } }),
                "lifecycle.schedule.days[0]",
            ),
            (
                json!({ "schedule": { "time_zone": "UTC", "days": ["mon"], "from": "8 am", "until": "19:00" } }),
                "lifecycle.schedule.from",
            ),
            (json!({ "change_windows": { "time_zone": "UTC", "windows": [] } }), "lifecycle.change_windows.windows"),
            (
                json!({ "change_windows": { "time_zone": "UTC", "windows": [{ "days": ["tue"], "from": "09:00", "until": "16:00" }],
                "freezes": [{ "from": "1900-01-01", "until": "2999-12-31" }] } }),
                "lifecycle.change_windows",
            ),
            (
                json!({ "change_windows": { "time_zone": "UTC", "windows": [{ "days": ["tue"], "from": "09:00", "until": "16:00" }],
                "freezes": [{ "from": "31/12/2026", "until": "2027-01-02" }] } }),
                "lifecycle.change_windows.freezes[0].from",
            ),
        ] {
            cases.push(Case {
                method: "PUT",
                path: "/api/environments/corpus-env".into(),
                token: Some(root.clone()),
                content_type: "application/json",
                body: json!({ "lifecycle": lifecycle }).to_string(),
                field: Some(field.into()),
            });
        }
        for (lifetime, field) in [
            (json!("31d"), "lifetime"),
            (json!("soon"), "lifetime"),
            (json!("-1h"), "lifetime"),
            (json!(3), "lifetime"),
        ] {
            let mut body = new_request.clone();
            body["lifetime"] = lifetime;
            cases.push(Case {
                method: "POST",
                path: "/api/requests".into(),
                token: Some(lead.clone()),
                content_type: "application/json",
                body: body.to_string(),
                field: Some(field.into()),
            });
        }
        let justification = "The corpus asks what needs a running environment";
        for (path, body, field) in [
            (
                "/api/environments/corpus-env/extend",
                json!({ "extend_by": "1d", "justification": justification }),
                Some("environment"),
            ),
            (
                "/api/environments/corpus-env/extend",
                json!({ "extend_by": 7, "justification": justification }),
                Some("extend_by"),
            ),
            ("/api/environments/corpus-env/extend", json!({ "justification": justification }), None),
            ("/api/environments/corpus-env/upgrade", json!({ "justification": justification }), Some("environment")),
            ("/api/environments/corpus-env/repair", json!({ "justification": justification }), Some("environment")),
            ("/api/environments/corpus-env/repair", json!({ "justification": "short" }), Some("justification")),
            (
                "/api/environments/not-registered/upgrade",
                json!({ "justification": justification }),
                Some("environment"),
            ),
            ("/api/environments/corpus-env/drift", json!({}), Some("environment")),
            ("/api/environments/not-registered/drift", json!({}), None),
            ("/api/rollouts/999999/override", json!({ "reason": "An emergency that is not there" }), None),
            ("/api/rollouts/abc/override", json!({ "reason": "An emergency that is not there" }), None),
        ] {
            cases.push(Case {
                method: "POST",
                path: path.into(),
                token: Some(if path.ends_with("override") { root.clone() } else { lead.clone() }),
                content_type: "application/json",
                body: body.to_string(),
                field: field.map(str::to_owned),
            });
        }
        cases.extend(envelope_cases(
            "POST",
            "/api/environments/corpus-env/extend",
            &lead,
            &json!({ "extend_by": "1d", "justification": justification }),
        ));
        for path in ["/api/environments/not-registered/status", "/api/environments/corpus-env/drift"] {
            cases.push(get(path, &root, None));
        }

        // Query strings and path ids, each with the field it must name when there is one.
        for (path, field) in [
            ("/api/requests?status=sleeping", Some("status")),
            ("/api/requests?tier=gold", Some("tier")),
            ("/api/requests?limit=many", None),
            ("/api/requests?before=yesterday", None),
            ("/api/requests?sort=id", None),
            ("/api/requests.csv?status=%F0%9F%8E%B8", Some("status")),
            ("/api/tiers/development?usage.cognito_mau=lots", Some("usage.cognito_mau")),
            ("/api/tiers/development?usage.cognito_mau=NaN", Some("usage.cognito_mau")),
            ("/api/tiers/development?usage.cognito_mau=-1", Some("usage.cognito_mau")),
            ("/api/tiers/development?usage.cognito_mau=1e400", Some("usage.cognito_mau")),
            ("/api/tiers/development?usage.no_such_key=1", Some("usage.no_such_key")),
            ("/api/tiers/development?free_tier=maybe", Some("free_tier")),
            ("/api/tiers/development?options=teleporter", Some("options")),
            ("/api/tiers/development?colour=blue", Some("colour")),
            ("/api/tiers/development?domain=no_such", Some("domain_name")),
            ("/api/tiers/development?domain=Concerts.Example.com", Some("domain_name")),
            ("/api/tiers/full-production?domain=concerts.example.c0m", Some("domain_name")),
            ("/api/tiers/gold", None),
            ("/api/tiers/%00", None),
            ("/api/tiers/development/diagram.svg?options=teleporter", Some("options")),
            ("/api/requests/999999", None),
            ("/api/requests/-1", None),
            ("/api/requests/abc", None),
            ("/api/requests/99999999999999999999999", None),
            ("/api/rollouts/999999", None),
            ("/api/rollouts/abc/events", None),
            ("/api/audit?limit=x", None),
            ("/api/audit?before=x", None),
            ("/api/tokens?all=yes", None),
        ] {
            cases.push(get(path, &root, field));
        }
        for path in [
            "/api/tokens/999999/revoke",
            "/api/tokens/abc/revoke",
            "/api/rollouts/999999/retry",
            "/api/rollouts/x/cancel",
            "/api/requests/999999/approve",
            "/api/users/nobody/disable",
        ] {
            cases.push(Case {
                method: "POST",
                path: path.into(),
                token: Some(root.clone()),
                content_type: "application/json",
                body: "{}".into(),
                field: None,
            });
        }

        // The pages' server functions, with a signed-in admin's cookie from the portal's own origin.
        let roles: BTreeSet<Role> = [Role::Requester, Role::Admin].into_iter().collect();
        add_user(&portal.portal.db, "rpc-user", &roles, Some("rpc-user-password"), false).await.expect("user");
        let (cookie, _) = portal.sign_in("rpc-user", "rpc-user-password").await;
        let cookie = cookie.and_then(|c| c.split(';').next().map(str::to_owned)).expect("session");
        let rpc: Vec<(&str, &str, String)> = vec![
            ("request_deployment", "application/json", "{}".into()),
            ("request_deployment", "application/json", "{\"form\": 42}".into()),
            ("request_deployment", "application/json", "{not json".into()),
            ("request_deployment", "text/plain", valid_request().to_string()),
            ("register_environment", "application/json", "{\"form\": {\"name\": 7}}".into()),
            (
                "register_environment",
                "application/json",
                json!({ "form": { "name": "rpc-env", "account_id": "123456789012", "region": "us-east-1",
                    "role_arn": "arn:aws:iam::210987654321:role/elsewhere", "tiers": ["development"],
                    "requesters": "", "approvers": "" } })
                .to_string(),
            ),
            ("create_user", "application/json", "{\"name\": [], \"roles\": 1, \"password\": null}".into()),
            (
                "create_user",
                "application/json",
                "{\"name\": \"x\", \"roles\": [\"pilot\"], \"password\": \"long-enough-password\"}".into(),
            ),
            ("save_roles", "application/json", "{\"name\": \"lead\"}".into()),
            ("decide_request", "application/x-www-form-urlencoded", "id=abc&approve=maybe".into()),
            ("decide_request", "application/x-www-form-urlencoded", String::new()),
            ("get_rollout", "application/x-www-form-urlencoded", "id=99999999999999999999999".into()),
            ("sign_in", "application/x-www-form-urlencoded", "name=&password=".into()),
            ("history", "application/json", "{\"query\": {\"before\": \"x\"}}".into()),
            ("no_such_function", "application/json", "{}".into()),
        ];
        let mut rpc_problems = Vec::new();
        for (function, content_type, body) in &rpc {
            let response = portal
                .client
                .post(portal.url(&format!("/rpc/{function}")))
                .header("origin", portal.url(""))
                .header("cookie", &cookie)
                .header("content-type", *content_type)
                .body(body.clone())
                .send()
                .await
                .expect("rpc");
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            // A refusal is a 4xx, or a 200 carrying the refusal as data (`Err` with the field).
            let refused = (400..500).contains(&status) || (status == 200 && text.contains("\"Err\""));
            if !refused {
                rpc_problems.push(format!("/rpc/{function} [{content_type}] {body:.60} -> {status} {text:.200}"));
            }
        }
        assert!(rpc_problems.is_empty(), "{backend:?}: server functions:\n{}", rpc_problems.join("\n"));

        let before = counts(&portal).await;
        let mut problems = Vec::new();
        for case in &cases {
            let mut request = match case.method {
                "POST" => portal.client.post(portal.url(&case.path)),
                "PUT" => portal.client.put(portal.url(&case.path)),
                _ => portal.client.get(portal.url(&case.path)),
            };
            if let Some(token) = &case.token {
                request = request.header("authorization", format!("Bearer {token}"));
            }
            if case.method != "GET" {
                request = request.header("content-type", case.content_type).body(case.body.clone());
            }
            let response = request.send().await.expect("send");
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let described = format!(
                "{} {} [{}] {:.80} -> {status} {:.200}",
                case.method, case.path, case.content_type, case.body, text
            );
            if !(400..500).contains(&status) {
                problems.push(format!("not a 4xx: {described}"));
            } else if body["error"]["code"].as_str().is_none_or(str::is_empty)
                || body["error"]["message"].as_str().is_none_or(str::is_empty)
            {
                problems.push(format!("not a JSON error: {described}"));
            } else if let Some(field) = &case.field {
                if body["error"]["field"].as_str() != Some(field.as_str()) {
                    problems.push(format!("does not name `{field}`: {described}"));
                }
            }
        }
        assert!(cases.len() >= 200, "{} cases", cases.len());
        assert!(
            problems.is_empty(),
            "{backend:?}: {} of {} cases:\n{}",
            problems.len(),
            cases.len(),
            problems.join("\n")
        );
        assert_eq!(counts(&portal).await, before, "{backend:?}: a refused call stored something");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_command_lines_exit_non_zero_naming_what_is_wrong_and_store_nothing() {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let long_name = "x".repeat(5000);
    let role = "arn:aws:iam::123456789012:role/portal-deploy";
    let add = |name: &'static str,
               account: &'static str,
               region: &'static str,
               role: &'static str,
               tiers: &'static str| {
        vec!["environment", "add", name, "--account", account, "--region", region, "--role-arn", role, "--tiers", tiers]
    };
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (add("Bad_Name", "123456789012", "us-east-1", role, "development"), "lowercase"),
        (add("ok-env", "1234", "us-east-1", role, "development"), "12 digits"),
        (add("ok-env", "123456789012", "mars-1", role, "development"), "unknown region"),
        (
            add("ok-env", "123456789012", "us-east-1", "arn:aws:iam::210987654321:role/x", "development"),
            "account 210987654321",
        ),
        (add("ok-env", "123456789012", "us-east-1", "not-an-arn", "development"), "arn:aws:iam"),
        (add("ok-env", "123456789012", "us-east-1", role, "gold"), "gold"),
        (add("ok-env", "123456789012", "us-east-1", role, ""), "tier"),
        (add("ok-env", "123456789012", "us-east-1", role, "🎸"), "🎸"),
        (
            [add("ok-env", "123456789012", "us-east-1", role, "development"), vec!["--approvers", "a b"]].concat(),
            "`a b`",
        ),
        (vec!["environment", "add", "ok-env", "--account", "123456789012", "--region", "us-east-1"], "--role-arn"),
        (
            [add("ok-env", "123456789012", "us-east-1", role, "development"), vec!["--domain", "Concerts.Example.com"]]
                .concat(),
            "lower-case",
        ),
        (
            vec!["templates", "render", "--tier", "development", "--out", "/nonexistent/x", "--domain", "localhost"],
            "two labels",
        ),
        (vec!["environment", "remove", "ok-env"], "unrecognized subcommand"),
        (vec!["user", "add", "x", "--role", "viewer", "--no-password"], "2 to 64"),
        (vec!["user", "add", "pilot", "--role", "pilot", "--no-password"], "pilot"),
        (vec!["user", "add", "nobody-role", "--no-password"], "--role"),
        (vec!["user", "disable", "nobody"], "no user `nobody`"),
        (vec!["user", "enable", &long_name], "no user"),
    ];
    let mut problems = Vec::new();
    for (args, expected) in &cases {
        let output = std::process::Command::new(portal_binary())
            .args(args)
            .env("DATABASE_URL", &database.url)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("portal runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        if output.status.success() || output.status.code() == Some(101) || !stderr.contains(expected) {
            problems.push(format!("{args:?} -> {:?}: {stderr:.300}", output.status.code()));
        }
    }
    assert!(problems.is_empty(), "{} of {} command lines:\n{}", problems.len(), cases.len(), problems.join("\n"));
    let listed = std::process::Command::new(portal_binary())
        .args(["environment", "list"])
        .env("DATABASE_URL", &database.url)
        .output()
        .expect("portal runs");
    assert_eq!(String::from_utf8_lossy(&listed.stdout).trim(), "no registered environments");
    let users = std::process::Command::new(portal_binary())
        .args(["environment", "add", "ok-env", "--account", "123456789012", "--region", "us-east-1"])
        .args(["--role-arn", role, "--tiers", "development,production-lite"])
        .env("DATABASE_URL", &database.url)
        .output()
        .expect("portal runs");
    let printed = String::from_utf8_lossy(&users.stdout);
    assert!(users.status.success(), "{printed}");
    assert!(printed.contains("ExternalId (shown once): concert-portal-"), "{printed}");
    assert!(printed.contains("\"sts:ExternalId\""), "{printed}");
}
