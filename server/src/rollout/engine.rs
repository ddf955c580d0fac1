//! The rollout engine: claims approved rollouts and runs them phase by phase in the background of
//! a portal process, under a lease.
//!
//! Everything a rollout has done is in the database before the next AWS call, and every AWS call
//! can be repeated (deterministic change-set names, client tokens), so a process killed at any
//! point is replaced by one that reads the state back and carries on. A rollout is run by the
//! process holding its lease; the lease is renewed by a heartbeat and taken over by another process
//! when it lapses. One rollout at a time per environment (name, account, region).

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use app::model::{AuditAction, PhaseStatus, RequestKind, RolloutStatus};
use futures::stream::{FuturesUnordered, StreamExt};
use infra::render::RenderedPhase;
use infra::{Catalog, PhaseGraph};
use tokio::sync::Notify;

use crate::db::now_ms;
use crate::environments::Environments;
use crate::error::ServerError;
use crate::notify::Notifier;
use crate::rollout::aws::CloudFormation;
use crate::rollout::owner::StackOwner;
use crate::rollout::phase::{Interrupted, Lease, PhaseEnd};
use crate::rollout::rds::Rds;
use crate::rollout::running::PhaseRunSpec;
use crate::rollout::scheduled::{self, ScheduledRun};
use crate::rollout::spec::{render_stored, stored_spec};
use crate::rollout::store::{Job, RolloutStore};
use crate::rollout::sts::job_environment;

/// How the engine paces itself; tests shorten the lease to see takeovers quickly.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// This process's name in `lease_owner`.
    pub owner: String,
    /// A lease not renewed for this long may be taken over.
    pub lease: Duration,
    /// Stack and change-set polling interval.
    pub poll: Duration,
    /// Rollouts this process runs at once; the rest wait for it, or for another process.
    pub max_running: usize,
    /// Phases of one rollout that run at once (those whose needs are done).
    pub max_parallel_phases: usize,
    /// A rollout interrupted this many times by an error that is not CloudFormation's answer (the
    /// database, a stored value that no longer reads) fails with that error instead of being
    /// taken up again for ever.
    pub give_up_after: i64,
    /// A stack still in progress this long after its phase started fails the phase.
    pub stack_deadline: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            owner: process_name(),
            lease: Duration::from_secs(30),
            poll: Duration::from_millis(500),
            max_running: 4,
            max_parallel_phases: 3,
            give_up_after: 5,
            stack_deadline: Duration::from_secs(3 * 3600),
        }
    }
}

/// `host:pid:random`, unique per process start.
pub fn process_name() -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    format!("{}:{}:{:08x}", host.trim(), std::process::id(), OsRng.next_u32())
}

/// What the engine works with, and nothing more.
pub struct EngineDeps {
    pub store: RolloutStore,
    pub catalog: Arc<Catalog>,
    /// Digest of `catalog`: a rollout approved on another one fails.
    pub digest: String,
    /// The portal's own AWS configuration; each environment's role is assumed from it.
    pub aws: Option<aws_config::SdkConfig>,
    pub notifier: Notifier,
    /// This portal's identity (`Database::instance_id`): its stacks carry it as a tag.
    pub instance: String,
}

/// Runs rollouts in the background of a portal process.
pub struct Engine {
    store: RolloutStore,
    catalog: Arc<Catalog>,
    digest: String,
    aws: Option<aws_config::SdkConfig>,
    notifier: Notifier,
    instance: String,
    config: EngineConfig,
    /// Rollouts this process is running now.
    running: std::sync::Mutex<HashSet<i64>>,
    /// Set by [`Engine::stop`]: no new claims.
    stopped: std::sync::atomic::AtomicBool,
}

impl Engine {
    pub fn new(deps: EngineDeps, config: EngineConfig) -> Arc<Engine> {
        let EngineDeps { store, catalog, digest, aws, notifier, instance } = deps;
        Arc::new(Engine {
            store,
            catalog,
            digest,
            aws,
            notifier,
            instance,
            config,
            running: Default::default(),
            stopped: Default::default(),
        })
    }

