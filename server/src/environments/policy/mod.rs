//! An environment's day-two policy, set by its admins: how long a deployment may live per tier
//! (a default and a maximum), when reminders go out before it expires, how many approvers an
//! extension needs, when it sleeps (its awake hours), when changes may start (change windows and
//! freezes), and how often its stacks are checked for drift.
//!
//! Sent and stored as [`PolicyText`] (JSON); parsed once into [`EnvironmentPolicy`], whose fields
//! only hold valid values. A change names only what it changes; `null` removes a schedule or the
//! change windows.

mod minutes;

use std::collections::BTreeMap;

use infra::{Catalog, DeploymentSpec, TierId};

pub use app::model::{LifetimeText, PolicyText, ScheduleText, WindowsText};
pub use minutes::Minutes;

use crate::environments::calendar::{self, CalendarError, ChangeWindows, Freeze, Span, SpanText, WeeklyHours};
use crate::environments::Environment;
use crate::error::ServerError;

/// A tier's lifetime rule: the expiry a request gets when it names none, and the longest it may ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lifetime {
    pub default: Option<Minutes>,
    pub max: Option<Minutes>,
}

/// The awake hours of an environment that sleeps: outside them its instances are scaled to zero.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub awake: WeeklyHours,
}

/// The policy, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvironmentPolicy {
    pub lifetimes: BTreeMap<TierId, Lifetime>,
    /// How long before expiry each reminder goes out, longest first.
    pub reminders: Vec<Minutes>,
    /// Approvals an extension needs.
    pub extension_approvals: i64,
    pub schedule: Option<Schedule>,
    pub windows: Option<ChangeWindows>,
    /// Hours between scheduled drift checks; 0: only on demand.
    pub drift_check_hours: i64,
}

impl Default for EnvironmentPolicy {
    /// Development lives 14 days unless asked otherwise, 30 at most; the other tiers do not expire
    /// unless a request asks. Reminders two days and two hours before; one approver extends; drift
    /// is checked daily.
    fn default() -> Self {
        EnvironmentPolicy {
            lifetimes: BTreeMap::from([(
                TierId::Development,
                Lifetime { default: Some(Minutes(14 * Minutes::DAY.0)), max: Some(Minutes(30 * Minutes::DAY.0)) },
            )]),
            reminders: vec![Minutes(2 * Minutes::DAY.0), Minutes(2 * Minutes::HOUR.0)],
            extension_approvals: 1,
            schedule: None,
            windows: None,
            drift_check_hours: 24,
        }
    }
}

/// The JSON field every policy error is reported under (`lifecycle.<…>`).
const FIELD: &str = "lifecycle";

fn calendar_error(prefix: &str) -> impl Fn(CalendarError) -> ServerError + '_ {
    move |e| ServerError::invalid(format!("{FIELD}.{prefix}{}", e.field), e.message)
}

impl EnvironmentPolicy {
    /// This policy with `change` applied; any bad field is a 422 naming it, and nothing changes.
    pub fn changed(&self, change: Option<&PolicyText>) -> Result<EnvironmentPolicy, ServerError> {
        let mut policy = self.clone();
        let Some(change) = change else { return Ok(policy) };
        if let Some(lifetimes) = &change.lifetimes {
            for (tier, text) in lifetimes {
                let field = format!("{FIELD}.lifetimes.{tier}");
                let id: TierId =
                    tier.parse().map_err(|e: infra::InfraError| ServerError::invalid(&field, e.to_string()))?;
                let parse = |name: &str, value: &Option<String>| {
                    value.as_deref().map(|v| Minutes::parse(&format!("{field}.{name}"), v)).transpose()
                };
                let rule = Lifetime { default: parse("default", &text.default)?, max: parse("max", &text.max)? };
                if let (Some(default), Some(max)) = (rule.default, rule.max) {
                    if default > max {
                        return Err(ServerError::invalid(
                            format!("{field}.default"),
                            format!("the default lifetime {default} is longer than the maximum {max}"),
                        ));
                    }
                }
                policy.lifetimes.insert(id, rule);
            }
            policy.lifetimes.retain(|_, rule| rule.default.is_some() || rule.max.is_some());
        }
        if let Some(reminders) = &change.expiry_reminders {
            if reminders.len() > 5 {
                return Err(ServerError::invalid(format!("{FIELD}.expiry_reminders"), "at most 5 reminders"));
            }
            let mut parsed = reminders
                .iter()
                .enumerate()
                .map(|(i, r)| Minutes::parse(&format!("{FIELD}.expiry_reminders[{i}]"), r))
                .collect::<Result<Vec<_>, _>>()?;
            parsed.sort_by(|a, b| b.cmp(a));
            parsed.dedup();
            policy.reminders = parsed;
        }
        if let Some(n) = change.extension_approvals {
            if !(1..=5).contains(&n) {
                return Err(ServerError::invalid(format!("{FIELD}.extension_approvals"), "between 1 and 5 approvers"));
            }
            policy.extension_approvals = n;
        }
        if let Some(hours) = change.drift_check_hours {
            if !(0..=24 * 31).contains(&hours) {
                return Err(ServerError::invalid(
                    format!("{FIELD}.drift_check_hours"),
                    "between 0 (only on demand) and 744 hours (31 days)",
                ));
            }
            policy.drift_check_hours = hours;
        }
        if let Some(schedule) = &change.schedule {
            policy.schedule = schedule.as_ref().map(parse_schedule).transpose()?;
        }
        if let Some(windows) = &change.change_windows {
            policy.windows = windows.as_ref().map(parse_windows).transpose()?;
        }
        Ok(policy)
    }

