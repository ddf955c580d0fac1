//! An environment's estimate against its bill, with moto's Cost Explorer (its answers seeded
//! through `/moto-api/static/ce/cost-and-usage-results`, as its docs say) and the calendar's clock
//! moved: a month compared service by service with its reasons, the month so far prorated and
//! projected, the usage the bill implies used on request; nothing from Cost Explorer said as such
//! (never $0); Cost Explorer not enabled, or the role not allowed, said with the fix; the sweep's
//! daily read; who may read, and how often.

use serde_json::{json, Value};

use crate::day_two::{DayTwo, HOUR, MINUTE};

/// 2027-02-10 12:00 UTC: January is a whole month behind, February 9 days in.
const FEBRUARY_10: i64 = 1_802_260_800_000;

fn group(service: &str, usage_type: &str, usd: f64, quantity: f64, unit: &str) -> Value {
    json!({
        "Keys": [service, usage_type],
        "Metrics": {
            "UnblendedCost": { "Amount": format!("{usd}"), "Unit": "USD" },
            "UsageQuantity": { "Amount": format!("{quantity}"), "Unit": unit },
        },
    })
}

/// Queues Cost Explorer's next answer in moto for the sandbox account.
async fn seed_cost_explorer(day: &DayTwo, periods: Value) {
    let body = json!({
        "account_id": portal_tests::SANDBOX_ACCOUNT,
        "results": [{ "ResultsByTime": periods, "DimensionValueAttributes": [] }],
    });
    let res = reqwest::Client::new()
        .post(format!("{}/moto-api/static/ce/cost-and-usage-results", day.moto.endpoint))
        .json(&body)
        .send()
        .await
        .expect("moto answers");
    assert_eq!(res.status().as_u16(), 201, "moto took the results");
}

/// January of a Development environment: as estimated, except 4 TB to viewers through the load
/// balancer (the high assumption is 3 TB), a service the estimate does not price, and no S3 line.
fn january() -> Value {
    json!({
        "TimePeriod": { "Start": "2027-01-01", "End": "2027-02-01" },
        "Estimated": false,
        "Total": {},
        "Groups": [
            group("Amazon Elastic Compute Cloud - Compute", "BoxUsage:t3.micro", 7.59, 730.0, "Hrs"),
            group("EC2 - Other", "USE1-EBS:VolumeUsage.gp3", 1.60, 20.0, "GB-Mo"),
            group("Amazon Relational Database Service", "InstanceUsage:db.t3.micro", 12.41, 730.0, "Hrs"),
            group("Amazon Relational Database Service", "RDS:GP3-Storage", 2.30, 20.0, "GB-Mo"),
            group("Amazon Elastic Load Balancing", "USE1-LoadBalancerUsage", 16.43, 730.0, "Hrs"),
            group("Amazon Elastic Load Balancing", "USE1-LCUUsage", 31.98, 3997.0, "LCU-Hrs"),
            group("EC2 - Other", "USE1-NatGateway-Hours", 32.85, 730.0, "Hrs"),
            group("EC2 - Other", "USE1-NatGateway-Bytes", 4.50, 100.0, "GB"),
            group("EC2 - Other", "DataTransfer-Out-Bytes", 351.0, 4000.0, "GB"),
            group("Amazon Virtual Private Cloud", "USE1-PublicIPv4:InUseAddress", 10.95, 2190.0, "Hrs"),
            group("Amazon API Gateway", "USE1-ApiGatewayRequest", 7.0, 2_000_000.0, "Requests"),
            group("Amazon OpenSearch Service", "USE1-ESInstance:t3.small", 26.28, 730.0, "Hrs"),
        ],
    })
}

fn february_so_far() -> Value {
    json!({
        "TimePeriod": { "Start": "2027-02-01", "End": "2027-02-10" },
        "Estimated": true,
        "Total": {},
        "Groups": [
            group("Amazon Elastic Compute Cloud - Compute", "BoxUsage:t3.micro", 2.25, 216.0, "Hrs"),
            group("EC2 - Other", "USE1-NatGateway-Hours", 9.72, 216.0, "Hrs"),
        ],
    })
}

