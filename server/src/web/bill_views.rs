//! An environment's estimate against its bill, as its page shows it: the running deployment priced
//! now (on-demand, with its range), each period the last read of Cost Explorer holds compared service
//! by service (`infra::cost::bill`), prorated to the part of the month the environment ran; the
//! usage the last whole month's bill implies; the commitments it could take. And the page's two
//! actions: read the bill now, use the bill's usage.

use std::collections::BTreeMap;

use app::format::usd;
use app::model::{BillPeriodView, BillReadStatus, BillServiceView, BillVerdict, BillView, Role, UsageFromBillView};
use chrono::{NaiveDate, TimeZone, Utc};
use infra::cost::bill::{compare, usage_from_bill, Verdict};
use infra::cost::sleep::with_schedule;
use infra::{PricingModel, TierReport};

use crate::catalog::{offered_commitments, range_view};
use crate::environments::access::{self, Duty};
use crate::environments::Environment;
use crate::error::ServerError;
use crate::lifecycle::bill::{day_ms, days, month_of, running_share, StoredBill};
use crate::people::User;
use crate::requests::deployed::Deployed;
use crate::rollout::aws::cost_explorer::BilledPeriod;
use crate::web::state::Portal;

impl Portal {
    /// The running deployment's estimate now, on-demand with its range; with the environment's
    /// sleep schedule, less what stops while asleep (and the sentence that says so), since that is
    /// what its bill holds.
    fn running_report(
        &self,
        environment: &Environment,
        running: &Deployed,
    ) -> Result<(TierReport, Option<String>), ServerError> {
        let catalog = &self.catalog.catalog;
        let spec = running.spec(catalog, environment)?;
        let usage = catalog.stored_usage(running.usage.iter().map(|(k, v)| (k.as_str(), *v)))?;
        let mut report = catalog.report(&spec, &usage, true, PricingModel::OnDemand)?;
        let Some(schedule) = &environment.lifecycle.schedule else { return Ok((report, None)) };
        let share = schedule.awake.share_of_week();
        let sleep = catalog.sleep_estimate(&spec, &usage, true, share)?;
        report.estimate = with_schedule(&report.estimate, &sleep);
        let note = format!(
            "The estimate counts the sleep schedule: awake {:.0}% of the week, {} a month less on what stops \
             while asleep. A month in which the schedule changed is compared with the schedule of today.",
            share * 100.0,
            usd(sleep.saving_usd)
        );
        Ok((report, Some(note)))
    }

    pub(super) async fn bill_view(
        &self,
        user: &User,
        environment: &Environment,
        running: &Deployed,
        expires_at: Option<i64>,
    ) -> Result<BillView, ServerError> {
        let (report, schedule_note) = self.running_report(environment, running)?;
        let lifecycle = self.lifecycle();
        let name = environment.name.as_str();
        let bill = lifecycle.latest_bill(name).await?;
        let now = self.clock.now_ms();
        let periods: Vec<BillPeriodView> = bill
            .iter()
            .filter(|b| b.status == BillReadStatus::Read)
            .flat_map(|b| b.periods.iter())
            .map(|p| period_view(&report, p, running.running_since, now))
            .collect();
        let (suggestion, suggestion_period) = match bill.as_ref().and_then(|b| last_whole_month(b, now)) {
            Some(p) => (
                self.suggestion(&report, p, running.running_since, now),
                Some((p.start.clone(), month_label(&p.start))),
            ),
            None => (Vec::new(), None),
        };
        let may_request =
            user.has(Role::Requester) && access::allowed(&self.db, user, environment, Duty::Request).await?;
        let may_approve =
            user.has(Role::Approver) && access::allowed(&self.db, user, environment, Duty::Approve).await?;
        let (commitments, commitment_note) =
            offered_commitments(&report.estimate, expires_at.map(|at| ((at - now) / 60_000).max(0)));
        let usage_set_from_bill =
            lifecycle.usage_set_from_bill(name, running.request_id).await?.map(|(by, at, period)| {
                format!(
                    "Usage assumptions set from the bill of {} by {by} on {}.",
                    month_label(&period),
                    Utc.timestamp_millis_opt(at)
                        .single()
                        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                        .unwrap_or_default()
                )
            });
        Ok(BillView {
            estimate: range_view(report.estimate.range_or_exact()),
            status: bill.as_ref().map(|b| b.status),
            read_at: bill.as_ref().map(|b| b.read_at),
            read_by: bill.as_ref().map(|b| b.read_by.clone()),
            message: match &bill {
                None => Some(
                    "The bill has not been read yet: the portal reads Cost Explorer once a day for each running \
                     environment."
                        .to_owned(),
                ),
                Some(b) if b.status != BillReadStatus::Read => Some(b.message.clone()),
                Some(_) => None,
            },
            periods,
            may_use_usage: !suggestion.is_empty() && (user.has(Role::Admin) || may_request),
            suggestion,
            suggestion_period,
            usage_set_from_bill,
            may_read: user.has(Role::Admin) || may_request || may_approve,
            commitments,
            commitment_note,
            schedule_note,
        })
    }

