//! Where each environment stands, as the environments pages and `GET /api/environments/{name}/status`
//! show it: its status (from its rollouts, its latest drift check, its schedule and expiry), what
//! it runs, and the next thing the portal does there on its own.

use std::collections::HashMap;

use app::model::{
    DriftCheckStatus, DriftSummary, EnvironmentRow, EnvironmentStatus, NextAction, RequestKind, ResourceDrift,
    RolloutStatus, RolloutSummary,
};

use crate::environments::expiry::{self, Expiry};
use crate::environments::policy::Minutes;
use crate::environments::Environment;
use crate::error::ServerError;
use crate::lifecycle::schedule::{describe, SIZING};
use crate::lifecycle::windows::opens_at;
use crate::lifecycle::Lifecycle;
use crate::requests::deployed::{deployed, deployed_all, Deployed};

/// What an environment's status is read from.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// A deployment runs there.
    pub running: bool,
    /// Its newest rollout of any kind.
    pub last: Option<RolloutSummary>,
    /// A teardown of it has succeeded (ever).
    pub torn_down: bool,
    /// Its expiry is within the reminder period, or its teardown is queued.
    pub expiring: bool,
    pub drifted: bool,
    pub asleep: bool,
}

/// The status from the facts. A rollout under way (a schedule's excepted) says deploying or
/// tearing down; then a failed newest rollout says failed; then, for what runs: expiring, drifted,
/// sleeping, running, in that order.
pub fn status_of(facts: &Facts) -> EnvironmentStatus {
    if let Some(last) = facts.last.as_ref().filter(|r| !r.status.ended() && !r.kind.scheduled()) {
        return if last.kind == RequestKind::Teardown {
            EnvironmentStatus::TearingDown
        } else {
            EnvironmentStatus::Deploying
        };
    }
    let failed = facts.last.as_ref().is_some_and(|r| r.status == RolloutStatus::Failed);
    match (facts.running, failed) {
        (_, true) => EnvironmentStatus::Failed,
        (false, _) if facts.torn_down => EnvironmentStatus::TornDown,
        (false, _) => EnvironmentStatus::NotDeployed,
        (true, _) if facts.expiring => EnvironmentStatus::Expiring,
        (true, _) if facts.drifted => EnvironmentStatus::Drifted,
        (true, _) if facts.asleep => EnvironmentStatus::Sleeping,
        (true, _) => EnvironmentStatus::Running,
    }
}

