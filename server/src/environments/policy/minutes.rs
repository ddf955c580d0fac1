//! A length of time as people write it.

use crate::error::ServerError;

/// A length of time as people write it: `90m`, `2h`, `14d`; kept in minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Minutes(pub i64);

impl Minutes {
    pub const HOUR: Minutes = Minutes(60);
    pub const DAY: Minutes = Minutes(24 * 60);

    pub fn parse(field: &str, text: &str) -> Result<Minutes, ServerError> {
        let t = text.trim();
        let bad =
            || ServerError::invalid(field, format!("`{text}` is not a length of time: write e.g. 90m, 2h or 14d"));
        let (number, unit) = t.split_at(t.len().saturating_sub(1));
        let n: i64 = number.parse().map_err(|_| bad())?;
        let minutes = match unit {
            "m" => n,
            "h" => n.checked_mul(60).ok_or_else(bad)?,
            "d" => n.checked_mul(24 * 60).ok_or_else(bad)?,
            _ => return Err(bad()),
        };
        if minutes <= 0 || minutes > 3650 * 24 * 60 {
            return Err(ServerError::invalid(field, format!("`{text}` must be more than zero and at most ten years")));
        }
        Ok(Minutes(minutes))
    }

    pub fn ms(self) -> i64 {
        self.0 * 60_000
    }

    pub fn hours(self) -> f64 {
        self.0 as f64 / 60.0
    }
}

impl std::fmt::Display for Minutes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            m if m % (24 * 60) == 0 => write!(f, "{}d", m / (24 * 60)),
            m if m % 60 == 0 => write!(f, "{}h", m / 60),
            m => write!(f, "{m}m"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_of_time_read_as_people_write_them() {
        assert_eq!(Minutes::parse("f", "90m").ok(), Some(Minutes(90)));
        assert_eq!(Minutes::parse("f", "2h").ok(), Some(Minutes(120)));
        assert_eq!(Minutes::parse("f", " 14d ").ok(), Some(Minutes(14 * 24 * 60)));
        for bad in ["", "2", "h", "-1h", "0d", "1.5h", "2w", "99999999999d"] {
            assert!(Minutes::parse("f", bad).is_err(), "{bad}");
        }
        assert_eq!(Minutes(14 * 24 * 60).to_string(), "14d");
        assert_eq!(Minutes(120).to_string(), "2h");
        assert_eq!(Minutes(90).to_string(), "90m");
    }
}
