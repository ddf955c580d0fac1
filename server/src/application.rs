//! The one place the portal is put together: [`Application::build`] turns [`Settings`] into a
//! database, the shared state, the router and a bound listener; the background tasks (rollout
//! engine, expiry sweep, webhook worker) start from here too. `portal serve` and the integration
//! tests both go through it, so the tests exercise the production wiring.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use infra::Catalog;
use tokio::net::TcpListener;

use crate::catalog::CatalogService;
use crate::db::Database;
use crate::error::ServerError;
use crate::notify::Notifier;
use crate::people::oidc::OidcProvider;
use crate::rollout::{Engine, EngineConfig, EngineDeps};
use crate::settings::{AwsSettings, Settings};
use crate::web::csrf::OwnOrigin;
use crate::web::state::Portal;

pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    portal: Arc<Portal>,
    router: axum::Router,
    settings: Settings,
    /// The engine `start_background` started, stopped on shutdown.
    engine: std::sync::Mutex<Option<Arc<Engine>>>,
}

impl Application {
    /// Binds `settings.addr` (port 0 picks a free one) and builds the portal behind it.
    pub async fn build(catalog: Arc<Catalog>, settings: Settings) -> Result<Application, ServerError> {
        let listener = TcpListener::bind(settings.addr)
            .await
            .map_err(|e| ServerError::Startup(format!("cannot listen on {}: {e}", settings.addr)))?;
        Self::build_on(catalog, settings, listener).await
    }

    /// Builds the portal behind a listener the caller bound (a test that needs the address first).
    pub async fn build_on(
        catalog: Arc<Catalog>,
        settings: Settings,
        listener: TcpListener,
    ) -> Result<Application, ServerError> {
        let addr = listener.local_addr().map_err(|e| ServerError::Startup(format!("no local address: {e}")))?;
        let db = Database::connect(&settings.database_url).await?;
        db.listen_for_changes();
        let service = Arc::new(CatalogService::new(catalog, settings.sandbox));
        service.warm()?;
        let instance = db.instance_id().await?;
        let mut portal = Portal::new(service, db, settings.policy.clone());
        portal.instance = instance;
        portal.secure_cookies = settings.secure_cookies();
        portal.own_origin = OwnOrigin::from_public_url(settings.public_url.as_deref());
        portal.aws = match &settings.aws {
            AwsSettings::FromEnvironment => {
                Some(aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await)
            }
            AwsSettings::Given(config) => Some(config.as_ref().clone()),
            AwsSettings::None => None,
        };
        portal.trusted_proxies = settings.trusted_proxies.clone();
        portal.metrics_token = settings.metrics_token.clone();
        portal.clock = settings.clock.clone();
        crate::telemetry::recorder();
        portal.live_limits =
            crate::web::live::LiveLimits::new(settings.live_streams_per_user, settings.live_streams_total);
        portal.feed = crate::rollout::feed::RolloutFeed::new(
            portal.rollouts(),
            settings.live_fallback_poll.unwrap_or(crate::rollout::feed::RolloutFeed::fallback_for(portal.db.dialect)),
        );
        portal.notifier = Notifier::new(settings.webhook.is_some());
        if let Some(config) = settings.oidc.clone() {
            tracing::info!(issuer = %config.issuer, "OpenID Connect sign-in enabled");
            portal.oidc = Some(Arc::new(OidcProvider::new(config)?));
        }
        let portal = Arc::new(portal);
        let _ = portal.this.set(Arc::downgrade(&portal));
        let router = crate::web::router(portal.clone(), crate::web::leptos_options(addr, &settings.site_root));
        Ok(Application { listener, addr, portal, router, settings, engine: Default::default() })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn portal(&self) -> &Arc<Portal> {
        &self.portal
    }

    /// Starts the background tasks `settings.background` asks for.
    pub fn start_background(&self) {
        let background = self.settings.background;
        if background.engine {
            let engine = spawn_engine(&self.portal, self.settings.engine.clone());
            if let Ok(mut slot) = self.engine.lock() {
                *slot = Some(engine);
            }
        }
        if background.expiry_sweep {
            spawn_expiry_sweep(self.portal.clone());
        }
        if background.lifecycle {
            spawn_lifecycle(self.portal.clone(), self.settings.lifecycle_every);
        }
        if let (true, Some(webhook)) = (background.webhooks, &self.settings.webhook) {
            crate::notify::spawn_worker(self.portal.db.clone(), webhook.clone());
        }
        if let (true, Some(path)) = (background.audit_head, &self.settings.audit_head) {
            crate::audit::head::spawn_exporter(self.portal.db.clone(), path.clone());
        }
    }

    /// Serves HTTP until the process is asked to stop (SIGTERM, or Ctrl-C / SIGINT), then stops
    /// gracefully: the engine takes no new work and hands its leases back at once (another process
    /// resumes those rollouts at its next look), live streams end (browsers reconnect elsewhere),
    /// requests in flight finish.
    pub async fn run_until_stopped(self) -> Result<(), ServerError> {
        let portal = self.portal.clone();
        let engine = self.engine.lock().ok().and_then(|mut slot| slot.take());
        let shutdown = async move {
            stop_signal().await;
            tracing::info!("stopping: no new rollouts, leases handed back, live streams closed");
            portal.stopping.send_replace(true);
            if let Some(engine) = engine {
                if let Err(e) = engine.stop().await {
                    tracing::warn!(error = %e, "handing back the leases failed: they lapse instead");
                }
            }
        };
        crate::web::serve_on(self.listener, self.router, shutdown)
            .await
            .map_err(|e| ServerError::Startup(format!("the HTTP server stopped: {e}")))
    }
}

/// SIGTERM (what process managers and orchestrators send) or Ctrl-C.
async fn stop_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; Ctrl-C still stops the portal");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}

/// The rollout engine of this process: approved requests are deployed in the background, and a
/// rollout another process abandoned (its lease lapsed) is taken over.
pub fn spawn_engine(portal: &Arc<Portal>, config: EngineConfig) -> Arc<Engine> {
    let deps = EngineDeps {
        store: portal.rollouts(),
        catalog: portal.catalog.catalog.clone(),
        digest: portal.digest.clone(),
        aws: portal.aws.clone(),
        notifier: portal.notifier,
        instance: portal.instance.clone(),
    };
    let engine = Engine::new(deps, config);
    engine.spawn(portal.rollout_wake.clone());
    engine
}

/// Requests lapse on their own: a sweep every minute marks and audits them, and removes the
/// sessions that have ended (expired or idle).
pub fn spawn_expiry_sweep(portal: Arc<Portal>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            if let Err(e) = portal.requests().expire_due().await {
                tracing::warn!(error = %e, "expiring requests failed");
            }
            if let Err(e) = crate::people::sessions::sweep(&portal.db).await {
                tracing::warn!(error = %e, "sweeping ended sessions failed");
            }
        }
    })
}

/// The day-two sweep (expiry reminders and teardowns, schedules, change windows, drift checks due),
/// every `every`; a step that fails is logged and tried again at the next sweep.
pub fn spawn_lifecycle(portal: Arc<Portal>, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if *portal.stopping.borrow() {
                return;
            }
            // Each step logs its own failure; the sweep goes on.
            let _ = portal.lifecycle().sweep().await;
        }
    })
}