    /// Claims and runs rollouts until the process ends: woken at once by an approval in this
    /// process, and every poll interval for the ones other processes approved or abandoned.
    pub fn spawn(self: &Arc<Self>, wake: Arc<Notify>) -> tokio::task::JoinHandle<()> {
        let engine = self.clone();
        tokio::spawn(async move {
            loop {
                if engine.stopped.load(std::sync::atomic::Ordering::SeqCst) {
                    return;
                }
                let busy = engine.running.lock().map(|r| r.len() >= engine.config.max_running).unwrap_or(true);
                let claimed = if busy { Ok(None) } else { engine.claim().await };
                match claimed {
                    Ok(Some(id)) => {
                        let runner = engine.clone();
                        tokio::spawn(async move { runner.run(id).await });
                        continue;
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "claiming a rollout failed"),
                }
                let interval = engine.config.poll.max(Duration::from_millis(200)) * 2;
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(interval) => {}
                }
            }
        })
    }

    /// Stops taking new rollouts and hands back the leases of those this process runs, so another
    /// process resumes them at its next look instead of after the lease lapses. The runs here stop
    /// at their next lease check (before any mutating call); every AWS call is repeatable, so the
    /// one in flight does no harm. Returns the rollouts handed back.
    pub async fn stop(&self) -> Result<Vec<i64>, ServerError> {
        self.stopped.store(true, std::sync::atomic::Ordering::SeqCst);
        let handed = self.store.hand_back_leases(&self.config.owner).await?;
        crate::telemetry::leases_handed_back(handed.len());
        for id in &handed {
            tracing::info!(rollout = id, "lease handed back: the process is stopping");
        }
        Ok(handed)
    }

    fn lease_until(&self) -> i64 {
        now_ms() + self.config.lease.as_millis() as i64
    }

    /// Takes the oldest runnable rollout whose lease is free (see [`RolloutStore::claim`]).
    pub async fn claim(&self) -> Result<Option<i64>, ServerError> {
        let Some(id) = self.store.claim(&self.config.owner, self.lease_until()).await? else { return Ok(None) };
        let running_here = match self.running.lock() {
            Ok(mut running) => {
                if !running.insert(id) {
                    // Ours already (a lapsed lease we are still working under): the live run carries on.
                    return Ok(None);
                }
                running.len()
            }
            Err(_) => 0,
        };
        crate::telemetry::rollouts_running(running_here);
        Ok(Some(id))
    }

    /// Runs a claimed rollout under its lease until it ends, the lease is lost, or an error
    /// interrupts it (then the lease lapses and a process picks it up again).
    pub async fn run(self: Arc<Self>, id: i64) {
        let beat = self.config.lease / 3;
        let work = self.drive(id);
        tokio::pin!(work);
        let outcome = loop {
            tokio::select! {
                outcome = &mut work => break outcome,
                _ = tokio::time::sleep(beat) => match self.store.renew_lease(id, &self.config.owner, self.lease_until()).await {
                    Ok(true) => {}
                    Ok(false) => break Err(Interrupted::LeaseLost),
                    Err(e) => tracing::warn!(rollout = id, error = %e, "lease heartbeat failed"),
                },
            }
        };
        match outcome {
            Ok(()) => {}
            Err(Interrupted::LeaseLost) => {
                tracing::warn!(rollout = id, "lease taken over by another process; stopped here")
            }
            Err(Interrupted::Error(e)) => self.interrupted(id, &e).await,
            // Only a phase waits on a stack, and a phase turns the deadline into its failure.
            Err(Interrupted::Deadline(reason)) => self.interrupted(id, &ServerError::Internal(reason)).await,
        }
        if let Ok(mut running) = self.running.lock() {
            running.remove(&id);
            crate::telemetry::rollouts_running(running.len());
        }
    }

    /// Counts an interruption; past the bound the rollout fails with the error, otherwise it
    /// resumes when its lease lapses.
    async fn interrupted(&self, id: i64, error: &ServerError) {
        let count = match self.store.count_interruption(id, &self.config.owner).await {
            Ok(count) => count,
            Err(e) => {
                tracing::warn!(rollout = id, error = %e, "counting an interruption failed");
                return;
            }
        };
        if count < self.config.give_up_after {
            tracing::warn!(rollout = id, error = %error, count, "rollout interrupted; it resumes when its lease lapses");
            return;
        }
        let reason = format!("the portal gave up after {count} interruptions; the last: {error}");
        tracing::error!(rollout = id, %reason, "rollout failed");
        if let Err(e) = self.finish(id, RolloutStatus::Failed, Some(&reason)).await {
            tracing::warn!(rollout = id, error = ?e, "failing the rollout failed");
        }
    }

    /// The rollout from wherever it stands to its end: checks, credentials, then each phase not
    /// yet done, in order (last first for a teardown).
    async fn drive(&self, id: i64) -> Result<(), Interrupted> {
        let job = self.store.job(id).await?;
        let teardown = job.kind == RequestKind::Teardown;
        if job.kind.deploys() && job.catalog_digest != self.digest {
            let reason =
                "the templates or prices changed after approval, so the approval is void; request the deployment again";
            return self.finish(id, RolloutStatus::Failed, Some(reason)).await;
        }
        if job.kind.scheduled() {
            return self.drive_scheduled(id, &job).await;
        }
        let (phases, graph) = match self.phases(&job) {
            Ok(planned) => planned,
            Err(reason) => return self.finish(id, RolloutStatus::Failed, Some(&reason)).await,
        };
        let rows: Vec<(i64, String, String)> =
            phases.iter().map(|(n, p)| (*n, p.phase.title().to_owned(), p.stack_name.clone())).collect();
        self.store.ensure_phase_rows(id, &rows).await?;
        let started = serde_json::json!({ "attempt": job.attempt, "kind": job.kind, "owner": self.config.owner });
        self.store.audit(id, AuditAction::RolloutStarted, started).await?;

        let cfn = match self.environment(id, &job).await? {
            Ok(config) => CloudFormation::from_config(&config),
            Err(reason) => return self.finish(id, RolloutStatus::Failed, Some(&reason)).await,
        };
        let lease = self.lease();
        let owner = StackOwner::new(&self.instance, &job);
        let mut done = BTreeSet::new();
        let mut begun = false;
        for (number, phase) in &phases {
            let status = self.store.phase_row(id, *number).await?.status;
            begun |= status != PhaseStatus::Pending;
            if status == PhaseStatus::Done {
                done.insert(phase.phase);
            }
        }
        // A phase begun means a process (this one or another) started this rollout before.
        crate::telemetry::rollout_claimed(begun);
        // Every phase whose needs are done starts at once (at most `max_parallel_phases`); a
        // teardown deletes a phase once no remaining phase imports from it. A failed phase stops
        // what depends on it; the rest still runs, and the rollout then fails with the first reason.
        let mut started = done.clone();
        let mut blocked = BTreeSet::new();
        let mut failure: Option<String> = None;
        let mut cancelled = false;
        let mut in_flight = FuturesUnordered::new();
        loop {
            if !cancelled {
                let mut ready = if teardown { graph.ready_to_delete(&done) } else { graph.ready(&done) };
                ready.retain(|p| !started.contains(p) && !blocked.contains(p));
                for next in ready {
                    if in_flight.len() >= self.config.max_parallel_phases {
                        break;
                    }
                    if lease.control(id).await?.cancel {
                        cancelled = true;
                        break;
                    }
                    let Some((number, phase)) = phases.iter().find(|(_, p)| p.phase == next) else { continue };
                    started.insert(next);
                    let run = PhaseRunSpec { lease: &lease, owner: &owner, cfn: &cfn, job: &job, id, number: *number };
                    in_flight.push(run.run(phase, teardown));
                }
            }
            let Some((phase, number, end)) = in_flight.next().await else { break };
            match end? {
                PhaseEnd::Done => {
                    done.insert(phase);
                }
                PhaseEnd::Failed(reason) => {
                    self.store.set_phase(id, number, PhaseStatus::Failed, Some(&reason)).await?;
                    failure.get_or_insert_with(|| format!("phase {number} ({}) failed: {reason}", phase.slug()));
                    blocked.extend(if teardown { graph.needs_all(phase) } else { graph.dependents(phase) });
                }
                PhaseEnd::Cancelled => {
                    self.store.set_phase(id, number, PhaseStatus::Cancelled, Some("cancelled by request")).await?;
                    cancelled = true;
                }
            }
        }
        if let Some(message) = failure {
            return self.finish(id, RolloutStatus::Failed, Some(&message)).await;
        }
        if cancelled {
            return self.finish_cancelled(id).await;
        }
        self.finish(id, RolloutStatus::Succeeded, None).await
    }

    /// The phases as they will be deployed, numbered, and which needs which; `Err(reason)` when
    /// the request no longer renders.
    fn phases(&self, job: &Job) -> Result<(Vec<(i64, RenderedPhase)>, PhaseGraph), String> {
        let target = job.target();
        let phases = render_stored(&self.catalog, target).map_err(|e| e.to_string())?;
        let spec = stored_spec(&self.catalog, target).map_err(|e| e.to_string())?;
        let graph = PhaseGraph::of(&self.catalog.evaluate(&spec).map_err(|e| e.to_string())?);
        Ok((phases.into_iter().map(|p| (i64::from(p.phase.number()), p)).collect(), graph))
    }

    /// The AWS configuration acting in the environment's account (see [`job_environment`]).
    async fn environment(&self, id: i64, job: &Job) -> Result<Result<aws_config::SdkConfig, String>, Interrupted> {
        let registry = Environments { db: &self.store.db, catalog: &self.catalog };
        Ok(job_environment(&registry, self.aws.as_ref(), id, job).await?)
    }

    /// A schedule's sleep or wake: the compute stack resized, the database stopped or started
    /// where it can be (see [`ScheduledRun`]).
    async fn drive_scheduled(&self, id: i64, job: &Job) -> Result<(), Interrupted> {
        let plan = match scheduled::plan(&self.catalog, job) {
            Ok(plan) => plan,
            Err(reason) => return self.finish(id, RolloutStatus::Failed, Some(&reason)).await,
        };
        self.store.ensure_phase_rows(id, &plan.rows()).await?;
        let started = serde_json::json!({ "attempt": job.attempt, "kind": job.kind, "owner": self.config.owner });
        self.store.audit(id, AuditAction::RolloutStarted, started).await?;
        let config = match self.environment(id, job).await? {
            Ok(config) => config,
            Err(reason) => return self.finish(id, RolloutStatus::Failed, Some(&reason)).await,
        };
        let (cfn, rds) = (CloudFormation::from_config(&config), Rds::from_config(&config));
        let (lease, owner) = (self.lease(), StackOwner::new(&self.instance, job));
        let run = ScheduledRun { lease: &lease, owner: &owner, cfn: &cfn, rds: &rds, job, id };
        match run.run(&plan).await? {
            PhaseEnd::Done => self.finish(id, RolloutStatus::Succeeded, None).await,
            PhaseEnd::Failed(reason) => self.finish(id, RolloutStatus::Failed, Some(&reason)).await,
            PhaseEnd::Cancelled => self.finish_cancelled(id).await,
        }
    }

    fn lease(&self) -> Lease<'_> {
        Lease {
            store: &self.store,
            owner: &self.config.owner,
            poll: self.config.poll,
            stack_deadline: self.config.stack_deadline,
        }
    }

    async fn finish_cancelled(&self, id: i64) -> Result<(), Interrupted> {
        self.store.cancel_pending_phases(id).await?;
        self.finish(id, RolloutStatus::Cancelled, Some("cancelled by request")).await
    }

    /// Ends the rollout (with its audit entry and notification) if this process still holds it.
    async fn finish(&self, id: i64, status: RolloutStatus, failure: Option<&str>) -> Result<(), Interrupted> {
        if self.store.finish(id, &self.config.owner, status, failure, self.notifier).await? {
            if let Ok(view) = self.store.view(id).await {
                let seconds = (view.finished_at.unwrap_or_else(now_ms) - view.started_at.unwrap_or(view.created_at))
                    as f64
                    / 1000.0;
                crate::telemetry::rollout_finished(view.kind.as_str(), status.as_str(), seconds.max(0.0));
            }
            Ok(())
        } else {
            Err(Interrupted::LeaseLost)
        }
    }
}
