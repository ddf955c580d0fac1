//! Domain types that can only hold valid values, built at the edge
//! (CLI argument, HTTP path, form field) and trusted everywhere after.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::InfraError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TierId {
    Development,
    ProductionLite,
    FullProduction,
}

impl TierId {
    pub const ALL: [TierId; 3] = [TierId::Development, TierId::ProductionLite, TierId::FullProduction];

    pub fn as_str(self) -> &'static str {
        match self {
            TierId::Development => "development",
            TierId::ProductionLite => "production-lite",
            TierId::FullProduction => "full-production",
        }
    }
}

impl FromStr for TierId {
    type Err = InfraError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TierId::ALL.into_iter().find(|t| t.as_str() == s).ok_or_else(|| InfraError::UnknownTier(s.to_owned()))
    }
}

impl fmt::Display for TierId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The seed's optional services, each switched on by one template parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceOption {
    EcsFargate,
    Route53,
    ElasticacheRedis,
    Sqs,
    Sns,
}

impl ServiceOption {
    pub const ALL: [ServiceOption; 5] = [
        ServiceOption::EcsFargate,
        ServiceOption::Route53,
        ServiceOption::ElasticacheRedis,
        ServiceOption::Sqs,
        ServiceOption::Sns,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceOption::EcsFargate => "ecs_fargate",
            ServiceOption::Route53 => "route53",
            ServiceOption::ElasticacheRedis => "elasticache_redis",
            ServiceOption::Sqs => "sqs",
            ServiceOption::Sns => "sns",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ServiceOption::EcsFargate => "ECS Fargate service",
            ServiceOption::Route53 => "Route 53 DNS",
            ServiceOption::ElasticacheRedis => "ElastiCache Redis",
            ServiceOption::Sqs => "SQS queue",
            ServiceOption::Sns => "SNS notifications",
        }
    }

    /// The template parameter that switches this option on.
    pub fn parameter(self) -> &'static str {
        match self {
            ServiceOption::EcsFargate => "EnableEcsFargate",
            ServiceOption::Route53 => "EnableRoute53",
            ServiceOption::ElasticacheRedis => "EnableRedis",
            ServiceOption::Sqs => "EnableSqs",
            ServiceOption::Sns => "EnableSns",
        }
    }
}

impl FromStr for ServiceOption {
    type Err = InfraError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ServiceOption::ALL.into_iter().find(|o| o.as_str() == s).ok_or_else(|| InfraError::UnknownOption(s.to_owned()))
    }
}

pub type OptionSet = BTreeSet<ServiceOption>;

/// Prefix of every stack name (`<environment>-<phase>`) and of every export.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct EnvironmentName(String);

