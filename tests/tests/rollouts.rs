//! The rollout engine against moto's server: approved requests deployed phase by phase through
//! the AWS SDK, failure and retry, cancel, teardown, throttling; the state read back through the API.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use infra::Catalog;
use portal_tests::{Backend, FaultProxy, Moto, TestPortal};
use serde_json::{json, Value};
use server::people::{add_user, Role};

pub const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/portal-deploy";

pub struct People {
    pub tokens: BTreeMap<&'static str, String>,
}

impl People {
    pub fn token(&self, who: &str) -> Option<&str> {
        self.tokens.get(who).map(String::as_str)
    }
}

/// lead (requester), alice and bob (approvers), watcher (viewer).
pub async fn people(portal: &TestPortal) -> People {
    let mut tokens = BTreeMap::new();
    for (name, role) in
        [("lead", Role::Requester), ("alice", Role::Approver), ("bob", Role::Approver), ("watcher", Role::Viewer)]
    {
        let roles: BTreeSet<Role> = [role].into_iter().collect();
        let (_, token) = add_user(&portal.portal.db, name, &roles, None, true).await.expect("user added");
        tokens.insert(name, token.expect("a token"));
    }
    People { tokens }
}

/// Requests `tier` for `environment` as lead and approves it as alice (and bob where two are
/// needed); returns the rollout id.
pub async fn approved_rollout(portal: &TestPortal, people: &People, environment: &str, tier: &str) -> i64 {
    portal.register(&[environment]).await;
    let body = json!({
        "environment": environment, "tier": tier, "region": "us-east-1", "role_arn": ROLE_ARN,
        "justification": "Rollout test of the concert platform",
    });
    let (status, request) = portal.call("POST", "/api/requests", people.token("lead"), Some(body)).await;
    assert_eq!(status, 201, "{request}");
    approve_all(portal, people, request["id"].as_i64().expect("id")).await
}

/// Approves a request as alice, then bob if it still needs one; returns its rollout id.
pub async fn approve_all(portal: &TestPortal, people: &People, request: i64) -> i64 {
    let mut record = Value::Null;
    for approver in ["alice", "bob"] {
        let path = format!("/api/requests/{request}/approve");
        let (status, body) = portal.call("POST", &path, people.token(approver), Some(json!({ "comment": "ok" }))).await;
        assert_eq!(status, 200, "{body}");
        record = body;
        if record["status"] == "approved" {
            break;
        }
    }
    assert_eq!(record["status"], "approved", "{record}");
    let (_, record) = portal.call("GET", &format!("/api/requests/{request}"), people.token("lead"), None).await;
    record["rollout_id"].as_i64().expect("a rollout once approved")
}

