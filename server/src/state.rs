//! What every request handler shares: the catalog, the database, the approval policy, the AWS
//! configuration, single sign-on, the webhook, and the rollout engine's wake-up.

use std::sync::Arc;

use crate::db::Database;
use crate::oidc::OidcProvider;
use crate::requests::{catalog_digest, ApprovalPolicy, Requests};
use crate::views::CatalogService;

pub struct Portal {
    pub catalog: Arc<CatalogService>,
    pub db: Database,
    pub policy: ApprovalPolicy,
    /// Digest of the templates, tiers and prices this process serves.
    pub digest: String,
    /// Set when the portal is served over HTTPS (`PORTAL_PUBLIC_URL=https://…`).
    pub secure_cookies: bool,
    /// The AWS SDK configuration (credentials chain, region, `AWS_ENDPOINT_URL`); `None` when not set up.
    pub aws: Option<aws_config::SdkConfig>,
    /// Where notifications go (`PORTAL_WEBHOOK_URL`); none are queued without it.
    pub webhook_url: Option<String>,
    /// Wakes this process's rollout engine when an approval queues a rollout.
    pub rollout_wake: Arc<tokio::sync::Notify>,
    /// OpenID Connect sign-in, when configured (`PORTAL_OIDC_*`).
    pub oidc: Option<Arc<OidcProvider>>,
}

impl Portal {
    pub fn new(catalog: Arc<CatalogService>, db: Database, policy: ApprovalPolicy) -> Self {
        let digest = catalog_digest(&catalog.catalog);
        let secure_cookies = std::env::var("PORTAL_PUBLIC_URL").is_ok_and(|u| u.starts_with("https://"));
        Portal {
            catalog,
            db,
            policy,
            digest,
            secure_cookies,
            aws: None,
            webhook_url: std::env::var("PORTAL_WEBHOOK_URL").ok().filter(|u| !u.trim().is_empty()),
            rollout_wake: Arc::new(tokio::sync::Notify::new()),
            oidc: None,
        }
    }

    pub fn requests(&self) -> Requests<'_> {
        Requests {
            db: &self.db,
            catalog: &self.catalog.catalog,
            digest: &self.digest,
            policy: &self.policy,
            notify: self.webhook_url.is_some(),
            rollout_wake: &self.rollout_wake,
        }
    }

    pub fn with_aws(mut self, config: aws_config::SdkConfig) -> Self {
        self.aws = Some(config);
        self
    }

    pub fn with_oidc(mut self, provider: OidcProvider) -> Self {
        self.oidc = Some(Arc::new(provider));
        self
    }
}
