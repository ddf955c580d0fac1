//! What each resource type is billed by: the meters (hours, GB, requests…) of one evaluated
//! resource, before any price. A type with no entry here is reported as unpriced.

use std::collections::BTreeSet;

use crate::catalog::Evaluation;
use crate::eval::EvaluatedResource;
use crate::pricing::{PriceCatalog, Usage};
use crate::value::Value;

/// What every resource's meters read: the deployment, one usage scenario, the catalog's facts.
pub(super) struct Context<'a> {
    pub(super) ev: &'a Evaluation,
    pub(super) usage: &'a Usage,
    pub(super) prices: &'a PriceCatalog,
    pub(super) hours: f64,
    /// Where the deployment's traffic goes, from its resources alone.
    pub(super) paths: TrafficPaths,
}

/// The shape of the network the demand is routed through: decided by the evaluation, never by
/// the usage, so every usage scenario yields the same meters (only their quantities differ).
pub(super) struct TrafficPaths {
    /// Viewers reach the load balancer through CloudFront.
    pub(super) cdn: bool,
    /// Zones the app servers run in (private subnets).
    pub(super) app_zones: usize,
    /// Zones of the database's subnet group: RDS places a single-AZ instance (or a Multi-AZ
    /// primary) in any of them.
    pub(super) data_zones: usize,
    pub(super) nat_gateways: usize,
}

impl TrafficPaths {
    pub(super) fn of(ev: &Evaluation) -> TrafficPaths {
        let zones = |tier: &str| -> usize {
            ev.of_type("AWS::EC2::Subnet")
                .filter(|s| s.tag("Tier") == Some(tier))
                .filter_map(|s| s.property("AvailabilityZone").map(Value::display))
                .collect::<BTreeSet<String>>()
                .len()
        };
        TrafficPaths {
            cdn: ev.of_type("AWS::CloudFront::Distribution").next().is_some(),
            app_zones: zones("private").max(1),
            data_zones: zones("data").max(1),
            nat_gateways: ev.of_type("AWS::EC2::NatGateway").count(),
        }
    }

    /// Share of app ↔ database traffic that crosses zones, expected over where RDS places the
    /// database: in a zone with app servers, the servers of the other zones cross; in one without,
    /// all of them do (app servers are spread evenly over their zones).
    pub(super) fn database_crossing(&self) -> f64 {
        let (app, data) = (self.app_zones.min(self.data_zones) as f64, self.data_zones as f64);
        let within = app * (app - 1.0) / app;
        let outside = data - app;
        (within + outside) / data
    }

    /// Share of NAT traffic from zones without a NAT gateway of their own, routed to another
    /// zone's gateway.
    pub(super) fn nat_crossing(&self) -> f64 {
        if self.nat_gateways == 0 {
            return 0.0;
        }
        self.app_zones.saturating_sub(self.nat_gateways) as f64 / self.app_zones as f64
    }
}

/// An ALB capacity unit handles 1 GB an hour processed (EC2 targets) or 25 new connections a second.
const LCU_GB_PER_HOUR: f64 = 1.0;
const LCU_NEW_CONNECTIONS_PER_SECOND: f64 = 25.0;
const KB_PER_GB: f64 = 1024.0 * 1024.0;

/// One billable quantity of one resource, before pricing.
pub(super) struct Meter {
    pub(super) service: &'static str,
    pub(super) price_id: String,
    pub(super) quantity: f64,
    pub(super) description: String,
    pub(super) usage_key: Option<&'static str>,
}

pub(super) fn meter(
    service: &'static str,
    price_id: impl Into<String>,
    quantity: f64,
    description: impl Into<String>,
) -> Meter {
    Meter { service, price_id: price_id.into(), quantity, description: description.into(), usage_key: None }
}

impl Meter {
    pub(super) fn driven_by(mut self, key: &'static str) -> Meter {
        self.usage_key = Some(key);
        self
    }
}

pub(super) fn num(r: &EvaluatedResource, name: &str) -> Option<f64> {
    r.property(name).and_then(Value::as_f64)
}

pub(super) fn text<'a>(r: &'a EvaluatedResource, name: &str) -> Option<&'a str> {
    r.property(name).and_then(Value::as_str)
}

