//! What an update will change, shown before approval: for a request whose environment already
//! runs, each phase's template goes into a change set against the live stack (in the target
//! account, through its deploy role), CloudFormation's answer is stored with the request, and
//! the change set is deleted again. Nothing is executed.

use std::time::Duration;

use std::sync::Arc;

use app::model::{PreviewPhase, PreviewStatus, PreviewView, RequestKind, ResourceChange, RolloutStatus};
use infra::Catalog;

use crate::db::{get, get_json, get_parsed, now_ms, Database};
use crate::error::ServerError;
use crate::requests::RequestRecord;
use crate::rollout::aws::{AwsError, ChangeSetRequest, CloudFormation, Created};
use crate::rollout::spec::{stored_spec, StoredTarget};
use crate::rollout::sts::{environment_config, DeployRole};

/// What computing a preview needs.
pub struct Previews<'a> {
    pub db: &'a Database,
    pub catalog: &'a Arc<Catalog>,
    /// The portal's own AWS configuration; without it no preview is computed.
    pub aws: Option<&'a aws_config::SdkConfig>,
}

/// Whether the portal has deployed this request's environment before (an update, not a new one).
async fn environment_runs(db: &Database, request: &RequestRecord) -> Result<bool, ServerError> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM rollouts WHERE account_id = $1 AND region = $2 AND environment = $3 \
         AND kind IN ($4, $6, $7) AND status = $5",
    )
    .bind(&request.account_id)
    .bind(request.region.as_str())
    .bind(request.environment.as_str())
    .bind(RequestKind::Deploy.as_str())
    .bind(RolloutStatus::Succeeded.as_str())
    .bind(RequestKind::Upgrade.as_str())
    .bind(RequestKind::Repair.as_str())
    .fetch_one(&db.pool)
    .await?;
    Ok(get::<i64>(&row, "n")? > 0)
}

pub async fn load(db: &Database, request_id: i64) -> Result<Option<PreviewView>, ServerError> {
    let Some(row) = sqlx::query("SELECT status, error, phases FROM request_previews WHERE request_id = $1")
        .bind(request_id)
        .fetch_optional(&db.pool)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(PreviewView {
        status: get_parsed(&row, "status")?,
        error: get(&row, "error")?,
        phases: get_json(&row, "phases")?,
    }))
}

async fn store(
    db: &Database,
    request_id: i64,
    status: PreviewStatus,
    error: Option<&str>,
    phases: &[PreviewPhase],
) -> Result<(), ServerError> {
    sqlx::query(
        "INSERT INTO request_previews (request_id, status, error, phases, updated_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (request_id) DO UPDATE SET status = excluded.status, error = excluded.error, phases = excluded.phases, \
         updated_at = excluded.updated_at",
    )
    .bind(request_id)
    .bind(status.as_str())
    .bind(error)
    .bind(serde_json::to_string(phases)?)
    .bind(now_ms())
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Starts computing the preview of a new deploy request in the background, if its environment
/// already runs. The request page shows "computing" until it is stored. A preview that cannot be
/// started is logged: the request itself stands.
impl Previews<'_> {
    pub async fn start(&self, request: &RequestRecord) {
        if let Err(e) = self.try_start(request).await {
            tracing::warn!(request = request.id, error = %e, "the change preview could not be started");
        }
    }

    async fn try_start(&self, request: &RequestRecord) -> Result<(), ServerError> {
        let Some(aws) = self.aws.cloned() else { return Ok(()) };
        // An adoption is previewed even where the portal never deployed: its stacks exist.
        if !request.kind.deploys() || !(request.adopt || environment_runs(self.db, request).await?) {
            return Ok(());
        }
        // The preview reads the account through the environment's deploy role, as a rollout would.
        let registry = crate::environments::Environments { db: self.db, catalog: self.catalog };
        let Some(target) = registry.target(request.environment.as_str()).await? else { return Ok(()) };
        let session = format!("portal-preview-{}", request.id);
        let role = DeployRole::new(&request.role_arn, target.external_id, &request.requester, session);
        store(self.db, request.id, PreviewStatus::Computing, None, &[]).await?;
        let (db, catalog, request) = (self.db.clone(), self.catalog.clone(), request.clone());
        tokio::spawn(async move {
            let stored = match compute(&catalog, &aws, role, &request).await {
                Ok(phases) => store(&db, request.id, PreviewStatus::Ready, None, &phases).await,
                Err(e) => store(&db, request.id, PreviewStatus::Failed, Some(&e.to_string()), &[]).await,
            };
            if let Err(e) = stored {
                tracing::warn!(request = request.id, error = %e, "storing the change preview failed");
            }
        });
        Ok(())
    }
}

