//! The environments pages' data and actions: every environment's row, one environment's page
//! (what runs, its diagram marked by its latest drift check, its stacks, history, schedule
//! saving, what may be asked), and the actions asked there.

use app::model::{
    ActionOutcome, EnvironmentAction, EnvironmentActions, EnvironmentDetail, EnvironmentsPage, PolicyText,
    RequestStatus, Role, RolloutStatus, RunningTiers, StackView, TierQuery,
};

use crate::environments::access::{self, Duty};
use crate::environments::{Environment, EnvironmentChange};
use crate::error::ServerError;
use crate::lifecycle::status::{mark_asleep, mark_drift};
use crate::lifecycle::windows::opens_at;
use crate::people::User;
use crate::requests::deployed::{deployed_all, Deployed};
use crate::requests::{HistoryFilter, NewCarryOver, NewExtension};
use crate::web::state::Portal;

/// Who sees environments: whoever sees the history.
const READERS: &[Role] = &[Role::Admin, Role::Requester, Role::Approver, Role::Viewer];

impl Portal {
    async fn registered(&self, name: &str) -> Result<Environment, ServerError> {
        self.lifecycle().registry().find(name).await?.ok_or_else(|| ServerError::NotFound {
            code: "unknown_environment",
            message: format!("no registered environment `{name}`"),
        })
    }

    pub(crate) async fn environments_page(&self, user: &User) -> Result<EnvironmentsPage, ServerError> {
        user.require(READERS, "see environments")?;
        let lifecycle = self.lifecycle();
        let environments = lifecycle.registry().list().await?;
        let rows = lifecycle.rows(&environments).await?;
        Ok(EnvironmentsPage { rows, catalog_version: self.catalog.catalog.version() })
    }

    pub(crate) async fn environment_detail(&self, user: &User, name: &str) -> Result<EnvironmentDetail, ServerError> {
        user.require(READERS, "see environments")?;
        let environment = self.registered(name).await?;
        let lifecycle = self.lifecycle();
        let known = lifecycle.known(&environment).await?;
        let row = lifecycle.row_of(&environment, &known);
        let running = known.running;
        let drift = lifecycle.drift_report(name).await?;
        let (diagram_svg, drift_off_diagram) = match &running {
            Some(r) => {
                let svg = self.deployed_diagram(&environment, r);
                let marks: Vec<(i64, &str, app::model::ResourceDrift)> = drift
                    .iter()
                    .flat_map(|d| d.resources.iter())
                    .map(|r| (r.phase, r.logical_id.as_str(), r.status))
                    .collect();
                let (svg, off) = mark_drift(&svg, &marks);
                let asleep = if row.status == app::model::EnvironmentStatus::Sleeping {
                    self.stopped_while_asleep(&environment, r)
                } else {
                    Vec::new()
                };
                (mark_asleep(&svg, &asleep), off)
            }
            None => (String::new(), Vec::new()),
        };
        let stacks = match &running {
            Some(r) => self
                .rollouts()
                .view(r.rollout_id)
                .await?
                .phases
                .into_iter()
                .map(|p| StackView {
                    phase: p.number,
                    name: p.name,
                    stack_name: p.stack_name,
                    status: p.status.to_string(),
                    outputs: p.outputs,
                    resource_count: p.resource_count,
                })
                .collect(),
            None => Vec::new(),
        };
        let filter = HistoryFilter { environment: Some(name.to_owned()), limit: Some(20), ..Default::default() };
        let (history, _) = self.requests().history(user, &filter).await?;
        let sleep = match &running {
            Some(r) => lifecycle.sleep_view(&environment, r)?,
            None => None,
        };
        let bill = match &running {
            Some(r) => Some(self.bill_view(user, &environment, r, row.expires_at).await?),
            None => None,
        };
        let may_request =
            user.has(Role::Requester) && access::allowed(&self.db, user, &environment, Duty::Request).await?;
        let runs = running.is_some();
        let waiting = row
            .last_rollout
            .as_ref()
            .filter(|r| r.status == RolloutStatus::WaitingForWindow)
            .map(|r| (r.id, opens_at(&environment, self.clock.now_ms())));
        let pending = history.iter().any(|r| r.status == RequestStatus::Pending);
        let may = EnvironmentActions {
            check_drift: runs && user.has_any(&[Role::Requester, Role::Approver, Role::Admin]),
            repair: runs && may_request && !pending,
            extend: runs && may_request && row.expires_at.is_some() && !pending,
            upgrade: runs && may_request && row.older_version && !pending,
            teardown: runs && may_request && !pending,
        };
        Ok(EnvironmentDetail {
            upgrade_to: running.as_ref().filter(|_| row.older_version).map(|r| self.changes_since(r)),
            row,
            diagram_svg,
            drift_off_diagram,
            stacks,
            drift,
            history,
            sleep,
            bill,
            may,
            waiting,
            may_override: user.has(Role::Admin),
            policy: environment.lifecycle.text(),
            tiers: environment.tiers.iter().map(|t| t.as_str().to_owned()).collect(),
            may_change_policy: user.has(Role::Admin),
        })
    }

