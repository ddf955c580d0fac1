//! Sleep schedules: outside an environment's awake hours its auto scaling group is scaled to zero,
//! inside them back to its tier's size, each by a small rollout of the portal's own (a sleep or
//! wake request approved by the schedule, audited, recorded like any rollout). Whether it sleeps
//! is read from its rollouts: the newest deployment, sleep or wake that succeeded. A sleep or wake
//! that failed is tried again after an hour, not at every sweep.

use app::model::{AuditAction, RequestKind, RolloutStatus, SleepLineView, SleepView};

use crate::audit;
use crate::environments::calendar::WeeklyHours;
use crate::environments::Environment;
use crate::error::ServerError;
use crate::lifecycle::{Lifecycle, Sweep};
use crate::requests::deployed::{deployed, Deployed};

/// The rollouts that decide whether an environment is awake.
pub const SIZING: [RequestKind; 5] =
    [RequestKind::Deploy, RequestKind::Upgrade, RequestKind::Repair, RequestKind::Sleep, RequestKind::Wake];

/// A failed sleep or wake is not tried again before this long.
const RETRY_AFTER_MS: i64 = 3_600_000;

/// How a schedule reads: `mon-fri 08:00-19:00 Europe/Berlin`.
pub fn describe(hours: &WeeklyHours) -> String {
    let spans: Vec<String> = hours
        .spans
        .iter()
        .map(|s| {
            let t = s.text();
            format!("{} {}-{}", t.days.join(","), t.from, t.until)
        })
        .collect();
    format!("{} {}", spans.join("; "), hours.zone.name())
}

impl Lifecycle<'_> {
    /// Whether the environment is asleep now: its newest sizing rollout that succeeded is a sleep.
    pub async fn asleep(&self, environment: &Environment) -> Result<bool, ServerError> {
        let newest = self.rollouts().latest(environment, &SIZING, Some(RolloutStatus::Succeeded)).await?;
        Ok(newest.is_some_and(|r| r.kind == RequestKind::Sleep))
    }

    /// Puts to sleep or wakes every environment whose schedule says so; wakes one asleep whose
    /// schedule was removed.
    pub async fn follow_schedules(&self, sweep: &mut Sweep) -> Result<(), ServerError> {
        let now = self.clock.now_ms();
        for environment in self.registry().list().await? {
            let schedule = environment.lifecycle.schedule.as_ref();
            if schedule.is_none() && !self.asleep(&environment).await? {
                continue;
            }
            let Some(running) = deployed(self.db, &environment).await? else { continue };
            let store = self.rollouts();
            // Nothing starts beside a rollout of the environment still under way.
            let latest = store.latest(&environment, &[], None).await?;
            if latest.as_ref().is_some_and(|r| !r.status.ended()) {
                continue;
            }
            let awake_wanted = schedule.is_none_or(|s| s.awake.contains(now));
            if awake_wanted != self.asleep(&environment).await? {
                continue;
            }
            let kind = if awake_wanted { RequestKind::Wake } else { RequestKind::Sleep };
            let failed_lately = store.latest(&environment, &[kind], None).await?.is_some_and(|r| {
                matches!(r.status, RolloutStatus::Failed | RolloutStatus::Cancelled) && now - r.at < RETRY_AFTER_MS
            });
            if failed_lately {
                continue;
            }
            self.resize(&environment, &running, kind, now).await?;
            let names = if awake_wanted { &mut sweep.woken } else { &mut sweep.slept };
            names.push(environment.name.to_string());
        }
        Ok(())
    }

    /// Queues the sleep or wake rollout, audited on the environment.
    async fn resize(
        &self,
        environment: &Environment,
        running: &Deployed,
        kind: RequestKind,
        now: i64,
    ) -> Result<(), ServerError> {
        let schedule = environment.lifecycle.schedule.as_ref();
        let until = schedule.and_then(|s| s.awake.next_change(now));
        let why = match (kind, until, schedule) {
            (_, _, None) => "Its sleep schedule was removed.".to_owned(),
            (RequestKind::Sleep, Some(t), _) => {
                format!("Outside its awake hours until {}.", app::format::timestamp(t))
            }
            (RequestKind::Sleep, None, _) => "Outside its awake hours.".to_owned(),
            (_, Some(t), _) => format!("Inside its awake hours until {}.", app::format::timestamp(t)),
            (_, None, _) => "Inside its awake hours.".to_owned(),
        };
        // A sleep records how long it sleeps: the database is stopped only for as long as AWS
        // keeps it stopped (rollout::scheduled).
        let sleeps_for = until.filter(|_| kind == RequestKind::Sleep).map(|t| (t - now).max(0) / 60_000);
        let mut tx = self.db.begin_write().await?;
        let (request, rollout) =
            self.requests.insert_by_portal(&mut tx, kind, environment, running, &why, sleeps_for).await?;
        let action =
            if kind == RequestKind::Sleep { AuditAction::EnvironmentSleep } else { AuditAction::EnvironmentWake };
        let subject = format!("environment:{}", environment.name);
        let details = serde_json::json!({
            "request_id": request, "rollout_id": rollout, "schedule": schedule.map(|s| describe(&s.awake)),
            "until": until,
        });
        audit::append(self.db, &mut tx, "portal", action, &subject, details).await?;
        tx.commit().await?;
        self.db.rollout_changed(rollout);
        self.wake.notify_one();
        tracing::info!(environment = %environment.name, rollout, kind = %kind, "schedule: rollout queued");
        Ok(())
    }

    /// What the schedule saves, as the pages and the API show it.
    pub fn sleep_view(&self, environment: &Environment, running: &Deployed) -> Result<Option<SleepView>, ServerError> {
        let Some(schedule) = &environment.lifecycle.schedule else { return Ok(None) };
        let Some(saving) = self.sleep_saving(environment, running)? else { return Ok(None) };
        let line = |l: &infra::cost::sleep::SleepLine| SleepLineView {
            service: l.service.clone(),
            resource: l.resource.clone(),
            description: l.description.clone(),
            awake_usd: l.awake_usd,
            saving_usd: l.saving_usd,
        };
        Ok(Some(SleepView {
            schedule: describe(&schedule.awake),
            awake_share: saving.awake_share,
            awake_monthly_usd: saving.awake_monthly_usd,
            monthly_usd: saving.monthly_usd,
            saving_usd: saving.saving_usd,
            database_stops: saving.database_stops,
            stopping: saving.stopping.iter().map(line).collect(),
            running: saving.running.iter().map(line).collect(),
        }))
    }

    /// What the environment's schedule saves on what it runs, by the cost model.
    pub fn sleep_saving(
        &self,
        environment: &Environment,
        running: &Deployed,
    ) -> Result<Option<infra::cost::sleep::SleepEstimate>, ServerError> {
        let Some(schedule) = &environment.lifecycle.schedule else { return Ok(None) };
        let spec = running.spec(self.catalog, environment)?;
        let usage = self.catalog.usage(running.usage.iter().map(|(k, v)| (k.as_str(), *v)))?;
        Ok(Some(self.catalog.sleep_estimate(&spec, &usage, true, schedule.awake.share_of_week())?))
    }
}
