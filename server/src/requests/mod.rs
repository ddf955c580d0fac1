//! Deployment requests and their approval: who asked for what, at what cost, and who signed off.
//! Every action is one transaction, audit entry included.
//!
//! - [`create`]: new deploy and teardown requests; [`decide`]: approvals and rejections;
//!   [`history`]: the filtered history, its CSV, expiry; [`preview`]: the changes an update will
//!   make; [`policy`]: the approval policy and the catalog digest approvals are bound to.

pub mod automatic;
pub mod create;
pub mod day_two;
pub mod decide;
pub mod deployed;
pub mod history;
pub mod policy;
pub mod preview;

use std::collections::BTreeMap;

use app::model::{Decision, PreviewView, RequestKind, RequestStatus, RolloutStatus};
use infra::{Catalog, DomainName, EnvironmentName, OptionSet, Region, RoleArn, TierId};
use serde::Serialize;
use tokio::sync::Notify;

pub use create::{NewRequest, NewTeardown};
pub use day_two::{NewCarryOver, NewExtension};
pub use history::HistoryFilter;
pub use policy::{catalog_digest, ApprovalPolicy};

use crate::clock::Clock;
use crate::db::{get, get_json, get_parsed, get_parsed_opt, Database};
use crate::error::ServerError;
use crate::notify::Notifier;

/// The requests of one portal: its database, the catalog and policy they are judged by.
pub struct Requests<'a> {
    pub db: &'a Database,
    pub catalog: &'a Catalog,
    pub digest: &'a str,
    /// What time it is: requests lapse, lifetimes start and change windows open by it.
    pub clock: &'a dyn Clock,
    pub policy: &'a ApprovalPolicy,
    pub notifier: Notifier,
    /// Wakes this process's rollout engine when an approval queues a rollout.
    pub rollout_wake: &'a Notify,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ApprovalRecord {
    pub approver: String,
    pub decision: Decision,
    pub comment: String,
    pub at: i64,
    /// No longer counts: its approver lost the approver role while the request was pending.
    pub void: bool,
}

/// A stored request, read back typed.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RequestRecord {
    pub id: i64,
    pub kind: RequestKind,
    pub environment: EnvironmentName,
    pub tier: TierId,
    pub region: Region,
    pub account_id: String,
    pub role_arn: RoleArn,
    pub justification: String,
    pub options: OptionSet,
    pub usage: BTreeMap<String, f64>,
    pub monthly_usd: f64,
    pub catalog_digest: String,
    pub required_approvals: i64,
    pub requester: String,
    pub status: RequestStatus,
    pub created_at: i64,
    pub expires_at: i64,
    pub decided_at: Option<i64>,
    pub approvals: Vec<ApprovalRecord>,
    pub rollout_id: Option<i64>,
    pub rollout_status: Option<RolloutStatus>,
    /// For an update of a running environment: the changes CloudFormation will make.
    pub preview: Option<PreviewView>,
    /// An adoption: the deployment may take over the environment's stacks no portal created.
    pub adopt: bool,
    /// The environment's domain when the request was made: what was reviewed is what deploys.
    pub domain_name: Option<DomainName>,
    /// The lifetime it asks for (a deployment), or how much longer (an extension), in minutes.
    pub lifetime_minutes: Option<i64>,
    /// A deployment with a lifetime: what it costs for that lifetime (the monthly estimate over
    /// 730 hours a month).
    pub lifetime_usd: Option<f64>,
    /// The catalog version it was made on.
    pub catalog_version: String,
}

impl RequestRecord {
    pub fn approvals_given(&self) -> i64 {
        self.approvals.iter().filter(|a| a.decision == Decision::Approve && !a.void).count() as i64
    }

    /// Option names as the catalog takes them.
    pub fn option_names(&self) -> Vec<String> {
        self.options.iter().map(|o| o.as_str().to_owned()).collect()
    }
}