    /// The policy as stored and shown: every field written out, every tier's lifetime too (`{}`
    /// for none: left out, a stored policy read back over the defaults would get the default's).
    pub fn text(&self) -> PolicyText {
        let lifetimes = TierId::ALL
            .iter()
            .map(|tier| {
                let rule = self.lifetime(*tier);
                let text =
                    LifetimeText { default: rule.default.map(|m| m.to_string()), max: rule.max.map(|m| m.to_string()) };
                (tier.as_str().to_owned(), text)
            })
            .collect();
        PolicyText {
            lifetimes: Some(lifetimes),
            expiry_reminders: Some(self.reminders.iter().map(ToString::to_string).collect()),
            extension_approvals: Some(self.extension_approvals),
            schedule: Some(self.schedule.as_ref().map(|s| {
                let span = s.awake.spans.first().map(Span::text);
                let span = span.unwrap_or(SpanText { days: vec![], from: String::new(), until: String::new() });
                ScheduleText {
                    time_zone: s.awake.zone.name().to_owned(),
                    days: span.days,
                    from: span.from,
                    until: span.until,
                }
            })),
            change_windows: Some(self.windows.as_ref().map(|w| WindowsText {
                time_zone: w.hours.zone.name().to_owned(),
                windows: w.hours.spans.iter().map(Span::text).collect(),
                freezes: w.freezes.iter().map(Freeze::text).collect(),
            })),
            drift_check_hours: Some(self.drift_check_hours),
        }
    }

    /// Reads a stored policy (`{}`, from before policies were stored: the defaults).
    pub fn from_stored(text: &str) -> Result<EnvironmentPolicy, ServerError> {
        let stored: PolicyText = serde_json::from_str(text)
            .map_err(|e| ServerError::Stored { column: "environments.lifecycle", source: e.to_string().into() })?;
        EnvironmentPolicy::default()
            .changed(Some(&stored))
            .map_err(|e| ServerError::Stored { column: "environments.lifecycle", source: e.to_string().into() })
    }

    pub fn lifetime(&self, tier: TierId) -> Lifetime {
        self.lifetimes.get(&tier).copied().unwrap_or_default()
    }

    /// The lifetime a request for `tier` gets: the one it asks for (at most the maximum), else
    /// the tier's default; `None`: it does not expire.
    pub fn lifetime_for(&self, tier: TierId, asked: Option<&str>) -> Result<Option<Minutes>, ServerError> {
        let rule = self.lifetime(tier);
        let Some(text) = asked.map(str::trim).filter(|t| !t.is_empty()) else { return Ok(rule.default) };
        let asked = Minutes::parse("lifetime", text)?;
        self.within_max(tier, asked, "lifetime")?;
        Ok(Some(asked))
    }

    /// Refuses a lifetime beyond the tier's maximum.
    pub fn within_max(&self, tier: TierId, asked: Minutes, field: &str) -> Result<(), ServerError> {
        match self.lifetime(tier).max {
            Some(max) if asked > max => Err(ServerError::invalid(
                field,
                format!("{asked} is beyond the maximum lifetime of {tier} in this environment ({max})"),
            )),
            _ => Ok(()),
        }
    }
}

