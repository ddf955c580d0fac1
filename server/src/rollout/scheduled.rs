//! A schedule's rollout: an environment put to sleep (its auto scaling group scaled to zero by a
//! parameter-only update of the compute stack, template and every other parameter kept) or woken
//! (the group back to its tier's size). Recorded like any rollout: a phase row, its change set's
//! changes, the stack's events.

use app::model::RequestKind;
use infra::{Catalog, Phase};

use crate::rollout::aws::CloudFormation;
use crate::rollout::owner::StackOwner;
use crate::rollout::phase::{Interrupted, Lease, PhaseEnd, PhaseRun};
use crate::rollout::spec::render_stored;
use crate::rollout::store::Job;

/// The compute template's parameters a schedule changes.
pub const SIZE_PARAMETERS: [&str; 2] = ["AsgMinSize", "AsgDesiredCapacity"];

/// What a scheduled rollout changes: the compute stack, and its size parameters' new values.
pub(crate) struct Sizes {
    stack: String,
    set: Vec<(String, String)>,
}

impl Sizes {
    /// The rollout's phase rows: the compute phase alone.
    pub fn rows(&self) -> Vec<(i64, String, String)> {
        vec![(i64::from(Phase::Compute.number()), Phase::Compute.title().to_owned(), self.stack.clone())]
    }
}

/// The sizes a sleep (zero) or a wake (the tier's, as the catalog renders the environment's
/// deployment) sets; `Err(reason)` when the deployment no longer renders.
pub(crate) fn plan(catalog: &Catalog, job: &Job) -> Result<Sizes, String> {
    let target = job.target();
    let phases = render_stored(catalog, target).map_err(|e| e.to_string())?;
    let compute = phases
        .into_iter()
        .find(|p| p.phase == Phase::Compute)
        .ok_or_else(|| "the catalog has no compute phase to resize".to_owned())?;
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
    Ok(Sizes { stack: compute.stack_name, set })
}

/// One scheduled rollout, as the engine runs it under its lease.
pub(crate) struct ScheduledRun<'a> {
    pub lease: &'a Lease<'a>,
    pub owner: &'a StackOwner,
    pub cfn: &'a CloudFormation,
    pub job: &'a Job,
    pub id: i64,
}

impl ScheduledRun<'_> {
    pub async fn run(self, sizes: &Sizes) -> Result<PhaseEnd, Interrupted> {
        let number = i64::from(Phase::Compute.number());
        if self.lease.store.phase_row(self.id, number).await?.status == app::model::PhaseStatus::Done {
            return Ok(PhaseEnd::Done);
        }
        if self.lease.control(self.id).await?.cancel {
            return Ok(PhaseEnd::Cancelled);
        }
        let token = format!("portal-{}-r{}-a{}-p{number}", self.job.environment, self.id, self.job.attempt);
        let run = PhaseRun {
            lease: self.lease,
            owner: self.owner,
            cfn: self.cfn,
            id: self.id,
            number,
            stack: &sizes.stack,
            token: &token,
            revert_drift: false,
        };
        let end = run.resize(&sizes.set).await?;
        if let PhaseEnd::Failed(reason) = &end {
            self.lease.store.set_phase(self.id, number, app::model::PhaseStatus::Failed, Some(reason)).await?;
        }
        Ok(end)
    }
}
