//! The estimate against the bill: what Cost Explorer says an environment cost (grouped by AWS
//! service and usage type) mapped to the estimate's services, compared service by service with
//! the likely reason for each difference, and the usage assumptions the bill implies.
//!
//! Pure: the server reads Cost Explorer and hands the groups over as plain data.

use serde::{Deserialize, Serialize};

use crate::cost::{round_cents, Estimate, UsdRange, SERVICES};
use crate::pricing::Usage;

/// One group of a Cost Explorer answer: one AWS service and usage type in one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BilledGroup {
    /// Cost Explorer's `SERVICE` ("Amazon Elastic Compute Cloud - Compute", "EC2 - Other"…).
    pub service: String,
    /// Its `USAGE_TYPE` ("BoxUsage:t3.small", "USE1-NatGateway-Bytes"…).
    pub usage_type: String,
    /// `UnblendedCost`.
    pub usd: f64,
    /// `UsageQuantity`, in `unit` ("Hrs", "GB", "Requests"…).
    pub quantity: f64,
    pub unit: String,
}

/// Which of the estimate's services (see [`SERVICES`]) a billed group belongs to; `None` for
/// what the estimate never prices (tax, support, services the templates do not use).
pub fn estimate_service(service: &str, usage_type: &str) -> Option<&'static str> {
    // The usage type decides first: data transfer, addresses and NAT bill under several services.
    if service == "Amazon CloudFront" {
        return Some("CloudFront");
    }
    if usage_type.contains("DataTransfer") || usage_type.contains("InterZone") {
        return Some("Data Transfer");
    }
    if usage_type.contains("PublicIPv4") || usage_type.contains("ElasticIP") {
        return Some("Public IPv4");
    }
    if usage_type.contains("NatGateway") {
        return Some("NAT Gateway");
    }
    Some(match service {
        "Amazon Elastic Compute Cloud - Compute" | "EC2 - Other" | "Amazon Elastic Block Store" => "EC2",
        "Amazon Relational Database Service" => "RDS MySQL",
        "Amazon Elastic Load Balancing" => "ALB",
        "Amazon Virtual Private Cloud" => "Public IPv4",
        "Amazon Simple Storage Service" => "S3",
        "Amazon Cognito" => "Cognito",
        "AWS Lambda" => "Lambda",
        "Amazon API Gateway" => "API Gateway",
        "AmazonCloudWatch" | "Amazon CloudWatch" | "CloudWatch Events" => "CloudWatch",
        "AWS Secrets Manager" => "Secrets Manager",
        "Amazon ElastiCache" => "ElastiCache",
        "Amazon Elastic Container Service" => "ECS Fargate",
        "Amazon EC2 Container Registry (ECR)" | "Amazon Elastic Container Registry Public" => "ECR",
        "Amazon Route 53" => "Route 53",
        "Amazon Simple Queue Service" => "SQS",
        "Amazon Simple Notification Service" => "SNS",
        "AWS Key Management Service" => "KMS",
        _ => return None,
    })
}

/// How a service's bill compares with its estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Between the low and the high estimate (with a little slack for rounding and proration).
    WithinRange,
    AboveRange,
    BelowRange,
    /// Billed, but the estimate has no line for it.
    NotEstimated,
    /// Estimated, but nothing billed.
    NotBilled,
}

/// One service, estimate beside actual.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceComparison {
    pub service: String,
    /// The estimate for the period compared (prorated when the period is part of a month).
    pub estimate: UsdRange,
    pub actual_usd: f64,
    /// Actual minus the typical estimate.
    pub difference_usd: f64,
    pub verdict: Verdict,
    /// The likely reason, in words, with the usage types that weigh most.
    pub reason: String,
}

/// A difference smaller than this, in dollars, is rounding and proration, not a finding.
const SLACK_USD: f64 = 0.50;

