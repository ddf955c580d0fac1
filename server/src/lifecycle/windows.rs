//! Change windows: an approved rollout outside its environment's windows waits
//! (`waiting_for_window`, set where the approval completes) and is queued here when a window
//! opens, or at once when an admin overrides the window with a reason (audited).

use app::model::{Role, RolloutStatus};

use crate::environments::Environment;
use crate::error::ServerError;
use crate::lifecycle::Lifecycle;
use crate::people::User;
use crate::rollout::store::Release;

/// When the environment's next change window opens, at or after `now` (`None` without windows,
/// or when none opens within a year).
pub fn opens_at(environment: &Environment, now: i64) -> Option<i64> {
    environment.lifecycle.windows.as_ref().and_then(|w| w.next_opening(now))
}

impl Lifecycle<'_> {
    /// Queues every waiting rollout whose environment's window is open now (or that no longer
    /// has windows, or is no longer registered: the engine then fails it with the reason).
    pub async fn release_waiting(&self) -> Result<Vec<i64>, ServerError> {
        let now = self.clock.now_ms();
        let store = self.rollouts();
        let mut released = Vec::new();
        for waiting in store.waiting().await? {
            let environment = self.registry().find(&waiting.environment).await?;
            let open = environment
                .as_ref()
                .and_then(|e| e.lifecycle.windows.as_ref())
                .is_none_or(|windows| windows.open_at(now));
            if open && store.release(waiting.id, Release::WindowOpened).await? {
                tracing::info!(rollout = waiting.id, environment = %waiting.environment, "change window open: rollout queued");
                released.push(waiting.id);
            }
        }
        if !released.is_empty() {
            self.wake.notify_one();
        }
        Ok(released)
    }

    /// An admin starts a waiting rollout now, outside its window; the reason is kept and audited.
    pub async fn override_window(&self, user: &User, rollout: i64, reason: &str) -> Result<(), ServerError> {
        user.require(&[Role::Admin], "start a rollout outside its change window")?;
        let reason = reason.trim();
        if !(10..=500).contains(&reason.chars().count()) {
            return Err(ServerError::invalid("reason", "say why the window is overridden, in 10 to 500 characters"));
        }
        let store = self.rollouts();
        if store.release(rollout, Release::Override { by: &user.name, reason }).await? {
            self.wake.notify_one();
            return Ok(());
        }
        match store.status(rollout).await? {
            RolloutStatus::WaitingForWindow => {
                Err(ServerError::Conflict(format!("rollout {rollout} changed while it was released; try again")))
            }
            other => Err(ServerError::Conflict(format!(
                "rollout {rollout} is not waiting for a change window: it is {}",
                other.label()
            ))),
        }
    }
}
