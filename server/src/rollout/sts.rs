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

/// How the portal assumes an environment's deploy role: with the ExternalId the environment was
/// registered with (its trust policy requires it) and the requester as `SourceIdentity`, so
/// CloudTrail names the person behind every call the session makes.
#[derive(Debug, Clone)]
pub struct DeployRole {
    pub role_arn: String,
    pub external_id: String,
    pub source_identity: String,
    pub session_name: String,
}

impl DeployRole {
    /// The role assumed for `requester`'s request, with the environment's ExternalId.
    pub fn new(role_arn: &infra::RoleArn, external_id: String, requester: &str, session_name: String) -> DeployRole {
        DeployRole {
            role_arn: role_arn.as_str().to_owned(),
            external_id,
            source_identity: source_identity(requester),
            session_name,
        }
    }
}

/// A `SourceIdentity` STS accepts (2 to 64 of `[A-Za-z0-9+=,.@-]`) naming a user: other
/// characters become `-`.
fn source_identity(user_name: &str) -> String {
    let mut id: String = user_name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "+=,.@-".contains(c) { c } else { '-' })
        .take(64)
        .collect();
    while id.len() < 2 {
        id.push('-');
    }
    id
}

/// The credentials of a [`DeployRole`], assumed with the portal's own credentials. The SDK's
/// identity cache keeps them until shortly before they expire, then asks again, so a phase that
/// outlasts one session (a Multi-AZ database) keeps going.
#[derive(Debug)]
struct DeployRoleCredentials {
    sts: aws_sdk_sts::Client,
    role: DeployRole,
}

impl DeployRoleCredentials {
    async fn assume(&self) -> aws_credential_types::provider::Result {
        use aws_credential_types::provider::error::CredentialsError;
        let out = self
            .sts
            .assume_role()
            .role_arn(&self.role.role_arn)
            .role_session_name(&self.role.session_name)
            .external_id(&self.role.external_id)
            .source_identity(&self.role.source_identity)
            .send()
            .await
            .map_err(|e| match crate::rollout::aws::classify("AssumeRole", &e) {
                AwsError::Transient { .. } => CredentialsError::provider_timed_out(Duration::from_secs(0)),
                other => CredentialsError::provider_error(other),
            })?;
        let Some(credentials) = out.credentials() else {
            return Err(CredentialsError::provider_error(AwsError::Failed {
                operation: "AssumeRole",
                code: String::new(),
                message: "STS answered without credentials".into(),
            }));
        };
        let expiry = std::time::SystemTime::try_from(*credentials.expiration()).ok();
        Ok(aws_credential_types::Credentials::new(
            credentials.access_key_id(),
            credentials.secret_access_key(),
            Some(credentials.session_token().to_owned()),
            expiry,
            "ConcertPortalDeployRole",
        ))
    }
}

impl aws_credential_types::provider::ProvideCredentials for DeployRoleCredentials {
    fn provide_credentials<'a>(&'a self) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::new(self.assume())
    }
}

/// The SDK configuration for one environment: its region, and the credentials of its deploy role.
pub fn environment_config(base: &aws_config::SdkConfig, role: DeployRole, region: &str) -> aws_config::SdkConfig {
    let region = aws_config::Region::new(region.to_owned());
    let sts = aws_sdk_sts::Client::from_conf(aws_sdk_sts::config::Builder::from(base).region(region.clone()).build());
    let provider = DeployRoleCredentials { sts, role };
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

/// The SDK configuration that acts in a registered environment: its deploy role assumed with its
/// ExternalId and `requester` as `SourceIdentity`, in its region, once STS confirmed the
/// credentials act in its registered account. `Ok(Err(reason))` when the role is refused or lands
/// elsewhere (nothing may be changed then); `Err` when STS did not answer (try again later).
pub async fn assume_environment(
    base: &aws_config::SdkConfig,
    target: &crate::environments::registry::DeployTarget,
    requester: &str,
    session_name: String,
) -> Result<Result<aws_config::SdkConfig, String>, AwsError> {
    let environment = &target.environment;
    let role = DeployRole::new(&environment.role_arn, target.external_id.clone(), requester, session_name);
    let config = environment_config(base, role, environment.region.as_str());
    match check_credentials(&config, environment.role_arn.as_str()).await {
        Ok(()) => {}
        Err(CredentialsProblem::Refused(reason)) => return Ok(Err(reason)),
        Err(CredentialsProblem::Transient(message)) => {
            return Err(AwsError::Transient { operation: "AssumeRole", message })
        }
    }
    match caller_identity(&config).await {
        Ok(identity) if identity.account == environment.account_id.as_str() => Ok(Ok(config)),
        Ok(identity) => Ok(Err(format!(
            "the deploy role's credentials act in account {} ({}), not environment `{}`'s account {}: \
             nothing was changed",
            identity.account, identity.arn, environment.name, environment.account_id
        ))),
        Err(e @ AwsError::Transient { .. }) => Err(e),
        Err(e) => Ok(Err(format!("cannot tell which account the deploy role acts in: {e}"))),
    }
}

/// The SDK configuration a rollout acts with in its environment: the registered environment's
/// deploy role, assumed with its ExternalId and the requester as SourceIdentity, once up front,
/// STS asked which account the credentials act in. A registration changed since the approval, a
/// role the portal cannot assume, or one that lands in another account ends the rollout before
/// any change (`Ok(Err(reason))`); an STS that does not answer interrupts it, to be resumed.
pub(crate) async fn job_environment(
    registry: &crate::environments::Environments<'_>,
    base: Option<&aws_config::SdkConfig>,
    id: i64,
    job: &crate::rollout::store::Job,
) -> Result<Result<aws_config::SdkConfig, String>, crate::error::ServerError> {
    let Some(base) = base else {
        return Ok(Err("the portal has no AWS configuration".to_owned()));
    };
    let name = job.environment.as_str();
    let Some(target) = registry.target(name).await? else {
        return Ok(Err(format!("environment `{name}` is not registered: an admin registers it, then retry")));
    };
    let registered = &target.environment;
    if registered.account_id.as_str() != job.account_id
        || registered.region != job.region
        || registered.role_arn != job.role_arn
    {
        return Ok(Err(format!(
            "environment `{name}` is registered with {} in {} / {} now, not {} in {} / {} as approved: request it again",
            registered.role_arn.as_str(),
            registered.account_id,
            registered.region.as_str(),
            job.role_arn.as_str(),
            job.account_id,
            job.region.as_str()
        )));
    }
    Ok(assume_environment(base, &target, &job.requester, format!("portal-rollout-{id}")).await?)
}