    /// The usage the month's bill implies, scaled to a whole month when the environment ran part of it.
    fn suggestion(
        &self,
        report: &TierReport,
        period: &BilledPeriod,
        running_since: i64,
        now: i64,
    ) -> Vec<UsageFromBillView> {
        let share = running_share(period, running_since, now);
        let cdn = report.evaluation.of_type("AWS::CloudFront::Distribution").next().is_some();
        let fields = report.usage.typical.fields();
        usage_from_bill(&period.groups, cdn, &report.usage.typical)
            .into_iter()
            .filter_map(|u| {
                let field = fields.iter().find(|f| f.key == u.key)?;
                Some(UsageFromBillView {
                    key: u.key,
                    label: field.label.to_owned(),
                    unit: field.unit.to_owned(),
                    assumed: u.assumed,
                    billed: if share > 0.0 { (u.billed / share).round() } else { u.billed },
                    source: u.source,
                })
            })
            .collect()
    }

    /// Sets the running deployment's usage from the month's bill, as the page offered it.
    pub(super) async fn use_usage_from_bill(
        &self,
        user: &User,
        environment: &Environment,
        running: &Deployed,
        period: &str,
    ) -> Result<(), ServerError> {
        let lifecycle = self.lifecycle();
        let bill = lifecycle.latest_bill(environment.name.as_str()).await?;
        let now = self.clock.now_ms();
        let month =
            bill.as_ref().and_then(|b| last_whole_month(b, now)).filter(|p| p.start == period).ok_or_else(|| {
                ServerError::invalid(
                    "period",
                    format!("the last bill read has no whole month starting {period}: read it again"),
                )
            })?;
        let (report, _) = self.running_report(environment, running)?;
        let usage: BTreeMap<String, f64> = self
            .suggestion(&report, month, running.running_since, now)
            .into_iter()
            .map(|s| (s.key, s.billed))
            .collect();
        if usage.is_empty() {
            return Err(ServerError::invalid(
                "period",
                format!("the bill of {period} measures none of the usage assumptions"),
            ));
        }
        lifecycle.use_usage_from_bill(user, environment, running, period, &usage).await
    }
}

/// The newest period of a read that is a whole past month.
fn last_whole_month(bill: &StoredBill, now: i64) -> Option<&BilledPeriod> {
    if bill.status != BillReadStatus::Read {
        return None;
    }
    bill.periods
        .iter()
        .filter(|p| {
            month_of(&p.start).is_some_and(|(start, end)| {
                day_ms(&p.start) == Some(start) && day_ms(&p.end) == Some(end) && end <= now
            })
        })
        .max_by(|a, b| a.start.cmp(&b.start))
}

fn month_label(start: &str) -> String {
    NaiveDate::parse_from_str(start, "%Y-%m-%d")
        .map(|d| d.format("%B %Y").to_string())
        .unwrap_or_else(|_| start.to_owned())
}

fn period_view(report: &TierReport, p: &BilledPeriod, running_since: i64, now: i64) -> BillPeriodView {
    let share = running_share(p, running_since, now);
    let month_to_date = month_of(&p.start).is_some_and(|(_, end)| day_ms(&p.end) != Some(end));
    let services = compare(&report.estimate, &p.groups, share);
    let actual = (services.iter().map(|s| s.actual_usd).sum::<f64>() * 100.0).round() / 100.0;
    let total = report.estimate.range_or_exact();
    let scaled = |v: f64| (v * share * 100.0).round() / 100.0;
    let (Some(start), Some(end)) = (day_ms(&p.start), day_ms(&p.end)) else {
        return BillPeriodView {
            label: p.start.clone(),
            start: p.start.clone(),
            month_to_date,
            provisional: p.estimated,
            prorated: None,
            estimate: range_view(total),
            actual_usd: actual,
            projected_usd: None,
            services: Vec::new(),
        };
    };
    let ran = days(start.max(running_since), end.min(now.max(start)));
    let label = if month_to_date {
        format!("{} so far ({} days)", month_label(&p.start), days(start, end))
    } else {
        month_label(&p.start)
    };
    let prorated = (share < 0.999).then(|| {
        let month_days = month_of(&p.start).map_or(30, |(a, b)| days(a, b));
        if ran <= 0 {
            format!(
                "The environment did not run in this period by the portal's records (it came up on {}): whatever \
                 was billed to its tag stands against a zero estimate.",
                Utc.timestamp_millis_opt(running_since).single().map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_default()
            )
        } else if running_since > start {
            format!("The estimate is prorated to {ran} of the month's {month_days} days: the environment came up during the month.")
        } else {
            format!("The estimate is prorated to {ran} of the month's {month_days} days.")
        }
    });
    BillPeriodView {
        label,
        start: p.start.clone(),
        month_to_date,
        provisional: p.estimated,
        prorated,
        estimate: range_view(infra::UsdRange {
            low: scaled(total.low),
            typical: scaled(total.typical),
            high: scaled(total.high),
        }),
        actual_usd: actual,
        projected_usd: (month_to_date && share > 0.0).then(|| (actual / share * 100.0).round() / 100.0),
        services: services
            .into_iter()
            .map(|s| BillServiceView {
                service: s.service,
                estimate: range_view(s.estimate),
                actual_usd: s.actual_usd,
                difference_usd: s.difference_usd,
                verdict: match s.verdict {
                    Verdict::WithinRange => BillVerdict::WithinRange,
                    Verdict::AboveRange => BillVerdict::AboveRange,
                    Verdict::BelowRange => BillVerdict::BelowRange,
                    Verdict::NotEstimated => BillVerdict::NotEstimated,
                    Verdict::NotBilled => BillVerdict::NotBilled,
                },
                reason: s.reason,
            })
            .collect(),
    }
}
