//! The registry: admins register and change environments (each change audited with the acting
//! admin); everyone signed in may list them without their ExternalId; the engine reads one with it.

use std::collections::BTreeSet;

use app::model::{AuditAction, Decision, RequestStatus, Role};
use infra::{AccountId, Catalog, DomainName, EnvironmentName, Region, RoleArn, TierId};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;

use crate::audit;
use crate::db::{get, get_json, get_parsed, get_parsed_opt, now_ms, Database, Transaction};
use crate::environments::access::admits;
use crate::environments::policy::{self, PolicyText};
use crate::environments::trust::{new_external_id, trust_policy};
use crate::environments::{Environment, EnvironmentPolicy, Principal};
use crate::error::ServerError;
use crate::people::users::{void_approval, VoidedApproval};
use crate::people::User;

/// At most this many principals per list: a list is a short roster, not a directory.
const MAX_PRINCIPALS: usize = 50;

/// The body of `POST /api/environments` (and what `portal environment add` builds).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEnvironment {
    pub name: String,
    pub account_id: String,
    pub region: String,
    pub role_arn: String,
    /// The environment's domain (`concerts.example.com`); none: no certificate, no HTTPS.
    #[serde(default)]
    pub domain_name: Option<String>,
    pub tiers: Vec<String>,
    #[serde(default)]
    pub requesters: Vec<String>,
    #[serde(default)]
    pub approvers: Vec<String>,
    /// The day-two policy; what it leaves out takes the defaults.
    #[serde(default)]
    pub lifecycle: Option<PolicyText>,
}

/// The body of `PUT /api/environments/{name}`: what to change; the rest stays. A new deploy role,
/// or `rotate_external_id`, gets a new ExternalId, shown in the answer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentChange {
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub role_arn: Option<String>,
    /// A new domain; `""` removes it.
    pub domain_name: Option<String>,
    pub tiers: Option<Vec<String>>,
    pub requesters: Option<Vec<String>>,
    pub approvers: Option<Vec<String>>,
    /// Changes to the day-two policy; what it leaves out stays.
    pub lifecycle: Option<PolicyText>,
    #[serde(default)]
    pub rotate_external_id: bool,
}

/// A registration's answer: the environment, and, when one was made, its new ExternalId with the
/// trust policy the deploy role needs. Shown this once; never listed again.
#[derive(Debug, Clone, Serialize)]
pub struct Registered {
    pub environment: Environment,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_policy: Option<serde_json::Value>,
}

/// What the engine needs to assume an environment's role.
#[derive(Debug, Clone)]
pub struct DeployTarget {
    pub environment: Environment,
    pub external_id: String,
}

/// The registry of one portal. The catalog tells which tiers have instances a schedule can stop.
pub struct Environments<'a> {
    pub db: &'a Database,
    pub catalog: &'a Catalog,
}

/// The registered fields, parsed; the account of the role is the environment's.
struct Registration {
    account_id: AccountId,
    region: Region,
    role_arn: RoleArn,
    domain_name: Option<DomainName>,
    tiers: BTreeSet<TierId>,
    requesters: Vec<Principal>,
    approvers: Vec<Principal>,
    lifecycle: EnvironmentPolicy,
}

