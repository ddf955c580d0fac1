//! What each resource type is billed by: the meters (hours, GB, requests…) of one evaluated
//! resource, before any price. A type with no entry here is reported as unpriced.

use crate::catalog::Evaluation;
use crate::eval::EvaluatedResource;
use crate::pricing::Usage;
use crate::value::Value;

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
pub(super) fn meters_of(
    r: &EvaluatedResource,
    ev: &Evaluation,
    usage: &Usage,
    hours: f64,
    count: &dyn Fn(&str) -> f64,
) -> Option<Vec<Meter>> {
    let h = hours;
    Some(match r.resource_type.as_str() {
        "AWS::AutoScaling::AutoScalingGroup" => {
            let n = num(r, "DesiredCapacity").or_else(|| num(r, "MinSize")).unwrap_or(1.0);
            let template = ev.target(r.property("LaunchTemplate").and_then(|lt| lt.get("LaunchTemplateId")));
            let data = template.and_then(|t| t.property("LaunchTemplateData"));
            instance_meters(n, data, h)
        }
        "AWS::EC2::Instance" => {
            let kind = text(r, "InstanceType").unwrap_or("m1.small");
            let mut ms = vec![meter("EC2", format!("ec2.{kind}"), h, format!("1 × {kind}, {h} h"))];
            if flag(r, "Monitoring") {
                ms.push(meter("CloudWatch", "cloudwatch.metric", 7.0, "detailed monitoring, 7 metrics"));
            }
            ms
        }
        "AWS::EC2::NatGateway" => vec![
            meter("NAT Gateway", "nat.hour", h, format!("NAT gateway, {h} h")),
            meter(
                "NAT Gateway",
                "nat.gb",
                usage.nat_processed_gb / count("AWS::EC2::NatGateway"),
                "data processed (share of the NAT assumption)",
            )
            .driven_by("nat_processed_gb"),
        ],
        "AWS::EC2::EIP" => vec![meter("Public IPv4", "ipv4.hour", h, format!("Elastic IP address, {h} h"))],
        "AWS::ElasticLoadBalancingV2::LoadBalancer" => load_balancer_meters(r, usage, h),
        "AWS::RDS::DBInstance" => database_meters(r, ev, usage, h),
        "AWS::S3::Bucket" => bucket_meters(r, usage),
        "AWS::CloudFront::Distribution" => vec![
            meter(
                "CloudFront",
                "cloudfront.transfer.gb",
                usage.cloudfront_transfer_gb,
                "transfer out to viewers (North America)",
            )
            .driven_by("cloudfront_transfer_gb"),
            meter("CloudFront", "cloudfront.https.10k", usage.cloudfront_requests / 10_000.0, "HTTPS requests")
                .driven_by("cloudfront_requests"),
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
        "AWS::ApiGateway::RestApi" => vec![meter(
            "API Gateway",
            "apigw.rest.1m",
            usage.api_requests / 1e6 / count("AWS::ApiGateway::RestApi"),
            "REST API requests",
        )
        .driven_by("api_requests")],
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

/// An internet-facing load balancer also pays for its nodes' public addresses and the traffic out.
pub(super) fn load_balancer_meters(r: &EvaluatedResource, usage: &Usage, h: f64) -> Vec<Meter> {
    let mut ms = vec![
        meter("ALB", "alb.hour", h, format!("Application Load Balancer, {h} h")),
        meter("ALB", "alb.lcu-hour", usage.alb_lcu * h, format!("{} LCU average × {h} h", usage.alb_lcu))
            .driven_by("alb_lcu"),
    ];
    if text(r, "Scheme") != Some("internal") {
        let nodes = r.property("Subnets").and_then(Value::as_list).map_or(2, <[Value]>::len) as f64;
        ms.push(meter(
            "Public IPv4",
            "ipv4.hour",
            nodes * h,
            format!("{nodes} public IPv4 addresses of the load balancer nodes"),
        ));
        ms.push(
            meter("Data Transfer", "transfer.out.gb", usage.data_transfer_out_gb, "data transfer out to the internet")
                .driven_by("data_transfer_out_gb"),
        );
    }
    ms
}

/// A primary (single-AZ or Multi-AZ) or a read replica; a replica naming no storage size has its source's.
pub(super) fn database_meters(r: &EvaluatedResource, ev: &Evaluation, usage: &Usage, h: f64) -> Vec<Meter> {
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
