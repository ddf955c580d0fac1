//! CloudFormation and STS through the AWS SDK. The endpoint and credentials
//! follow the SDK's own configuration (`AWS_ENDPOINT_URL`, the default
//! credential chain); each environment is reached by assuming its deploy role.
//!
//! The operations here are the rollout engine's building blocks. Each one is
//! safe to repeat: mutating calls carry a client token, and lookups tell apart
//! "not there" from "failed".
//!
//! Over 400 lines on purpose: every CloudFormation call and the one place its errors are
//! classified (`classify`) stay together.

pub mod cost_explorer;
mod drift;

use std::time::Duration;

pub use drift::{Detection, PropertyDifference, ResourceDriftResult, ResourceDriftState};

use aws_sdk_cloudformation::types::{
    Capability, ChangeSetStatus, ChangeSetType, DeploymentMode, ExecutionStatus, Parameter, Tag,
};
use aws_sdk_cloudformation::Client;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::error::failed_text;
pub use crate::error::AwsError;

/// Classifies a failed call, once, from the SDK's error metadata.
pub(crate) fn classify<E, R>(operation: &'static str, e: &SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = e.code().unwrap_or_default().to_owned();
    let message = match e.message() {
        Some(message) => message.to_owned(),
        None => aws_sdk_cloudformation::error::DisplayErrorContext(e).to_string(),
    };
    if is_transient(e) {
        return AwsError::Transient { operation, message: failed_text(&code, &message) };
    }
    let missing = code == "ChangeSetNotFound"
        || code == "ChangeSetNotFoundException"
        || code == "StackNotFoundException"
        || (code == "ValidationError" && message.contains("does not exist"));
    if missing {
        return AwsError::NotFound { operation, message };
    }
    // CloudFormation refuses an empty update with a ValidationError of this text; an endpoint
    // may do so on CreateChangeSet instead of failing the change set.
    if code == "ValidationError" && message.contains("No updates are to be performed") {
        return AwsError::NothingToChange { operation };
    }
    AwsError::Failed { operation, code, message }
}

/// Throttling, timeouts, dropped connections and 5xx: worth another try, never a failed rollout.
fn is_transient<E, R>(e: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
{
    match e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(service) => matches!(
            service.err().code(),
            Some(
                "Throttling"
                    | "ThrottlingException"
                    | "RequestLimitExceeded"
                    | "TooManyRequestsException"
                    | "ServiceUnavailable"
                    | "InternalFailure"
                    | "RequestTimeout"
            )
        ),
        _ => false,
    }
}

/// Calls `op` until it succeeds or fails with a non-transient error; transient ones back off
/// (0.2 s doubling to 10 s) for up to `patience`. The SDK retries first; this outlasts longer storms.
pub async fn retrying<T, E, R, F, Fut>(operation: &'static str, patience: Duration, mut op: F) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, SdkError<E, R>>>,
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let started = tokio::time::Instant::now();
    let mut delay = Duration::from_millis(200);
    loop {
        match op().await {
            Ok(value) => return Ok(value),
            Err(e) => match classify(operation, &e) {
                AwsError::Transient { message, .. } if started.elapsed() < patience => {
                    tracing::warn!(operation, error = %message, "transient AWS error; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(10));
                }
                classified => return Err(classified),
            },
        }
    }
}

/// A stack as DescribeStacks reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct StackState {
    pub status: String,
    pub reason: String,
    pub outputs: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
    /// The parameter values the stack was last deployed with.
    pub parameters: Vec<(String, String)>,
}

impl StackState {
    pub fn in_progress(&self) -> bool {
        self.status.ends_with("_IN_PROGRESS")
    }

    pub fn succeeded(&self) -> bool {
        matches!(self.status.as_str(), "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "IMPORT_COMPLETE")
    }
}

/// What a change set is to do.
#[derive(Debug, Clone, Copy)]
pub struct ChangeSetRequest<'a> {
    pub stack_name: &'a str,
    pub name: &'a str,
    /// UPDATE an existing stack (else CREATE one).
    pub update: bool,
    /// `None`: the stack's own template (an update of parameters only).
    pub template_body: Option<&'a str>,
    pub parameters: &'a [(String, String)],
    /// The client token: the same for a repeated call.
    pub token: &'a str,
    /// The stack's tags (an update without any keeps the stack's own).
    pub tags: &'a [(String, String)],
    /// Parameters that keep the stack's current value (`UsePreviousValue`).
    pub keep_previous: &'a [String],
    /// A drift-aware change set that also puts back what changed outside CloudFormation.
    pub revert_drift: bool,
}

/// What CreateChangeSet did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    ChangeSet,
    /// The endpoint refused the change set because nothing would change (a success for us).
    NothingToChange,
}

/// A change set as DescribeChangeSet reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeSetState {
    pub status: String,
    pub execution_status: String,
    pub reason: String,
    pub changes: Vec<ResourceChange>,
}

impl ChangeSetState {
    pub fn pending(&self) -> bool {
        matches!(self.status.as_str(), "CREATE_PENDING" | "CREATE_IN_PROGRESS")
    }

