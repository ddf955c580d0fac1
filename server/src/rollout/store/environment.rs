//! An environment's rollouts, as the day-two sweep and the environments pages read them: the ones
//! waiting for a change window (and their release), and the newest of given kinds.

use std::collections::HashMap;

use app::model::{AuditAction, RequestKind, RolloutStatus, RolloutSummary};

use crate::audit;
use crate::db::{get, get_parsed};
use crate::environments::{Environment, EnvironmentKey};
use crate::error::ServerError;
use crate::rollout::store::{subject, unknown_rollout, RolloutStore};

/// A rollout waiting for its environment's window.
#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub id: i64,
    pub environment: String,
}

/// Why a waiting rollout is released: its window opened, or an admin overrode it.
#[derive(Debug, Clone, Copy)]
pub enum Release<'a> {
    WindowOpened,
    Override { by: &'a str, reason: &'a str },
}

impl RolloutStore {
    /// Every rollout waiting for a change window, oldest first.
    pub async fn waiting(&self) -> Result<Vec<Waiting>, ServerError> {
        let rows = sqlx::query("SELECT id, environment FROM rollouts WHERE status = $1 ORDER BY id")
            .bind(RolloutStatus::WaitingForWindow.as_str())
            .fetch_all(&self.db.pool)
            .await?;
        rows.iter().map(|r| Ok(Waiting { id: get(r, "id")?, environment: get(r, "environment")? })).collect()
    }

    /// Queues a waiting rollout, with its audit entry; `false` when it was no longer waiting
    /// (another process released it, or it was cancelled).
    pub async fn release(&self, id: i64, why: Release<'_>) -> Result<bool, ServerError> {
        let (by, reason) = match why {
            Release::WindowOpened => (None, None),
            Release::Override { by, reason } => (Some(by), Some(reason)),
        };
        let mut tx = self.db.begin_write().await?;
        let done = sqlx::query(
            "UPDATE rollouts SET status = $1, window_override_by = $2, window_override_reason = $3 \
             WHERE id = $4 AND status = $5",
        )
        .bind(RolloutStatus::Queued.as_str())
        .bind(by)
        .bind(reason)
        .bind(id)
        .bind(RolloutStatus::WaitingForWindow.as_str())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        let (actor, action, details) = match why {
            Release::WindowOpened => ("portal", AuditAction::WindowOpened, serde_json::json!({})),
            Release::Override { by, reason } => {
                (by, AuditAction::WindowOverride, serde_json::json!({ "reason": reason }))
            }
        };
        audit::append(&self.db, &mut tx, actor, action, &subject(id), details).await?;
        tx.commit().await?;
        self.db.rollout_changed(id);
        Ok(true)
    }

    /// The rollout's status (404 for none).
    pub async fn status(&self, id: i64) -> Result<RolloutStatus, ServerError> {
        let row = sqlx::query("SELECT status FROM rollouts WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or_else(|| unknown_rollout(id))?;
        get_parsed(&row, "status")
    }

    /// Every registered environment's newest rollout of one of `kinds` (any kind when empty), with
    /// `status` when one is given, by (account, region, environment): one query, one index lookup
    /// per environment (the history of environments no longer registered is not read).
    pub async fn latest_all(
        &self,
        kinds: &[RequestKind],
        status: Option<RolloutStatus>,
    ) -> Result<HashMap<EnvironmentKey, RolloutSummary>, ServerError> {
        let (of_kinds, binds) = kinds_clause(kinds, 2);
        let sql = format!(
            "SELECT id, request_id, kind, status, created_at, finished_at, account_id, region, environment \
             FROM rollouts WHERE id IN (SELECT (SELECT MAX(o.id) FROM rollouts o WHERE o.account_id = e.account_id \
                 AND o.region = e.region AND o.environment = e.name AND ($1 IS NULL OR o.status = $1) {of_kinds}) \
             FROM environments e)"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(status.map(RolloutStatus::as_str));
        for kind in binds {
            query = query.bind(kind);
        }
        let rows = query.fetch_all(&self.db.pool).await?;
        rows.iter()
            .map(|r| Ok(((get(r, "account_id")?, get(r, "region")?, get(r, "environment")?), summary(r)?)))
            .collect()
    }

    /// The environment's newest rollout of one of `kinds` (any kind when empty), with `status`
    /// when one is given.
    pub async fn latest(
        &self,
        environment: &Environment,
        kinds: &[RequestKind],
        status: Option<RolloutStatus>,
    ) -> Result<Option<RolloutSummary>, ServerError> {
        let (of_kinds, binds) = kinds_clause(kinds, 5);
        let sql = format!(
            "SELECT id, request_id, kind, status, created_at, finished_at FROM rollouts o \
             WHERE account_id = $1 AND region = $2 AND environment = $3 AND ($4 IS NULL OR status = $4) {of_kinds} \
             ORDER BY id DESC LIMIT 1"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(environment.account_id.as_str())
            .bind(environment.region.as_str())
            .bind(environment.name.as_str())
            .bind(status.map(RolloutStatus::as_str));
        for kind in binds {
            query = query.bind(kind);
        }
        query.fetch_optional(&self.db.pool).await?.as_ref().map(summary).transpose()
    }
}

/// `AND kind IN ($n, …)` for `kinds` (nothing when empty), its placeholders numbered from `first`:
/// only the count of kinds goes into the text, their values are bound.
fn kinds_clause(kinds: &[RequestKind], first: usize) -> (String, Vec<&'static str>) {
    if kinds.is_empty() {
        return (String::new(), Vec::new());
    }
    let listed: Vec<String> = (0..kinds.len()).map(|i| format!("${}", i + first)).collect();
    (format!("AND o.kind IN ({})", listed.join(", ")), kinds.iter().map(|k| k.as_str()).collect())
}

fn summary(row: &sqlx::any::AnyRow) -> Result<RolloutSummary, ServerError> {
    let created: i64 = get(row, "created_at")?;
    Ok(RolloutSummary {
        id: get(row, "id")?,
        request_id: get(row, "request_id")?,
        kind: get_parsed(row, "kind")?,
        status: get_parsed(row, "status")?,
        at: get::<Option<i64>>(row, "finished_at")?.unwrap_or(created),
    })
}
