//! Registered environments: the only places the portal deploys to. An admin registers each one
//! (account, region, deploy role in that account, the tiers it allows, who may request and approve
//! there); the portal generates the ExternalId its deploy role's trust policy must require. A
//! request names one, and the engine assumes its role with that ExternalId.
//!
//! - [`registry`]: register, change, list, and the running environments nobody registered;
//! - [`access`]: who may request and approve for an environment;
//! - [`trust`]: the ExternalId and the trust policy shown to the admin;
//! - [`policy`]: its day-two policy (lifetimes, reminders, sleep schedule, change windows, drift
//!   checks), on the [`calendar`] of weekly hours in a time zone.

pub mod access;
pub mod calendar;
pub mod expiry;
pub mod policy;
pub mod registry;
pub mod trust;
mod unregistered;

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use infra::{AccountId, DomainName, EnvironmentName, Region, RoleArn, TierId};
use serde::{Deserialize, Serialize};

pub use policy::EnvironmentPolicy;
pub use registry::{EnvironmentChange, Environments, NewEnvironment, Registered};

/// One registered environment, as everyone may see it: no ExternalId.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Environment {
    pub name: EnvironmentName,
    pub account_id: AccountId,
    pub region: Region,
    pub role_arn: RoleArn,
    /// The environment's own domain: HTTPS with a certificate; without one, plain HTTP where
    /// no CloudFront is in front.
    pub domain_name: Option<DomainName>,
    pub tiers: BTreeSet<TierId>,
    /// Empty: anyone with the requester role.
    pub requesters: Vec<Principal>,
    /// Empty: anyone with the approver role.
    pub approvers: Vec<Principal>,
    /// Lifetimes, reminders, sleep schedule, change windows, drift checks.
    #[serde(serialize_with = "policy_text")]
    pub lifecycle: EnvironmentPolicy,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An environment as its rollouts name it: account, region, name.
pub type EnvironmentKey = (String, String, String);

impl Environment {
    pub fn key(&self) -> EnvironmentKey {
        (self.account_id.to_string(), self.region.as_str().to_owned(), self.name.to_string())
    }
}

fn policy_text<S: serde::Serializer>(policy: &EnvironmentPolicy, s: S) -> Result<S::Ok, S::Error> {
    policy.text().serialize(s)
}

/// Who an environment lets request or approve, beside the global role: a user by name, or
/// everyone in a single sign-on group (`group:NAME`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Principal {
    User(String),
    Group(String),
}

/// Why a principal's text was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("`{0}` is neither a user name nor group:NAME (letters, digits and . _ @ - : /, 1 to 128 characters)")]
pub struct InvalidPrincipal(String);

impl FromStr for Principal {
    type Err = InvalidPrincipal;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (group, name) = match text.strip_prefix("group:") {
            Some(group) => (true, group),
            None => (false, text),
        };
        let ok = (1..=128).contains(&name.len())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || "._@-:/".contains(c))
            && (group || !name.contains([':', '/']));
        match (ok, group) {
            (false, _) => Err(InvalidPrincipal(text.to_owned())),
            (true, true) => Ok(Principal::Group(name.to_owned())),
            (true, false) => Ok(Principal::User(name.to_owned())),
        }
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Principal::User(name) => f.write_str(name),
            Principal::Group(name) => write!(f, "group:{name}"),
        }
    }
}

impl Serialize for Principal {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Principal {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_are_user_names_or_groups() {
        let cases = [
            ("alice", Some(Principal::User("alice".into()))),
            ("group:prod-approvers", Some(Principal::Group("prod-approvers".into()))),
            ("group:arn:aws:idp/x", Some(Principal::Group("arn:aws:idp/x".into()))),
            ("", None),
            ("group:", None),
            ("a b", None),
            ("user:alice", None),
            ("ålice", None),
        ];
        for (text, expected) in cases {
            assert_eq!(text.parse::<Principal>().ok(), expected, "{text}");
        }
        assert_eq!(Principal::Group("g".into()).to_string(), "group:g");
    }
}
