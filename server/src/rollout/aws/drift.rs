//! CloudFormation drift detection: start it on a stack, wait for it, read each resource's result.
//! Read-only towards the resources; CloudFormation compares what the template says with what
//! AWS holds, for the resource types it can check (the others come back NOT_CHECKED).

use std::time::Duration;

use aws_sdk_cloudformation::types::{StackDriftDetectionStatus, StackResourceDriftStatus};

use crate::rollout::aws::{retrying, AwsError, CloudFormation};

/// One resource of a stack as a drift detection found it.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceDriftResult {
    pub logical_id: String,
    pub physical_id: String,
    pub resource_type: String,
    pub status: ResourceDriftState,
    pub differences: Vec<PropertyDifference>,
}

/// CloudFormation's verdict on one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceDriftState {
    InSync,
    Modified,
    Deleted,
    NotChecked,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PropertyDifference {
    /// `/SecurityGroupIngress/0/CidrIp`.
    pub path: String,
    pub expected: String,
    pub actual: String,
    /// ADD, REMOVE or NOT_EQUAL.
    pub kind: String,
}

/// How a detection ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Detection {
    Complete,
    /// CloudFormation could not finish it: its reason.
    Failed(String),
}

impl CloudFormation {
    /// Starts a drift detection of the whole stack; its id.
    pub async fn detect_drift(&self, stack_name: &str) -> Result<String, AwsError> {
        let out = retrying("DetectStackDrift", self.patience, || {
            self.client.detect_stack_drift().stack_name(stack_name).send()
        })
        .await?;
        out.stack_drift_detection_id().map(str::to_owned).ok_or_else(|| AwsError::Failed {
            operation: "DetectStackDrift",
            code: String::new(),
            message: format!("CloudFormation started no drift detection of {stack_name}"),
        })
    }

    /// Waits (polling every `poll`, at most `deadline`) until the detection is no longer in progress.
    pub async fn settled_drift(
        &self,
        detection: &str,
        poll: Duration,
        deadline: Duration,
    ) -> Result<Detection, AwsError> {
        let started = tokio::time::Instant::now();
        loop {
            let out = retrying("DescribeStackDriftDetectionStatus", self.patience, || {
                self.client.describe_stack_drift_detection_status().stack_drift_detection_id(detection).send()
            })
            .await?;
            match out.detection_status() {
                Some(StackDriftDetectionStatus::DetectionComplete) => return Ok(Detection::Complete),
                Some(StackDriftDetectionStatus::DetectionFailed) => {
                    let reason = out.detection_status_reason().unwrap_or("no reason given");
                    return Ok(Detection::Failed(reason.to_owned()));
                }
                _ if started.elapsed() > deadline => {
                    return Ok(Detection::Failed(format!(
                        "still in progress after {} s; the portal stopped waiting",
                        deadline.as_secs()
                    )))
                }
                _ => tokio::time::sleep(poll).await,
            }
        }
    }

    /// Every resource's result of the stack's latest detection.
    pub async fn resource_drifts(&self, stack_name: &str) -> Result<Vec<ResourceDriftResult>, AwsError> {
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let page = retrying("DescribeStackResourceDrifts", self.patience, || {
                self.client.describe_stack_resource_drifts().stack_name(stack_name).set_next_token(next.clone()).send()
            })
            .await?;
            for drift in page.stack_resource_drifts() {
                out.push(ResourceDriftResult {
                    logical_id: drift.logical_resource_id().unwrap_or_default().to_owned(),
                    physical_id: drift.physical_resource_id().unwrap_or_default().to_owned(),
                    resource_type: drift.resource_type().unwrap_or_default().to_owned(),
                    status: match drift.stack_resource_drift_status() {
                        Some(StackResourceDriftStatus::InSync) => ResourceDriftState::InSync,
                        Some(StackResourceDriftStatus::Modified) => ResourceDriftState::Modified,
                        Some(StackResourceDriftStatus::Deleted) => ResourceDriftState::Deleted,
                        // NOT_CHECKED, UNKNOWN and anything newer: never taken for in sync.
                        _ => ResourceDriftState::NotChecked,
                    },
                    differences: drift
                        .property_differences()
                        .iter()
                        .map(|d| PropertyDifference {
                            path: d.property_path().unwrap_or_default().to_owned(),
                            expected: d.expected_value().unwrap_or_default().to_owned(),
                            actual: d.actual_value().unwrap_or_default().to_owned(),
                            kind: d.difference_type().map(|t| t.as_str().to_owned()).unwrap_or_default(),
                        })
                        .collect(),
                });
            }
            next = page.next_token().map(str::to_owned);
            if next.is_none() {
                return Ok(out);
            }
        }
    }

    /// The stack's resources (logical id, physical id, type): the ones a detection leaves out are
    /// not checked.
    pub async fn stack_resources(&self, stack_name: &str) -> Result<Vec<(String, String, String)>, AwsError> {
        let out = retrying("DescribeStackResources", self.patience, || {
            self.client.describe_stack_resources().stack_name(stack_name).send()
        })
        .await?;
        Ok(out
            .stack_resources()
            .iter()
            .map(|r| {
                (
                    r.logical_resource_id().unwrap_or_default().to_owned(),
                    r.physical_resource_id().unwrap_or_default().to_owned(),
                    r.resource_type().unwrap_or_default().to_owned(),
                )
            })
            .collect())
    }
}
