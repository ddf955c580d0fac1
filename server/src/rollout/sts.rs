//! STS: who the portal's own credentials are, and each environment's credentials, from assuming
//! its deploy role.

use std::time::Duration;

use crate::rollout::aws::{retrying, AwsError};

/// Which account and principal the portal's own credentials act as (STS GetCallerIdentity).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
    pub user_id: String,
}

pub async fn caller_identity(config: &aws_config::SdkConfig) -> Result<CallerIdentity, AwsError> {
    let client = aws_sdk_sts::Client::new(config);
    let out = retrying("GetCallerIdentity", Duration::from_secs(20), || client.get_caller_identity().send()).await?;
    Ok(CallerIdentity {
        account: out.account().unwrap_or_default().to_owned(),
        arn: out.arn().unwrap_or_default().to_owned(),
        user_id: out.user_id().unwrap_or_default().to_owned(),
    })
}

/// The SDK configuration for one environment: its region, and credentials from assuming its deploy
/// role (session named after the rollout). The SDK caches them and assumes the role again before
/// they expire, so a phase that outlasts one session (a Multi-AZ database) keeps going.
pub async fn environment_config(
    base: &aws_config::SdkConfig,
    role_arn: &str,
    region: &str,
    session_name: &str,
) -> aws_config::SdkConfig {
    let region = aws_config::Region::new(region.to_owned());
    let provider = aws_config::sts::AssumeRoleProvider::builder(role_arn)
        .session_name(session_name)
        .region(region.clone())
        .configure(base)
        .build()
        .await;
    base.to_builder()
        .region(region)
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(provider))
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(6))
        .build()
}

/// Why the environment's credentials could not be had.
#[derive(Debug)]
pub enum CredentialsProblem {
    /// STS did not answer in time: worth trying again later.
    Transient(String),
    /// The role cannot be assumed (access denied, no such role, bad ARN): the rollout fails.
    Refused(String),
}

/// Assumes the environment's deploy role once, up front, so a role the portal cannot assume ends
/// the rollout at once with STS's reason instead of failing every later call.
pub async fn check_credentials(config: &aws_config::SdkConfig, role_arn: &str) -> Result<(), CredentialsProblem> {
    use aws_credential_types::provider::error::CredentialsError;
    use aws_credential_types::provider::ProvideCredentials;
    let Some(provider) = config.credentials_provider() else {
        return Err(CredentialsProblem::Refused("the portal has no AWS credentials".into()));
    };
    match provider.provide_credentials().await {
        Ok(_) => Ok(()),
        Err(e @ CredentialsError::ProviderTimedOut(_)) => Err(CredentialsProblem::Transient(e.to_string())),
        Err(e) => Err(CredentialsProblem::Refused(format!(
            "cannot assume the deploy role {role_arn}: {}",
            aws_sdk_cloudformation::error::DisplayErrorContext(&e)
        ))),
    }
}