pub(super) fn flag(r: &EvaluatedResource, name: &str) -> bool {
    r.property(name).and_then(Value::as_bool).unwrap_or(false)
}

/// The billable quantities of one resource; `None` when its type has no cost model.
pub(super) fn meters_of(r: &EvaluatedResource, cx: &Context, count: &dyn Fn(&str) -> f64) -> Option<Vec<Meter>> {
    let (ev, usage, h) = (cx.ev, cx.usage, cx.hours);
    Some(match r.resource_type.as_str() {
        "AWS::AutoScaling::AutoScalingGroup" => {
            let n = num(r, "DesiredCapacity").or_else(|| num(r, "MinSize")).unwrap_or(1.0);
            let template = ev.target(r.property("LaunchTemplate").and_then(|lt| lt.get("LaunchTemplateId")));
            let data = template.and_then(|t| t.property("LaunchTemplateData"));
            let mut ms = instance_meters(n, data, h);
            ms.extend(cpu_credit_meters(n, data, cx));
            ms
        }
        "AWS::EC2::Instance" => {
            let kind = text(r, "InstanceType").unwrap_or("m1.small");
            let mut ms = vec![meter("EC2", format!("ec2.{kind}"), h, format!("1 × {kind}, {h} h"))];
            if flag(r, "Monitoring") {
                ms.push(meter("CloudWatch", "cloudwatch.metric", 7.0, "detailed monitoring, 7 metrics"));
            }
            ms
        }
        "AWS::EC2::NatGateway" => nat_meters(cx, count("AWS::EC2::NatGateway")),
        "AWS::EC2::EIP" => vec![meter("Public IPv4", "ipv4.hour", h, format!("Elastic IP address, {h} h"))],
        "AWS::ElasticLoadBalancingV2::LoadBalancer" => load_balancer_meters(r, cx),
        "AWS::RDS::DBInstance" => database_meters(r, cx),
        "AWS::S3::Bucket" => bucket_meters(r, usage),
        "AWS::CloudFront::Distribution" => vec![
            meter(
                "CloudFront",
                "cloudfront.transfer.gb",
                usage.viewer_transfer_gb,
                "transfer out to viewers (North America): every byte viewers download",
            )
            .driven_by("viewer_transfer_gb"),
            meter("CloudFront", "cloudfront.https.10k", usage.viewer_requests / 10_000.0, "viewers' HTTPS requests")
                .driven_by("viewer_requests"),
            meter(
                "Data Transfer",
                "cloudfront.origin-fetch.gb",
                usage.viewer_transfer_gb * usage.cdn_origin_share,
                format!(
                    "origin fetches ({:.0}% of viewer bytes) from the load balancer and S3 to CloudFront: free from AWS origins",
                    usage.cdn_origin_share * 100.0
                ),
            )
            .driven_by("cdn_origin_share"),
        ],
        "AWS::Cognito::UserPool" => {
            let tier = text(r, "UserPoolTier").unwrap_or("ESSENTIALS").to_ascii_lowercase();
            vec![meter(
                "Cognito",
                format!("cognito.mau.{tier}"),
                usage.cognito_mau,
                format!("monthly active users ({tier})"),
            )
            .driven_by("cognito_mau")]
        }
        "AWS::Lambda::Function" => lambda_meters(r, usage, count),
        "AWS::ApiGateway::RestApi" => {
            let share = usage.api_requests / count("AWS::ApiGateway::RestApi");
            vec![
                meter("API Gateway", "apigw.rest.1m", share / 1e6, "REST API requests").driven_by("api_requests"),
                meter(
                    "Data Transfer",
                    "transfer.out.gb",
                    share * usage.api_reply_kb / KB_PER_GB,
                    format!("API replies to clients, {} KB each (non-CDN egress)", usage.api_reply_kb),
                )
                .driven_by("api_reply_kb"),
            ]
        }
        "AWS::Logs::LogGroup" => log_group_meters(r, usage, count),
        "AWS::CloudWatch::Alarm" => vec![meter("CloudWatch", "cloudwatch.alarm", 1.0, "standard-resolution alarm")],
        "AWS::SecretsManager::Secret" if has_own_usage(r) => vec![
            meter("Secrets Manager", "secrets.secret", 1.0, "secret"),
            meter("Secrets Manager", "secrets.api.10k", 0.0, "API calls: read by CloudFormation when deploying only"),
        ],
        "AWS::SecretsManager::Secret" => vec![
            meter("Secrets Manager", "secrets.secret", 1.0, "secret"),
            meter(
                "Secrets Manager",
                "secrets.api.10k",
                usage.secrets_api_calls / 10_000.0 / count("AWS::SecretsManager::Secret"),
                "API calls",
            )
            .driven_by("secrets_api_calls"),
        ],
        "AWS::SQS::Queue" if has_own_usage(r) => {
            vec![meter("SQS", "sqs.request.1m", 0.0, "dead-letter queue: requests only when processing fails")]
        }
        "AWS::SQS::Queue" => vec![meter(
            "SQS",
            "sqs.request.1m",
            usage.sqs_requests / 1e6 / count("AWS::SQS::Queue"),
            "standard queue requests",
        )
        .driven_by("sqs_requests")],
        "AWS::SNS::Topic" => {
            vec![meter("SNS", "sns.publish.1m", usage.sns_publishes / 1e6, "publishes").driven_by("sns_publishes")]
        }
        "AWS::ElastiCache::CacheCluster" => {
            let node = text(r, "CacheNodeType").unwrap_or("cache.t3.micro");
            let n = num(r, "NumCacheNodes").unwrap_or(1.0);
            vec![meter("ElastiCache", format!("elasticache.{node}"), n * h, format!("{n} × {node}, {h} h"))]
        }
        "AWS::ECS::Service" => fargate_meters(r, ev, h),
        "AWS::ECR::Repository" => {
            vec![meter("ECR", "ecr.storage.gb", usage.ecr_storage_gb, "image storage").driven_by("ecr_storage_gb")]
        }
        "AWS::Route53::HostedZone" => vec![
            meter("Route 53", "route53.zone", 1.0, "hosted zone"),
            meter(
                "Route 53",
                "route53.query.1m",
                usage.dns_queries / 1e6,
                "standard queries (alias queries to AWS are free)",
            )
            .driven_by("dns_queries"),
        ],
        "AWS::KMS::Key" => vec![meter("KMS", "kms.key", 1.0, "customer managed key")],
        _ => return None,
    })
}

