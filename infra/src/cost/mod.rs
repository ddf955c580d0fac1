//! The monthly cost of an evaluated deployment, line by line.
//!
//! Lines come only from the evaluated resources: adding a resource to a
//! template adds its lines here, with no second list to keep in step.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::catalog::Evaluation;
use crate::eval::EvaluatedResource;
use crate::phase::Phase;
use crate::pricing::{Price, PriceCatalog, PricingModel, SeedFigure, Usage, UsageRange};

pub mod bill;
mod meters;
pub mod sleep;

use meters::{meters_of, Context, Meter, TrafficPaths};

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

/// A monthly figure at low, typical and high usage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct UsdRange {
    pub low: f64,
    pub typical: f64,
    pub high: f64,
}

impl UsdRange {
    pub fn exact(usd: f64) -> UsdRange {
        UsdRange { low: usd, typical: usd, high: usd }
    }

    fn add(self, other: UsdRange) -> UsdRange {
        UsdRange { low: self.low + other.low, typical: self.typical + other.typical, high: self.high + other.high }
    }

    fn rounded(self) -> UsdRange {
        UsdRange { low: round_cents(self.low), typical: round_cents(self.typical), high: round_cents(self.high) }
    }

    /// True when low and high differ from the typical figure.
    pub fn is_spread(&self) -> bool {
        self.high - self.low > 0.005
    }
}

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
    /// At typical usage, with the estimate's pricing model.
    pub monthly_usd: f64,
    pub on_demand_monthly_usd: f64,
    pub reserved_monthly_usd: f64,
    /// Absent from estimates stored before Savings Plans were priced.
    #[serde(default)]
    pub savings_plan_monthly_usd: Option<f64>,
    /// At low, typical and high usage (absent from estimates stored before ranges).
    #[serde(default)]
    pub range: Option<UsdRange>,
    /// Which usage assumption the quantity comes from, if any; a line with none is fixed.
    pub usage_key: Option<String>,
}

impl CostLine {
    /// The line's range, or its one figure for an estimate stored before ranges.
    pub fn range_or_exact(&self) -> UsdRange {
        self.range.unwrap_or(UsdRange::exact(self.monthly_usd))
    }

