//! Number formatting shared by server-rendered and hydrated pages (so both print the same text).

/// `1234.5` → `$1,234.50`.
pub fn usd(value: f64) -> String {
    let negative = value < 0.0;
    let cents = (value.abs() * 100.0).round() as u64;
    let (whole, frac) = (cents / 100, cents % 100);
    format!("{}${}.{:02}", if negative { "-" } else { "" }, group(whole), frac)
}

/// `1234567.0` → `1,234,567`; fractions keep up to three decimals.
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
