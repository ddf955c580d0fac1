//! The monthly cost of an evaluated deployment, line by line.
//!
//! Lines come only from the evaluated resources: adding a resource to a
//! template adds its lines here, with no second list to keep in step.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::catalog::Evaluation;
use crate::eval::EvaluatedResource;
use crate::phase::Phase;
use crate::pricing::{Price, PriceCatalog, SeedFigure, Usage};
use crate::tier::PricingModel;
use crate::value::Value;

/// Services in the order of the seed's cost table, then the ones it leaves out.
pub const SERVICES: [&str; 19] = [
    "EC2",
    "RDS MySQL",
    "ALB",
    "NAT Gateway",
    "S3",
    "CloudFront",
    "Cognito",
    "Lambda",
    "API Gateway",
    "CloudWatch",
    "Secrets Manager",
    "Data Transfer",
    "Public IPv4",
    "ElastiCache",
    "ECS Fargate",
    "ECR",
    "Route 53",
    "SQS",
    "SNS",
];

/// Resource types that AWS does not bill for by themselves.
const FREE_TYPES: &[&str] = &[
    "AWS::EC2::VPC",
    "AWS::EC2::Subnet",
    "AWS::EC2::InternetGateway",
    "AWS::EC2::VPCGatewayAttachment",
    "AWS::EC2::RouteTable",
    "AWS::EC2::Route",
    "AWS::EC2::SubnetRouteTableAssociation",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::SecurityGroupIngress",
    "AWS::EC2::SecurityGroupEgress",
    "AWS::EC2::NetworkAcl",
    "AWS::EC2::NetworkAclEntry",
    "AWS::EC2::SubnetNetworkAclAssociation",
    "AWS::EC2::LaunchTemplate",
    "AWS::S3::BucketPolicy",
    "AWS::RDS::DBSubnetGroup",
    "AWS::SecretsManager::SecretTargetAttachment",
    "AWS::SSM::Parameter",
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::InstanceProfile",
    "AWS::ElasticLoadBalancingV2::TargetGroup",
    "AWS::ElasticLoadBalancingV2::Listener",
    "AWS::ElasticLoadBalancingV2::ListenerRule",
    "AWS::AutoScaling::ScalingPolicy",
    "AWS::Logs::LogGroup",
    "AWS::ECS::Cluster",
    "AWS::ECS::TaskDefinition",
    "AWS::ElastiCache::SubnetGroup",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolDomain",
    "AWS::Cognito::IdentityPool",
    "AWS::Cognito::IdentityPoolRoleAttachment",
    "AWS::CloudFront::OriginAccessControl",
    "AWS::CertificateManager::Certificate",
    "AWS::Route53::RecordSet",
    "AWS::Route53::RecordSetGroup",
    "AWS::Lambda::Permission",
    "AWS::Lambda::EventSourceMapping",
    "AWS::ApiGateway::Resource",
    "AWS::ApiGateway::Method",
    "AWS::ApiGateway::Authorizer",
    "AWS::ApiGateway::Deployment",
    "AWS::ApiGateway::Stage",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::SNS::Subscription",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostLine {
    pub service: String,
    pub resource: String,
    pub resource_type: String,
    pub phase: Phase,
    pub description: String,
    pub price_id: String,
    pub quantity: f64,
    pub unit: String,
    /// Part of `quantity` covered by an always-free allowance.
    pub free_quantity: f64,
    pub unit_price_usd: f64,
    pub monthly_usd: f64,
    pub on_demand_monthly_usd: f64,
    pub reserved_monthly_usd: f64,
    /// Which usage assumption the quantity comes from, if any.
    pub usage_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceTotal {
    pub service: String,
    pub monthly_usd: f64,
    /// The seed's figure for this service, in the Full Production estimate.
    pub seed_usd: Option<f64>,
    /// Why the estimate differs from the seed by more than 10%, when it does.
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unpriced {
    pub resource: String,
    pub resource_type: String,
    pub phase: Phase,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub pricing: PricingModel,
    pub free_tier: bool,
    pub lines: Vec<CostLine>,
    pub services: Vec<ServiceTotal>,
    pub monthly_usd: f64,
    pub yearly_usd: f64,
    pub on_demand_monthly_usd: f64,
    pub reserved_monthly_usd: f64,
    /// Resources of a type the cost model does not know: shown, never silently zero.
    pub unpriced: Vec<Unpriced>,
    pub prices_as_of: String,
}

/// Beyond this difference from the seed's figure, a service carries a note.
pub const SEED_TOLERANCE: f64 = 0.10;

#[derive(Debug, Clone, Copy)]
pub struct EstimateOptions {
    pub pricing: PricingModel,
    /// Apply the always-free allowances (false for accounts whose other workloads use them up).
    pub free_tier: bool,
    /// Compare with the seed's table (which describes Full Production).
    pub compare_with_seed: bool,
}

/// One billable quantity of one resource, before pricing.
struct Meter {
    service: &'static str,
    price_id: String,
    quantity: f64,
    description: String,
    usage_key: Option<&'static str>,
}

fn meter(service: &'static str, price_id: impl Into<String>, quantity: f64, description: impl Into<String>) -> Meter {
    Meter { service, price_id: price_id.into(), quantity, description: description.into(), usage_key: None }
}

impl Meter {
    fn driven_by(mut self, key: &'static str) -> Meter {
        self.usage_key = Some(key);
        self
    }
}

fn num(r: &EvaluatedResource, name: &str) -> Option<f64> {
    r.property(name).and_then(Value::as_f64)
}

fn text<'a>(r: &'a EvaluatedResource, name: &str) -> Option<&'a str> {
    r.property(name).and_then(Value::as_str)
}

