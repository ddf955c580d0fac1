//! Day two: what the portal does on its own for the environments it runs, and what it shows of
//! them. A sweep (every `PORTAL_LIFECYCLE_SECONDS` in each process, or called by a test after it
//! moved the clock) releases rollouts whose change window opened ([`windows`]), sends expiry
//! reminders and queues the teardown of expired environments ([`expiry`]), puts environments to
//! sleep and wakes them on their schedule ([`schedule`]), runs the drift checks that are due
//! ([`drift`]) and reads each running environment's bill once a day ([`bill`]). Each step writes its guard in the same transaction as its effect, so processes
//! sharing a database do each thing once. [`status`]: where each environment stands.
//!
//! Time comes from the injected [`Clock`]: tests move it instead of sleeping.

pub mod bill;
pub mod drift;
pub mod expiry;
pub mod schedule;
pub mod status;
pub mod windows;

use infra::Catalog;
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::db::Database;
use crate::environments::Environments;
use crate::error::ServerError;
use crate::notify::Notifier;
use crate::requests::Requests;
use crate::rollout::RolloutStore;

/// What the day-two work needs of the portal.
pub struct Lifecycle<'a> {
    pub db: &'a Database,
    pub catalog: &'a Catalog,
    /// Requests of the portal's own (expiry teardowns, sleep and wake) are made through it.
    pub requests: Requests<'a>,
    pub clock: &'a dyn Clock,
    pub notifier: Notifier,
    /// The portal's own AWS configuration; drift checks assume each environment's role from it.
    pub aws: Option<&'a aws_config::SdkConfig>,
    /// Wakes this process's rollout engine when a rollout is queued.
    pub wake: &'a Notify,
}

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sweep {
    /// Rollouts queued because their window opened.
    pub released: Vec<i64>,
    /// Environments reminded of their expiry.
    pub reminded: Vec<String>,
    /// Environments whose expiry queued their teardown.
    pub expired: Vec<String>,
    pub slept: Vec<String>,
    pub woken: Vec<String>,
    /// Drift checks run.
    pub drift_checks: Vec<i64>,
    /// Environments whose bill was read.
    pub bills: Vec<String>,
}

impl Lifecycle<'_> {
    pub fn registry(&self) -> Environments<'_> {
        Environments { db: self.db, catalog: self.catalog }
    }

    pub fn rollouts(&self) -> RolloutStore {
        RolloutStore::new(self.db.clone())
    }

    /// One pass over every environment. Every step runs even when one before it failed; the first
    /// failure is returned after all of them.
    pub async fn sweep(&self) -> Result<Sweep, ServerError> {
        let mut sweep = Sweep::default();
        let mut first_error = None;
        let mut keep = |step: &str, result: Result<(), ServerError>| {
            if let Err(e) = result {
                tracing::warn!(step, error = %e, "day-two sweep step failed");
                first_error.get_or_insert(e);
            }
        };
        keep("change windows", self.release_waiting().await.map(|r| sweep.released = r));
        keep("expiry", self.expire_due(&mut sweep).await);
        keep("schedules", self.follow_schedules(&mut sweep).await);
        keep("drift checks", self.check_drift_due().await.map(|c| sweep.drift_checks = c));
        keep("bills", self.read_bills_due().await.map(|b| sweep.bills = b));
        match first_error {
            Some(e) => Err(e),
            None => Ok(sweep),
        }
    }
}