fn parse_schedule(text: &ScheduleText) -> Result<Schedule, ServerError> {
    let zone = calendar::time_zone("time_zone", &text.time_zone).map_err(calendar_error("schedule."))?;
    let span = SpanText { days: text.days.clone(), from: text.from.clone(), until: text.until.clone() };
    // The span's own field names are the schedule's (`schedule.days`, `schedule.from` …).
    let span = Span::parse("", &span)
        .map_err(|e| CalendarError { field: e.field.trim_start_matches('.').to_owned(), message: e.message })
        .map_err(calendar_error("schedule."))?;
    Ok(Schedule { awake: WeeklyHours { zone, spans: vec![span] } })
}

fn parse_windows(text: &WindowsText) -> Result<ChangeWindows, ServerError> {
    let zone = calendar::time_zone("time_zone", &text.time_zone).map_err(calendar_error("change_windows."))?;
    if text.windows.is_empty() {
        return Err(ServerError::invalid(
            format!("{FIELD}.change_windows.windows"),
            "name at least one window; to allow changes at any time, set change_windows to null",
        ));
    }
    if text.windows.len() > 20 || text.freezes.len() > 50 {
        return Err(ServerError::invalid(format!("{FIELD}.change_windows"), "at most 20 windows and 50 freezes"));
    }
    let spans = text
        .windows
        .iter()
        .enumerate()
        .map(|(i, w)| Span::parse(&format!("windows[{i}]"), w))
        .collect::<Result<Vec<_>, _>>()
        .map_err(calendar_error("change_windows."))?;
    let freezes = text
        .freezes
        .iter()
        .enumerate()
        .map(|(i, f)| Freeze::parse(&format!("freezes[{i}]"), f))
        .collect::<Result<Vec<_>, _>>()
        .map_err(calendar_error("change_windows."))?;
    Ok(ChangeWindows { hours: WeeklyHours { zone, spans }, freezes })
}