fn flag(r: &EvaluatedResource, name: &str) -> bool {
    r.property(name).and_then(Value::as_bool).unwrap_or(false)
}

pub fn estimate(evaluation: &Evaluation, prices: &PriceCatalog, usage: &Usage, options: EstimateOptions) -> Estimate {
    let (meters, mut unpriced) = collect_meters(evaluation, usage, prices.hours_per_month);
    let lines = price_lines(meters, prices, options, &mut unpriced);

    let mut services = service_totals(&lines);
    if options.compare_with_seed {
        compare_with_seed(&mut services, &prices.seed);
    }
    for s in &mut services {
        s.monthly_usd = round_cents(s.monthly_usd);
    }

    let on_demand_monthly_usd = round_cents(lines.iter().map(|l| l.on_demand_monthly_usd).sum());
    let reserved_monthly_usd = round_cents(lines.iter().map(|l| l.reserved_monthly_usd).sum());
    let monthly_usd = round_cents(lines.iter().map(|l| l.monthly_usd).sum());
    Estimate {
        pricing: options.pricing,
        free_tier: options.free_tier,
        lines,
        services,
        monthly_usd,
        yearly_usd: round_cents(monthly_usd * 12.0),
        on_demand_monthly_usd,
        reserved_monthly_usd,
        unpriced,
        prices_as_of: prices.prices.values().map(|p| p.as_of.as_str()).max().unwrap_or_default().to_owned(),
    }
}

