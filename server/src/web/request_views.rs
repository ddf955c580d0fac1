//! A request's page and a rollout's page: what was asked (diagram, cost lines as the requester
//! saw them, range and commitments), its timeline and decision rights, and the rollout's events.

use app::model::{
    Pricing, RequestDetail, RequestKind, RequestRow, RequestStatus, Role, RolloutDetail, RolloutStatus, TierQuery,
    TierView, TimelineEntry,
};

use crate::error::ServerError;
use crate::people::User;
use crate::requests::RequestRecord;
use crate::web::state::Portal;

/// What a timeline entry adds after its action: a decision's comment, or whose approval was voided and why.
fn timeline_detail(details: &serde_json::Value) -> String {
    let text = |key: &str| details.get(key).and_then(|v| v.as_str()).unwrap_or_default();
    match (text("approver"), text("reason")) {
        ("", "") => text("comment").to_owned(),
        (approver, reason) => format!("{approver}'s approval no longer counts: {reason}"),
    }
}

impl Portal {
    /// The deployment a request asks for, as a tier page shows it (diagram and posture from its
    /// own spec, its domain included); with the cost snapshot stored with it when there is one.
    /// `None` when the catalog no longer renders it (the page says the catalog changed).
    pub(crate) fn as_requested(
        &self,
        record: &RequestRecord,
        estimate: Option<infra::cost::Estimate>,
    ) -> Option<TierView> {
        let query = TierQuery {
            tier: record.tier.as_str().to_owned(),
            options: Some(record.option_names()),
            usage: record.usage.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            free_tier: true,
            domain: record.domain_name.as_ref().map(ToString::to_string),
            pricing: Pricing::OnDemand,
        };
        match estimate {
            None => self.catalog.tier_view(&query).ok(),
            Some(stored) => {
                let mut report = self.catalog.report(&query).ok()?;
                report.estimate = stored;
                Some(self.catalog.view(&report))
            }
        }
    }

    pub(super) async fn rollout_detail(&self, user: &User, id: i64) -> Result<RolloutDetail, ServerError> {
        let store = self.rollouts();
        let rollout = self.rollout_view(id).await?;
        let record = self.requests().get(rollout.request_id).await?;
        let events = store.events(id, 0, 5_000).await?;
        let (diagram_svg, phase_needs) = match self.as_requested(&record, None) {
            Some(view) => (view.diagram_svg, view.phases.into_iter().map(|p| (i64::from(p.number), p.needs)).collect()),
            None => Default::default(),
        };
        Ok(RolloutDetail {
            may_request_teardown: user.has(Role::Requester)
                && rollout.kind.deploys()
                && rollout.status == RolloutStatus::Succeeded,
            role_arn: record.role_arn.as_str().to_owned(),
            may_steer: crate::rollout::may_steer(user, &record.requester),
            rollout,
            events,
            diagram_svg,
            phase_needs,
        })
    }

    pub(super) async fn detail(&self, user: &User, id: i64) -> Result<RequestDetail, ServerError> {
        let requests = self.requests();
        let record = requests.get(id).await?;
        let current_monthly_usd = requests.current_monthly_usd(&record).await?;
        let timeline = crate::audit::about(&self.db, &crate::requests::subject(id))
            .await?
            .into_iter()
            .map(|t| TimelineEntry { at: t.at, actor: t.actor, action: t.action, detail: timeline_detail(&t.details) })
            .collect();
        let estimate = requests.stored_estimate(id).await?;
        // Commitments only for a deployment, whose lifetime the request says.
        let (commitments, commitment_note) = match (&estimate, record.kind) {
            (Some(e), RequestKind::Deploy) => crate::catalog::offered_commitments(e, record.lifetime_minutes),
            _ => (Vec::new(), None),
        };
        let range = estimate.as_ref().and_then(|e| e.range).map(crate::catalog::range_view);
        let after_teardown = estimate.as_ref().map(crate::catalog::after_teardown).unwrap_or_default();
        let (services, diagram_svg, posture) = match self.as_requested(&record, estimate) {
            Some(view) => (view.services, view.diagram_svg, view.posture),
            None => Default::default(),
        };
        let decided_by_me = record.approvals.iter().any(|a| a.approver == user.name && !a.void);
        let may_decide = user.has(Role::Approver)
            && record.status == RequestStatus::Pending
            && record.requester != user.name
            && !decided_by_me;
        Ok(RequestDetail {
            row: RequestRow {
                id,
                kind: record.kind,
                environment: record.environment.as_str().to_owned(),
                tier: record.tier.as_str().to_owned(),
                region: record.region.as_str().to_owned(),
                status: record.status,
                requester: record.requester.clone(),
                monthly_usd: record.monthly_usd,
                approvals: record.approvals_given(),
                required_approvals: record.required_approvals,
                created_at: record.created_at,
                rollout_status: record.rollout_status,
            },
            role_arn: record.role_arn.as_str().to_owned(),
            justification: record.justification.clone(),
            options: record.option_names(),
            timeline,
            services,
            diagram_svg,
            posture,
            catalog_changed: record.catalog_digest != self.digest,
            current_monthly_usd,
            may_decide,
            kind: record.kind,
            rollout: record.rollout_id.zip(record.rollout_status),
            adopt: record.adopt,
            preview: record.preview,
            lifetime: record.lifetime_minutes.map(|m| crate::environments::policy::Minutes(m).to_string()),
            lifetime_usd: record.lifetime_usd,
            range,
            commitments,
            commitment_note,
            after_teardown,
        })
    }
}
