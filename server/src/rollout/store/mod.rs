//! A rollout's rows: the rollout (status, lease, cancel flag), its phases and the stack events
//! recorded for them. Reads come back typed; every write the engine makes goes through here, and
//! the ones that end something carry their audit entry in the same transaction.
//!
//! Every SQL statement the engine and the live views make on the rollout tables is in this
//! folder, so a schema change is made here: the rollout itself in this file, its lease in
//! [`lease`], its phases and their stack events in [`phases`].

use app::model::{
    AuditAction, NotificationEvent, PhaseAction, PhaseStatus, RequestKind, ResourceChange, RolloutEventView,
    RolloutPhaseView, RolloutStatus, RolloutView,
};
use infra::{DomainName, EnvironmentName, Region, RoleArn, TierId};

use crate::audit;
use crate::db::{get, get_json, get_parsed, get_parsed_opt, now_ms, Database};
use crate::error::ServerError;
use crate::notify::Notifier;

mod environment;
mod lease;
mod phases;

pub use environment::{Release, Waiting};

pub(crate) fn unknown_rollout(id: i64) -> ServerError {
    ServerError::NotFound { code: "unknown_rollout", message: format!("no rollout {id}") }
}

pub(crate) fn subject(id: i64) -> String {
    format!("rollout:{id}")
}

/// What the engine needs of a claimed rollout, read once and typed.
pub(crate) struct Job {
    pub request_id: i64,
    pub kind: RequestKind,
    pub attempt: i64,
    pub environment: EnvironmentName,
    pub region: Region,
    pub tier: TierId,
    /// Option names as the request stored them; the catalog resolves them (it may have changed).
    pub options: Vec<String>,
    pub role_arn: RoleArn,
    pub account_id: String,
    /// Who asked: the deploy role's session carries it as its `SourceIdentity`.
    pub requester: String,
    /// An adoption: stacks no portal created may be taken over.
    pub adopt: bool,
    /// The domain the request was made with.
    pub domain_name: Option<DomainName>,
    pub catalog_digest: String,
    /// A deployment's lifetime; a schedule's sleep: how long it sleeps (minutes).
    pub lifetime_minutes: Option<i64>,
}

impl Job {
    /// Where and what the job's request deploys.
    pub fn target(&self) -> crate::rollout::spec::StoredTarget<'_> {
        crate::rollout::spec::StoredTarget {
            tier: self.tier,
            options: &self.options,
            environment: &self.environment,
            region: self.region,
            domain_name: self.domain_name.as_ref(),
        }
    }
}

/// What the rollout's row says now, for the process working on it.
pub(crate) struct Control {
    /// This process still holds the lease.
    pub ours: bool,
    pub cancel: bool,
}

/// A phase's row, as a resumed run needs it.
pub(crate) struct PhaseRow {
    pub status: PhaseStatus,
    /// Recorded before its change set is executed.
    pub action: Option<PhaseAction>,
    pub started_at: Option<i64>,
}

/// How a phase ended, as the engine records it.
pub(crate) struct PhaseResult<'a> {
    pub action: PhaseAction,
    pub changes: &'a [ResourceChange],
    pub outputs: &'a [(String, String)],
    pub resource_count: i64,
}

/// The rollout rows of one database.
#[derive(Clone)]
pub struct RolloutStore {
    pub(crate) db: Database,
}

impl RolloutStore {
    pub fn new(db: Database) -> RolloutStore {
        RolloutStore { db }
    }

