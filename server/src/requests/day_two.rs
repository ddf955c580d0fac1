//! Requests about an environment that runs: an extension of its lifetime, an upgrade to the
//! newest catalog, a repair of its drift. Each starts from what the environment runs
//! ([`deployed`]) and is approved like any deployment; an extension by as many approvers as the
//! environment's policy says.

use app::model::{RequestKind, Role};
use serde::Deserialize;

use crate::environments::expiry;
use crate::environments::policy::Minutes;
use crate::error::ServerError;
use crate::people::User;
use crate::requests::create::{NewRequest, Pending, Target};
use crate::requests::deployed::{deployed, Deployed};
use crate::requests::{RequestRecord, Requests};

/// The body of `POST /api/environments/{name}/extend`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewExtension {
    /// How much later it should expire (`7d`, `12h`).
    pub extend_by: String,
    pub justification: String,
}

/// The body of `POST /api/environments/{name}/upgrade` and `/repair`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCarryOver {
    pub justification: String,
}

impl Requests<'_> {
    /// What `target` runs; a 422 naming `environment` when it runs nothing (never deployed, or torn down).
    async fn running(&self, target: &Target, what: &str) -> Result<Deployed, ServerError> {
        deployed(self.db, &target.environment).await?.ok_or_else(|| {
            ServerError::invalid(
                "environment",
                format!(
                    "environment `{}` runs nothing (never deployed, or torn down): nothing to {what}",
                    target.environment.name
                ),
            )
        })
    }

    /// A later expiry for a running environment that expires.
    pub async fn create_extension(
        &self,
        user: &User,
        environment: &str,
        input: NewExtension,
    ) -> Result<RequestRecord, ServerError> {
        user.require(&[Role::Requester], "request an extension")?;
        let target =
            Target::resolve(self.db, self.catalog, user, environment, None, None, &input.justification).await?;
        let running = self.running(&target, "extend").await?;
        let name = target.environment.name.clone();
        let current = expiry::of(self.db, name.as_str()).await?.ok_or_else(|| {
            ServerError::invalid("environment", format!("environment `{name}` does not expire: nothing to extend"))
        })?;
        if current.teardown_request.is_some() {
            return Err(ServerError::invalid(
                "environment",
                format!(
                    "environment `{name}` has expired and its teardown is queued: request a new deployment instead"
                ),
            ));
        }
        let by = Minutes::parse("extend_by", &input.extend_by)?;
        let until = current.expires_at + by.ms();
        let from_now = Minutes((until - self.clock.now_ms()).max(0) / 60_000);
        target.environment.lifecycle.within_max(running.tier, from_now, "extend_by").map_err(|e| match e {
            ServerError::Invalid { field, message, code } => ServerError::Invalid {
                code,
                field,
                message: format!("extended by {by} it would live {from_now} from now: {message}"),
            },
            other => other,
        })?;
        let required = target.environment.lifecycle.extension_approvals;
        let announcement = format!(
            "{} asks to extend `{name}` by {by} (until {}): needs {required} approval(s).",
            user.name,
            app::format::timestamp(until)
        );
        let details = serde_json::json!({
            "kind": RequestKind::Extend, "environment": name, "extend_by": by.to_string(), "expires_at": until,
            "required_approvals": required,
        });
        let pending = Pending {
            kind: RequestKind::Extend,
            tier: running.tier,
            options: serde_json::to_string(&running.options)?,
            usage: serde_json::to_string(&running.usage)?,
            monthly_cents: running.monthly_cents,
            estimate: "{}".into(),
            required,
            adopt: false,
            lifetime_minutes: Some(by.0),
            target,
        };
        self.insert_pending(user, pending, details, &announcement).await
    }

    /// The running environment's tier, options and usage deployed with the newest catalog.
    pub async fn create_upgrade(
        &self,
        user: &User,
        environment: &str,
        input: NewCarryOver,
    ) -> Result<RequestRecord, ServerError> {
        user.require(&[Role::Requester], "request an upgrade")?;
        let target =
            Target::resolve(self.db, self.catalog, user, environment, None, None, &input.justification).await?;
        let running = self.running(&target, "upgrade").await?;
        if running.catalog_digest == self.digest {
            return Err(ServerError::invalid(
                "environment",
                format!(
                    "environment `{}` already runs the newest catalog ({}): nothing to upgrade",
                    target.environment.name,
                    self.catalog.version()
                ),
            ));
        }
        self.create_deployment(user, carried(&target, &running, input.justification), RequestKind::Upgrade).await
    }

    /// The running environment's templates applied again with change sets that revert drift
    /// (CloudFormation's drift-aware change sets): what changed outside the portal is put back.
    pub async fn create_repair(
        &self,
        user: &User,
        environment: &str,
        input: NewCarryOver,
    ) -> Result<RequestRecord, ServerError> {
        user.require(&[Role::Requester], "request a drift repair")?;
        let target =
            Target::resolve(self.db, self.catalog, user, environment, None, None, &input.justification).await?;
        let running = self.running(&target, "repair").await?;
        self.create_deployment(user, carried(&target, &running, input.justification), RequestKind::Repair).await
    }
}

/// A request for what runs, as it runs: tier, options and usage carried over.
fn carried(target: &Target, running: &Deployed, justification: String) -> NewRequest {
    NewRequest {
        environment: target.environment.name.to_string(),
        tier: running.tier.as_str().to_owned(),
        region: None,
        role_arn: None,
        justification,
        options: Some(running.options.clone()),
        usage: Some(running.usage.clone()),
        adopt: false,
        lifetime: None,
    }
}
