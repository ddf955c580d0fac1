//! A schedule's rollout: an environment put to sleep (its auto scaling group scaled to zero by a
//! parameter-only update of the compute stack, template and every other parameter kept; then its
//! database stopped, where RDS allows it) or woken (the database started, then the group back to
//! its tier's size). Recorded like any rollout: a phase row per stack touched, its changes, the
//! stack's events; each step resumable.

use std::time::Duration;

use app::model::{PhaseAction, PhaseStatus, RequestKind, ResourceChange};
use infra::cost::sleep::database_can_stop;
use infra::{Catalog, Phase};

use crate::rollout::aws::CloudFormation;
use crate::rollout::owner::StackOwner;
use crate::rollout::phase::{Interrupted, Lease, PhaseEnd, PhaseRun};
use crate::rollout::rds::Rds;
use crate::rollout::spec::{render_stored, stored_spec};
use crate::rollout::store::{Job, PhaseResult};

/// The compute template's parameters a schedule changes.
pub const SIZE_PARAMETERS: [&str; 2] = ["AsgMinSize", "AsgDesiredCapacity"];

/// AWS starts a stopped database by itself after seven days: a sleep longer than that does not
/// stop it.
pub const DATABASE_STOP_LIMIT_MS: i64 = 7 * 86_400_000;

/// How long a database may take to stop or start.
const DATABASE_DEADLINE: Duration = Duration::from_secs(30 * 60);

/// The database a schedule stops and starts: its stack and logical id.
pub(crate) struct DatabaseStep {
    stack: String,
    logical_id: String,
}

/// What a scheduled rollout changes: the compute stack's size parameters, and the database where
/// it stops.
pub(crate) struct Plan {
    stack: String,
    set: Vec<(String, String)>,
    database: Option<DatabaseStep>,
}

impl Plan {
    /// The rollout's phase rows: the compute phase, and the data phase when the database stops.
    pub fn rows(&self) -> Vec<(i64, String, String)> {
        let mut rows =
            vec![(i64::from(Phase::Compute.number()), Phase::Compute.title().to_owned(), self.stack.clone())];
        if let Some(db) = &self.database {
            rows.push((i64::from(Phase::Data.number()), Phase::Data.title().to_owned(), db.stack.clone()));
        }
        rows
    }
}

