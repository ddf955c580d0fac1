//! The bill: each running environment's cost as Cost Explorer reports it (last month and this month
//! so far, by service and usage type, for the resources tagged `portal:environment`), read through
//! the environment's deploy role once a day by the sweep and on demand, each read stored and
//! audited (a read costs $0.01). What was read is compared with the estimate when a page shows it
//! (`infra::cost::bill`); the usage a whole month's bill implies can replace the running
//! deployment's usage assumptions, on request.

use std::collections::BTreeMap;

use app::model::{AuditAction, BillReadStatus, Role};
use chrono::{Datelike, Months, NaiveDate, TimeZone, Utc};

use crate::audit;
use crate::db::{get, get_json, get_parsed};
use crate::environments::access::{self, Duty};
use crate::environments::Environment;
use crate::error::{AwsError, ServerError};
use crate::lifecycle::drift::SCHEDULED;
use crate::lifecycle::Lifecycle;
use crate::people::User;
use crate::requests::deployed::{deployed, deployed_all, Deployed};
use crate::rollout::aws::cost_explorer::{BilledPeriod, CostExplorer, ENVIRONMENT_TAG};
use crate::rollout::sts::assume_environment;

/// The sweep reads each running environment's bill when its last read is this old.
pub const READ_EVERY_MS: i64 = 24 * 3_600_000;
/// A person may ask again this long after the last read (each read costs $0.01).
pub const PERSON_READ_EVERY_MS: i64 = 10 * 60_000;
const DAY_MS: i64 = 86_400_000;

/// One stored read.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredBill {
    pub id: i64,
    pub read_by: String,
    pub read_at: i64,
    pub status: BillReadStatus,
    /// Why there is nothing to show, and how to fix it (empty for a read with figures).
    pub message: String,
    pub periods: Vec<BilledPeriod>,
}

/// The days a read asks for: the first of last month up to today (exclusive: Cost Explorer's
/// figures for today are not final), as `YYYY-MM-DD`.
pub fn read_window(now_ms: i64) -> (String, String) {
    let today = day_of(now_ms);
    let this_month = today.with_day(1).unwrap_or(today);
    let last_month = this_month.checked_sub_months(Months::new(1)).unwrap_or(this_month);
    (last_month.format("%Y-%m-%d").to_string(), today.format("%Y-%m-%d").to_string())
}

fn day_of(ms: i64) -> NaiveDate {
    Utc.timestamp_millis_opt(ms).single().map(|t| t.date_naive()).unwrap_or_default()
}

