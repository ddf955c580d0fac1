//! The one error type of the `infra` crate.
//!
//! Every error names the file it came from and the logical id or key inside it,
//! so a person can go straight to the line that is wrong.

/// What is wrong inside a CloudFormation template.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TemplateProblem {
    #[error("unknown condition `{0}`")]
    UnknownCondition(String),
    #[error("parameter `{0}` has no value and no default")]
    MissingParameter(String),
    #[error("parameter `{name}`: {reason}")]
    InvalidParameter { name: String, reason: String },
    #[error("reference cycle: {0}")]
    Cycle(String),
    #[error("unsupported intrinsic function `{0}`")]
    UnsupportedIntrinsic(String),
    #[error("`{0}` is not a parameter, resource or pseudo parameter of this template")]
    UnknownReference(String),
    #[error("`{0}` is a resource whose condition is false here")]
    ExcludedResource(String),
    #[error("no earlier phase exports `{0}`")]
    MissingExport(String),
    #[error("{0}")]
    Malformed(String),
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InfraError {
    /// A template that does not parse as YAML or JSON.
    #[error("{file}: not a valid template: {message}")]
    Syntax { file: String, message: String },
    /// A template that parses but cannot be evaluated; `at` is e.g. `Resources.Database`.
    #[error("{file}: {at}: {problem}")]
    Template { file: String, at: String, problem: TemplateProblem },
    /// A tier, pricing or usage data file with a wrong, missing or unknown key.
    #[error("{file}: {key}: {message}")]
    Data { file: String, key: String, message: String },
    #[error("unknown tier `{0}`: expected one of development, production-lite, full-production")]
    UnknownTier(String),
    #[error("unknown option `{0}`: expected one of ecs_fargate, route53, elasticache_redis, sqs, sns")]
    UnknownOption(String),
    #[error("invalid environment name `{value}`: {reason}")]
    InvalidEnvironmentName { value: String, reason: &'static str },
    #[error("invalid domain name `{value}`: {reason}")]
    InvalidDomainName { value: String, reason: &'static str },
    #[error("invalid role ARN `{value}`: {reason}")]
    InvalidRoleArn { value: String, reason: String },
    #[error("no price `{price}` in the pricing catalog (needed for {resource})")]
    MissingPrice { price: String, resource: String },
}

impl InfraError {
    pub(crate) fn data(file: &str, key: impl Into<String>, message: impl Into<String>) -> Self {
        InfraError::Data { file: file.to_owned(), key: key.into(), message: message.into() }
    }
}

pub type Result<T, E = InfraError> = std::result::Result<T, E>;
