//! A rollout's rows: the rollout (status, lease, cancel flag), its phases and the stack events
//! recorded for them. Reads come back typed; every write the engine makes goes through here, and
//! the ones that end something carry their audit entry in the same transaction.
//!
//! Over 400 lines on purpose: every SQL statement on the rollout tables is here, so a schema
//! change is made in one file.

use std::collections::HashSet;

use app::model::{
    AuditAction, NotificationEvent, PhaseAction, PhaseStatus, ResourceChange, RolloutEventView, RolloutKind,
    RolloutPhaseView, RolloutStatus, RolloutView,
};
use infra::{DomainName, EnvironmentName, Region, RoleArn, TierId};

use crate::audit;
use crate::db::{get, get_json, get_parsed, get_parsed_opt, now_ms, Database};
use crate::error::ServerError;
use crate::notify::Notifier;
use crate::rollout::aws::StackEvent;

pub(crate) fn unknown_rollout(id: i64) -> ServerError {
    ServerError::NotFound { code: "unknown_rollout", message: format!("no rollout {id}") }
}

pub(crate) fn subject(id: i64) -> String {
    format!("rollout:{id}")
}

/// What the engine needs of a claimed rollout, read once and typed.
pub(crate) struct Job {
    pub request_id: i64,
    pub kind: RolloutKind,
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
             r.catalog_digest, r.adopt, r.domain_name, u.name AS requester FROM rollouts o JOIN deployment_requests r ON r.id = o.request_id \
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
        })
    }

    /// Takes the oldest runnable rollout whose lease is free: queued, or running under a lapsed
    /// lease, and first in line for its environment. The conditional UPDATE makes the claim atomic
    /// across processes: of two claimants, one updates the row and the other updates nothing.
    pub(crate) async fn claim(&self, owner: &str, lease_until: i64) -> Result<Option<i64>, ServerError> {
        let now = now_ms();
        let row = sqlx::query(
            "UPDATE rollouts SET lease_owner = $1, lease_expires_at = $2, status = $5, started_at = COALESCE(started_at, $3) \
             WHERE id = (SELECT r.id FROM rollouts r \
                 WHERE r.status IN ($4, $5) AND (r.lease_expires_at IS NULL OR r.lease_expires_at < $3) \
                 AND NOT EXISTS (SELECT 1 FROM rollouts o WHERE o.account_id = r.account_id AND o.region = r.region \
                     AND o.environment = r.environment AND o.status IN ($4, $5) AND o.id < r.id) \
                 ORDER BY r.id LIMIT 1) \
             AND (lease_expires_at IS NULL OR lease_expires_at < $3) RETURNING id",
        )
        .bind(owner)
        .bind(lease_until)
        .bind(now)
        .bind(RolloutStatus::Queued.as_str())
        .bind(RolloutStatus::Running.as_str())
        .fetch_optional(&self.db.pool)
        .await?;
        let claimed: Option<i64> = row.map(|row| get(&row, "id")).transpose()?;
        if let Some(id) = claimed {
            self.db.rollout_changed(id);
        }
        Ok(claimed)
    }

    /// Gives up every lease `owner` holds on a running rollout (the process is stopping): the
    /// rollouts stay running, free for the next process that looks.
    pub(crate) async fn hand_back_leases(&self, owner: &str) -> Result<Vec<i64>, ServerError> {
        let rows = sqlx::query(
            "UPDATE rollouts SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = $1 AND status = $2 \
             RETURNING id",
        )
        .bind(owner)
        .bind(RolloutStatus::Running.as_str())
        .fetch_all(&self.db.pool)
        .await?;
        rows.iter().map(|r| get::<i64>(r, "id")).collect()
    }

    /// Renews the lease; `false` once another process holds it.
    pub(crate) async fn renew_lease(&self, id: i64, owner: &str, lease_until: i64) -> Result<bool, ServerError> {
        let done = sqlx::query("UPDATE rollouts SET lease_expires_at = $1 WHERE id = $2 AND lease_owner = $3")
            .bind(lease_until)
            .bind(id)
            .bind(owner)
            .execute(&self.db.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Whether `owner` still holds the rollout's lease, and whether a cancel was asked for.
    pub(crate) async fn control(&self, id: i64, owner: &str) -> Result<Control, ServerError> {
        let row = sqlx::query("SELECT lease_owner, cancel_requested FROM rollouts WHERE id = $1")
            .bind(id)
            .fetch_one(&self.db.pool)
            .await?;
        Ok(Control {
            ours: get::<Option<String>>(&row, "lease_owner")?.as_deref() == Some(owner),
            cancel: get::<i64>(&row, "cancel_requested")? != 0,
        })
    }

    pub(crate) async fn ensure_phase_rows(&self, id: i64, phases: &[(i64, String, String)]) -> Result<(), ServerError> {
        for (number, title, stack_name) in phases {
            sqlx::query(
                "INSERT INTO rollout_phases (rollout_id, phase, name, stack_name, status) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (rollout_id, phase) DO NOTHING",
            )
            .bind(id)
            .bind(number)
            .bind(title)
            .bind(stack_name)
            .bind(PhaseStatus::Pending.as_str())
            .execute(&self.db.pool)
            .await?;
        }
        self.db.rollout_changed(id);
        Ok(())
    }

    pub(crate) async fn phase_row(&self, id: i64, number: i64) -> Result<PhaseRow, ServerError> {
        let row =
            sqlx::query("SELECT status, action, started_at FROM rollout_phases WHERE rollout_id = $1 AND phase = $2")
                .bind(id)
                .bind(number)
                .fetch_one(&self.db.pool)
                .await?;
        Ok(PhaseRow {
            status: get_parsed(&row, "status")?,
            action: get_parsed_opt(&row, "action")?,
            started_at: get(&row, "started_at")?,
        })
    }

    pub(crate) async fn set_phase(
        &self,
        id: i64,
        number: i64,
        status: PhaseStatus,
        reason: Option<&str>,
    ) -> Result<(), ServerError> {
        let now = now_ms();
        let finished = status.ended().then_some(now);
        sqlx::query(
            "UPDATE rollout_phases SET status = $1, reason = COALESCE($2, reason), started_at = COALESCE(started_at, $3), \
             finished_at = $4 WHERE rollout_id = $5 AND phase = $6",
        )
        .bind(status.as_str())
        .bind(reason)
        .bind(now)
        .bind(finished)
        .bind(id)
        .bind(number)
        .execute(&self.db.pool)
        .await?;
        self.db.rollout_changed(id);
        Ok(())
    }

    /// The action a phase is about to take and the changes it will make, recorded before its
    /// change set is executed.
    pub(crate) async fn record_changes(
        &self,
        id: i64,
        number: i64,
        action: PhaseAction,
        changes: &[ResourceChange],
    ) -> Result<(), ServerError> {
        sqlx::query("UPDATE rollout_phases SET action = $1, changes = $2 WHERE rollout_id = $3 AND phase = $4")
            .bind(action.as_str())
            .bind(serde_json::to_string(changes)?)
            .bind(id)
            .bind(number)
            .execute(&self.db.pool)
            .await?;
        self.db.rollout_changed(id);
        Ok(())
    }

    /// A phase that ended well, with its audit entry.
    pub(crate) async fn record_phase_done(
        &self,
        id: i64,
        number: i64,
        result: PhaseResult<'_>,
    ) -> Result<(), ServerError> {
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        sqlx::query(
            "UPDATE rollout_phases SET status = $1, action = $2, changes = $3, outputs = $4, resource_count = $5, \
             started_at = COALESCE(started_at, $6), finished_at = $6 WHERE rollout_id = $7 AND phase = $8",
        )
        .bind(PhaseStatus::Done.as_str())
        .bind(result.action.as_str())
        .bind(serde_json::to_string(result.changes)?)
        .bind(serde_json::to_string(result.outputs)?)
        .bind(result.resource_count)
        .bind(now)
        .bind(id)
        .bind(number)
        .execute(&mut *tx)
        .await?;
        let details = serde_json::json!({
            "phase": number, "action": result.action, "resources": result.resource_count,
        });
        audit::append(&self.db, &mut tx, "portal", AuditAction::RolloutPhase, &subject(id), details).await?;
        tx.commit().await?;
        self.db.rollout_changed(id);
        Ok(())
    }

    /// The ids of the events already stored for a phase.
    pub(crate) async fn recorded_event_ids(&self, id: i64, number: i64) -> Result<HashSet<String>, ServerError> {
        sqlx::query("SELECT event_id FROM rollout_events WHERE rollout_id = $1 AND phase = $2")
            .bind(id)
            .bind(number)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(|r| get::<String>(r, "event_id"))
            .collect()
    }

    /// Stores events; the event id is unique per rollout, so one read twice is stored once.
    pub(crate) async fn record_events(&self, id: i64, number: i64, events: &[&StackEvent]) -> Result<(), ServerError> {
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        for e in events {
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
            .await?;
        }
        tx.commit().await?;
        self.db.rollout_changed(id);
        Ok(())
    }

    /// The first resource of this phase that failed, as `LogicalId (Type): reason`.
    pub(crate) async fn first_failed_resource(&self, id: i64, number: i64) -> Result<Option<String>, ServerError> {
        let first = sqlx::query(
            "SELECT logical_id, resource_type, reason FROM rollout_events WHERE rollout_id = $1 AND phase = $2 \
             AND status LIKE '%FAILED' AND resource_type <> 'AWS::CloudFormation::Stack' AND reason <> '' \
             AND reason NOT LIKE 'Resource creation cancelled%' ORDER BY at, id LIMIT 1",
        )
        .bind(id)
        .bind(number)
        .fetch_optional(&self.db.pool)
        .await?;
        first
            .map(|row| {
                Ok(format!(
                    "{} ({}): {}",
                    get::<String>(&row, "logical_id")?,
                    get::<String>(&row, "resource_type")?,
                    get::<String>(&row, "reason")?
                ))
            })
            .transpose()
    }

    /// One more interruption of the rollout run by `owner`; returns how many there have been.
    pub(crate) async fn count_interruption(&self, id: i64, owner: &str) -> Result<i64, ServerError> {
        let mut tx = self.db.begin_write().await?;
        sqlx::query("UPDATE rollouts SET interruptions = interruptions + 1 WHERE id = $1 AND lease_owner = $2")
            .bind(id)
            .bind(owner)
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query("SELECT interruptions FROM rollouts WHERE id = $1").bind(id).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        get(&row, "interruptions")
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

    pub(crate) async fn cancel_pending_phases(&self, id: i64) -> Result<(), ServerError> {
        sqlx::query("UPDATE rollout_phases SET status = $1 WHERE rollout_id = $2 AND status = $3")
            .bind(PhaseStatus::Cancelled.as_str())
            .bind(id)
            .bind(PhaseStatus::Pending.as_str())
            .execute(&self.db.pool)
            .await?;
        self.db.rollout_changed(id);
        Ok(())
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
             WHERE id = $4 AND lease_owner = $5",
        )
        .bind(status.as_str())
        .bind(failure)
        .bind(now_ms())
        .bind(id)
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        let (action, event) = match status {
            RolloutStatus::Succeeded => (AuditAction::RolloutSucceeded, Some(NotificationEvent::RolloutSucceeded)),
            RolloutStatus::Failed => (AuditAction::RolloutFailed, Some(NotificationEvent::RolloutFailed)),
            RolloutStatus::Cancelled => (AuditAction::RolloutCancelled, None),
            RolloutStatus::Queued | RolloutStatus::Running => {
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
