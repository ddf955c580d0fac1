//! Drift checks: CloudFormation's drift detection on each stack an environment runs (through its
//! deploy role), every resource's result stored with the check: in sync, modified (with its
//! property differences), deleted, or not checked (CloudFormation does not check every type: such
//! a resource is never shown as in sync). Scheduled per environment (`drift_check_hours`, daily
//! by default) and on demand; a check that finds drift is announced by webhook. One check runs
//! per environment at a time (a unique index), whatever the number of processes.

use std::collections::HashMap;
use std::time::Duration;

use app::model::{
    AuditAction, DriftCheckStatus, DriftReport, DriftResourceView, DriftSummary, NotificationEvent, PropertyRevert,
    ResourceDrift, Role,
};
use infra::Phase;

use crate::audit;
use crate::db::{get, get_json, get_parsed};
use crate::environments::Environment;
use crate::error::ServerError;
use crate::lifecycle::Lifecycle;
use crate::people::User;
use crate::requests::deployed::deployed;
use crate::rollout::aws::{CloudFormation, Detection, PropertyDifference, ResourceDriftState};
use crate::rollout::sts::assume_environment;

/// A check still running this long after it started was left by a process that stopped: it is
/// marked failed, and another may start.
const STALE_MS: i64 = 30 * 60_000;
/// How long CloudFormation may take over one stack's detection.
const DETECTION_DEADLINE: Duration = Duration::from_secs(15 * 60);
/// Who asks for the checks the environment's policy schedules.
pub const SCHEDULED: &str = "schedule";

/// One resource's result, as stored.
struct Found {
    phase: Phase,
    stack: String,
    logical_id: String,
    physical_id: String,
    resource_type: String,
    status: ResourceDrift,
    differences: Vec<PropertyDifference>,
}