/// Why a preview could not be computed.
#[derive(Debug, thiserror::Error)]
enum PreviewError {
    #[error("the request no longer renders: {0}")]
    Unrenderable(#[from] infra::InfraError),
    #[error(transparent)]
    Aws(#[from] AwsError),
}

async fn compute(
    catalog: &Catalog,
    base: &aws_config::SdkConfig,
    role: DeployRole,
    request: &RequestRecord,
) -> Result<Vec<PreviewPhase>, PreviewError> {
    // A repair's approvers see what it will put back.
    let revert_drift = request.kind == RequestKind::Repair;
    let options = request.option_names();
    let target = StoredTarget {
        tier: request.tier,
        options: &options,
        environment: &request.environment,
        region: request.region,
        domain_name: request.domain_name.as_ref(),
    };
    let spec = stored_spec(catalog, target)?;
    let phases = infra::render::render(catalog, &spec)?;
    let evaluation = catalog.evaluate(&spec)?;
    let config = environment_config(base, role, request.region.as_str());
    let cfn = CloudFormation::from_config(&config);
    let mut out = Vec::new();
    for (phase, evaluated) in phases.iter().zip(&evaluation.phases) {
        let number = i64::from(phase.phase.number());
        let stack = phase.stack_name.as_str();
        let live =
            cfn.stack(stack).await?.filter(|s| s.status != "REVIEW_IN_PROGRESS" && s.status != "ROLLBACK_COMPLETE");
        if live.is_none() {
            // A stack that does not exist yet: everything in the template is added.
            let changes = evaluated
                .resources
                .iter()
                .map(|r| ResourceChange {
                    action: "Add".into(),
                    logical_id: r.key.logical_id.clone(),
                    resource_type: r.resource_type.clone(),
                    replacement: String::new(),
                    reverts: Vec::new(),
                })
                .collect();
            out.push(PreviewPhase { number, stack_name: stack.to_owned(), new_stack: true, changes });
            continue;
        }
        let name = format!("portal-preview-{}-q{}-p{number}", request.environment, request.id);
        let request = ChangeSetRequest {
            stack_name: stack,
            name: &name,
            update: true,
            template_body: Some(&phase.template_body),
            parameters: &phase.parameters,
            token: &name,
            tags: &[],
            keep_previous: &[],
            revert_drift,
        };
        let created = cfn.create_change_set(&request).await?;
        let changes = if created == Created::NothingToChange {
            Vec::new()
        } else {
            let state = cfn.settled_change_set(stack, &name, Duration::from_millis(300)).await;
            // A preview leaves nothing behind, whatever CloudFormation made of it.
            let _ = cfn.delete_change_set(stack, &name).await;
            let state = state?;
            if state.status == "FAILED" && !state.empty() {
                let refused =
                    AwsError::Failed { operation: "CreateChangeSet", code: String::new(), message: state.reason };
                return Err(refused.into());
            }
            state.changes
        };
        out.push(PreviewPhase { number, stack_name: stack.to_owned(), new_stack: false, changes });
    }
    Ok(out)
}
