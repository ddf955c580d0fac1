//! The estimate against the bill: Cost Explorer's services and usage types mapped to the
//! estimate's services, the comparison's verdicts and reasons, the usage the bill implies.

mod common;

use infra::cost::bill::{compare, estimate_service, usage_from_bill, BilledGroup, Verdict};
use infra::TierId;

use common::{catalog, report};

fn group(service: &str, usage_type: &str, usd: f64, quantity: f64, unit: &str) -> BilledGroup {
    BilledGroup { service: service.into(), usage_type: usage_type.into(), usd, quantity, unit: unit.into() }
}

/// What Cost Explorer calls each service and usage type the templates create, and the
/// estimate's service it belongs to; `None` for what the estimate does not price.
#[test]
fn cost_explorer_services_and_usage_types_map_to_the_estimates_services() {
    let cases: &[(&str, &str, Option<&str>)] = &[
        ("Amazon Elastic Compute Cloud - Compute", "BoxUsage:t3.small", Some("EC2")),
        ("Amazon Elastic Compute Cloud - Compute", "USE1-CPUCredits:t3", Some("EC2")),
        ("EC2 - Other", "USE1-EBS:VolumeUsage.gp3", Some("EC2")),
        ("EC2 - Other", "USE1-NatGateway-Hours", Some("NAT Gateway")),
        ("EC2 - Other", "USE1-NatGateway-Bytes", Some("NAT Gateway")),
        ("EC2 - Other", "USE1-DataTransfer-Regional-Bytes", Some("Data Transfer")),
        ("EC2 - Other", "DataTransfer-Out-Bytes", Some("Data Transfer")),
        ("Amazon Virtual Private Cloud", "USE1-PublicIPv4:InUseAddress", Some("Public IPv4")),
        ("EC2 - Other", "USE1-ElasticIP:IdleAddress", Some("Public IPv4")),
        ("Amazon Relational Database Service", "InstanceUsage:db.t3.micro", Some("RDS MySQL")),
        ("Amazon Relational Database Service", "Multi-AZUsage:db.t3.micro", Some("RDS MySQL")),
        ("Amazon Relational Database Service", "USE1-RDS:ChargedBackupUsage", Some("RDS MySQL")),
        ("Amazon Relational Database Service", "USE1-DataTransfer-Regional-Bytes", Some("Data Transfer")),
        ("Amazon Elastic Load Balancing", "USE1-LoadBalancerUsage", Some("ALB")),
        ("Amazon Elastic Load Balancing", "USE1-LCUUsage", Some("ALB")),
        ("Amazon Simple Storage Service", "USE1-TimedStorage-ByteHrs", Some("S3")),
        ("Amazon Simple Storage Service", "USE1-DataTransfer-Out-Bytes", Some("Data Transfer")),
        ("Amazon CloudFront", "US-DataTransfer-Out-Bytes", Some("CloudFront")),
        ("Amazon CloudFront", "US-Requests-Tier2-HTTPS", Some("CloudFront")),
        ("Amazon Cognito", "USE1-CognitoUserPoolsMAU-Essentials", Some("Cognito")),
        ("AWS Lambda", "USE1-Request", Some("Lambda")),
        ("AWS Lambda", "USE1-Lambda-GB-Second", Some("Lambda")),
        ("Amazon API Gateway", "USE1-ApiGatewayRequest", Some("API Gateway")),
        ("Amazon API Gateway", "USE1-DataTransfer-Out-Bytes", Some("Data Transfer")),
        ("AmazonCloudWatch", "USE1-DataProcessing-Bytes", Some("CloudWatch")),
        ("AWS Secrets Manager", "USE1-AWSSecretsManager-Secrets", Some("Secrets Manager")),
        ("Amazon Simple Queue Service", "USE1-Requests-RBP", Some("SQS")),
        ("Tax", "Tax", None),
        ("AWS Support (Business)", "Dollar", None),
        ("Amazon OpenSearch Service", "USE1-ESInstance:t3.small", None),
    ];
    for (service, usage_type, expected) in cases {
        assert_eq!(estimate_service(service, usage_type), *expected, "{service} / {usage_type}");
    }
}