    /// The rollout with its phases, as the API and the pages show it.
    pub async fn view(&self, id: i64) -> Result<RolloutView, ServerError> {
        let row = sqlx::query(
            "SELECT o.*, r.tier FROM rollouts o JOIN deployment_requests r ON r.id = o.request_id WHERE o.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.db.pool)
        .await?
        .ok_or_else(|| unknown_rollout(id))?;
        let phases = sqlx::query("SELECT * FROM rollout_phases WHERE rollout_id = $1 ORDER BY phase")
            .bind(id)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(|p| {
                Ok(RolloutPhaseView {
                    number: get(p, "phase")?,
                    name: get(p, "name")?,
                    stack_name: get(p, "stack_name")?,
                    status: get_parsed(p, "status")?,
                    action: get_parsed_opt(p, "action")?,
                    resource_count: get(p, "resource_count")?,
                    changes: get_json(p, "changes")?,
                    outputs: get_json(p, "outputs")?,
                    reason: get(p, "reason")?,
                    started_at: get(p, "started_at")?,
                    finished_at: get(p, "finished_at")?,
                })
            })
            .collect::<Result<Vec<_>, ServerError>>()?;
        Ok(RolloutView {
            id,
            request_id: get(&row, "request_id")?,
            kind: get_parsed(&row, "kind")?,
            environment: get(&row, "environment")?,
            region: get(&row, "region")?,
            account_id: get(&row, "account_id")?,
            tier: get(&row, "tier")?,
            status: get_parsed(&row, "status")?,
            attempt: get(&row, "attempt")?,
            failure: get(&row, "failure")?,
            cancel_requested: get::<i64>(&row, "cancel_requested")? != 0,
            created_at: get(&row, "created_at")?,
            started_at: get(&row, "started_at")?,
            finished_at: get(&row, "finished_at")?,
            phases,
            window_opens_at: None,
            window_override: get::<Option<String>>(&row, "window_override_by")?
                .map(|by| {
                    Ok::<_, ServerError>((
                        by,
                        get::<Option<String>>(&row, "window_override_reason")?.unwrap_or_default(),
                    ))
                })
                .transpose()?,
        })
    }

    /// Events recorded after `after` (an event id), oldest first.
    pub async fn events(&self, id: i64, after: i64, limit: i64) -> Result<Vec<RolloutEventView>, ServerError> {
        sqlx::query(
            "SELECT id, phase, logical_id, resource_type, status, reason, at FROM rollout_events \
             WHERE rollout_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(id)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.db.pool)
        .await?
        .iter()
        .map(|e| {
            Ok(RolloutEventView {
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

    /// The id of the rollout's latest event (0 before any).
    pub async fn newest_event_id(&self, id: i64) -> Result<i64, ServerError> {
        let row = sqlx::query("SELECT COALESCE(MAX(id), 0) AS newest FROM rollout_events WHERE rollout_id = $1")
            .bind(id)
            .fetch_one(&self.db.pool)
            .await?;
        get(&row, "newest")
    }

    pub(crate) async fn job(&self, id: i64) -> Result<Job, ServerError> {
        let row = sqlx::query(
            "SELECT o.request_id, o.kind, o.attempt, o.environment, o.region, o.account_id, r.tier, r.options, r.role_arn, \
             r.catalog_digest, r.adopt, r.domain_name, r.lifetime_minutes, u.name AS requester FROM rollouts o JOIN deployment_requests r ON r.id = o.request_id \
             JOIN users u ON u.id = r.requester_id WHERE o.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.db.pool)
        .await?
        .ok_or_else(|| unknown_rollout(id))?;
        Ok(Job {
            request_id: get(&row, "request_id")?,
            kind: get_parsed(&row, "kind")?,
            attempt: get(&row, "attempt")?,
            environment: get_parsed(&row, "environment")?,
            region: get_parsed(&row, "region")?,
            tier: get_parsed(&row, "tier")?,
            options: get_json(&row, "options")?,
            role_arn: get_parsed(&row, "role_arn")?,
            account_id: get(&row, "account_id")?,
            requester: get(&row, "requester")?,
            adopt: get::<i64>(&row, "adopt")? != 0,
            domain_name: get_parsed_opt(&row, "domain_name")?,
            catalog_digest: get(&row, "catalog_digest")?,
            lifetime_minutes: get(&row, "lifetime_minutes")?,
        })
    }

    /// An audit entry about the rollout, on its own.
    pub(crate) async fn audit(
        &self,
        id: i64,
        action: AuditAction,
        details: serde_json::Value,
    ) -> Result<(), ServerError> {
        let mut tx = self.db.begin_write().await?;
        audit::append(&self.db, &mut tx, "portal", action, &subject(id), details).await?;
        Ok(tx.commit().await?)
    }

    /// Ends the rollout, with its audit entry and notification, if `owner` still holds it;
    /// `false` when the lease was lost (nothing is written then).
    pub(crate) async fn finish(
        &self,
        id: i64,
        owner: &str,
        status: RolloutStatus,
        failure: Option<&str>,
        notifier: Notifier,
    ) -> Result<bool, ServerError> {
        let mut tx = self.db.begin_write().await?;
        let done = sqlx::query(
            "UPDATE rollouts SET status = $1, failure = $2, finished_at = $3, lease_owner = NULL, lease_expires_at = NULL \
             WHERE id = $4 AND lease_owner = $5 RETURNING kind",
        )
        .bind(status.as_str())
        .bind(failure)
        .bind(now_ms())
        .bind(id)
        .bind(owner)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(done) = done else { return Ok(false) };
        let kind: RequestKind = get_parsed(&done, "kind")?;
        let (action, event) = match status {
            // A schedule's sleep and wake succeed twice a day: only their failures are announced.
            RolloutStatus::Succeeded if kind.scheduled() => (AuditAction::RolloutSucceeded, None),
            RolloutStatus::Succeeded => (AuditAction::RolloutSucceeded, Some(NotificationEvent::RolloutSucceeded)),
            RolloutStatus::Failed => (AuditAction::RolloutFailed, Some(NotificationEvent::RolloutFailed)),
            RolloutStatus::Cancelled => (AuditAction::RolloutCancelled, None),
            RolloutStatus::Queued | RolloutStatus::Running | RolloutStatus::WaitingForWindow => {
                return Err(ServerError::Internal(format!("rollout {id} cannot finish as {status}")));
            }
        };
        let details = serde_json::json!({ "failure": failure });
        audit::append(&self.db, &mut tx, "portal", action, &subject(id), details).await?;
        if let Some(event) = event {
            let text = match failure {
                Some(reason) => format!("Rollout {id} {status}: {reason}"),
                None => format!("Rollout {id} {status}"),
            };
            let details = serde_json::json!({ "rollout_id": id, "status": status, "failure": failure });
            notifier.enqueue(&mut tx, event, &subject(id), &text, details).await?;
        }
        tx.commit().await?;
        self.db.rollout_changed(id);
        Ok(true)
    }
}