/// Resources with a usage assumption of their own (dead-letter queues, the API's access log
/// group, the origin header's secret) take no share of their type's common assumption.
pub(super) fn has_own_usage(r: &EvaluatedResource) -> bool {
    matches!(r.tag("Purpose"), Some("dead-letters" | "api-access-logs" | "origin-header"))
}

/// The NAT gateway's hour and what the servers send and fetch through it (an equal share per
/// gateway); uploads leave the region; zones without a gateway of their own cross to another's.
fn nat_meters(cx: &Context, gateways: f64) -> Vec<Meter> {
    let (u, h) = (cx.usage, cx.hours);
    let through = (u.server_downloads_gb + u.server_uploads_gb) / gateways;
    let mut ms = vec![
        meter("NAT Gateway", "nat.hour", h, format!("NAT gateway, {h} h")),
        meter(
            "NAT Gateway",
            "nat.gb",
            through,
            format!(
                "data processed: servers' downloads ({} GB) and uploads ({} GB), both ways",
                u.server_downloads_gb / gateways,
                u.server_uploads_gb / gateways
            ),
        )
        .driven_by("server_downloads_gb"),
        meter(
            "Data Transfer",
            "transfer.out.gb",
            u.server_uploads_gb / gateways,
            "servers' uploads to the internet through NAT (non-CDN egress)",
        )
        .driven_by("server_uploads_gb"),
    ];
    let crossing = cx.paths.nat_crossing();
    if crossing > 0.0 {
        ms.push(
            meter(
                "Data Transfer",
                "transfer.inter-az.gb",
                through * crossing * 2.0,
                format!(
                    "{:.0}% of NAT traffic comes from a zone without its own NAT gateway: it crosses zones, billed out of one and into the other",
                    crossing * 100.0
                ),
            )
            .driven_by("server_downloads_gb"),
        );
    }
    ms
}