fn service<'a>(period: &'a Value, name: &str) -> &'a Value {
    period["services"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["service"] == name))
        .unwrap_or_else(|| panic!("{name} in {period}"))
}

async fn bill(day: &DayTwo, environment: &str, who: &str) -> Value {
    let (status, body) = day.call("GET", &format!("/api/environments/{environment}/bill"), who, None).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_bill_is_compared_service_by_service_and_its_usage_used_on_request() {
    let day = DayTwo::start().await;
    day.register("concert-bill", json!({ "lifetimes": { "development": {} } })).await;
    day.deployed("concert-bill", "development", json!({})).await;
    // Before any read the page says so; the first read is the sweep's or a person's.
    let before = bill(&day, "concert-bill", "watcher").await;
    assert!(before["status"].is_null() && before["message"].as_str().unwrap_or_default().contains("not been read"));
    day.clock.set(FEBRUARY_10);
    seed_cost_explorer(&day, json!([january(), february_so_far()])).await;

    // A viewer may see the bill, not pay for a read.
    let (status, body) = day.call("POST", "/api/environments/concert-bill/bill", "watcher", None).await;
    assert_eq!(status, 403, "{body}");
    let (status, read) = day.call("POST", "/api/environments/concert-bill/bill", "lead", None).await;
    assert_eq!(status, 201, "{read}");
    assert_eq!(read["status"], "read");

    let view = bill(&day, "concert-bill", "watcher").await;
    assert_eq!(view["status"], "read");
    assert!(view["message"].is_null(), "{view}");
    let periods = view["periods"].as_array().expect("periods");
    assert_eq!(periods.len(), 2);
    let january = &periods[0];
    assert_eq!(january["label"], "January 2027");
    assert_eq!(january["month_to_date"], false);
    assert!(january["prorated"].is_null(), "the environment ran all January: {january}");
    let seeded: f64 = 7.59 + 1.60 + 12.41 + 2.30 + 16.43 + 31.98 + 32.85 + 4.50 + 351.0 + 10.95 + 7.0 + 26.28;
    assert!((january["actual_usd"].as_f64().unwrap_or_default() - seeded).abs() < 0.011, "{january}");
    // Instance hours and their volume are one service, within its range.
    assert_eq!(service(january, "EC2")["actual_usd"], 9.19);
    assert_eq!(service(january, "EC2")["verdict"], "within_range");
    assert_eq!(service(january, "RDS MySQL")["verdict"], "within_range");
    assert_eq!(service(january, "NAT Gateway")["actual_usd"], 37.35);
    let transfer = service(january, "Data Transfer");
    assert_eq!(transfer["verdict"], "above_range");
    assert!(transfer["reason"].as_str().unwrap_or_default().contains("DataTransfer-Out-Bytes (4000 GB"), "{transfer}");
    let alb = service(january, "ALB");
    assert_eq!(alb["verdict"], "above_range", "4 TB through the load balancer: 5.5 LCU, not 1.4: {alb}");
    assert_eq!(service(january, "S3")["verdict"], "not_billed");
    assert_eq!(service(january, "Amazon OpenSearch Service")["verdict"], "not_estimated");
    // February so far: 9 of 28 days, prorated and projected.
    let february = &periods[1];
    assert_eq!(february["month_to_date"], true);
    assert!(february["label"].as_str().unwrap_or_default().starts_with("February 2027 so far"), "{february}");
    assert!(february["prorated"].as_str().unwrap_or_default().contains("9 of the month's 28 days"), "{february}");
    let (actual, projected) = (february["actual_usd"].as_f64().unwrap_or_default(), february["projected_usd"].as_f64());
    assert!((actual - 11.97).abs() < 0.011);
    assert_eq!(projected, Some(((actual / (9.0 / 28.0)) * 100.0).round() / 100.0));
    let typical = view["estimate"]["typical"].as_f64().unwrap_or_default();
    assert!((february["estimate"]["typical"].as_f64().unwrap_or_default() - typical * 9.0 / 28.0).abs() < 0.011);

    // The usage January's bill implies: 4 TB to viewers, 2 million API requests.
    let suggestion = view["suggestion"].as_array().expect("suggestion");
    let billed = |key: &str| suggestion.iter().find(|s| s["key"] == key).and_then(|s| s["billed"].as_f64());
    assert_eq!(billed("viewer_transfer_gb"), Some(4000.0));
    assert_eq!(billed("api_requests"), Some(2e6));
    assert_eq!(view["suggestion_period"][0], "2027-01-01");
    assert_eq!(view["may_use_usage"], false, "a watcher may not");
    // A viewer may not set it; an unknown month is refused; the lead sets it, audited.
    let (status, _) = day
        .call("POST", "/api/environments/concert-bill/bill/usage", "watcher", Some(json!({"period": "2027-01-01"})))
        .await;
    assert_eq!(status, 403);
    let (status, body) = day
        .call("POST", "/api/environments/concert-bill/bill/usage", "lead", Some(json!({"period": "2026-12-01"})))
        .await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("period")), "{body}");
    let (status, after) = day
        .call("POST", "/api/environments/concert-bill/bill/usage", "lead", Some(json!({"period": "2027-01-01"})))
        .await;
    assert_eq!(status, 200, "{after}");
    let dearer = after["estimate"]["typical"].as_f64().unwrap_or_default();
    // ~3 TB more through the load balancer at $0.09/GB, and its capacity units: far above before.
    assert!(dearer > typical + 250.0, "{typical} → {dearer}");
    assert!(after["usage_set_from_bill"].as_str().unwrap_or_default().contains("January 2027 by lead"), "{after}");
    let audited = day.audited("environment.usage_from_bill").await;
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0]["details"]["after"]["viewer_transfer_gb"], 4000.0);
    // An upgrade, a sleep estimate… start from the usage now: the running deployment carries it.
    let status = day.status("concert-bill").await;
    assert!(status["running_since"].is_number());

    // Each read costs $0.01: a person waits ten minutes between reads; the sweep reads once a day.
    let (status, body) = day.call("POST", "/api/environments/concert-bill/bill", "lead", None).await;
    assert_eq!(status, 429, "{body}");
    day.clock.advance(11 * MINUTE);
    let (status, _) = day.call("POST", "/api/environments/concert-bill/bill", "lead", None).await;
    assert_eq!(status, 201);
    assert!(day.sweep().await.bills.is_empty(), "read within the day");
    day.clock.advance(25 * HOUR);
    // This sweep reads it, or the portal's own periodic one just did: either way, once.
    let sweep = day.sweep().await;
    assert!(sweep.bills.len() <= 1, "{sweep:?}");
    let reads = day.audited("environment.bill_read").await;
    assert_eq!(
        reads.len(),
        3,
        "{} {:?}",
        day.status("concert-bill").await,
        day.call("GET", "/api/requests/2", "root", None).await
    );
    assert_eq!(reads[0]["actor"], "portal", "the sweep's read");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nothing_from_cost_explorer_is_said_as_such_never_as_zero() {
    let day = DayTwo::start().await;
    day.register("concert-quiet", json!({ "lifetimes": { "development": {} } })).await;
    day.deployed("concert-quiet", "development", json!({})).await;
    // moto's Cost Explorer answers nothing unless told otherwise: as AWS does for an untagged bill.
    let (status, read) = day.call("POST", "/api/environments/concert-quiet/bill", "lead", None).await;
    assert_eq!(status, 201, "{read}");
    assert_eq!(read["status"], "empty");
    let view = bill(&day, "concert-quiet", "watcher").await;
    assert_eq!(view["periods"], json!([]), "no table of zeros");
    let message = view["message"].as_str().unwrap_or_default();
    assert!(message.contains("returned nothing") && message.contains("cost allocation tag"), "{message}");
    assert!(message.contains("portal:environment = concert-quiet"));
    assert_eq!(view["suggestion"], json!([]));
}

