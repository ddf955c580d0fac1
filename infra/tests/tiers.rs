//! The evaluator on the real templates, for every tier.

mod common;

use infra::value::Value;
use infra::{Phase, ServiceOption, TierId};

use common::{catalog, evaluate};

fn count(ev: &infra::Evaluation, t: &str) -> usize {
    ev.of_type(t).count()
}

fn db_flags(ev: &infra::Evaluation) -> (bool, usize) {
    let dbs: Vec<_> = ev.of_type("AWS::RDS::DBInstance").collect();
    let multi = dbs.iter().any(|d| d.property("MultiAZ").and_then(Value::as_bool) == Some(true));
    let replicas = dbs.iter().filter(|d| d.property("SourceDBInstanceIdentifier").is_some()).count();
    (multi, replicas)
}

fn instance_type(ev: &infra::Evaluation) -> String {
    let asg = ev.of_type("AWS::AutoScaling::AutoScalingGroup").next().expect("an ASG");
    let lt = ev
        .target(asg.property("LaunchTemplate").and_then(|l| l.get("LaunchTemplateId")))
        .expect("the ASG's launch template is one of ours");
    lt.property("LaunchTemplateData").and_then(|d| d.get("InstanceType")).map(Value::display).expect("an instance type")
}

fn private_subnets(ev: &infra::Evaluation) -> usize {
    ev.of_type("AWS::EC2::Subnet").filter(|s| s.tag("Tier") == Some("private")).count()
}

/// (tier, NAT gateways, private subnets, Multi-AZ, replicas, CloudFront, instance type, desired)
type Expected = (TierId, usize, usize, bool, usize, usize, &'static str, f64);
const EXPECTED: [Expected; 3] = [
    (TierId::Development, 1, 1, false, 0, 0, "t3.micro", 1.0),
    (TierId::ProductionLite, 1, 2, false, 0, 1, "t3.small", 2.0),
    (TierId::FullProduction, 2, 2, true, 1, 1, "t3.small", 2.0),
];

#[test]
fn each_tier_evaluates_to_what_its_file_says() {
    let catalog = catalog();
    for (tier, nats, private, multi, replicas, cdn, kind, desired) in EXPECTED {
        let ev = evaluate(&catalog, tier);
        assert_eq!(ev.phases.len(), 6, "{tier}");
        assert_eq!(count(&ev, "AWS::EC2::NatGateway"), nats, "{tier}: NAT gateways");
        assert_eq!(count(&ev, "AWS::EC2::EIP"), nats, "{tier}: one EIP per NAT");
        assert_eq!(private_subnets(&ev), private, "{tier}: private subnets");
        assert_eq!(db_flags(&ev), (multi, replicas), "{tier}: database");
        assert_eq!(count(&ev, "AWS::CloudFront::Distribution"), cdn, "{tier}: CloudFront");
        assert_eq!(instance_type(&ev), kind, "{tier}: instance type");
        let asg = ev.of_type("AWS::AutoScaling::AutoScalingGroup").next().expect("ASG");
        assert_eq!(asg.property("DesiredCapacity").and_then(Value::as_f64), Some(desired), "{tier}");
        // Public and data subnets always span two zones: an ALB and a DB subnet group need them.
        let zones: std::collections::BTreeSet<String> =
            ev.of_type("AWS::EC2::Subnet").filter_map(|s| s.property("AvailabilityZone").map(Value::display)).collect();
        assert_eq!(zones.into_iter().collect::<Vec<_>>(), vec!["us-east-1a", "us-east-1b"], "{tier}");
        for phase in &ev.phases {
            assert!(!phase.resources.is_empty(), "{tier}: phase {:?} is empty", phase.phase);
            assert_eq!(phase.stack_name, format!("concert-preview-{}", phase.phase.slug()));
        }
    }
}

#[test]
fn later_phases_see_earlier_resources_through_imports() {
    let catalog = catalog();
    let ev = evaluate(&catalog, TierId::FullProduction);
    let asg = ev.of_type("AWS::AutoScaling::AutoScalingGroup").next().expect("ASG");
    let subnets: Vec<String> = asg
        .property("VPCZoneIdentifier")
        .and_then(Value::as_list)
        .expect("a subnet list")
        .iter()
        .map(|v| v.resource().map(|k| k.to_string()).unwrap_or_default())
        .collect();
    assert_eq!(subnets, vec!["network/PrivateSubnetA", "network/PrivateSubnetB"]);
    let db = ev
        .of_type("AWS::RDS::DBInstance")
        .find(|d| d.property("SourceDBInstanceIdentifier").is_none())
        .expect("primary DB");
    assert_eq!(db.key.phase, Phase::Data);
    let group = ev.target(db.property("DBSubnetGroupName")).expect("subnet group");
    let data_subnets = group.property("SubnetIds").and_then(Value::as_list).expect("ids");
    assert!(data_subnets.iter().all(|s| s.resource().map(|k| k.phase) == Some(Phase::Network)));
}

#[test]
fn options_switch_their_resources_on() {
    let catalog = catalog();
    let base = evaluate(&catalog, TierId::Development);
    let all: infra::OptionSet = ServiceOption::ALL.into_iter().collect();
    let spec = infra::DeploymentSpec {
        domain_name: Some(infra::DomainName::parse("concerts.example.com").expect("domain")),
        ..infra::DeploymentSpec::preview(TierId::Development, all)
    };
    let with = catalog.evaluate(&spec).expect("all options evaluate");
    for t in [
        // The queue's mapping: the function's own dead-letter queue exists without the option.
        "AWS::Lambda::EventSourceMapping",
        "AWS::SNS::Topic",
        "AWS::ElastiCache::CacheCluster",
        "AWS::ECS::Service",
        "AWS::Route53::HostedZone",
    ] {
        assert_eq!(count(&base, t), 0, "{t} off by default");
        assert!(count(&with, t) >= 1, "{t} on with its option");
    }
}

#[test]
fn the_encryption_and_access_rules_of_the_seed_hold() {
    let catalog = catalog();
    for tier in infra::TierId::ALL {
        let ev = evaluate(&catalog, tier);
        for bucket in ev.of_type("AWS::S3::Bucket") {
            assert!(bucket.property("BucketEncryption").is_some(), "{tier}: {} encrypted", bucket.key);
            let block = bucket.property("PublicAccessBlockConfiguration").expect("public access block");
            for key in ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"] {
                assert_eq!(block.get(key).and_then(Value::as_bool), Some(true), "{tier}: {} {key}", bucket.key);
            }
        }
        for db in ev.of_type("AWS::RDS::DBInstance") {
            if db.property("SourceDBInstanceIdentifier").is_none() {
                assert_eq!(db.property("StorageEncrypted").and_then(Value::as_bool), Some(true));
                let password = db.property("MasterUserPassword").map(Value::display).unwrap_or_default();
                assert!(
                    password.contains("resolve:secretsmanager") || db.property("ManageMasterUserPassword").is_some(),
                    "{tier}: the DB password comes from Secrets Manager, got `{password}`"
                );
            }
        }
        let lt = ev.of_type("AWS::EC2::LaunchTemplate").next().expect("launch template");
        let tokens = lt
            .property("LaunchTemplateData")
            .and_then(|d| d.get("MetadataOptions"))
            .and_then(|m| m.get("HttpTokens"))
            .map(Value::display);
        assert_eq!(tokens.as_deref(), Some("required"), "{tier}: IMDSv2");
    }
}
