//! Change windows: weekly hours in which changes may start, minus freezes (whole days).

use chrono::{Duration, NaiveDate, NaiveTime};
use chrono_tz::Tz;

use super::{instant, refuse, CalendarError, FreezeText, Interval, WeeklyHours, DAY_MS, HORIZON_DAYS};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Freeze {
    pub from: NaiveDate,
    pub until: NaiveDate,
    pub reason: String,
}

impl Freeze {
    pub fn parse(field: &str, text: &FreezeText) -> Result<Freeze, CalendarError> {
        let date = |name: &str, value: &str| {
            NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
                .map_err(|_| refuse(format!("{field}.{name}"), format!("`{value}` is not a date: write YYYY-MM-DD")))
        };
        let freeze = Freeze {
            from: date("from", &text.from)?,
            until: date("until", &text.until)?,
            reason: text.reason.trim().to_owned(),
        };
        if freeze.until < freeze.from {
            return Err(refuse(format!("{field}.until"), format!("`{}` is before `{}`", text.until, text.from)));
        }
        if freeze.reason.chars().count() > 200 {
            return Err(refuse(format!("{field}.reason"), "a reason has at most 200 characters"));
        }
        Ok(freeze)
    }

    pub fn text(&self) -> FreezeText {
        FreezeText { from: self.from.to_string(), until: self.until.to_string(), reason: self.reason.clone() }
    }

    /// The instants it covers in `zone`: from its first day's midnight to the midnight after its last.
    fn interval(&self, zone: Tz) -> Interval {
        let midnight = NaiveTime::MIN;
        (
            instant(zone, self.from.and_time(midnight)),
            instant(zone, (self.until + Duration::days(1)).and_time(midnight)),
        )
    }
}

/// When changes may start: weekly windows, minus freezes.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeWindows {
    pub hours: WeeklyHours,
    pub freezes: Vec<Freeze>,
}

impl ChangeWindows {
    /// The freeze covering `at`, if one does.
    pub fn freeze_at(&self, at: i64) -> Option<&Freeze> {
        self.freezes.iter().find(|f| {
            let (a, b) = f.interval(self.hours.zone);
            a <= at && at < b
        })
    }

    pub fn open_at(&self, at: i64) -> bool {
        self.hours.contains(at) && self.freeze_at(at).is_none()
    }

    /// The first moment at or after `at` when a change may start; `None` if none within a year
    /// and a bit (the windows never open, or freezes cover every one).
    pub fn next_opening(&self, at: i64) -> Option<i64> {
        let mut from = at;
        let horizon = at + HORIZON_DAYS * DAY_MS;
        while from < horizon {
            let until = (from + 14 * DAY_MS).min(horizon);
            for (a, b) in self.hours.intervals(from, until) {
                // Inside a window: the first instant not covered by a freeze.
                let mut t = a;
                while t < b {
                    match self.freeze_at(t) {
                        None => return Some(t),
                        Some(f) => t = f.interval(self.hours.zone).1,
                    }
                }
            }
            from = until;
        }
        None
    }

    /// When the window open at `at` closes (its span's end, or a freeze's start), if one is open.
    pub fn closes_after(&self, at: i64) -> Option<i64> {
        if !self.open_at(at) {
            return None;
        }
        let end = self.hours.intervals(at, at + 8 * DAY_MS).first().map(|(_, b)| *b)?;
        let freeze_start = self
            .freezes
            .iter()
            .map(|f| f.interval(self.hours.zone).0)
            .filter(|start| *start > at && *start < end)
            .min();
        Some(freeze_start.unwrap_or(end))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{ms, span};
    use super::*;

    #[test]
    fn windows_minus_freezes_give_the_next_opening() {
        let windows = ChangeWindows {
            hours: WeeklyHours {
                zone: chrono_tz::Europe::Berlin,
                spans: vec![span(&["tue", "wed", "thu"], "09:00", "16:00")],
            },
            freezes: vec![Freeze::parse(
                "freeze",
                &FreezeText { from: "2026-12-08".into(), until: "2026-12-09".into(), reason: "release".into() },
            )
            .unwrap_or_else(|e| panic!("{e:?}"))],
        };
        // Monday 7 December: Tuesday and Wednesday are frozen, so Thursday 09:00 Berlin.
        assert_eq!(windows.next_opening(ms("2026-12-07T12:00:00Z")), Some(ms("2026-12-10T08:00:00Z")));
        assert!(!windows.open_at(ms("2026-12-08T10:00:00Z")), "inside hours, but frozen");
        assert!(windows.open_at(ms("2026-12-10T10:00:00Z")));
        assert_eq!(windows.next_opening(ms("2026-12-10T10:00:00Z")), Some(ms("2026-12-10T10:00:00Z")));
        assert_eq!(windows.closes_after(ms("2026-12-10T10:00:00Z")), Some(ms("2026-12-10T15:00:00Z")));
        // A freeze covering more than the horizon: never opens.
        let frozen = ChangeWindows {
            freezes: vec![Freeze {
                from: NaiveDate::MIN,
                until: NaiveDate::MAX - Duration::days(2),
                reason: String::new(),
            }],
            ..windows
        };
        assert_eq!(frozen.next_opening(ms("2026-12-07T12:00:00Z")), None);
    }
}
