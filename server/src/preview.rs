//! What an update will change, shown before approval: for a request whose environment already
//! runs, each phase's template goes into a change set against the live stack (in the target
//! account, through its deploy role), CloudFormation's answer is stored with the request, and
//! the change set is deleted again. Nothing is executed.

use std::time::Duration;

use app::model::{PreviewPhase, PreviewView, ResourceChange};

use crate::aws::{environment_config, CloudFormation, Created};
use crate::db::{db_error, get, now_ms, Database};
use crate::error::ServerError;
use crate::requests::RequestRecord;
use crate::state::Portal;

/// Whether the portal has deployed this request's environment before (an update, not a new one).
async fn environment_runs(db: &Database, request: &RequestRecord) -> Result<bool, ServerError> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM rollouts WHERE account_id = $1 AND region = $2 AND environment = $3 \
         AND kind = 'deploy' AND status = 'succeeded'",
    )
    .bind(&request.account_id)
    .bind(&request.region)
    .bind(&request.environment)
    .fetch_one(&db.pool)
    .await
    .map_err(db_error)?;
    Ok(get::<i64>(&row, "n")? > 0)
}

pub async fn load(db: &Database, request_id: i64) -> Result<Option<PreviewView>, ServerError> {
    let Some(row) = sqlx::query("SELECT status, error, phases FROM request_previews WHERE request_id = $1")
        .bind(request_id)
        .fetch_optional(&db.pool)
        .await
        .map_err(db_error)?
    else {
        return Ok(None);
    };
    let phases: String = get(&row, "phases")?;
    Ok(Some(PreviewView {
        status: get(&row, "status")?,
        error: get(&row, "error")?,
        phases: serde_json::from_str(&phases).unwrap_or_default(),
    }))
}

async fn store(
    db: &Database,
    request_id: i64,
    status: &str,
    error: Option<&str>,
    phases: &[PreviewPhase],
) -> Result<(), ServerError> {
    sqlx::query(
        "INSERT INTO request_previews (request_id, status, error, phases, updated_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (request_id) DO UPDATE SET status = excluded.status, error = excluded.error, phases = excluded.phases, \
         updated_at = excluded.updated_at",
    )
    .bind(request_id)
    .bind(status)
    .bind(error)
    .bind(serde_json::to_string(phases).unwrap_or_else(|_| "[]".into()))
    .bind(now_ms())
    .execute(&db.pool)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// Starts computing the preview of a new deploy request in the background, if its environment
/// already runs. The request page shows "computing" until it is stored. A preview that cannot be
/// started is logged: the request itself stands.
pub async fn start(portal: &Portal, request: &RequestRecord) {
    if let Err(e) = try_start(portal, request).await {
        tracing::warn!(request = request.id, error = %e, "the change preview could not be started");
    }
}

async fn try_start(portal: &Portal, request: &RequestRecord) -> Result<(), ServerError> {
    let Some(aws) = portal.aws.clone() else { return Ok(()) };
    if request.kind != "deploy" || !environment_runs(&portal.db, request).await? {
        return Ok(());
    }
    store(&portal.db, request.id, "computing", None, &[]).await?;
    let (db, catalog, request) = (portal.db.clone(), portal.catalog.clone(), request.clone());
    tokio::spawn(async move {
        let outcome = compute(&catalog.catalog, &aws, &request).await;
        let stored = match outcome {
            Ok(phases) => store(&db, request.id, "ready", None, &phases).await,
            Err(e) => store(&db, request.id, "failed", Some(&e.to_string()), &[]).await,
        };
        if let Err(e) = stored {
            tracing::warn!(request = request.id, error = %e, "storing the change preview failed");
        }
    });
    Ok(())
}

async fn compute(
    catalog: &infra::Catalog,
    base: &aws_config::SdkConfig,
    request: &RequestRecord,
) -> Result<Vec<PreviewPhase>, ServerError> {
    let options: Vec<String> = serde_json::from_value(request.options.clone()).unwrap_or_default();
    let unrenderable = |e: String| ServerError::Startup(format!("the request no longer renders: {e}"));
    let spec = crate::rollout::request_spec(catalog, &request.tier, &options, &request.environment, &request.region)
        .map_err(unrenderable)?;
    let phases = infra::render::render(catalog, &spec).map_err(|e| unrenderable(e.to_string()))?;
    let evaluation = catalog.evaluate(&spec).map_err(|e| unrenderable(e.to_string()))?;
    let config =
        environment_config(base, &request.role_arn, &request.region, &format!("portal-preview-{}", request.id)).await;
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
                })
                .collect();
            out.push(PreviewPhase { number, stack_name: stack.to_owned(), new_stack: true, changes });
            continue;
        }
        let name = format!("portal-preview-{}-q{}-p{number}", request.environment, request.id);
        let created = cfn.create_change_set(stack, &name, true, &phase.template_body, &phase.parameters, &name).await?;
        let changes = if created == Created::NothingToChange {
            Vec::new()
        } else {
            let state = cfn.settled_change_set(stack, &name, Duration::from_millis(300)).await;
            // A preview leaves nothing behind, whatever CloudFormation made of it.
            let _ = cfn.delete_change_set(stack, &name).await;
            let state = state?;
            if state.status == "FAILED" && !state.empty() {
                return Err(ServerError::Aws { operation: "CreateChangeSet", message: state.reason });
            }
            state.changes
        };
        out.push(PreviewPhase { number, stack_name: stack.to_owned(), new_stack: false, changes });
    }
    Ok(out)
}
