//! The app's [`Backend`]: what the pages' server functions call, on top of
//! the catalog, the database and the sessions.

use std::collections::BTreeMap;
use std::net::IpAddr;

use app::backend::{Backend, BackendError, Boxed};
use app::model::{
    HistoryPage, HistoryQuery, IdentityView, Refusal, RequestDetail, RequestForm, RequestRow, RolloutDetail,
    SessionUser, SettingsView, TierQuery, TierSummary, TierView, TimelineEntry,
};

use crate::error::ServerError;
use crate::people::{parse_roles, Role, User};
use crate::requests::{HistoryFilter, NewRequest, RequestRecord};
use crate::sessions;
use crate::state::Portal;

pub(crate) fn to_backend(e: ServerError) -> BackendError {
    let refused = |field: Option<String>, message: String| BackendError::Refused(Refusal { field, message });
    match e {
        ServerError::NotFound { message, .. } => BackendError::NotFound(message),
        ServerError::Invalid { message, field, .. } => refused(field, message),
        e @ (ServerError::Unauthorized(_)
        | ServerError::Forbidden(_)
        | ServerError::Conflict(_)
        | ServerError::TooManyRequests(_)) => refused(None, e.to_string()),
        other => BackendError::Internal(other.to_string()),
    }
}

fn session_user(user: &User) -> SessionUser {
    SessionUser { name: user.name.clone(), roles: user.roles.iter().map(|r| r.as_str().to_owned()).collect() }
}

impl Portal {
    async fn signed_in(&self, session: Option<&str>) -> Result<User, ServerError> {
        let id = session.ok_or_else(|| ServerError::Unauthorized("sign in first".into()))?;
        sessions::user_for_session(&self.db, id)
            .await?
            .ok_or_else(|| ServerError::Unauthorized("your session has ended; sign in again".into()))
    }

    /// The cost lines and diagram of a request: the diagram drawn from its own spec, the cost
    /// from the stored snapshot when there is one.
    fn as_requested(
        &self,
        record: &RequestRecord,
        estimate: Option<infra::cost::Estimate>,
    ) -> (Vec<app::model::ServiceView>, String) {
        let options: Vec<String> = serde_json::from_value(record.options.clone()).unwrap_or_default();
        let usage: BTreeMap<String, f64> = serde_json::from_value(record.usage.clone()).unwrap_or_default();
        let query = TierQuery {
            tier: record.tier.clone(),
            options: Some(options),
            usage: usage.into_iter().collect(),
            free_tier: true,
        };
        match self.catalog.report(&query) {
            Ok(mut report) => {
                if let Some(stored) = estimate {
                    report.estimate = stored;
                }
                let view = self.catalog.view(&report);
                (view.services, view.diagram_svg)
            }
            Err(_) => (Vec::new(), String::new()),
        }
    }

    async fn rollout_detail(&self, user: &User, id: i64) -> Result<RolloutDetail, ServerError> {
        let rollout = crate::rollout::view(&self.db, id).await?;
        let record = self.requests().get(rollout.request_id).await?;
        let events = crate::rollout::events(&self.db, id, 0, 5_000).await?;
        let (_, diagram_svg) = self.as_requested(&record, None);
        Ok(RolloutDetail {
            may_request_teardown: user.has(Role::Requester)
                && rollout.kind == "deploy"
                && rollout.status == "succeeded",
            role_arn: record.role_arn.clone(),
            may_steer: crate::rollout::may_steer(user, &record.requester),
            rollout,
            events,
            diagram_svg,
        })
    }

    async fn detail(&self, user: &User, id: i64) -> Result<RequestDetail, ServerError> {
        let requests = self.requests();
        let record = requests.get(id).await?;
        let current_monthly_usd = requests.current_monthly_usd(&record).await?;
        let timeline = crate::audit::about(&self.db, &format!("request:{id}"))
            .await?
            .into_iter()
            .map(|t| TimelineEntry {
                at: t.at,
                actor: t.actor,
                action: t.action,
                detail: t.details.get("comment").and_then(|c| c.as_str()).unwrap_or_default().to_owned(),
            })
            .collect();
        let estimate = requests.stored_estimate(id).await?;
        let options: Vec<String> = serde_json::from_value(record.options.clone()).unwrap_or_default();
        let (services, diagram_svg) = self.as_requested(&record, estimate);
        let approved_by_me = record.approvals.iter().any(|a| a.approver == user.name);
        let may_decide =
            user.has(Role::Approver) && record.status == "pending" && record.requester != user.name && !approved_by_me;
        Ok(RequestDetail {
            row: RequestRow {
                id,
                kind: record.kind.clone(),
                environment: record.environment.clone(),
                tier: record.tier.clone(),
                region: record.region.clone(),
                status: record.status.clone(),
                requester: record.requester.clone(),
                monthly_usd: record.monthly_usd,
                approvals: record.approvals.iter().filter(|a| a.decision == "approve").count() as i64,
                required_approvals: record.required_approvals,
                created_at: record.created_at,
            },
            role_arn: record.role_arn,
            justification: record.justification,
            options,
            timeline,
            services,
            diagram_svg,
            catalog_changed: record.catalog_digest != self.digest,
            current_monthly_usd,
            may_decide,
            kind: record.kind.clone(),
            rollout: record.rollout_id.zip(record.rollout_status.clone()),
            preview: record.preview.clone(),
        })
    }
}