/// Marks each resource of a drift check on the diagram (`data-drift` on its `<g class="resource">`),
/// so the page's stylesheet colours it and its title says so. Also the drifted resources the
/// diagram does not draw, to be said beside it.
pub fn mark_drift(svg: &str, marks: &[(i64, &str, ResourceDrift)]) -> (String, Vec<String>) {
    let mut out = svg.to_owned();
    let mut off = Vec::new();
    for (phase, logical_id, drift) in marks {
        let drawn = out.contains(&format!(r#"data-resource="{logical_id}" data-phase="{phase}""#));
        if !drawn && matches!(drift, ResourceDrift::Modified | ResourceDrift::Deleted) {
            off.push((*logical_id).to_owned());
        }
        // Logical ids are alphanumeric (CloudFormation's rule): they match the SVG's text as they are.
        if !logical_id.chars().all(|c| c.is_ascii_alphanumeric()) {
            continue;
        }
        let at = format!(r#"<g class="resource" data-resource="{logical_id}" data-phase="{phase}""#);
        out = out.replace(&at, &format!(r#"{at} data-drift="{}""#, drift.as_str()));
        let said = match drift {
            ResourceDrift::Modified => "changed outside the portal",
            ResourceDrift::Deleted => "deleted outside the portal",
            ResourceDrift::InSync => "in sync",
            ResourceDrift::NotChecked => "not checked for drift",
        };
        let title = format!("<title>{logical_id} ");
        // The box's title names its logical id after its type label: add the verdict after it.
        if let Some(start) = out.find(&format!(r#"data-resource="{logical_id}" data-phase="{phase}""#)) {
            if let Some(offset) = out[start..].find("</title>") {
                let end = start + offset;
                if out[start..end].contains(&title) || out[start..end].contains(&format!(" {logical_id} ")) {
                    out.insert_str(end, &format!(" ({said})"));
                }
            }
        }
    }
    (out, off)
}

/// Marks what a sleeping environment has stopped (`data-asleep` on its boxes, said in their titles).
pub fn mark_asleep(svg: &str, logical_ids: &[String]) -> String {
    let mut out = svg.to_owned();
    for id in logical_ids.iter().filter(|id| id.chars().all(|c| c.is_ascii_alphanumeric())) {
        let at = format!(r#"<g class="resource" data-resource="{id}" "#);
        out = out.replace(&at, &format!(r#"<g class="resource" data-asleep="true" data-resource="{id}" "#));
        if let Some(start) = out.find(&format!(r#"data-asleep="true" data-resource="{id}" "#)) {
            if let Some(offset) = out[start..].find("</title>") {
                out.insert_str(start + offset, " (asleep: stopped by its schedule)");
            }
        }
    }
    out
}

/// What an environment's row is made of, as read from the database: for one environment, or for
/// all of them at once (a handful of queries whatever their number).
#[derive(Debug, Clone, Default)]
pub struct Known {
    pub running: Option<Deployed>,
    pub last: Option<RolloutSummary>,
    pub torn_down: bool,
    pub expiry: Option<Expiry>,
    pub drift: Option<DriftSummary>,
    pub asleep: bool,
}

impl Lifecycle<'_> {
    /// What is known of one environment.
    pub async fn known(&self, environment: &Environment) -> Result<Known, ServerError> {
        let name = environment.name.as_str();
        let store = self.rollouts();
        let running = deployed(self.db, environment).await?;
        let runs = running.is_some();
        Ok(Known {
            last: store.latest(environment, &[], None).await?,
            torn_down: !runs
                && store.latest(environment, &[RequestKind::Teardown], Some(RolloutStatus::Succeeded)).await?.is_some(),
            expiry: if runs { expiry::of(self.db, name).await? } else { None },
            drift: if runs { self.latest_check(name).await? } else { None },
            asleep: runs && self.asleep(environment).await?,
            running,
        })
    }

    /// What is known of every environment of `environments`, read all at once.
    pub async fn known_all(&self, environments: &[Environment]) -> Result<Vec<Known>, ServerError> {
        let store = self.rollouts();
        let mut running = deployed_all(self.db).await?;
        let mut last = store.latest_all(&[], None).await?;
        let torn_down = store.latest_all(&[RequestKind::Teardown], Some(RolloutStatus::Succeeded)).await?;
        let sizing = store.latest_all(&SIZING, Some(RolloutStatus::Succeeded)).await?;
        let mut drift = self.latest_checks(None).await?;
        let mut expiries: HashMap<String, Expiry> =
            expiry::all(self.db).await?.into_iter().map(|e| (e.environment.to_string(), e)).collect();
        Ok(environments
            .iter()
            .map(|environment| {
                let key = environment.key();
                let name = environment.name.as_str();
                let running = running.remove(&key);
                let runs = running.is_some();
                Known {
                    last: last.remove(&key),
                    torn_down: !runs && torn_down.contains_key(&key),
                    expiry: expiries.remove(name).filter(|_| runs),
                    drift: drift.remove(name).filter(|_| runs),
                    asleep: runs && sizing.get(&key).is_some_and(|r| r.kind == RequestKind::Sleep),
                    running,
                }
            })
            .collect())
    }

    /// One environment's row.
    pub async fn row(&self, environment: &Environment) -> Result<EnvironmentRow, ServerError> {
        Ok(self.row_of(environment, &self.known(environment).await?))
    }

    /// Every environment's row.
    pub async fn rows(&self, environments: &[Environment]) -> Result<Vec<EnvironmentRow>, ServerError> {
        let known = self.known_all(environments).await?;
        Ok(environments.iter().zip(&known).map(|(e, k)| self.row_of(e, k)).collect())
    }

    /// The row of an environment from what is known of it.
    pub fn row_of(&self, environment: &Environment, known: &Known) -> EnvironmentRow {
        let now = self.clock.now_ms();
        let running = known.running.as_ref();
        let first_reminder = environment.lifecycle.reminders.first().map_or(0, |m| m.ms());
        let facts = Facts {
            running: running.is_some(),
            torn_down: known.torn_down,
            expiring: known
                .expiry
                .as_ref()
                .is_some_and(|e| e.teardown_request.is_some() || now >= e.expires_at - first_reminder),
            drifted: known.drift.as_ref().is_some_and(|d| d.status == DriftCheckStatus::Drifted),
            asleep: known.asleep,
            last: known.last.clone(),
        };
        let tier = running.map(|r| self.catalog.tier(r.tier));
        EnvironmentRow {
            name: environment.name.to_string(),
            account_id: environment.account_id.to_string(),
            region: environment.region.as_str().to_owned(),
            status: status_of(&facts),
            tier: running.map(|r| r.tier.as_str().to_owned()),
            tier_name: tier.map(|t| t.name.clone()),
            catalog_version: running.map(|r| self.catalog.version_name(&r.catalog_digest)),
            older_version: running.is_some_and(|r| r.catalog_digest != self.catalog.digest),
            running_since: running.map(|r| r.running_since),
            monthly_usd: running.map(|r| r.monthly_cents as f64 / 100.0),
            expires_at: known.expiry.as_ref().map(|e| e.expires_at),
            next_action: self.next_action(environment, known, now),
            drift: known.drift.clone(),
            schedule: environment.lifecycle.schedule.as_ref().map(|s| describe(&s.awake)),
            windows: environment.lifecycle.windows.as_ref().map(|w| {
                let freezes: Vec<String> = w.freezes.iter().map(|f| format!("{} to {}", f.from, f.until)).collect();
                if freezes.is_empty() {
                    describe(&w.hours)
                } else {
                    format!("{}; frozen {}", describe(&w.hours), freezes.join(", "))
                }
            }),
            last_rollout: known.last.clone(),
        }
    }

    /// The soonest thing the portal does here by itself.
    fn next_action(&self, environment: &Environment, known: &Known, now: i64) -> Option<NextAction> {
        let (running, last, expiry, drift, asleep) =
            (known.running.is_some(), known.last.as_ref(), known.expiry.as_ref(), known.drift.as_ref(), known.asleep);
        let mut next: Vec<NextAction> = Vec::new();
        if let Some(waiting) = last.filter(|r| r.status == RolloutStatus::WaitingForWindow) {
            if let Some(at) = opens_at(environment, now) {
                next.push(NextAction { at, what: format!("rollout {} starts: its change window opens", waiting.id) });
            }
        }
        if let Some(e) = expiry.filter(|e| e.teardown_request.is_none()) {
            next.push(NextAction { at: e.expires_at, what: "expires: torn down".into() });
            for m in environment.lifecycle.reminders.iter().filter(|m| !e.reminders_sent.contains(&m.0)) {
                if e.expires_at - m.ms() > now {
                    next.push(NextAction { at: e.expires_at - m.ms(), what: format!("reminder: expires in {m}") });
                }
            }
        }
        if running {
            if let Some(at) = environment.lifecycle.schedule.as_ref().and_then(|s| s.awake.next_change(now)) {
                next.push(NextAction { at, what: if asleep { "wakes".into() } else { "sleeps".into() } });
            }
            let hours = environment.lifecycle.drift_check_hours;
            if hours > 0 {
                let at = drift.map_or(now, |d| (d.started_at + Minutes(hours * 60).ms()).max(now));
                next.push(NextAction { at, what: "drift check".into() });
            }
        }
        next.into_iter().min_by_key(|a| a.at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rollout(kind: RequestKind, status: RolloutStatus) -> Option<RolloutSummary> {
        Some(RolloutSummary { id: 1, request_id: 1, kind, status, at: 0 })
    }

    #[test]
    fn the_status_reads_from_the_facts_in_order() {
        use EnvironmentStatus as S;
        use RequestKind as K;
        use RolloutStatus as R;
        let running = Facts { running: true, last: rollout(K::Deploy, R::Succeeded), ..Facts::default() };
        let cases = [
            (Facts::default(), S::NotDeployed),
            (Facts { last: rollout(K::Deploy, R::Queued), ..Facts::default() }, S::Deploying),
            (Facts { last: rollout(K::Deploy, R::WaitingForWindow), ..Facts::default() }, S::Deploying),
            (Facts { last: rollout(K::Deploy, R::Failed), ..Facts::default() }, S::Failed),
            (running.clone(), S::Running),
            (Facts { asleep: true, ..running.clone() }, S::Sleeping),
            (Facts { asleep: true, drifted: true, ..running.clone() }, S::Drifted),
            (Facts { asleep: true, drifted: true, expiring: true, ..running.clone() }, S::Expiring),
            (Facts { last: rollout(K::Sleep, R::Running), ..running.clone() }, S::Running),
            (Facts { last: rollout(K::Sleep, R::Failed), ..running.clone() }, S::Failed),
            (Facts { last: rollout(K::Teardown, R::Running), ..running.clone() }, S::TearingDown),
            (Facts { torn_down: true, last: rollout(K::Teardown, R::Succeeded), ..Facts::default() }, S::TornDown),
            (Facts { last: rollout(K::Upgrade, R::Running), ..running }, S::Deploying),
        ];
        for (facts, expected) in cases {
            assert_eq!(status_of(&facts), expected, "{facts:?}");
        }
    }

    #[test]
    fn drift_is_marked_on_the_diagram_and_said_in_the_title() {
        let svg = r#"<g class="resource" data-resource="AppSecurityGroup" data-phase="3" data-type="Security group"><g><title>Security group AppSecurityGroup (phase 3): no charge of its own</title></g></g><g class="resource" data-resource="Other" data-phase="3" data-type="x"></g>"#;
        let (marked, off) = mark_drift(
            svg,
            &[
                (3, "AppSecurityGroup", ResourceDrift::Modified),
                (3, "Bad id!", ResourceDrift::Deleted),
                (1, "DbSecurityGroup", ResourceDrift::Modified),
                (1, "Vpc", ResourceDrift::NotChecked),
            ],
        );
        assert_eq!(off, ["Bad id!", "DbSecurityGroup"], "drifted and not drawn; the unchecked not listed");
        let asleep = mark_asleep(svg, &["AppSecurityGroup".to_owned()]);
        assert!(asleep.contains(r#"data-asleep="true" data-resource="AppSecurityGroup""#), "{asleep}");
        assert!(asleep.contains("(asleep: stopped by its schedule)</title>"), "{asleep}");
        assert!(
            marked.contains(r#"data-resource="AppSecurityGroup" data-phase="3" data-drift="modified""#),
            "{marked}"
        );
        assert!(marked.contains("no charge of its own (changed outside the portal)</title>"), "{marked}");
        assert!(!marked.contains(r#"data-resource="Other" data-phase="3" data-drift"#));
    }
}