/// What a policy can only be judged by against its environment: a schedule stops instances, so
/// every tier the environment allows must have an auto scaling group; change windows must open
/// within a year of `now`.
pub fn check_against(catalog: &Catalog, environment: &Environment, now: i64) -> Result<(), ServerError> {
    if environment.lifecycle.schedule.is_some() {
        for tier in &environment.tiers {
            let spec = DeploymentSpec::preview(*tier, catalog.options(*tier, None)?);
            if catalog.evaluate(&spec)?.of_type("AWS::AutoScaling::AutoScalingGroup").next().is_none() {
                return Err(ServerError::invalid(
                    format!("{FIELD}.schedule"),
                    format!("{tier} has no auto scaling group: a schedule has no instances to stop"),
                ));
            }
        }
    }
    if environment.lifecycle.windows.as_ref().is_some_and(|w| w.next_opening(now).is_none()) {
        return Err(ServerError::invalid(
            format!("{FIELD}.change_windows"),
            "these windows never open within the next year: the freezes cover every one",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(json: serde_json::Value) -> Result<EnvironmentPolicy, ServerError> {
        let text: PolicyText = serde_json::from_value(json).map_err(|e| ServerError::Internal(e.to_string()))?;
        EnvironmentPolicy::default().changed(Some(&text))
    }

    fn field(result: Result<EnvironmentPolicy, ServerError>) -> Option<String> {
        match result {
            Err(ServerError::Invalid { field, .. }) => field,
            other => panic!("expected a 422, got {other:?}"),
        }
    }

    #[test]
    fn a_policy_round_trips_through_its_stored_text() {
        let policy = change(serde_json::json!({
            "lifetimes": {"production-lite": {"default": "7d", "max": "60d"}},
            "expiry_reminders": ["30m", "1d"],
            "extension_approvals": 2,
            "schedule": {"time_zone": "Europe/Berlin", "days": ["mon", "tue"], "from": "08:00", "until": "19:00"},
            "change_windows": {"time_zone": "UTC", "windows": [{"days": ["tue"], "from": "09:00", "until": "16:00"}],
                "freezes": [{"from": "2026-12-20", "until": "2027-01-04", "reason": "holidays"}]},
            "drift_check_hours": 6,
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(policy.reminders, vec![Minutes::DAY, Minutes(30)], "longest first");
        let stored = serde_json::to_string(&policy.text()).unwrap_or_default();
        assert_eq!(EnvironmentPolicy::from_stored(&stored).ok(), Some(policy.clone()));
        // A change names what it changes; null removes.
        let text: PolicyText = serde_json::from_str(r#"{"schedule": null}"#).unwrap_or_default();
        let without = policy.changed(Some(&text)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(without.schedule, None);
        assert_eq!(without.windows, policy.windows, "left out: kept");
        assert_eq!(EnvironmentPolicy::from_stored("{}").ok(), Some(EnvironmentPolicy::default()));
        // A tier's lifetime removed stays removed once stored: read back over the defaults, a tier
        // left out of the text would get Development's 14 days again (it did, before the text
        // named every tier).
        let text: PolicyText = serde_json::from_str(r#"{"lifetimes": {"development": {}}}"#).unwrap_or_default();
        let forever = policy.changed(Some(&text)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(forever.lifetime(TierId::Development), Lifetime::default());
        let stored = serde_json::to_string(&forever.text()).unwrap_or_default();
        let read = EnvironmentPolicy::from_stored(&stored).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read.lifetime(TierId::Development), Lifetime::default(), "{stored}");
        assert_eq!(read, forever);
    }

    #[test]
    fn bad_fields_are_named() {
        let cases = [
            (serde_json::json!({"lifetimes": {"huge": {"max": "1d"}}}), "lifecycle.lifetimes.huge"),
            (
                serde_json::json!({"lifetimes": {"development": {"default": "40d", "max": "30d"}}}),
                "lifecycle.lifetimes.development.default",
            ),
            (serde_json::json!({"lifetimes": {"development": {"max": "soon"}}}), "lifecycle.lifetimes.development.max"),
            (serde_json::json!({"expiry_reminders": ["2h", "x"]}), "lifecycle.expiry_reminders[1]"),
            (serde_json::json!({"extension_approvals": 0}), "lifecycle.extension_approvals"),
            (serde_json::json!({"drift_check_hours": -1}), "lifecycle.drift_check_hours"),
            (
                serde_json::json!({"schedule": {"time_zone": "Europe/Nowhere", "days": ["mon"], "from": "08:00", "until": "19:00"}}),
                "lifecycle.schedule.time_zone",
            ),
            (
                serde_json::json!({"schedule": {"time_zone": "UTC", "days": ["mon"], "from": "19:00", "until": "08:00"}}),
                "lifecycle.schedule.until",
            ),
            (
                serde_json::json!({"schedule": {"time_zone": "UTC", "days": [], "from": "08:00", "until": "19:00"}}),
                "lifecycle.schedule.days",
            ),
            (
                serde_json::json!({"change_windows": {"time_zone": "UTC", "windows": []}}),
                "lifecycle.change_windows.windows",
            ),
            (
                serde_json::json!({"change_windows": {"time_zone": "UTC", "windows": [{"days": ["xyz"], "from": "09:00", "until": "10:00"}]}}),
                "lifecycle.change_windows.windows[0].days[0]",
            ),
            (
                serde_json::json!({"change_windows": {"time_zone": "UTC", "windows": [{"days": ["mon"], "from": "09:00", "until": "10:00"}],
                "freezes": [{"from": "2027-01-04", "until": "2026-12-20"}]}}),
                "lifecycle.change_windows.freezes[0].until",
            ),
        ];
        for (json, expected) in cases {
            assert_eq!(field(change(json.clone())).as_deref(), Some(expected), "{json}");
        }
    }

    #[test]
    fn a_lifetime_is_the_asked_one_within_the_maximum_or_the_default() {
        let policy = EnvironmentPolicy::default();
        assert_eq!(policy.lifetime_for(TierId::Development, None).ok(), Some(Some(Minutes(14 * 24 * 60))));
        assert_eq!(policy.lifetime_for(TierId::Development, Some("1h")).ok(), Some(Some(Minutes::HOUR)));
        assert!(matches!(
            policy.lifetime_for(TierId::Development, Some("31d")),
            Err(ServerError::Invalid { field: Some(f), .. }) if f == "lifetime"
        ));
        assert_eq!(policy.lifetime_for(TierId::FullProduction, None).ok(), Some(None), "does not expire");
        assert_eq!(policy.lifetime_for(TierId::FullProduction, Some("400d")).ok(), Some(Some(Minutes(400 * 24 * 60))));
    }
}