impl Backend for Portal {
    fn tiers(&self) -> Result<Vec<TierSummary>, BackendError> {
        self.catalog.summaries().map_err(to_backend)
    }

    fn tier(&self, query: &TierQuery) -> Result<TierView, BackendError> {
        let report = self.catalog.report(query).map_err(to_backend)?;
        Ok(self.catalog.view(&report))
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

    fn who<'a>(&'a self, session: Option<&'a str>) -> Boxed<'a, Option<SessionUser>> {
        Box::pin(async move {
            match session {
                None => Ok(None),
                Some(id) => {
                    Ok(sessions::user_for_session(&self.db, id).await.map_err(to_backend)?.map(|u| session_user(&u)))
                }
            }
        })
    }

    fn sign_in<'a>(
        &'a self,
        name: &'a str,
        password: &'a str,
        address: Option<IpAddr>,
    ) -> Boxed<'a, (SessionUser, String)> {
        Box::pin(async move {
            let (user, id) = sessions::sign_in(&self.db, name, password, address).await.map_err(to_backend)?;
            Ok((session_user(&user), id))
        })
    }

    fn sign_out<'a>(&'a self, session: Option<&'a str>) -> Boxed<'a, ()> {
        Box::pin(async move {
            match session {
                Some(id) => sessions::sign_out(&self.db, id).await.map_err(to_backend),
                None => Ok(()),
            }
        })
    }

    fn create_request<'a>(&'a self, session: Option<&'a str>, form: RequestForm) -> Boxed<'a, i64> {
        Box::pin(async move {
            let user = self.signed_in(session).await.map_err(to_backend)?;
            let input = NewRequest {
                environment: form.environment,
                tier: form.query.tier,
                region: form.region,
                role_arn: form.role_arn,
                justification: form.justification,
                options: form.query.options,
                usage: Some(form.query.usage.into_iter().collect()),
            };
            let record = self.requests().create(&user, input).await.map_err(to_backend)?;
            crate::preview::start(self, &record).await;
            Ok(record.id)
        })
    }

    fn history<'a>(&'a self, session: Option<&'a str>, query: HistoryQuery) -> Boxed<'a, HistoryPage> {
        Box::pin(async move {
            let user = self.signed_in(session).await.map_err(to_backend)?;
            let filter = HistoryFilter {
                environment: query.environment,
                tier: query.tier,
                status: query.status,
                requester: query.requester,
                before: query.before,
                limit: Some(50),
                awaiting: query.awaiting_me.then_some(user.id),
            };
            if query.awaiting_me {
                user.require(&[Role::Approver], "see the approvals queue").map_err(to_backend)?;
            }
            let (rows, next_before) = self.requests().history(&user, &filter).await.map_err(to_backend)?;
            Ok(HistoryPage { rows, next_before })
        })
    }

    fn request<'a>(&'a self, session: Option<&'a str>, id: i64) -> Boxed<'a, RequestDetail> {
        Box::pin(async move {
            let user = self.signed_in(session).await.map_err(to_backend)?;
            self.detail(&user, id).await.map_err(to_backend)
        })
    }

    fn decide<'a>(
        &'a self,
        session: Option<&'a str>,
        id: i64,
        approve: bool,
        comment: String,
    ) -> Boxed<'a, RequestDetail> {
        Box::pin(async move {
            let user = self.signed_in(session).await.map_err(to_backend)?;
            self.requests().decide(&user, id, approve, &comment).await.map_err(to_backend)?;
            self.detail(&user, id).await.map_err(to_backend)
        })
    }

    fn rollout<'a>(&'a self, session: Option<&'a str>, id: i64) -> Boxed<'a, RolloutDetail> {
        Box::pin(async move {
            let user = self.signed_in(session).await.map_err(to_backend)?;
            self.rollout_detail(&user, id).await.map_err(to_backend)
        })
    }

    fn steer_rollout<'a>(&'a self, session: Option<&'a str>, id: i64, retry: bool) -> Boxed<'a, RolloutDetail> {
        Box::pin(async move {
            let user = self.signed_in(session).await.map_err(to_backend)?;
            crate::rollout::steer(self, &user, id, retry).await.map_err(to_backend)?;
            self.rollout_detail(&user, id).await.map_err(to_backend)
        })
    }

    fn request_teardown<'a>(
        &'a self,
        session: Option<&'a str>,
        environment: String,
        region: String,
        role_arn: String,
        justification: String,
    ) -> Boxed<'a, i64> {
        Box::pin(async move {
            let user = self.signed_in(session).await.map_err(to_backend)?;
            let input = crate::requests::NewTeardown { environment, region, role_arn, justification };
            let record = self.requests().create_teardown(&user, input).await.map_err(to_backend)?;
            Ok(record.id)
        })
    }

    fn settings<'a>(&'a self, session: Option<&'a str>) -> Boxed<'a, SettingsView> {
        Box::pin(async move {
            let user = self.signed_in(session).await.map_err(to_backend)?;
            let identity = match &self.aws {
                Some(config) => crate::aws::caller_identity(config)
                    .await
                    .map(|i| IdentityView {
                        account: i.account,
                        arn: i.arn,
                        region: config.region().map(|r| r.to_string()),
                    })
                    .map_err(|e| e.to_string()),
                None => Err("the portal has no AWS configuration".to_owned()),
            };
            let deliveries = if user.has(Role::Admin) {
                Some(crate::notify::deliveries(&self.db, 50).await.map_err(to_backend)?)
            } else {
                None
            };
            Ok(SettingsView {
                identity,
                sandbox: self.catalog.sandbox,
                single_sign_on: self.oidc.as_ref().map(|p| p.config.label.clone()),
                webhook: self.webhook_url.is_some(),
                deliveries,
            })
        })
    }

    fn users<'a>(&'a self, session: Option<&'a str>) -> Boxed<'a, Vec<app::model::UserView>> {
        Box::pin(async move { admin::users(self, session).await.map_err(to_backend) })
    }

    fn set_roles<'a>(
        &'a self,
        session: Option<&'a str>,
        name: String,
        roles: Vec<String>,
    ) -> Boxed<'a, app::model::UserView> {
        Box::pin(async move { admin::set_roles(self, session, &name, &roles).await.map_err(to_backend) })
    }

    fn add_user<'a>(
        &'a self,
        session: Option<&'a str>,
        name: String,
        roles: Vec<String>,
        password: String,
    ) -> Boxed<'a, app::model::UserView> {
        Box::pin(async move { admin::add_user(self, session, &name, &roles, &password).await.map_err(to_backend) })
    }
}