/// Midnight UTC of a `YYYY-MM-DD`, in ms.
pub fn day_ms(day: &str) -> Option<i64> {
    let date = NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

/// The calendar month a period starts in, as ms from its first to the first of the next.
pub fn month_of(start: &str) -> Option<(i64, i64)> {
    let first = NaiveDate::parse_from_str(start, "%Y-%m-%d").ok()?.with_day(1)?;
    let next = first.checked_add_months(Months::new(1))?;
    Some((
        first.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis(),
        next.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis(),
    ))
}

/// What the page says when Cost Explorer answered with nothing for the tag.
pub fn empty_message(environment: &str) -> String {
    format!(
        "Cost Explorer returned nothing for {ENVIRONMENT_TAG} = {environment}. Either the tag is not activated as a \
         cost allocation tag (in the Billing console: Cost allocation tags, activate {ENVIRONMENT_TAG}; it counts from \
         then on, within 24 hours), or nothing has been billed yet (costs appear up to 24 hours after use). \
         Nothing is shown rather than $0."
    )
}

impl Lifecycle<'_> {
    /// Reads `environment`'s bill now on behalf of `who`, stores and audits the read; the read.
    pub async fn read_bill(&self, environment: &Environment, who: &str) -> Result<StoredBill, ServerError> {
        let now = self.clock.now_ms();
        let (start, end) = read_window(now);
        let (status, message, periods) = self.ask_cost_explorer(environment, who, &start, &end, now).await?;
        let name = environment.name.as_str();
        let mut tx = self.db.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO bill_reads (environment, read_by, read_at, status, message, periods) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(name)
        .bind(who)
        .bind(now)
        .bind(status.as_str())
        .bind(&message)
        .bind(serde_json::to_string(&periods)?)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = get(&row, "id")?;
        let billed: f64 = periods.iter().flat_map(|p| &p.groups).map(|g| g.usd).sum();
        let details = serde_json::json!({
            "read": id, "status": status, "from": start, "to": end, "periods": periods.len(),
            "billed_usd": (billed * 100.0).round() / 100.0, "message": message, "requested_by": who,
        });
        let actor = if who == SCHEDULED { "portal" } else { who };
        audit::append(self.db, &mut tx, actor, AuditAction::BillRead, &format!("environment:{name}"), details).await?;
        tx.commit().await?;
        Ok(StoredBill { id, read_by: who.to_owned(), read_at: now, status, message, periods })
    }

    /// A person's read: whoever may request or approve for the environment (or an admin), at most
    /// one read every [`PERSON_READ_EVERY_MS`] (a 429 saying when, otherwise).
    pub async fn request_bill_read(&self, user: &User, environment: &Environment) -> Result<StoredBill, ServerError> {
        user.require(&[Role::Requester, Role::Approver, Role::Admin], "read an environment's bill")?;
        if !user.has(Role::Admin)
            && !access::allowed(self.db, user, environment, Duty::Request).await?
            && !access::allowed(self.db, user, environment, Duty::Approve).await?
        {
            return Err(ServerError::Forbidden(format!(
                "{} may neither request nor approve for `{}`: its bill is read by those who may",
                user.name, environment.name
            )));
        }
        if deployed(self.db, environment).await?.is_none() {
            return Err(ServerError::invalid(
                "environment",
                format!("environment `{}` runs nothing: it has no bill to read", environment.name),
            ));
        }
        if let Some(last) = self.latest_bill(environment.name.as_str()).await? {
            let next = last.read_at + PERSON_READ_EVERY_MS;
            if self.clock.now_ms() < next {
                return Err(ServerError::TooManyRequests(format!(
                    "the bill of `{}` was read {} minute(s) ago, and each read costs $0.01: read it again from {}",
                    environment.name,
                    (self.clock.now_ms() - last.read_at) / 60_000,
                    Utc.timestamp_millis_opt(next)
                        .single()
                        .map(|t| t.format("%H:%M UTC").to_string())
                        .unwrap_or_default()
                )));
            }
        }
        self.read_bill(environment, &user.name).await
    }

    /// The sweep's step: reads the bill of every running environment last read more than
    /// [`READ_EVERY_MS`] ago (none without an AWS configuration); their names.
    pub async fn read_bills_due(&self) -> Result<Vec<String>, ServerError> {
        if self.aws.is_none() {
            return Ok(Vec::new());
        }
        let now = self.clock.now_ms();
        let mut running = deployed_all(self.db).await?;
        let mut read = Vec::new();
        for environment in self.registry().list().await? {
            if running.remove(&environment.key()).is_none() {
                continue;
            }
            let due = match self.latest_bill(environment.name.as_str()).await? {
                Some(last) => now - last.read_at >= READ_EVERY_MS,
                None => true,
            };
            if due {
                self.read_bill(&environment, SCHEDULED).await?;
                read.push(environment.name.to_string());
            }
        }
        Ok(read)
    }

    pub async fn latest_bill(&self, environment: &str) -> Result<Option<StoredBill>, ServerError> {
        let row = sqlx::query(
            "SELECT id, read_by, read_at, status, message, periods FROM bill_reads WHERE environment = $1 \
             ORDER BY id DESC LIMIT 1",
        )
        .bind(environment)
        .fetch_optional(&self.db.pool)
        .await?;
        row.map(|row| {
            Ok(StoredBill {
                id: get(&row, "id")?,
                read_by: get(&row, "read_by")?,
                read_at: get(&row, "read_at")?,
                status: get_parsed(&row, "status")?,
                message: get(&row, "message")?,
                periods: get_json(&row, "periods")?,
            })
        })
        .transpose()
    }

    /// What Cost Explorer answered: a status, the message to show when there is nothing, the periods.
    async fn ask_cost_explorer(
        &self,
        environment: &Environment,
        who: &str,
        start: &str,
        end: &str,
        now: i64,
    ) -> Result<(BillReadStatus, String, Vec<BilledPeriod>), ServerError> {
        let name = environment.name.as_str();
        let Some(base) = self.aws else {
            return Ok((BillReadStatus::Failed, "the portal has no AWS configuration".into(), Vec::new()));
        };
        let Some(target) = self.registry().target(name).await? else {
            return Ok((BillReadStatus::Failed, format!("environment `{name}` is no longer registered"), Vec::new()));
        };
        let config = match assume_environment(base, &target, who, format!("portal-bill-{now}")).await {
            Ok(Ok(config)) => config,
            Ok(Err(reason)) => return Ok((BillReadStatus::Denied, reason, Vec::new())),
            Err(e) => {
                return Ok((
                    BillReadStatus::Failed,
                    format!("STS did not answer: {e}; the next read tries again"),
                    Vec::new(),
                ))
            }
        };
        Ok(match CostExplorer::from_config(&config).environment_costs(name, start, end).await {
            Ok(periods) if periods.iter().all(|p| p.groups.is_empty()) => {
                (BillReadStatus::Empty, empty_message(name), periods)
            }
            Ok(periods) => (BillReadStatus::Read, String::new(), periods),
            Err(AwsError::Failed { code, message, .. }) if code == "DataUnavailableException" => (
                BillReadStatus::Unavailable,
                format!(
                    "Cost Explorer has no data for account {}: it is enabled once in the Billing console (Cost \
                     Explorer, Launch Cost Explorer) and has data about 24 hours later. ({message})",
                    environment.account_id
                ),
                Vec::new(),
            ),
            Err(AwsError::Failed { code, message, .. })
                if code.contains("AccessDenied")
                    || code == "UnauthorizedOperation"
                    || code == "UnrecognizedClientException" =>
            {
                (
                    BillReadStatus::Denied,
                    format!(
                        "The deploy role {} may not read costs: add ce:GetCostAndUsage to its permissions \
                         (docs/operating.md, \"The deploy role\"). ({code}: {message})",
                        environment.role_arn.as_str()
                    ),
                    Vec::new(),
                )
            }
            Err(e @ AwsError::Transient { .. }) => (
                BillReadStatus::Failed,
                format!("Cost Explorer did not answer: {e}; the next read tries again"),
                Vec::new(),
            ),
            Err(e) => (BillReadStatus::Failed, e.to_string(), Vec::new()),
        })
    }

    /// Sets the running deployment's usage assumptions to what the bill of the month starting
    /// `period` implies (`usage`: the keys the bill measured, already validated against the
    /// catalog), for whoever may request for the environment; audited with the values replaced.
    pub async fn use_usage_from_bill(
        &self,
        user: &User,
        environment: &Environment,
        running: &Deployed,
        period: &str,
        usage: &BTreeMap<String, f64>,
    ) -> Result<(), ServerError> {
        user.require(&[Role::Requester, Role::Admin], "set an environment's usage from its bill")?;
        if !user.has(Role::Admin) {
            access::require(self.db, user, environment, Duty::Request).await?;
        }
        let name = environment.name.as_str();
        let mut merged = running.usage.clone();
        let before: BTreeMap<&String, Option<f64>> = usage.keys().map(|k| (k, running.usage.get(k).copied())).collect();
        merged.extend(usage.iter().map(|(k, v)| (k.clone(), *v)));
        // Whatever the bill said, the catalog must accept it: a wrong value is refused here.
        self.catalog.stored_usage(merged.iter().map(|(k, v)| (k.as_str(), *v)))?;
        let mut tx = self.db.begin_write().await?;
        sqlx::query("DELETE FROM environment_usage WHERE environment = $1 AND request_id = $2")
            .bind(name)
            .bind(running.request_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO environment_usage (environment, request_id, usage, set_by, set_at, from_period) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(name)
        .bind(running.request_id)
        .bind(serde_json::to_string(&merged)?)
        .bind(&user.name)
        .bind(self.clock.now_ms())
        .bind(period)
        .execute(&mut *tx)
        .await?;
        let details = serde_json::json!({
            "request": running.request_id, "period": period, "before": before, "after": usage,
        });
        audit::append(
            self.db,
            &mut tx,
            &user.name,
            AuditAction::UsageFromBill,
            &format!("environment:{name}"),
            details,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Who set the running deployment's usage from a bill, when, from which month.
    pub async fn usage_set_from_bill(
        &self,
        environment: &str,
        request_id: i64,
    ) -> Result<Option<(String, i64, String)>, ServerError> {
        let row = sqlx::query(
            "SELECT set_by, set_at, from_period FROM environment_usage WHERE environment = $1 AND request_id = $2",
        )
        .bind(environment)
        .bind(request_id)
        .fetch_optional(&self.db.pool)
        .await?;
        row.map(|r| Ok((get(&r, "set_by")?, get(&r, "set_at")?, get(&r, "from_period")?))).transpose()
    }
}

/// The share of its calendar month a period covers while the environment ran (it may have come
/// up during it), and the period's end for the month so far (`now`).
pub fn running_share(period: &BilledPeriod, running_since: i64, now: i64) -> f64 {
    let (Some((month_start, month_end)), Some(start), Some(end)) =
        (month_of(&period.start), day_ms(&period.start), day_ms(&period.end))
    else {
        return 1.0;
    };
    let from = start.max(running_since);
    let until = end.min(now.max(start)).max(from);
    ((until - from) as f64 / (month_end - month_start) as f64).clamp(0.0, 1.0)
}

/// Whole days between two instants, for the page's words.
pub fn days(from: i64, until: i64) -> i64 {
    ((until - from) as f64 / DAY_MS as f64).round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use infra::cost::bill::BilledGroup;

    fn period(start: &str, end: &str) -> BilledPeriod {
        BilledPeriod { start: start.into(), end: end.into(), estimated: false, groups: Vec::<BilledGroup>::new() }
    }

    fn ms(day: &str) -> i64 {
        day_ms(day).unwrap_or_default()
    }

    #[test]
    fn a_read_asks_for_last_month_and_this_month_so_far() {
        assert_eq!(read_window(ms("2026-12-07") + 3_600_000), ("2026-11-01".into(), "2026-12-07".into()));
        assert_eq!(
            read_window(ms("2027-01-01")),
            ("2026-12-01".into(), "2027-01-01".into()),
            "on the 1st: last month only"
        );
        assert_eq!(read_window(ms("2026-03-31")), ("2026-02-01".into(), "2026-03-31".into()));
    }

    #[test]
    fn a_period_counts_the_part_of_its_month_the_environment_ran() {
        let november = period("2026-11-01", "2026-12-01");
        assert_eq!(running_share(&november, 0, ms("2026-12-07")), 1.0);
        // Up from the 16th: 15 of 30 days.
        assert_eq!(running_share(&november, ms("2026-11-16"), ms("2026-12-07")), 0.5);
        // This month so far: 6 of December's 31 days.
        let december = period("2026-12-01", "2026-12-07");
        assert!((running_share(&december, 0, ms("2026-12-07")) - 6.0 / 31.0).abs() < 1e-9);
        assert_eq!(running_share(&december, ms("2026-12-08"), ms("2026-12-07")), 0.0, "came up after the period");
    }
}
