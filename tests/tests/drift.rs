//! Drift and upgrades against moto's server (its drift detection is the sandbox launcher's):
//! an untouched environment in sync, a security group rule added through EC2 reported as modified
//! with its property path, resource types CloudFormation does not check never shown as in sync,
//! a repair whose preview lists what it reverts and whose rollout puts it back; a template change
//! shown as an older version, upgraded after its preview lists the changed resource.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::day_two::DayTwo;
use crate::rollouts::{approve_all, wait_until_ended};

/// Types the sandbox's drift detection compares (tools/sandbox/cfn_drift.py); every other one
/// must come back not checked.
const CHECKED_TYPES: [&str; 5] = [
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::SecurityGroupIngress",
    "AWS::AutoScaling::AutoScalingGroup",
    "AWS::S3::Bucket",
    "AWS::SSM::Parameter",
];

/// Starts a drift check as `who` and waits for its report.
async fn checked(day: &DayTwo, environment: &str, who: &str) -> Value {
    let path = format!("/api/environments/{environment}/drift");
    let (status, started) = day.call("POST", &path, who, None).await;
    assert_eq!(status, 202, "{started}");
    let id = started["check_id"].as_i64().expect("check id");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, report) = day.call("GET", &path, "watcher", None).await;
        assert_eq!(status, 200, "{report}");
        if report["summary"]["check_id"] == id && report["summary"]["status"] != "running" {
            return report;
        }
        assert!(Instant::now() < deadline, "the check did not end: {report}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn resource<'a>(report: &'a Value, logical_id: &str) -> &'a Value {
    report["resources"]
        .as_array()
        .and_then(|all| all.iter().find(|r| r["logical_id"] == logical_id))
        .unwrap_or_else(|| panic!("{logical_id} in the report: {report}"))
}