/// A month of Full Production's bill: services within range, one above (viewer traffic beyond
/// the free terabyte), one estimated but not billed, one billed but not estimated; usage types
/// of one service grouped into it.
#[test]
fn a_month_compares_service_by_service_with_reasons() {
    let catalog = catalog();
    let full = report(&catalog, TierId::FullProduction, catalog.tier(TierId::FullProduction).default_options.clone());
    let e = &full.estimate;
    let service = |name: &str| e.services.iter().find(|s| s.service == name).expect(name).clone();
    let ec2 = service("EC2").monthly_usd;
    let nat = service("NAT Gateway").monthly_usd;
    let groups = vec![
        group("Amazon Elastic Compute Cloud - Compute", "BoxUsage:t3.small", ec2 - 3.20, 1460.0, "Hrs"),
        group("EC2 - Other", "USE1-EBS:VolumeUsage.gp3", 3.20, 40.0, "GB-Mo"),
        group("EC2 - Other", "USE1-NatGateway-Hours", 65.70, 1460.0, "Hrs"),
        group("EC2 - Other", "USE1-NatGateway-Bytes", nat - 65.70, 100.0, "GB"),
        // 4 TB to viewers (past the high assumption of 3 TB): 3 TB beyond the free one at $0.085/GB.
        group("Amazon CloudFront", "US-DataTransfer-Out-Bytes", 3072.0 * 0.085, 4096.0, "GB"),
        group("Amazon CloudFront", "US-Requests-Tier2-HTTPS", 0.0, 12e6, "Requests"),
        group("Amazon OpenSearch Service", "USE1-ESInstance:t3.small", 26.28, 730.0, "Hrs"),
        group("Tax", "Tax", 12.0, 0.0, ""),
    ];
    let rows = compare(e, &groups, 1.0);
    let row = |name: &str| rows.iter().find(|r| r.service == name).unwrap_or_else(|| panic!("{name}: {rows:#?}"));
    assert_eq!(row("EC2").verdict, Verdict::WithinRange, "instance hours and volumes are one service");
    assert_eq!(row("EC2").actual_usd, ec2);
    assert_eq!(row("NAT Gateway").verdict, Verdict::WithinRange);
    let cdn = row("CloudFront");
    assert_eq!(cdn.verdict, Verdict::AboveRange);
    assert_eq!(cdn.actual_usd, 261.12);
    assert_eq!(cdn.difference_usd, 261.12 - service("CloudFront").monthly_usd);
    assert!(
        cdn.reason.contains("usage above the assumption") && cdn.reason.contains("US-DataTransfer-Out-Bytes (4096 GB"),
        "{}",
        cdn.reason
    );
    let rds = row("RDS MySQL");
    assert_eq!((rds.verdict, rds.actual_usd), (Verdict::NotBilled, 0.0));
    assert!(rds.reason.contains("portal:environment"), "{}", rds.reason);
    let search = row("Amazon OpenSearch Service");
    assert_eq!(search.verdict, Verdict::NotEstimated);
    assert_eq!(search.estimate.typical, 0.0);
    assert!(search.reason.contains("does not price"));
    assert_eq!(row("Tax").verdict, Verdict::NotEstimated, "shown, never folded into a service");
    // The estimate's order first (EC2 before NAT), what it does not price after.
    let order: Vec<&str> = rows.iter().map(|r| r.service.as_str()).collect();
    let at = |n: &str| order.iter().position(|o| *o == n).unwrap_or(usize::MAX);
    assert!(at("EC2") < at("NAT Gateway") && at("NAT Gateway") < at("Amazon OpenSearch Service"), "{order:?}");
    // A part of a month: the estimate is prorated before comparing.
    let half = compare(e, &groups, 0.5);
    let nat_half = half.iter().find(|r| r.service == "NAT Gateway").expect("NAT");
    assert!((nat_half.estimate.typical - nat / 2.0).abs() < 0.011);
    assert_eq!(nat_half.verdict, Verdict::AboveRange, "a whole month's hours in half a month's estimate");
}

#[test]
fn the_bill_implies_usage_where_a_usage_type_measures_it() {
    let catalog = catalog();
    let assumed = &catalog.default_usage;
    let groups = vec![
        group("Amazon CloudFront", "US-DataTransfer-Out-Bytes", 0.0, 800.0, "GB"),
        group("Amazon CloudFront", "EU-DataTransfer-Out-Bytes", 0.0, 200.0, "GB"),
        group("Amazon CloudFront", "US-Requests-Tier2-HTTPS", 0.0, 7e6, "Requests"),
        group("Amazon API Gateway", "USE1-ApiGatewayRequest", 1.75, 5e5, "Requests"),
        group("EC2 - Other", "USE1-NatGateway-Bytes", 9.0, 200.0, "GB"),
        group("AWS Lambda", "USE1-Lambda-GB-Second", 0.0, 9e4, "Second"),
    ];
    let found = usage_from_bill(&groups, true, assumed);
    let billed = |key: &str| found.iter().find(|f| f.key == key).map(|f| f.billed);
    assert_eq!(billed("viewer_transfer_gb"), Some(1000.0), "every edge's bytes to viewers");
    assert_eq!(billed("viewer_requests"), Some(7e6));
    assert_eq!(billed("api_requests"), Some(5e5));
    assert_eq!(billed("server_downloads_gb"), Some(180.0), "200 GB split 90/10 as assumed");
    assert_eq!(billed("server_uploads_gb"), Some(20.0));
    assert_eq!(billed("lambda_requests"), None, "no usage type measured it");
    assert!(found
        .iter()
        .all(|f| f.assumed == assumed.fields().iter().find(|a| a.key == f.key).map_or(-1.0, |a| a.value)));
    // Without CloudFront the viewers' bytes are the load balancer's data transfer out.
    let direct = vec![group("EC2 - Other", "DataTransfer-Out-Bytes", 83.0, 1024.0, "GB")];
    let found = usage_from_bill(&direct, false, assumed);
    assert_eq!(found.iter().find(|f| f.key == "viewer_transfer_gb").map(|f| f.billed), Some(1024.0));
}