    /// A change set that failed only because there was nothing to change.
    pub fn empty(&self) -> bool {
        self.status == ChangeSetStatus::Failed.as_str()
            && (self.reason.contains("didn't contain changes") || self.reason.contains("No updates"))
    }

    pub fn executable(&self) -> bool {
        self.status == ChangeSetStatus::CreateComplete.as_str()
            && self.execution_status == ExecutionStatus::Available.as_str()
    }
}

pub use app::model::{PropertyRevert, ResourceChange};

/// What a drift-aware change set puts back on a resource: each detail that carries the drift
/// (the value found outside CloudFormation) with the template's value.
fn drift_reverts(change: &aws_sdk_cloudformation::types::ResourceChange) -> Vec<PropertyRevert> {
    change
        .details()
        .iter()
        .filter_map(|d| d.target())
        .filter(|t| t.drift().is_some())
        .map(|t| PropertyRevert {
            path: t.path().or(t.name()).unwrap_or_default().to_owned(),
            actual: t.drift().and_then(|d| d.actual_value()).or(t.before_value()).unwrap_or_default().to_owned(),
            expected: t.after_value().unwrap_or_default().to_owned(),
        })
        .collect()
}

/// One stack event.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StackEvent {
    pub event_id: String,
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: String,
    /// RFC 3339.
    pub at: String,
    pub at_ms: i64,
    pub client_request_token: String,
}

#[derive(Clone)]
pub struct CloudFormation {
    client: Client,
    /// How long transient errors are retried before a call counts as failed.
    pub patience: Duration,
}

impl CloudFormation {
    pub fn from_config(config: &aws_config::SdkConfig) -> Self {
        Self { client: Client::new(config), patience: Duration::from_secs(300) }
    }

