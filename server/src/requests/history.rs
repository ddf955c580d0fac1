//! The history of requests (filters, keyset pages, CSV), what an environment costs now, the stored
//! estimate, and the expiry of requests nobody decided in time.

use app::model::{Decision, RequestRow, RequestStatus, Role, RolloutStatus};
use infra::TierId;
use serde::Deserialize;

use crate::db::{get, get_parsed, get_parsed_opt};
use crate::error::ServerError;
use crate::people::User;
use crate::requests::{RequestRecord, Requests};

/// Filters of the history; every one optional. Pages are newest first, `before` an id.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryFilter {
    pub environment: Option<String>,
    pub tier: Option<String>,
    pub status: Option<String>,
    pub requester: Option<String>,
    pub before: Option<i64>,
    pub limit: Option<i64>,
    /// Pending requests this approver may decide (not their own, not yet decided by them).
    #[serde(skip)]
    pub awaiting: Option<i64>,
}

/// One row of the history: the same shape the pages and the API show.
pub type HistoryRow = RequestRow;

impl Requests<'_> {
    pub async fn history(
        &self,
        user: &User,
        filter: &HistoryFilter,
    ) -> Result<(Vec<HistoryRow>, Option<i64>), ServerError> {
        user.require(&[Role::Requester, Role::Approver, Role::Admin, Role::Viewer], "see the history")?;
        let status: Option<RequestStatus> = filter
            .status
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e: app::model::UnknownValue| ServerError::invalid("status", e.to_string()))?;
        let tier: Option<TierId> = filter
            .tier
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e: infra::InfraError| ServerError::invalid("tier", e.to_string()))?;
        let limit = filter.limit.unwrap_or(50).clamp(1, 500);
        // One static statement: each filter is `($n IS NULL OR column = $n)`.
        let rows = sqlx::query(
            "SELECT r.id, r.kind, r.environment, r.tier, r.region, r.status, r.monthly_cents, r.required_approvals, \
             r.created_at, u.name AS requester, o.status AS rollout_status, \
             (SELECT COUNT(*) FROM approvals a WHERE a.request_id = r.id AND a.decision = $9 AND a.voided_at IS NULL) \
             AS approvals \
             FROM deployment_requests r JOIN users u ON u.id = r.requester_id \
             LEFT JOIN rollouts o ON o.request_id = r.id \
             WHERE r.id < $1 \
             AND ($2 IS NULL OR r.environment = $2) AND ($3 IS NULL OR r.tier = $3) \
             AND ($4 IS NULL OR r.status = $4) AND ($5 IS NULL OR u.name = $5) \
             AND ($6 IS NULL OR (r.status = $8 AND r.requester_id <> $6 \
                  AND NOT EXISTS (SELECT 1 FROM approvals m WHERE m.request_id = r.id AND m.approver_id = $6 \
                  AND m.voided_at IS NULL))) \
             ORDER BY r.id DESC LIMIT $7",
        )
        .bind(filter.before.unwrap_or(i64::MAX))
        .bind(filter.environment.as_deref())
        .bind(tier.map(TierId::as_str))
        .bind(status.map(RequestStatus::as_str))
        .bind(filter.requester.as_deref())
        .bind(filter.awaiting)
        .bind(limit)
        .bind(RequestStatus::Pending.as_str())
        .bind(Decision::Approve.as_str())
        .fetch_all(&self.db.pool)
        .await?;
        let rows = rows
            .iter()
            .map(|row| {
                Ok(HistoryRow {
                    id: get(row, "id")?,
                    kind: get_parsed(row, "kind")?,
                    environment: get(row, "environment")?,
                    tier: get(row, "tier")?,
                    region: get(row, "region")?,
                    status: get_parsed(row, "status")?,
                    requester: get(row, "requester")?,
                    monthly_usd: get::<i64>(row, "monthly_cents")? as f64 / 100.0,
                    approvals: get(row, "approvals")?,
                    required_approvals: get(row, "required_approvals")?,
                    created_at: get(row, "created_at")?,
                    rollout_status: get_parsed_opt(row, "rollout_status")?,
                })
            })
            .collect::<Result<Vec<_>, ServerError>>()?;
        let next = (rows.len() as i64 == limit).then(|| rows.last().map(|r| r.id)).flatten();
        Ok((rows, next))
    }

    /// The estimate stored with the request, as the requester saw it (none for a teardown).
    pub async fn stored_estimate(&self, id: i64) -> Result<Option<infra::Estimate>, ServerError> {
        let row = sqlx::query("SELECT estimate FROM deployment_requests WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?;
        Ok(match row {
            // A teardown stores `{}`: no estimate, not a broken one.
            Some(r) => serde_json::from_str(&get::<String>(&r, "estimate")?).ok(),
            None => None,
        })
    }

    /// Marks every pending request past its expiry as expired, each with its audit entry.
    pub async fn expire_due(&self) -> Result<u64, ServerError> {
        let due = sqlx::query("SELECT id FROM deployment_requests WHERE status = $1 AND expires_at < $2")
            .bind(RequestStatus::Pending.as_str())
            .bind(self.clock.now_ms())
            .fetch_all(&self.db.pool)
            .await?;
        let mut expired = 0;
        for row in due {
            let id: i64 = get(&row, "id")?;
            let mut tx = self.db.begin_write().await?;
            if self.expire(&mut tx, id).await? {
                expired += 1;
            }
            tx.commit().await?;
        }
        Ok(expired)
    }

    /// What the environment of a request costs now: its latest approved request before this one.
    pub async fn current_monthly_usd(&self, record: &RequestRecord) -> Result<Option<f64>, ServerError> {
        let row = sqlx::query(
            "SELECT monthly_cents FROM deployment_requests WHERE account_id = $1 AND region = $2 AND environment = $3 \
             AND status = $4 AND id < $5 ORDER BY id DESC LIMIT 1",
        )
        .bind(&record.account_id)
        .bind(record.region.as_str())
        .bind(record.environment.as_str())
        .bind(RequestStatus::Approved.as_str())
        .bind(record.id)
        .fetch_optional(&self.db.pool)
        .await?;
        row.map(|r| get::<i64>(&r, "monthly_cents").map(|c| c as f64 / 100.0)).transpose()
    }
}

/// The CSV header line of the history.
pub const CSV_HEADER: &str =
    "id,kind,environment,tier,region,status,rollout,requester,monthly_usd,approvals,required_approvals,created_at_ms\r\n";

/// CSV lines of history rows (RFC 4180 quoting), without the header ([`CSV_HEADER`]).
pub fn csv_rows(rows: &[HistoryRow]) -> String {
    fn cell(s: &str) -> String {
        if s.contains([',', '"', '\n', '\r']) || s.starts_with(['=', '+', '-', '@']) {
            // Quoted, and a leading formula character neutralised for spreadsheets.
            let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_owned() };
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    }
    let mut out = String::new();
    for r in rows {
        let fields = [
            r.id.to_string(),
            cell(r.kind.as_str()),
            cell(&r.environment),
            cell(&r.tier),
            cell(&r.region),
            cell(r.status.as_str()),
            cell(r.rollout_status.map_or("", RolloutStatus::as_str)),
            cell(&r.requester),
            format!("{:.2}", r.monthly_usd),
            r.approvals.to_string(),
            r.required_approvals.to_string(),
            r.created_at.to_string(),
        ];
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}