/// Compares a period's billed groups with the estimate's services; `share` is the part of the
/// estimate's month the period covers (1 for a whole month the environment ran throughout).
/// Services in the estimate's order, then what the estimate does not price.
pub fn compare(estimate: &Estimate, groups: &[BilledGroup], share: f64) -> Vec<ServiceComparison> {
    let share = share.clamp(0.0, 1.0);
    let mut names: Vec<String> = estimate.services.iter().map(|s| s.service.clone()).collect();
    for g in groups {
        let name = estimate_service(&g.service, &g.usage_type).map_or_else(|| g.service.clone(), str::to_owned);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let rank = |s: &str| SERVICES.iter().position(|x| *x == s).unwrap_or(SERVICES.len());
    names.sort_by_key(|n| rank(n));
    names
        .into_iter()
        .filter_map(|name| {
            let billed: Vec<&BilledGroup> = groups
                .iter()
                .filter(|g| estimate_service(&g.service, &g.usage_type).map_or(g.service == name, |s| s == name))
                .collect();
            let actual = round_cents(billed.iter().map(|g| g.usd).sum());
            let estimated = estimate.services.iter().find(|s| s.service == name).map(|s| {
                let r = s.range.unwrap_or(UsdRange::exact(s.monthly_usd));
                UsdRange {
                    low: round_cents(r.low * share),
                    typical: round_cents(r.typical * share),
                    high: round_cents(r.high * share),
                }
            });
            let in_estimate = estimated.is_some();
            let estimate = estimated.unwrap_or_default();
            if actual == 0.0 && estimate.high == 0.0 {
                return None;
            }
            let (verdict, reason) = judge(in_estimate, &estimate, actual, &billed);
            Some(ServiceComparison {
                service: name,
                estimate,
                actual_usd: actual,
                difference_usd: round_cents(actual - estimate.typical),
                verdict,
                reason,
            })
        })
        .collect()
}

fn judge(in_estimate: bool, estimate: &UsdRange, actual: f64, billed: &[&BilledGroup]) -> (Verdict, String) {
    let mut heaviest: Vec<&&BilledGroup> = billed.iter().filter(|g| g.usd > 0.0).collect();
    heaviest.sort_by(|a, b| b.usd.total_cmp(&a.usd));
    let mostly = heaviest
        .iter()
        .take(2)
        .map(|g| format!("{} ({} {}, ${:.2})", g.usage_type, trim(g.quantity), g.unit, g.usd))
        .collect::<Vec<_>>()
        .join(", ");
    if !in_estimate {
        return (
            Verdict::NotEstimated,
            format!(
                "billed but not in the estimate: a resource the cost model does not price, or one made outside \
                 the portal's templates with its tag: {mostly}"
            ),
        );
    }
    if actual == 0.0 {
        return (
            Verdict::NotBilled,
            "estimated but nothing billed: the free tier covered it, or its resources do not carry the \
             portal:environment tag in the bill (a tag counts only from its activation as a cost allocation tag)"
                .to_owned(),
        );
    }
    if actual > estimate.high + SLACK_USD {
        return (Verdict::AboveRange, format!("above the high estimate: usage above the assumption, mostly {mostly}"));
    }
    if actual < estimate.low - SLACK_USD {
        return (
            Verdict::BelowRange,
            "below the low estimate: less usage than assumed, resources stopped part of the period (a sleep \
             schedule), or a commitment's discount applied"
                .to_owned(),
        );
    }
    (Verdict::WithinRange, "within the estimate's range".to_owned())
}

fn trim(quantity: f64) -> String {
    if quantity >= 100.0 {
        format!("{quantity:.0}")
    } else {
        format!("{quantity:.2}")
    }
}

/// A usage assumption as the bill has it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageFromBill {
    pub key: String,
    pub assumed: f64,
    pub billed: f64,
    /// The usage types it was read from.
    pub source: String,
}

/// A quantity summed from a bill's groups, and the usage types it came from.
type Measured = (f64, Vec<String>);

