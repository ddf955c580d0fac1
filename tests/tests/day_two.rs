//! Day two against moto's server, with the calendar's clock injected (moved, never slept):
//! lifetimes (reminders in order, the expiry's teardown, an extension that saves it), sleep
//! schedules (the auto scaling group at zero outside the awake hours, back inside them, and what
//! that saves by the cost model), change windows (a rollout waiting for its window, started when
//! it opens or by an admin's override), and the bad input of each.

use std::sync::Arc;
use std::time::Duration;

use portal_tests::{Backend, Moto, TestPortal};
use serde_json::{json, Value};
use server::clock::ManualClock;
use server::people::{add_user, Role};

use crate::rollouts::{approve_all, live_stacks, people, wait_until_ended, People};

/// A portal on moto with its engine, the calendar on a clock the test moves, webhooks queued
/// (never delivered: the test reads the queue), the usual people and an admin.
pub struct DayTwo {
    pub moto: Moto,
    /// A fault-injecting proxy the portal reaches moto through, when the test asked for one.
    pub proxy: Option<portal_tests::FaultProxy>,
    pub portal: TestPortal,
    pub clock: Arc<ManualClock>,
    pub people: People,
    pub admin: String,
}

pub const HOUR: Duration = Duration::from_secs(3600);
pub const MINUTE: Duration = Duration::from_secs(60);

impl DayTwo {
    pub async fn start() -> DayTwo {
        Self::start_on(Backend::Sqlite).await
    }

    pub async fn start_on(backend: Backend) -> DayTwo {
        Self::start_with(backend, infra::Catalog::embedded().expect("catalog")).await
    }

    pub async fn start_with(backend: Backend, catalog: infra::Catalog) -> DayTwo {
        Self::start_through(backend, catalog, None).await
    }

    /// As [`DayTwo::start_with`], the portal reaching moto through a proxy answering what `faults` picks.
    pub async fn start_through(
        backend: Backend,
        catalog: infra::Catalog,
        faults: Option<portal_tests::FaultRule>,
    ) -> DayTwo {
        let moto = Moto::start();
        let proxy = match faults {
            Some(rule) => Some(portal_tests::FaultProxy::start(&moto.endpoint, Some(rule), Duration::ZERO).await),
            None => None,
        };
        let aws = match &proxy {
            Some(p) => portal_tests::sdk_config(&p.endpoint).await,
            None => moto.sdk_config().await,
        };
        let clock = ManualClock::starting_now();
        let calendar = clock.clone();
        let portal = TestPortal::start_serving_configured(backend, Some(aws), catalog, move |_, settings| {
            settings.clock = calendar;
            // Notifications are queued only with a webhook; no worker delivers them here.
            settings.webhook = Some(server::notify::Webhook {
                url: "http://127.0.0.1:9/never".into(),
                secret: "a-secret-of-sixteen".into(),
            });
        })
        .await;
        let people = people(&portal).await;
        let roles = [Role::Admin].into_iter().collect();
        let (_, admin) = add_user(&portal.portal.db, "root", &roles, None, true).await.expect("admin");
        portal.start_engine();
        DayTwo { moto, proxy, portal, clock, people, admin: admin.expect("token") }
    }

    /// Registers `name` and sets its day-two policy, as an admin does through the API.
    pub async fn register(&self, name: &str, lifecycle: Value) {
        self.portal.register(&[name]).await;
        let (status, body) = self.put(&format!("/api/environments/{name}"), json!({ "lifecycle": lifecycle })).await;
        assert_eq!(status, 200, "{body}");
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.portal.call("PUT", path, Some(&self.admin), Some(body)).await
    }

    pub async fn call(&self, method: &str, path: &str, who: &str, body: Option<Value>) -> (u16, Value) {
        let token = if who == "root" { Some(self.admin.as_str()) } else { self.people.token(who) };
        self.portal.call(method, path, token, body).await
    }

    /// Requests `tier` for `environment` with this body's extra fields; the request.
    pub async fn request(&self, environment: &str, tier: &str, extra: Value) -> Value {
        let mut body = json!({
            "environment": environment, "tier": tier, "justification": "Day-two test of the concert platform",
        });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let (status, request) = self.call("POST", "/api/requests", "lead", Some(body)).await;
        assert_eq!(status, 201, "{request}");
        request
    }