    /// The stack, or `None` when there is none of that name.
    pub async fn stack(&self, stack_name: &str) -> Result<Option<StackState>, AwsError> {
        let result =
            retrying("DescribeStacks", self.patience, || self.client.describe_stacks().stack_name(stack_name).send())
                .await;
        match result {
            Ok(out) => Ok(out.stacks().first().map(|s| StackState {
                status: s.stack_status().map(|x| x.as_str().to_owned()).unwrap_or_default(),
                reason: s.stack_status_reason().unwrap_or_default().to_owned(),
                outputs: s
                    .outputs()
                    .iter()
                    .map(|o| {
                        (o.output_key().unwrap_or_default().to_owned(), o.output_value().unwrap_or_default().to_owned())
                    })
                    .collect(),
                tags: s
                    .tags()
                    .iter()
                    .map(|t| (t.key().unwrap_or_default().to_owned(), t.value().unwrap_or_default().to_owned()))
                    .collect(),
                parameters: s
                    .parameters()
                    .iter()
                    .map(|p| {
                        (
                            p.parameter_key().unwrap_or_default().to_owned(),
                            p.parameter_value().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect(),
            })),
            Err(AwsError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The change set, or `None` when it was never created (or went with its deleted stack).
    pub async fn change_set(&self, stack_name: &str, name: &str) -> Result<Option<ChangeSetState>, AwsError> {
        let mut changes = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let result = retrying("DescribeChangeSet", self.patience, || {
                self.client
                    .describe_change_set()
                    .stack_name(stack_name)
                    .change_set_name(name)
                    .include_property_values(true)
                    .set_next_token(next.clone())
                    .send()
            })
            .await;
            let out = match result {
                Ok(out) => out,
                Err(AwsError::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(e),
            };
            for change in out.changes() {
                if let Some(rc) = change.resource_change() {
                    changes.push(ResourceChange {
                        action: rc.action().map(|a| a.as_str().to_owned()).unwrap_or_default(),
                        logical_id: rc.logical_resource_id().unwrap_or_default().to_owned(),
                        resource_type: rc.resource_type().unwrap_or_default().to_owned(),
                        replacement: rc.replacement().map(|r| r.as_str().to_owned()).unwrap_or_default(),
                        reverts: drift_reverts(rc),
                    });
                }
            }
            next = out.next_token().map(str::to_owned);
            if next.is_none() {
                return Ok(Some(ChangeSetState {
                    status: out.status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                    execution_status: out.execution_status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                    reason: out.status_reason().unwrap_or_default().to_owned(),
                    changes,
                }));
            }
        }
    }

    /// Creates a change set (CREATE for a new stack, UPDATE for an existing one). Its token makes
    /// a repeated call after a crash the same call, not a second change set.
    pub async fn create_change_set(&self, request: &ChangeSetRequest<'_>) -> Result<Created, AwsError> {
        let ChangeSetRequest {
            stack_name,
            name,
            update,
            template_body,
            parameters,
            token,
            tags,
            keep_previous,
            revert_drift,
        } = *request;
        let kept = keep_previous.iter().map(|k| Parameter::builder().parameter_key(k).use_previous_value(true).build());
        let parameters: Vec<Parameter> = parameters
            .iter()
            .map(|(k, v)| Parameter::builder().parameter_key(k).parameter_value(v).build())
            .chain(kept)
            .collect();
        let tags: Vec<Tag> = tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
        let kind = if update { ChangeSetType::Update } else { ChangeSetType::Create };
        let result = retrying("CreateChangeSet", self.patience, || {
            self.client
                .create_change_set()
                .stack_name(stack_name)
                .change_set_name(name)
                .change_set_type(kind.clone())
                .set_template_body(template_body.map(str::to_owned))
                .set_use_previous_template(template_body.is_none().then_some(true))
                .set_parameters(Some(parameters.clone()))
                .capabilities(Capability::CapabilityNamedIam)
                .capabilities(Capability::CapabilityIam)
                .set_tags((!tags.is_empty()).then(|| tags.clone()))
                .set_deployment_mode(revert_drift.then_some(DeploymentMode::RevertDrift))
                .client_token(token)
                .send()
        })
        .await;
        match result {
            Ok(_) => Ok(Created::ChangeSet),
            // Some endpoints refuse an empty update outright instead of failing the change set.
            Err(AwsError::NothingToChange { .. }) => Ok(Created::NothingToChange),
            Err(e) => Err(e),
        }
    }

    /// The change set once CloudFormation has finished computing it.
    pub async fn settled_change_set(
        &self,
        stack_name: &str,
        name: &str,
        poll: Duration,
    ) -> Result<ChangeSetState, AwsError> {
        loop {
            let state = self.change_set(stack_name, name).await?.ok_or_else(|| AwsError::NotFound {
                operation: "DescribeChangeSet",
                message: format!("change set {name} of {stack_name} vanished"),
            })?;
            if !state.pending() {
                return Ok(state);
            }
            tokio::time::sleep(poll).await;
        }
    }

    pub async fn execute_change_set(&self, stack_name: &str, name: &str, token: &str) -> Result<(), AwsError> {
        retrying("ExecuteChangeSet", self.patience, || {
            self.client
                .execute_change_set()
                .stack_name(stack_name)
                .change_set_name(name)
                .client_request_token(token)
                .send()
        })
        .await
        .map(|_| ())
    }

    pub async fn delete_stack(&self, stack_name: &str, token: &str) -> Result<(), AwsError> {
        retrying("DeleteStack", self.patience, || {
            self.client.delete_stack().stack_name(stack_name).client_request_token(token).send()
        })
        .await
        .map(|_| ())
    }

    pub async fn cancel_update(&self, stack_name: &str, token: &str) -> Result<(), AwsError> {
        retrying("CancelUpdateStack", self.patience, || {
            self.client.cancel_update_stack().stack_name(stack_name).client_request_token(token).send()
        })
        .await
        .map(|_| ())
    }

    /// The stack's events, oldest first. `seen` stops the paging early: events come newest first,
    /// so once one already recorded appears, the rest were read before.
    pub async fn events(
        &self,
        stack_name: &str,
        seen: &(dyn Fn(&str) -> bool + Sync),
    ) -> Result<Vec<StackEvent>, AwsError> {
        let mut events = Vec::new();
        let mut next: Option<String> = None;
        'pages: loop {
            let result = retrying("DescribeStackEvents", self.patience, || {
                self.client.describe_stack_events().stack_name(stack_name).set_next_token(next.clone()).send()
            })
            .await;
            let out = match result {
                Ok(out) => out,
                Err(AwsError::NotFound { .. }) => break,
                Err(e) => return Err(e),
            };
            for e in out.stack_events() {
                let event_id = e.event_id().unwrap_or_default().to_owned();
                if seen(&event_id) {
                    break 'pages;
                }
                events.push(StackEvent {
                    event_id,
                    logical_id: e.logical_resource_id().unwrap_or_default().to_owned(),
                    resource_type: e.resource_type().unwrap_or_default().to_owned(),
                    status: e.resource_status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                    reason: e.resource_status_reason().unwrap_or_default().to_owned(),
                    at: e
                        .timestamp()
                        .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
                        .unwrap_or_default(),
                    at_ms: e.timestamp().and_then(|t| t.to_millis().ok()).unwrap_or(0),
                    client_request_token: e.client_request_token().unwrap_or_default().to_owned(),
                });
            }
            next = out.next_token().map(str::to_owned);
            if next.is_none() {
                break;
            }
        }
        events.reverse();
        Ok(events)
    }

    /// How many resources the stack holds now.
    pub async fn resource_count(&self, stack_name: &str) -> Result<i64, AwsError> {
        let out = retrying("DescribeStackResources", self.patience, || {
            self.client.describe_stack_resources().stack_name(stack_name).send()
        })
        .await?;
        Ok(out.stack_resources().len() as i64)
    }
}

impl CloudFormation {
    pub async fn delete_change_set(&self, stack_name: &str, name: &str) -> Result<(), AwsError> {
        retrying("DeleteChangeSet", self.patience, || {
            self.client.delete_change_set().stack_name(stack_name).change_set_name(name).send()
        })
        .await
        .map(|_| ())
    }
}