impl EnvironmentName {
    pub fn parse(value: &str) -> Result<Self, InfraError> {
        let fail = |reason| InfraError::InvalidEnvironmentName { value: value.to_owned(), reason };
        // The longest stack name is `<env>-serverless`: 128 characters at most on AWS,
        // and bucket names derived from it must stay under 63.
        if value.len() < 3 || value.len() > 28 {
            return Err(fail("it must be 3 to 28 characters long"));
        }
        if !value.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(fail("it must start with a lowercase letter"));
        }
        if !value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            return Err(fail("only lowercase letters, digits and hyphens are allowed"));
        }
        if value.ends_with('-') || value.contains("--") {
            return Err(fail("hyphens may not end it or stand two in a row"));
        }
        Ok(EnvironmentName(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for EnvironmentName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        EnvironmentName::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for EnvironmentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An AWS region this portal knows the availability zones of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Region(&'static str);

const REGIONS: &[(&str, &[&str])] = &[
    ("us-east-1", &["a", "b", "c", "d", "e", "f"]),
    ("us-east-2", &["a", "b", "c"]),
    ("us-west-1", &["a", "c"]),
    ("us-west-2", &["a", "b", "c", "d"]),
    ("eu-west-1", &["a", "b", "c"]),
    ("eu-central-1", &["a", "b", "c"]),
    ("ap-southeast-1", &["a", "b", "c"]),
    ("ap-northeast-1", &["a", "c", "d"]),
];

impl Region {
    pub const US_EAST_1: Region = Region("us-east-1");

    pub fn parse(value: &str) -> Result<Self, InfraError> {
        REGIONS.iter().find(|(name, _)| *name == value).map(|(name, _)| Region(name)).ok_or_else(|| {
            InfraError::data(
                "region",
                value,
                format!("unknown region; known: {}", REGIONS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")),
            )
        })
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }

    pub fn availability_zones(self) -> Vec<String> {
        REGIONS
            .iter()
            .find(|(name, _)| *name == self.0)
            .map(|(name, zones)| zones.iter().map(|z| format!("{name}{z}")).collect())
            .unwrap_or_default()
    }
}

impl<'de> Deserialize<'de> for Region {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Region::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// What a request asks for: which tier, where, and with which options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentSpec {
    pub tier: TierId,
    pub environment: EnvironmentName,
    pub region: Region,
    #[serde(default)]
    pub options: OptionSet,
    /// The environment's own domain: certificates, HTTPS, Route 53 records. None means none.
    #[serde(default)]
    pub domain_name: Option<DomainName>,
}

/// A DNS name the environment serves (`concerts.example.com`): lower-case labels of letters,
/// digits and hyphens, ending in a label of letters, as the templates' `AllowedPattern` says.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct DomainName(String);

impl DomainName {
    pub fn parse(value: &str) -> Result<Self, InfraError> {
        let fail = |reason| InfraError::InvalidDomainName { value: value.to_owned(), reason };
        if value.len() > 200 {
            return Err(fail("it must be at most 200 characters long (origin.<domain> must fit DNS's 253)"));
        }
        let labels: Vec<&str> = value.split('.').collect();
        if labels.len() < 2 {
            return Err(fail("it needs at least two labels, e.g. concerts.example.com"));
        }
        for label in &labels {
            if label.is_empty() || label.len() > 63 {
                return Err(fail("each label between the dots must be 1 to 63 characters"));
            }
            if !label.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
                return Err(fail("only lower-case letters, digits, hyphens and dots are allowed"));
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err(fail("a label may not start or end with a hyphen"));
            }
        }
        let top = labels[labels.len() - 1];
        if top.len() < 2 || !top.chars().all(|c| c.is_ascii_lowercase()) {
            return Err(fail("the last label must be two or more letters"));
        }
        Ok(DomainName(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for DomainName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        DomainName::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl DeploymentSpec {
    /// The spec the catalog shows for a tier before anyone names an environment.
    pub fn preview(tier: TierId, options: OptionSet) -> Self {
        DeploymentSpec {
            tier,
            // A valid literal: parse cannot fail on it.
            environment: EnvironmentName("concert-preview".to_owned()),
            region: Region::US_EAST_1,
            options,
            domain_name: None,
        }
    }
}

/// The IAM role the portal assumes to deploy into a target account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct RoleArn(String);

impl RoleArn {
    /// `arn:<partition>:iam::<12-digit account>:role/<path/name>`.
    pub fn parse(value: &str) -> Result<Self, InfraError> {
        let fail = |reason: &str| InfraError::InvalidRoleArn { value: value.to_owned(), reason: reason.to_owned() };
        let parts: Vec<&str> = value.splitn(6, ':').collect();
        if parts.len() != 6 || parts[0] != "arn" || parts[2] != "iam" || !parts[3].is_empty() {
            return Err(fail("expected arn:aws:iam::<account>:role/<name>"));
        }
        if !matches!(parts[1], "aws" | "aws-us-gov" | "aws-cn") {
            return Err(fail("unknown partition"));
        }
        if parts[4].len() != 12 || !parts[4].chars().all(|c| c.is_ascii_digit()) {
            return Err(fail("the account id must be 12 digits"));
        }
        let name = parts[5].strip_prefix("role/").ok_or_else(|| fail("the resource must be role/<name>"))?;
        let valid = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c);
        if name.is_empty() || name.len() > 512 || !name.chars().all(valid) {
            return Err(fail("the role name is empty or has characters IAM does not allow"));
        }
        Ok(RoleArn(value.to_owned()))
    }

    pub fn account_id(&self) -> &str {
        self.0.split(':').nth(4).unwrap_or_default()
    }

    /// `aws`, `aws-us-gov` or `aws-cn`.
    pub fn partition(&self) -> &str {
        self.0.split(':').nth(1).unwrap_or_default()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A 12-digit AWS account id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct AccountId(String);

impl AccountId {
    pub fn parse(value: &str) -> Result<Self, InfraError> {
        if value.len() == 12 && value.chars().all(|c| c.is_ascii_digit()) {
            Ok(AccountId(value.to_owned()))
        } else {
            Err(InfraError::data("account_id", value, "an AWS account id is 12 digits".to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `"…".parse()` for the types that only hold valid values, so stored texts read back typed.
macro_rules! from_str_by_parse {
    ($($name:ident),+) => {
        $(impl FromStr for $name {
            type Err = InfraError;
            fn from_str(value: &str) -> Result<Self, InfraError> {
                $name::parse(value)
            }
        })+
    };
}
from_str_by_parse!(EnvironmentName, Region, RoleArn, AccountId, DomainName);