    /// Requests and approves a deployment, waits for its rollout: succeeded.
    pub async fn deployed(&self, environment: &str, tier: &str, extra: Value) -> i64 {
        let request = self.request(environment, tier, extra).await;
        let rollout = approve_all(&self.portal, &self.people, request["id"].as_i64().expect("id")).await;
        let ended = wait_until_ended(&self.portal, &self.people, rollout).await;
        assert_eq!(ended["status"], "succeeded", "{ended}");
        rollout
    }

    /// One day-two sweep at the clock's time.
    pub async fn sweep(&self) -> server::lifecycle::Sweep {
        self.portal.portal.lifecycle().sweep().await.expect("the sweep runs")
    }

    pub async fn status(&self, environment: &str) -> Value {
        let (status, body) =
            self.call("GET", &format!("/api/environments/{environment}/status"), "watcher", None).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// The queued notifications of one event, oldest first: their texts.
    pub async fn notified(&self, event: &str) -> Vec<String> {
        let rows = sqlx::query(sqlx::AssertSqlSafe("SELECT event, payload FROM webhook_deliveries ORDER BY id"))
            .fetch_all(&self.portal.portal.db.pool)
            .await
            .expect("deliveries");
        rows.iter()
            .filter(|r| sqlx::Row::try_get::<String, _>(*r, "event").ok().as_deref() == Some(event))
            .filter_map(|r| sqlx::Row::try_get::<String, _>(r, "payload").ok())
            .filter_map(|p| serde_json::from_str::<Value>(&p).ok())
            .filter_map(|p| p["text"].as_str().map(str::to_owned))
            .collect()
    }

    /// The newest rollout of an environment (through its status).
    pub async fn last_rollout(&self, environment: &str) -> Value {
        self.status(environment).await["last_rollout"].clone()
    }

    /// The audit entries with this action, newest first.
    pub async fn audited(&self, action: &str) -> Vec<Value> {
        let (status, body) = self.call("GET", "/api/audit?limit=500", "root", None).await;
        assert_eq!(status, 200, "{body}");
        body["entries"].as_array().into_iter().flatten().filter(|e| e["action"] == action).cloned().collect()
    }

    /// Sets the clock to the next `hour`:00 UTC after now.
    pub fn next_utc_hour(&self, hour: i64) {
        let now = self.clock_now();
        let day = now.div_euclid(86_400_000) * 86_400_000;
        let mut at = day + hour * 3_600_000;
        if at <= now {
            at += 86_400_000;
        }
        self.clock.set(at);
    }

    pub fn clock_now(&self) -> i64 {
        use server::clock::Clock;
        self.clock.now_ms()
    }
}

/// The auto scaling group of an environment in moto: (min, desired).
fn group_size(moto: &Moto, environment: &str) -> (i64, i64) {
    let found = moto.boto3(&format!(
        "resources = client('cloudformation').describe_stack_resources(StackName='{environment}-compute')['StackResources']\n\
         names = [r['PhysicalResourceId'] for r in resources if r['ResourceType'] == 'AWS::AutoScaling::AutoScalingGroup']\n\
         groups = client('autoscaling').describe_auto_scaling_groups(AutoScalingGroupNames=names)['AutoScalingGroups']\n\
         print(json.dumps([[g['MinSize'], g['DesiredCapacity']] for g in groups]))"
    ));
    let sizes = found.as_array().cloned().unwrap_or_default();
    assert_eq!(sizes.len(), 1, "one group for {environment}: {found}");
    (sizes[0][0].as_i64().unwrap_or(-1), sizes[0][1].as_i64().unwrap_or(-1))
}

/// What a schedule awake `share` of the time saves on Development, from the price catalog: its one
/// t3.micro with its 20 GB gp3 volume, and its db.t3.micro's instance hours (single-AZ, no replica:
/// RDS lets it stop), each line's month in cents, then the asleep share of it.
pub fn development_schedule_saving(share: f64) -> f64 {
    let catalog = infra::Catalog::embedded().expect("catalog");
    let price = |id: &str| catalog.prices.prices.get(id).map(|p| p.usd).unwrap_or_else(|| panic!("price {id}"));
    let hours = catalog.prices.hours_per_month;
    let cents = |v: f64| (v * 100.0).round() / 100.0;
    [hours * price("ec2.t3.micro"), 20.0 * price("ebs.gp3.gb"), hours * price("rds.mysql.db.t3.micro")]
        .into_iter()
        .map(|line| cents((1.0 - share) * cents(line)))
        .sum()
}

/// The status of an environment's database in moto.
fn database_status(moto: &Moto, environment: &str) -> String {
    let found = moto.boto3(&format!(
        "resources = client('cloudformation').describe_stack_resources(StackName='{environment}-data')['StackResources']\n\
         ids = [r['PhysicalResourceId'] for r in resources if r['LogicalResourceId'] == 'Database']\n\
         print(json.dumps(client('rds').describe_db_instances(DBInstanceIdentifier=ids[0])['DBInstances'][0]['DBInstanceStatus']))"
    ));
    found.as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_expiring_environment_is_reminded_in_order_then_torn_down_unless_extended() {
    for backend in portal_tests::backends() {
        expiring_environment_on(backend).await;
    }
}

async fn expiring_environment_on(backend: Backend) {
    let day = DayTwo::start_on(backend).await;
    let cfn = aws_sdk_cloudformation::Client::new(&day.moto.sdk_config().await);
    let reminders = json!({ "expiry_reminders": ["30m", "10m"] });
    day.register("brief", reminders.clone()).await;
    day.register("saved", reminders).await;

    let request = day.request("brief", "development", json!({ "lifetime": "1h" })).await;
    assert_eq!(request["lifetime_minutes"], 60, "{request}");
    let monthly = request["monthly_usd"].as_f64().expect("monthly");
    let lifetime = request["lifetime_usd"].as_f64().expect("the cost for its lifetime");
    assert!((lifetime - monthly / 730.0).abs() < 0.01, "one hour of {monthly}/month: {lifetime}");
    let approved_at = day.clock_now();
    let rollout = approve_all(&day.portal, &day.people, request["id"].as_i64().expect("id")).await;
    assert_eq!(wait_until_ended(&day.portal, &day.people, rollout).await["status"], "succeeded");
    day.deployed("saved", "development", json!({ "lifetime": "1h" })).await;
    assert_eq!(day.status("brief").await["expires_at"], approved_at + 3_600_000, "approval + lifetime");
    assert_eq!(day.status("brief").await["status"], "running", "not yet within its first reminder's period");

    // Nothing is due yet; then each reminder when its time comes, once, in order.
    assert!(day.sweep().await.reminded.is_empty());
    day.clock.advance(31 * MINUTE);
    let mut reminded = day.sweep().await.reminded;
    reminded.sort();
    assert_eq!(reminded, ["brief", "saved"]);
    assert!(day.sweep().await.reminded.is_empty(), "a reminder goes out once");
    assert_eq!(day.status("brief").await["status"], "expiring");

    // `saved` is extended by two hours (one approver, as its policy says) before it expires.
    let (status, extension) = day
        .call(
            "POST",
            "/api/environments/saved/extend",
            "lead",
            Some(json!({ "extend_by": "2h", "justification": "The load test runs into the evening" })),
        )
        .await;
    assert_eq!(status, 201, "{extension}");
    assert_eq!((extension["kind"].as_str(), extension["required_approvals"].as_i64()), (Some("extend"), Some(1)));
    let path = format!("/api/requests/{}/approve", extension["id"]);
    let (status, approved) = day.call("POST", &path, "alice", Some(json!({ "comment": "fine" }))).await;
    assert_eq!((status, approved["status"].as_str()), (200, Some("approved")), "{approved}");
    assert_eq!(approved["rollout_id"], Value::Null, "an extension has no rollout");
    let saved = day.status("saved").await;
    assert!(saved["expires_at"].as_i64().unwrap_or(0) > approved_at + 3 * 3_600_000 - 60_000, "{saved}");

    day.clock.advance(20 * MINUTE);
    assert_eq!(day.sweep().await.reminded, ["brief"], "the 10-minute reminder; `saved`'s moved with its expiry");
    let texts = day.notified("environment.expiry_reminder").await;
    let brief: Vec<&String> = texts.iter().filter(|t| t.contains("`brief`")).collect();
    assert_eq!(brief.len(), 2, "{texts:?}");
    assert!(brief[0].contains("expires in 29m") && brief[1].contains("expires in 9m"), "{brief:?}");

    // At expiry: a teardown approved by the expiry itself, run like any teardown.
    day.clock.advance(10 * MINUTE);
    let sweep = day.sweep().await;
    assert_eq!(sweep.expired, ["brief"], "{sweep:?}");
    assert!(day.sweep().await.expired.is_empty(), "one teardown");
    let last = day.last_rollout("brief").await;
    assert_eq!(last["kind"], "teardown", "{last}");
    let (_, teardown) = day.call("GET", &format!("/api/requests/{}", last["request_id"]), "watcher", None).await;
    assert_eq!(
        (teardown["requester"].as_str(), teardown["status"].as_str(), teardown["required_approvals"].as_i64()),
        (Some("(portal)"), Some("approved"), Some(0)),
        "{teardown}"
    );
    let ended = wait_until_ended(&day.portal, &day.people, last["id"].as_i64().expect("id")).await;
    assert_eq!(ended["status"], "succeeded", "{ended}");
    assert!(live_stacks(&cfn, "brief").await.is_empty(), "every stack of `brief` deleted");
    assert_eq!(day.status("brief").await["status"], "torn_down");
    assert!(day.notified("environment.expired").await.iter().any(|t| t.contains("`brief` expired")));
    let expired = day.audited("environment.expired").await;
    assert_eq!(expired.len(), 1, "{expired:?}");
    assert_eq!(expired[0]["subject"], "environment:brief");

    // `saved` lives on; an extension of the torn-down one is refused, naming the environment.
    assert_eq!(day.status("saved").await["status"], "running");
    assert_eq!(live_stacks(&cfn, "saved").await.len(), 6);
    let (status, refused) = day
        .call(
            "POST",
            "/api/environments/brief/extend",
            "lead",
            Some(json!({ "extend_by": "1d", "justification": "Too late for this one" })),
        )
        .await;
    assert_eq!((status, refused["error"]["field"].as_str()), (422, Some("environment")), "{refused}");

    // The environments page reads every environment at once; it says what one read each says.
    same_rows_read_at_once(&day).await;
}

/// Every environment's row read at once (the environments page) is the row read alone (its page).
pub async fn same_rows_read_at_once(day: &DayTwo) {
    let lifecycle = day.portal.portal.lifecycle();
    let environments = lifecycle.registry().list().await.expect("registry");
    let together = lifecycle.rows(&environments).await.expect("rows");
    assert_eq!(together.len(), environments.len());
    for (environment, row) in environments.iter().zip(together) {
        assert_eq!(row, lifecycle.row(environment).await.expect("row"), "{}", environment.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pending_extension_holds_the_teardown_and_a_lifetime_beyond_the_maximum_is_refused() {
    let day = DayTwo::start().await;
    day.register("held", json!({ "lifetimes": { "development": { "default": "2h", "max": "3h" } } })).await;
    let before = day.audited("request.created").await.len();
    let body = json!({ "environment": "held", "tier": "development", "lifetime": "4h",
        "justification": "Longer than this environment allows" });
    let (status, refused) = day.call("POST", "/api/requests", "lead", Some(body)).await;
    assert_eq!((status, refused["error"]["field"].as_str()), (422, Some("lifetime")), "{refused}");
    assert_eq!(day.audited("request.created").await.len(), before, "nothing stored");

    // No lifetime asked: the tier's default in this environment.
    let request = day.request("held", "development", json!({})).await;
    assert_eq!(request["lifetime_minutes"], 120, "{request}");
    let rollout = approve_all(&day.portal, &day.people, request["id"].as_i64().expect("id")).await;
    assert_eq!(wait_until_ended(&day.portal, &day.people, rollout).await["status"], "succeeded");
    let extend = |by: &str| json!({ "extend_by": by, "justification": "Needed a little longer for the demo" });
    let (status, refused) = day.call("POST", "/api/environments/held/extend", "lead", Some(extend("2h"))).await;
    assert_eq!((status, refused["error"]["field"].as_str()), (422, Some("extend_by")), "4h from now > 3h: {refused}");
    let (status, pending) = day.call("POST", "/api/environments/held/extend", "lead", Some(extend("30m"))).await;
    assert_eq!(status, 201, "{pending}");

    day.clock.advance(2 * HOUR + MINUTE);
    assert!(day.sweep().await.expired.is_empty(), "an extension is pending: not torn down");
    assert_eq!(day.last_rollout("held").await["kind"], "deploy");
    let path = format!("/api/requests/{}/reject", pending["id"]);
    let (status, _) = day.call("POST", &path, "alice", Some(json!({ "comment": "No" }))).await;
    assert_eq!(status, 200);
    assert_eq!(day.sweep().await.expired, ["held"], "rejected: the expiry holds");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_schedule_scales_the_group_to_zero_outside_its_hours_and_back_inside_them() {
    let day = DayTwo::start().await;
    day.register("nightly", json!({})).await;
    day.deployed("nightly", "development", json!({})).await;
    assert_eq!(group_size(&day.moto, "nightly"), (1, 1));
    let schedule = json!({ "time_zone": "UTC", "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "from": "08:00", "until": "19:00" });
    let (status, body) = day.put("/api/environments/nightly", json!({ "lifecycle": { "schedule": schedule } })).await;
    assert_eq!(status, 200, "{body}");

    day.next_utc_hour(20);
    let sweep = day.sweep().await;
    assert_eq!(sweep.slept, ["nightly"], "{sweep:?}");
    let sleep = day.last_rollout("nightly").await;
    assert_eq!(sleep["kind"], "sleep");
    let ended = wait_until_ended(&day.portal, &day.people, sleep["id"].as_i64().expect("id")).await;
    assert_eq!(ended["status"], "succeeded", "{ended}");
    let phases = ended["phases"].as_array().cloned().unwrap_or_default();
    let changed = |number: i64| {
        phases.iter().find(|p| p["number"] == number).map(|p| p["changes"].to_string()).unwrap_or_default()
    };
    assert_eq!(phases.len(), 2, "the compute stack, then the database: {ended}");
    assert!(changed(3).contains("AutoScalingGroup"), "{ended}");
    assert!(changed(2).contains("\"Stop\"") && changed(2).contains("Database"), "{ended}");
    assert_eq!(group_size(&day.moto, "nightly"), (0, 0));
    assert_eq!(database_status(&day.moto, "nightly"), "stopped", "Development's database stops (no read replica)");
    let status = day.status("nightly").await;
    assert_eq!(status["status"], "sleeping", "{status}");
    assert_eq!(status["next_action"]["what"], "wakes");
    assert!(day.sweep().await.slept.is_empty(), "asleep already");
    assert_eq!(day.audited("environment.sleep").await.len(), 1);

    day.next_utc_hour(9);
    assert_eq!(day.sweep().await.woken, ["nightly"]);
    let wake = day.last_rollout("nightly").await;
    assert_eq!(
        wait_until_ended(&day.portal, &day.people, wake["id"].as_i64().expect("id")).await["status"],
        "succeeded"
    );
    assert_eq!(group_size(&day.moto, "nightly"), (1, 1), "back to Development's size");
    assert_eq!(database_status(&day.moto, "nightly"), "available");
    assert_eq!(day.status("nightly").await["status"], "running");

    // What the schedule saves is the cost model's own difference: 13 of 24 hours asleep.
    let sleep = &day.status("nightly").await["sleep"];
    assert_eq!(sleep["awake_share"], 11.0 / 24.0, "{sleep}");
    let stopping: f64 =
        sleep["stopping"].as_array().into_iter().flatten().filter_map(|l| l["saving_usd"].as_f64()).sum();
    assert!((sleep["saving_usd"].as_f64().unwrap_or(0.0) - stopping).abs() < 0.011, "{sleep}");
    let expected = development_schedule_saving(11.0 / 24.0);
    assert!((sleep["saving_usd"].as_f64().unwrap_or(0.0) - expected).abs() < 0.011, "expected {expected}: {sleep}");
    let running: Vec<&str> =
        sleep["running"].as_array().into_iter().flatten().filter_map(|l| l["resource"].as_str()).collect();
    assert!(running.contains(&"NatGatewayA") && running.contains(&"LoadBalancer"), "what cannot sleep: {running:?}");

    // Asleep again, then its schedule is removed: the portal wakes it rather than leave it asleep.
    day.next_utc_hour(20);
    assert_eq!(day.sweep().await.slept, ["nightly"]);
    let again = day.last_rollout("nightly").await;
    assert_eq!(
        wait_until_ended(&day.portal, &day.people, again["id"].as_i64().expect("id")).await["status"],
        "succeeded"
    );
    same_rows_read_at_once(&day).await;
    let (status, body) = day.put("/api/environments/nightly", json!({ "lifecycle": { "schedule": null } })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(day.sweep().await.woken, ["nightly"], "no schedule: awake");
    let woken = day.last_rollout("nightly").await;
    assert_eq!(
        wait_until_ended(&day.portal, &day.people, woken["id"].as_i64().expect("id")).await["status"],
        "succeeded"
    );
    assert_eq!(group_size(&day.moto, "nightly"), (1, 1));
    assert!(day.sweep().await.woken.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rollout_outside_its_window_waits_for_it_or_for_an_admins_override() {
    for backend in portal_tests::backends() {
        window_on(backend).await;
    }
}

async fn window_on(backend: Backend) {
    let day = DayTwo::start_on(backend).await;
    let windows = json!({ "time_zone": "UTC",
        "windows": [{ "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "from": "09:00", "until": "10:00" }] });
    day.register("guarded", json!({ "change_windows": windows })).await;
    day.next_utc_hour(12);

    let request = day.request("guarded", "development", json!({})).await;
    let rollout = approve_all(&day.portal, &day.people, request["id"].as_i64().expect("id")).await;
    let (_, waiting) = day.call("GET", &format!("/api/rollouts/{rollout}"), "watcher", None).await;
    assert_eq!(waiting["status"], "waiting_for_window", "{waiting}");
    let opens = day.clock_now() + 21 * 3_600_000;
    assert_eq!(waiting["window_opens_at"], opens, "tomorrow 09:00 UTC");
    assert_eq!(day.status("guarded").await["status"], "deploying");
    assert!(day.sweep().await.released.is_empty(), "still outside its window");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (_, still) = day.call("GET", &format!("/api/rollouts/{rollout}"), "watcher", None).await;
    assert_eq!(still["status"], "waiting_for_window", "the engine leaves it alone");
    // Cancelled and retried outside the window, it waits again: a retry is a new start.
    let (status, body) = day.call("POST", &format!("/api/rollouts/{rollout}/cancel"), "lead", None).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = day.call("POST", &format!("/api/rollouts/{rollout}/retry"), "lead", None).await;
    assert_eq!(status, 200, "{body}");
    let (_, retried) = day.call("GET", &format!("/api/rollouts/{rollout}"), "watcher", None).await;
    assert_eq!(
        (retried["status"].as_str(), retried["attempt"].as_i64()),
        (Some("waiting_for_window"), Some(2)),
        "{retried}"
    );
    assert_eq!(retried["window_opens_at"], opens);
    let retries = day.audited("rollout.retry").await;
    assert_eq!(retries[0]["details"]["waiting_for_window"], true, "{retries:?}");

    day.clock.set(opens);
    assert_eq!(day.sweep().await.released, [rollout]);
    assert_eq!(wait_until_ended(&day.portal, &day.people, rollout).await["status"], "succeeded");
    assert_eq!(day.audited("rollout.window_opened").await.len(), 1);

    // An update approved at 11:00 waits; an admin overrides the window, with a reason.
    day.clock.advance(2 * HOUR);
    let update = day.request("guarded", "development", json!({ "usage": { "cognito_mau": 2000 } })).await;
    let second = approve_all(&day.portal, &day.people, update["id"].as_i64().expect("id")).await;
    let path = format!("/api/rollouts/{second}/override");
    let reason = json!({ "reason": "Hotfix for the box office outage" });
    let (status, _) = day.call("POST", &path, "alice", Some(reason.clone())).await;
    assert_eq!(status, 403, "admins only");
    let (status, body) = day.call("POST", &path, "root", Some(json!({ "reason": "now" }))).await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("reason")), "{body}");
    let (status, started) = day.call("POST", &path, "root", Some(reason.clone())).await;
    assert_eq!(status, 200, "{started}");
    assert_eq!(started["window_override"], json!(["root", "Hotfix for the box office outage"]));
    assert_eq!(wait_until_ended(&day.portal, &day.people, second).await["status"], "succeeded");
    let overrides = day.audited("rollout.window_override").await;
    assert_eq!((overrides.len(), overrides[0]["actor"].as_str()), (1, Some("root")), "{overrides:?}");
    assert!(overrides[0]["details"].to_string().contains("box office"), "{overrides:?}");
    let (status, again) = day.call("POST", &path, "root", Some(reason)).await;
    assert_eq!(status, 409, "not waiting any more: {again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn day_two_policies_that_cannot_work_are_refused_naming_the_field_and_nothing_is_stored() {
    // A catalog whose compute phase has no auto scaling group (its type renamed).
    let mut sources = infra::Sources::embedded();
    let compute =
        sources.templates[2].1.replace("Type: AWS::AutoScaling::AutoScalingGroup", "Type: AWS::AutoScaling::WarmPool");
    sources = sources.with_template(infra::Phase::Compute, compute);
    let portal =
        TestPortal::start_with_catalog(Backend::Sqlite, None, infra::Catalog::from_sources(sources).expect("catalog"))
            .await;
    let roles = [Role::Admin].into_iter().collect();
    let (_, admin) = add_user(&portal.portal.db, "root", &roles, None, true).await.expect("admin");
    let admin = admin.expect("token");
    portal.register(&["policy-env"]).await;
    let stored = || async {
        let (_, body) = portal.call("GET", "/api/environments/policy-env", Some(&admin), None).await;
        body["lifecycle"].clone()
    };
    let before = stored().await;
    let schedule = json!({ "time_zone": "UTC", "days": ["mon"], "from": "08:00", "until": "19:00" });
    for (lifecycle, field) in [
        (json!({ "schedule": schedule }), "lifecycle.schedule"),
        (
            json!({ "schedule": { "time_zone": "Mars/Olympus_Mons", "days": ["mon"], "from": "08:00", "until": "19:00" } }),
            "lifecycle.schedule.time_zone",
        ),
        (
            json!({ "change_windows": { "time_zone": "Europe/Atlantis", "windows": [{ "days": ["tue"], "from": "09:00", "until": "16:00" }] } }),
            "lifecycle.change_windows.time_zone",
        ),
        (
            json!({ "change_windows": { "time_zone": "UTC", "windows": [{ "days": ["tue"], "from": "16:00", "until": "09:00" }] } }),
            "lifecycle.change_windows.windows[0].until",
        ),
        (
            json!({ "change_windows": { "time_zone": "UTC", "windows": [{ "days": ["tue"], "from": "09:00", "until": "16:00" }],
            "freezes": [{ "from": "2000-01-01", "until": "2099-12-31", "reason": "forever" }] } }),
            "lifecycle.change_windows",
        ),
        (
            json!({ "lifetimes": { "development": { "default": "31d", "max": "30d" } } }),
            "lifecycle.lifetimes.development.default",
        ),
    ] {
        let (status, body) = portal
            .call("PUT", "/api/environments/policy-env", Some(&admin), Some(json!({ "lifecycle": lifecycle })))
            .await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some(field)), "{lifecycle}: {body}");
        assert_eq!(stored().await, before, "nothing stored for {lifecycle}");
    }
}
