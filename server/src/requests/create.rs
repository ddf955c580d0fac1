//! New requests: a deployment (cost snapshot and catalog digest stored with it) or the teardown
//! of an environment the portal deployed. One function stores either, refusing a second pending
//! request for the same environment.

use std::collections::BTreeMap;

use app::model::{AuditAction, NotificationEvent, RequestKind, RequestStatus, Role, RolloutStatus};
use infra::{Catalog, DeploymentSpec, EnvironmentName, TierId};
use serde::Deserialize;

use crate::audit;
use crate::db::{get, get_parsed, Database};
use crate::environments::access::{self, Duty};
use crate::environments::{Environment, Environments};
use crate::error::ServerError;
use crate::people::User;
use crate::requests::{subject, RequestRecord, Requests};

/// The body of `POST /api/requests`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    /// A registered environment's name.
    pub environment: String,
    pub tier: String,
    /// Optional: when given, it must be the environment's.
    #[serde(default)]
    pub region: Option<String>,
    /// Optional: when given, it must be the environment's.
    #[serde(default)]
    pub role_arn: Option<String>,
    pub justification: String,
    #[serde(default)]
    pub options: Option<Vec<String>>,
    #[serde(default)]
    pub usage: Option<BTreeMap<String, f64>>,
    /// Take over the environment's stacks that no portal created (they carry no portal's tags):
    /// an explicit adoption, approved like any deployment.
    #[serde(default)]
    pub adopt: bool,
    /// How long the environment lives once approved (`1h`, `14d`), at most the tier's maximum in
    /// that environment; left out: the tier's default there (none: it does not expire).
    #[serde(default)]
    pub lifetime: Option<String>,
}

/// A request to delete an environment's stacks (`POST /api/teardowns`); approved like a deployment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTeardown {
    pub environment: String,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub role_arn: Option<String>,
    pub justification: String,
}

/// A request about to be stored.
pub(super) struct Pending {
    pub kind: RequestKind,
    pub target: Target,
    pub tier: TierId,
    /// JSON texts, as stored.
    pub options: String,
    pub usage: String,
    pub monthly_cents: i64,
    pub estimate: String,
    pub required: i64,
    pub adopt: bool,
    /// A deployment's lifetime, an extension's added time.
    pub lifetime_minutes: Option<i64>,
}

/// Where a request points and why: a registered environment (its account, region and role).
pub(super) struct Target {
    pub environment: Environment,
    pub justification: String,
}

impl Target {
    /// The registered environment the request names, if `user` may request there. A region or
    /// role the requester also sent must be the environment's: the portal deploys only where an
    /// admin registered, never where a request body points.
    pub(super) async fn resolve(
        db: &Database,
        catalog: &Catalog,
        user: &User,
        environment: &str,
        region: Option<&str>,
        role_arn: Option<&str>,
        justification: &str,
    ) -> Result<Target, ServerError> {
        let name = EnvironmentName::parse(environment.trim())
            .map_err(|e| ServerError::invalid("environment", e.to_string()))?;
        let environment = Environments { db, catalog }.find(name.as_str()).await?.ok_or_else(|| {
            ServerError::invalid(
                "environment",
                format!("no registered environment `{name}`: an admin registers environments on the admin page"),
            )
        })?;
        let sent = |field: &str, value: Option<&str>, registered: &str| match value.map(str::trim) {
            Some(v) if v != registered => Err(ServerError::invalid(
                field,
                format!("`{v}` is not environment `{name}`'s {field} ({registered}); leave it out"),
            )),
            _ => Ok(()),
        };
        sent("region", region, environment.region.as_str())?;
        sent("role_arn", role_arn, environment.role_arn.as_str())?;
        let justification = justification.trim().to_owned();
        if justification.chars().count() < 10 || justification.chars().count() > 2000 {
            return Err(ServerError::invalid("justification", "say why in 10 to 2,000 characters"));
        }
        access::require(db, user, &environment, Duty::Request).await?;
        Ok(Target { environment, justification })
    }
}

