//! One phase of a rollout against CloudFormation: deploy (find or create the change set, record its
//! changes, execute it unless already executed, follow the stack to a terminal status) or delete,
//! resumable from any point. The rows it writes go through [`RolloutStore`]; the lease is checked
//! before every mutating call.

use std::collections::HashSet;

use app::model::{PhaseAction, PhaseStatus};
use infra::render::RenderedPhase;

use std::time::Duration;

use crate::db::now_ms;
use crate::error::{AwsError, ServerError};
use crate::rollout::aws::{ChangeSetRequest, CloudFormation, Created, ResourceChange, StackEvent, StackState};
use crate::rollout::owner::StackOwner;
use crate::rollout::store::{Control, PhaseResult, RolloutStore};

/// Why a run stopped before the rollout ended (it will be picked up again).
#[derive(Debug)]
pub(crate) enum Interrupted {
    LeaseLost,
    Error(ServerError),
    /// A stack stayed in progress past the deadline: the phase fails with this reason.
    Deadline(String),
}

impl From<ServerError> for Interrupted {
    fn from(e: ServerError) -> Self {
        Interrupted::Error(e)
    }
}

impl From<AwsError> for Interrupted {
    fn from(e: AwsError) -> Self {
        Interrupted::Error(ServerError::Aws(e))
    }
}

/// The rollout's rows and the lease this process works under: what a phase needs of the engine.
pub(crate) struct Lease<'a> {
    pub store: &'a RolloutStore,
    /// This process's name in `lease_owner`.
    pub owner: &'a str,
    /// Stack and change-set polling interval.
    pub poll: Duration,
    /// How long a stack may stay in progress within one phase.
    pub stack_deadline: Duration,
}

impl Lease<'_> {
    pub async fn control(&self, id: i64) -> Result<Control, ServerError> {
        self.store.control(id, self.owner).await
    }

    /// Work is only recorded while this process holds the lease.
    pub async fn still_ours(&self, id: i64) -> Result<(), Interrupted> {
        if self.control(id).await?.ours {
            Ok(())
        } else {
            Err(Interrupted::LeaseLost)
        }
    }
}

/// The template parameter that protects a stack's database from deletion (phase 2).
const DELETION_PROTECTION: &str = "DbDeletionProtection";

/// Whether the stack was deployed with its database protected from deletion.
fn protected(stack: &StackState) -> bool {
    stack.parameters.iter().any(|(k, v)| k == DELETION_PROTECTION && v == "true")
}

/// How one phase ended.
pub(crate) enum PhaseEnd {
    Done,
    Failed(String),
    Cancelled,
}

impl PhaseEnd {
    pub fn status(&self) -> PhaseStatus {
        match self {
            PhaseEnd::Done => PhaseStatus::Done,
            PhaseEnd::Failed(_) => PhaseStatus::Failed,
            PhaseEnd::Cancelled => PhaseStatus::Cancelled,
        }
    }
}

/// One phase of one rollout, as the engine runs it.
pub(crate) struct PhaseRun<'a> {
    pub lease: &'a Lease<'a>,
    pub owner: &'a StackOwner,
    pub cfn: &'a CloudFormation,
    pub id: i64,
    pub number: i64,
    pub stack: &'a str,
    /// The change set's name and the client token of every mutating call: it names the
    /// environment, rollout, attempt and phase, so a repeated call is the same call.
    pub token: &'a str,
    /// A repair: the change set is drift-aware and puts back what changed outside CloudFormation.
    pub revert_drift: bool,
}

