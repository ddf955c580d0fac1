//! Requests the portal makes itself: the teardown an expiry queues, a schedule's sleep and wake.
//! Their approval is the environment's own policy (its lifetime, its schedule): they are stored
//! approved, with their rollout queued, inside the caller's transaction, which also holds the
//! caller's guard against a second process doing the same.

use app::model::{AuditAction, RequestKind, RequestStatus, RolloutStatus};

use crate::audit;
use crate::db::{get, Transaction};
use crate::environments::Environment;
use crate::error::ServerError;
use crate::people::PORTAL_REQUESTER;
use crate::requests::deployed::Deployed;
use crate::requests::{subject, Requests};

impl Requests<'_> {
    /// Stores an approved request of the portal's own with its queued rollout; returns the
    /// request's id and the rollout's.
    pub async fn insert_by_portal(
        &self,
        tx: &mut Transaction,
        kind: RequestKind,
        environment: &Environment,
        running: &Deployed,
        why: &str,
        lifetime_minutes: Option<i64>,
    ) -> Result<(i64, i64), ServerError> {
        let now = self.clock.now_ms();
        let requester: i64 = get(
            &sqlx::query("SELECT id FROM users WHERE name = $1").bind(PORTAL_REQUESTER).fetch_one(&mut **tx).await?,
            "id",
        )?;
        let monthly_cents = if kind == RequestKind::Teardown { 0 } else { running.monthly_cents };
        let row = sqlx::query(
            "INSERT INTO deployment_requests (environment, tier, region, account_id, role_arn, justification, options, \
             usage, monthly_cents, estimate, catalog_digest, required_approvals, requester_id, status, created_at, \
             expires_at, decided_at, kind, adopt, domain_name, catalog_version, lifetime_minutes) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, '{}', $10, 0, $11, $12, $13, $13, $13, $14, 0, $15, $16, $17) \
             RETURNING id",
        )
        .bind(environment.name.as_str())
        .bind(running.tier.as_str())
        .bind(environment.region.as_str())
        .bind(environment.account_id.as_str())
        .bind(environment.role_arn.as_str())
        .bind(why)
        .bind(serde_json::to_string(&running.options)?)
        .bind(serde_json::to_string(&running.usage)?)
        .bind(monthly_cents)
        .bind(self.digest)
        .bind(requester)
        .bind(RequestStatus::Approved.as_str())
        .bind(now)
        .bind(kind.as_str())
        .bind(running.domain_name.as_ref().map(|d| d.as_str().to_owned()))
        .bind(self.catalog.version())
        .bind(lifetime_minutes)
        .fetch_one(&mut **tx)
        .await?;
        let id: i64 = get(&row, "id")?;
        let rollout = sqlx::query(
            "INSERT INTO rollouts (request_id, status, created_at, kind, environment, account_id, region) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(id)
        .bind(RolloutStatus::Queued.as_str())
        .bind(now)
        .bind(kind.as_str())
        .bind(environment.name.as_str())
        .bind(environment.account_id.as_str())
        .bind(environment.region.as_str())
        .fetch_one(&mut **tx)
        .await?;
        let rollout: i64 = get(&rollout, "id")?;
        let details = serde_json::json!({
            "kind": kind, "environment": environment.name, "tier": running.tier, "reason": why, "by_portal": true,
        });
        audit::append(self.db, tx, "portal", AuditAction::RequestCreated, &subject(id), details).await?;
        let details = serde_json::json!({ "approvals": 0, "reason": why });
        audit::append(self.db, tx, "portal", AuditAction::RequestApproved, &subject(id), details).await?;
        Ok((id, rollout))
    }
}
