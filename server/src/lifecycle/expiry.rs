//! Lifetimes: reminders before a running environment expires (one webhook per reminder its policy
//! names, in order; when several fall due at once, only the latest is sent), and at expiry its
//! teardown, queued through the normal teardown path: a teardown request approved by the expiry
//! itself (audited as such), unless an extension is pending.

use app::model::{AuditAction, NotificationEvent, RequestKind, RequestStatus};

use crate::audit;
use crate::db::get;
use crate::environments::expiry::{self, Expiry};
use crate::environments::policy::Minutes;
use crate::environments::Environment;
use crate::error::ServerError;
use crate::lifecycle::{Lifecycle, Sweep};
use crate::requests::deployed::deployed;

impl Lifecycle<'_> {
    /// Sends the reminders that fell due and queues the teardown of every expired environment.
    pub async fn expire_due(&self, sweep: &mut Sweep) -> Result<(), ServerError> {
        let now = self.clock.now_ms();
        for expiry in expiry::all(self.db).await? {
            if expiry.teardown_request.is_some() {
                continue;
            }
            let Some(environment) = self.registry().find(expiry.environment.as_str()).await? else { continue };
            if now >= expiry.expires_at {
                if self.expire(&environment, &expiry).await? {
                    sweep.expired.push(environment.name.to_string());
                }
            } else if self.remind(&environment, &expiry, now).await? {
                sweep.reminded.push(environment.name.to_string());
            }
        }
        Ok(())
    }

    /// Sends the reminder that fell due, if one did.
    async fn remind(&self, environment: &Environment, expiry: &Expiry, now: i64) -> Result<bool, ServerError> {
        let due: Vec<Minutes> = environment
            .lifecycle
            .reminders
            .iter()
            .copied()
            .filter(|m| now >= expiry.expires_at - m.ms() && !expiry.reminders_sent.contains(&m.0))
            .collect();
        // Longest first: the last is the one closest to the expiry.
        let Some(closest) = due.last() else { return Ok(false) };
        let mut sent = expiry.reminders_sent.clone();
        sent.extend(due.iter().map(|m| m.0));
        let mut tx = self.db.begin_write().await?;
        if !expiry::mark_reminded(&mut tx, expiry, &sent).await? {
            return Ok(false);
        }
        let name = &environment.name;
        let left = Minutes(((expiry.expires_at - now) / 60_000).max(1));
        let text = format!(
            "Environment `{name}` expires in {left} ({}): it will be torn down then unless someone extends it.",
            app::format::timestamp(expiry.expires_at)
        );
        let details = serde_json::json!({
            "environment": name, "expires_at": expiry.expires_at, "reminder": closest.to_string(),
        });
        let subject = format!("environment:{name}");
        self.notifier.enqueue(&mut tx, NotificationEvent::ExpiryReminder, &subject, &text, details).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Queues the expired environment's teardown (approved by the expiry), unless an extension is
    /// pending or it no longer runs; `true` when this process queued it.
    async fn expire(&self, environment: &Environment, expiry: &Expiry) -> Result<bool, ServerError> {
        let name = environment.name.as_str();
        let Some(running) = deployed(self.db, environment).await? else {
            // Torn down (or never up) in the meantime: nothing expires any more.
            let mut tx = self.db.begin_write().await?;
            expiry::clear(&mut tx, name).await?;
            tx.commit().await?;
            return Ok(false);
        };
        let pending = sqlx::query(
            "SELECT COUNT(*) AS n FROM deployment_requests WHERE environment = $1 AND account_id = $2 AND region = $3 \
             AND kind = $4 AND status = $5",
        )
        .bind(name)
        .bind(environment.account_id.as_str())
        .bind(environment.region.as_str())
        .bind(RequestKind::Extend.as_str())
        .bind(RequestStatus::Pending.as_str())
        .fetch_one(&self.db.pool)
        .await?;
        if get::<i64>(&pending, "n")? > 0 {
            tracing::info!(environment = name, "expired, but an extension is pending: not torn down yet");
            return Ok(false);
        }
        let mut tx = self.db.begin_write().await?;
        let why = format!("Expired {}: its lifetime ended.", app::format::timestamp(expiry.expires_at));
        let (request, rollout) =
            self.requests.insert_by_portal(&mut tx, RequestKind::Teardown, environment, &running, &why, None).await?;
        if !expiry::mark_torn_down(&mut tx, expiry, request).await? {
            // Another process queued it first: this transaction's request is dropped with it.
            return Ok(false);
        }
        let subject = format!("environment:{name}");
        let details = serde_json::json!({
            "expires_at": expiry.expires_at, "teardown_request": request, "rollout_id": rollout,
        });
        audit::append(self.db, &mut tx, "portal", AuditAction::EnvironmentExpired, &subject, details.clone()).await?;
        let text = format!("Environment `{name}` expired: its teardown is queued (rollout {rollout}).");
        self.notifier.enqueue(&mut tx, NotificationEvent::EnvironmentExpired, &subject, &text, details).await?;
        tx.commit().await?;
        self.db.rollout_changed(rollout);
        self.wake.notify_one();
        tracing::info!(environment = name, rollout, "environment expired: teardown queued");
        Ok(true)
    }
}
