//! Registered environments, over HTTP against the real server: only admins register them (audited),
//! a deploy role in another account is refused, requests go only where an admin registered (a body
//! pointing elsewhere is refused), per-environment requesters and approvers, and, through a proxy
//! in front of moto, the engine assuming the role with the ExternalId and the requester as
//! SourceIdentity and refusing credentials that land in another account.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use portal_tests::{backends, fault_when, Backend, FaultProxy, FaultRule, Moto, TestPortal, SANDBOX_ROLE};
use serde_json::{json, Value};
use server::people::{add_user, Role};

use crate::rollouts::{approve_all, people, wait_until_ended};

async fn token(portal: &TestPortal, name: &str, roles: &[Role]) -> String {
    let roles: BTreeSet<Role> = roles.iter().copied().collect();
    let (_, token) = add_user(&portal.portal.db, name, &roles, None, true).await.expect("user added");
    token.expect("a token")
}

fn registration(name: &str, role_arn: &str, tiers: &[&str]) -> Value {
    json!({ "name": name, "account_id": "123456789012", "region": "us-east-1", "role_arn": role_arn, "tiers": tiers })
}

fn request(environment: &str, tier: &str) -> Value {
    json!({ "environment": environment, "tier": tier, "justification": "Registry test of the trust boundary" })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_register_environments_and_requests_go_only_where_they_registered() {
    for backend in backends() {
        let portal = TestPortal::start_on(backend).await;
        let root = token(&portal, "root", &[Role::Admin]).await;
        let lead = token(&portal, "lead", &[Role::Requester]).await;
        let viewer = token(&portal, "watcher", &[Role::Viewer]).await;

        // A deploy role in another account than the environment's is refused, as is a non-admin.
        let foreign = registration("stage", "arn:aws:iam::210987654321:role/portal-deploy", &["development"]);
        let (status, body) = portal.call("POST", "/api/environments", Some(&root), Some(foreign)).await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some("role_arn")), "{backend:?}: {body}");
        assert!(body["error"]["message"].as_str().unwrap_or_default().contains("210987654321"), "{body}");
        let valid = registration("stage", SANDBOX_ROLE, &["development", "production-lite"]);
        let (status, _) = portal.call("POST", "/api/environments", Some(&lead), Some(valid.clone())).await;
        assert_eq!(status, 403, "{backend:?}: a requester registers nothing");

        // An admin registers it: the ExternalId and its trust policy come back once.
        let (status, registered) = portal.call("POST", "/api/environments", Some(&root), Some(valid.clone())).await;
        assert_eq!(status, 201, "{backend:?}: {registered}");
        let external_id = registered["external_id"].as_str().expect("an ExternalId").to_owned();
        let statement = &registered["trust_policy"]["Statement"][0];
        assert_eq!(statement["Condition"]["StringEquals"]["sts:ExternalId"], external_id.as_str());
        let (status, _) = portal.call("POST", "/api/environments", Some(&root), Some(valid)).await;
        assert_eq!(status, 409, "{backend:?}: registered twice");

        // Requesters list it without the ExternalId; viewers do not list it.
        let (status, listed) = portal.call("GET", "/api/environments", Some(&lead), None).await;
        assert_eq!(status, 200);
        assert_eq!(listed["environments"][0]["account_id"], "123456789012");
        assert!(!listed.to_string().contains(&external_id), "{backend:?}: the ExternalId is never listed");
        assert!(listed.get("unregistered").is_none(), "{backend:?}: only admins see unregistered environments");
        assert_eq!(portal.call("GET", "/api/environments", Some(&viewer), None).await.0, 403);
        let (_, as_admin) = portal.call("GET", "/api/environments/stage", Some(&root), None).await;
        assert!(!as_admin.to_string().contains(&external_id), "{backend:?}: not even to admins");

        // A request names a registered environment; a region or role that is not its own is refused.
        let (status, body) =
            portal.call("POST", "/api/requests", Some(&lead), Some(request("nowhere", "development"))).await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some("environment")), "{body}");
        let mut elsewhere = request("stage", "development");
        elsewhere["role_arn"] = json!("arn:aws:iam::210987654321:role/portal-deploy");
        let (status, body) = portal.call("POST", "/api/requests", Some(&lead), Some(elsewhere)).await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some("role_arn")), "{body}");
        let mut elsewhere = request("stage", "development");
        elsewhere["region"] = json!("eu-west-1");
        let (status, body) = portal.call("POST", "/api/requests", Some(&lead), Some(elsewhere)).await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some("region")), "{body}");
        let (status, body) =
            portal.call("POST", "/api/requests", Some(&lead), Some(request("stage", "full-production"))).await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some("tier")), "{body}");
        assert_eq!(
            portal.call("GET", "/api/requests", Some(&root), None).await.1["requests"].as_array().map(Vec::len),
            Some(0),
            "{backend:?}: nothing refused was stored"
        );
        let mut same = request("stage", "development");
        same["region"] = json!("us-east-1");
        same["role_arn"] = json!(SANDBOX_ROLE);
        let (status, created) = portal.call("POST", "/api/requests", Some(&lead), Some(same)).await;
        assert_eq!(status, 201, "{backend:?}: {created}");
        assert_eq!(
            (created["role_arn"].as_str(), created["account_id"].as_str()),
            (Some(SANDBOX_ROLE), Some("123456789012"))
        );

        // Each change is audited with the acting admin.
        let (_, audit) = portal.call("GET", "/api/audit", Some(&root), None).await;
        let registered_by = audit["entries"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["action"] == "environment.registered")
            .map(|e| (e["actor"].clone(), e["subject"].clone()));
        assert_eq!(registered_by, Some((json!("root"), json!("environment:stage"))), "{backend:?}: {audit}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_environment_says_who_may_request_and_approve_there() {
    for backend in backends() {
        let portal = TestPortal::start_on(backend).await;
        let root = token(&portal, "root", &[Role::Admin]).await;
        let lead = token(&portal, "lead", &[Role::Requester]).await;
        let alice = token(&portal, "alice", &[Role::Approver]).await;
        let bob = token(&portal, "bob", &[Role::Approver]).await;
        let mut prod = registration("prod", SANDBOX_ROLE, &["full-production"]);
        prod["requesters"] = json!(["group:release-managers"]);
        prod["approvers"] = json!(["bob", "group:prod-approvers"]);
        let (status, body) = portal.call("POST", "/api/environments", Some(&root), Some(prod)).await;
        assert_eq!(status, 201, "{body}");
        let (status, body) =
            portal.call("POST", "/api/requests", Some(&lead), Some(request("prod", "full-production"))).await;
        assert_eq!(status, 403, "{backend:?}: lead is not a release manager: {body}");
        assert!(body["error"]["message"].as_str().unwrap_or_default().contains("group:release-managers"), "{body}");
        // Open to every requester again; alice approves before production approvers are narrowed to bob.
        let change = json!({ "requesters": [], "approvers": [] });
        assert_eq!(portal.call("PUT", "/api/environments/prod", Some(&root), Some(change)).await.0, 200);
        let (status, created) =
            portal.call("POST", "/api/requests", Some(&lead), Some(request("prod", "full-production"))).await;
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_i64().expect("id");
        let approve = format!("/api/requests/{id}/approve");
        let (status, body) = portal.call("POST", &approve, Some(&alice), Some(json!({ "comment": "ok" }))).await;
        assert_eq!(status, 200, "{body}");
        let (status, changed) =
            portal.call("PUT", "/api/environments/prod", Some(&root), Some(json!({ "approvers": ["bob"] }))).await;
        assert_eq!(status, 200, "{changed}");
        assert!(changed.get("external_id").is_none(), "{backend:?}: same role, same ExternalId, not shown again");
        let (_, record) = portal.call("GET", &format!("/api/requests/{id}"), Some(&root), None).await;
        assert_eq!(record["approvals"][0]["void"], true, "{backend:?}: alice's approval no longer counts: {record}");
        let (status, body) = portal.call("POST", &approve, Some(&alice), Some(json!({ "comment": "again" }))).await;
        assert_eq!(status, 403, "{backend:?}: alice may not approve for prod now: {body}");
        let (status, body) = portal.call("POST", &approve, Some(&bob), Some(json!({ "comment": "ok" }))).await;
        assert_eq!((status, body["approvals"].as_array().map(Vec::len)), (200, Some(2)), "{body}");
        // A new deploy role makes a new ExternalId, shown once.
        let change = json!({ "role_arn": "arn:aws:iam::123456789012:role/portal-deploy-v2" });
        let (status, rotated) = portal.call("PUT", "/api/environments/prod", Some(&root), Some(change)).await;
        assert_eq!(status, 200, "{rotated}");
        assert!(rotated["external_id"].as_str().is_some_and(|id| id.starts_with("concert-portal-")), "{rotated}");
    }
}

