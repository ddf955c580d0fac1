//! A rollout's phases and the stack events recorded for them.

use std::collections::HashSet;

use app::model::{AuditAction, PhaseAction, PhaseStatus, ResourceChange};

use super::{subject, PhaseResult, PhaseRow, RolloutStore};
use crate::audit;
use crate::db::{get, get_parsed, get_parsed_opt, now_ms, Dialect};
use crate::error::ServerError;
use crate::rollout::aws::StackEvent;

impl RolloutStore {
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
    ///
    /// Watchers follow a rollout by row id ([`RolloutStore::events`]), so a rollout's rows must
    /// become visible in id order. Phases run side by side and each writes its own transaction:
    /// on PostgreSQL a later id could commit before an earlier one, and a watcher reading between
    /// the two commits would skip the earlier rows for good. One lock per rollout, taken before
    /// the ids are drawn and held to the commit, makes commit order id order. (SQLite's
    /// BEGIN IMMEDIATE already admits one writer at a time.)
    pub async fn record_events(&self, id: i64, number: i64, events: &[&StackEvent]) -> Result<(), ServerError> {
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        if self.db.dialect == Dialect::Postgres {
            // Two-key advisory locks do not meet the one-key locks of the audit trail and sessions;
            // rollouts whose ids meet modulo 2^31 - 1 merely wait for each other.
            sqlx::query("SELECT pg_advisory_xact_lock(7305003, ($1 % 2147483647)::int)")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
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
}
