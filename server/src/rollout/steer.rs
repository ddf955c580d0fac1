//! People steering a rollout: cancel (a queued or waiting one at once, a running one before its next phase)
//! and retry (a new attempt from the first unfinished phase). Each is one transaction with its
//! audit entry; who may do it is checked here.

use app::model::{AuditAction, PhaseStatus, RequestKind, Role, RolloutStatus};
use tokio::sync::Notify;

use crate::audit;
use crate::clock::Clock;
use crate::db::{get, get_parsed, now_ms, Database};
use crate::environments::Environments;
use crate::error::ServerError;
use crate::people::{User, PORTAL_REQUESTER};
use crate::rollout::store::{subject, unknown_rollout};

/// Who may retry or cancel a rollout: whoever requested it, approvers and admins.
pub fn may_steer(user: &User, requester: &str) -> bool {
    user.name == requester || user.has(Role::Approver) || user.has(Role::Admin)
}

/// What people can do to rollouts.
pub struct Steering<'a> {
    pub db: &'a Database,
    /// Digest of the catalog this process serves: a retry under another is refused.
    pub digest: &'a str,
    /// Wakes this process's engine for a retried rollout.
    pub wake: &'a Notify,
    /// Where a retried rollout's change windows are read.
    pub environments: Environments<'a>,
    /// The calendar's time: whether a change window is open now.
    pub clock: &'a dyn Clock,
}

