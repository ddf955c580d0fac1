//! Number formatting shared by server-rendered and hydrated pages (so both print the same text).

/// `1234.5` → `$1,234.50`.
pub fn usd(value: f64) -> String {
    let negative = value < 0.0;
    let cents = (value.abs() * 100.0).round() as u64;
    let (whole, frac) = (cents / 100, cents % 100);
    format!("{}${}.{:02}", if negative { "-" } else { "" }, group(whole), frac)
}

/// `1234567.0` → `1,234,567`; fractions keep up to three decimals.
/// A range of monthly figures, low to high ("$132.55 – $609.31").
pub fn usd_range(low: f64, high: f64) -> String {
    format!("{} – {}", usd(low), usd(high))
}

pub fn quantity(value: f64) -> String {
    if value.fract().abs() < 1e-9 {
        group(value.round() as u64)
    } else {
        let s = format!("{value:.3}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        match s.split_once('.') {
            Some((w, f)) => format!("{}.{f}", group(w.parse().unwrap_or(0))),
            None => s.to_owned(),
        }
    }
}

fn group(mut n: u64) -> String {
    let mut parts = Vec::new();
    loop {
        if n < 1000 {
            parts.push(n.to_string());
            break;
        }
        parts.push(format!("{:03}", n % 1000));
        n /= 1000;
    }
    parts.reverse();
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_money_and_quantities() {
        assert_eq!(usd(1234.5), "$1,234.50");
        assert_eq!(usd(0.004), "$0.00");
        assert_eq!(usd(-3.0), "-$3.00");
        assert_eq!(quantity(1_000_000.0), "1,000,000");
        assert_eq!(quantity(2.5), "2.5");
        assert_eq!(quantity(1460.125), "1,460.125");
    }
}

/// Milliseconds since the epoch → `2026-11-25 20:58 UTC` (same text on server and browser).
pub fn timestamp(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", rem / 3600, rem % 3600 / 60)
}

#[cfg(test)]
mod timestamp_tests {
    #[test]
    fn formats_utc() {
        assert_eq!(super::timestamp(0), "1970-01-01 00:00 UTC");
        assert_eq!(super::timestamp(1_795_639_080_000), "2026-11-25 20:38 UTC");
        assert_eq!(super::timestamp(951_782_400_000), "2000-02-29 00:00 UTC");
    }
}

/// A unit price with as many decimals as it has, and at least two: `$0.50`, `$0.0000166667`.
pub fn unit_price(value: f64) -> String {
    let text = format!("{value:.10}");
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let frac = frac.trim_end_matches('0');
    format!("${whole}.{frac:0<2}")
}

#[cfg(test)]
mod unit_price_tests {
    #[test]
    fn keeps_cents_and_small_prices() {
        assert_eq!(super::unit_price(0.5), "$0.50");
        assert_eq!(super::unit_price(3.5), "$3.50");
        assert_eq!(super::unit_price(0.0000166667), "$0.0000166667");
        assert_eq!(super::unit_price(0.0208), "$0.0208");
        assert_eq!(super::unit_price(1.0), "$1.00");
    }
}

/// When a phase starts, from the phases it imports from: "Starts first", "Starts when phases 1, 2
/// are done".
pub fn phase_start(needs: &[u8]) -> String {
    match needs {
        [] => "Starts first".to_owned(),
        [one] => format!("Starts when phase {one} is done"),
        many => {
            format!("Starts when phases {} are done", many.iter().map(u8::to_string).collect::<Vec<_>>().join(", "))
        }
    }
}
