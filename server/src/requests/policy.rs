//! The approval policy (how many approvers each tier needs, one more above a monthly cost, when
//! requests lapse) and the catalog digest an approval is bound to.

use std::collections::BTreeMap;

use infra::{Catalog, TierId};
use serde::{Deserialize, Serialize};

use crate::error::ServerError;

/// How many distinct approvers each tier needs, and when requests lapse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalPolicy {
    pub approvals: BTreeMap<TierId, u32>,
    /// A request whose monthly estimate is above this needs one more approver.
    pub extra_approval_over_monthly_usd: f64,
    pub expires_after_hours: i64,
}

impl Default for ApprovalPolicy {
    fn default() -> Self {
        ApprovalPolicy {
            approvals: [(TierId::Development, 1), (TierId::ProductionLite, 1), (TierId::FullProduction, 2)]
                .into_iter()
                .collect(),
            extra_approval_over_monthly_usd: 1000.0,
            expires_after_hours: 72,
        }
    }
}

impl ApprovalPolicy {
    /// Reads a policy file; every key is required, unknown keys are refused.
    pub fn load(path: &std::path::Path) -> Result<ApprovalPolicy, ServerError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ServerError::Io { path: path.display().to_string(), source })?;
        let policy: ApprovalPolicy =
            toml::from_str(&text).map_err(|e| ServerError::Startup(format!("{}: {}", path.display(), e.message())))?;
        if policy.approvals.values().any(|n| *n == 0) || policy.expires_after_hours <= 0 {
            return Err(ServerError::Startup(format!(
                "{}: every tier needs at least one approver, and requests a positive expiry",
                path.display()
            )));
        }
        Ok(policy)
    }

    pub fn required(&self, tier: TierId, monthly_usd: f64) -> i64 {
        let base = self.approvals.get(&tier).copied().unwrap_or(1).max(1) as i64;
        base + i64::from(monthly_usd > self.extra_approval_over_monthly_usd)
    }
}

/// The digest of everything an estimate depends on; a change voids approvals at rollout time.
pub fn catalog_digest(catalog: &Catalog) -> String {
    catalog.digest.clone()
}
