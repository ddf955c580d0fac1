//! Real `portal serve` processes: killed with SIGKILL in the middle of a rollout and started again,
//! and two of them sharing one PostgreSQL database.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::model::{AuditAction, Decision, PhaseStatus, RolloutStatus};
use portal_tests::{free_port, portal_binary, Backend, FaultProxy, Moto, TestDatabase};
use server::people::{add_user, Role, User};

/// `portal serve` on a free port against `database_url`, deploying through `endpoint`; killed on drop.
struct PortalProcess {
    child: Child,
    log: tempfile::NamedTempFile,
    port: u16,
}

impl PortalProcess {
    fn start(database_url: &str, endpoint: &str) -> PortalProcess {
        Self::start_with(database_url, endpoint, &[])
    }

    /// With settings of its own (`extra` overrides the defaults below).
    fn start_with(database_url: &str, endpoint: &str, extra: &[(&str, &str)]) -> PortalProcess {
        let port = free_port();
        let log = tempfile::NamedTempFile::new().expect("log file");
        let child = Command::new(portal_binary())
            .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--site-root", "target/site"])
            .env("DATABASE_URL", database_url)
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("PORTAL_LEASE_SECONDS", "2")
            .env("PORTAL_POLL_MS", "100")
            .env_remove("PORTAL_WEBHOOK_URL")
            .env_remove("PORTAL_OIDC_ISSUER")
            .envs(extra.iter().copied())
            .stdout(Stdio::null())
            .stderr(log.reopen().map(Stdio::from).unwrap_or_else(|_| Stdio::null()))
            .spawn()
            .expect("portal starts");
        PortalProcess { child, log, port }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// SIGTERM, as a process manager stops it; the portal then stops gracefully.
    fn terminate(&self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("kill runs");
        assert!(status.success(), "SIGTERM sent");
    }

    /// Waits for the process to exit by itself; its exit status.
    fn wait_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            let log = std::fs::read_to_string(self.log.path()).unwrap_or_default();
            assert!(Instant::now() < deadline, "the portal did not exit within {timeout:?}:\n{log}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// Panics with the process's log if it has exited: a test waiting on it would only time out.
    fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            let log = std::fs::read_to_string(self.log.path()).unwrap_or_default();
            panic!("portal exited ({status}):\n{log}");
        }
    }