/// Polls the rollout until it ends (or panics after two minutes).
pub async fn wait_until_ended(portal: &TestPortal, people: &People, id: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (status, rollout) = portal.call("GET", &format!("/api/rollouts/{id}"), people.token("watcher"), None).await;
        assert_eq!(status, 200, "{rollout}");
        if matches!(rollout["status"].as_str(), Some("succeeded" | "failed" | "cancelled")) {
            return rollout;
        }
        assert!(Instant::now() < deadline, "rollout {id} did not end: {rollout}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The stacks moto holds for an environment (deleted ones excluded), by name.
pub async fn live_stacks(cfn: &aws_sdk_cloudformation::Client, environment: &str) -> BTreeMap<String, String> {
    let mut stacks = BTreeMap::new();
    let mut next = None;
    loop {
        let out = cfn.list_stacks().set_next_token(next).send().await.expect("list stacks");
        for s in out.stack_summaries() {
            let status = s.stack_status().map(|x| x.as_str().to_owned()).unwrap_or_default();
            let name = s.stack_name().unwrap_or_default().to_owned();
            if status != "DELETE_COMPLETE" && name.starts_with(&format!("{environment}-")) {
                stacks.insert(name, status);
            }
        }
        next = out.next_token().map(str::to_owned);
        if next.is_none() {
            return stacks;
        }
    }
}

/// moto, a CloudFormation client on it, a portal (SQLite) deploying to it with its engine
/// running, and the people of [`people`].
async fn sandboxed() -> (Moto, aws_sdk_cloudformation::Client, TestPortal, People) {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let portal = TestPortal::start_with(Backend::Sqlite, Some(config)).await;
    let people = people(&portal).await;
    portal.start_engine();
    (moto, cfn, portal, people)
}

fn phase_statuses(rollout: &Value) -> Vec<String> {
    rollout["phases"]
        .as_array()
        .map(|phases| phases.iter().map(|p| p["status"].as_str().unwrap_or_default().to_owned()).collect())
        .unwrap_or_default()
}

pub async fn event_count(portal: &TestPortal, id: i64) -> i64 {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM rollout_events WHERE rollout_id = $1")
        .bind(id)
        .fetch_one(&portal.portal.db.pool)
        .await
        .expect("count");
    sqlx::Row::try_get::<i64, _>(&row, "n").expect("n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_tier_rolls_out_all_six_phases() {
    let (_moto, cfn, portal, people) = sandboxed().await;
    for tier in ["development", "production-lite", "full-production"] {
        let environment = format!("ro-{tier}");
        let id = approved_rollout(&portal, &people, &environment, tier).await;
        let rollout = wait_until_ended(&portal, &people, id).await;
        assert_eq!(rollout["status"], "succeeded", "{tier}: {rollout}");
        assert_eq!(phase_statuses(&rollout), vec!["done"; 6], "{tier}");
        for phase in rollout["phases"].as_array().into_iter().flatten() {
            assert_eq!(phase["action"], "create", "{tier}: {phase}");
            assert!(phase["resource_count"].as_i64().unwrap_or(0) > 0, "{tier}: {phase}");
            assert!(
                !phase["changes"].as_array().map(Vec::is_empty).unwrap_or(true),
                "{tier}: changes recorded: {phase}"
            );
            assert!(!phase["outputs"].as_array().map(Vec::is_empty).unwrap_or(true), "{tier}: outputs shown: {phase}");
        }
        let stacks = live_stacks(&cfn, &environment).await;
        assert_eq!(stacks.len(), 6, "{tier}: one stack per phase: {stacks:?}");
        assert!(stacks.values().all(|s| s == "CREATE_COMPLETE"), "{stacks:?}");
        assert!(event_count(&portal, id).await >= 12, "{tier}: stack events recorded");
    }
    // The same request again changes nothing: every phase is an empty change set, a success.
    let again = approved_rollout(&portal, &people, "ro-development", "development").await;
    let rollout = wait_until_ended(&portal, &people, again).await;
    assert_eq!(rollout["status"], "succeeded", "{rollout}");
    let actions: Vec<&str> =
        rollout["phases"].as_array().into_iter().flatten().filter_map(|p| p["action"].as_str()).collect();
    assert_eq!(actions, vec!["unchanged"; 6], "{rollout}");
    assert_eq!(live_stacks(&cfn, "ro-development").await.len(), 6);
    // The whole history is in the audit trail, which still verifies.
    let entries = server::audit::page(&portal.portal.db, None, 500).await.expect("audit");
    let succeeded = entries.iter().filter(|e| e.action == app::model::AuditAction::RolloutSucceeded).count();
    assert_eq!(succeeded, 4, "three tiers and the repeat");
    assert!(server::audit::verify(&portal.portal.db).await.expect("verify").is_ok());
}

/// moto's EC2 query API, unsigned (moto's default account): a launch template squatting on the
/// name phase 3 wants makes its creation fail as it would on AWS.
async fn ec2(moto: &Moto, params: &[(&str, &str)]) {
    let mut form = vec![("Version", "2016-11-15")];
    form.extend_from_slice(params);
    // moto routes a request to a service by the credential scope of its (unverified) signature.
    let authorization =
        "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0";
    let res = reqwest::Client::new()
        .post(&moto.endpoint)
        .header("authorization", authorization)
        .form(&form)
        .send()
        .await
        .expect("moto answers");
    assert!(res.status().is_success(), "{:?}: {}", params, res.text().await.unwrap_or_default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_phase_stops_the_rollout_with_its_reason_and_retry_completes_it() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    for backend in portal_tests::backends() {
        let portal = TestPortal::start_with(backend, Some(config.clone())).await;
        let people = people(&portal).await;
        let environment = format!("fail-{}", if backend == Backend::Sqlite { "lite" } else { "pg" });
        let squatter = format!("{environment}-backend");
        ec2(
            &moto,
            &[
                ("Action", "CreateLaunchTemplate"),
                ("LaunchTemplateName", &squatter),
                ("LaunchTemplateData.ImageId", "ami-12c6146b"),
            ],
        )
        .await;
        portal.start_engine();

        let id = approved_rollout(&portal, &people, &environment, "development").await;
        let rollout = wait_until_ended(&portal, &people, id).await;
        assert_eq!(rollout["status"], "failed", "{rollout}");
        // Compute failed: cdn (which imports its load balancer) never started; auth and serverless,
        // which import nothing from compute, ran beside it and are done.
        assert_eq!(phase_statuses(&rollout), ["done", "done", "failed", "done", "pending", "done"], "{rollout}");
        let reason = rollout["phases"][2]["reason"].as_str().unwrap_or_default();
        assert!(
            reason.starts_with("LaunchTemplate (AWS::EC2::LaunchTemplate):"),
            "the first failed resource is named: {reason}"
        );
        assert!(rollout["failure"].as_str().unwrap_or_default().contains("phase 3 (compute) failed"), "{rollout}");
        let stacks = live_stacks(&cfn, &environment).await;
        assert_eq!(
            stacks.get(&format!("{environment}-compute")).map(String::as_str),
            Some("ROLLBACK_COMPLETE"),
            "{stacks:?}"
        );
        assert!(
            !stacks.contains_key(&format!("{environment}-cdn")),
            "what imports from compute never started: {stacks:?}"
        );

        // A viewer may not retry; the requester may, once the cause is gone.
        let retry_path = format!("/api/rollouts/{id}/retry");
        let (status, _) = portal.call("POST", &retry_path, people.token("watcher"), None).await;
        assert_eq!(status, 403);
        ec2(&moto, &[("Action", "DeleteLaunchTemplate"), ("LaunchTemplateName", &squatter)]).await;
        let (status, body) = portal.call("POST", &retry_path, people.token("lead"), None).await;
        assert_eq!(status, 200, "{body}");
        let rollout = wait_until_ended(&portal, &people, id).await;
        assert_eq!(rollout["status"], "succeeded", "{rollout}");
        assert_eq!(rollout["attempt"], 2);
        assert_eq!(phase_statuses(&rollout), vec!["done"; 6]);
        let stacks = live_stacks(&cfn, &environment).await;
        assert_eq!(stacks.len(), 6, "{stacks:?}");
        assert!(stacks.values().all(|s| s == "CREATE_COMPLETE"), "the rolled-back stack was replaced: {stacks:?}");
        // A second retry of a rollout that succeeded is refused.
        let (status, _) = portal.call("POST", &retry_path, people.token("lead"), None).await;
        assert_eq!(status, 409);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn teardown_needs_its_own_approval_and_leaves_no_stack() {
    let (_moto, cfn, portal, people) = sandboxed().await;
    portal.register(&["gone"]).await;
    let teardown = json!({
        "environment": "gone", "region": "us-east-1", "role_arn": ROLE_ARN,
        "justification": "The season is over; remove it all",
    });
    // Nothing deployed yet: nothing to tear down.
    let (status, body) = portal.call("POST", "/api/teardowns", people.token("lead"), Some(teardown.clone())).await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("environment")), "{body}");

    let id = approved_rollout(&portal, &people, "gone", "development").await;
    assert_eq!(wait_until_ended(&portal, &people, id).await["status"], "succeeded");
    assert_eq!(live_stacks(&cfn, "gone").await.len(), 6);

    let (status, request) = portal.call("POST", "/api/teardowns", people.token("lead"), Some(teardown)).await;
    assert_eq!(status, 201, "{request}");
    assert_eq!(request["kind"], "teardown");
    assert_eq!(request["status"], "pending", "not before an approval");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(live_stacks(&cfn, "gone").await.len(), 6, "nothing deleted while pending");

    let teardown_id = approve_all(&portal, &people, request["id"].as_i64().expect("id")).await;
    let rollout = wait_until_ended(&portal, &people, teardown_id).await;
    assert_eq!(rollout["status"], "succeeded", "{rollout}");
    assert_eq!(rollout["kind"], "teardown");
    let order: Vec<i64> =
        rollout["phases"].as_array().into_iter().flatten().filter_map(|p| p["number"].as_i64()).collect();
    assert_eq!(order, [1, 2, 3, 4, 5, 6]);
    let finished: Vec<i64> =
        rollout["phases"].as_array().into_iter().flatten().filter_map(|p| p["finished_at"].as_i64()).collect();
    // Each stack goes only after every stack that imports from it (the phase graph backwards).
    for (importer, imported) in [(2, 1), (3, 1), (3, 2), (4, 1), (5, 3), (6, 1), (6, 2), (6, 4)] {
        assert!(
            finished[imported - 1] >= finished[importer - 1],
            "phase {imported} deleted before phase {importer}, which imports from it: {finished:?}"
        );
    }
    assert!(live_stacks(&cfn, "gone").await.is_empty(), "teardown leaves no stack");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_production_teardown_turns_the_databases_deletion_protection_off_then_deletes() {
    let (_moto, cfn, portal, people) = sandboxed().await;
    portal.register(&["kept"]).await;
    let id = approved_rollout(&portal, &people, "kept", "production-lite").await;
    assert_eq!(wait_until_ended(&portal, &people, id).await["status"], "succeeded");
    let parameter = |stack: aws_sdk_cloudformation::types::Stack, key: &str| {
        stack
            .parameters()
            .iter()
            .find(|p| p.parameter_key() == Some(key))
            .and_then(|p| p.parameter_value().map(str::to_owned))
    };
    let data = cfn.describe_stacks().stack_name("kept-data").send().await.expect("data stack");
    let data = data.stacks().first().cloned().expect("one stack");
    assert_eq!(
        parameter(data, "DbDeletionProtection").as_deref(),
        Some("true"),
        "production tiers protect the database"
    );

    // The sandbox refuses to delete the protected database, as RDS does: only the teardown's own
    // step turning protection off lets it go.
    let teardown = json!({
        "environment": "kept", "region": "us-east-1", "role_arn": ROLE_ARN,
        "justification": "Production Lite season over; delete it",
    });
    let (status, request) = portal.call("POST", "/api/teardowns", people.token("lead"), Some(teardown)).await;
    assert_eq!(status, 201, "{request}");
    let teardown_id = approve_all(&portal, &people, request["id"].as_i64().expect("id")).await;
    let rollout = wait_until_ended(&portal, &people, teardown_id).await;
    assert_eq!(rollout["status"], "succeeded", "{rollout}");
    assert!(live_stacks(&cfn, "kept").await.is_empty(), "teardown leaves no stack");
    let rows = sqlx::query("SELECT status FROM rollout_events WHERE rollout_id = $1 AND logical_id = $2 ORDER BY id")
        .bind(teardown_id)
        .bind("kept-data")
        .fetch_all(&portal.portal.db.pool)
        .await
        .expect("events");
    let statuses: Vec<String> = rows.iter().map(|r| sqlx::Row::try_get(r, "status").expect("status")).collect();
    let updated = statuses.iter().position(|s| s == "UPDATE_COMPLETE");
    assert!(updated.is_some(), "the data stack was updated (protection off) before its deletion: {statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancelled_rollout_starts_no_phase_and_can_be_retried() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let portal = TestPortal::start_with(Backend::Sqlite, Some(config)).await;
    let people = people(&portal).await;
    // No engine yet: the rollout stays queued, and is cancelled before it starts.
    let id = approved_rollout(&portal, &people, "halted", "development").await;
    let (status, rollout) =
        portal.call("POST", &format!("/api/rollouts/{id}/cancel"), people.token("lead"), None).await;
    assert_eq!(status, 200, "{rollout}");
    assert_eq!(rollout["status"], "cancelled");
    let (status, _) = portal.call("POST", &format!("/api/rollouts/{id}/cancel"), people.token("lead"), None).await;
    assert_eq!(status, 409, "an ended rollout cannot be cancelled again");
    portal.start_engine();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(live_stacks(&cfn, "halted").await.is_empty(), "a cancelled rollout deploys nothing");

    let (status, _) = portal.call("POST", &format!("/api/rollouts/{id}/retry"), people.token("alice"), None).await;
    assert_eq!(status, 200);
    assert_eq!(wait_until_ended(&portal, &people, id).await["status"], "succeeded");
    assert_eq!(live_stacks(&cfn, "halted").await.len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn throttling_is_retried_and_the_rollout_completes() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint, Some(portal_tests::throttle_every(3)), Duration::ZERO).await;
    let config = portal_tests::sdk_config(&proxy.endpoint).await;
    let portal = TestPortal::start_with(Backend::Sqlite, Some(config)).await;
    let people = people(&portal).await;
    portal.start_engine();
    let id = approved_rollout(&portal, &people, "storm", "development").await;
    let rollout = wait_until_ended(&portal, &people, id).await;
    assert_eq!(rollout["status"], "succeeded", "{rollout}");
    let throttled = proxy.faults.load(Ordering::SeqCst);
    assert!(throttled >= 10, "the proxy throttled {throttled} calls");
    let cfn = aws_sdk_cloudformation::Client::new(&moto.sdk_config().await);
    assert_eq!(live_stacks(&cfn, "storm").await.len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_event_stream_replays_progress_and_ends_with_the_rollout() {
    let moto = Moto::start();
    let portal = TestPortal::start_with(Backend::Sqlite, Some(moto.sdk_config().await)).await;
    let people = people(&portal).await;
    portal.start_engine();
    let id = approved_rollout(&portal, &people, "streamed", "development").await;
    let response = portal
        .client
        .get(portal.url(&format!("/api/rollouts/{id}/events")))
        .bearer_auth(people.token("watcher").unwrap_or_default())
        .send()
        .await
        .expect("stream");
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap_or_default().starts_with("text/event-stream"));
    // The stream ends by itself once the rollout has ended.
    let text =
        tokio::time::timeout(Duration::from_secs(120), response.text()).await.expect("stream ends").expect("body");
    let states: Vec<Value> = text
        .split("\n\n")
        .filter(|block| block.starts_with("event: state"))
        .filter_map(|block| {
            block.lines().find_map(|l| l.strip_prefix("data: ")).and_then(|d| serde_json::from_str(d).ok())
        })
        .collect();
    assert!(states.len() >= 2, "the state is sent as it changes: {} states", states.len());
    assert_eq!(states.last().map(|s| s["status"].clone()), Some(json!("succeeded")));
    let resources = text.split("\n\n").filter(|b| b.starts_with("event: resource")).count() as i64;
    assert_eq!(resources, event_count(&portal, id).await, "every recorded event is sent once");
    assert!(text.trim_end().ends_with("data: succeeded"), "{}", &text[text.len().saturating_sub(200)..]);

    // Resuming after the last event id sends no event twice.
    let last_id = text
        .split("\n\n")
        .filter(|b| b.starts_with("event: resource"))
        .filter_map(|b| b.lines().find_map(|l| l.strip_prefix("id: ")))
        .last()
        .unwrap_or("0")
        .to_owned();
    let resumed = portal
        .client
        .get(portal.url(&format!("/api/rollouts/{id}/events")))
        .bearer_auth(people.token("watcher").unwrap_or_default())
        .header("last-event-id", &last_id)
        .send()
        .await
        .expect("stream")
        .text()
        .await
        .expect("body");
    assert_eq!(resumed.matches("event: resource").count(), 0, "{resumed}");
    let (status, _) = portal.call("GET", &format!("/api/rollouts/{id}/events"), None, None).await;
    assert_eq!(status, 401, "anonymous callers get no stream");
}

/// The catalog environments ran before the security-posture templates (tests/fixtures).
fn last_months_catalog() -> infra::Catalog {
    let fixture = portal_tests::repo_root().join("tests/fixtures/catalog-2026-11");
    let read = |dir: &str, file: &str| {
        let text = std::fs::read_to_string(fixture.join(dir).join(file)).expect("fixture readable");
        (file.to_owned(), text)
    };
    let mut sources = infra::Sources::embedded();
    for slot in &mut sources.templates {
        *slot = read("templates", &slot.0);
    }
    for slot in &mut sources.tiers {
        *slot = read("tiers", &slot.0);
    }
    infra::Catalog::from_sources(sources).expect("last month's catalog loads")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_environment_on_last_months_templates_is_upgraded_after_approvers_see_the_changes() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let before = TestPortal::start_with_catalog(Backend::Sqlite, Some(config.clone()), last_months_catalog()).await;
    let people = people(&before).await;
    let engine = before.start_engine();
    let first = approved_rollout(&before, &people, "season", "production-lite").await;
    assert_eq!(wait_until_ended(&before, &people, first).await["status"], "succeeded");
    engine.stop().await.expect("the old portal's engine stops");

    // The portal upgraded: same database, today's catalog. The same tier, requested again.
    let portal = before.upgraded(Some(config), Catalog::embedded().expect("catalog")).await;
    portal.start_engine();
    let body = json!({
        "environment": "season", "tier": "production-lite",
        "justification": "Apply the hardened templates to the running season",
    });
    let (status, update) = portal.call("POST", "/api/requests", people.token("lead"), Some(body)).await;
    assert_eq!(status, 201, "{update}");
    let preview = preview_of(&portal, &people, update["id"].as_i64().expect("id")).await;
    assert_eq!(preview["status"], "ready", "{preview}");
    let changes: Vec<(String, String)> = preview["phases"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["changes"].as_array().into_iter().flatten())
        .map(|c| (c["action"].as_str().unwrap_or("").to_owned(), c["logical_id"].as_str().unwrap_or("").to_owned()))
        .collect();
    // What the approver sees: the new log bucket, the origin secret and its listener rule added,
    // the load balancer's group, the identity pool and the database modified.
    for expected in [
        ("Add", "LogsBucket"),
        ("Add", "OriginVerifySecret"),
        ("Add", "OriginVerifyRule"),
        ("Add", "FunctionDeadLetterQueue"),
        ("Modify", "AlbSecurityGroup"),
        ("Modify", "IdentityPool"),
        ("Modify", "Database"),
        ("Remove", "UnauthenticatedRole"),
    ] {
        assert!(
            changes.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} in the preview: {changes:?}"
        );
    }
    let rollout = approve_all(&portal, &people, update["id"].as_i64().expect("id")).await;
    let ended = wait_until_ended(&portal, &people, rollout).await;
    assert_eq!(ended["status"], "succeeded", "{ended}");
    let stacks = live_stacks(&cfn, "season").await;
    assert!(stacks.values().all(|s| s == "UPDATE_COMPLETE"), "{stacks:?}");
}

/// Polls a request until its change preview is no longer being computed.
async fn preview_of(portal: &TestPortal, people: &People, request: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, record) =
            portal.call("GET", &format!("/api/requests/{request}"), people.token("watcher"), None).await;
        assert_eq!(status, 200, "{record}");
        if record["preview"]["status"] != "computing" {
            return record["preview"].clone();
        }
        assert!(Instant::now() < deadline, "the preview did not finish: {record}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_update_shows_cloudformations_changes_before_approval() {
    let (_moto, cfn, portal, people) = sandboxed().await;
    let first = approved_rollout(&portal, &people, "grow", "development").await;
    assert_eq!(wait_until_ended(&portal, &people, first).await["status"], "succeeded");

    // A new environment has nothing to compare with: no preview.
    portal.register(&["fresh"]).await;
    let body = json!({
        "environment": "fresh", "tier": "development", "region": "us-east-1", "role_arn": ROLE_ARN,
        "justification": "A second environment, never deployed",
    });
    let (status, fresh) = portal.call("POST", "/api/requests", people.token("lead"), Some(body)).await;
    assert_eq!(status, 201, "{fresh}");
    assert!(fresh["preview"].is_null(), "{fresh}");

    // Development → Production Lite for the running environment: changes computed with change sets.
    let body = json!({
        "environment": "grow", "tier": "production-lite", "region": "us-east-1", "role_arn": ROLE_ARN,
        "justification": "Opening ticket sales needs the bigger tier",
    });
    let (status, update) = portal.call("POST", "/api/requests", people.token("lead"), Some(body)).await;
    assert_eq!(status, 201, "{update}");
    assert_eq!(update["status"], "pending");
    let preview = preview_of(&portal, &people, update["id"].as_i64().expect("id")).await;
    assert_eq!(preview["status"], "ready", "{preview}");
    let phases = preview["phases"].as_array().cloned().unwrap_or_default();
    assert_eq!(phases.len(), 6, "{preview}");
    assert!(phases.iter().all(|p| p["new_stack"] == false), "every stack exists already: {preview}");
    let changes: Vec<&Value> = phases.iter().flat_map(|p| p["changes"].as_array().into_iter().flatten()).collect();
    assert!(!changes.is_empty(), "a bigger tier changes something: {preview}");
    assert!(
        changes.iter().all(|c| ["Add", "Modify", "Remove"].contains(&c["action"].as_str().unwrap_or_default())),
        "{preview}"
    );

    // Nothing was executed, and the preview's change sets are gone again.
    let stacks = live_stacks(&cfn, "grow").await;
    assert!(stacks.values().all(|s| s == "CREATE_COMPLETE"), "{stacks:?}");
    for stack in stacks.keys() {
        let sets = cfn.list_change_sets().stack_name(stack).send().await.expect("change sets");
        let previews = sets
            .summaries()
            .iter()
            .filter(|c| c.change_set_name().is_some_and(|n| n.starts_with("portal-preview-")))
            .count();
        assert_eq!(previews, 0, "{stack} keeps no preview change set");
    }
}

/// A Slack-style receiver that fails its first `failures` deliveries, then records the rest.
const WEBHOOK_SECRET: &str = "a-webhook-secret-for-tests";

/// A receiver that checks each delivery's signature (as a real one must) and stores the body.
async fn webhook_receiver(failures: usize) -> (String, Arc<Mutex<Vec<Value>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let store = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, text: String| {
            let (store, calls) = (store.clone(), calls.clone());
            async move {
                let header =
                    |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                let timestamp: i64 = header("x-portal-timestamp").parse().unwrap_or(0);
                let webhook = server::notify::Webhook { url: String::new(), secret: WEBHOOK_SECRET.into() };
                if webhook.signature(timestamp, &text).ok() != Some(header("x-portal-signature")) {
                    return axum::http::StatusCode::UNAUTHORIZED;
                }
                let Ok(body) = serde_json::from_str::<Value>(&text) else {
                    return axum::http::StatusCode::BAD_REQUEST;
                };
                if calls.fetch_add(1, Ordering::SeqCst) < failures {
                    return axum::http::StatusCode::SERVICE_UNAVAILABLE;
                }
                if let Ok(mut all) = store.lock() {
                    all.push(body);
                }
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), received)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn webhooks_announce_approvals_needed_and_rollout_results_and_retry_failures() {
    let moto = Moto::start();
    let (url, received) = webhook_receiver(1).await;
    let hook = url.clone();
    let portal = TestPortal::start_configured(Backend::Sqlite, Some(moto.sdk_config().await), move |_, settings| {
        settings.webhook = Some(server::notify::Webhook { url: hook, secret: WEBHOOK_SECRET.into() });
    })
    .await;
    let people = people(&portal).await;
    let roles: BTreeSet<Role> = [Role::Admin].into_iter().collect();
    let (_, admin) = add_user(&portal.portal.db, "root", &roles, None, true).await.expect("admin");
    let admin = admin.expect("token");
    portal.start_engine();
    server::notify::spawn_worker(
        portal.portal.db.clone(),
        server::notify::Webhook { url, secret: WEBHOOK_SECRET.into() },
    );

    let id = approved_rollout(&portal, &people, "loud", "development").await;
    assert_eq!(wait_until_ended(&portal, &people, id).await["status"], "succeeded");
    let deadline = Instant::now() + Duration::from_secs(30);
    let events = loop {
        let events: Vec<String> = received
            .lock()
            .map(|all| all.iter().filter_map(|b| b["event"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        if events.len() >= 2 || Instant::now() > deadline {
            break events;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // The first delivery waits out its retry, so the two may arrive in either order; each once.
    let mut sorted = events.clone();
    sorted.sort();
    assert_eq!(sorted, ["request.needs_approval", "rollout.succeeded"], "{events:?}");
    let texts: Vec<String> = received
        .lock()
        .map(|all| all.iter().filter_map(|b| b["text"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    assert!(
        texts.iter().any(|t| t.contains("lead requests development for `loud`") && t.contains("needs 1 approval")),
        "{texts:?}"
    );
    assert!(texts.contains(&format!("Rollout {id} succeeded")), "{texts:?}");

    // Admins see the deliveries, the first one retried after the receiver's 503.
    let (status, body) = portal.call("GET", "/api/webhooks/deliveries", Some(&admin), None).await;
    assert_eq!(status, 200, "{body}");
    let deliveries = body["deliveries"].as_array().cloned().unwrap_or_default();
    let first = deliveries.iter().find(|d| d["event"] == "request.needs_approval").expect("delivery listed");
    assert_eq!((first["status"].as_str(), first["attempts"].as_i64()), (Some("delivered"), Some(2)), "{first}");
    assert_eq!(first["last_error"], "HTTP 503 Service Unavailable");
    let (status, _) = portal.call("GET", "/api/webhooks/deliveries", people.token("alice"), None).await;
    assert_eq!(status, 403, "only admins");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_role_the_portal_cannot_assume_or_a_rejected_template_fail_with_the_reason() {
    let moto = Moto::start();
    let denied = portal_tests::fault_when(
        &["Action=AssumeRole", "portal-deploy-denied"],
        portal_tests::aws_error(403, "AccessDenied", "User is not authorized to perform: sts:AssumeRole"),
    );
    let rejected = portal_tests::fault_when(
        &["Action=CreateChangeSet", "StackName=bad-template-auth"],
        portal_tests::aws_error(
            400,
            "ValidationError",
            "Template format error: Unresolved resource dependencies [UserPool]",
        ),
    );
    let rule: portal_tests::FaultRule = Arc::new(move |n, body| denied(n, body).or_else(|| rejected(n, body)));
    let proxy = FaultProxy::start(&moto.endpoint, Some(rule), Duration::ZERO).await;
    let portal = TestPortal::start_with(Backend::Sqlite, Some(portal_tests::sdk_config(&proxy.endpoint).await)).await;
    let people = people(&portal).await;
    portal.start_engine();

    portal.register_with_role("locked-out", "arn:aws:iam::123456789012:role/portal-deploy-denied").await;
    let body = json!({
        "environment": "locked-out", "tier": "development", "region": "us-east-1",
        "role_arn": "arn:aws:iam::123456789012:role/portal-deploy-denied",
        "justification": "A role that was never set up for the portal",
    });
    let (status, request) = portal.call("POST", "/api/requests", people.token("lead"), Some(body)).await;
    assert_eq!(status, 201, "{request}");
    let id = approve_all(&portal, &people, request["id"].as_i64().expect("id")).await;
    let rollout = wait_until_ended(&portal, &people, id).await;
    assert_eq!(rollout["status"], "failed", "{rollout}");
    let failure = rollout["failure"].as_str().unwrap_or_default();
    assert!(
        failure.contains("cannot assume the deploy role arn:aws:iam::123456789012:role/portal-deploy-denied"),
        "{failure}"
    );
    assert!(failure.contains("not authorized"), "{failure}");
    assert_eq!(phase_statuses(&rollout), vec!["pending"; 6], "no phase started");

    let id = approved_rollout(&portal, &people, "bad-template", "development").await;
    let rollout = wait_until_ended(&portal, &people, id).await;
    assert_eq!(rollout["status"], "failed", "{rollout}");
    // A failure in auth does not stop compute or cdn; serverless (which imports the user pool) waits.
    assert_eq!(phase_statuses(&rollout), ["done", "done", "done", "failed", "done", "pending"]);
    let reason = rollout["phases"][3]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("CreateChangeSet") && reason.contains("Template format error"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_approval_given_on_other_templates_or_prices_is_void_at_rollout() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let portal = TestPortal::start_with(Backend::Sqlite, Some(config)).await;
    let people = people(&portal).await;
    // Approved before the engine runs; then the catalog it was made on is no longer the one served.
    let id = approved_rollout(&portal, &people, "stale", "development").await;
    sqlx::query("UPDATE deployment_requests SET catalog_digest = 'an-older-catalog'")
        .execute(&portal.portal.db.pool)
        .await
        .expect("update");
    portal.start_engine();
    let rollout = wait_until_ended(&portal, &people, id).await;
    assert_eq!(rollout["status"], "failed", "{rollout}");
    assert!(rollout["failure"].as_str().unwrap_or_default().contains("the approval is void"), "{rollout}");
    assert!(live_stacks(&cfn, "stale").await.is_empty(), "nothing deployed on a void approval");
    let (status, body) = portal.call("POST", &format!("/api/rollouts/{id}/retry"), people.token("lead"), None).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"].as_str().unwrap_or_default().contains("request the deployment again"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stack_deleted_by_hand_is_created_again_and_the_rest_left_alone() {
    let (_moto, cfn, portal, people) = sandboxed().await;
    let first = approved_rollout(&portal, &people, "drifted", "development").await;
    assert_eq!(wait_until_ended(&portal, &people, first).await["status"], "succeeded");
    cfn.delete_stack().stack_name("drifted-serverless").send().await.expect("deleted by hand");
    assert_eq!(live_stacks(&cfn, "drifted").await.len(), 5);

    let again = approved_rollout(&portal, &people, "drifted", "development").await;
    let rollout = wait_until_ended(&portal, &people, again).await;
    assert_eq!(rollout["status"], "succeeded", "{rollout}");
    let actions: Vec<&str> =
        rollout["phases"].as_array().into_iter().flatten().filter_map(|p| p["action"].as_str()).collect();
    assert_eq!(actions, ["unchanged", "unchanged", "unchanged", "unchanged", "unchanged", "create"], "{rollout}");
    assert_eq!(live_stacks(&cfn, "drifted").await.len(), 6);
}

/// The engine of `portal` with a short lease and the given bounds.
fn bounded_engine(portal: &TestPortal, give_up_after: i64, stack_deadline: Duration) {
    let config = server::rollout::EngineConfig {
        lease: Duration::from_secs(1),
        poll: Duration::from_millis(100),
        give_up_after,
        stack_deadline,
        ..Default::default()
    };
    server::application::spawn_engine(&portal.portal, config);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_engine_gives_up_on_errors_that_do_not_pass_and_on_stacks_that_never_finish() {
    let moto = Moto::start();
    // Phase 1 of `stuck` never leaves CREATE_IN_PROGRESS, as DescribeStacks reports it (with this
    // portal's tags: it is the portal's own stack, just never finishing).
    let instance = Arc::new(Mutex::new(String::new()));
    let tag = instance.clone();
    let rule: portal_tests::FaultRule = Arc::new(move |_, body| {
        if !(body.contains("Action=DescribeStacks") && body.contains("StackName=stuck-network")) {
            return None;
        }
        let instance = tag.lock().map(|i| i.clone()).unwrap_or_default();
        Some((
            200,
            format!(
                "<DescribeStacksResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\">\
                 <DescribeStacksResult><Stacks><member><StackName>stuck-network</StackName>\
                 <StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/stuck-network/1</StackId>\
                 <StackStatus>CREATE_IN_PROGRESS</StackStatus><CreationTime>2026-01-01T00:00:00Z</CreationTime>\
                 <Tags><member><Key>portal:instance</Key><Value>{instance}</Value></member>\
                 <member><Key>portal:environment</Key><Value>stuck</Value></member></Tags>\
                 </member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>stuck</RequestId>\
                 </ResponseMetadata></DescribeStacksResponse>"
            ),
        ))
    });
    let proxy = FaultProxy::start(&moto.endpoint, Some(rule), Duration::ZERO).await;
    let portal = TestPortal::start_with(Backend::Sqlite, Some(portal_tests::sdk_config(&proxy.endpoint).await)).await;
    if let Ok(mut id) = instance.lock() {
        id.clone_from(&portal.portal.instance);
    }
    let people = people(&portal).await;

    // A rollout whose stored tier no longer reads: every run stops on the same error.
    let broken = approved_rollout(&portal, &people, "unreadable", "development").await;
    sqlx::query("UPDATE deployment_requests SET tier = 'platinum' WHERE environment = 'unreadable'")
        .execute(&portal.portal.db.pool)
        .await
        .expect("break the stored tier");
    let stuck = approved_rollout(&portal, &people, "stuck", "development").await;
    bounded_engine(&portal, 3, Duration::from_secs(2));

    let deadline = Instant::now() + Duration::from_secs(60);
    let (broken, stuck) = loop {
        let (_, a) = portal.call("GET", &format!("/api/rollouts/{broken}"), people.token("lead"), None).await;
        let (_, b) = portal.call("GET", &format!("/api/rollouts/{stuck}"), people.token("lead"), None).await;
        if a["status"] == "failed" && b["status"] == "failed" {
            break (a, b);
        }
        assert!(Instant::now() < deadline, "the engine never gave up: {a} {b}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let failure = broken["failure"].as_str().unwrap_or_default();
    assert!(failure.contains("gave up after 3 interruptions") && failure.contains("platinum"), "{failure}");
    let reason = stuck["phases"][0]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("stuck-network was still CREATE_IN_PROGRESS"), "{stuck}");
    assert_eq!(phase_statuses(&stuck)[0], "failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stacks_the_portal_did_not_create_are_neither_changed_nor_deleted() {
    let (_moto, cfn, portal, people) = sandboxed().await;
    // Someone made `squat-network` by hand: the portal's rollout of `squat` must not update it.
    let template = r#"{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}"#;
    cfn.create_stack().stack_name("squat-network").template_body(template).send().await.expect("foreign stack");
    let id = approved_rollout(&portal, &people, "squat", "development").await;
    let rollout = wait_until_ended(&portal, &people, id).await;
    assert_eq!(rollout["status"], "failed", "{rollout}");
    let reason = rollout["phases"][0]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("stack squat-network exists but was not created by this portal"), "{reason}");
    let resources = cfn.describe_stack_resources().stack_name("squat-network").send().await.expect("resources");
    let kinds: Vec<&str> = resources.stack_resources().iter().filter_map(|r| r.resource_type()).collect();
    assert_eq!(kinds, ["AWS::SNS::Topic"], "the foreign stack is untouched");

    // An environment the portal deployed, one of whose stacks was replaced by hand: the teardown
    // deletes the portal's stacks and leaves the stranger.
    let id = approved_rollout(&portal, &people, "mixed", "development").await;
    assert_eq!(wait_until_ended(&portal, &people, id).await["status"], "succeeded");
    cfn.delete_stack().stack_name("mixed-serverless").send().await.expect("delete by hand");
    cfn.create_stack().stack_name("mixed-serverless").template_body(template).send().await.expect("replaced");
    let body = json!({
        "environment": "mixed", "region": "us-east-1", "role_arn": "arn:aws:iam::123456789012:role/portal-deploy",
        "justification": "Tear down an environment with a stranger in it",
    });
    let (status, request) = portal.call("POST", "/api/teardowns", people.token("lead"), Some(body)).await;
    assert_eq!(status, 201, "{request}");
    let teardown = approve_all(&portal, &people, request["id"].as_i64().expect("id")).await;
    let ended = wait_until_ended(&portal, &people, teardown).await;
    assert_eq!(ended["status"], "failed", "{ended}");
    let failure = ended["failure"].as_str().unwrap_or_default();
    assert!(failure.contains("mixed-serverless exists but was not created by this portal"), "{failure}");
    assert!(live_stacks(&cfn, "mixed").await.contains_key("mixed-serverless"), "the stranger stays");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_adopt_request_takes_over_stacks_no_portal_created_after_approvers_see_the_changes() {
    let (_moto, cfn, portal, people) = sandboxed().await;
    portal.register(&["claimed"]).await;
    // Made by hand before the portal: a plain deployment refuses it and says how to take it over.
    let template = r#"{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}"#;
    cfn.create_stack().stack_name("claimed-network").template_body(template).send().await.expect("hand-made stack");
    let id = approved_rollout(&portal, &people, "claimed", "development").await;
    let refused = wait_until_ended(&portal, &people, id).await;
    let reason = refused["phases"][0]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("not created by this portal") && reason.contains("adopt request"), "{refused}");

    // The adoption: approvers see what CloudFormation will change in the existing stack.
    let body = json!({
        "environment": "claimed", "tier": "development", "adopt": true,
        "justification": "Take over the network made by hand last spring",
    });
    let (status, request) = portal.call("POST", "/api/requests", people.token("lead"), Some(body)).await;
    assert_eq!((status, request["adopt"].as_bool()), (201, Some(true)), "{request}");
    let request_id = request["id"].as_i64().expect("id");
    let deadline = Instant::now() + Duration::from_secs(60);
    let preview = loop {
        let (_, record) = portal.call("GET", &format!("/api/requests/{request_id}"), people.token("alice"), None).await;
        if record["preview"]["status"] == "ready" {
            break record["preview"].clone();
        }
        assert!(record["preview"]["status"] != "failed" && Instant::now() < deadline, "{record}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let network = &preview["phases"][0];
    assert_eq!(
        (network["stack_name"].as_str(), network["new_stack"].as_bool()),
        (Some("claimed-network"), Some(false))
    );
    assert!(network["changes"].as_array().is_some_and(|c| !c.is_empty()), "{preview}");

    let rollout = approve_all(&portal, &people, request_id).await;
    let ended = wait_until_ended(&portal, &people, rollout).await;
    assert_eq!(ended["status"], "succeeded", "{ended}");
    let stacks = cfn.describe_stacks().stack_name("claimed-network").send().await.expect("stack");
    let tags: BTreeMap<String, String> =
        stacks.stacks()[0].tags().iter().filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned()))).collect();
    assert_eq!(tags.get("portal:environment").map(String::as_str), Some("claimed"), "{tags:?}");
    assert!(tags.contains_key("portal:instance"), "adopted and tagged: {tags:?}");

    // Another portal's stack is never adopted.
    portal.register(&["shared"]).await;
    let tag = |k: &str, v: &str| aws_sdk_cloudformation::types::Tag::builder().key(k).value(v).build();
    cfn.create_stack()
        .stack_name("shared-network")
        .template_body(template)
        .tags(tag("portal:instance", "another-portal"))
        .tags(tag("portal:environment", "shared"))
        .send()
        .await
        .expect("another portal's stack");
    let body = json!({
        "environment": "shared", "tier": "development", "adopt": true,
        "justification": "Try to take over another portal's network",
    });
    let (status, request) = portal.call("POST", "/api/requests", people.token("lead"), Some(body)).await;
    assert_eq!(status, 201, "{request}");
    let rollout = approve_all(&portal, &people, request["id"].as_i64().expect("id")).await;
    let ended = wait_until_ended(&portal, &people, rollout).await;
    let reason = ended["phases"][0]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("belongs to another portal (portal:instance=another-portal)"), "{ended}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn phases_that_import_nothing_from_each_other_run_side_by_side() {
    let moto = Moto::start();
    // 40 ms per AWS call: each phase lasts long enough for the overlap to show.
    let proxy = FaultProxy::start(&moto.endpoint, None, Duration::from_millis(40)).await;
    let portal = TestPortal::start_with(Backend::Sqlite, Some(portal_tests::sdk_config(&proxy.endpoint).await)).await;
    let people = people(&portal).await;
    portal.start_engine();
    let id = approved_rollout(&portal, &people, "side", "production-lite").await;
    let rollout = wait_until_ended(&portal, &people, id).await;
    assert_eq!(rollout["status"], "succeeded", "{rollout}");
    let span = |n: usize| {
        let phase = &rollout["phases"][n - 1];
        (phase["started_at"].as_i64().expect("started"), phase["finished_at"].as_i64().expect("finished"))
    };
    let overlap = |a: usize, b: usize| span(a).0 < span(b).1 && span(b).0 < span(a).1;
    // Data and auth need only the network; compute and serverless need different things.
    assert!(overlap(2, 4), "data {:?} and auth {:?} ran side by side", span(2), span(4));
    assert!(overlap(3, 6), "compute {:?} and serverless {:?} ran side by side", span(3), span(6));
    // Nothing starts before what it imports from is done.
    for (importer, imported) in [(2, 1), (3, 2), (4, 1), (5, 3), (6, 2), (6, 4)] {
        assert!(span(importer).0 >= span(imported).1, "phase {importer} started before phase {imported} was done");
    }
    let total = span(5).1.max(span(6).1) - span(1).0;
    let sequential: i64 = (1..=6).map(|n| span(n).1 - span(n).0).sum();
    let critical: i64 = [1, 2, 3, 5].iter().map(|n| span(*n).1 - span(*n).0).sum();
    eprintln!("graph rollout {total} ms; its phases one after another {sequential} ms; critical path {critical} ms");
    assert!(total < sequential, "side by side is shorter than one after another: {total} vs {sequential} ms");
}