impl Requests<'_> {
    pub async fn create(&self, user: &User, input: NewRequest) -> Result<RequestRecord, ServerError> {
        self.create_deployment(user, input, RequestKind::Deploy).await
    }

    /// A deployment, an upgrade or a repair: the templates deployed with these parameters.
    pub(super) async fn create_deployment(
        &self,
        user: &User,
        input: NewRequest,
        kind: RequestKind,
    ) -> Result<RequestRecord, ServerError> {
        user.require(&[Role::Requester], "request a deployment")?;
        let tier: TierId =
            input.tier.parse().map_err(|e: infra::InfraError| ServerError::invalid("tier", e.to_string()))?;
        let target = Target::resolve(
            self.db,
            self.catalog,
            user,
            &input.environment,
            input.region.as_deref(),
            input.role_arn.as_deref(),
            &input.justification,
        )
        .await?;
        let registered = &target.environment;
        if !registered.tiers.contains(&tier) {
            return Err(ServerError::invalid(
                "tier",
                format!(
                    "environment `{}` allows {}, not {tier}",
                    registered.name,
                    registered.tiers.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        // Their errors become 422s naming `options` or `usage.<key>` (see ServerError's From).
        let options = self.catalog.options(tier, input.options.as_deref())?;
        let usage = self.catalog.usage(input.usage.iter().flatten().map(|(k, v)| (k.as_str(), *v)))?;
        let spec = DeploymentSpec {
            tier,
            environment: registered.name.clone(),
            region: registered.region,
            options: options.clone(),
            domain_name: registered.domain_name.clone(),
        };
        // On-demand: a commitment is bought apart from a deployment, and the environment may not
        // live out its term.
        let report = self.catalog.report(&spec, &usage, true, infra::PricingModel::OnDemand)?;
        let monthly = report.estimate.monthly_usd;
        // The policy judges the larger of the requested and the default usage, key by key: typing
        // zero traffic cannot dodge the extra approver an expensive deployment needs.
        let defaults = self.catalog.default_usage.fields();
        let at_least_default = usage
            .fields()
            .into_iter()
            .zip(defaults)
            .map(|(asked, default)| (asked.key, asked.value.max(default.value)));
        let policy_usage = self.catalog.usage(at_least_default)?;
        let policy_monthly = self
            .catalog
            .report(&spec, &policy_usage, true, infra::PricingModel::OnDemand)?
            .estimate
            .monthly_usd
            .max(monthly);
        let required = self.policy.required(tier, policy_monthly);
        // Only a deployment sets the lifetime; an upgrade or a repair keeps the expiry it has.
        let lifetime = match kind {
            RequestKind::Deploy => registered.lifecycle.lifetime_for(tier, input.lifetime.as_deref())?,
            _ => None,
        };
        let what = match kind {
            RequestKind::Deploy => tier.to_string(),
            other => format!("{} of {tier}", other.label().to_lowercase()),
        };
        let announcement = format!(
            "{} requests {what} for `{}` in {} (${monthly:.2}/month){}{}: needs {required} approval(s).",
            user.name,
            registered.name,
            registered.region.as_str(),
            lifetime.map(|m| format!(", living {m}")).unwrap_or_default(),
            if input.adopt { ", adopting its existing stacks" } else { "" },
        );
        let details = serde_json::json!({
            "kind": kind, "environment": registered.name, "tier": tier, "region": registered.region,
            "monthly_usd": monthly, "required_approvals": required, "adopt": input.adopt,
            "lifetime": lifetime.map(|m| m.to_string()),
        });
        let pending = Pending {
            kind,
            target,
            tier,
            options: serde_json::to_string(&options)?,
            usage: serde_json::to_string(&usage)?,
            monthly_cents: (monthly * 100.0).round() as i64,
            estimate: serde_json::to_string(&report.estimate)?,
            required,
            adopt: input.adopt,
            lifetime_minutes: lifetime.map(|m| m.0),
        };
        self.insert_pending(user, pending, details, &announcement).await
    }

    /// Requests the teardown of an environment the portal deployed: the tier and options of its last
    /// successful deployment decide the approval policy; the monthly cost afterwards is zero.
    pub async fn create_teardown(&self, user: &User, input: NewTeardown) -> Result<RequestRecord, ServerError> {
        user.require(&[Role::Requester], "request a teardown")?;
        let target = Target::resolve(
            self.db,
            self.catalog,
            user,
            &input.environment,
            input.region.as_deref(),
            input.role_arn.as_deref(),
            &input.justification,
        )
        .await?;
        let (environment, region, account) = (
            target.environment.name.as_str(),
            target.environment.region.as_str(),
            target.environment.account_id.as_str(),
        );
        let deployed = sqlx::query(
            "SELECT r.tier, r.options, r.usage FROM rollouts o JOIN deployment_requests r ON r.id = o.request_id \
             WHERE o.account_id = $1 AND o.region = $2 AND o.environment = $3 AND o.status = $4 \
             ORDER BY o.id DESC LIMIT 1",
        )
        .bind(account)
        .bind(region)
        .bind(environment)
        .bind(RolloutStatus::Succeeded.as_str())
        .fetch_optional(&self.db.pool)
        .await?
        .ok_or_else(|| {
            ServerError::invalid(
                "environment",
                format!("the portal has not deployed `{environment}` in {account} / {region}: nothing to tear down"),
            )
        })?;
        let tier: TierId = get_parsed(&deployed, "tier")?;
        let required = self.policy.required(tier, 0.0);
        let announcement = format!(
            "{} requests the teardown of `{environment}` in {region}: needs {required} approval(s).",
            user.name
        );
        let details = serde_json::json!({
            "kind": RequestKind::Teardown, "environment": environment, "region": region, "required_approvals": required,
        });
        let pending = Pending {
            kind: RequestKind::Teardown,
            tier,
            options: get(&deployed, "options")?,
            usage: get(&deployed, "usage")?,
            monthly_cents: 0,
            estimate: "{}".into(),
            required,
            adopt: false,
            lifetime_minutes: None,
            target,
        };
        self.insert_pending(user, pending, details, &announcement).await
    }

    /// Stores a new pending request with its audit entry (and notification), in one transaction;
    /// refused while the environment has another pending request.
    pub(super) async fn insert_pending(
        &self,
        user: &User,
        pending: Pending,
        details: serde_json::Value,
        announcement: &str,
    ) -> Result<RequestRecord, ServerError> {
        let Pending { kind, target, tier, options, usage, monthly_cents, estimate, required, adopt, lifetime_minutes } =
            pending;
        let (environment, region, account) = (
            target.environment.name.as_str(),
            target.environment.region.as_str(),
            target.environment.account_id.as_str(),
        );
        let now = self.clock.now_ms();
        let mut tx = self.db.begin_write().await?;
        let clash = sqlx::query(
            "SELECT id FROM deployment_requests WHERE account_id = $1 AND region = $2 AND environment = $3 \
             AND status = $4",
        )
        .bind(account)
        .bind(region)
        .bind(environment)
        .bind(RequestStatus::Pending.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = clash {
            return Err(ServerError::Conflict(format!(
                "request {} for environment `{environment}` in {account} / {region} is still pending",
                get::<i64>(&row, "id")?,
            )));
        }
        let row = sqlx::query(
            "INSERT INTO deployment_requests (environment, tier, region, account_id, role_arn, justification, options, \
             usage, monthly_cents, estimate, catalog_digest, required_approvals, requester_id, status, created_at, \
             expires_at, kind, adopt, domain_name, lifetime_minutes, catalog_version) VALUES ($1, $2, $3, $4, $5, $6, \
             $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) \
             RETURNING id",
        )
        .bind(environment)
        .bind(tier.as_str())
        .bind(region)
        .bind(account)
        .bind(target.environment.role_arn.as_str())
        .bind(&target.justification)
        .bind(&options)
        .bind(&usage)
        .bind(monthly_cents)
        .bind(&estimate)
        .bind(self.digest)
        .bind(required)
        .bind(user.id)
        .bind(RequestStatus::Pending.as_str())
        .bind(now)
        .bind(now + self.policy.expires_after_hours * 3_600_000)
        .bind(kind.as_str())
        .bind(i64::from(adopt))
        .bind(target.environment.domain_name.as_ref().map(|d| d.as_str().to_owned()))
        .bind(lifetime_minutes)
        .bind(self.catalog.version())
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = get(&row, "id")?;
        audit::append(self.db, &mut tx, &user.name, AuditAction::RequestCreated, &subject(id), details).await?;
        let text = format!("{announcement} Request {id}.");
        let details = serde_json::json!({ "request_id": id });
        self.notifier.enqueue(&mut tx, NotificationEvent::NeedsApproval, &subject(id), &text, details).await?;
        tx.commit().await?;
        self.get(id).await
    }
}