/// What a deployment costs over its lifetime, by the price catalog's hours in a month.
pub fn lifetime_cost(
    prices: &infra::pricing::PriceCatalog,
    kind: RequestKind,
    monthly_cents: i64,
    minutes: Option<i64>,
) -> Option<f64> {
    let minutes = minutes.filter(|_| kind == RequestKind::Deploy)?;
    let usd = monthly_cents as f64 / 100.0 * (minutes as f64 / 60.0) / prices.hours_per_month;
    Some((usd * 100.0).round() / 100.0)
}

pub(crate) fn unknown_request(id: i64) -> ServerError {
    ServerError::NotFound { code: "unknown_request", message: format!("no request {id}") }
}

pub(crate) fn subject(id: i64) -> String {
    format!("request:{id}")
}

impl Requests<'_> {
    pub async fn get(&self, id: i64) -> Result<RequestRecord, ServerError> {
        let row = sqlx::query(
            "SELECT r.*, u.name AS requester FROM deployment_requests r JOIN users u ON u.id = r.requester_id \
             WHERE r.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.db.pool)
        .await?
        .ok_or_else(|| unknown_request(id))?;
        let approvals = self.approvals(id).await?;
        let rollout = sqlx::query("SELECT id, status FROM rollouts WHERE request_id = $1")
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?;
        Ok(RequestRecord {
            id,
            kind: get_parsed(&row, "kind")?,
            environment: get_parsed(&row, "environment")?,
            tier: get_parsed(&row, "tier")?,
            region: get_parsed(&row, "region")?,
            account_id: get(&row, "account_id")?,
            role_arn: get_parsed(&row, "role_arn")?,
            justification: get(&row, "justification")?,
            options: get_json(&row, "options")?,
            usage: stored_usage(&row)?,
            monthly_usd: get::<i64>(&row, "monthly_cents")? as f64 / 100.0,
            catalog_digest: get(&row, "catalog_digest")?,
            required_approvals: get(&row, "required_approvals")?,
            requester: get(&row, "requester")?,
            status: get_parsed(&row, "status")?,
            created_at: get(&row, "created_at")?,
            expires_at: get(&row, "expires_at")?,
            decided_at: get(&row, "decided_at")?,
            approvals,
            rollout_id: rollout.as_ref().map(|r| get::<i64>(r, "id")).transpose()?,
            rollout_status: rollout.as_ref().map(|r| get_parsed_opt(r, "status")).transpose()?.flatten(),
            preview: preview::load(self.db, id).await?,
            adopt: get::<i64>(&row, "adopt")? != 0,
            domain_name: get_parsed_opt(&row, "domain_name")?,
            lifetime_minutes: get(&row, "lifetime_minutes")?,
            lifetime_usd: lifetime_cost(
                &self.catalog.prices,
                get_parsed(&row, "kind")?,
                get::<i64>(&row, "monthly_cents")?,
                get(&row, "lifetime_minutes")?,
            ),
            catalog_version: get(&row, "catalog_version")?,
        })
    }

    async fn approvals(&self, id: i64) -> Result<Vec<ApprovalRecord>, ServerError> {
        sqlx::query(
            "SELECT u.name AS approver, a.decision, a.comment, a.created_at, a.voided_at FROM approvals a \
             JOIN users u ON u.id = a.approver_id WHERE a.request_id = $1 ORDER BY a.id",
        )
        .bind(id)
        .fetch_all(&self.db.pool)
        .await?
        .iter()
        .map(|a| {
            Ok(ApprovalRecord {
                approver: get(a, "approver")?,
                decision: get_parsed(a, "decision")?,
                comment: get(a, "comment")?,
                at: get(a, "created_at")?,
                void: get::<Option<i64>>(a, "voided_at")?.is_some(),
            })
        })
        .collect()
    }
}

/// A request's usage as stored, in today's keys: requests made under an earlier catalog version
/// may name keys since renamed (converted) or derived (dropped), see `infra::pricing`.
pub(crate) fn stored_usage(row: &sqlx::any::AnyRow) -> Result<BTreeMap<String, f64>, ServerError> {
    let stored: BTreeMap<String, f64> = get_json(row, "usage")?;
    Ok(infra::pricing::upgrade_stored_usage(stored.iter().map(|(k, v)| (k.as_str(), *v))).into_iter().collect())
}