    /// An admin changes the environment's day-two policy (audited with the registration).
    pub(crate) async fn change_policy(
        &self,
        user: &User,
        name: &str,
        policy: PolicyText,
    ) -> Result<EnvironmentDetail, ServerError> {
        let change = EnvironmentChange { lifecycle: Some(policy), ..Default::default() };
        self.lifecycle().registry().change(user, name, change, None).await?;
        self.environment_detail(user, name).await
    }

    /// What a sleeping environment has stopped: its auto scaling groups, and its database where
    /// RDS lets it stop (the schedule's rollouts do the same).
    fn stopped_while_asleep(&self, environment: &Environment, running: &Deployed) -> Vec<String> {
        let catalog = &self.catalog.catalog;
        let Ok(evaluation) = running.spec(catalog, environment).and_then(|spec| Ok(catalog.evaluate(&spec)?)) else {
            return Vec::new();
        };
        let mut stopped: Vec<String> =
            evaluation.of_type("AWS::AutoScaling::AutoScalingGroup").map(|r| r.key.logical_id.clone()).collect();
        if infra::cost::sleep::database_can_stop(&evaluation) {
            stopped.extend(evaluation.of_type("AWS::RDS::DBInstance").map(|r| r.key.logical_id.clone()));
        }
        stopped
    }

    /// The deployment's diagram, as its tier page draws it.
    fn deployed_diagram(&self, environment: &Environment, running: &Deployed) -> String {
        let query = TierQuery {
            tier: running.tier.as_str().to_owned(),
            options: Some(running.options.clone()),
            usage: running.usage.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            free_tier: true,
            domain: environment.domain_name.as_ref().map(ToString::to_string),
            pricing: Default::default(),
        };
        self.catalog.tier_view(&query).map(|v| v.diagram_svg).unwrap_or_default()
    }

    /// The newest catalog version and every change listed since the one `running` was deployed with.
    fn changes_since(&self, running: &Deployed) -> (String, Vec<String>) {
        let catalog = &self.catalog.catalog;
        let changes = catalog
            .versions
            .iter()
            .take_while(|v| v.digest != running.catalog_digest)
            .flat_map(|v| v.changes.iter().map(move |c| format!("{}: {c}", v.version)))
            .collect();
        (catalog.version(), changes)
    }

    pub(crate) async fn environment_action(
        &self,
        user: &User,
        name: &str,
        action: EnvironmentAction,
    ) -> Result<ActionOutcome, ServerError> {
        let environment = self.registered(name).await?;
        let requests = self.requests();
        let record = match action {
            EnvironmentAction::CheckDrift => {
                return Ok(ActionOutcome::DriftCheck(self.start_drift_check(user, environment).await?))
            }
            EnvironmentAction::ReadBill => {
                self.lifecycle().request_bill_read(user, &environment).await?;
                return Ok(ActionOutcome::Bill);
            }
            EnvironmentAction::UseUsageFromBill { period } => {
                let running = crate::requests::deployed::deployed(&self.db, &environment)
                    .await?
                    .ok_or_else(|| ServerError::invalid("environment", format!("environment `{name}` runs nothing")))?;
                self.use_usage_from_bill(user, &environment, &running, &period).await?;
                return Ok(ActionOutcome::Bill);
            }
            EnvironmentAction::Override { rollout, reason } => {
                let view = self.rollouts().view(rollout).await?;
                if view.environment != name {
                    return Err(ServerError::invalid("rollout", format!("rollout {rollout} is not `{name}`'s")));
                }
                self.lifecycle().override_window(user, rollout, &reason).await?;
                return Ok(ActionOutcome::Rollout(rollout));
            }
            EnvironmentAction::Repair { justification } => {
                requests.create_repair(user, name, NewCarryOver { justification }).await?
            }
            EnvironmentAction::Upgrade { justification } => {
                requests.create_upgrade(user, name, NewCarryOver { justification }).await?
            }
            EnvironmentAction::Extend { extend_by, justification } => {
                requests.create_extension(user, name, NewExtension { extend_by, justification }).await?
            }
        };
        self.previews().start(&record).await;
        Ok(ActionOutcome::Request(record.id))
    }

    /// Per tier, the registered environments that run it.
    pub(crate) async fn running_tiers(&self, user: &User) -> Result<RunningTiers, ServerError> {
        if !user.has_any(READERS) {
            return Ok(RunningTiers::default());
        }
        let mut tiers: Vec<(String, Vec<String>)> = Vec::new();
        let mut deployed = deployed_all(&self.db).await?;
        for environment in self.lifecycle().registry().list().await? {
            let Some(running) = deployed.remove(&environment.key()) else { continue };
            let tier = running.tier.as_str().to_owned();
            match tiers.iter_mut().find(|(t, _)| *t == tier) {
                Some((_, names)) => names.push(environment.name.to_string()),
                None => tiers.push((tier, vec![environment.name.to_string()])),
            }
        }
        Ok(RunningTiers { tiers })
    }
}
