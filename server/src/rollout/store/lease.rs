//! The lease under which one process works on a rollout: claimed atomically, renewed, handed
//! back, and the row's control flags read while it runs.

use app::model::RolloutStatus;

use super::{Control, RolloutStore};
use crate::db::{get, now_ms};
use crate::error::ServerError;

impl RolloutStore {
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
}
