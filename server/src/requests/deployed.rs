//! What runs in an environment: its last deployment (a deploy, an upgrade or a repair) whose
//! rollout succeeded, unless a teardown succeeded after it. Teardowns, upgrades, repairs,
//! extensions and a schedule's sleep and wake all start from it.

use std::collections::{BTreeMap, HashMap};

use app::model::{RequestKind, RolloutStatus};
use infra::{DomainName, TierId};

use crate::db::{get, get_json, get_parsed, get_parsed_opt, Database};
use crate::environments::{Environment, EnvironmentKey};
use crate::error::ServerError;

/// The deployment an environment runs, as its request stored it.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployed {
    pub request_id: i64,
    pub rollout_id: i64,
    pub kind: RequestKind,
    pub tier: TierId,
    /// Option names, as stored.
    pub options: Vec<String>,
    pub usage: BTreeMap<String, f64>,
    pub monthly_cents: i64,
    /// The catalog it was approved on.
    pub catalog_digest: String,
    pub domain_name: Option<DomainName>,
    /// When its rollout ended.
    pub finished_at: i64,
    /// When the environment came up: the first deployment to succeed after the last teardown.
    pub running_since: i64,
}

impl Deployed {
    /// What runs, as the catalog evaluates it in `environment` (its name, region and the domain
    /// the deployment was made with).
    pub fn spec(
        &self,
        catalog: &infra::Catalog,
        environment: &Environment,
    ) -> Result<infra::DeploymentSpec, ServerError> {
        let target = crate::rollout::spec::StoredTarget {
            tier: self.tier,
            options: &self.options,
            environment: &environment.name,
            region: environment.region,
            domain_name: self.domain_name.as_ref(),
        };
        Ok(crate::rollout::spec::stored_spec(catalog, target)?)
    }
}

/// The columns and conditions both lookups share: `o` is a rollout of a deployment that succeeded
/// with no teardown succeeding after it; its usage is what was set from the bill, if anything was,
/// else its request's; `running_since` the first deployment to succeed after
/// the last teardown. Binds: $1 succeeded, $2-$4 the deploying kinds, $5 teardown.
const DEPLOYED: &str = "SELECT o.account_id, o.region, o.environment, r.id, r.kind, r.tier, r.options, \
     COALESCE((SELECT u.usage FROM environment_usage u WHERE u.environment = o.environment AND u.request_id = r.id), \
         r.usage) AS usage, \
     r.monthly_cents, r.catalog_digest, r.domain_name, o.id AS rollout_id, o.finished_at, \
     (SELECT MIN(f.finished_at) FROM rollouts f WHERE f.account_id = o.account_id AND f.region = o.region \
         AND f.environment = o.environment AND f.status = $1 AND f.kind IN ($2, $3, $4) \
         AND f.id > COALESCE((SELECT MAX(t.id) FROM rollouts t WHERE t.account_id = o.account_id \
             AND t.region = o.region AND t.environment = o.environment AND t.status = $1 AND t.kind = $5), 0)) \
     AS running_since \
     FROM rollouts o JOIN deployment_requests r ON r.id = o.request_id \
     WHERE o.status = $1 AND o.kind IN ($2, $3, $4) \
     AND NOT EXISTS (SELECT 1 FROM rollouts t WHERE t.account_id = o.account_id AND t.region = o.region \
         AND t.environment = o.environment AND t.status = $1 AND t.kind = $5 AND t.id > o.id)";

fn bind_kinds(query: &str) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments> {
    sqlx::query(sqlx::AssertSqlSafe(query.to_owned()))
        .bind(RolloutStatus::Succeeded.as_str())
        .bind(RequestKind::Deploy.as_str())
        .bind(RequestKind::Upgrade.as_str())
        .bind(RequestKind::Repair.as_str())
        .bind(RequestKind::Teardown.as_str())
}

/// The deployment `environment` runs, if it runs one.
pub async fn deployed(db: &Database, environment: &Environment) -> Result<Option<Deployed>, ServerError> {
    let query =
        format!("{DEPLOYED} AND o.account_id = $6 AND o.region = $7 AND o.environment = $8 ORDER BY o.id DESC LIMIT 1");
    let row = bind_kinds(&query)
        .bind(environment.account_id.as_str())
        .bind(environment.region.as_str())
        .bind(environment.name.as_str())
        .fetch_optional(&db.pool)
        .await?;
    row.as_ref().map(read).transpose()
}

/// What every registered environment runs, in one query (the environments page): one index
/// lookup per environment.
pub async fn deployed_all(db: &Database) -> Result<HashMap<EnvironmentKey, Deployed>, ServerError> {
    let query = format!(
        "{DEPLOYED} AND o.id IN (SELECT (SELECT MAX(m.id) FROM rollouts m WHERE m.account_id = e.account_id \
         AND m.region = e.region AND m.environment = e.name AND m.status = $1 AND m.kind IN ($2, $3, $4)) \
         FROM environments e)"
    );
    let rows = bind_kinds(&query).fetch_all(&db.pool).await?;
    rows.iter()
        .map(|row| Ok(((get(row, "account_id")?, get(row, "region")?, get(row, "environment")?), read(row)?)))
        .collect()
}

fn read(row: &sqlx::any::AnyRow) -> Result<Deployed, ServerError> {
    let finished_at: i64 = get::<Option<i64>>(row, "finished_at")?.unwrap_or_default();
    Ok(Deployed {
        request_id: get(row, "id")?,
        rollout_id: get(row, "rollout_id")?,
        kind: get_parsed(row, "kind")?,
        tier: get_parsed(row, "tier")?,
        options: get_json(row, "options")?,
        usage: super::stored_usage(row)?,
        monthly_cents: get(row, "monthly_cents")?,
        catalog_digest: get(row, "catalog_digest")?,
        domain_name: get_parsed_opt(row, "domain_name")?,
        finished_at,
        running_since: get::<Option<i64>>(row, "running_since")?.unwrap_or(finished_at),
    })
}
