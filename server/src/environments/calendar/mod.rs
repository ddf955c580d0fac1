//! Weekly hours in a named time zone (a schedule's awake hours, an environment's change windows)
//! and freezes (whole days): whether a moment is inside, when that next changes, and what share
//! of a week the hours cover. Pure: moments in, moments out, in milliseconds since the epoch.
//!
//! Local times are turned into instants day by day, so daylight saving is followed: 08:00 in
//! Europe/Berlin is 07:00 UTC in winter and 06:00 UTC in summer. A local time that does not exist
//! (the hour skipped in spring) starts at the end of the gap; one that exists twice (autumn) is
//! taken the first time.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

mod windows;

pub use app::model::{FreezeText, SpanText};
pub use windows::{ChangeWindows, Freeze};

/// How far ahead a window is looked for before it counts as never opening (a year, and the
/// longest freeze a year can hold).
const HORIZON_DAYS: i64 = 400;
const DAY_MS: i64 = 86_400_000;

/// Why a calendar text was refused, with the field it is about (relative to the calendar).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarError {
    pub field: String,
    pub message: String,
}

fn refuse(field: impl Into<String>, message: impl Into<String>) -> CalendarError {
    CalendarError { field: field.into(), message: message.into() }
}

/// A time zone by its IANA name (`Europe/Berlin`, `UTC`).
pub fn time_zone(field: &str, name: &str) -> Result<Tz, CalendarError> {
    name.trim().parse::<Tz>().map_err(|_| {
        refuse(field, format!("`{name}` is not a time zone name from the IANA database, such as Europe/Berlin or UTC"))
    })
}

/// Days as `mon`…`sun` (or whole names), in any order, each once.
fn days(field: &str, texts: &[String]) -> Result<Vec<Weekday>, CalendarError> {
    let mut days = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let day = match text.trim().to_ascii_lowercase().as_str() {
            "mon" | "monday" => Weekday::Mon,
            "tue" | "tuesday" => Weekday::Tue,
            "wed" | "wednesday" => Weekday::Wed,
            "thu" | "thursday" => Weekday::Thu,
            "fri" | "friday" => Weekday::Fri,
            "sat" | "saturday" => Weekday::Sat,
            "sun" | "sunday" => Weekday::Sun,
            _ => return Err(refuse(format!("{field}[{i}]"), format!("`{text}` is not a day: use mon, tue … sun"))),
        };
        if days.contains(&day) {
            return Err(refuse(format!("{field}[{i}]"), format!("`{text}` is listed twice")));
        }
        days.push(day);
    }
    if days.is_empty() {
        return Err(refuse(field, "name at least one day (mon … sun)"));
    }
    days.sort_by_key(Weekday::num_days_from_monday);
    Ok(days)
}

/// `HH:MM`, 00:00 to 24:00 (the end of the day), as minutes after midnight.
fn clock_time(field: &str, text: &str) -> Result<u32, CalendarError> {
    let bad = || refuse(field, format!("`{text}` is not a time of day: write HH:MM, from 00:00 to 24:00"));
    let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m > 59 || h * 60 + m > 24 * 60 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

fn clock_text(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// A local date's clock time, `minutes` after its midnight (1,440: the next midnight).
fn at_minutes(date: NaiveDate, minutes: u32) -> NaiveDateTime {
    date.and_time(NaiveTime::MIN) + Duration::minutes(i64::from(minutes))
}

/// The days of a span as sent and stored.
fn day_text(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    }
}

/// Hours on some days of the week, parsed: `from` before `until`, the same day, in minutes after
/// midnight (`until` may be 1,440: the day's end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub days: Vec<Weekday>,
    pub from: u32,
    pub until: u32,
}

impl Span {
    pub fn parse(field: &str, text: &SpanText) -> Result<Span, CalendarError> {
        let span = Span {
            days: days(&format!("{field}.days"), &text.days)?,
            from: clock_time(&format!("{field}.from"), &text.from)?,
            until: clock_time(&format!("{field}.until"), &text.until)?,
        };
        if span.from >= span.until {
            return Err(refuse(
                format!("{field}.until"),
                format!("`{}` is not after `{}`: a span ends later the same day it starts", text.until, text.from),
            ));
        }
        Ok(span)
    }

    pub fn text(&self) -> SpanText {
        SpanText {
            days: self.days.iter().map(|d| day_text(*d).to_owned()).collect(),
            from: clock_text(self.from),
            until: clock_text(self.until),
        }
    }
}

/// Weekly hours in one time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct WeeklyHours {
    pub zone: Tz,
    pub spans: Vec<Span>,
}

/// A half-open interval of instants, in ms.
pub type Interval = (i64, i64);

impl WeeklyHours {
    /// The instants the hours cover between `start` and `end`, merged and in order.
    pub fn intervals(&self, start: i64, end: i64) -> Vec<Interval> {
        let Some(first) = local_date(self.zone, start) else { return Vec::new() };
        let Some(last) = local_date(self.zone, end) else { return Vec::new() };
        let mut found = Vec::new();
        let mut date = first - Duration::days(1);
        while date <= last {
            for span in self.spans.iter().filter(|s| s.days.contains(&date.weekday())) {
                let open = instant(self.zone, at_minutes(date, span.from));
                let close = instant(self.zone, at_minutes(date, span.until));
                if close > start && open < end && open < close {
                    found.push((open.max(start), close.min(end)));
                }
            }
            date += Duration::days(1);
        }
        merge(found)
    }

    pub fn contains(&self, at: i64) -> bool {
        !self.intervals(at, at + 1).is_empty()
    }

