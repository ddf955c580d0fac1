//! One phase of a rollout as the engine starts it, beside the other phases of the same rollout
//! whose needs are done: it builds the phase's token and run, turns an AWS error that retries did
//! not cure into the phase's failure, and records the phase's metrics.

use infra::render::RenderedPhase;
use infra::Phase;

use crate::error::ServerError;
use crate::rollout::aws::CloudFormation;
use crate::rollout::owner::StackOwner;
use crate::rollout::phase::{Interrupted, Lease, PhaseEnd, PhaseRun};
use crate::rollout::store::Job;

/// One phase of a rollout, ready to run beside others of the same rollout.
pub(crate) struct PhaseRunSpec<'a> {
    pub lease: &'a Lease<'a>,
    pub owner: &'a StackOwner,
    pub cfn: &'a CloudFormation,
    pub job: &'a Job,
    pub id: i64,
    pub number: i64,
}

impl PhaseRunSpec<'_> {
    /// Deploys (or deletes) the phase; an AWS error that retries did not cure, or a stack past its
    /// deadline, is the phase's failure with its reason.
    pub async fn run(self, phase: &RenderedPhase, teardown: bool) -> (Phase, i64, Result<PhaseEnd, Interrupted>) {
        let PhaseRunSpec { lease, owner, cfn, job, id, number } = self;
        // Also the change set's name. It names the environment: moto finds change sets by name
        // alone, and two portals' rollout ids may coincide.
        let token = format!("portal-{}-r{id}-a{}-p{number}", job.environment, job.attempt);
        let revert_drift = job.kind == app::model::RequestKind::Repair;
        let run = PhaseRun { lease, owner, cfn, id, number, stack: &phase.stack_name, token: &token, revert_drift };
        let began = std::time::Instant::now();
        let end = if teardown { run.delete().await } else { run.deploy(phase).await };
        let end = match end {
            Ok(end) => Ok(end),
            Err(Interrupted::Error(e @ ServerError::Aws(_))) => Ok(PhaseEnd::Failed(e.to_string())),
            Err(Interrupted::Deadline(reason)) => Ok(PhaseEnd::Failed(reason)),
            Err(other) => Err(other),
        };
        if let Ok(end) = &end {
            crate::telemetry::phase_finished(end.status().as_str(), began.elapsed().as_secs_f64());
        }
        (phase.phase, number, end)
    }
}