/// The load balancer's hour, its capacity units from what it serves, its nodes' public addresses,
/// and (without CloudFront in front) the viewers' bytes leaving the region from it.
pub(super) fn load_balancer_meters(r: &EvaluatedResource, cx: &Context) -> Vec<Meter> {
    let (u, h) = (cx.usage, cx.hours);
    let internet_facing = text(r, "Scheme") != Some("internal");
    // Behind CloudFront the load balancer sees only the origin fetches; alone, every viewer request.
    let share = if cx.paths.cdn { u.cdn_origin_share } else { 1.0 };
    let (gb, requests) =
        if internet_facing { (u.viewer_transfer_gb * share, u.viewer_requests * share) } else { (0.0, 0.0) };
    let by_bytes = gb / h / LCU_GB_PER_HOUR;
    let by_connections = requests / (h * 3600.0) / LCU_NEW_CONNECTIONS_PER_SECOND;
    let lcu = by_bytes.max(by_connections);
    let mut ms = vec![
        meter("ALB", "alb.hour", h, format!("Application Load Balancer, {h} h")),
        meter(
            "ALB",
            "alb.lcu-hour",
            lcu * h,
            format!(
                "{lcu:.2} LCU average × {h} h: the larger of {gb:.0} GB processed ({by_bytes:.2} LCU at 1 GB an hour) \
                 and {:.2} new connections a second ({by_connections:.2} LCU at 25 a second, one per request at most)",
                requests / (h * 3600.0)
            ),
        )
        .driven_by("viewer_transfer_gb"),
    ];
    if internet_facing {
        let nodes = r.property("Subnets").and_then(Value::as_list).map_or(2, <[Value]>::len) as f64;
        ms.push(meter(
            "Public IPv4",
            "ipv4.hour",
            nodes * h,
            format!("{nodes} public IPv4 addresses of the load balancer nodes"),
        ));
        if !cx.paths.cdn {
            ms.push(
                meter(
                    "Data Transfer",
                    "transfer.out.gb",
                    u.viewer_transfer_gb,
                    "viewer traffic to the internet: no CloudFront, every byte leaves from the load balancer",
                )
                .driven_by("viewer_transfer_gb"),
            );
        }
    }
    ms
}

/// A primary (single-AZ or Multi-AZ) or a read replica; a replica naming no storage size has its source's.
pub(super) fn database_meters(r: &EvaluatedResource, cx: &Context) -> Vec<Meter> {
    let (ev, usage, h) = (cx.ev, cx.usage, cx.hours);
    let class = text(r, "DBInstanceClass").unwrap_or("db.t3.micro");
    let replica = r.property("SourceDBInstanceIdentifier").is_some();
    let multi = flag(r, "MultiAZ") && !replica;
    let source = if replica { ev.target(r.property("SourceDBInstanceIdentifier")) } else { None };
    let storage =
        num(r, "AllocatedStorage").or_else(|| source.and_then(|s| num(s, "AllocatedStorage"))).unwrap_or(20.0);
    let az = if multi { ".multi-az" } else { "" };
    let role = if replica {
        "read replica"
    } else if multi {
        "Multi-AZ"
    } else {
        "single-AZ"
    };
    let mut ms = vec![
        meter("RDS MySQL", format!("rds.mysql.{class}{az}"), h, format!("{class} {role}, {h} h")),
        meter(
            "RDS MySQL",
            format!("rds.storage.gp3{az}"),
            storage,
            format!("{storage} GB gp3 storage ({role}); backups up to this size are free"),
        ),
    ];
    if !replica {
        // Multi-AZ replication and in-region read replicas cross zones for free; the app's queries do not.
        let crossing = cx.paths.database_crossing();
        ms.push(
            meter(
                "Data Transfer",
                "transfer.inter-az.gb",
                usage.app_database_gb * crossing * 2.0,
                format!(
                    "app ↔ database: {:.0}% of {} GB crosses zones (RDS picks the database's zone among {}; servers in {}), billed out of one zone and into the other",
                    crossing * 100.0,
                    usage.app_database_gb,
                    cx.paths.data_zones,
                    cx.paths.app_zones
                ),
            )
            .driven_by("app_database_gb"),
        );
    }
    // Enhanced monitoring is billed as CloudWatch Logs (RDSOSMetrics): the assumption is per
    // instance at 60 s and grows as the interval shrinks; kept the log group's 30 days.
    let interval = num(r, "MonitoringInterval").unwrap_or(0.0);
    if interval > 0.0 {
        let gb = usage.rds_os_metrics_gb * 60.0 / interval;
        ms.push(
            meter("CloudWatch", "logs.ingest.gb", gb, format!("enhanced monitoring every {interval} s ({role})"))
                .driven_by("rds_os_metrics_gb"),
        );
        ms.push(
            meter("CloudWatch", "logs.storage.gb", gb, "enhanced monitoring kept 30 days (RDSOSMetrics)")
                .driven_by("rds_os_metrics_gb"),
        );
    }
    ms
}

