//! Deployment requests and their approval: who asked for what, at what cost,
//! and who signed off. Every action is one transaction, audit entry included.

use std::collections::BTreeMap;

use infra::{Catalog, DeploymentSpec, EnvironmentName, Region, RoleArn, TierId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audit;
use crate::db::{db_error, get, now_ms, Database, Dialect};
use crate::error::ServerError;
use crate::people::{Role, User};

/// How many distinct approvers each tier needs, and when requests lapse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalPolicy {
    pub approvals: BTreeMap<TierId, u32>,
    /// A request whose monthly estimate is above this needs one more approver.
    pub extra_approval_over_monthly_usd: f64,
    pub expires_after_hours: i64,
}

impl Default for ApprovalPolicy {
    fn default() -> Self {
        ApprovalPolicy {
            approvals: [(TierId::Development, 1), (TierId::ProductionLite, 1), (TierId::FullProduction, 2)]
                .into_iter()
                .collect(),
            extra_approval_over_monthly_usd: 1000.0,
            expires_after_hours: 72,
        }
    }
}

impl ApprovalPolicy {
    /// Reads a policy file; every key is required, unknown keys are refused.
    pub fn load(path: &std::path::Path) -> Result<ApprovalPolicy, ServerError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ServerError::Io { path: path.display().to_string(), source })?;
        let policy: ApprovalPolicy =
            toml::from_str(&text).map_err(|e| ServerError::Startup(format!("{}: {}", path.display(), e.message())))?;
        if policy.approvals.values().any(|n| *n == 0) || policy.expires_after_hours <= 0 {
            return Err(ServerError::Startup(format!(
                "{}: every tier needs at least one approver, and requests a positive expiry",
                path.display()
            )));
        }
        Ok(policy)
    }

    pub fn required(&self, tier: TierId, monthly_usd: f64) -> i64 {
        let base = self.approvals.get(&tier).copied().unwrap_or(1).max(1) as i64;
        base + i64::from(monthly_usd > self.extra_approval_over_monthly_usd)
    }
}

/// The digest of everything an estimate depends on; a change voids approvals at rollout time.
pub fn catalog_digest(catalog: &Catalog) -> String {
    let mut h = Sha256::new();
    let s = &catalog.sources;
    for (name, text) in s.templates.iter().chain(&s.tiers).chain([&s.prices, &s.usage]) {
        h.update(name.as_bytes());
        h.update((text.len() as u64).to_be_bytes());
        h.update(text.as_bytes());
    }
    hex::encode(h.finalize())
}

/// The body of `POST /api/requests`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    pub environment: String,
    pub tier: String,
    pub region: String,
    pub role_arn: String,
    pub justification: String,
    #[serde(default)]
    pub options: Option<Vec<String>>,
    #[serde(default)]
    pub usage: Option<BTreeMap<String, f64>>,
}

/// A request to delete an environment's stacks (`POST /api/teardowns`); approved like a deployment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTeardown {
    pub environment: String,
    pub region: String,
    pub role_arn: String,
    pub justification: String,
}

/// A request about to be stored, deployment or teardown.
struct Pending {
    kind: &'static str,
    target: Target,
    tier: TierId,
    /// JSON texts, as stored.
    options: String,
    usage: String,
    monthly_cents: i64,
    estimate: String,
    required: i64,
}

/// Where a request points and why, parsed from what the requester typed.
struct Target {
    environment: EnvironmentName,
    region: Region,
    role_arn: RoleArn,
    justification: String,
}

impl Target {
    fn parse(environment: &str, region: &str, role_arn: &str, justification: &str) -> Result<Target, ServerError> {
        let environment =
            EnvironmentName::parse(environment.trim()).map_err(|e| invalid("environment", e.to_string()))?;
        let region =
            Region::parse(region.trim()).map_err(|_| invalid("region", format!("unknown region `{region}`")))?;
        let role_arn = RoleArn::parse(role_arn.trim()).map_err(|e| invalid("role_arn", e.to_string()))?;
        let justification = justification.trim().to_owned();
        if justification.chars().count() < 10 || justification.chars().count() > 2000 {
            return Err(invalid("justification", "say why in 10 to 2,000 characters"));
        }
        Ok(Target { environment, region, role_arn, justification })
    }
}