impl Steering<'_> {
    /// Retries (`retry`) or cancels a rollout on a user's behalf, after checking they may.
    pub async fn steer(&self, user: &User, id: i64, retry: bool) -> Result<(), ServerError> {
        let (requester, environment) = self.requester(id).await?;
        if !may_steer(user, &requester) {
            let action = if retry { "retry" } else { "cancel" };
            return Err(ServerError::Forbidden(format!(
                "only the requester, an approver or an admin may {action} rollout {id}"
            )));
        }
        if retry {
            if user.name == requester {
                self.refuse_retry_after_anothers_cancel(id, &requester).await?;
            }
            // A person's retry is a new start and keeps to the environment's change windows, as
            // an approval does; the portal's own rollouts (an expiry's teardown) never wait.
            let waits = requester != PORTAL_REQUESTER && self.window_closed(&environment).await?;
            self.retry(id, &user.name, waits).await?;
            if !waits {
                self.wake.notify_one();
            }
            Ok(())
        } else {
            self.cancel(id, &user.name).await
        }
    }

    /// Who requested rollout `id`, and the environment it goes to.
    async fn requester(&self, id: i64) -> Result<(String, String), ServerError> {
        let row = sqlx::query(
            "SELECT u.name, o.environment FROM rollouts o JOIN deployment_requests r ON r.id = o.request_id \
             JOIN users u ON u.id = r.requester_id WHERE o.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.db.pool)
        .await?
        .ok_or_else(|| unknown_rollout(id))?;
        Ok((get(&row, "name")?, get(&row, "environment")?))
    }

    /// Whether `environment` has change windows and none is open now (an environment no longer
    /// registered has none: the engine fails its rollout with the reason).
    async fn window_closed(&self, environment: &str) -> Result<bool, ServerError> {
        let now = self.clock.now_ms();
        Ok(self
            .environments
            .find(environment)
            .await?
            .and_then(|e| e.lifecycle.windows)
            .is_some_and(|windows| !windows.open_at(now)))
    }

    /// Asks a queued or running rollout to stop: no later phase starts, and an update in progress
    /// is cancelled (CancelUpdateStack). A queued one is cancelled at once.
    pub async fn cancel(&self, id: i64, actor: &str) -> Result<(), ServerError> {
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        let row = sqlx::query("SELECT status FROM rollouts WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| unknown_rollout(id))?;
        let status: RolloutStatus = get_parsed(&row, "status")?;
        match status {
            RolloutStatus::Queued | RolloutStatus::WaitingForWindow => {
                sqlx::query(
                    "UPDATE rollouts SET status = $1, cancel_requested = 1, finished_at = $2, cancelled_by = $3 WHERE id = $4",
                )
                .bind(RolloutStatus::Cancelled.as_str())
                .bind(now)
                .bind(actor)
                .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE rollout_phases SET status = $1 WHERE rollout_id = $2 AND status = $3")
                    .bind(PhaseStatus::Cancelled.as_str())
                    .bind(id)
                    .bind(PhaseStatus::Pending.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            RolloutStatus::Running => {
                sqlx::query("UPDATE rollouts SET cancel_requested = 1, cancelled_by = $1 WHERE id = $2")
                    .bind(actor)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            ended => {
                return Err(ServerError::Conflict(format!(
                    "rollout {id} is {}; only a queued, waiting or running one can be cancelled",
                    ended.label()
                )))
            }
        }
        let details = serde_json::json!({ "was": status });
        audit::append(self.db, &mut tx, actor, AuditAction::RolloutCancel, &subject(id), details).await?;
        tx.commit().await?;
        self.db.rollout_changed(id);
        Ok(())
    }

    /// An approver who cancels a rollout has withdrawn consent: its requester needs a fresh
    /// approval (a new request), not a retry. Approvers and admins may still retry it.
    async fn refuse_retry_after_anothers_cancel(&self, id: i64, requester: &str) -> Result<(), ServerError> {
        let row = sqlx::query("SELECT status, cancelled_by FROM rollouts WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or_else(|| unknown_rollout(id))?;
        let status: RolloutStatus = get_parsed(&row, "status")?;
        let cancelled_by: Option<String> = get(&row, "cancelled_by")?;
        match cancelled_by {
            Some(by) if status == RolloutStatus::Cancelled && by != requester => Err(ServerError::Conflict(format!(
                "rollout {id} was cancelled by {by}; it needs a fresh approval: request the deployment again"
            ))),
            _ => Ok(()),
        }
    }

    /// Queues a failed or cancelled rollout again as a new attempt, from its first unfinished phase.
    /// A new attempt of a failed or cancelled rollout: queued, or waiting for its change window
    /// when `waits`.
    pub async fn retry(&self, id: i64, actor: &str, waits: bool) -> Result<(), ServerError> {
        let mut tx = self.db.begin_write().await?;
        let row = sqlx::query(
            "SELECT o.status, o.attempt, o.kind, r.catalog_digest FROM rollouts o \
             JOIN deployment_requests r ON r.id = o.request_id WHERE o.id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| unknown_rollout(id))?;
        let status: RolloutStatus = get_parsed(&row, "status")?;
        if !matches!(status, RolloutStatus::Failed | RolloutStatus::Cancelled) {
            return Err(ServerError::Conflict(format!(
                "rollout {id} is {status}; only a failed or cancelled one can be retried"
            )));
        }
        let kind: RequestKind = get_parsed(&row, "kind")?;
        if kind.deploys() && get::<String>(&row, "catalog_digest")? != self.digest {
            return Err(ServerError::Conflict(
                "the templates or prices changed since this request was approved, so its approval is void; \
                 request the deployment again"
                    .into(),
            ));
        }
        let attempt: i64 = get::<i64>(&row, "attempt")? + 1;
        sqlx::query(
            "UPDATE rollouts SET status = $1, attempt = $2, failure = NULL, cancel_requested = 0, finished_at = NULL, \
             lease_owner = NULL, lease_expires_at = NULL, cancelled_by = NULL, interruptions = 0 WHERE id = $3",
        )
        .bind(if waits { RolloutStatus::WaitingForWindow } else { RolloutStatus::Queued }.as_str())
        .bind(attempt)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE rollout_phases SET status = $1, reason = NULL, action = NULL, changes = '[]', started_at = NULL, \
             finished_at = NULL WHERE rollout_id = $2 AND status IN ($3, $4, $5)",
        )
        .bind(PhaseStatus::Pending.as_str())
        .bind(id)
        .bind(PhaseStatus::Failed.as_str())
        .bind(PhaseStatus::Cancelled.as_str())
        .bind(PhaseStatus::Running.as_str())
        .execute(&mut *tx)
        .await?;
        let details = serde_json::json!({ "attempt": attempt, "waiting_for_window": waits });
        audit::append(self.db, &mut tx, actor, AuditAction::RolloutRetry, &subject(id), details).await?;
        tx.commit().await?;
        self.db.rollout_changed(id);
        Ok(())
    }
}