impl Registration {
    /// The registered fields of a registration's texts (its name is checked apart); its policy is
    /// `base` with the registration's changes.
    fn parse(input: &NewEnvironment, base: &EnvironmentPolicy) -> Result<Registration, ServerError> {
        let NewEnvironment {
            account_id, region, role_arn, domain_name, tiers, requesters, approvers, lifecycle, ..
        } = input;
        let account_id = AccountId::parse(account_id.trim())
            .map_err(|_| ServerError::invalid("account_id", "an AWS account id is 12 digits"))?;
        let region = Region::parse(region.trim()).map_err(|e| ServerError::invalid("region", e.to_string()))?;
        let role_arn = RoleArn::parse(role_arn.trim()).map_err(|e| ServerError::invalid("role_arn", e.to_string()))?;
        if role_arn.account_id() != account_id.as_str() {
            return Err(ServerError::invalid(
                "role_arn",
                format!(
                    "the deploy role is in account {}, not in the environment's account {account_id}",
                    role_arn.account_id()
                ),
            ));
        }
        let domain_name = match domain_name.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(d) => Some(DomainName::parse(d).map_err(|e| ServerError::invalid("domain_name", e.to_string()))?),
        };
        let tiers = tiers
            .iter()
            .map(|t| t.trim().parse::<TierId>().map_err(|e| ServerError::invalid("tiers", e.to_string())))
            .collect::<Result<BTreeSet<_>, _>>()?;
        if tiers.is_empty() {
            return Err(ServerError::invalid("tiers", "allow at least one tier"));
        }
        Ok(Registration {
            account_id,
            region,
            role_arn,
            domain_name,
            tiers,
            requesters: principals("requesters", requesters)?,
            approvers: principals("approvers", approvers)?,
            lifecycle: base.changed(lifecycle.as_ref())?,
        })
    }

    fn into_environment(
        self,
        name: EnvironmentName,
        created_by: String,
        created_at: i64,
        updated_at: i64,
    ) -> Environment {
        let Registration { account_id, region, role_arn, domain_name, tiers, requesters, approvers, lifecycle } = self;
        Environment {
            name,
            account_id,
            region,
            role_arn,
            domain_name,
            tiers,
            requesters,
            approvers,
            lifecycle,
            created_by,
            created_at,
            updated_at,
        }
    }
}

/// The registered fields as stored, in the order both the INSERT and the UPDATE bind them:
/// account_id, region, role_arn, tiers, requesters, approvers, domain_name (NULL when none), lifecycle.
fn stored(environment: &Environment) -> Result<[Option<String>; 8], ServerError> {
    Ok([
        Some(environment.account_id.to_string()),
        Some(environment.region.as_str().to_owned()),
        Some(environment.role_arn.as_str().to_owned()),
        Some(serde_json::to_string(&environment.tiers)?),
        Some(serde_json::to_string(&environment.requesters)?),
        Some(serde_json::to_string(&environment.approvers)?),
        environment.domain_name.as_ref().map(|d| d.as_str().to_owned()),
        Some(serde_json::to_string(&environment.lifecycle.text())?),
    ])
}

fn principals(field: &str, texts: &[String]) -> Result<Vec<Principal>, ServerError> {
    if texts.len() > MAX_PRINCIPALS {
        return Err(ServerError::invalid(field, format!("at most {MAX_PRINCIPALS} entries")));
    }
    let set = texts
        .iter()
        .map(|t| t.trim().parse::<Principal>().map_err(|e| ServerError::invalid(field, e.to_string())))
        .collect::<Result<BTreeSet<_>, _>>()?;
    Ok(set.into_iter().collect())
}

fn environment_name(name: &str) -> Result<EnvironmentName, ServerError> {
    EnvironmentName::parse(name.trim()).map_err(|e| ServerError::invalid("name", e.to_string()))
}

fn unknown(name: &str) -> ServerError {
    ServerError::NotFound { code: "unknown_environment", message: format!("no registered environment `{name}`") }
}

const COLUMNS: &str = "name, account_id, region, role_arn, domain_name, external_id, tiers, requesters, approvers, \
                       lifecycle, created_by, created_at, updated_at";