/// Storage by the bucket's `Purpose` tag; only the uploads bucket carries the request assumptions.
pub(super) fn bucket_meters(r: &EvaluatedResource, usage: &Usage) -> Vec<Meter> {
    let purpose = r.tag("Purpose").unwrap_or("other");
    if purpose == "logs" {
        return log_bucket_meters(r, usage);
    }
    let (gb, key) = match purpose {
        "assets" => (usage.s3_assets_gb, "s3_assets_gb"),
        "uploads" => (usage.s3_uploads_gb, "s3_uploads_gb"),
        "backups" => (usage.s3_backups_gb, "s3_backups_gb"),
        _ => (0.0, "s3_assets_gb"),
    };
    let mut ms = vec![meter("S3", "s3.standard.gb", gb, format!("{purpose}: Standard storage")).driven_by(key)];
    if purpose == "uploads" {
        ms.push(
            meter("S3", "s3.put.1k", usage.s3_put_requests / 1000.0, "PUT/POST requests").driven_by("s3_put_requests"),
        );
        ms.push(meter("S3", "s3.get.1k", usage.s3_get_requests / 1000.0, "GET requests").driven_by("s3_get_requests"));
    }
    ms
}

/// The log bucket keeps what is written for its lifecycle's expiry, a year at most; delivery
/// writes about one object per 20 KB.
fn log_bucket_meters(r: &EvaluatedResource, usage: &Usage) -> Vec<Meter> {
    let days = r
        .property("LifecycleConfiguration")
        .and_then(|l| l.get("Rules"))
        .and_then(Value::as_list)
        .into_iter()
        .flatten()
        .filter_map(|rule| rule.get("ExpirationInDays").and_then(Value::as_f64))
        .next()
        .unwrap_or(365.0);
    let months = (days / 30.0).min(12.0);
    vec![
        meter(
            "S3",
            "s3.standard.gb",
            usage.access_logs_gb * months,
            format!("access logs: Standard storage, {months:.1} months kept"),
        )
        .driven_by("access_logs_gb"),
        meter("S3", "s3.put.1k", usage.access_logs_gb * 1e6 / 20.0 / 1000.0, "access log deliveries (PUT)")
            .driven_by("access_logs_gb"),
    ]
}

/// Each function takes an equal share of the invocations assumption.
pub(super) fn lambda_meters(r: &EvaluatedResource, usage: &Usage, count: &dyn Fn(&str) -> f64) -> Vec<Meter> {
    let memory_gb = num(r, "MemorySize").unwrap_or(128.0) / 1024.0;
    let share = usage.lambda_requests / count("AWS::Lambda::Function");
    vec![
        meter("Lambda", "lambda.request.1m", share / 1e6, "invocations").driven_by("lambda_requests"),
        meter(
            "Lambda",
            "lambda.gb-second",
            share * usage.lambda_avg_duration_ms / 1000.0 * memory_gb,
            format!("compute at {} MB × {} ms", memory_gb * 1024.0, usage.lambda_avg_duration_ms),
        )
        .driven_by("lambda_avg_duration_ms"),
    ]
}