/// Cost Explorer not enabled in the account, or the deploy role without `ce:GetCostAndUsage`:
/// said with the fix, stored as such.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cost_explorer_off_or_not_allowed_is_said_with_the_fix() {
    for (code, status, says) in [
        ("DataUnavailableException", "unavailable", "Launch Cost Explorer"),
        ("AccessDeniedException", "denied", "add ce:GetCostAndUsage"),
    ] {
        let body = format!(r#"{{"__type":"{code}","message":"refused by the test"}}"#);
        let rule = portal_tests::fault_when(&["portal:environment"], (400, body));
        let day = DayTwo::start_through(
            portal_tests::Backend::Sqlite,
            infra::Catalog::embedded().expect("catalog"),
            Some(rule),
        )
        .await;
        day.register("concert-off", json!({ "lifetimes": { "development": {} } })).await;
        day.deployed("concert-off", "development", json!({})).await;
        let (code_, read) = day.call("POST", "/api/environments/concert-off/bill", "lead", None).await;
        assert_eq!(code_, 201, "{read}");
        assert_eq!(read["status"], status, "{code}: {read}");
        let view = bill(&day, "concert-off", "watcher").await;
        assert!(view["message"].as_str().unwrap_or_default().contains(says), "{code}: {view}");
        assert_eq!(view["periods"], json!([]));
        let faults = day.proxy.as_ref().map(|p| p.faults.load(std::sync::atomic::Ordering::SeqCst));
        assert_eq!(faults, Some(1), "{code}: Cost Explorer's answer came from the fault");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sleeping_environments_bill_is_compared_with_the_estimate_less_what_stops() {
    let day = DayTwo::start().await;
    day.register("bill-nightly", json!({ "lifetimes": { "development": {} } })).await;
    day.deployed("bill-nightly", "development", json!({})).await;
    day.clock.set(FEBRUARY_10); // 12:00 UTC: inside the hours below, so nothing sleeps meanwhile
    seed_cost_explorer(&day, json!([january()])).await;
    let (status, read) = day.call("POST", "/api/environments/bill-nightly/bill", "lead", None).await;
    assert_eq!(status, 201, "{read}");
    let always_awake = bill(&day, "bill-nightly", "watcher").await;
    assert!(always_awake["schedule_note"].is_null(), "{always_awake}");

    let schedule = json!({ "time_zone": "UTC", "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "from": "08:00", "until": "19:00" });
    let (status, body) =
        day.put("/api/environments/bill-nightly", json!({ "lifecycle": { "schedule": schedule } })).await;
    assert_eq!(status, 200, "{body}");
    let scheduled = bill(&day, "bill-nightly", "watcher").await;
    // Awake 11 of 24 hours: the instance, its volume and the database's hours stop for the rest.
    let saving = crate::day_two::development_schedule_saving(11.0 / 24.0);
    let typical = |v: &Value| v["estimate"]["typical"].as_f64().unwrap_or_default();
    assert!((typical(&always_awake) - typical(&scheduled) - saving).abs() < 0.011, "{saving}: {scheduled}");
    let note = scheduled["schedule_note"].as_str().unwrap_or_default();
    assert!(note.contains("awake 46% of the week") && note.contains(&format!("${saving:.2}")), "{note}");
    let january = |v: &Value| v["periods"][0].clone();
    let (before, after) = (january(&always_awake), january(&scheduled));
    for (name, stops) in [("EC2", true), ("RDS MySQL", true), ("NAT Gateway", false), ("ALB", false)] {
        let (b, a) = (typical(service(&before, name)), typical(service(&after, name)));
        assert_eq!(b > a, stops, "{name}: {b} awake, {a} with the schedule");
    }
    assert_eq!(service(&after, "EC2")["actual_usd"], service(&before, "EC2")["actual_usd"], "the bill is the bill");
}
