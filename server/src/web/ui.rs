//! The app's [`Backend`]: what the pages' server functions call. Each method gets the caller the
//! server function resolved once from the session, turns it back into a [`User`], and calls the
//! domain modules; domain errors become the refusals the pages show next to their fields.

use std::net::IpAddr;
use std::sync::Arc;

use app::backend::{Backend, BackendError, Boxed, Caller};
use app::model::{
    ActionOutcome, Decision, EnvironmentAction, EnvironmentDetail, EnvironmentForm, EnvironmentsPage, EnvironmentsView,
    HistoryPage, HistoryQuery, IdentityView, NewTokenView, PolicyText, Pricing, Refusal, RegisteredView, RequestDetail,
    RequestForm, Role, RolloutDetail, RunningTiers, SessionUser, SettingsView, TeardownForm, TierQuery, TierSummary,
    TierView, TokenView, UserView,
};

use crate::error::ServerError;
use crate::people::{sessions, tokens, User};
use crate::requests::{HistoryFilter, NewRequest, NewTeardown};
use crate::web::state::Portal;

pub(crate) fn to_backend(e: ServerError) -> BackendError {
    match e {
        ServerError::NotFound { message, .. } => BackendError::NotFound(message),
        ServerError::Invalid { message, field, .. } => BackendError::Refused(Refusal { field, message }),
        e @ (ServerError::Unauthorized(_)
        | ServerError::Forbidden(_)
        | ServerError::Conflict(_)
        | ServerError::TooManyRequests(_)) => BackendError::refused(e.to_string()),
        other => {
            if other.status().is_server_error() {
                tracing::error!(error = %other, "a page's call failed");
            }
            BackendError::Internal(other.to_string())
        }
    }
}

fn caller_of(user: User) -> Caller {
    Caller { id: user.id, name: user.name, roles: user.roles.into_iter().collect() }
}

fn user_of(caller: &Caller) -> User {
    User { id: caller.id, name: caller.name.clone(), roles: caller.roles.iter().copied().collect(), disabled: false }
}

fn session_user(user: &User) -> SessionUser {
    SessionUser { name: user.name.clone(), roles: user.roles.iter().copied().collect() }
}

fn user_view(user: &User) -> UserView {
    UserView { name: user.name.clone(), roles: user.roles.iter().copied().collect(), disabled: user.disabled }
}

/// Runs a domain call for a caller, mapping its error for the pages.
fn boxed<'a, T, F>(work: F) -> Boxed<'a, T>
where
    F: std::future::Future<Output = Result<T, ServerError>> + Send + 'a,
{
    Box::pin(async move { work.await.map_err(to_backend) })
}

impl Portal {
    async fn settings_view(&self, user: &User) -> Result<SettingsView, ServerError> {
        let identity = match &self.aws {
            Some(config) => crate::rollout::sts::caller_identity(config)
                .await
                .map(|i| IdentityView {
                    account: i.account,
                    arn: i.arn,
                    region: config.region().map(|r| r.to_string()),
                })
                .map_err(|e| e.to_string()),
            None => Err("the portal has no AWS configuration".to_owned()),
        };
        let deliveries =
            if user.has(Role::Admin) { Some(crate::notify::deliveries(&self.db, 50).await?) } else { None };
        Ok(SettingsView {
            identity,
            sandbox: self.catalog.sandbox,
            single_sign_on: self.oidc.as_ref().map(|p| p.config.label.clone()),
            webhook: self.notifier.enabled(),
            deliveries,
        })
    }

    fn history_filter(user: &User, query: HistoryQuery) -> Result<HistoryFilter, ServerError> {
        if query.awaiting_me {
            user.require(&[Role::Approver], "see the approvals queue")?;
        }
        Ok(HistoryFilter {
            environment: query.environment,
            tier: query.tier,
            status: query.status,
            requester: query.requester,
            before: query.before,
            limit: Some(50),
            awaiting: query.awaiting_me.then_some(user.id),
        })
    }
}

impl Backend for Portal {
    fn tiers(&self, pricing: Pricing) -> Result<Vec<TierSummary>, BackendError> {
        self.catalog.summaries(pricing).map_err(to_backend)
    }