/// Every resource's meters, in resource order, and the resources of a type with no cost model.
fn collect_meters<'a>(
    evaluation: &'a Evaluation,
    usage: &Usage,
    hours: f64,
) -> (Vec<(&'a EvaluatedResource, Meter)>, Vec<Unpriced>) {
    let mut meters = Vec::new();
    let mut unpriced = Vec::new();
    let count = |t: &str| evaluation.of_type(t).count().max(1) as f64;
    for r in evaluation.resources() {
        match meters_of(r, evaluation, usage, hours, &count) {
            Some(ms) => meters.extend(ms.into_iter().map(|m| (r, m))),
            None if FREE_TYPES.contains(&r.resource_type.as_str()) => {}
            None => unpriced.push(Unpriced {
                resource: r.key.logical_id.clone(),
                resource_type: r.resource_type.clone(),
                phase: r.key.phase,
            }),
        }
    }
    (meters, unpriced)
}

/// Cost lines in the order of [`SERVICES`], then phase; a meter with no price goes to `unpriced` instead.
fn price_lines(
    meters: Vec<(&EvaluatedResource, Meter)>,
    prices: &PriceCatalog,
    options: EstimateOptions,
    unpriced: &mut Vec<Unpriced>,
) -> Vec<CostLine> {
    let mut allowance = free_allowances(prices, options.free_tier);
    let mut lines = Vec::with_capacity(meters.len());
    for (r, m) in meters {
        let Some(price) = prices.prices.get(&m.price_id) else {
            unpriced.push(Unpriced {
                resource: r.key.logical_id.clone(),
                resource_type: format!("{} (no price `{}`)", r.resource_type, m.price_id),
                phase: r.key.phase,
            });
            continue;
        };
        let free = spend_allowance(&mut allowance, &m);
        lines.push(price_line(r, m, price, free, options.pricing));
    }
    lines.sort_by_key(|l| (service_rank(&l.service), l.phase));
    lines
}

/// What is left of each always-free allowance, by price id; empty when the free tier is off.
fn free_allowances(prices: &PriceCatalog, free_tier: bool) -> IndexMap<&str, f64> {
    let mut allowance: IndexMap<&str, f64> = IndexMap::new();
    if free_tier {
        for f in &prices.free_tiers {
            *allowance.entry(f.price.as_str()).or_default() += f.quantity;
        }
    }
    allowance
}

/// The part of a meter's quantity the allowance still covers, taken out of the allowance.
/// Free allowances are per account, so they are spent across resources in order.
fn spend_allowance(allowance: &mut IndexMap<&str, f64>, m: &Meter) -> f64 {
    allowance
        .get_mut(m.price_id.as_str())
        .map(|left| {
            let used = left.min(m.quantity);
            *left -= used;
            used
        })
        .unwrap_or(0.0)
}

/// One cost line, priced both ways; `pricing` picks which one counts.
fn price_line(r: &EvaluatedResource, m: Meter, price: &Price, free: f64, pricing: PricingModel) -> CostLine {
    let billable = m.quantity - free;
    let on_demand = round_cents(billable * price.usd);
    let reserved = round_cents(billable * price.reserved_usd.unwrap_or(price.usd));
    let (unit_price, monthly) = match pricing {
        PricingModel::Reserved => (price.reserved_usd.unwrap_or(price.usd), reserved),
        PricingModel::OnDemand => (price.usd, on_demand),
    };
    CostLine {
        service: m.service.to_owned(),
        resource: r.key.logical_id.clone(),
        resource_type: r.resource_type.clone(),
        phase: r.key.phase,
        description: m.description,
        price_id: m.price_id,
        quantity: m.quantity,
        unit: price.unit.clone(),
        free_quantity: free,
        unit_price_usd: unit_price,
        monthly_usd: monthly,
        on_demand_monthly_usd: on_demand,
        reserved_monthly_usd: reserved,
        usage_key: m.usage_key.map(str::to_owned),
    }
}

/// One total per service, unrounded, from lines already sorted by service.
fn service_totals(lines: &[CostLine]) -> Vec<ServiceTotal> {
    let mut services: Vec<ServiceTotal> = Vec::new();
    for line in lines {
        match services.last_mut() {
            Some(s) if s.service == line.service => s.monthly_usd += line.monthly_usd,
            _ => services.push(ServiceTotal {
                service: line.service.clone(),
                monthly_usd: line.monthly_usd,
                seed_usd: None,
                note: None,
            }),
        }
    }
    services
}

/// Sets the seed's figure on each service it lists (adding those we have no lines for),
/// with the seed's note where the two differ by more than [`SEED_TOLERANCE`].
fn compare_with_seed(services: &mut Vec<ServiceTotal>, seed: &[SeedFigure]) {
    for seed in seed {
        let pos = match services.iter().position(|s| s.service == seed.service) {
            Some(pos) => pos,
            None => {
                services.push(ServiceTotal {
                    service: seed.service.clone(),
                    monthly_usd: 0.0,
                    seed_usd: None,
                    note: None,
                });
                services.len() - 1
            }
        };
        let s = &mut services[pos];
        s.seed_usd = Some(seed.usd);
        if differs(s.monthly_usd, seed.usd) {
            s.note = Some(seed.note.clone());
        }
    }
    services.sort_by_key(|s| service_rank(&s.service));
}

/// True when `ours` is more than [`SEED_TOLERANCE`] away from the seed's figure.
pub fn differs(ours: f64, seed: f64) -> bool {
    if seed == 0.0 {
        return ours.abs() > 0.005;
    }
    ((ours - seed) / seed).abs() > SEED_TOLERANCE
}

fn service_rank(service: &str) -> usize {
    SERVICES.iter().position(|s| *s == service).unwrap_or(SERVICES.len())
}

fn round_cents(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// The billable quantities of one resource; `None` when its type has no cost model.
fn meters_of(
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
        "AWS::RDS::DBInstance" => database_meters(r, ev, h),
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

/// An internet-facing load balancer also pays for its nodes' public addresses and the traffic out.
fn load_balancer_meters(r: &EvaluatedResource, usage: &Usage, h: f64) -> Vec<Meter> {
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
fn database_meters(r: &EvaluatedResource, ev: &Evaluation, h: f64) -> Vec<Meter> {
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
    vec![
        meter("RDS MySQL", format!("rds.mysql.{class}{az}"), h, format!("{class} {role}, {h} h")),
        meter(
            "RDS MySQL",
            format!("rds.storage.gp3{az}"),
            storage,
            format!("{storage} GB gp3 storage ({role}); backups up to this size are free"),
        ),
    ]
}

/// Storage by the bucket's `Purpose` tag; only the uploads bucket carries the request assumptions.
fn bucket_meters(r: &EvaluatedResource, usage: &Usage) -> Vec<Meter> {
    let purpose = r.tag("Purpose").unwrap_or("other");
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

/// Each function takes an equal share of the invocations assumption.
fn lambda_meters(r: &EvaluatedResource, usage: &Usage, count: &dyn Fn(&str) -> f64) -> Vec<Meter> {
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
fn log_group_meters(r: &EvaluatedResource, usage: &Usage, count: &dyn Fn(&str) -> f64) -> Vec<Meter> {
    let share = usage.logs_ingested_gb / count("AWS::Logs::LogGroup");
    let months = num(r, "RetentionInDays").map_or(12.0, |d| (d / 30.0).min(12.0));
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
fn fargate_meters(r: &EvaluatedResource, ev: &Evaluation, h: f64) -> Vec<Meter> {
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
fn instance_meters(n: f64, data: Option<&Value>, h: f64) -> Vec<Meter> {
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