fn unknown_request(id: i64) -> ServerError {
    ServerError::NotFound { code: "unknown_request", message: format!("no request {id}") }
}

fn invalid(field: &str, message: impl Into<String>) -> ServerError {
    ServerError::Invalid { code: "invalid_field", message: message.into(), field: Some(field.to_owned()) }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ApprovalRecord {
    pub approver: String,
    pub decision: String,
    pub comment: String,
    pub at: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RequestRecord {
    pub id: i64,
    /// `deploy` or `teardown`.
    pub kind: String,
    pub environment: String,
    pub tier: String,
    pub region: String,
    pub account_id: String,
    pub role_arn: String,
    pub justification: String,
    pub options: serde_json::Value,
    pub usage: serde_json::Value,
    pub monthly_usd: f64,
    pub catalog_digest: String,
    pub required_approvals: i64,
    pub requester: String,
    pub status: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub decided_at: Option<i64>,
    pub approvals: Vec<ApprovalRecord>,
    pub rollout_id: Option<i64>,
    /// queued, running, succeeded, failed, cancelled
    pub rollout_status: Option<String>,
    /// For an update of a running environment: the changes CloudFormation will make.
    pub preview: Option<app::model::PreviewView>,
}

pub struct Requests<'a> {
    pub db: &'a Database,
    pub catalog: &'a Catalog,
    pub digest: &'a str,
    pub policy: &'a ApprovalPolicy,
    /// Whether notifications are queued (a webhook is configured).
    pub notify: bool,
    pub rollout_wake: &'a tokio::sync::Notify,
}

impl Requests<'_> {
    pub async fn create(&self, user: &User, input: NewRequest) -> Result<RequestRecord, ServerError> {
        user.require(&[Role::Requester], "request a deployment")?;
        let tier: TierId = input.tier.parse().map_err(|e: infra::InfraError| invalid("tier", e.to_string()))?;
        let Target { environment, region, role_arn, justification } =
            Target::parse(&input.environment, &input.region, &input.role_arn, &input.justification)?;
        // Their errors become 422s naming `options` or `usage.<key>` (see ServerError's From).
        let options = self.catalog.options(tier, input.options.as_deref())?;
        let usage = self.catalog.usage(input.usage.iter().flatten().map(|(k, v)| (k.as_str(), *v)))?;
        let spec = DeploymentSpec {
            tier,
            environment: environment.clone(),
            region,
            options: options.clone(),
            domain_name: None,
        };
        let report = self.catalog.report(&spec, &usage, true)?;
        let monthly = report.estimate.monthly_usd;
        let required = self.policy.required(tier, monthly);
        let estimate = serde_json::to_string(&report.estimate).map_err(|e| ServerError::Startup(e.to_string()))?;
        let options_json = serde_json::to_string(&options).map_err(|e| ServerError::Startup(e.to_string()))?;
        let usage_json = serde_json::to_string(&usage).map_err(|e| ServerError::Startup(e.to_string()))?;

        let text = format!(
            "{} requests {} for `{}` in {} (${monthly:.2}/month): needs {required} approval(s).",
            user.name,
            tier.as_str(),
            environment.as_str(),
            region.as_str(),
        );
        let details = serde_json::json!({
            "environment": environment.as_str(), "tier": tier.as_str(), "region": region.as_str(),
            "monthly_usd": monthly, "required_approvals": required,
        });
        let pending = Pending {
            kind: "deploy",
            target: Target { environment, region, role_arn, justification },
            tier,
            options: options_json,
            usage: usage_json,
            monthly_cents: (monthly * 100.0).round() as i64,
            estimate,
            required,
        };
        self.insert_pending(user, pending, details, &text).await
    }

    /// Requests the teardown of an environment the portal deployed: the tier and options of its last
    /// successful deployment decide the approval policy; the monthly cost afterwards is zero.
    pub async fn create_teardown(&self, user: &User, input: NewTeardown) -> Result<RequestRecord, ServerError> {
        user.require(&[Role::Requester], "request a teardown")?;
        let Target { environment, region, role_arn, justification } =
            Target::parse(&input.environment, &input.region, &input.role_arn, &input.justification)?;
        let deployed = sqlx::query(
            "SELECT r.tier, r.options, r.usage FROM rollouts o JOIN deployment_requests r ON r.id = o.request_id \
             WHERE o.account_id = $1 AND o.region = $2 AND o.environment = $3 AND o.status = 'succeeded' \
             ORDER BY o.id DESC LIMIT 1",
        )
        .bind(role_arn.account_id())
        .bind(region.as_str())
        .bind(environment.as_str())
        .fetch_optional(&self.db.pool)
        .await
        .map_err(db_error)?
        .ok_or_else(|| {
            invalid(
                "environment",
                format!(
                    "the portal has not deployed `{environment}` in {} / {}: nothing to tear down",
                    role_arn.account_id(),
                    region.as_str()
                ),
            )
        })?;
        let tier: TierId = get::<String>(&deployed, "tier")?.parse()?;
        let required = self.policy.required(tier, 0.0);
        let text = format!(
            "{} requests the teardown of `{}` in {}: needs {required} approval(s).",
            user.name,
            environment.as_str(),
            region.as_str()
        );
        let details = serde_json::json!({
            "kind": "teardown", "environment": environment.as_str(), "region": region.as_str(), "required_approvals": required,
        });
        let pending = Pending {
            kind: "teardown",
            target: Target { environment, region, role_arn, justification },
            tier,
            options: get(&deployed, "options")?,
            usage: get(&deployed, "usage")?,
            monthly_cents: 0,
            estimate: "{}".into(),
            required,
        };
        self.insert_pending(user, pending, details, &text).await
    }

    /// Stores a new pending request with its audit entry (and notification), in one transaction;
    /// refused while the environment has another pending request.
    async fn insert_pending(
        &self,
        user: &User,
        pending: Pending,
        details: serde_json::Value,
        announcement: &str,
    ) -> Result<RequestRecord, ServerError> {
        let Pending { kind, target, tier, options, usage, monthly_cents, estimate, required } = pending;
        let (environment, region, account) =
            (target.environment.as_str(), target.region.as_str(), target.role_arn.account_id());
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        let clash = sqlx::query(
            "SELECT id FROM deployment_requests WHERE account_id = $1 AND region = $2 AND environment = $3 AND status = 'pending'",
        )
        .bind(account)
        .bind(region)
        .bind(environment)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        if let Some(row) = clash {
            return Err(ServerError::Conflict(format!(
                "request {} for environment `{environment}` in {account} / {region} is still pending",
                get::<i64>(&row, "id")?,
            )));
        }
        let row = sqlx::query(
            "INSERT INTO deployment_requests (environment, tier, region, account_id, role_arn, justification, options, usage, \
             monthly_cents, estimate, catalog_digest, required_approvals, requester_id, status, created_at, expires_at, kind) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'pending', $14, $15, $16) RETURNING id",
        )
        .bind(environment)
        .bind(tier.as_str())
        .bind(region)
        .bind(account)
        .bind(target.role_arn.as_str())
        .bind(&target.justification)
        .bind(&options)
        .bind(&usage)
        .bind(monthly_cents)
        .bind(&estimate)
        .bind(self.digest)
        .bind(required)
        .bind(user.id)
        .bind(now)
        .bind(now + self.policy.expires_after_hours * 3_600_000)
        .bind(kind)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
        let id: i64 = get(&row, "id")?;
        let subject = format!("request:{id}");
        audit::append(self.db, &mut tx, &user.name, "request.created", &subject, details).await?;
        if self.notify {
            let text = format!("{announcement} Request {id}.");
            crate::notify::enqueue(
                &mut tx,
                "request.needs_approval",
                &subject,
                &text,
                serde_json::json!({ "request_id": id }),
            )
            .await?;
        }
        tx.commit().await.map_err(db_error)?;
        self.get(id).await
    }

    pub async fn get(&self, id: i64) -> Result<RequestRecord, ServerError> {
        let row = sqlx::query(
            "SELECT r.*, u.name AS requester FROM deployment_requests r JOIN users u ON u.id = r.requester_id WHERE r.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.db.pool)
        .await
        .map_err(db_error)?
        .ok_or_else(|| unknown_request(id))?;
        let approvals = sqlx::query(
            "SELECT u.name AS approver, a.decision, a.comment, a.created_at FROM approvals a JOIN users u ON u.id = a.approver_id \
             WHERE a.request_id = $1 ORDER BY a.id",
        )
        .bind(id)
        .fetch_all(&self.db.pool)
        .await
        .map_err(db_error)?
        .iter()
        .map(|a| {
            Ok(ApprovalRecord {
                approver: get(a, "approver")?,
                decision: get(a, "decision")?,
                comment: get(a, "comment")?,
                at: get(a, "created_at")?,
            })
        })
        .collect::<Result<Vec<_>, ServerError>>()?;
        let rollout = sqlx::query("SELECT id, status FROM rollouts WHERE request_id = $1")
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await
            .map_err(db_error)?;
        let rollout_id = rollout.as_ref().map(|r| get::<i64>(r, "id")).transpose()?;
        let rollout_status = rollout.as_ref().map(|r| get::<String>(r, "status")).transpose()?;
        let json = |column: &str| -> Result<serde_json::Value, ServerError> {
            let text: String = get(&row, column)?;
            Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
        };
        Ok(RequestRecord {
            id,
            kind: get(&row, "kind")?,
            environment: get(&row, "environment")?,
            tier: get(&row, "tier")?,
            region: get(&row, "region")?,
            account_id: get(&row, "account_id")?,
            role_arn: get(&row, "role_arn")?,
            justification: get(&row, "justification")?,
            options: json("options")?,
            usage: json("usage")?,
            monthly_usd: get::<i64>(&row, "monthly_cents")? as f64 / 100.0,
            catalog_digest: get(&row, "catalog_digest")?,
            required_approvals: get(&row, "required_approvals")?,
            requester: get(&row, "requester")?,
            status: get(&row, "status")?,
            created_at: get(&row, "created_at")?,
            expires_at: get(&row, "expires_at")?,
            decided_at: get(&row, "decided_at")?,
            approvals,
            rollout_id,
            rollout_status,
            preview: crate::preview::load(self.db, id).await?,
        })
    }

    /// Records an approval or a rejection. Idempotent per approver: a repeated
    /// call changes nothing. Concurrent calls are serialised on the request row.
    pub async fn decide(
        &self,
        user: &User,
        id: i64,
        approve: bool,
        comment: &str,
    ) -> Result<RequestRecord, ServerError> {
        user.require(&[Role::Approver], if approve { "approve a request" } else { "reject a request" })?;
        if comment.chars().count() > 2000 {
            return Err(invalid("comment", "a comment has at most 2,000 characters"));
        }
        let mut tx = self.db.begin_write().await?;
        // PostgreSQL locks the row; SQLite's BEGIN IMMEDIATE already holds the only write lock.
        let select = match self.db.dialect {
            Dialect::Postgres => {
                "SELECT status, requester_id, required_approvals, expires_at FROM deployment_requests WHERE id = $1 FOR UPDATE"
            }
            Dialect::Sqlite => "SELECT status, requester_id, required_approvals, expires_at FROM deployment_requests WHERE id = $1",
        };
        let row = sqlx::query(select)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?
            .ok_or_else(|| unknown_request(id))?;
        let status: String = get(&row, "status")?;
        let requester: i64 = get(&row, "requester_id")?;
        let required: i64 = get(&row, "required_approvals")?;
        let expires_at: i64 = get(&row, "expires_at")?;
        let decision = if approve { "approve" } else { "reject" };

        let mine = sqlx::query("SELECT decision FROM approvals WHERE request_id = $1 AND approver_id = $2")
            .bind(id)
            .bind(user.id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
        if let Some(previous) = mine {
            let previous: String = get(&previous, "decision")?;
            drop(tx);
            if previous == decision {
                return self.get(id).await;
            }
            return Err(ServerError::Conflict(format!("{} already chose to {previous} request {id}", user.name)));
        }
        if requester == user.id {
            return Err(ServerError::Forbidden("nobody approves or rejects their own request".into()));
        }
        if status == "pending" && now_ms() > expires_at {
            sqlx::query("UPDATE deployment_requests SET status = 'expired', decided_at = $1 WHERE id = $2")
                .bind(now_ms())
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            audit::append(
                self.db,
                &mut tx,
                "portal",
                "request.expired",
                &format!("request:{id}"),
                serde_json::json!({}),
            )
            .await?;
            tx.commit().await.map_err(db_error)?;
            return Err(ServerError::Conflict(format!("request {id} expired before it was decided")));
        }
        if status != "pending" {
            return Err(ServerError::Conflict(format!("request {id} is already {status}")));
        }

        let now = now_ms();
        sqlx::query("INSERT INTO approvals (request_id, approver_id, decision, comment, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(user.id)
            .bind(decision)
            .bind(comment)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let subject = format!("request:{id}");
        audit::append(
            self.db,
            &mut tx,
            &user.name,
            if approve { "request.approval" } else { "request.rejected" },
            &subject,
            serde_json::json!({ "comment": comment }),
        )
        .await?;
        if approve {
            let count: i64 = get(
                &sqlx::query("SELECT COUNT(*) AS n FROM approvals WHERE request_id = $1 AND decision = 'approve'")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_error)?,
                "n",
            )?;
            if count >= required {
                sqlx::query("UPDATE deployment_requests SET status = 'approved', decided_at = $1 WHERE id = $2 AND status = 'pending'")
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                sqlx::query(
                    "INSERT INTO rollouts (request_id, status, created_at, kind, environment, account_id, region) \
                     SELECT id, 'queued', $1, kind, environment, account_id, region FROM deployment_requests WHERE id = $2 \
                     ON CONFLICT (request_id) DO NOTHING",
                )
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                audit::append(
                    self.db,
                    &mut tx,
                    "portal",
                    "request.approved",
                    &subject,
                    serde_json::json!({ "approvals": count }),
                )
                .await?;
            }
        } else {
            sqlx::query("UPDATE deployment_requests SET status = 'rejected', decided_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)?;
        self.rollout_wake.notify_one();
        self.get(id).await
    }
}

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
pub use app::model::RequestRow as HistoryRow;

pub const STATUSES: [&str; 4] = ["pending", "approved", "rejected", "expired"];

impl Requests<'_> {
    pub async fn history(
        &self,
        user: &User,
        filter: &HistoryFilter,
    ) -> Result<(Vec<HistoryRow>, Option<i64>), ServerError> {
        user.require(&[Role::Requester, Role::Approver, Role::Admin, Role::Viewer], "see the history")?;
        if let Some(status) = &filter.status {
            if !STATUSES.contains(&status.as_str()) {
                return Err(invalid("status", format!("unknown status `{status}`: expected {}", STATUSES.join(", "))));
            }
        }
        if let Some(tier) = &filter.tier {
            tier.parse::<TierId>().map_err(|e| invalid("tier", e.to_string()))?;
        }
        let limit = filter.limit.unwrap_or(50).clamp(1, 500);
        // One static statement: each filter is `($n IS NULL OR column = $n)`.
        let rows = sqlx::query(
            "SELECT r.id, r.kind, r.environment, r.tier, r.region, r.status, r.monthly_cents, r.required_approvals, r.created_at, \
             u.name AS requester, \
             (SELECT COUNT(*) FROM approvals a WHERE a.request_id = r.id AND a.decision = 'approve') AS approvals \
             FROM deployment_requests r JOIN users u ON u.id = r.requester_id \
             WHERE r.id < $1 \
             AND ($2 IS NULL OR r.environment = $2) AND ($3 IS NULL OR r.tier = $3) \
             AND ($4 IS NULL OR r.status = $4) AND ($5 IS NULL OR u.name = $5) \
             AND ($6 IS NULL OR (r.status = 'pending' AND r.requester_id <> $6 \
                  AND NOT EXISTS (SELECT 1 FROM approvals m WHERE m.request_id = r.id AND m.approver_id = $6))) \
             ORDER BY r.id DESC LIMIT $7",
        )
        .bind(filter.before.unwrap_or(i64::MAX))
        .bind(filter.environment.as_deref())
        .bind(filter.tier.as_deref())
        .bind(filter.status.as_deref())
        .bind(filter.requester.as_deref())
        .bind(filter.awaiting)
        .bind(limit)
        .fetch_all(&self.db.pool)
        .await
        .map_err(db_error)?;
        let rows = rows
            .iter()
            .map(|row| {
                Ok(HistoryRow {
                    id: get(row, "id")?,
                    kind: get(row, "kind")?,
                    environment: get(row, "environment")?,
                    tier: get(row, "tier")?,
                    region: get(row, "region")?,
                    status: get(row, "status")?,
                    requester: get(row, "requester")?,
                    monthly_usd: get::<i64>(row, "monthly_cents")? as f64 / 100.0,
                    approvals: get(row, "approvals")?,
                    required_approvals: get(row, "required_approvals")?,
                    created_at: get(row, "created_at")?,
                })
            })
            .collect::<Result<Vec<_>, ServerError>>()?;
        let next = (rows.len() as i64 == limit).then(|| rows.last().map(|r| r.id)).flatten();
        Ok((rows, next))
    }

    /// The estimate stored with the request, as the requester saw it.
    pub async fn stored_estimate(&self, id: i64) -> Result<Option<infra::Estimate>, ServerError> {
        let row = sqlx::query("SELECT estimate FROM deployment_requests WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await
            .map_err(db_error)?;
        Ok(match row {
            Some(r) => serde_json::from_str(&get::<String>(&r, "estimate")?).ok(),
            None => None,
        })
    }
}

/// CSV of history rows (RFC 4180 quoting).
pub fn history_csv(rows: &[HistoryRow]) -> String {
    fn cell(s: &str) -> String {
        if s.contains([',', '"', '\n', '\r']) || s.starts_with(['=', '+', '-', '@']) {
            // Quoted, and a leading formula character neutralised for spreadsheets.
            let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_owned() };
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    }
    let mut out = String::from(
        "id,kind,environment,tier,region,status,requester,monthly_usd,approvals,required_approvals,created_at_ms\r\n",
    );
    for r in rows {
        let fields = [
            r.id.to_string(),
            cell(&r.kind),
            cell(&r.environment),
            cell(&r.tier),
            cell(&r.region),
            cell(&r.status),
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

impl Requests<'_> {
    /// Marks every pending request past its expiry as expired, each with its audit entry.
    pub async fn expire_due(&self) -> Result<u64, ServerError> {
        let due = sqlx::query("SELECT id FROM deployment_requests WHERE status = 'pending' AND expires_at < $1")
            .bind(now_ms())
            .fetch_all(&self.db.pool)
            .await
            .map_err(db_error)?;
        let mut expired = 0;
        for row in due {
            let id: i64 = get(&row, "id")?;
            let mut tx = self.db.begin_write().await?;
            let changed = sqlx::query(
                "UPDATE deployment_requests SET status = 'expired', decided_at = $1 WHERE id = $2 AND status = 'pending'",
            )
            .bind(now_ms())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?
            .rows_affected();
            if changed == 1 {
                audit::append(
                    self.db,
                    &mut tx,
                    "portal",
                    "request.expired",
                    &format!("request:{id}"),
                    serde_json::json!({}),
                )
                .await?;
                expired += 1;
            }
            tx.commit().await.map_err(db_error)?;
        }
        Ok(expired)
    }

    /// What the environment of a request costs now: its latest approved request before this one.
    pub async fn current_monthly_usd(&self, record: &RequestRecord) -> Result<Option<f64>, ServerError> {
        let row = sqlx::query(
            "SELECT monthly_cents FROM deployment_requests WHERE account_id = $1 AND region = $2 AND environment = $3 \
             AND status = 'approved' AND id < $4 ORDER BY id DESC LIMIT 1",
        )
        .bind(&record.account_id)
        .bind(&record.region)
        .bind(&record.environment)
        .bind(record.id)
        .fetch_optional(&self.db.pool)
        .await
        .map_err(db_error)?;
        row.map(|r| get::<i64>(&r, "monthly_cents").map(|c| c as f64 / 100.0)).transpose()
    }
}