/// Records the body of every STS AssumeRole call passing through the proxy.
fn assume_role_calls() -> (FaultRule, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let rule: FaultRule = Arc::new(move |_, body| {
        if body.contains("Action=AssumeRole") {
            if let Ok(mut log) = log.lock() {
                log.push(body.to_owned());
            }
        }
        None
    });
    (rule, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_engine_assumes_the_role_with_the_external_id_and_the_requester_as_source_identity() {
    let moto = Moto::start();
    let (rule, seen) = assume_role_calls();
    let proxy = FaultProxy::start(&moto.endpoint, Some(rule), Duration::ZERO).await;
    let portal = TestPortal::start_with(Backend::Sqlite, Some(portal_tests::sdk_config(&proxy.endpoint).await)).await;
    let people = people(&portal).await;
    portal.start_engine();
    let external_id = portal.register_with_role("traced", SANDBOX_ROLE).await.expect("newly registered");
    let (status, created) =
        portal.call("POST", "/api/requests", people.token("lead"), Some(request("traced", "development"))).await;
    assert_eq!(status, 201, "{created}");
    let rollout = approve_all(&portal, &people, created["id"].as_i64().expect("id")).await;
    assert_eq!(wait_until_ended(&portal, &people, rollout).await["status"], "succeeded");
    let calls = seen.lock().map(|c| c.clone()).unwrap_or_default();
    assert!(!calls.is_empty(), "no AssumeRole call went through the proxy");
    // The credentials are cached until they near their expiry: not assumed again for every call.
    assert!(calls.len() <= 3, "{} AssumeRole calls for one rollout", calls.len());
    for call in &calls {
        assert!(call.contains(&format!("ExternalId={external_id}")), "without the ExternalId: {call}");
        assert!(call.contains("SourceIdentity=lead"), "without the requester as SourceIdentity: {call}");
        assert!(call.contains("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fportal-deploy"), "{call}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn credentials_that_land_in_another_account_change_nothing() {
    let moto = Moto::start();
    let elsewhere = "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
        <GetCallerIdentityResult><Arn>arn:aws:sts::210987654321:assumed-role/portal-deploy/portal-rollout-1</Arn>\
        <UserId>AROAELSEWHERE:portal-rollout-1</UserId><Account>210987654321</Account></GetCallerIdentityResult>\
        <ResponseMetadata><RequestId>fault-proxy</RequestId></ResponseMetadata></GetCallerIdentityResponse>";
    let rule = fault_when(&["Action=GetCallerIdentity"], (200, elsewhere.to_owned()));
    let proxy = FaultProxy::start(&moto.endpoint, Some(rule), Duration::ZERO).await;
    let portal = TestPortal::start_with(Backend::Sqlite, Some(portal_tests::sdk_config(&proxy.endpoint).await)).await;
    let people = people(&portal).await;
    portal.start_engine();
    portal.register(&["astray"]).await;
    let (status, created) =
        portal.call("POST", "/api/requests", people.token("lead"), Some(request("astray", "development"))).await;
    assert_eq!(status, 201, "{created}");
    let rollout = approve_all(&portal, &people, created["id"].as_i64().expect("id")).await;
    let ended = wait_until_ended(&portal, &people, rollout).await;
    assert_eq!(ended["status"], "failed", "{ended}");
    let reason = ended["failure"].as_str().unwrap_or_default();
    assert!(reason.contains("210987654321") && reason.contains("nothing was changed"), "{ended}");
    let cfn = aws_sdk_cloudformation::Client::new(&moto.sdk_config().await);
    let stacks = cfn.describe_stacks().send().await.expect("stacks");
    let names: Vec<&str> = stacks.stacks().iter().filter_map(|s| s.stack_name()).collect();
    assert!(!names.iter().any(|n| n.starts_with("astray-")), "a stack was created: {names:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_from_before_the_registry_shows_its_environments_to_admins_as_unregistered() {
    for backend in backends() {
        let portal = TestPortal::start_on(backend).await;
        let root = token(&portal, "root", &[Role::Admin]).await;
        let people = people(&portal).await;
        // A rollout of `legacy`, then its registry row gone: what a database from before the
        // registry holds after migrating.
        portal.register(&["legacy", "pending-legacy"]).await;
        let (_, created) =
            portal.call("POST", "/api/requests", people.token("lead"), Some(request("legacy", "development"))).await;
        let rollout = approve_all(&portal, &people, created["id"].as_i64().expect("id")).await;
        let (_, waiting) = portal
            .call("POST", "/api/requests", people.token("lead"), Some(request("pending-legacy", "development")))
            .await;
        for name in ["legacy", "pending-legacy"] {
            sqlx::query("DELETE FROM environments WHERE name = $1")
                .bind(name)
                .execute(&portal.portal.db.pool)
                .await
                .expect("registry row removed");
        }

        let (_, listed) = portal.call("GET", "/api/environments", Some(&root), None).await;
        let unregistered = listed["unregistered"].as_array().cloned().unwrap_or_default();
        assert_eq!(unregistered.len(), 1, "{backend:?}: {listed}");
        assert_eq!(unregistered[0]["name"], "legacy");
        assert_eq!(unregistered[0]["last_rollout_id"].as_i64(), Some(rollout));
        let (_, as_lead) = portal.call("GET", "/api/environments", people.token("lead"), None).await;
        assert!(as_lead.get("unregistered").is_none(), "{backend:?}: {as_lead}");
        // Its history still reads; nothing more is decided there until it is registered again.
        let (status, _) = portal.call("GET", &format!("/api/rollouts/{rollout}"), people.token("watcher"), None).await;
        assert_eq!(status, 200);
        let approve = format!("/api/requests/{}/approve", waiting["id"].as_i64().expect("id"));
        let (status, body) =
            portal.call("POST", &approve, people.token("alice"), Some(json!({ "comment": "ok" }))).await;
        assert_eq!(status, 409, "{backend:?}: {body}");
        assert!(body["error"]["message"].as_str().unwrap_or_default().contains("not registered"), "{body}");
        let (status, body) =
            portal.call("POST", "/api/requests", people.token("lead"), Some(request("legacy", "development"))).await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some("environment")), "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_environments_domain_makes_its_requests_https_and_the_tier_page_previews_it() {
    for backend in backends() {
        let portal = TestPortal::start_on(backend).await;
        let root = token(&portal, "root", &[Role::Admin]).await;
        let lead = token(&portal, "lead", &[Role::Requester]).await;

        // A malformed domain is refused, naming the field and saying what is wrong.
        let mut bad = registration("web", SANDBOX_ROLE, &["development"]);
        bad["domain_name"] = json!("Concerts.Example.com");
        let (status, body) = portal.call("POST", "/api/environments", Some(&root), Some(bad)).await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some("domain_name")), "{backend:?}: {body}");
        assert!(body["error"]["message"].as_str().unwrap_or_default().contains("lower-case"), "{body}");
        assert_eq!(portal.call("GET", "/api/environments/web", Some(&root), None).await.0, 404, "nothing stored");

        let mut with_domain = registration("web", SANDBOX_ROLE, &["development"]);
        with_domain["domain_name"] = json!("concerts.example.com");
        let (status, registered) = portal.call("POST", "/api/environments", Some(&root), Some(with_domain)).await;
        assert_eq!(status, 201, "{backend:?}: {registered}");
        assert_eq!(registered["environment"]["domain_name"], "concerts.example.com");

        // The request keeps the domain it was made with, even when the registration changes later.
        let (status, made) =
            portal.call("POST", "/api/requests", Some(&lead), Some(request("web", "development"))).await;
        assert_eq!(status, 201, "{backend:?}: {made}");
        assert_eq!(made["domain_name"], "concerts.example.com");
        let id = made["id"].as_i64().expect("id");
        let change = json!({ "domain_name": "" });
        let (status, changed) = portal.call("PUT", "/api/environments/web", Some(&root), Some(change)).await;
        assert_eq!((status, changed["environment"]["domain_name"].clone()), (200, Value::Null), "{changed}");
        let (_, kept) = portal.call("GET", &format!("/api/requests/{id}"), Some(&lead), None).await;
        assert_eq!(kept["domain_name"], "concerts.example.com", "{backend:?}: what was requested stays");
        let (_, audit) = portal.call("GET", "/api/audit", Some(&root), None).await;
        assert!(audit.to_string().contains("concerts.example.com"), "{backend:?}: the domain is audited: {audit}");

        // The tier API previews the posture with and without a domain.
        let control = |body: &Value, id: &str| {
            body["posture"]["controls"].as_array().and_then(|cs| cs.iter().find(|c| c["id"] == id).cloned())
        };
        let (status, plain) = portal.call("GET", "/api/tiers/development", None, None).await;
        assert_eq!(status, 200);
        assert_eq!(control(&plain, "viewer-tls").map(|c| c["met"].clone()), Some(json!(false)), "{backend:?}");
        let (_, https) = portal.call("GET", "/api/tiers/development?domain=concerts.example.com", None, None).await;
        assert_eq!(control(&https, "viewer-tls").map(|c| c["met"].clone()), Some(json!(true)), "{https}");
        let (status, body) = portal.call("GET", "/api/tiers/development?domain=no_such", None, None).await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some("domain_name")), "{body}");
    }
}
