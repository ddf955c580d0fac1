//! `portal cost`: a tier's estimate as JSON or as a table, optionally with each line's range.

use infra::TierId;

/// The estimate as JSON; with `range`, each line and the total also say `low`, `typical` and
/// `high` (the monthly figure at the usage file's low, typical and high usage).
pub(super) fn json(tier: TierId, report: &infra::TierReport, range: bool) -> serde_json::Value {
    let e = &report.estimate;
    let mut json = serde_json::json!({
        "tier": tier,
        "pricing": e.pricing,
        "monthly_usd": e.monthly_usd,
        "yearly_usd": e.yearly_usd,
        "fixed_monthly_usd": e.fixed_monthly_usd,
        "on_demand_monthly_usd": e.on_demand_monthly_usd,
        "reserved_monthly_usd": e.reserved_monthly_usd,
        "savings_plan_monthly_usd": e.savings_plan_monthly_usd,
        "commitments": e.commitments,
        "after_teardown": e.after_teardown,
        "free_tier": e.free_tier,
        "services": e.services,
        "lines": e.lines,
        "unpriced": e.unpriced,
        "usage": report.usage,
    });
    if range {
        let total = e.range_or_exact();
        json["total"] = serde_json::json!({ "low": total.low, "typical": total.typical, "high": total.high });
        if let Some(lines) = json["lines"].as_array_mut() {
            for (line, priced) in lines.iter_mut().zip(&e.lines) {
                let r = priced.range_or_exact();
                line["low"] = r.low.into();
                line["typical"] = r.typical.into();
                line["high"] = r.high.into();
            }
        }
    }
    json
}

pub(super) fn table(report: &infra::TierReport, range: bool) -> String {
    use app::format::usd;
    let e = &report.estimate;
    let mut out = format!(
        "{} ({} pricing, free tier {})\n",
        report.tier.name,
        e.pricing.label(),
        if e.free_tier { "applied" } else { "not applied" }
    );
    let spread =
        |low: f64, high: f64| if range { format!(" {:>12} {:>12}", usd(low), usd(high)) } else { String::new() };
    let heading = if range { format!(" {:>12} {:>12}", "LOW", "HIGH") } else { String::new() };
    out.push_str(&format!(
        "{:<16} {:<26} {:>5} {:<44} {:>12}{heading}\n",
        "SERVICE", "RESOURCE", "PHASE", "WHAT", "MONTHLY"
    ));
    for l in &e.lines {
        let r = l.range_or_exact();
        out.push_str(&format!(
            "{:<16} {:<26} {:>5} {:<44} {:>12}{}\n",
            l.service,
            l.resource,
            l.phase.number(),
            l.description.chars().take(44).collect::<String>(),
            usd(l.monthly_usd),
            spread(r.low, r.high),
        ));
    }
    out.push('\n');
    for s in &e.services {
        let seed = s.seed_usd.map(|v| format!("  (seed {})", usd(v))).unwrap_or_default();
        out.push_str(&format!("{:<16} {:>12}{}\n", s.service, usd(s.monthly_usd), seed));
        if let Some(note) = &s.note {
            out.push_str(&format!("    note: {note}\n"));
        }
    }
    let total = e.range_or_exact();
    out.push_str(&format!(
        "\nMonthly {} (low {}, high {})   Fixed {}   Yearly {}\n",
        usd(e.monthly_usd),
        usd(total.low),
        usd(total.high),
        usd(e.fixed_monthly_usd),
        usd(e.yearly_usd),
    ));
    out.push_str(&format!("On-demand {}", usd(e.on_demand_monthly_usd)));
    for c in &e.commitments {
        out.push_str(&format!(
            "   {} {} (commits {} over {} months, billed after teardown too)",
            c.model.label(),
            usd(c.monthly_usd),
            usd(c.committed_total_usd),
            c.term_months
        ));
    }
    out.push('\n');
    for l in &e.after_teardown {
        out.push_str(&format!("After teardown: {} a month: {} ({})\n", usd(l.monthly_usd), l.resource, l.description));
    }
    for u in &e.unpriced {
        out.push_str(&format!("warning: no price model for {} ({})\n", u.resource, u.resource_type));
    }
    out
}
