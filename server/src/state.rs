//! What every request handler shares: the catalog, the database, the approval policy.

use std::sync::Arc;

use crate::db::Database;
use crate::requests::{catalog_digest, ApprovalPolicy, Requests};
use crate::sessions::SignInLimiter;
use crate::views::CatalogService;

pub struct Portal {
    pub catalog: Arc<CatalogService>,
    pub db: Database,
    pub policy: ApprovalPolicy,
    /// Digest of the templates, tiers and prices this process serves.
    pub digest: String,
    pub limiter: SignInLimiter,
    /// Set when the portal is served over HTTPS (`PORTAL_PUBLIC_URL=https://…`).
    pub secure_cookies: bool,
    /// The AWS SDK configuration (credentials chain, region, `AWS_ENDPOINT_URL`); `None` when not set up.
    pub aws: Option<aws_config::SdkConfig>,
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
            limiter: SignInLimiter::default(),
            secure_cookies,
            aws: None,
        }
    }

    pub fn requests(&self) -> Requests<'_> {
        Requests {
            db: &self.db,
            catalog: &self.catalog.catalog,
            digest: &self.digest,
            policy: &self.policy,
        }
    }
}

impl Portal {
    pub fn with_aws(mut self, config: aws_config::SdkConfig) -> Self {
        self.aws = Some(config);
        self
    }
}