fn user_view(user: &User) -> app::model::UserView {
    app::model::UserView { name: user.name.clone(), roles: user.roles.iter().map(|r| r.as_str().to_owned()).collect() }
}

impl Portal {
    pub(crate) async fn admin(&self, session: Option<&str>) -> Result<User, ServerError> {
        let user = self.signed_in(session).await?;
        user.require(&[Role::Admin], "manage users")?;
        Ok(user)
    }
}

/// The admin page's calls, beside the rest of the backend.
pub(crate) mod admin {
    use super::*;

    pub(crate) async fn users(
        portal: &Portal,
        session: Option<&str>,
    ) -> Result<Vec<app::model::UserView>, ServerError> {
        portal.admin(session).await?;
        Ok(crate::people::list_users(&portal.db).await?.iter().map(user_view).collect())
    }

    pub(crate) async fn set_roles(
        portal: &Portal,
        session: Option<&str>,
        name: &str,
        roles: &[String],
    ) -> Result<app::model::UserView, ServerError> {
        let admin = portal.admin(session).await?;
        Ok(user_view(&crate::people::set_roles(&portal.db, &admin, name, &parse_roles(roles)?).await?))
    }

    pub(crate) async fn add_user(
        portal: &Portal,
        session: Option<&str>,
        name: &str,
        roles: &[String],
        password: &str,
    ) -> Result<app::model::UserView, ServerError> {
        portal.admin(session).await?;
        let (user, _) =
            crate::people::add_user(&portal.db, name.trim(), &parse_roles(roles)?, Some(password), false).await?;
        Ok(user_view(&user))
    }
}