/// Waits for a request's change preview.
async fn preview(day: &DayTwo, request: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, record) = day.call("GET", &format!("/api/requests/{request}"), "watcher", None).await;
        if record["preview"]["status"] != "computing" && !record["preview"].is_null() {
            return record["preview"].clone();
        }
        assert!(Instant::now() < deadline, "no preview: {record}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn changes(preview: &Value) -> Vec<&Value> {
    preview["phases"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["changes"].as_array().into_iter().flatten())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rule_added_outside_the_portal_is_drift_and_a_repair_puts_it_back() {
    let day = DayTwo::start().await;
    day.register("drifty", json!({})).await;
    day.deployed("drifty", "development", json!({})).await;

    let clean = checked(&day, "drifty", "lead").await;
    assert_eq!(clean["summary"]["status"], "in_sync", "{clean}");
    assert_eq!(clean["summary"]["requested_by"], "lead");
    assert_eq!(resource(&clean, "DbSecurityGroup")["status"], "in_sync");
    let resources = clean["resources"].as_array().cloned().unwrap_or_default();
    assert!(resources.len() > 30, "every resource of the six stacks: {}", resources.len());
    for r in &resources {
        let checked = CHECKED_TYPES.contains(&r["resource_type"].as_str().unwrap_or_default());
        if !checked {
            assert_eq!(r["status"], "not_checked", "a type CloudFormation does not check is never in sync: {r}");
        }
    }
    assert!(clean["summary"]["not_checked"].as_i64().unwrap_or(0) > 10, "{}", clean["summary"]);
    assert_eq!(day.status("drifty").await["status"], "running");

    // Someone opens the database to the world through EC2 directly.
    let group = resource(&clean, "DbSecurityGroup")["physical_id"].as_str().expect("group id").to_owned();
    day.moto.boto3(&format!(
        "client('ec2').authorize_security_group_ingress(GroupId='{group}', IpPermissions=[{{'IpProtocol': 'tcp', \
         'FromPort': 3306, 'ToPort': 3306, 'IpRanges': [{{'CidrIp': '0.0.0.0/0'}}]}}])\nprint('null')"
    ));
    let drifted = checked(&day, "drifty", "alice").await;
    assert_eq!(drifted["summary"]["status"], "drifted", "{drifted}");
    assert_eq!(drifted["summary"]["drifted"], 1);
    let group_drift = resource(&drifted, "DbSecurityGroup");
    assert_eq!(group_drift["status"], "modified", "{group_drift}");
    let differences = group_drift["differences"].as_array().cloned().unwrap_or_default();
    assert!(
        differences.iter().any(|d| d["path"].as_str().is_some_and(|p| p.starts_with("/SecurityGroupIngress"))
            && d["actual"].to_string().contains("0.0.0.0/0")),
        "{group_drift}"
    );
    let status = day.status("drifty").await;
    assert_eq!(status["status"], "drifted", "{status}");
    assert_eq!(status["drift"]["drifted"], 1);
    assert!(day
        .notified("environment.drifted")
        .await
        .iter()
        .any(|t| t.contains("`drifty` drifted") && t.contains("DbSecurityGroup")));
    // One check at a time per environment is the database's rule, not the caller's courtesy.
    let checks = day.audited("environment.drift_checked").await;
    assert_eq!(checks.len(), 2, "{checks:?}");

    // The repair: its approvers see what it puts back; its rollout puts it back.
    let (status, repair) = day
        .call(
            "POST",
            "/api/environments/drifty/repair",
            "lead",
            Some(json!({ "justification": "Close the database again" })),
        )
        .await;
    assert_eq!(status, 201, "{repair}");
    assert_eq!(repair["kind"], "repair");
    let request = repair["id"].as_i64().expect("id");
    let preview = preview(&day, request).await;
    assert_eq!(preview["status"], "ready", "{preview}");
    let reverted: Vec<&Value> =
        changes(&preview).into_iter().filter(|c| c["logical_id"] == "DbSecurityGroup").collect();
    assert_eq!(reverted.len(), 1, "{preview}");
    assert_eq!(reverted[0]["action"], "Modify");
    assert!(
        reverted[0]["reverts"]
            .as_array()
            .is_some_and(|r| r.iter().any(|p| p["path"].as_str().unwrap_or("").contains("SecurityGroupIngress"))),
        "the preview names what it puts back: {}",
        reverted[0]
    );
    let rollout = approve_all(&day.portal, &day.people, request).await;
    assert_eq!(wait_until_ended(&day.portal, &day.people, rollout).await["status"], "succeeded");
    let repaired = checked(&day, "drifty", "lead").await;
    assert_eq!(repaired["summary"]["status"], "in_sync", "{repaired}");
    assert_eq!(resource(&repaired, "DbSecurityGroup")["status"], "in_sync");
    assert_eq!(day.status("drifty").await["status"], "running");
    let rules = day.moto.boto3(&format!(
        "g = client('ec2').describe_security_groups(GroupIds=['{group}'])['SecurityGroups'][0]\n\
         print(json.dumps([r.get('CidrIp') for p in g['IpPermissions'] for r in p.get('IpRanges', [])]))"
    ));
    assert_eq!(rules, json!([]), "the world no longer reaches the database");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn drift_checks_follow_the_policy_and_refuse_what_cannot_be_checked() {
    let day = DayTwo::start().await;
    day.register("watched", json!({ "drift_check_hours": 6 })).await;
    day.register("idle", json!({})).await;
    let (status, refused) = day.call("POST", "/api/environments/idle/drift", "lead", None).await;
    assert_eq!((status, refused["error"]["field"].as_str()), (422, Some("environment")), "nothing runs: {refused}");
    let (status, none) = day.call("GET", "/api/environments/idle/drift", "watcher", None).await;
    assert_eq!(status, 404, "{none}");
    let (status, _) = day.call("POST", "/api/environments/watched/drift", "watcher", None).await;
    assert_eq!(status, 403, "viewers look, they do not start checks");

    day.deployed("watched", "development", json!({})).await;
    let first = day.sweep().await.drift_checks;
    assert_eq!(first.len(), 1, "never checked: due at once");
    assert!(day.sweep().await.drift_checks.is_empty(), "not due again for six hours");
    let (_, report) = day.call("GET", "/api/environments/watched/drift", "watcher", None).await;
    assert_eq!(
        (report["summary"]["requested_by"].as_str(), report["summary"]["status"].as_str()),
        (Some("schedule"), Some("in_sync"))
    );
    assert_eq!(day.status("watched").await["next_action"]["what"], "drift check");
    day.clock.advance(crate::day_two::HOUR * 6);
    assert_eq!(day.sweep().await.drift_checks.len(), 1, "due again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_changed_template_shows_an_older_version_and_the_upgrade_applies_it() {
    let mut day = DayTwo::start().await;
    day.register("season", json!({})).await;
    day.deployed("season", "development", json!({ "usage": { "cognito_mau": 1200 } })).await;
    let before = day.status("season").await;
    let version = infra::Catalog::embedded().expect("catalog").version();
    assert_eq!(
        (before["catalog_version"].as_str(), before["older_version"].as_bool()),
        (Some(version.as_str()), Some(false))
    );
    let (status, refused) = day
        .call("POST", "/api/environments/season/upgrade", "lead", Some(json!({ "justification": "Nothing newer yet" })))
        .await;
    assert_eq!((status, refused["error"]["field"].as_str()), (422, Some("environment")), "{refused}");

    // The portal now serves a catalog whose data template describes the endpoint parameter anew.
    let sources = infra::Sources::embedded();
    let data = sources.templates[1].1.replace(
        "Description: Host name of the primary MySQL instance",
        "Description: Host name of the primary MySQL instance (the writer)",
    );
    assert_ne!(data, sources.templates[1].1, "the edit applies");
    let catalog = infra::Catalog::from_sources(sources.with_template(infra::Phase::Data, data)).expect("catalog");
    let new_version = catalog.version();
    let calendar = day.clock.clone();
    let upgraded = day
        .portal
        .upgraded_configured(Some(day.moto.sdk_config().await), catalog, move |_, settings| settings.clock = calendar)
        .await;
    upgraded.start_engine();
    let (_, status) = upgraded.call("GET", "/api/environments/season/status", day.people.token("watcher"), None).await;
    assert_eq!(
        (status["older_version"].as_bool(), status["catalog_version"].as_str()),
        (Some(true), Some(version.as_str())),
        "{status}"
    );

    let (code, upgrade) = upgraded
        .call(
            "POST",
            "/api/environments/season/upgrade",
            day.people.token("lead"),
            Some(json!({ "justification": "Take the new catalog" })),
        )
        .await;
    assert_eq!(code, 201, "{upgrade}");
    assert_eq!((upgrade["kind"].as_str(), upgrade["tier"].as_str()), (Some("upgrade"), Some("development")));
    assert_eq!(upgrade["usage"]["cognito_mau"], 1200.0, "the environment's usage carried over");
    assert_eq!(upgrade["catalog_version"], new_version);
    let request = upgrade["id"].as_i64().expect("id");
    // The old portal keeps the database's files: it stays alive beside the new one.
    let _old = std::mem::replace(&mut day.portal, upgraded);
    let upgraded_day = day;
    let preview = preview(&upgraded_day, request).await;
    assert_eq!(preview["status"], "ready", "{preview}");
    let listed: Vec<(String, String)> = changes(&preview)
        .into_iter()
        .map(|c| (c["action"].as_str().unwrap_or("").to_owned(), c["logical_id"].as_str().unwrap_or("").to_owned()))
        .collect();
    assert!(listed.contains(&("Modify".to_owned(), "DbEndpointParameter".to_owned())), "{listed:?}");
    let rollout = approve_all(&upgraded_day.portal, &upgraded_day.people, request).await;
    assert_eq!(wait_until_ended(&upgraded_day.portal, &upgraded_day.people, rollout).await["status"], "succeeded");
    let after = upgraded_day.status("season").await;
    assert_eq!(
        (after["older_version"].as_bool(), after["catalog_version"].as_str()),
        (Some(false), Some(new_version.as_str())),
        "{after}"
    );
    let description = upgraded_day.moto.boto3(
        "p = client('ssm').describe_parameters(ParameterFilters=[{'Key': 'Name', 'Values': ['/season/data/db-endpoint']}])['Parameters']\n\
         print(json.dumps([x.get('Description') for x in p]))",
    );
    assert_eq!(description, json!(["Host name of the primary MySQL instance (the writer)"]), "the rollout applied it");
}