fn read(row: &AnyRow) -> Result<Environment, ServerError> {
    Ok(Environment {
        name: get_parsed(row, "name")?,
        account_id: get_parsed(row, "account_id")?,
        region: get_parsed(row, "region")?,
        role_arn: get_parsed(row, "role_arn")?,
        domain_name: get_parsed_opt(row, "domain_name")?,
        tiers: get_json(row, "tiers")?,
        requesters: get_json(row, "requesters")?,
        approvers: get_json(row, "approvers")?,
        lifecycle: EnvironmentPolicy::from_stored(&get::<String>(row, "lifecycle")?)?,
        created_by: get(row, "created_by")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

impl Environments<'_> {
    /// Every registered environment, by name.
    pub async fn list(&self) -> Result<Vec<Environment>, ServerError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM environments ORDER BY name")))
            .fetch_all(&self.db.pool)
            .await?;
        rows.iter().map(read).collect()
    }

    /// The registered environment of that name, if any.
    pub async fn find(&self, name: &str) -> Result<Option<Environment>, ServerError> {
        Ok(self.target(name).await?.map(|t| t.environment))
    }

    /// The environment with its ExternalId, for the engine only.
    pub async fn target(&self, name: &str) -> Result<Option<DeployTarget>, ServerError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM environments WHERE name = $1")))
            .bind(name)
            .fetch_optional(&self.db.pool)
            .await?;
        row.map(|row| Ok(DeployTarget { environment: read(&row)?, external_id: get(&row, "external_id")? })).transpose()
    }

    /// Registers an environment (admins only, audited): its new ExternalId and the trust policy
    /// naming `principal` (the portal's own, when it knows it) are in the answer, and nowhere else
    /// afterwards.
    pub async fn register(
        &self,
        actor: &User,
        input: NewEnvironment,
        principal: Option<&str>,
    ) -> Result<Registered, ServerError> {
        actor.require(&[Role::Admin], "register environments")?;
        let name = environment_name(&input.name)?;
        let fields = Registration::parse(&input, &EnvironmentPolicy::default())?;
        let now = now_ms();
        let environment = fields.into_environment(name, actor.name.clone(), now, now);
        policy::check_against(self.catalog, &environment, now)?;
        let external_id = new_external_id();
        let mut tx = self.db.begin_write().await?;
        let exists = sqlx::query("SELECT 1 AS one FROM environments WHERE name = $1")
            .bind(environment.name.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_some() {
            return Err(ServerError::Conflict(format!(
                "environment `{}` is already registered; change it with PUT",
                environment.name
            )));
        }
        let mut insert = sqlx::query(
            "INSERT INTO environments (account_id, region, role_arn, tiers, requesters, approvers, domain_name, \
             lifecycle, external_id, name, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
        );
        for value in stored(&environment)? {
            insert = insert.bind(value);
        }
        insert.bind(&external_id).bind(environment.name.as_str()).bind(&actor.name).bind(now).execute(&mut *tx).await?;
        let subject = format!("environment:{}", environment.name);
        let details = described(&environment);
        audit::append(self.db, &mut tx, &actor.name, AuditAction::EnvironmentRegistered, &subject, details).await?;
        tx.commit().await?;
        let policy = trust_policy(&environment.role_arn, principal, &external_id);
        Ok(Registered { environment, external_id: Some(external_id), trust_policy: Some(policy) })
    }

    /// Changes a registered environment (admins only, audited). A new deploy role or
    /// `rotate_external_id` makes a new ExternalId; approvers the new lists leave out lose their
    /// approvals of the environment's pending requests.
    pub async fn change(
        &self,
        actor: &User,
        name: &str,
        change: EnvironmentChange,
        principal: Option<&str>,
    ) -> Result<Registered, ServerError> {
        actor.require(&[Role::Admin], "change environments")?;
        let name = environment_name(name)?;
        let mut tx = self.db.begin_write().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM environments WHERE name = $1")))
            .bind(name.as_str())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| unknown(name.as_str()))?;
        let before = read(&row)?;
        let texts = |list: &[Principal]| list.iter().map(ToString::to_string).collect::<Vec<_>>();
        // What the change leaves out stays as registered.
        let merged = NewEnvironment {
            name: name.to_string(),
            account_id: change.account_id.unwrap_or_else(|| before.account_id.to_string()),
            region: change.region.unwrap_or_else(|| before.region.as_str().to_owned()),
            role_arn: change.role_arn.unwrap_or_else(|| before.role_arn.as_str().to_owned()),
            domain_name: change.domain_name.or_else(|| before.domain_name.as_ref().map(ToString::to_string)),
            tiers: change.tiers.unwrap_or_else(|| before.tiers.iter().map(|t| t.as_str().to_owned()).collect()),
            requesters: change.requesters.unwrap_or_else(|| texts(&before.requesters)),
            approvers: change.approvers.unwrap_or_else(|| texts(&before.approvers)),
            lifecycle: change.lifecycle,
        };
        let fields = Registration::parse(&merged, &before.lifecycle)?;
        let rotate = change.rotate_external_id || fields.role_arn != before.role_arn;
        let external_id = if rotate { new_external_id() } else { get(&row, "external_id")? };
        let now = now_ms();
        let environment = fields.into_environment(name.clone(), before.created_by, before.created_at, now);
        policy::check_against(self.catalog, &environment, now)?;
        let mut update = sqlx::query(
            "UPDATE environments SET account_id = $1, region = $2, role_arn = $3, tiers = $4, requesters = $5, \
             approvers = $6, domain_name = $7, lifecycle = $8, external_id = $9, updated_at = $10 WHERE name = $11",
        );
        for value in stored(&environment)? {
            update = update.bind(value);
        }
        update.bind(&external_id).bind(now).bind(name.as_str()).execute(&mut *tx).await?;
        let subject = format!("environment:{name}");
        let mut details = described(&environment);
        details["external_id_rotated"] = rotate.into();
        audit::append(self.db, &mut tx, &actor.name, AuditAction::EnvironmentChanged, &subject, details).await?;
        self.void_unlisted_approvals(&mut tx, actor, &environment).await?;
        tx.commit().await?;
        let policy = rotate.then(|| trust_policy(&environment.role_arn, principal, &external_id));
        Ok(Registered { environment, external_id: rotate.then_some(external_id), trust_policy: policy })
    }

    /// Voids the approvals of the environment's pending requests given by approvers its lists no
    /// longer admit, each audited on its request: an approval counts only while its approver may
    /// approve there.
    async fn void_unlisted_approvals(
        &self,
        tx: &mut Transaction,
        actor: &User,
        environment: &Environment,
    ) -> Result<(), ServerError> {
        if environment.approvers.is_empty() {
            return Ok(());
        }
        let rows = sqlx::query(
            "SELECT a.id, a.request_id, u.name, u.sso_groups FROM approvals a \
             JOIN deployment_requests r ON r.id = a.request_id JOIN users u ON u.id = a.approver_id \
             WHERE r.environment = $1 AND r.status = $2 AND a.decision = $3 AND a.voided_at IS NULL",
        )
        .bind(environment.name.as_str())
        .bind(RequestStatus::Pending.as_str())
        .bind(Decision::Approve.as_str())
        .fetch_all(&mut **tx)
        .await?;
        for row in rows {
            let approver: String = get(&row, "name")?;
            let groups: BTreeSet<String> = get_json(&row, "sso_groups")?;
            if admits(&environment.approvers, &approver, &groups) {
                continue;
            }
            let (id, request): (i64, i64) = (get(&row, "id")?, get(&row, "request_id")?);
            let reason = format!("the approver is no longer an approver for environment `{}`", environment.name);
            let voided = VoidedApproval { id, request, approver: &approver, reason: &reason };
            void_approval(self.db, tx, actor, voided).await?;
        }
        Ok(())
    }
}

/// An environment's audited fields (never its ExternalId).
fn described(environment: &Environment) -> serde_json::Value {
    serde_json::json!({
        "account_id": environment.account_id,
        "region": environment.region,
        "role_arn": environment.role_arn,
        "domain_name": environment.domain_name,
        "tiers": environment.tiers,
        "requesters": environment.requesters,
        "approvers": environment.approvers,
        "lifecycle": environment.lifecycle.text(),
    })
}