    /// SIGKILL: no shutdown code runs.
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PortalProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A portal in this process for setting up users and approvals (it runs no engine).
async fn control(database_url: &str) -> Arc<server::web::state::Portal> {
    let db = server::db::Database::connect(database_url).await.expect("database");
    let catalog = Arc::new(infra::Catalog::embedded().expect("catalog"));
    let service = Arc::new(server::catalog::CatalogService::new(catalog, true));
    Arc::new(server::web::state::Portal::new(service, db, Default::default()))
}

async fn user(portal: &server::web::state::Portal, name: &str, role: Role) -> User {
    let roles: BTreeSet<Role> = [role].into_iter().collect();
    add_user(&portal.db, name, &roles, None, false).await.expect("user").0
}

/// Requests Development for `environment` as `lead` and approves it as `approver`; returns the rollout id.
async fn approved(portal: &server::web::state::Portal, lead: &User, approver: &User, environment: &str) -> i64 {
    let registry = server::environments::Environments { db: &portal.db, catalog: &portal.catalog.catalog };
    let input = serde_json::from_value(serde_json::json!({
        "name": environment, "account_id": portal_tests::SANDBOX_ACCOUNT, "region": "us-east-1",
        "role_arn": portal_tests::SANDBOX_ROLE, "tiers": ["development"],
    }))
    .expect("registration");
    registry.register(&User::operator(), input, None).await.expect("registered");
    let request = portal
        .requests()
        .create(
            lead,
            serde_json::from_value(serde_json::json!({
                "environment": environment, "tier": "development", "region": "us-east-1",
                "role_arn": "arn:aws:iam::123456789012:role/portal-deploy",
                "justification": "Process test of the rollout engine",
            }))
            .expect("request"),
        )
        .await
        .expect("created");
    let record = portal.requests().decide(approver, request.id, Decision::Approve, "ok").await.expect("approved");
    record.rollout_id.expect("rollout queued")
}

async fn wait_for(what: &str, timeout: Duration, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn audit_count(portal: &server::web::state::Portal, action: AuditAction, subject: &str) -> usize {
    server::audit::about(&portal.db, subject).await.expect("audit").iter().filter(|e| e.action == action).count()
}

/// Every event moto has for the environment's stacks, by stack name.
async fn moto_events(cfn: &aws_sdk_cloudformation::Client, stacks: &[String]) -> BTreeMap<String, BTreeSet<String>> {
    let mut all = BTreeMap::new();
    for stack in stacks {
        let mut ids = BTreeSet::new();
        let mut next = None;
        loop {
            let out = cfn.describe_stack_events().stack_name(stack).set_next_token(next).send().await.expect("events");
            ids.extend(out.stack_events().iter().filter_map(|e| e.event_id().map(str::to_owned)));
            next = out.next_token().map(str::to_owned);
            if next.is_none() {
                break;
            }
        }
        all.insert(stack.clone(), ids);
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_portal_resumes_its_rollout_without_duplicates() {
    let moto = Moto::start();
    // 60 ms per AWS call stretches each phase so that the kill lands inside one.
    let proxy = FaultProxy::start(&moto.endpoint, None, Duration::from_millis(60)).await;
    let database = TestDatabase::create(Backend::Sqlite).await;
    let portal = control(&database.url).await;
    let lead = user(&portal, "lead", Role::Requester).await;
    let alice = user(&portal, "alice", Role::Approver).await;
    let id = approved(&portal, &lead, &alice, "phoenix").await;

    let mut first = PortalProcess::start(&database.url, &proxy.endpoint);
    wait_for("phase 3 to start", Duration::from_secs(120), async || {
        first.assert_running();
        let view = portal.rollouts().view(id).await.expect("view");
        view.phases.get(2).is_some_and(|p| p.status == PhaseStatus::Running)
    })
    .await;
    first.kill();
    let at_kill = portal.rollouts().view(id).await.expect("view");
    assert_eq!(at_kill.status, RolloutStatus::Running, "killed mid-rollout");
    assert_eq!(at_kill.phases[2].status, PhaseStatus::Running, "killed inside phase 3");

    let mut second = PortalProcess::start(&database.url, &proxy.endpoint);
    wait_for("the rollout to end", Duration::from_secs(180), async || {
        second.assert_running();
        let view = portal.rollouts().view(id).await.expect("view");
        view.status.ended()
    })
    .await;
    let done = portal.rollouts().view(id).await.expect("view");
    assert_eq!(done.status, RolloutStatus::Succeeded, "{done:?}");
    assert!(done.phases.iter().all(|p| p.status == PhaseStatus::Done), "{done:?}");

    // Exactly one stack per phase, and every event moto has for them recorded exactly once.
    let cfn = aws_sdk_cloudformation::Client::new(&moto.sdk_config().await);
    let stacks: Vec<String> = done.phases.iter().map(|p| p.stack_name.clone()).collect();
    let listed = cfn.list_stacks().send().await.expect("list");
    let phoenix: Vec<_> =
        listed.stack_summaries().iter().filter(|s| s.stack_name().is_some_and(|n| n.starts_with("phoenix-"))).collect();
    assert_eq!(phoenix.len(), 6, "no duplicate stack");
    let expected = moto_events(&cfn, &stacks).await;
    let recorded = portal.rollouts().events(id, 0, 10_000).await.expect("events");
    let total: usize = expected.values().map(BTreeSet::len).sum();
    assert_eq!(recorded.len(), total, "every event once: moto has {total}, the portal recorded {}", recorded.len());
    let row = sqlx::query("SELECT COUNT(DISTINCT event_id) AS n FROM rollout_events WHERE rollout_id = $1")
        .bind(id)
        .fetch_one(&portal.db.pool)
        .await
        .expect("count");
    assert_eq!(sqlx::Row::try_get::<i64, _>(&row, "n").expect("n") as usize, total);
    assert_eq!(
        audit_count(&portal, AuditAction::RolloutStarted, &format!("rollout:{id}")).await,
        2,
        "started, then resumed"
    );
    assert_eq!(audit_count(&portal, AuditAction::RolloutSucceeded, &format!("rollout:{id}")).await, 1);
    let phase_entries = audit_count(&portal, AuditAction::RolloutPhase, &format!("rollout:{id}")).await;
    assert_eq!(phase_entries, 6, "each phase finished once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_portals_on_postgres_run_each_rollout_exactly_once() {
    if !portal_tests::backends().contains(&Backend::Postgres) {
        return; // backends() has said why (and fails under CI instead)
    }
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint, None, Duration::from_millis(10)).await;
    let database = TestDatabase::create(Backend::Postgres).await;
    let portal = control(&database.url).await;
    let lead = user(&portal, "lead", Role::Requester).await;
    let alice = user(&portal, "alice", Role::Approver).await;
    let mut a = PortalProcess::start(&database.url, &proxy.endpoint);
    let mut b = PortalProcess::start(&database.url, &proxy.endpoint);
    let mut ids = Vec::new();
    for n in 0..10 {
        ids.push(approved(&portal, &lead, &alice, &format!("twin-{n}")).await);
    }
    wait_for("ten rollouts to end", Duration::from_secs(300), async || {
        a.assert_running();
        b.assert_running();
        let row =
            sqlx::query("SELECT COUNT(*) AS n FROM rollouts WHERE status IN ('succeeded', 'failed', 'cancelled')")
                .fetch_one(&portal.db.pool)
                .await
                .expect("count");
        sqlx::Row::try_get::<i64, _>(&row, "n").expect("n") == 10
    })
    .await;
    let mut runners = BTreeSet::new();
    for id in &ids {
        let view = portal.rollouts().view(*id).await.expect("view");
        assert_eq!(view.status, RolloutStatus::Succeeded, "{view:?}");
        let subject = format!("rollout:{id}");
        assert_eq!(audit_count(&portal, AuditAction::RolloutStarted, &subject).await, 1, "rollout {id} started once");
        assert_eq!(audit_count(&portal, AuditAction::RolloutPhase, &subject).await, 6, "rollout {id}: each phase once");
        let row = sqlx::query("SELECT details FROM audit_log WHERE subject = $1 AND action = 'rollout.started'")
            .bind(&subject)
            .fetch_one(&portal.db.pool)
            .await
            .expect("entry");
        let details: String = sqlx::Row::try_get(&row, "details").expect("details");
        runners.insert(serde_json::from_str::<serde_json::Value>(&details).expect("json")["owner"].to_string());
    }
    assert_eq!(runners.len(), 2, "both processes ran rollouts: {runners:?}");
    let cfn = aws_sdk_cloudformation::Client::new(&moto.sdk_config().await);
    let listed = cfn.list_stacks().send().await.expect("list");
    let twins =
        listed.stack_summaries().iter().filter(|s| s.stack_name().is_some_and(|n| n.starts_with("twin-"))).count();
    assert_eq!(twins, 60, "six stacks for each of ten environments, none twice");
    drop((a, b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_portal_stopped_with_sigterm_hands_its_rollout_to_another_at_once() {
    if !portal_tests::backends().contains(&Backend::Postgres) {
        return; // backends() has said why (and fails under CI instead)
    }
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint, None, Duration::from_millis(60)).await;
    let database = TestDatabase::create(Backend::Postgres).await;
    let portal = control(&database.url).await;
    let lead = user(&portal, "lead", Role::Requester).await;
    let alice = user(&portal, "alice", Role::Approver).await;
    let roles: BTreeSet<Role> = [Role::Viewer].into_iter().collect();
    let (_, token) = add_user(&portal.db, "watcher", &roles, None, true).await.expect("user");
    let token = token.expect("token");
    // A lease far longer than the test waits: a rollout continued before it lapses was handed back.
    let long_lease = [("PORTAL_LEASE_SECONDS", "120")];
    let mut a = PortalProcess::start_with(&database.url, &proxy.endpoint, &long_lease);
    let id = approved(&portal, &lead, &alice, "relay").await;
    let lease_owner = async || {
        let row = sqlx::query("SELECT lease_owner FROM rollouts WHERE id = $1")
            .bind(id)
            .fetch_one(&portal.db.pool)
            .await
            .expect("row");
        sqlx::Row::try_get::<Option<String>, _>(&row, "lease_owner").expect("owner")
    };
    wait_for("phase 2 to run", Duration::from_secs(120), async || {
        a.assert_running();
        let view = portal.rollouts().view(id).await.expect("view");
        view.phases.get(1).is_some_and(|p| p.status == PhaseStatus::Running)
    })
    .await;
    let first_owner = lease_owner().await.expect("process A holds the lease");
    let mut b = PortalProcess::start_with(&database.url, &proxy.endpoint, &long_lease);
    let http = reqwest::Client::new();
    wait_for("process B to be ready", Duration::from_secs(60), async || {
        b.assert_running();
        http.get(b.url("/readyz")).send().await.is_ok_and(|r| r.status() == 200)
    })
    .await;
    // A browser watching the rollout on A.
    let mut stream =
        http.get(a.url(&format!("/api/rollouts/{id}/events"))).bearer_auth(&token).send().await.expect("stream opens");
    assert_eq!(stream.status(), 200);

    let stopped = Instant::now();
    a.terminate();
    // The watcher is told to reconnect, and the stream ends (so A can exit).
    let mut seen = String::new();
    while let Ok(Some(chunk)) =
        tokio::time::timeout(Duration::from_secs(20), stream.chunk()).await.expect("stream moves")
    {
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("event: restart"), "the stream says why it ends: {seen}");
    let status = a.wait_exit(Duration::from_secs(20));
    assert!(status.success(), "a graceful stop exits 0 ({status}):\n{}", a.log());
    assert!(a.log().contains("lease handed back"), "{}", a.log());
    wait_for("process B to take the rollout over", Duration::from_secs(30), async || {
        b.assert_running();
        lease_owner().await.is_some_and(|owner| owner != first_owner)
    })
    .await;
    let taken_after = stopped.elapsed();
    eprintln!("rollout {id} taken over {} ms after SIGTERM (lease 120 s)", taken_after.as_millis());
    assert!(taken_after < Duration::from_secs(60), "handed back, not left to lapse: {taken_after:?}");

    wait_for("the rollout to end", Duration::from_secs(180), async || {
        b.assert_running();
        portal.rollouts().view(id).await.expect("view").status.ended()
    })
    .await;
    let done = portal.rollouts().view(id).await.expect("view");
    assert_eq!(done.status, RolloutStatus::Succeeded, "{done:?}");
    let subject = format!("rollout:{id}");
    assert_eq!(audit_count(&portal, AuditAction::RolloutStarted, &subject).await, 2, "started, then resumed by B");
    assert_eq!(audit_count(&portal, AuditAction::RolloutPhase, &subject).await, 6, "each phase finished once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_the_request_id_the_answer_gives_back() {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let format = [("PORTAL_LOG_FORMAT", "json"), ("RUST_LOG", "info,server=debug")];
    let mut portal = PortalProcess::start_with(&database.url, "http://127.0.0.1:9", &format);
    let http = reqwest::Client::new();
    wait_for("the portal to answer", Duration::from_secs(60), async || {
        portal.assert_running();
        http.get(portal.url("/healthz")).send().await.is_ok_and(|r| r.status() == 200)
    })
    .await;
    // The caller's id is kept and given back; a malformed one is replaced by a fresh one.
    let given = http.get(portal.url("/readyz")).header("X-Request-Id", "ops-check-42").send().await.expect("answer");
    assert_eq!(given.headers()["x-request-id"], "ops-check-42");
    let odd = http.get(portal.url("/readyz")).header("X-Request-Id", "a b\"c").send().await.expect("answer");
    let fresh = odd.headers()["x-request-id"].to_str().expect("text").to_owned();
    assert!(fresh.len() == 16 && fresh.chars().all(|c| c.is_ascii_hexdigit()), "{fresh}");

    wait_for("the request's log line", Duration::from_secs(10), async || portal.log().contains("ops-check-42")).await;
    let log = portal.log();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let served = lines
        .iter()
        .find(|l| l["span"]["request_id"] == "ops-check-42")
        .unwrap_or_else(|| panic!("no line for the request:\n{log}"));
    assert_eq!(served["span"]["route"], "/readyz", "{served}");
    assert_eq!(served["fields"]["status"], 200, "{served}");
    assert!(lines.iter().any(|l| l["span"]["request_id"] == fresh.as_str()), "the fresh id is logged too");
    drop(portal);

    // An unknown format is refused before anything starts.
    let refused = Command::new(portal_binary())
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("DATABASE_URL", &database.url)
        .env("PORTAL_LOG_FORMAT", "xml")
        .output()
        .expect("portal runs");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("PORTAL_LOG_FORMAT must be text or json, got `xml`"));
}
