//! CloudFormation through the AWS SDK: one phase deployed as one stack, by
//! change set. The endpoint and credentials follow the SDK's own
//! configuration (`AWS_ENDPOINT_URL`, the default credential chain).

use std::time::Duration;

use aws_sdk_cloudformation::types::{ChangeSetStatus, ChangeSetType, Parameter, StackStatus};
use aws_sdk_cloudformation::Client;
use infra::render::RenderedPhase;

use crate::error::ServerError;

#[derive(Debug, Clone, PartialEq)]
pub struct PhaseOutcome {
    pub stack_name: String,
    pub status: String,
    /// The change set held nothing to do: a success, not a failure.
    pub unchanged: bool,
    pub outputs: Vec<(String, String)>,
}

#[derive(Clone)]
pub struct CloudFormation {
    client: Client,
    poll: Duration,
}

fn aws_error(operation: &'static str, e: impl std::fmt::Display) -> ServerError {
    ServerError::Aws {
        operation,
        message: e.to_string(),
    }
}

/// The service's own code and message ("ValidationError: Template error: …"), not the raw response.
fn sdk_message<E, R>(e: &aws_smithy_runtime_api::client::result::SdkError<E, R>) -> String
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_smithy_types::error::metadata::ProvideErrorMetadata;
    match (e.code(), e.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (None, Some(message)) => message.to_owned(),
        _ => aws_sdk_cloudformation::error::DisplayErrorContext(e).to_string(),
    }
}

impl CloudFormation {
    pub fn from_config(config: &aws_config::SdkConfig) -> Self {
        Self {
            client: Client::new(config),
            poll: Duration::from_millis(200),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn stack_status(&self, stack_name: &str) -> Result<Option<(StackStatus, String)>, ServerError> {
        match self.client.describe_stacks().stack_name(stack_name).send().await {
            Ok(out) => Ok(out.stacks().first().and_then(|s| {
                Some((s.stack_status()?.clone(), s.stack_status_reason().unwrap_or_default().to_owned()))
            })),
            Err(e) => {
                let text = sdk_message(&e);
                if text.contains("does not exist") {
                    Ok(None)
                } else {
                    Err(aws_error("DescribeStacks", text))
                }
            }
        }
    }

    /// Creates or updates the phase's stack through a change set and waits for the result.
    /// `token` makes every mutating call idempotent, so a retried deploy never doubles work.
    pub async fn deploy(&self, phase: &RenderedPhase, token: &str) -> Result<PhaseOutcome, ServerError> {
        let stack = phase.stack_name.as_str();
        let existing = self.stack_status(stack).await?;
        let kind = match &existing {
            Some((status, _)) if *status != StackStatus::ReviewInProgress => ChangeSetType::Update,
            _ => ChangeSetType::Create,
        };
        let change_set = format!("{stack}-{token}");
        let parameters: Vec<Parameter> = phase
            .parameters
            .iter()
            .map(|(k, v)| Parameter::builder().parameter_key(k).parameter_value(v).build())
            .collect();
        let created = self
            .client
            .create_change_set()
            .stack_name(stack)
            .change_set_name(&change_set)
            .change_set_type(kind)
            .template_body(&phase.template_body)
            .set_parameters(Some(parameters))
            .capabilities(aws_sdk_cloudformation::types::Capability::CapabilityNamedIam)
            .capabilities(aws_sdk_cloudformation::types::Capability::CapabilityIam)
            .client_token(token)
            .send()
            .await;
        if let Err(e) = created {
            let text = sdk_message(&e);
            // Some endpoints refuse an empty update outright instead of failing the change set.
            if text.contains("No updates are to be performed") {
                return self.unchanged(stack).await;
            }
            return Err(aws_error("CreateChangeSet", text));
        }

        loop {
            let described = self
                .client
                .describe_change_set()
                .stack_name(stack)
                .change_set_name(&change_set)
                .send()
                .await
                .map_err(|e| aws_error("DescribeChangeSet", sdk_message(&e)))?;
            match described.status() {
                Some(ChangeSetStatus::CreateComplete) => break,
                Some(ChangeSetStatus::Failed) => {
                    let reason = described.status_reason().unwrap_or_default();
                    if reason.contains("didn't contain changes") || reason.contains("No updates") {
                        return self.unchanged(stack).await;
                    }
                    return Err(aws_error("CreateChangeSet", reason));
                }
                _ => tokio::time::sleep(self.poll).await,
            }
        }

        self.client
            .execute_change_set()
            .stack_name(stack)
            .change_set_name(&change_set)
            .client_request_token(token)
            .send()
            .await
            .map_err(|e| aws_error("ExecuteChangeSet", sdk_message(&e)))?;

        loop {
            let Some((status, reason)) = self.stack_status(stack).await? else {
                return Err(aws_error("DescribeStacks", format!("stack {stack} vanished during deployment")));
            };
            let text = status.as_str().to_owned();
            if text.ends_with("_IN_PROGRESS") || text == "REVIEW_IN_PROGRESS" {
                tokio::time::sleep(self.poll).await;
                continue;
            }
            if matches!(status, StackStatus::CreateComplete | StackStatus::UpdateComplete) {
                return Ok(PhaseOutcome {
                    stack_name: stack.to_owned(),
                    status: text,
                    unchanged: false,
                    outputs: self.outputs(stack).await?,
                });
            }
            return Err(aws_error("ExecuteChangeSet", format!("stack {stack} ended {text}: {reason}")));
        }
    }

    async fn unchanged(&self, stack: &str) -> Result<PhaseOutcome, ServerError> {
        Ok(PhaseOutcome {
            stack_name: stack.to_owned(),
            status: "UNCHANGED".into(),
            unchanged: true,
            outputs: self.outputs(stack).await?,
        })
    }

    pub async fn outputs(&self, stack_name: &str) -> Result<Vec<(String, String)>, ServerError> {
        let out = self
            .client
            .describe_stacks()
            .stack_name(stack_name)
            .send()
            .await
            .map_err(|e| aws_error("DescribeStacks", sdk_message(&e)))?;
        Ok(out
            .stacks()
            .first()
            .map(|s| {
                s.outputs()
                    .iter()
                    .map(|o| {
                        (
                            o.output_key().unwrap_or_default().to_owned(),
                            o.output_value().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default())
    }
}

/// Which account and principal the portal's own credentials act as (STS GetCallerIdentity).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
    pub user_id: String,
}

pub async fn caller_identity(config: &aws_config::SdkConfig) -> Result<CallerIdentity, ServerError> {
    let out = aws_sdk_sts::Client::new(config)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| aws_error("GetCallerIdentity", sdk_message(&e)))?;
    Ok(CallerIdentity {
        account: out.account().unwrap_or_default().to_owned(),
        arn: out.arn().unwrap_or_default().to_owned(),
        user_id: out.user_id().unwrap_or_default().to_owned(),
    })
}