/// The usage assumptions a whole month's bill implies, where a usage type measures one directly;
/// `cdn`: viewers are served through CloudFront (else through the load balancer, whose bytes
/// out bill as data transfer under EC2 or Elastic Load Balancing).
pub fn usage_from_bill(groups: &[BilledGroup], cdn: bool, assumed: &Usage) -> Vec<UsageFromBill> {
    let sum = |pick: &dyn Fn(&BilledGroup) -> bool| -> Measured {
        let picked: Vec<&BilledGroup> = groups.iter().filter(|g| pick(g)).collect();
        let mut types: Vec<String> = picked.iter().map(|g| g.usage_type.clone()).collect();
        types.dedup();
        (picked.iter().map(|g| g.quantity).sum(), types)
    };
    let is = |g: &BilledGroup, service: &str| g.service == service;
    let egress = |g: &BilledGroup| g.usage_type.contains("DataTransfer-Out-Bytes");
    let readings: Vec<(&str, f64, Measured)> = vec![
        (
            "viewer_transfer_gb",
            assumed.viewer_transfer_gb,
            if cdn {
                sum(&|g| is(g, "Amazon CloudFront") && egress(g))
            } else {
                sum(&|g| {
                    (is(g, "Amazon Elastic Load Balancing")
                        || is(g, "EC2 - Other")
                        || is(g, "Amazon Elastic Compute Cloud - Compute"))
                        && egress(g)
                })
            },
        ),
        (
            "viewer_requests",
            assumed.viewer_requests,
            if cdn { sum(&|g| is(g, "Amazon CloudFront") && g.usage_type.contains("Requests")) } else { (0.0, vec![]) },
        ),
        (
            "api_requests",
            assumed.api_requests,
            sum(&|g| is(g, "Amazon API Gateway") && g.usage_type.contains("ApiGatewayRequest")),
        ),
        (
            "lambda_requests",
            assumed.lambda_requests,
            sum(&|g| is(g, "AWS Lambda") && g.usage_type.ends_with("Request")),
        ),
        ("cognito_mau", assumed.cognito_mau, sum(&|g| is(g, "Amazon Cognito") && g.usage_type.contains("MAU"))),
        (
            "sqs_requests",
            assumed.sqs_requests,
            sum(&|g| is(g, "Amazon Simple Queue Service") && g.usage_type.contains("Requests")),
        ),
        (
            "sns_publishes",
            assumed.sns_publishes,
            sum(&|g| is(g, "Amazon Simple Notification Service") && g.usage_type.contains("Requests")),
        ),
        (
            "dns_queries",
            assumed.dns_queries,
            sum(&|g| is(g, "Amazon Route 53") && g.usage_type.contains("DNS-Queries")),
        ),
    ];
    let mut out: Vec<UsageFromBill> = readings
        .into_iter()
        .filter(|(_, _, (_, types))| !types.is_empty())
        .map(|(key, assumed, (billed, types))| UsageFromBill {
            key: key.to_owned(),
            assumed,
            billed: (billed * 1000.0).round() / 1000.0,
            source: types.join(", "),
        })
        .collect();
    // Through the NAT gateways: both ways together; split as the assumption splits them.
    let (nat, types) = sum(&|g| g.usage_type.contains("NatGateway-Bytes"));
    if !types.is_empty() {
        let through = assumed.server_downloads_gb + assumed.server_uploads_gb;
        let uploads = if through > 0.0 { assumed.server_uploads_gb / through } else { 0.1 };
        for (key, was, part) in [
            ("server_downloads_gb", assumed.server_downloads_gb, 1.0 - uploads),
            ("server_uploads_gb", assumed.server_uploads_gb, uploads),
        ] {
            out.push(UsageFromBill {
                key: key.to_owned(),
                assumed: was,
                billed: (nat * part * 1000.0).round() / 1000.0,
                source: format!("{} (split as assumed)", types.join(", ")),
            });
        }
    }
    out
}