/// Each log group takes an equal share of the ingestion assumption and stores it for its retention, a year at most.
pub(super) fn log_group_meters(r: &EvaluatedResource, usage: &Usage, count: &dyn Fn(&str) -> f64) -> Vec<Meter> {
    let months = num(r, "RetentionInDays").map_or(12.0, |d| (d / 30.0).min(12.0));
    if has_own_usage(r) {
        let gb = usage.api_access_logs_gb;
        return vec![
            meter("CloudWatch", "logs.ingest.gb", gb, "API access log ingestion").driven_by("api_access_logs_gb"),
            meter("CloudWatch", "logs.storage.gb", gb * months, format!("API access logs, {months:.1} months kept"))
                .driven_by("api_access_logs_gb"),
        ];
    }
    let share = usage.logs_ingested_gb / count("AWS::Logs::LogGroup");
    vec![
        meter("CloudWatch", "logs.ingest.gb", share, "log ingestion (share of the logs assumption)")
            .driven_by("logs_ingested_gb"),
        meter(
            "CloudWatch",
            "logs.storage.gb",
            share * months,
            format!("log storage, {months:.1} months kept (upper bound)"),
        )
        .driven_by("logs_ingested_gb"),
    ]
}

/// The service's tasks, sized by their task definition.
pub(super) fn fargate_meters(r: &EvaluatedResource, ev: &Evaluation, h: f64) -> Vec<Meter> {
    let task = ev.target(r.property("TaskDefinition"));
    let cpu = task.and_then(|t| num(t, "Cpu")).unwrap_or(256.0) / 1024.0;
    let mem = task.and_then(|t| num(t, "Memory")).unwrap_or(512.0) / 1024.0;
    let n = num(r, "DesiredCount").unwrap_or(1.0);
    vec![
        meter("ECS Fargate", "fargate.vcpu-hour", n * cpu * h, format!("{n} task × {cpu} vCPU × {h} h")),
        meter("ECS Fargate", "fargate.gb-hour", n * mem * h, format!("{n} task × {mem} GB × {h} h")),
    ]
}

/// Instances, their volumes and their detailed monitoring, from launch template data.
pub(super) fn instance_meters(n: f64, data: Option<&Value>, h: f64) -> Vec<Meter> {
    let kind = data.and_then(|d| d.get("InstanceType")).and_then(Value::as_str).unwrap_or("t3.micro");
    let mut ms = vec![meter("EC2", format!("ec2.{kind}"), n * h, format!("{n} × {kind} Linux, {h} h"))];
    let volumes: f64 = data
        .and_then(|d| d.get("BlockDeviceMappings"))
        .and_then(Value::as_list)
        .map(|bdms| bdms.iter().filter_map(|b| b.get("Ebs")?.get("VolumeSize")?.as_f64()).sum())
        .unwrap_or(8.0);
    ms.push(meter("EC2", "ebs.gp3.gb", n * volumes, format!("{n} × {volumes} GB gp3 volume")));
    let monitored =
        data.and_then(|d| d.get("Monitoring")).and_then(|m| m.get("Enabled")).and_then(Value::as_bool).unwrap_or(false);
    if monitored {
        ms.push(meter("CloudWatch", "cloudwatch.metric", n * 7.0, format!("detailed monitoring, {n} × 7 metrics")));
    }
    ms
}

/// CPU credits beyond a burstable type's baseline: in Unlimited mode (t3's default) an instance
/// averaging more than its baseline pays for the surplus. Only burstable types have the line.
fn cpu_credit_meters(n: f64, data: Option<&Value>, cx: &Context) -> Vec<Meter> {
    let kind = data.and_then(|d| d.get("InstanceType")).and_then(Value::as_str).unwrap_or("t3.micro");
    let Some(b) = cx.prices.burstable(kind) else { return Vec::new() };
    let surplus = (cx.usage.cpu_average_percent - b.baseline_percent).max(0.0) / 100.0;
    vec![meter(
        "EC2",
        "ec2.cpu-credit.vcpu-hour",
        surplus * b.vcpus * n * cx.hours,
        format!(
            "CPU credits at {}% average against the {kind} baseline of {}% ({n} × {} vCPU, Unlimited mode)",
            cx.usage.cpu_average_percent, b.baseline_percent, b.vcpus
        ),
    )
    .driven_by("cpu_average_percent")]
}
