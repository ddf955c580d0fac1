//! The rollout engine: an approved request deployed (or torn down) phase by
//! phase, each phase one CloudFormation stack, in the background.
//!
//! Everything a rollout has done is in the database before the next AWS call,
//! and every AWS call can be repeated (deterministic change-set names, client
//! tokens), so a process killed at any point is replaced by one that reads the
//! state back and carries on. A rollout is run by the process holding its lease;
//! the lease is renewed by a heartbeat and taken over by another process when it
//! lapses. One rollout at a time per environment (name, account, region).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use infra::render::RenderedPhase;
use infra::{DeploymentSpec, EnvironmentName, Region, TierId};
use tokio::sync::Notify;

use crate::audit;
use crate::aws::{
    check_credentials, environment_config, CloudFormation, Created, CredentialsProblem, ResourceChange, StackEvent,
    StackState,
};
use crate::db::{db_error, get, now_ms, Database};
use crate::error::ServerError;
use crate::state::Portal;

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
}

impl EngineConfig {
    pub fn from_env() -> Self {
        let seconds = |name: &str, default: u64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| *v > 0.0)
                .map(Duration::from_secs_f64)
                .unwrap_or(Duration::from_secs(default))
        };
        EngineConfig {
            owner: process_name(),
            lease: seconds("PORTAL_LEASE_SECONDS", 30),
            poll: Duration::from_millis(
                std::env::var("PORTAL_POLL_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(500),
            ),
            max_running: std::env::var("PORTAL_MAX_ROLLOUTS")
                .ok()
                .and_then(|v| v.parse().ok())
                .filter(|n| *n > 0)
                .unwrap_or(4),
        }
    }
}

/// `host:pid:random`, unique per process start.
pub fn process_name() -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    format!("{}:{}:{:08x}", host.trim(), std::process::id(), OsRng.next_u32())
}

pub use app::model::{RolloutEventView as EventView, RolloutPhaseView as PhaseView, RolloutView};

fn unknown_rollout(id: i64) -> ServerError {
    ServerError::NotFound { code: "unknown_rollout", message: format!("no rollout {id}") }
}

fn json_column<T: serde::de::DeserializeOwned + Default>(
    row: &sqlx::any::AnyRow,
    column: &str,
) -> Result<T, ServerError> {
    let text: String = get(row, column)?;
    Ok(serde_json::from_str(&text).unwrap_or_default())
}

