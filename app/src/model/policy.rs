//! An environment's day-two policy as sent and stored (JSON): every field optional in a change
//! (what is left out stays; `null` removes a schedule or the change windows). The server parses it
//! into its typed policy; the environment page's form builds one.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

/// Hours on some days of the week, as sent: `{"days": ["tue","wed"], "from": "09:00", "until": "16:00"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpanText {
    pub days: Vec<String>,
    pub from: String,
    pub until: String,
}

/// Days on which no change may start, as sent: `{"from": "2026-12-20", "until": "2027-01-04", "reason": "…"}`
/// (both days included, in the windows' time zone).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreezeText {
    pub from: String,
    pub until: String,
    #[serde(default)]
    pub reason: String,
}

/// `{"default": "14d", "max": "30d"}`; either may be left out (no default expiry, no maximum).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LifetimeText {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<String>,
}

/// `{"time_zone": "Europe/Berlin", "days": ["mon", …], "from": "08:00", "until": "19:00"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleText {
    pub time_zone: String,
    pub days: Vec<String>,
    pub from: String,
    pub until: String,
}

/// `{"time_zone": "Europe/Berlin", "windows": [{"days": […], "from": …, "until": …}], "freezes": […]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowsText {
    pub time_zone: String,
    pub windows: Vec<SpanText>,
    #[serde(default)]
    pub freezes: Vec<FreezeText>,
}

/// The policy as sent (every field optional: what is left out stays) and as stored (every field).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyText {
    /// Per tier id; a tier left out of a change keeps its rule, `{}` removes both limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetimes: Option<BTreeMap<String, LifetimeText>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_reminders: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_approvals: Option<i64>,
    /// `null` removes the schedule.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Option<ScheduleText>>,
    /// `null` removes the change windows.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub change_windows: Option<Option<WindowsText>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift_check_hours: Option<i64>,
}

/// A field that is absent (`None`), `null` (`Some(None)`) or set.
fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}
