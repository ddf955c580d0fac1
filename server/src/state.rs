//! What every request handler shares: the catalog, the database, the approval policy.

use std::sync::Arc;

use crate::db::Database;
use crate::requests::{catalog_digest, ApprovalPolicy, Requests};
use crate::views::CatalogService;

pub struct Portal {
    pub catalog: Arc<CatalogService>,
    pub db: Database,
    pub policy: ApprovalPolicy,
    /// Digest of the templates, tiers and prices this process serves.
    pub digest: String,
}

impl Portal {
    pub fn new(catalog: Arc<CatalogService>, db: Database, policy: ApprovalPolicy) -> Self {
        let digest = catalog_digest(&catalog.catalog);
        Portal {
            catalog,
            db,
            policy,
            digest,
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