impl Lifecycle<'_> {
    /// Starts a check of `environment` on behalf of `who` (a person, or [`SCHEDULED`]): its id.
    /// A 422 when nothing runs there; a 409 while another check runs.
    pub async fn start_drift_check(&self, environment: &Environment, who: &str) -> Result<i64, ServerError> {
        let name = environment.name.as_str();
        if deployed(self.db, environment).await?.is_none() {
            return Err(ServerError::invalid(
                "environment",
                format!("environment `{name}` runs nothing (never deployed, or torn down): nothing to check"),
            ));
        }
        let now = self.clock.now_ms();
        let mut tx = self.db.begin_write().await?;
        sqlx::query(
            "UPDATE drift_checks SET status = $1, error = $2, finished_at = $3 \
             WHERE environment = $4 AND status = $5 AND started_at < $6",
        )
        .bind(DriftCheckStatus::Failed.as_str())
        .bind("interrupted: the portal process running it stopped")
        .bind(now)
        .bind(name)
        .bind(DriftCheckStatus::Running.as_str())
        .bind(now - STALE_MS)
        .execute(&mut *tx)
        .await?;
        let running = sqlx::query("SELECT id FROM drift_checks WHERE environment = $1 AND status = $2")
            .bind(name)
            .bind(DriftCheckStatus::Running.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = running {
            return Err(ServerError::Conflict(format!(
                "drift check {} of `{name}` is still running",
                get::<i64>(&row, "id")?
            )));
        }
        let row = sqlx::query(
            "INSERT INTO drift_checks (environment, requested_by, status, started_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(name)
        .bind(who)
        .bind(DriftCheckStatus::Running.as_str())
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                ServerError::Conflict(format!("a drift check of `{name}` is already running"))
            }
            _ => ServerError::Database(e),
        })?;
        tx.commit().await?;
        get(&row, "id")
    }

    /// A person's check: anyone who may see the environment's history may ask.
    pub async fn request_drift_check(&self, user: &User, environment: &Environment) -> Result<i64, ServerError> {
        user.require(&[Role::Requester, Role::Approver, Role::Admin], "check an environment for drift")?;
        self.start_drift_check(environment, &user.name).await
    }

    /// Runs a started check to its end and stores what it found; its verdict.
    pub async fn run_drift_check(&self, id: i64, environment: &Environment) -> Result<DriftCheckStatus, ServerError> {
        let who: String = get(
            &sqlx::query("SELECT requested_by FROM drift_checks WHERE id = $1")
                .bind(id)
                .fetch_one(&self.db.pool)
                .await?,
            "requested_by",
        )?;
        let found = match self.detect(id, environment, &who).await {
            Ok(Ok(found)) => found,
            Ok(Err(reason)) => return self.end_check(id, environment, &who, Err(reason)).await,
            Err(e) => return self.end_check(id, environment, &who, Err(e.to_string())).await,
        };
        self.end_check(id, environment, &who, Ok(found)).await
    }

    /// Every stack's detection; `Ok(Err(reason))` when the environment cannot be reached or a
    /// detection failed.
    async fn detect(
        &self,
        id: i64,
        environment: &Environment,
        who: &str,
    ) -> Result<Result<Vec<Found>, String>, ServerError> {
        let Some(base) = self.aws else { return Ok(Err("the portal has no AWS configuration".into())) };
        let Some(target) = self.registry().target(environment.name.as_str()).await? else {
            return Ok(Err(format!("environment `{}` is no longer registered", environment.name)));
        };
        let config = match assume_environment(base, &target, who, format!("portal-drift-{id}")).await? {
            Ok(config) => config,
            Err(reason) => return Ok(Err(reason)),
        };
        let cfn = CloudFormation::from_config(&config);
        let mut found = Vec::new();
        for phase in Phase::ALL {
            let stack = format!("{}-{}", environment.name, phase.slug());
            match cfn.stack(&stack).await? {
                Some(s) if s.status != "DELETE_COMPLETE" && s.status != "REVIEW_IN_PROGRESS" => {}
                _ => continue,
            }
            let detection = cfn.detect_drift(&stack).await?;
            if let Detection::Failed(reason) =
                cfn.settled_drift(&detection, Duration::from_secs(1), DETECTION_DEADLINE).await?
            {
                return Ok(Err(format!("drift detection of {stack} failed: {reason}")));
            }
            let results = cfn.resource_drifts(&stack).await?;
            for (logical_id, physical_id, resource_type) in cfn.stack_resources(&stack).await? {
                let result = results.iter().find(|r| r.logical_id == logical_id);
                let status = match result.map(|r| r.status) {
                    Some(ResourceDriftState::InSync) => ResourceDrift::InSync,
                    Some(ResourceDriftState::Modified) => ResourceDrift::Modified,
                    Some(ResourceDriftState::Deleted) => ResourceDrift::Deleted,
                    // Not in the results: CloudFormation did not check it.
                    Some(ResourceDriftState::NotChecked) | None => ResourceDrift::NotChecked,
                };
                let differences = result.map(|r| r.differences.clone()).unwrap_or_default();
                found.push(Found {
                    phase,
                    stack: stack.clone(),
                    logical_id,
                    physical_id,
                    resource_type,
                    status,
                    differences,
                });
            }
        }
        Ok(Ok(found))
    }

    /// Stores the results and the verdict, audited; a drifted environment is announced.
    async fn end_check(
        &self,
        id: i64,
        environment: &Environment,
        who: &str,
        outcome: Result<Vec<Found>, String>,
    ) -> Result<DriftCheckStatus, ServerError> {
        let name = environment.name.as_str();
        let (status, error, found) = match outcome {
            Err(reason) => (DriftCheckStatus::Failed, Some(reason), Vec::new()),
            Ok(found) => {
                let drifted =
                    found.iter().any(|f| matches!(f.status, ResourceDrift::Modified | ResourceDrift::Deleted));
                let checked = found.iter().any(|f| f.status == ResourceDrift::InSync);
                let status = match (drifted, checked) {
                    (true, _) => DriftCheckStatus::Drifted,
                    (false, true) => DriftCheckStatus::InSync,
                    (false, false) => DriftCheckStatus::NotChecked,
                };
                (status, None, found)
            }
        };
        let mut tx = self.db.begin_write().await?;
        for f in &found {
            sqlx::query(
                "INSERT INTO drift_resources (check_id, phase, stack_name, logical_id, physical_id, resource_type, status, \
                 differences) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (check_id, phase, logical_id) DO NOTHING",
            )
            .bind(id)
            .bind(i64::from(f.phase.number()))
            .bind(&f.stack)
            .bind(&f.logical_id)
            .bind(&f.physical_id)
            .bind(&f.resource_type)
            .bind(f.status.as_str())
            .bind(serde_json::to_string(&f.differences)?)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE drift_checks SET status = $1, error = $2, finished_at = $3 WHERE id = $4")
            .bind(status.as_str())
            .bind(error.as_deref())
            .bind(self.clock.now_ms())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let drifted: Vec<&str> = found
            .iter()
            .filter(|f| matches!(f.status, ResourceDrift::Modified | ResourceDrift::Deleted))
            .map(|f| f.logical_id.as_str())
            .collect();
        let subject = format!("environment:{name}");
        let details = serde_json::json!({
            "check_id": id, "status": status, "requested_by": who, "drifted": drifted, "error": error,
        });
        audit::append(self.db, &mut tx, "portal", AuditAction::DriftChecked, &subject, details.clone()).await?;
        if status == DriftCheckStatus::Drifted {
            let text = format!(
                "Environment `{name}` drifted: {} changed outside the portal ({}). Drift check {id}.",
                if drifted.len() == 1 { "1 resource".to_owned() } else { format!("{} resources", drifted.len()) },
                drifted.join(", ")
            );
            self.notifier.enqueue(&mut tx, NotificationEvent::DriftDetected, &subject, &text, details).await?;
        }
        tx.commit().await?;
        Ok(status)
    }

    /// Runs the checks the environments' policies have due; their ids.
    pub async fn check_drift_due(&self) -> Result<Vec<i64>, ServerError> {
        let now = self.clock.now_ms();
        let mut ran = Vec::new();
        for environment in self.registry().list().await? {
            let hours = environment.lifecycle.drift_check_hours;
            if hours == 0 || deployed(self.db, &environment).await?.is_none() {
                continue;
            }
            let last = self.latest_check(environment.name.as_str()).await?;
            if last.is_some_and(|c| c.started_at > now - hours * 3_600_000) {
                continue;
            }
            match self.start_drift_check(&environment, SCHEDULED).await {
                Ok(id) => {
                    self.run_drift_check(id, &environment).await?;
                    ran.push(id);
                }
                // Another process started it (or a person did): theirs counts.
                Err(ServerError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(ran)
    }

    /// The environment's newest check, if any.
    pub async fn latest_check(&self, environment: &str) -> Result<Option<DriftSummary>, ServerError> {
        Ok(self.latest_checks(Some(environment)).await?.remove(environment))
    }

    /// Every environment's newest check (or one environment's), by environment name: one query.
    pub async fn latest_checks(&self, environment: Option<&str>) -> Result<HashMap<String, DriftSummary>, ServerError> {
        let rows = sqlx::query(
            "SELECT c.*, \
             (SELECT COUNT(*) FROM drift_resources d WHERE d.check_id = c.id AND d.status IN ($2, $3)) AS drifted, \
             (SELECT COUNT(*) FROM drift_resources d WHERE d.check_id = c.id AND d.status = $4) AS not_checked \
             FROM drift_checks c WHERE c.id IN \
             (SELECT MAX(id) FROM drift_checks WHERE ($1 IS NULL OR environment = $1) GROUP BY environment)",
        )
        .bind(environment)
        .bind(ResourceDrift::Modified.as_str())
        .bind(ResourceDrift::Deleted.as_str())
        .bind(ResourceDrift::NotChecked.as_str())
        .fetch_all(&self.db.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let summary = DriftSummary {
                    check_id: get(row, "id")?,
                    status: get_parsed(row, "status")?,
                    started_at: get(row, "started_at")?,
                    finished_at: get(row, "finished_at")?,
                    drifted: get(row, "drifted")?,
                    not_checked: get(row, "not_checked")?,
                    requested_by: get(row, "requested_by")?,
                    error: get(row, "error")?,
                };
                Ok((get(row, "environment")?, summary))
            })
            .collect()
    }

    /// The environment's newest check with every resource it found.
    pub async fn drift_report(&self, environment: &str) -> Result<Option<DriftReport>, ServerError> {
        let Some(summary) = self.latest_check(environment).await? else { return Ok(None) };
        let rows = sqlx::query("SELECT * FROM drift_resources WHERE check_id = $1 ORDER BY phase, logical_id")
            .bind(summary.check_id)
            .fetch_all(&self.db.pool)
            .await?;
        let resources = rows
            .iter()
            .map(|r| {
                let differences: Vec<PropertyDifference> = get_json(r, "differences")?;
                Ok(DriftResourceView {
                    phase: get(r, "phase")?,
                    stack_name: get(r, "stack_name")?,
                    logical_id: get(r, "logical_id")?,
                    physical_id: get(r, "physical_id")?,
                    resource_type: get(r, "resource_type")?,
                    status: get_parsed(r, "status")?,
                    differences: differences
                        .into_iter()
                        .map(|d| PropertyRevert { path: d.path, actual: d.actual, expected: d.expected })
                        .collect(),
                })
            })
            .collect::<Result<Vec<_>, ServerError>>()?;
        Ok(Some(DriftReport { summary, resources }))
    }
}