    fn tier(&self, query: &TierQuery) -> Result<TierView, BackendError> {
        self.catalog.tier_view(query).map_err(to_backend)
    }

    fn tier_script_json(&self, query: &TierQuery) -> Result<Arc<str>, BackendError> {
        self.catalog.tier_script_json(query).map_err(to_backend)
    }

    fn sandbox(&self) -> bool {
        self.catalog.sandbox
    }

    fn single_sign_on(&self) -> Option<String> {
        self.oidc.as_ref().map(|p| p.config.label.clone())
    }

    fn secure_cookies(&self) -> bool {
        self.secure_cookies
    }

    fn caller<'a>(&'a self, session: &'a str) -> Boxed<'a, Option<Caller>> {
        boxed(async move { Ok(sessions::user_for_session(&self.db, session).await?.map(caller_of)) })
    }

    fn sign_in<'a>(
        &'a self,
        name: &'a str,
        password: &'a str,
        address: Option<IpAddr>,
    ) -> Boxed<'a, (SessionUser, String)> {
        boxed(async move {
            let (user, id) = sessions::sign_in(&self.db, name, password, address).await?;
            Ok((session_user(&user), id))
        })
    }

    fn sign_out<'a>(&'a self, session: &'a str) -> Boxed<'a, ()> {
        boxed(sessions::sign_out(&self.db, session))
    }

    fn create_request<'a>(&'a self, caller: &'a Caller, form: RequestForm) -> Boxed<'a, i64> {
        boxed(async move {
            let input = NewRequest {
                environment: form.environment,
                tier: form.query.tier,
                region: None,
                role_arn: None,
                adopt: form.adopt,
                justification: form.justification,
                options: form.query.options,
                usage: Some(form.query.usage.into_iter().collect()),
                lifetime: Some(form.lifetime).filter(|l| !l.trim().is_empty()),
            };
            let record = self.requests().create(&user_of(caller), input).await?;
            self.previews().start(&record).await;
            Ok(record.id)
        })
    }

    fn history<'a>(&'a self, caller: &'a Caller, query: HistoryQuery) -> Boxed<'a, HistoryPage> {
        boxed(async move {
            let user = user_of(caller);
            let filter = Self::history_filter(&user, query)?;
            let (rows, next_before) = self.requests().history(&user, &filter).await?;
            Ok(HistoryPage { rows, next_before })
        })
    }

    fn request<'a>(&'a self, caller: &'a Caller, id: i64) -> Boxed<'a, RequestDetail> {
        boxed(self.detail_for(caller, id))
    }

    fn decide<'a>(
        &'a self,
        caller: &'a Caller,
        id: i64,
        decision: Decision,
        comment: String,
    ) -> Boxed<'a, RequestDetail> {
        boxed(async move {
            self.requests().decide(&user_of(caller), id, decision, &comment).await?;
            self.detail_for(caller, id).await
        })
    }

    fn request_teardown<'a>(&'a self, caller: &'a Caller, form: TeardownForm) -> Boxed<'a, i64> {
        boxed(async move {
            let TeardownForm { environment, region, role_arn, justification } = form;
            // The rollout page sends what was deployed: the registry must still say the same.
            let input = NewTeardown { environment, region: Some(region), role_arn: Some(role_arn), justification };
            Ok(self.requests().create_teardown(&user_of(caller), input).await?.id)
        })
    }

    fn rollout<'a>(&'a self, caller: &'a Caller, id: i64) -> Boxed<'a, RolloutDetail> {
        boxed(async move { self.rollout_detail(&user_of(caller), id).await })
    }

    fn steer_rollout<'a>(&'a self, caller: &'a Caller, id: i64, retry: bool) -> Boxed<'a, RolloutDetail> {
        boxed(async move {
            let user = user_of(caller);
            self.steering().steer(&user, id, retry).await?;
            self.rollout_detail(&user, id).await
        })
    }

    fn settings<'a>(&'a self, caller: &'a Caller) -> Boxed<'a, SettingsView> {
        boxed(async move { self.settings_view(&user_of(caller)).await })
    }

    fn tokens<'a>(&'a self, caller: &'a Caller) -> Boxed<'a, Vec<TokenView>> {
        boxed(async move { Ok(tokens::list(&self.db, Some(caller.id)).await?.into_iter().map(|t| t.token).collect()) })
    }

    fn create_token<'a>(&'a self, caller: &'a Caller, name: String, days: i64) -> Boxed<'a, NewTokenView> {
        boxed(async move {
            let (info, secret) = tokens::create(&self.db, &user_of(caller), &name, Some(days)).await?;
            Ok(NewTokenView { token: info.token, secret })
        })
    }

    fn revoke_token<'a>(&'a self, caller: &'a Caller, id: i64) -> Boxed<'a, TokenView> {
        boxed(async move { Ok(tokens::revoke(&self.db, &user_of(caller), id).await?.token) })
    }

    fn environments<'a>(&'a self, caller: &'a Caller) -> Boxed<'a, EnvironmentsView> {
        boxed(async move { self.environments_view(&user_of(caller)).await })
    }

    fn register_environment<'a>(&'a self, caller: &'a Caller, form: EnvironmentForm) -> Boxed<'a, RegisteredView> {
        boxed(async move { self.register_from_form(&user_of(caller), form).await })
    }

    fn environments_page<'a>(&'a self, caller: &'a Caller) -> Boxed<'a, EnvironmentsPage> {
        boxed(async move { Portal::environments_page(self, &user_of(caller)).await })
    }

    fn environment_detail<'a>(&'a self, caller: &'a Caller, name: String) -> Boxed<'a, EnvironmentDetail> {
        boxed(async move { Portal::environment_detail(self, &user_of(caller), &name).await })
    }

    fn environment_action<'a>(
        &'a self,
        caller: &'a Caller,
        name: String,
        action: EnvironmentAction,
    ) -> Boxed<'a, ActionOutcome> {
        boxed(async move { Portal::environment_action(self, &user_of(caller), &name, action).await })
    }

    fn change_policy<'a>(
        &'a self,
        caller: &'a Caller,
        name: String,
        policy: PolicyText,
    ) -> Boxed<'a, EnvironmentDetail> {
        boxed(async move { Portal::change_policy(self, &user_of(caller), &name, policy).await })
    }

    fn running_tiers<'a>(&'a self, caller: &'a Caller) -> Boxed<'a, RunningTiers> {
        boxed(async move { Portal::running_tiers(self, &user_of(caller)).await })
    }

    fn users<'a>(&'a self, caller: &'a Caller) -> Boxed<'a, Vec<UserView>> {
        boxed(async move {
            user_of(caller).require(&[Role::Admin], "manage users")?;
            Ok(crate::people::list_users(&self.db).await?.iter().map(user_view).collect())
        })
    }

    fn set_roles<'a>(&'a self, caller: &'a Caller, name: String, roles: Vec<Role>) -> Boxed<'a, UserView> {
        boxed(async move {
            let admin = user_of(caller);
            admin.require(&[Role::Admin], "manage users")?;
            let roles = roles.into_iter().collect();
            Ok(user_view(&crate::people::set_roles(&self.db, &admin, &name, &roles).await?))
        })
    }

    fn set_disabled<'a>(&'a self, caller: &'a Caller, name: String, disabled: bool) -> Boxed<'a, UserView> {
        boxed(
            async move { Ok(user_view(&crate::people::set_disabled(&self.db, &user_of(caller), &name, disabled).await?)) },
        )
    }

    fn add_user<'a>(
        &'a self,
        caller: &'a Caller,
        name: String,
        roles: Vec<Role>,
        password: String,
    ) -> Boxed<'a, UserView> {
        boxed(async move {
            user_of(caller).require(&[Role::Admin], "manage users")?;
            let roles = roles.into_iter().collect();
            let (user, _) = crate::people::add_user(&self.db, name.trim(), &roles, Some(&password), false).await?;
            Ok(user_view(&user))
        })
    }
}

impl Portal {
    async fn detail_for(&self, caller: &Caller, id: i64) -> Result<RequestDetail, ServerError> {
        self.detail(&user_of(caller), id).await
    }
}