    /// The next moment after `at` when being inside changes (an opening or a closing), within
    /// eight days; `None` when the hours cover the whole week or nothing.
    pub fn next_change(&self, at: i64) -> Option<i64> {
        let horizon = at + 8 * DAY_MS;
        let intervals = self.intervals(at, horizon);
        intervals.iter().flat_map(|(a, b)| [*a, *b]).find(|t| *t > at && *t < horizon)
    }

    /// The share of a week the hours cover, by the local clock (a week without a daylight
    /// saving change): what a monthly estimate of sleeping resources scales by.
    pub fn share_of_week(&self) -> f64 {
        // Spans on the same day may overlap: count each local minute once.
        let mut covered = 0u32;
        for day in [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun] {
            let mut spans: Vec<(u32, u32)> =
                self.spans.iter().filter(|s| s.days.contains(&day)).map(|s| (s.from, s.until)).collect();
            spans.sort_unstable();
            let mut reached = 0;
            for (from, until) in spans {
                let from = from.max(reached);
                if until > from {
                    covered += until - from;
                    reached = until;
                }
            }
        }
        f64::from(covered) / f64::from(7 * 24 * 60)
    }
}

/// The local date at an instant.
fn local_date(zone: Tz, at: i64) -> Option<NaiveDate> {
    DateTime::<Utc>::from_timestamp_millis(at).map(|t| t.with_timezone(&zone).date_naive())
}

/// The instant of a local time: the first of two (autumn), the end of the gap (spring).
fn instant(zone: Tz, local: NaiveDateTime) -> i64 {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => t.timestamp_millis(),
        LocalResult::Ambiguous(first, _) => first.timestamp_millis(),
        LocalResult::None => {
            // Skipped by a daylight saving change: the local clock resumes at most two hours later.
            (1..=8)
                .map(|quarter| local + Duration::minutes(15 * quarter))
                .find_map(|later| zone.from_local_datetime(&later).earliest())
                .map_or_else(|| local.and_utc().timestamp_millis(), |t| t.timestamp_millis())
        }
    }
}

fn merge(mut intervals: Vec<Interval>) -> Vec<Interval> {
    intervals.sort();
    let mut merged: Vec<Interval> = Vec::with_capacity(intervals.len());
    for (a, b) in intervals {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn ms(text: &str) -> i64 {
        DateTime::parse_from_rfc3339(text).map(|t| t.timestamp_millis()).unwrap_or_default()
    }

    pub(crate) fn span(days: &[&str], from: &str, until: &str) -> Span {
        let text =
            SpanText { days: days.iter().map(|d| (*d).to_owned()).collect(), from: from.into(), until: until.into() };
        Span::parse("span", &text).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn berlin(spans: Vec<Span>) -> WeeklyHours {
        WeeklyHours { zone: chrono_tz::Europe::Berlin, spans }
    }

    #[test]
    fn weekday_hours_follow_the_local_clock_through_daylight_saving() {
        let office = berlin(vec![span(&["mon", "tue", "wed", "thu", "fri"], "08:00", "19:00")]);
        // Monday 7 December 2026, winter: 08:00 Berlin is 07:00 UTC.
        assert!(!office.contains(ms("2026-12-07T06:59:00Z")));
        assert!(office.contains(ms("2026-12-07T07:00:00Z")));
        assert!(!office.contains(ms("2026-12-07T18:00:00Z")));
        assert_eq!(office.next_change(ms("2026-12-07T10:00:00Z")), Some(ms("2026-12-07T18:00:00Z")));
        // Friday evening: the next change is Monday's opening.
        assert_eq!(office.next_change(ms("2026-12-11T18:30:00Z")), Some(ms("2026-12-14T07:00:00Z")));
        // Monday 15 June 2026, summer: 08:00 Berlin is 06:00 UTC.
        assert!(office.contains(ms("2026-06-15T06:00:00Z")));
        assert!(!office.contains(ms("2026-06-15T05:59:00Z")));
        // 11 hours on 5 days out of 168.
        assert!((office.share_of_week() - 55.0 / 168.0).abs() < 1e-9);
    }

    #[test]
    fn a_local_time_skipped_in_spring_starts_at_the_end_of_the_gap() {
        // Sunday 29 March 2026: Berlin's clocks jump from 02:00 to 03:00.
        let night = berlin(vec![span(&["sun"], "02:30", "04:00")]);
        assert_eq!(
            night.intervals(ms("2026-03-29T00:00:00Z"), ms("2026-03-29T12:00:00Z")),
            vec![(ms("2026-03-29T01:00:00Z"), ms("2026-03-29T02:00:00Z"))]
        );
    }

    #[test]
    fn bad_texts_name_their_field() {
        let text = |days: &[&str], from: &str, until: &str| SpanText {
            days: days.iter().map(|d| (*d).to_owned()).collect(),
            from: from.into(),
            until: until.into(),
        };
        let field = |t: SpanText| Span::parse("w", &t).err().map(|e| e.field);
        assert_eq!(field(text(&["mon", "funday"], "09:00", "10:00")).as_deref(), Some("w.days[1]"));
        assert_eq!(field(text(&[], "09:00", "10:00")).as_deref(), Some("w.days"));
        assert_eq!(field(text(&["mon"], "9am", "10:00")).as_deref(), Some("w.from"));
        assert_eq!(field(text(&["mon"], "10:00", "10:00")).as_deref(), Some("w.until"));
        assert_eq!(field(text(&["mon"], "10:00", "25:00")).as_deref(), Some("w.until"));
        assert!(Span::parse("w", &text(&["sun"], "00:00", "24:00")).is_ok());
        assert_eq!(time_zone("z", "Mars/Olympus").err().map(|e| e.field).as_deref(), Some("z"));
        assert!(time_zone("z", "America/New_York").is_ok());
    }
}