    pub fn is_fixed(&self) -> bool {
        self.usage_key.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceTotal {
    pub service: String,
    pub monthly_usd: f64,
    #[serde(default)]
    pub range: Option<UsdRange>,
    /// The seed's figure for this service, in the Full Production estimate.
    pub seed_usd: Option<f64>,
    /// Why the estimate differs from the seed by more than [`SEED_TOLERANCE`] or
    /// [`SEED_TOLERANCE_USD`], when it does.
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unpriced {
    pub resource: String,
    pub resource_type: String,
    pub phase: Phase,
}

/// What a one-year commitment would change: billed for its whole term whatever runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Commitment {
    pub model: PricingModel,
    pub term_months: u32,
    /// What the commitment covers, in words.
    pub covers: String,
    /// The covered lines' monthly cost under the commitment: billed every month of the term,
    /// even after the environment is torn down.
    pub committed_monthly_usd: f64,
    pub committed_total_usd: f64,
    /// The whole estimate at typical usage under this model, and what it saves on on-demand.
    pub monthly_usd: f64,
    pub saving_monthly_usd: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub pricing: PricingModel,
    pub free_tier: bool,
    pub lines: Vec<CostLine>,
    pub services: Vec<ServiceTotal>,
    /// At typical usage.
    pub monthly_usd: f64,
    pub yearly_usd: f64,
    pub on_demand_monthly_usd: f64,
    pub reserved_monthly_usd: f64,
    #[serde(default)]
    pub savings_plan_monthly_usd: Option<f64>,
    /// The total at low, typical and high usage (absent from estimates stored before ranges).
    #[serde(default)]
    pub range: Option<UsdRange>,
    /// The part no usage assumption moves (hours, storage sizes, addresses…).
    #[serde(default)]
    pub fixed_monthly_usd: f64,
    /// The reserved and Savings Plans alternatives, whatever the estimate's own model.
    #[serde(default)]
    pub commitments: Vec<Commitment>,
    /// What keeps being billed every month after the environment is torn down (its final
    /// database snapshot), until someone deletes it.
    #[serde(default)]
    pub after_teardown: Vec<CostLine>,
    /// Resources of a type the cost model does not know: shown, never silently zero.
    pub unpriced: Vec<Unpriced>,
    pub prices_as_of: String,
}

impl Estimate {
    pub fn range_or_exact(&self) -> UsdRange {
        self.range.unwrap_or(UsdRange::exact(self.monthly_usd))
    }

    pub fn commitment(&self, model: PricingModel) -> Option<&Commitment> {
        self.commitments.iter().find(|c| c.model == model)
    }

    pub fn after_teardown_monthly_usd(&self) -> f64 {
        round_cents(self.after_teardown.iter().map(|l| l.monthly_usd).sum())
    }
}

/// Beyond this relative difference from the seed's figure, a service carries a note…
pub const SEED_TOLERANCE: f64 = 0.05;
/// …and beyond this one in dollars, whatever the share.
pub const SEED_TOLERANCE_USD: f64 = 2.0;

#[derive(Debug, Clone, Copy)]
pub struct EstimateOptions {
    pub pricing: PricingModel,
    /// Apply the always-free allowances (false for accounts whose other workloads use them up).
    pub free_tier: bool,
    /// Compare with the seed's table (which describes Full Production).
    pub compare_with_seed: bool,
}

/// Prices an evaluation at the low, typical and high usage of `usage`: the lines and totals are
/// the typical ones, each with its range.
pub fn estimate(
    evaluation: &Evaluation,
    prices: &PriceCatalog,
    usage: &UsageRange,
    options: EstimateOptions,
) -> Estimate {
    let (meters, mut unpriced) = collect_meters(evaluation, prices, &usage.typical);
    let mut lines = price_lines(meters, prices, options, &mut unpriced);
    if usage.low != usage.typical || usage.high != usage.typical {
        let mut ignored = Vec::new();
        let low = price_lines(collect_meters(evaluation, prices, &usage.low).0, prices, options, &mut ignored);
        let high = price_lines(collect_meters(evaluation, prices, &usage.high).0, prices, options, &mut ignored);
        for (line, (low, high)) in lines.iter_mut().zip(low.iter().zip(&high)) {
            // The meters' shape depends on the evaluation only (see `TrafficPaths`): the same
            // resource and price at the same position, whatever the usage.
            if (&line.resource, &line.price_id) == (&low.resource, &low.price_id)
                && (&line.resource, &line.price_id) == (&high.resource, &high.price_id)
            {
                line.range = Some(UsdRange { low: low.monthly_usd, typical: line.monthly_usd, high: high.monthly_usd });
            }
        }
    }
    for line in &mut lines {
        line.range.get_or_insert(UsdRange::exact(line.monthly_usd));
    }

    let mut services = service_totals(&lines);
    if options.compare_with_seed {
        compare_with_seed(&mut services, &prices.seed);
    }
    for s in &mut services {
        s.monthly_usd = round_cents(s.monthly_usd);
        s.range = s.range.map(UsdRange::rounded);
    }

    let total = |f: &dyn Fn(&CostLine) -> f64| round_cents(lines.iter().map(f).sum());
    let on_demand_monthly_usd = total(&|l| l.on_demand_monthly_usd);
    let monthly_usd = total(&|l| l.monthly_usd);
    let range = lines.iter().fold(UsdRange::default(), |sum, l| sum.add(l.range_or_exact())).rounded();
    let commitments = [PricingModel::Reserved, PricingModel::SavingsPlan]
        .into_iter()
        .map(|model| commitment(&lines, prices, model, on_demand_monthly_usd))
        .collect::<Vec<_>>();
    Estimate {
        pricing: options.pricing,
        free_tier: options.free_tier,
        fixed_monthly_usd: total(&|l| if l.is_fixed() { l.monthly_usd } else { 0.0 }),
        range: Some(UsdRange { typical: monthly_usd, ..range }),
        yearly_usd: round_cents(monthly_usd * 12.0),
        on_demand_monthly_usd,
        reserved_monthly_usd: total(&|l| l.reserved_monthly_usd),
        savings_plan_monthly_usd: Some(total(&|l| l.savings_plan_monthly_usd.unwrap_or(l.on_demand_monthly_usd))),
        commitments,
        after_teardown: after_teardown(evaluation, prices),
        monthly_usd,
        lines,
        services,
        unpriced,
        prices_as_of: prices.prices.values().map(|p| p.as_of.as_str()).max().unwrap_or_default().to_owned(),
    }
}

/// A commitment's figures: the lines its rates cover, billed for the whole term.
fn commitment(lines: &[CostLine], prices: &PriceCatalog, model: PricingModel, on_demand: f64) -> Commitment {
    let covered = |l: &&CostLine| {
        prices.prices.get(&l.price_id).is_some_and(|p| match model {
            PricingModel::OnDemand => false,
            PricingModel::Reserved => p.reserved_usd.is_some(),
            PricingModel::SavingsPlan => p.savings_plan_usd.is_some(),
        })
    };
    let under = |l: &CostLine| match model {
        PricingModel::OnDemand => l.on_demand_monthly_usd,
        PricingModel::Reserved => l.reserved_monthly_usd,
        PricingModel::SavingsPlan => l.savings_plan_monthly_usd.unwrap_or(l.on_demand_monthly_usd),
    };
    let committed = round_cents(lines.iter().filter(covered).map(under).sum());
    let monthly = round_cents(lines.iter().map(under).sum());
    Commitment {
        model,
        term_months: model.term_months(),
        covers: model.covers().unwrap_or_default().to_owned(),
        committed_monthly_usd: committed,
        committed_total_usd: round_cents(committed * f64::from(model.term_months())),
        monthly_usd: monthly,
        saving_monthly_usd: round_cents(on_demand - monthly),
    }
}

/// Databases whose stack keeps a final snapshot when deleted (`DeletionPolicy: Snapshot`): the
/// snapshot is the size of the data, at most the allocated storage, billed until deleted.
fn after_teardown(evaluation: &Evaluation, prices: &PriceCatalog) -> Vec<CostLine> {
    let Some(price) = prices.prices.get("rds.snapshot.gb") else { return Vec::new() };
    evaluation
        .of_type("AWS::RDS::DBInstance")
        .filter(|r| r.deletion_policy.as_deref() == Some("Snapshot"))
        .filter(|r| r.property("SourceDBInstanceIdentifier").is_none())
        .map(|r| {
            let gb = meters::num(r, "AllocatedStorage").unwrap_or(20.0);
            let usd = round_cents(gb * price.usd);
            CostLine {
                service: "RDS MySQL".into(),
                resource: r.key.logical_id.clone(),
                resource_type: r.resource_type.clone(),
                phase: r.key.phase,
                description: format!(
                    "final snapshot kept after teardown (DeletionPolicy: Snapshot): up to {gb} GB until someone deletes it"
                ),
                price_id: price.id.clone(),
                quantity: gb,
                unit: price.unit.clone(),
                free_quantity: 0.0,
                unit_price_usd: price.usd,
                monthly_usd: usd,
                on_demand_monthly_usd: usd,
                reserved_monthly_usd: usd,
                savings_plan_monthly_usd: Some(usd),
                range: Some(UsdRange::exact(usd)),
                usage_key: None,
            }
        })
        .collect()
}

/// Every resource's meters, in resource order, and the resources of a type with no cost model.
fn collect_meters<'a>(
    evaluation: &'a Evaluation,
    prices: &PriceCatalog,
    usage: &Usage,
) -> (Vec<(&'a EvaluatedResource, Meter)>, Vec<Unpriced>) {
    let mut meters = Vec::new();
    let mut unpriced = Vec::new();
    let count = |t: &str| evaluation.of_type(t).filter(|r| !meters::has_own_usage(r)).count().max(1) as f64;
    let cx =
        Context { ev: evaluation, usage, prices, hours: prices.hours_per_month, paths: TrafficPaths::of(evaluation) };
    for r in evaluation.resources() {
        match meters_of(r, &cx, &count) {
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

/// One cost line, priced every way; `pricing` picks which one counts.
fn price_line(r: &EvaluatedResource, m: Meter, price: &Price, free: f64, pricing: PricingModel) -> CostLine {
    let billable = m.quantity - free;
    let under = |model: PricingModel| round_cents(billable * model.rate(price));
    let (unit_price, monthly) = (pricing.rate(price), under(pricing));
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
        on_demand_monthly_usd: under(PricingModel::OnDemand),
        reserved_monthly_usd: under(PricingModel::Reserved),
        savings_plan_monthly_usd: Some(under(PricingModel::SavingsPlan)),
        range: None,
        usage_key: m.usage_key.map(str::to_owned),
    }
}

/// One total per service, unrounded, from lines already sorted by service.
fn service_totals(lines: &[CostLine]) -> Vec<ServiceTotal> {
    let mut services: Vec<ServiceTotal> = Vec::new();
    for line in lines {
        match services.last_mut() {
            Some(s) if s.service == line.service => {
                s.monthly_usd += line.monthly_usd;
                s.range = Some(s.range.unwrap_or_default().add(line.range_or_exact()));
            }
            _ => services.push(ServiceTotal {
                service: line.service.clone(),
                monthly_usd: line.monthly_usd,
                range: Some(line.range_or_exact()),
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
                    range: Some(UsdRange::default()),
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

/// True when `ours` is more than [`SEED_TOLERANCE`] or [`SEED_TOLERANCE_USD`] away from the
/// seed's figure (a small line off by a large share, a large one off by a few dollars).
pub fn differs(ours: f64, seed: f64) -> bool {
    let gap = (ours - seed).abs();
    if seed == 0.0 {
        return gap > 0.005;
    }
    gap / seed.abs() > SEED_TOLERANCE || gap > SEED_TOLERANCE_USD
}

fn service_rank(service: &str) -> usize {
    SERVICES.iter().position(|s| *s == service).unwrap_or(SERVICES.len())
}

pub(crate) fn round_cents(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}
