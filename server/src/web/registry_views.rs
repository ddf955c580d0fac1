//! The registry as the pages show it: the request form's choice of environments (with whether the
//! caller may request in each) and the admin page's registration.

use app::model::{EnvironmentForm, EnvironmentView, EnvironmentsView, LifetimeView, RegisteredView, Role};

use crate::environments::access::{self, Duty};
use crate::environments::{Environment, Environments, NewEnvironment};
use crate::error::ServerError;
use crate::people::User;
use crate::web::api::portal_principal;
use crate::web::state::Portal;

fn view(environment: &Environment, may_request: bool) -> EnvironmentView {
    let texts = |list: &[crate::environments::Principal]| list.iter().map(ToString::to_string).collect();
    EnvironmentView {
        name: environment.name.to_string(),
        account_id: environment.account_id.to_string(),
        region: environment.region.as_str().to_owned(),
        role_arn: environment.role_arn.as_str().to_owned(),
        domain_name: environment.domain_name.as_ref().map(ToString::to_string),
        tiers: environment.tiers.iter().map(|t| t.as_str().to_owned()).collect(),
        requesters: texts(&environment.requesters),
        approvers: texts(&environment.approvers),
        may_request,
        lifetimes: environment
            .tiers
            .iter()
            .map(|tier| {
                let rule = environment.lifecycle.lifetime(*tier);
                LifetimeView {
                    tier: tier.as_str().to_owned(),
                    default: rule.default.map(|m| m.to_string()),
                    max: rule.max.map(|m| m.to_string()),
                }
            })
            .collect(),
    }
}

/// `a, b,c` → `["a", "b", "c"]`.
fn listed(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

impl Portal {
    pub(crate) async fn environments_view(&self, user: &User) -> Result<EnvironmentsView, ServerError> {
        user.require(&[Role::Admin, Role::Requester, Role::Approver], "list environments")?;
        let registry = Environments { db: &self.db, catalog: &self.catalog.catalog };
        let mut environments = Vec::new();
        for environment in registry.list().await? {
            let may_request = access::allowed(&self.db, user, &environment, Duty::Request).await?;
            environments.push(view(&environment, may_request));
        }
        let unregistered = match user.has(Role::Admin) {
            true => registry.unregistered().await?,
            false => Vec::new(),
        };
        Ok(EnvironmentsView { environments, unregistered })
    }

    pub(crate) async fn register_from_form(
        &self,
        user: &User,
        form: EnvironmentForm,
    ) -> Result<RegisteredView, ServerError> {
        user.require(&[Role::Admin], "register environments")?;
        let principal = portal_principal(self).await;
        let registry = Environments { db: &self.db, catalog: &self.catalog.catalog };
        let input = NewEnvironment {
            name: form.name,
            account_id: form.account_id,
            region: form.region,
            role_arn: form.role_arn,
            domain_name: Some(form.domain_name),
            tiers: form.tiers,
            requesters: listed(&form.requesters),
            approvers: listed(&form.approvers),
            lifecycle: None,
        };
        let registered = registry.register(user, input, principal.as_deref()).await?;
        let may_request = access::allowed(&self.db, user, &registered.environment, Duty::Request).await?;
        Ok(RegisteredView {
            environment: view(&registered.environment, may_request),
            external_id: registered.external_id.unwrap_or_default(),
            trust_policy: serde_json::to_string_pretty(&registered.trust_policy.unwrap_or_default())?,
        })
    }
}
