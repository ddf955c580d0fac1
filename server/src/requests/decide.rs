//! Approving and rejecting. One decision per approver per request, nobody decides on their own
//! request, and the approval that completes the count queues the rollout in the same transaction.

use app::model::{AuditAction, Decision, RequestKind, RequestStatus, Role, RolloutStatus};

use crate::audit;
use crate::db::{get, get_parsed, get_parsed_opt, Dialect, Transaction};
use crate::environments::access::{self, Duty};
use crate::environments::{expiry, Environment, Environments};
use crate::error::ServerError;
use crate::people::User;
use crate::requests::{subject, unknown_request, RequestRecord, Requests};

/// The request row as a decision needs it, read under the write lock.
struct Locked {
    status: RequestStatus,
    requester: i64,
    required: i64,
    expires_at: i64,
}

impl Requests<'_> {
    /// Records an approval or a rejection. Idempotent per approver: a repeated call changes
    /// nothing. Concurrent calls are serialised on the request row.
    pub async fn decide(
        &self,
        user: &User,
        id: i64,
        decision: Decision,
        comment: &str,
    ) -> Result<RequestRecord, ServerError> {
        let action = match decision {
            Decision::Approve => "approve a request",
            Decision::Reject => "reject a request",
        };
        user.require(&[Role::Approver], action)?;
        if comment.chars().count() > 2000 {
            return Err(ServerError::invalid("comment", "a comment has at most 2,000 characters"));
        }
        let environment = self.require_approver_for(user, id).await?;
        let mut tx = self.db.begin_write().await?;
        let locked = self.lock(&mut tx, id).await?;
        if let Some(previous) = self.previous_decision(&mut tx, id, user).await? {
            drop(tx);
            if previous == decision {
                return self.get(id).await;
            }
            return Err(ServerError::Conflict(format!("{} already chose to {previous} request {id}", user.name)));
        }
        if locked.requester == user.id {
            return Err(ServerError::Forbidden("nobody approves or rejects their own request".into()));
        }
        if locked.status == RequestStatus::Pending && self.clock.now_ms() > locked.expires_at {
            self.expire(&mut tx, id).await?;
            tx.commit().await?;
            return Err(ServerError::Conflict(format!("request {id} expired before it was decided")));
        }
        if locked.status != RequestStatus::Pending {
            return Err(ServerError::Conflict(format!("request {id} is already {}", locked.status)));
        }
        self.record(&mut tx, id, user, decision, comment).await?;
        match decision {
            Decision::Approve => self.approve_if_complete(&mut tx, id, locked.required, &environment).await?,
            Decision::Reject => self.set_status(&mut tx, id, RequestStatus::Rejected).await?,
        }
        tx.commit().await?;
        self.rollout_wake.notify_one();
        self.get(id).await
    }

    /// An approver decides only for environments that let them approve, and only for a request
    /// whose environment is still registered where it was requested: that environment.
    async fn require_approver_for(&self, user: &User, id: i64) -> Result<Environment, ServerError> {
        // Only where it points: the whole record (approvals, preview, rollout) is read once, after.
        let row = sqlx::query("SELECT environment, account_id, region FROM deployment_requests WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or_else(|| unknown_request(id))?;
        let (name, account_id, region): (String, String, infra::Region) =
            (get(&row, "environment")?, get(&row, "account_id")?, get_parsed(&row, "region")?);
        let name = name.as_str();
        let registered = Environments { db: self.db, catalog: self.catalog }.find(name).await?.ok_or_else(|| {
            ServerError::Conflict(format!(
                "environment `{name}` is not registered: an admin registers it before its requests are decided"
            ))
        })?;
        if registered.account_id.as_str() != account_id || registered.region != region {
            return Err(ServerError::Conflict(format!(
                "environment `{name}` is now registered in {} / {}, not {} / {} as requested: request it again",
                registered.account_id,
                registered.region.as_str(),
                account_id,
                region.as_str()
            )));
        }
        access::require(self.db, user, &registered, Duty::Approve).await?;
        Ok(registered)
    }

    async fn lock(&self, tx: &mut Transaction, id: i64) -> Result<Locked, ServerError> {
        // PostgreSQL locks the row; SQLite's BEGIN IMMEDIATE already holds the only write lock.
        let select = match self.db.dialect {
            Dialect::Postgres => {
                "SELECT status, requester_id, required_approvals, expires_at FROM deployment_requests \
                 WHERE id = $1 FOR UPDATE"
            }
            Dialect::Sqlite => {
                "SELECT status, requester_id, required_approvals, expires_at FROM deployment_requests WHERE id = $1"
            }
        };
        let row = sqlx::query(select).bind(id).fetch_optional(&mut **tx).await?.ok_or_else(|| unknown_request(id))?;
        Ok(Locked {
            status: get_parsed(&row, "status")?,
            requester: get(&row, "requester_id")?,
            required: get(&row, "required_approvals")?,
            expires_at: get(&row, "expires_at")?,
        })
    }

    async fn previous_decision(
        &self,
        tx: &mut Transaction,
        id: i64,
        user: &User,
    ) -> Result<Option<Decision>, ServerError> {
        let row = sqlx::query(
            "SELECT decision FROM approvals WHERE request_id = $1 AND approver_id = $2 AND voided_at IS NULL",
        )
        .bind(id)
        .bind(user.id)
        .fetch_optional(&mut **tx)
        .await?;
        Ok(row.map(|r| get_parsed_opt(&r, "decision")).transpose()?.flatten())
    }

    async fn record(
        &self,
        tx: &mut Transaction,
        id: i64,
        user: &User,
        decision: Decision,
        comment: &str,
    ) -> Result<(), ServerError> {
        // A voided decision (its approver was demoted, then promoted again) is replaced.
        sqlx::query(
            "INSERT INTO approvals (request_id, approver_id, decision, comment, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (request_id, approver_id) DO UPDATE SET decision = excluded.decision, \
             comment = excluded.comment, created_at = excluded.created_at, voided_at = NULL",
        )
        .bind(id)
        .bind(user.id)
        .bind(decision.as_str())
        .bind(comment)
        .bind(self.clock.now_ms())
        .execute(&mut **tx)
        .await?;
        let action = match decision {
            Decision::Approve => AuditAction::RequestApproval,
            Decision::Reject => AuditAction::RequestRejected,
        };
        let details = serde_json::json!({ "comment": comment });
        audit::append(self.db, tx, &user.name, action, &subject(id), details).await
    }

    /// With enough approvals, the request is approved. Its rollout is queued (at most one per
    /// request: a unique key), or waits for the environment's change window when one is closed;
    /// an extension moves the environment's expiry instead, and a deployment sets it.
    async fn approve_if_complete(
        &self,
        tx: &mut Transaction,
        id: i64,
        required: i64,
        environment: &Environment,
    ) -> Result<(), ServerError> {
        let count: i64 = get(
            &sqlx::query(
                "SELECT COUNT(*) AS n FROM approvals WHERE request_id = $1 AND decision = $2 AND voided_at IS NULL",
            )
            .bind(id)
            .bind(Decision::Approve.as_str())
            .fetch_one(&mut **tx)
            .await?,
            "n",
        )?;
        if count < required {
            return Ok(());
        }
        self.set_status(tx, id, RequestStatus::Approved).await?;
        let row = sqlx::query("SELECT kind, lifetime_minutes FROM deployment_requests WHERE id = $1")
            .bind(id)
            .fetch_one(&mut **tx)
            .await?;
        let (kind, lifetime): (RequestKind, Option<i64>) = (get_parsed(&row, "kind")?, get(&row, "lifetime_minutes")?);
        let now = self.clock.now_ms();
        if kind.rolls_out() {
            // People's changes keep to the environment's change windows; the portal's own
            // (an expiry's teardown, a schedule's sleep and wake) are queued where they are made.
            let waits = environment.lifecycle.windows.as_ref().is_some_and(|w| !w.open_at(now));
            let status = if waits { RolloutStatus::WaitingForWindow } else { RolloutStatus::Queued };
            sqlx::query(
                "INSERT INTO rollouts (request_id, status, created_at, kind, environment, account_id, region) \
                 SELECT id, $1, $2, kind, environment, account_id, region FROM deployment_requests WHERE id = $3 \
                 ON CONFLICT (request_id) DO NOTHING",
            )
            .bind(status.as_str())
            .bind(now)
            .bind(id)
            .execute(&mut **tx)
            .await?;
        }
        let name = environment.name.as_str();
        match kind {
            RequestKind::Deploy => match lifetime {
                Some(minutes) => self.set_expiry(tx, name, now + minutes * 60_000, id).await?,
                None => expiry::clear(tx, name).await?,
            },
            RequestKind::Extend => {
                let current = sqlx::query("SELECT expires_at FROM environment_expiry WHERE environment = $1")
                    .bind(name)
                    .fetch_optional(&mut **tx)
                    .await?
                    .ok_or_else(|| {
                        ServerError::Conflict(format!(
                            "environment `{name}` no longer has an expiry to extend (torn down, or redeployed without one)"
                        ))
                    })?;
                let extended = get::<i64>(&current, "expires_at")? + lifetime.unwrap_or_default() * 60_000;
                self.set_expiry(tx, name, extended, id).await?;
            }
            RequestKind::Teardown => expiry::clear(tx, name).await?,
            RequestKind::Upgrade | RequestKind::Repair | RequestKind::Sleep | RequestKind::Wake => {}
        }
        let details = serde_json::json!({ "approvals": count });
        audit::append(self.db, tx, "portal", AuditAction::RequestApproved, &subject(id), details).await
    }

    /// Sets the environment's expiry, audited on the environment.
    async fn set_expiry(&self, tx: &mut Transaction, name: &str, at: i64, request: i64) -> Result<(), ServerError> {
        expiry::set(tx, name, at, request).await?;
        let details = serde_json::json!({ "expires_at": at, "request_id": request });
        audit::append(self.db, tx, "portal", AuditAction::EnvironmentExpiry, &format!("environment:{name}"), details)
            .await
    }

    /// Moves a pending request to a final status.
    async fn set_status(&self, tx: &mut Transaction, id: i64, status: RequestStatus) -> Result<(), ServerError> {
        sqlx::query("UPDATE deployment_requests SET status = $1, decided_at = $2 WHERE id = $3 AND status = $4")
            .bind(status.as_str())
            .bind(self.clock.now_ms())
            .bind(id)
            .bind(RequestStatus::Pending.as_str())
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Marks a pending request expired, with its audit entry; `false` if it was no longer pending.
    pub(crate) async fn expire(&self, tx: &mut Transaction, id: i64) -> Result<bool, ServerError> {
        let changed =
            sqlx::query("UPDATE deployment_requests SET status = $1, decided_at = $2 WHERE id = $3 AND status = $4")
                .bind(RequestStatus::Expired.as_str())
                .bind(self.clock.now_ms())
                .bind(id)
                .bind(RequestStatus::Pending.as_str())
                .execute(&mut **tx)
                .await?
                .rows_affected();
        if changed == 1 {
            let details = serde_json::json!({});
            audit::append(self.db, tx, "portal", AuditAction::RequestExpired, &subject(id), details).await?;
        }
        Ok(changed == 1)
    }
}
