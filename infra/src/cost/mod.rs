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

mod meters;
pub mod sleep;

use meters::{meters_of, Meter};

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
    "AWS::ApiGateway::Account",
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
    let count = |t: &str| evaluation.of_type(t).filter(|r| !meters::has_own_usage(r)).count().max(1) as f64;
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

pub(crate) fn round_cents(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}