/// The sizes a sleep (zero) or a wake (the tier's, as the catalog renders the environment's
/// deployment) sets, and the database step; `Err(reason)` when the deployment no longer renders.
pub(crate) fn plan(catalog: &Catalog, job: &Job) -> Result<Plan, String> {
    let phases = render_stored(catalog, job.target()).map_err(|e| e.to_string())?;
    let stack_of = |phase: Phase| phases.iter().find(|p| p.phase == phase);
    let compute = stack_of(Phase::Compute).ok_or_else(|| "the catalog has no compute phase to resize".to_owned())?;
    let set = SIZE_PARAMETERS
        .iter()
        .map(|name| {
            let value = match job.kind {
                RequestKind::Sleep => Some("0".to_owned()),
                _ => compute.parameters.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
            };
            value.map(|v| ((*name).to_owned(), v)).ok_or_else(|| {
                format!("the compute template has no parameter {name}: the schedule cannot size the environment")
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let evaluation =
        catalog.evaluate(&stored_spec(catalog, job.target()).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    // A sleep stops the database only for as long as AWS keeps it stopped; a wake starts it if
    // it is stopped, whatever stopped it.
    let short_enough =
        job.kind != RequestKind::Sleep || job.lifetime_minutes.is_some_and(|m| m * 60_000 <= DATABASE_STOP_LIMIT_MS);
    let database = match (database_can_stop(&evaluation) && short_enough, stack_of(Phase::Data)) {
        (true, Some(data)) => evaluation
            .of_type("AWS::RDS::DBInstance")
            .find(|r| r.key.phase == Phase::Data)
            .map(|r| DatabaseStep { stack: data.stack_name.clone(), logical_id: r.key.logical_id.clone() }),
        _ => None,
    };
    Ok(Plan { stack: compute.stack_name.clone(), set, database })
}

/// One scheduled rollout, as the engine runs it under its lease.
pub(crate) struct ScheduledRun<'a> {
    pub lease: &'a Lease<'a>,
    pub owner: &'a StackOwner,
    pub cfn: &'a CloudFormation,
    pub rds: &'a Rds,
    pub job: &'a Job,
    pub id: i64,
}

impl ScheduledRun<'_> {
    /// Asleep: the group first, then the database; awake: the database first (the instances
    /// need it), then the group.
    pub async fn run(self, plan: &Plan) -> Result<PhaseEnd, Interrupted> {
        let sleep = self.job.kind == RequestKind::Sleep;
        if !sleep {
            if let Some(db) = &plan.database {
                match self.database(db, false).await? {
                    PhaseEnd::Done => {}
                    other => return Ok(other),
                }
            }
        }
        match self.resize(plan).await? {
            PhaseEnd::Done => {}
            other => return Ok(other),
        }
        match (&plan.database, sleep) {
            (Some(db), true) => self.database(db, true).await,
            _ => Ok(PhaseEnd::Done),
        }
    }

    async fn done_or_cancelled(&self, number: i64) -> Result<Option<PhaseEnd>, Interrupted> {
        if self.lease.store.phase_row(self.id, number).await?.status == PhaseStatus::Done {
            return Ok(Some(PhaseEnd::Done));
        }
        if self.lease.control(self.id).await?.cancel {
            return Ok(Some(PhaseEnd::Cancelled));
        }
        Ok(None)
    }

    async fn fail(&self, number: i64, end: PhaseEnd) -> Result<PhaseEnd, Interrupted> {
        if let PhaseEnd::Failed(reason) = &end {
            self.lease.store.set_phase(self.id, number, PhaseStatus::Failed, Some(reason)).await?;
        }
        Ok(end)
    }

    async fn resize(&self, plan: &Plan) -> Result<PhaseEnd, Interrupted> {
        let number = i64::from(Phase::Compute.number());
        if let Some(end) = self.done_or_cancelled(number).await? {
            return Ok(end);
        }
        let token = format!("portal-{}-r{}-a{}-p{number}", self.job.environment, self.id, self.job.attempt);
        let run = PhaseRun {
            lease: self.lease,
            owner: self.owner,
            cfn: self.cfn,
            id: self.id,
            number,
            stack: &plan.stack,
            token: &token,
            revert_drift: false,
        };
        let end = run.resize(&plan.set).await?;
        self.fail(number, end).await
    }

    /// Stops (`stop`) or starts the database, and records it as the data phase's change.
    async fn database(&self, step: &DatabaseStep, stop: bool) -> Result<PhaseEnd, Interrupted> {
        let number = i64::from(Phase::Data.number());
        if let Some(end) = self.done_or_cancelled(number).await? {
            return Ok(end);
        }
        let store = self.lease.store;
        self.lease.still_ours(self.id).await?;
        store.set_phase(self.id, number, PhaseStatus::Running, None).await?;
        let resources = self.cfn.stack_resources(&step.stack).await?;
        let Some((_, instance, resource_type)) =
            resources.into_iter().find(|(logical, _, _)| *logical == step.logical_id)
        else {
            let reason =
                format!("stack {} has no {} to {}", step.stack, step.logical_id, if stop { "stop" } else { "start" });
            return self.fail(number, PhaseEnd::Failed(reason)).await;
        };
        self.lease.still_ours(self.id).await?;
        let status =
            match self.rds.power(&instance, stop, self.lease.poll.max(Duration::from_secs(1)), DATABASE_DEADLINE).await
            {
                Ok(status) => status,
                Err(e) => return self.fail(number, PhaseEnd::Failed(format!("database {instance}: {e}"))).await,
            };
        let goal = if stop { "stopped" } else { "available" };
        if status != goal {
            let reason = format!(
                "database {instance} is still {status}, not {goal}, after {} minutes",
                DATABASE_DEADLINE.as_secs() / 60
            );
            return self.fail(number, PhaseEnd::Failed(reason)).await;
        }
        let change = ResourceChange {
            action: if stop { "Stop".into() } else { "Start".into() },
            logical_id: step.logical_id.clone(),
            resource_type,
            ..Default::default()
        };
        let resource_count = self.cfn.resource_count(&step.stack).await?;
        let result = PhaseResult { action: PhaseAction::Update, changes: &[change], outputs: &[], resource_count };
        store.record_phase_done(self.id, number, result).await?;
        Ok(PhaseEnd::Done)
    }
}