impl PhaseRun<'_> {
    /// Deploys the phase's template.
    pub async fn deploy(&self, phase: &RenderedPhase) -> Result<PhaseEnd, Interrupted> {
        let store = self.lease.store;
        self.lease.still_ours(self.id).await?;
        store.set_phase(self.id, self.number, PhaseStatus::Running, None).await?;
        let mut existing = self.cfn.stack(self.stack).await?;
        if let Some(refusal) = existing.as_ref().and_then(|s| self.owner.refuses_change(self.stack, s)) {
            return Ok(PhaseEnd::Failed(refusal));
        }

        // A stack whose creation failed and rolled back cannot be updated: delete it first (retry).
        if existing.as_ref().is_some_and(|s| s.status == "ROLLBACK_COMPLETE") {
            match self.follow_deletion(&format!("{}-clear", self.token)).await? {
                Some(reason) => {
                    return Ok(PhaseEnd::Failed(format!("removing the rolled-back stack failed: {reason}")))
                }
                None => existing = None,
            }
        }
        if self.cfn.change_set(self.stack, self.token).await?.is_none() {
            if let Some(s) = existing.as_ref().filter(|s| s.in_progress()) {
                // Someone else is changing this stack: wait for them rather than fail on a conflict.
                tracing::info!(stack = self.stack, status = %s.status, "waiting for an operation already in progress");
                self.follow_stack(None).await?;
            }
            let update = existing.as_ref().is_some_and(|s| s.status != "REVIEW_IN_PROGRESS");
            let request = ChangeSetRequest {
                stack_name: self.stack,
                name: self.token,
                update,
                template_body: Some(&phase.template_body),
                parameters: &phase.parameters,
                token: self.token,
                tags: &self.owner.tags,
                keep_previous: &[],
                revert_drift: self.revert_drift,
            };
            let created = self.cfn.create_change_set(&request).await?;
            if created == Created::NothingToChange {
                return self.unchanged().await;
            }
        }
        let state = self.cfn.settled_change_set(self.stack, self.token, self.lease.poll).await?;
        if state.empty() {
            return self.unchanged().await;
        }
        if state.status == "FAILED" {
            return Ok(PhaseEnd::Failed(format!("CloudFormation refused the change set: {}", state.reason)));
        }
        // After a restart the stack may exist because this very change set created it: the action
        // recorded before execution is the one that holds.
        let action = match store.phase_row(self.id, self.number).await?.action {
            Some(recorded) => recorded,
            None if existing.is_some() => PhaseAction::Update,
            None => PhaseAction::Create,
        };
        store.record_changes(self.id, self.number, action, &state.changes).await?;
        if state.executable() {
            if self.lease.control(self.id).await?.cancel {
                return Ok(PhaseEnd::Cancelled);
            }
            self.lease.still_ours(self.id).await?;
            self.cfn.execute_change_set(self.stack, self.token, self.token).await?;
        }
        let cancel_token = format!("{}-cancel", self.token);
        match self.follow_stack(Some(&cancel_token)).await? {
            Some(end) if end.succeeded() => {
                let resource_count = self.cfn.resource_count(self.stack).await?;
                let result = PhaseResult { action, changes: &state.changes, outputs: &end.outputs, resource_count };
                store.record_phase_done(self.id, self.number, result).await?;
                Ok(PhaseEnd::Done)
            }
            Some(end) => {
                if self.lease.control(self.id).await?.cancel && end.status == "UPDATE_ROLLBACK_COMPLETE" {
                    return Ok(PhaseEnd::Cancelled);
                }
                Ok(PhaseEnd::Failed(self.failure_reason(&end).await?))
            }
            None => Ok(PhaseEnd::Failed(format!("stack {} disappeared during the deployment", self.stack))),
        }
    }

    /// Deletes the phase's stack (a teardown).
    pub async fn delete(&self) -> Result<PhaseEnd, Interrupted> {
        let store = self.lease.store;
        self.lease.still_ours(self.id).await?;
        store.set_phase(self.id, self.number, PhaseStatus::Running, None).await?;
        let existing = self.cfn.stack(self.stack).await?;
        let resource_count = match &existing {
            Some(s) if !self.owner.owns(s) => return Ok(PhaseEnd::Failed(self.owner.foreign(self.stack, "deletes"))),
            Some(s) if s.status != "DELETE_COMPLETE" => self.cfn.resource_count(self.stack).await.unwrap_or(0),
            _ => 0,
        };
        if let Some(stack) = existing.filter(|s| protected(s) && !s.in_progress()) {
            if let Some(reason) = self.unprotect(&stack).await? {
                return Ok(PhaseEnd::Failed(reason));
            }
        }
        match self.follow_deletion(self.token).await? {
            Some(reason) => Ok(PhaseEnd::Failed(reason)),
            None => {
                let result = PhaseResult { action: PhaseAction::Delete, changes: &[], outputs: &[], resource_count };
                store.record_phase_done(self.id, self.number, result).await?;
                Ok(PhaseEnd::Done)
            }
        }
    }

    /// The approved teardown is the decision to delete: a database under deletion protection
    /// (production tiers) gets it turned off first, by an update of that one parameter on the
    /// stack's own template; RDS refuses to delete it otherwise. `Some(reason)` if that failed.
    async fn unprotect(&self, stack: &StackState) -> Result<Option<String>, Interrupted> {
        tracing::info!(stack = self.stack, "turning deletion protection off before the teardown deletes the stack");
        let set = [(DELETION_PROTECTION.to_owned(), "false".to_owned())];
        let name = format!("{}-unprotect", self.token);
        let outcome = self.update_parameters(stack, &name, &set).await?;
        Ok(outcome.err().map(|reason| format!("turning the database's deletion protection off failed: {reason}")))
    }

    /// A schedule's resize: some parameters of the phase's stack changed (the auto scaling
    /// group's size), its template and every other parameter kept.
    pub async fn resize(&self, set: &[(String, String)]) -> Result<PhaseEnd, Interrupted> {
        let store = self.lease.store;
        self.lease.still_ours(self.id).await?;
        store.set_phase(self.id, self.number, PhaseStatus::Running, None).await?;
        let stack = match self.cfn.stack(self.stack).await? {
            Some(s) if s.status != "DELETE_COMPLETE" => s,
            _ => return Ok(PhaseEnd::Failed(format!("stack {} does not exist: nothing to resize", self.stack))),
        };
        if !self.owner.owns(&stack) {
            return Ok(PhaseEnd::Failed(self.owner.foreign(self.stack, "changes")));
        }
        if stack.in_progress() {
            self.follow_stack(None).await?;
        }
        let changes = match self.update_parameters(&stack, self.token, set).await? {
            Ok(changes) => changes,
            Err(reason) => return Ok(PhaseEnd::Failed(reason)),
        };
        let action = if changes.is_empty() { PhaseAction::Unchanged } else { PhaseAction::Update };
        let outputs = self.cfn.stack(self.stack).await?.map(|s| s.outputs).unwrap_or_default();
        let resource_count = self.cfn.resource_count(self.stack).await?;
        let result = PhaseResult { action, changes: &changes, outputs: &outputs, resource_count };
        store.record_phase_done(self.id, self.number, result).await?;
        Ok(PhaseEnd::Done)
    }

    /// A parameter-only update of the stack (change set `name`): `set` changed, every other
    /// parameter kept at its current value. `Ok(Ok(changes))` once the stack settled (none when
    /// nothing changed), `Ok(Err(reason))` when CloudFormation refused or rolled it back.
    async fn update_parameters(
        &self,
        stack: &StackState,
        name: &str,
        set: &[(String, String)],
    ) -> Result<Result<Vec<ResourceChange>, String>, Interrupted> {
        let keep: Vec<String> =
            stack.parameters.iter().map(|(k, _)| k.clone()).filter(|k| !set.iter().any(|(s, _)| s == k)).collect();
        if self.cfn.change_set(self.stack, name).await?.is_none() {
            let request = ChangeSetRequest {
                stack_name: self.stack,
                name,
                update: true,
                template_body: None,
                parameters: set,
                token: name,
                tags: &[],
                keep_previous: &keep,
                revert_drift: false,
            };
            if self.cfn.create_change_set(&request).await? == Created::NothingToChange {
                return Ok(Ok(Vec::new()));
            }
        }
        let state = self.cfn.settled_change_set(self.stack, name, self.lease.poll).await?;
        if state.empty() {
            return Ok(Ok(Vec::new()));
        }
        if state.status == "FAILED" {
            return Ok(Err(format!("CloudFormation refused the change set: {}", state.reason)));
        }
        if state.executable() {
            self.lease.still_ours(self.id).await?;
            self.cfn.execute_change_set(self.stack, name, name).await?;
        }
        match self.follow_stack(None).await? {
            Some(end) if end.succeeded() => Ok(Ok(state.changes)),
            Some(end) => Ok(Err(self.failure_reason(&end).await?)),
            None => Ok(Err(format!("stack {} disappeared during the update", self.stack))),
        }
    }

    /// Nothing to change: a success, with the stack's outputs as they are.
    async fn unchanged(&self) -> Result<PhaseEnd, Interrupted> {
        let outputs = self.cfn.stack(self.stack).await?.map(|s| s.outputs).unwrap_or_default();
        let resource_count = self.cfn.resource_count(self.stack).await?;
        let result = PhaseResult { action: PhaseAction::Unchanged, changes: &[], outputs: &outputs, resource_count };
        self.lease.store.record_phase_done(self.id, self.number, result).await?;
        Ok(PhaseEnd::Done)
    }

    /// Follows the stack until it is no longer in progress, recording its events. Cancels an update
    /// in progress when the rollout is asked to stop (`cancel_token`). `None` when the stack is gone.
    async fn follow_stack(&self, cancel_token: Option<&str>) -> Result<Option<StackState>, Interrupted> {
        let store = self.lease.store;
        let since = store.phase_row(self.id, self.number).await?.started_at.unwrap_or_else(now_ms);
        let mut seen = store.recorded_event_ids(self.id, self.number).await?;
        let mut cancelled = false;
        loop {
            self.record_events(since, &mut seen).await?;
            let Some(state) = self.cfn.stack(self.stack).await? else { return Ok(None) };
            if !state.in_progress() {
                // One more read: events written just before the terminal status are not lost.
                self.record_events(since, &mut seen).await?;
                return Ok(Some(state));
            }
            let control = self.lease.control(self.id).await?;
            if !control.ours {
                return Err(Interrupted::LeaseLost);
            }
            if now_ms() - since > self.lease.stack_deadline.as_millis() as i64 {
                return Err(Interrupted::Deadline(format!(
                    "stack {} was still {} {} minutes after the phase started; the portal stopped waiting \
                     (PORTAL_STACK_DEADLINE_MINUTES)",
                    self.stack,
                    state.status,
                    self.lease.stack_deadline.as_secs() / 60
                )));
            }
            if let Some(token) = cancel_token {
                if !cancelled && control.cancel && state.status == "UPDATE_IN_PROGRESS" {
                    self.cfn.cancel_update(self.stack, token).await?;
                    cancelled = true;
                }
            }
            tokio::time::sleep(self.lease.poll).await;
        }
    }

    /// Deletes the stack and follows it until gone; `Some(reason)` if the deletion failed.
    async fn follow_deletion(&self, token: &str) -> Result<Option<String>, Interrupted> {
        let Some(state) = self.cfn.stack(self.stack).await? else { return Ok(None) };
        if state.status == "DELETE_COMPLETE" {
            return Ok(None);
        }
        if state.status != "DELETE_IN_PROGRESS" {
            self.lease.still_ours(self.id).await?;
            self.cfn.delete_stack(self.stack, token).await?;
        }
        match self.follow_stack(None).await? {
            None => Ok(None),
            Some(s) if s.status == "DELETE_COMPLETE" => Ok(None),
            Some(s) => Ok(Some(self.failure_reason(&s).await?)),
        }
    }

    /// Stores the events not stored yet. `seen` holds every event id read so far (stored or not
    /// ours), so each poll reads only the stack's newest events.
    async fn record_events(&self, since: i64, seen: &mut HashSet<String>) -> Result<(), ServerError> {
        let events = self.cfn.events(self.stack, &|event_id| seen.contains(event_id)).await?;
        seen.extend(events.iter().map(|e| e.event_id.clone()));
        // Only this phase's operations: earlier events of the same stack belong to earlier rollouts.
        // CloudFormation tags an operation's events with its client request token (ours name the
        // rollout and phase); where an endpoint does not, the phase's start time decides.
        let (rollout, phase) = (format!("-r{}-a", self.id), format!("-p{}", self.number));
        let ours = |token: &str| token.contains(&rollout) && token.contains(&phase);
        let fresh: Vec<&StackEvent> = events
            .iter()
            .filter(|e| {
                if e.client_request_token.is_empty() {
                    e.at_ms >= since - 2_000
                } else {
                    ours(&e.client_request_token)
                }
            })
            .collect();
        if fresh.is_empty() {
            return Ok(());
        }
        self.lease.store.record_events(self.id, self.number, &fresh).await
    }

    /// The status reason of the first resource that failed in this phase; the stack's own reason
    /// when no resource says more.
    async fn failure_reason(&self, state: &StackState) -> Result<String, ServerError> {
        Ok(match self.lease.store.first_failed_resource(self.id, self.number).await? {
            Some(reason) => reason,
            None if !state.reason.is_empty() => format!("stack ended {}: {}", state.status, state.reason),
            None => format!("stack ended {}", state.status),
        })
    }
}
