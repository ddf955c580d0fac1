//! What a sleep schedule saves, by the same cost model: the deployment is priced awake and asleep
//! (its auto scaling group at zero instances, as the schedule's parameter-only update sets it; its
//! database's instance hours stopped where AWS allows stopping it), and the schedule's month is
//! the awake share of the one plus the rest of the other. Every line that differs between the two
//! stops while asleep; every other line keeps running, and is shown with its cost.

use serde::{Deserialize, Serialize};

use crate::catalog::Evaluation;
use crate::cost::{round_cents, CostLine, Estimate, UsdRange};

/// The compute template's parameters a schedule sets to zero while asleep.
pub const ASLEEP_PARAMETERS: [(&str, &str); 2] = [("AsgMinSize", "0"), ("AsgDesiredCapacity", "0")];

/// One cost line under a schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SleepLine {
    pub service: String,
    pub resource: String,
    pub description: String,
    /// The line's month when always awake.
    pub awake_usd: f64,
    /// What it costs per month while asleep all month (zero for what stops).
    pub asleep_usd: f64,
    /// What the schedule saves on it per month.
    pub saving_usd: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SleepEstimate {
    /// The share of the week the environment is awake.
    pub awake_share: f64,
    /// Always awake (the deployment's own estimate).
    pub awake_monthly_usd: f64,
    /// With the schedule.
    pub monthly_usd: f64,
    pub saving_usd: f64,
    /// Whether the database stops while asleep (not where it has a read replica).
    pub database_stops: bool,
    /// Lines that stop while asleep, with what the schedule saves on each.
    pub stopping: Vec<SleepLine>,
    /// Lines that run whatever the time (NAT gateways, the load balancer, storage…).
    pub running: Vec<SleepLine>,
}

/// Whether AWS lets the deployment's database be stopped: not an instance with a read replica,
/// nor a replica (RDS refuses both).
pub fn database_can_stop(evaluation: &Evaluation) -> bool {
    evaluation.of_type("AWS::RDS::DBInstance").all(|r| r.property("SourceDBInstanceIdentifier").is_none())
}

/// The asleep estimate's lines with the database's instance hours stopped (storage keeps billing).
pub fn stop_database(asleep: &mut Estimate) {
    for line in asleep
        .lines
        .iter_mut()
        .filter(|l| l.resource_type == "AWS::RDS::DBInstance" && l.price_id.starts_with("rds.mysql."))
    {
        line.quantity = 0.0;
        line.free_quantity = 0.0;
        line.monthly_usd = 0.0;
        line.on_demand_monthly_usd = 0.0;
        line.reserved_monthly_usd = 0.0;
        line.savings_plan_monthly_usd = Some(0.0);
        line.range = Some(UsdRange::exact(0.0));
    }
}

/// The schedule's month: `awake` for `awake_share` of it, `asleep` for the rest, line by line.
pub fn sleep_estimate(awake: &Estimate, asleep: &Estimate, awake_share: f64, database_stops: bool) -> SleepEstimate {
    let share = awake_share.clamp(0.0, 1.0);
    let asleep_line = |line: &CostLine| {
        asleep
            .lines
            .iter()
            .find(|a| a.phase == line.phase && a.resource == line.resource && a.price_id == line.price_id)
            .map_or(0.0, |a| a.monthly_usd)
    };
    let (mut stopping, mut running) = (Vec::new(), Vec::new());
    for line in &awake.lines {
        let asleep_usd = asleep_line(line);
        let entry = SleepLine {
            service: line.service.clone(),
            resource: line.resource.clone(),
            description: line.description.clone(),
            awake_usd: line.monthly_usd,
            asleep_usd,
            saving_usd: round_cents((1.0 - share) * (line.monthly_usd - asleep_usd)),
        };
        if (line.monthly_usd - asleep_usd).abs() >= 0.005 {
            stopping.push(entry);
        } else if line.monthly_usd >= 0.005 {
            running.push(entry);
        }
    }
    let saving_usd = round_cents(stopping.iter().map(|l| l.saving_usd).sum());
    SleepEstimate {
        awake_share: share,
        awake_monthly_usd: awake.monthly_usd,
        monthly_usd: round_cents(awake.monthly_usd - saving_usd),
        saving_usd,
        database_stops,
        stopping,
        running,
    }
}

/// `estimate` as the month of an environment that sleeps on `schedule`: each service lowered by
/// what the schedule saves on its lines (at every usage point alike: what stops is hours, not
/// usage), the totals with them. What a bill of such an environment is compared with.
pub fn with_schedule(estimate: &Estimate, schedule: &SleepEstimate) -> Estimate {
    let saving_of = |service: &str| {
        round_cents(schedule.stopping.iter().filter(|l| l.service == service).map(|l| l.saving_usd).sum())
    };
    let lower = |r: UsdRange, by: f64| UsdRange {
        low: round_cents((r.low - by).max(0.0)),
        typical: round_cents((r.typical - by).max(0.0)),
        high: round_cents((r.high - by).max(0.0)),
    };
    let mut scheduled = estimate.clone();
    for service in &mut scheduled.services {
        let saving = saving_of(&service.service);
        service.range = Some(lower(service.range.unwrap_or(UsdRange::exact(service.monthly_usd)), saving));
        service.monthly_usd = round_cents((service.monthly_usd - saving).max(0.0));
    }
    scheduled.range = Some(lower(estimate.range_or_exact(), schedule.saving_usd));
    scheduled.monthly_usd = round_cents((estimate.monthly_usd - schedule.saving_usd).max(0.0));
    scheduled.yearly_usd = round_cents(scheduled.monthly_usd * 12.0);
    scheduled
}
