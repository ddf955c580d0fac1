//! What the handlers share, built once when the application starts: the catalog, the database, the
//! approval policy, the AWS configuration, single sign-on, the notifier and the engine's wake-up.
//! Handlers hand each domain module the parts it needs (`requests()`, `rollouts()`…), never this.

use std::sync::Arc;

use tokio::sync::{watch, Notify};

use crate::catalog::CatalogService;
use crate::clock::SharedClock;
use crate::db::Database;
use crate::environments::Environments;
use crate::lifecycle::Lifecycle;
use crate::notify::Notifier;
use crate::people::oidc::OidcProvider;
use crate::requests::preview::Previews;
use crate::requests::{catalog_digest, ApprovalPolicy, Requests};
use crate::rollout::feed::RolloutFeed;
use crate::rollout::{RolloutStore, Steering};
use crate::web::client::TrustedProxies;
use crate::web::csrf::OwnOrigin;
use crate::web::live::LiveLimits;

pub struct Portal {
    pub catalog: Arc<CatalogService>,
    pub db: Database,
    pub policy: ApprovalPolicy,
    /// Digest of the templates, tiers and prices this process serves.
    pub digest: String,
    /// Set when the portal is served over HTTPS (`PORTAL_PUBLIC_URL=https://…`).
    pub secure_cookies: bool,
    /// The origin state-changing browser requests must come from.
    pub own_origin: OwnOrigin,
    /// The AWS SDK configuration (credentials chain, region, `AWS_ENDPOINT_URL`); `None` when not set up.
    pub aws: Option<aws_config::SdkConfig>,
    pub notifier: Notifier,
    /// Wakes this process's rollout engine when an approval or a retry queues a rollout.
    pub rollout_wake: Arc<Notify>,
    /// OpenID Connect sign-in, when configured (`PORTAL_OIDC_*`).
    pub oidc: Option<Arc<OidcProvider>>,
    /// Live streams open at once, per user and in total.
    pub live_limits: LiveLimits,
    /// One reader per watched rollout, shared by its live streams.
    pub feed: RolloutFeed,
    /// This portal's identity (`Database::instance_id`), the tag on every stack it creates.
    pub instance: String,
    /// Proxies whose `X-Forwarded-For` names the client (`PORTAL_TRUSTED_PROXIES`).
    pub trusted_proxies: TrustedProxies,
    /// Turns `true` when the process is asked to stop: live streams end (clients reconnect to
    /// another process), the engine takes no new work.
    pub stopping: watch::Sender<bool>,
    /// `/metrics` asks for this bearer token when set (`PORTAL_METRICS_TOKEN`).
    pub metrics_token: Option<String>,
    /// What time it is for the calendar's decisions (lapsing, expiry, schedules, windows).
    pub clock: SharedClock,
    /// This portal, shared: for work a request starts and leaves running (a drift check).
    pub this: std::sync::OnceLock<std::sync::Weak<Portal>>,
}

impl Portal {
    pub fn new(catalog: Arc<CatalogService>, db: Database, policy: ApprovalPolicy) -> Self {
        let digest = catalog_digest(&catalog.catalog);
        let feed = RolloutFeed::new(RolloutStore::new(db.clone()), RolloutFeed::fallback_for(db.dialect));
        Portal {
            feed,
            catalog,
            db,
            policy,
            digest,
            secure_cookies: false,
            own_origin: OwnOrigin::SameHost,
            aws: None,
            notifier: Notifier::new(false),
            rollout_wake: Arc::new(Notify::new()),
            oidc: None,
            live_limits: LiveLimits::new(8, 1_000),
            instance: String::new(),
            trusted_proxies: TrustedProxies::default(),
            stopping: watch::channel(false).0,
            metrics_token: None,
            clock: crate::clock::system(),
            this: std::sync::OnceLock::new(),
        }
    }

    /// This portal as the application shares it (set when it is built).
    pub fn shared(&self) -> Option<Arc<Portal>> {
        self.this.get().and_then(std::sync::Weak::upgrade)
    }

    /// Starts a drift check (a person's) and runs it in the background; its id.
    pub async fn start_drift_check(
        &self,
        user: &crate::people::User,
        environment: crate::environments::Environment,
    ) -> Result<i64, crate::error::ServerError> {
        let id = self.lifecycle().request_drift_check(user, &environment).await?;
        let Some(portal) = self.shared() else {
            return Err(crate::error::ServerError::Internal("the portal is not shared yet".into()));
        };
        tokio::spawn(async move {
            if let Err(e) = portal.lifecycle().run_drift_check(id, &environment).await {
                tracing::warn!(check = id, error = %e, "drift check failed to finish");
            }
        });
        Ok(id)
    }

    pub fn requests(&self) -> Requests<'_> {
        Requests {
            db: &self.db,
            catalog: &self.catalog.catalog,
            digest: &self.digest,
            clock: self.clock.as_ref(),
            policy: &self.policy,
            notifier: self.notifier,
            rollout_wake: &self.rollout_wake,
        }
    }

    pub fn rollouts(&self) -> RolloutStore {
        RolloutStore::new(self.db.clone())
    }

    pub fn steering(&self) -> Steering<'_> {
        Steering {
            db: &self.db,
            digest: &self.digest,
            wake: &self.rollout_wake,
            environments: Environments { db: &self.db, catalog: &self.catalog.catalog },
            clock: self.clock.as_ref(),
        }
    }

    pub fn lifecycle(&self) -> Lifecycle<'_> {
        Lifecycle {
            db: &self.db,
            catalog: &self.catalog.catalog,
            requests: self.requests(),
            clock: self.clock.as_ref(),
            notifier: self.notifier,
            aws: self.aws.as_ref(),
            wake: &self.rollout_wake,
        }
    }

    /// A rollout as the API and pages show it; one waiting for its window says when that opens.
    pub async fn rollout_view(&self, id: i64) -> Result<app::model::RolloutView, crate::error::ServerError> {
        let mut view = self.rollouts().view(id).await?;
        if view.status == app::model::RolloutStatus::WaitingForWindow {
            if let Some(environment) = self.lifecycle().registry().find(&view.environment).await? {
                view.window_opens_at = crate::lifecycle::windows::opens_at(&environment, self.clock.now_ms());
            }
        }
        Ok(view)
    }

    pub fn previews(&self) -> Previews<'_> {
        Previews { db: &self.db, catalog: &self.catalog.catalog, aws: self.aws.as_ref() }
    }
}