pub async fn view(db: &Database, id: i64) -> Result<RolloutView, ServerError> {
    let row = sqlx::query(
        "SELECT o.*, r.tier FROM rollouts o JOIN deployment_requests r ON r.id = o.request_id WHERE o.id = $1",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await
    .map_err(db_error)?
    .ok_or_else(|| unknown_rollout(id))?;
    let phases = sqlx::query("SELECT * FROM rollout_phases WHERE rollout_id = $1 ORDER BY phase")
        .bind(id)
        .fetch_all(&db.pool)
        .await
        .map_err(db_error)?
        .iter()
        .map(|p| {
            Ok(PhaseView {
                number: get(p, "phase")?,
                name: get(p, "name")?,
                stack_name: get(p, "stack_name")?,
                status: get(p, "status")?,
                action: get(p, "action")?,
                resource_count: get(p, "resource_count")?,
                changes: json_column(p, "changes")?,
                outputs: json_column(p, "outputs")?,
                reason: get(p, "reason")?,
                started_at: get(p, "started_at")?,
                finished_at: get(p, "finished_at")?,
            })
        })
        .collect::<Result<Vec<_>, ServerError>>()?;
    Ok(RolloutView {
        id,
        request_id: get(&row, "request_id")?,
        kind: get(&row, "kind")?,
        environment: get(&row, "environment")?,
        region: get(&row, "region")?,
        account_id: get(&row, "account_id")?,
        tier: get(&row, "tier")?,
        status: get(&row, "status")?,
        attempt: get(&row, "attempt")?,
        failure: get(&row, "failure")?,
        cancel_requested: get::<i64>(&row, "cancel_requested")? != 0,
        created_at: get(&row, "created_at")?,
        started_at: get(&row, "started_at")?,
        finished_at: get(&row, "finished_at")?,
        phases,
    })
}

/// Events recorded after `after` (an event id), oldest first.
pub async fn events(db: &Database, id: i64, after: i64, limit: i64) -> Result<Vec<EventView>, ServerError> {
    sqlx::query(
        "SELECT id, phase, logical_id, resource_type, status, reason, at FROM rollout_events \
         WHERE rollout_id = $1 AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(id)
    .bind(after)
    .bind(limit)
    .fetch_all(&db.pool)
    .await
    .map_err(db_error)?
    .iter()
    .map(|e| {
        Ok(EventView {
            id: get(e, "id")?,
            phase: get(e, "phase")?,
            logical_id: get(e, "logical_id")?,
            resource_type: get(e, "resource_type")?,
            status: get(e, "status")?,
            reason: get(e, "reason")?,
            at: get(e, "at")?,
        })
    })
    .collect()
}

/// Asks a queued or running rollout to stop: no later phase starts, and an update in progress is
/// cancelled (CancelUpdateStack). A queued one is cancelled at once.
pub async fn request_cancel(db: &Database, id: i64, actor: &str) -> Result<(), ServerError> {
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let row = sqlx::query("SELECT status FROM rollouts WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?
        .ok_or_else(|| unknown_rollout(id))?;
    let status: String = get(&row, "status")?;
    match status.as_str() {
        "queued" => {
            sqlx::query(
                "UPDATE rollouts SET status = 'cancelled', cancel_requested = 1, finished_at = $1 WHERE id = $2",
            )
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
            sqlx::query("UPDATE rollout_phases SET status = 'cancelled' WHERE rollout_id = $1 AND status = 'pending'")
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        "running" => {
            sqlx::query("UPDATE rollouts SET cancel_requested = 1 WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        other => {
            return Err(ServerError::Conflict(format!(
                "rollout {id} is {other}; only a queued or running one can be cancelled"
            )))
        }
    }
    audit::append(db, &mut tx, actor, "rollout.cancel", &format!("rollout:{id}"), serde_json::json!({ "was": status }))
        .await?;
    tx.commit().await.map_err(db_error)
}

/// Who may retry or cancel a rollout: whoever requested it, approvers and admins.
pub fn may_steer(user: &crate::people::User, requester: &str) -> bool {
    use crate::people::Role;
    user.name == requester || user.has(Role::Approver) || user.has(Role::Admin)
}

/// Retries (`retry`) or cancels a rollout on a user's behalf, after checking they may.
pub async fn steer(portal: &Portal, user: &crate::people::User, id: i64, retry: bool) -> Result<(), ServerError> {
    let rollout = view(&portal.db, id).await?;
    let request = portal.requests().get(rollout.request_id).await?;
    let action = if retry { "retry" } else { "cancel" };
    if !may_steer(user, &request.requester) {
        return Err(ServerError::Forbidden(format!(
            "only the requester, an approver or an admin may {action} rollout {id}"
        )));
    }
    if retry {
        self::retry(&portal.db, id, &user.name, &portal.digest).await?;
        portal.rollout_wake.notify_one();
    } else {
        request_cancel(&portal.db, id, &user.name).await?;
    }
    Ok(())
}

/// Queues a failed or cancelled rollout again as a new attempt, from its first unfinished phase.
pub async fn retry(db: &Database, id: i64, actor: &str, digest: &str) -> Result<(), ServerError> {
    let mut tx = db.begin_write().await?;
    let row = sqlx::query(
        "SELECT o.status, o.attempt, o.kind, r.catalog_digest FROM rollouts o JOIN deployment_requests r ON r.id = o.request_id WHERE o.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?
    .ok_or_else(|| unknown_rollout(id))?;
    let status: String = get(&row, "status")?;
    if status != "failed" && status != "cancelled" {
        return Err(ServerError::Conflict(format!(
            "rollout {id} is {status}; only a failed or cancelled one can be retried"
        )));
    }
    if get::<String>(&row, "kind")? == "deploy" && get::<String>(&row, "catalog_digest")? != digest {
        return Err(ServerError::Conflict(
            "the templates or prices changed since this request was approved, so its approval is void; request the deployment again".into(),
        ));
    }
    let attempt: i64 = get::<i64>(&row, "attempt")? + 1;
    sqlx::query(
        "UPDATE rollouts SET status = 'queued', attempt = $1, failure = NULL, cancel_requested = 0, finished_at = NULL, \
         lease_owner = NULL, lease_expires_at = NULL WHERE id = $2",
    )
    .bind(attempt)
    .bind(id)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    sqlx::query(
        "UPDATE rollout_phases SET status = 'pending', reason = NULL, action = NULL, changes = '[]', started_at = NULL, \
         finished_at = NULL WHERE rollout_id = $1 AND status IN ('failed', 'cancelled', 'running')",
    )
    .bind(id)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    audit::append(
        db,
        &mut tx,
        actor,
        "rollout.retry",
        &format!("rollout:{id}"),
        serde_json::json!({ "attempt": attempt }),
    )
    .await?;
    tx.commit().await.map_err(db_error)
}

/// The deployment a stored request describes.
pub(crate) fn request_spec(
    catalog: &infra::Catalog,
    tier: &str,
    options: &[String],
    environment: &str,
    region: &str,
) -> Result<DeploymentSpec, String> {
    let tier: TierId = tier.parse().map_err(|e: infra::InfraError| e.to_string())?;
    Ok(DeploymentSpec {
        tier,
        environment: EnvironmentName::parse(environment).map_err(|e| e.to_string())?,
        region: Region::parse(region).map_err(|e| e.to_string())?,
        options: catalog.options(tier, Some(options)).map_err(|e| e.to_string())?,
        domain_name: None,
    })
}

/// The six phases of a stored request, rendered as they will be deployed.
pub(crate) fn render_request(
    catalog: &infra::Catalog,
    tier: &str,
    options: &[String],
    environment: &str,
    region: &str,
) -> Result<Vec<RenderedPhase>, String> {
    let spec = request_spec(catalog, tier, options, environment, region)?;
    infra::render::render(catalog, &spec).map_err(|e| e.to_string())
}

/// Runs rollouts in the background of a portal process.
pub struct Engine {
    portal: Arc<Portal>,
    config: EngineConfig,
    /// Rollouts this process is running now.
    running: std::sync::Mutex<HashSet<i64>>,
}

/// What the rollout's row says now, for the process working on it.
struct Control {
    /// This process still holds the lease.
    ours: bool,
    cancel: bool,
}

/// A phase's row, as a resumed run needs it.
struct PhaseRow {
    status: String,
    /// Recorded before its change set is executed.
    action: Option<String>,
    started_at: Option<i64>,
}

/// How one phase ended.
enum PhaseEnd {
    Done,
    Failed(String),
    Cancelled,
}

/// Why a run stopped before the rollout ended (it will be picked up again).
#[derive(Debug)]
enum Interrupted {
    LeaseLost,
    Error(ServerError),
}

impl From<ServerError> for Interrupted {
    fn from(e: ServerError) -> Self {
        Interrupted::Error(e)
    }
}

impl Engine {
    pub fn new(portal: Arc<Portal>, config: EngineConfig) -> Arc<Engine> {
        Arc::new(Engine { portal, config, running: std::sync::Mutex::new(HashSet::new()) })
    }

    /// Claims and runs rollouts until the process ends: woken at once by an approval in this
    /// process, and every poll interval for the ones other processes approved or abandoned.
    pub fn spawn(self: &Arc<Self>, wake: Arc<Notify>) -> tokio::task::JoinHandle<()> {
        let engine = self.clone();
        tokio::spawn(async move {
            loop {
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

    fn db(&self) -> &Database {
        &self.portal.db
    }

    fn lease_until(&self) -> i64 {
        now_ms() + self.config.lease.as_millis() as i64
    }

    /// Takes the oldest runnable rollout whose lease is free: queued, or running under a lapsed
    /// lease, and first in line for its environment. The conditional UPDATE makes the claim atomic
    /// across processes: of two claimants, one updates the row and the other updates nothing.
    pub async fn claim(&self) -> Result<Option<i64>, ServerError> {
        let now = now_ms();
        let row = sqlx::query(
            "UPDATE rollouts SET lease_owner = $1, lease_expires_at = $2, status = 'running', started_at = COALESCE(started_at, $3) \
             WHERE id = (SELECT r.id FROM rollouts r \
                 WHERE r.status IN ('queued', 'running') AND (r.lease_expires_at IS NULL OR r.lease_expires_at < $3) \
                 AND NOT EXISTS (SELECT 1 FROM rollouts o WHERE o.account_id = r.account_id AND o.region = r.region \
                     AND o.environment = r.environment AND o.status IN ('queued', 'running') AND o.id < r.id) \
                 ORDER BY r.id LIMIT 1) \
             AND (lease_expires_at IS NULL OR lease_expires_at < $3) RETURNING id",
        )
        .bind(&self.config.owner)
        .bind(self.lease_until())
        .bind(now)
        .fetch_optional(&self.db().pool)
        .await
        .map_err(db_error)?;
        let Some(row) = row else { return Ok(None) };
        let id: i64 = get(&row, "id")?;
        if let Ok(mut running) = self.running.lock() {
            if !running.insert(id) {
                // Ours already (a lapsed lease we are still working under): the live run carries on.
                return Ok(None);
            }
        }
        Ok(Some(id))
    }

    /// Renews the lease; `false` once another process holds it.
    async fn heartbeat(&self, id: i64) -> Result<bool, ServerError> {
        let done = sqlx::query("UPDATE rollouts SET lease_expires_at = $1 WHERE id = $2 AND lease_owner = $3")
            .bind(self.lease_until())
            .bind(id)
            .bind(&self.config.owner)
            .execute(&self.db().pool)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
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
                _ = tokio::time::sleep(beat) => match self.heartbeat(id).await {
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
            Err(Interrupted::Error(e)) => {
                tracing::warn!(rollout = id, error = %e, "rollout interrupted; it resumes when its lease lapses");
            }
        }
        if let Ok(mut running) = self.running.lock() {
            running.remove(&id);
        }
    }

    async fn drive(&self, id: i64) -> Result<(), Interrupted> {
        let row = sqlx::query(
            "SELECT o.kind, o.attempt, o.environment, o.region, r.tier, r.options, r.role_arn, r.catalog_digest, r.requester_id \
             FROM rollouts o JOIN deployment_requests r ON r.id = o.request_id WHERE o.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.db().pool)
        .await
        .map_err(db_error)?
        .ok_or_else(|| unknown_rollout(id))?;
        let kind: String = get(&row, "kind")?;
        let attempt: i64 = get(&row, "attempt")?;
        let environment: String = get(&row, "environment")?;
        let region: String = get(&row, "region")?;
        let role_arn: String = get(&row, "role_arn")?;
        let teardown = kind == "teardown";

        if !teardown && get::<String>(&row, "catalog_digest")? != self.portal.digest {
            return self
                .finish(id, "failed", Some("the templates or prices changed after approval, so the approval is void; request the deployment again"))
                .await;
        }
        let phases = match self.render(&row, &environment, &region) {
            Ok(phases) => phases,
            Err(reason) => return self.finish(id, "failed", Some(&reason)).await,
        };
        let mut phases: Vec<(i64, RenderedPhase)> =
            phases.into_iter().map(|p| (i64::from(p.phase.number()), p)).collect();
        if teardown {
            phases.reverse();
        }
        self.ensure_phase_rows(id, &phases).await?;
        self.event(
            id,
            "rollout.started",
            serde_json::json!({ "attempt": attempt, "kind": kind, "owner": self.config.owner }),
        )
        .await?;

        let Some(base) = self.portal.aws.clone() else {
            return self.finish(id, "failed", Some("the portal has no AWS configuration")).await;
        };
        let config = environment_config(&base, &role_arn, &region, &format!("portal-rollout-{id}")).await;
        match check_credentials(&config, &role_arn).await {
            Ok(()) => {}
            Err(CredentialsProblem::Refused(reason)) => return self.finish(id, "failed", Some(&reason)).await,
            Err(CredentialsProblem::Transient(reason)) => {
                return Err(Interrupted::Error(ServerError::Aws { operation: "AssumeRole", message: reason }))
            }
        }
        let cfn = CloudFormation::from_config(&config);

        for (number, phase) in &phases {
            if self.phase_row(id, *number).await?.status == "done" {
                continue;
            }
            if self.cancel_requested(id).await? {
                return self.finish_cancelled(id).await;
            }
            // Also the change set's name. It names the environment: moto finds change sets by name
            // alone, and two portals' rollout ids may coincide.
            let token = format!("portal-{environment}-r{id}-a{attempt}-p{number}");
            let end = if teardown {
                self.delete_phase(&cfn, id, *number, &phase.stack_name, &token).await
            } else {
                self.deploy_phase(&cfn, id, *number, phase, &token).await
            };
            let end = match end {
                Ok(end) => end,
                // An AWS error that retries did not cure is the phase's failure, recorded with its reason.
                Err(Interrupted::Error(e @ ServerError::Aws { .. })) => PhaseEnd::Failed(e.to_string()),
                Err(other) => return Err(other),
            };
            match end {
                PhaseEnd::Done => {}
                PhaseEnd::Failed(reason) => {
                    self.set_phase(id, *number, "failed", Some(&reason)).await?;
                    let message = format!("phase {number} ({}) failed: {reason}", phase.phase.slug());
                    return self.finish(id, "failed", Some(&message)).await;
                }
                PhaseEnd::Cancelled => {
                    self.set_phase(id, *number, "cancelled", Some("cancelled by request")).await?;
                    return self.finish_cancelled(id).await;
                }
            }
        }
        self.finish(id, "succeeded", None).await
    }

    fn render(&self, row: &sqlx::any::AnyRow, environment: &str, region: &str) -> Result<Vec<RenderedPhase>, String> {
        let tier: String = get(row, "tier").map_err(|e| e.to_string())?;
        let options: Vec<String> = json_column(row, "options").map_err(|e| e.to_string())?;
        render_request(&self.portal.catalog.catalog, &tier, &options, environment, region)
    }

    async fn ensure_phase_rows(&self, id: i64, phases: &[(i64, RenderedPhase)]) -> Result<(), ServerError> {
        for (number, phase) in phases {
            sqlx::query(
                "INSERT INTO rollout_phases (rollout_id, phase, name, stack_name, status) VALUES ($1, $2, $3, $4, 'pending') \
                 ON CONFLICT (rollout_id, phase) DO NOTHING",
            )
            .bind(id)
            .bind(number)
            .bind(phase.phase.title())
            .bind(&phase.stack_name)
            .execute(&self.db().pool)
            .await
            .map_err(db_error)?;
        }
        Ok(())
    }

    /// Whether this process still holds the rollout's lease, and whether a cancel was asked for.
    async fn control(&self, id: i64) -> Result<Control, ServerError> {
        let row = sqlx::query("SELECT lease_owner, cancel_requested FROM rollouts WHERE id = $1")
            .bind(id)
            .fetch_one(&self.db().pool)
            .await
            .map_err(db_error)?;
        Ok(Control {
            ours: get::<Option<String>>(&row, "lease_owner")?.as_deref() == Some(self.config.owner.as_str()),
            cancel: get::<i64>(&row, "cancel_requested")? != 0,
        })
    }

    async fn cancel_requested(&self, id: i64) -> Result<bool, ServerError> {
        Ok(self.control(id).await?.cancel)
    }

    /// Work is only recorded while this process holds the lease.
    async fn still_ours(&self, id: i64) -> Result<(), Interrupted> {
        if self.control(id).await?.ours {
            Ok(())
        } else {
            Err(Interrupted::LeaseLost)
        }
    }

    async fn phase_row(&self, id: i64, number: i64) -> Result<PhaseRow, ServerError> {
        let row =
            sqlx::query("SELECT status, action, started_at FROM rollout_phases WHERE rollout_id = $1 AND phase = $2")
                .bind(id)
                .bind(number)
                .fetch_one(&self.db().pool)
                .await
                .map_err(db_error)?;
        Ok(PhaseRow {
            status: get(&row, "status")?,
            action: get(&row, "action")?,
            started_at: get(&row, "started_at")?,
        })
    }

    async fn set_phase(&self, id: i64, number: i64, status: &str, reason: Option<&str>) -> Result<(), ServerError> {
        let now = now_ms();
        let finished = matches!(status, "done" | "failed" | "cancelled").then_some(now);
        sqlx::query(
            "UPDATE rollout_phases SET status = $1, reason = COALESCE($2, reason), started_at = COALESCE(started_at, $3), \
             finished_at = $4 WHERE rollout_id = $5 AND phase = $6",
        )
        .bind(status)
        .bind(reason)
        .bind(now)
        .bind(finished)
        .bind(id)
        .bind(number)
        .execute(&self.db().pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    /// One phase, resumable from any point: find or create the change set, record its changes,
    /// execute it unless already executed, follow the stack to a terminal status.
    async fn deploy_phase(
        &self,
        cfn: &CloudFormation,
        id: i64,
        number: i64,
        phase: &RenderedPhase,
        token: &str,
    ) -> Result<PhaseEnd, Interrupted> {
        self.still_ours(id).await?;
        self.set_phase(id, number, "running", None).await?;
        let stack = phase.stack_name.as_str();
        let change_set = token.to_owned();
        let mut existing = cfn.stack(stack).await?;

        // A stack whose creation failed and rolled back cannot be updated: delete it first (retry).
        if existing.as_ref().is_some_and(|s| s.status == "ROLLBACK_COMPLETE") {
            match self.follow_deletion(cfn, id, number, stack, &format!("{token}-clear")).await? {
                Some(reason) => {
                    return Ok(PhaseEnd::Failed(format!("removing the rolled-back stack failed: {reason}")))
                }
                None => existing = None,
            }
        }

        if cfn.change_set(stack, &change_set).await?.is_none() {
            let update = existing.as_ref().is_some_and(|s| s.status != "REVIEW_IN_PROGRESS");
            if let Some(s) = existing.as_ref().filter(|s| s.in_progress()) {
                // Someone else is changing this stack: wait for them rather than fail on a conflict.
                tracing::info!(stack, status = %s.status, "waiting for an operation already in progress");
                self.follow_stack(cfn, id, number, stack, None).await?;
            }
            let created = cfn
                .create_change_set(stack, &change_set, update, &phase.template_body, &phase.parameters, token)
                .await?;
            if created == Created::NothingToChange {
                return self.unchanged(cfn, id, number, stack).await;
            }
        }
        let state = cfn.settled_change_set(stack, &change_set, self.config.poll).await?;
        if state.empty() {
            return self.unchanged(cfn, id, number, stack).await;
        }
        if state.status == "FAILED" {
            return Ok(PhaseEnd::Failed(format!("CloudFormation refused the change set: {}", state.reason)));
        }
        // After a restart the stack may exist because this very change set created it: the action
        // recorded before execution is the one that holds.
        let action = match self.phase_row(id, number).await?.action {
            Some(recorded) => recorded,
            None if existing.is_some() => "update".to_owned(),
            None => "create".to_owned(),
        };
        let action = action.as_str();
        self.record_changes(id, number, action, &state.changes).await?;
        if state.executable() {
            if self.cancel_requested(id).await? {
                return Ok(PhaseEnd::Cancelled);
            }
            self.still_ours(id).await?;
            cfn.execute_change_set(stack, &change_set, token).await?;
        }
        let cancel_token = format!("{token}-cancel");
        let end = self.follow_stack(cfn, id, number, stack, Some(&cancel_token)).await?;
        match end {
            Some(final_state) if final_state.succeeded() => {
                let count = cfn.resource_count(stack).await?;
                self.record_phase_result(id, number, action, &state.changes, &final_state.outputs, count).await?;
                Ok(PhaseEnd::Done)
            }
            Some(final_state) => {
                if self.cancel_requested(id).await? && final_state.status == "UPDATE_ROLLBACK_COMPLETE" {
                    return Ok(PhaseEnd::Cancelled);
                }
                Ok(PhaseEnd::Failed(self.failure_reason(id, number, &final_state).await?))
            }
            None => Ok(PhaseEnd::Failed(format!("stack {stack} disappeared during the deployment"))),
        }
    }

    /// Nothing to change: a success, with the stack's outputs as they are.
    async fn unchanged(
        &self,
        cfn: &CloudFormation,
        id: i64,
        number: i64,
        stack: &str,
    ) -> Result<PhaseEnd, Interrupted> {
        let outputs = cfn.stack(stack).await?.map(|s| s.outputs).unwrap_or_default();
        let count = cfn.resource_count(stack).await?;
        self.record_phase_result(id, number, "unchanged", &[], &outputs, count).await?;
        Ok(PhaseEnd::Done)
    }

    /// Follows a stack until it is no longer in progress, recording its events. Cancels an update
    /// in progress when the rollout is asked to stop (`cancel_token`). `None` when the stack is gone.
    async fn follow_stack(
        &self,
        cfn: &CloudFormation,
        id: i64,
        number: i64,
        stack: &str,
        cancel_token: Option<&str>,
    ) -> Result<Option<StackState>, Interrupted> {
        let since = self.phase_row(id, number).await?.started_at.unwrap_or_else(now_ms);
        let mut seen = self.recorded_event_ids(id, number).await?;
        let mut cancelled = false;
        loop {
            self.record_events(cfn, id, number, stack, since, &mut seen).await?;
            let Some(state) = cfn.stack(stack).await? else { return Ok(None) };
            if !state.in_progress() {
                // One more read: events written just before the terminal status are not lost.
                self.record_events(cfn, id, number, stack, since, &mut seen).await?;
                return Ok(Some(state));
            }
            let control = self.control(id).await?;
            if !control.ours {
                return Err(Interrupted::LeaseLost);
            }
            if let Some(token) = cancel_token {
                if !cancelled && control.cancel && state.status == "UPDATE_IN_PROGRESS" {
                    cfn.cancel_update(stack, token).await?;
                    cancelled = true;
                }
            }
            tokio::time::sleep(self.config.poll).await;
        }
    }

    /// Deletes a stack and follows it until gone; `Some(reason)` if the deletion failed.
    async fn follow_deletion(
        &self,
        cfn: &CloudFormation,
        id: i64,
        number: i64,
        stack: &str,
        token: &str,
    ) -> Result<Option<String>, Interrupted> {
        let Some(state) = cfn.stack(stack).await? else { return Ok(None) };
        if state.status == "DELETE_COMPLETE" {
            return Ok(None);
        }
        if state.status != "DELETE_IN_PROGRESS" {
            self.still_ours(id).await?;
            cfn.delete_stack(stack, token).await?;
        }
        match self.follow_stack(cfn, id, number, stack, None).await? {
            None => Ok(None),
            Some(s) if s.status == "DELETE_COMPLETE" => Ok(None),
            Some(s) => Ok(Some(self.failure_reason(id, number, &s).await?)),
        }
    }

    async fn delete_phase(
        &self,
        cfn: &CloudFormation,
        id: i64,
        number: i64,
        stack: &str,
        token: &str,
    ) -> Result<PhaseEnd, Interrupted> {
        self.still_ours(id).await?;
        self.set_phase(id, number, "running", None).await?;
        let count = match cfn.stack(stack).await? {
            Some(s) if s.status != "DELETE_COMPLETE" => cfn.resource_count(stack).await.unwrap_or(0),
            _ => 0,
        };
        match self.follow_deletion(cfn, id, number, stack, token).await? {
            Some(reason) => Ok(PhaseEnd::Failed(reason)),
            None => {
                self.record_phase_result(id, number, "delete", &[], &[], count).await?;
                Ok(PhaseEnd::Done)
            }
        }
    }

    /// Stores the events not stored yet. The event id is unique per rollout, so reading the same
    /// events again after a restart stores nothing twice.
    async fn recorded_event_ids(&self, id: i64, number: i64) -> Result<HashSet<String>, ServerError> {
        sqlx::query("SELECT event_id FROM rollout_events WHERE rollout_id = $1 AND phase = $2")
            .bind(id)
            .bind(number)
            .fetch_all(&self.db().pool)
            .await
            .map_err(db_error)?
            .iter()
            .map(|r| get::<String>(r, "event_id"))
            .collect()
    }

    /// `seen` holds every event id read so far (stored or not ours), so each poll reads only the
    /// stack's newest events.
    async fn record_events(
        &self,
        cfn: &CloudFormation,
        id: i64,
        number: i64,
        stack: &str,
        since: i64,
        seen: &mut HashSet<String>,
    ) -> Result<(), ServerError> {
        let events = cfn.events(stack, &|event_id| seen.contains(event_id)).await?;
        seen.extend(events.iter().map(|e| e.event_id.clone()));
        // Only this phase's operations: earlier events of the same stack belong to earlier rollouts.
        // CloudFormation tags an operation's events with its client request token (ours name the
        // rollout and phase); where an endpoint does not, the phase's start time decides.
        let ours = |token: &str| token.contains(&format!("-r{id}-a")) && token.contains(&format!("-p{number}"));
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
        let now = now_ms();
        let mut tx = self.db().begin_write().await?;
        for e in fresh {
            sqlx::query(
                "INSERT INTO rollout_events (rollout_id, phase, event_id, logical_id, resource_type, status, reason, at, recorded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (rollout_id, event_id) DO NOTHING",
            )
            .bind(id)
            .bind(number)
            .bind(&e.event_id)
            .bind(&e.logical_id)
            .bind(&e.resource_type)
            .bind(&e.status)
            .bind(&e.reason)
            .bind(&e.at)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)
    }

    /// The status reason of the first resource that failed in this phase; the stack's own reason
    /// when no resource says more.
    async fn failure_reason(&self, id: i64, number: i64, state: &StackState) -> Result<String, ServerError> {
        let first = sqlx::query(
            "SELECT logical_id, resource_type, reason FROM rollout_events WHERE rollout_id = $1 AND phase = $2 \
             AND status LIKE '%FAILED' AND resource_type <> 'AWS::CloudFormation::Stack' AND reason <> '' \
             AND reason NOT LIKE 'Resource creation cancelled%' ORDER BY at, id LIMIT 1",
        )
        .bind(id)
        .bind(number)
        .fetch_optional(&self.db().pool)
        .await
        .map_err(db_error)?;
        Ok(match first {
            Some(row) => format!(
                "{} ({}): {}",
                get::<String>(&row, "logical_id")?,
                get::<String>(&row, "resource_type")?,
                get::<String>(&row, "reason")?
            ),
            None if !state.reason.is_empty() => format!("stack ended {}: {}", state.status, state.reason),
            None => format!("stack ended {}", state.status),
        })
    }

    async fn record_changes(
        &self,
        id: i64,
        number: i64,
        action: &str,
        changes: &[ResourceChange],
    ) -> Result<(), ServerError> {
        let text = serde_json::to_string(changes).unwrap_or_else(|_| "[]".into());
        sqlx::query("UPDATE rollout_phases SET action = $1, changes = $2 WHERE rollout_id = $3 AND phase = $4")
            .bind(action)
            .bind(text)
            .bind(id)
            .bind(number)
            .execute(&self.db().pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn record_phase_result(
        &self,
        id: i64,
        number: i64,
        action: &str,
        changes: &[ResourceChange],
        outputs: &[(String, String)],
        resource_count: i64,
    ) -> Result<(), ServerError> {
        let now = now_ms();
        let mut tx = self.db().begin_write().await?;
        sqlx::query(
            "UPDATE rollout_phases SET status = 'done', action = $1, changes = $2, outputs = $3, resource_count = $4, \
             started_at = COALESCE(started_at, $5), finished_at = $5 WHERE rollout_id = $6 AND phase = $7",
        )
        .bind(action)
        .bind(serde_json::to_string(changes).unwrap_or_else(|_| "[]".into()))
        .bind(serde_json::to_string(outputs).unwrap_or_else(|_| "[]".into()))
        .bind(resource_count)
        .bind(now)
        .bind(id)
        .bind(number)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        audit::append(
            self.db(),
            &mut tx,
            "portal",
            "rollout.phase",
            &format!("rollout:{id}"),
            serde_json::json!({ "phase": number, "action": action, "resources": resource_count }),
        )
        .await?;
        tx.commit().await.map_err(db_error)
    }

    async fn event(&self, id: i64, action: &str, details: serde_json::Value) -> Result<(), ServerError> {
        let mut tx = self.db().begin_write().await?;
        audit::append(self.db(), &mut tx, "portal", action, &format!("rollout:{id}"), details).await?;
        tx.commit().await.map_err(db_error)
    }

    async fn finish_cancelled(&self, id: i64) -> Result<(), Interrupted> {
        sqlx::query("UPDATE rollout_phases SET status = 'cancelled' WHERE rollout_id = $1 AND status = 'pending'")
            .bind(id)
            .execute(&self.db().pool)
            .await
            .map_err(db_error)?;
        self.finish(id, "cancelled", Some("cancelled by request")).await
    }

    /// Ends the rollout (with its audit entry and notification) if this process still holds it.
    async fn finish(&self, id: i64, status: &str, failure: Option<&str>) -> Result<(), Interrupted> {
        let mut tx = self.db().begin_write().await?;
        let done = sqlx::query(
            "UPDATE rollouts SET status = $1, failure = $2, finished_at = $3, lease_owner = NULL, lease_expires_at = NULL \
             WHERE id = $4 AND lease_owner = $5",
        )
        .bind(status)
        .bind(failure)
        .bind(now_ms())
        .bind(id)
        .bind(&self.config.owner)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        if done.rows_affected() != 1 {
            return Err(Interrupted::LeaseLost);
        }
        audit::append(
            self.db(),
            &mut tx,
            "portal",
            &format!("rollout.{status}"),
            &format!("rollout:{id}"),
            serde_json::json!({ "failure": failure }),
        )
        .await?;
        if self.portal.webhook_url.is_some() && status != "cancelled" {
            let text = match failure {
                Some(reason) => format!("Rollout {id} {status}: {reason}"),
                None => format!("Rollout {id} {status}"),
            };
            let details = serde_json::json!({ "rollout_id": id, "status": status, "failure": failure });
            crate::notify::enqueue(&mut tx, &format!("rollout.{status}"), &format!("rollout:{id}"), &text, details)
                .await?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(())
    }
}
