//! Everything the portal is configured with, read once: the command line and environment
//! (`LEPTOS_SITE_ADDR`, `DATABASE_URL`, `PORTAL_*`) in [`Settings::from_env`], or built by a test.
//! Nothing else in the server reads the environment, except the AWS SDK's own configuration
//! (`AWS_*`), which the SDK reads when the settings ask it to.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::clock::SharedClock;
use crate::error::ServerError;
use crate::notify::Webhook;
use crate::people::oidc::OidcConfig;
use crate::requests::ApprovalPolicy;
use crate::rollout::EngineConfig;
use crate::web::client::TrustedProxies;

/// Where the portal's AWS credentials and endpoint come from.
#[derive(Clone, Default)]
pub enum AwsSettings {
    /// The SDK's default chain and `AWS_ENDPOINT_URL`.
    #[default]
    FromEnvironment,
    /// A configuration made by the caller (tests point it at moto).
    Given(Box<aws_config::SdkConfig>),
    /// No AWS at all: deployments fail with a clear reason.
    None,
}

/// Which background tasks a process runs. Each is opt-in so a test starts only what it watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Background {
    /// The rollout engine.
    pub engine: bool,
    /// Marks requests past their expiry, every minute.
    pub expiry_sweep: bool,
    /// Delivers queued webhook notifications (only with a webhook URL).
    pub webhooks: bool,
    /// Keeps the audit chain's head in the file `PORTAL_AUDIT_HEAD` names (only with one).
    pub audit_head: bool,
    /// The day-two sweep: expiry reminders and teardowns, schedules, change windows, drift checks.
    pub lifecycle: bool,
}

impl Background {
    pub const ALL: Background =
        Background { engine: true, expiry_sweep: true, webhooks: true, audit_head: true, lifecycle: true };
    pub const NONE: Background =
        Background { engine: false, expiry_sweep: false, webhooks: false, audit_head: false, lifecycle: false };
}

/// Log lines for people (`text`) or for a log pipeline (`json`: one object per line, with the
/// request id of the request being served).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone)]
pub struct Settings {
    pub addr: SocketAddr,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// Folder of the compiled site (wasm, JS, CSS), as cargo-leptos writes it.
    pub site_root: String,
    pub policy: ApprovalPolicy,
    /// Deployments go to the local sandbox (moto): the pages say so.
    pub sandbox: bool,
    /// The portal's public URL (`PORTAL_PUBLIC_URL`): cookies are `Secure` when it is https.
    pub public_url: Option<String>,
    /// Where notifications go and how they are signed (`PORTAL_WEBHOOK_URL`,
    /// `PORTAL_WEBHOOK_SECRET`); none are queued without it.
    pub webhook: Option<Webhook>,
    pub oidc: Option<OidcConfig>,
    /// The file the audit chain's head is exported to (`PORTAL_AUDIT_HEAD`); `portal audit verify`
    /// checks the trail still reaches it.
    pub audit_head: Option<PathBuf>,
    pub engine: EngineConfig,
    /// Proxies whose `X-Forwarded-For` is believed (`PORTAL_TRUSTED_PROXIES`, IP addresses).
    pub trusted_proxies: TrustedProxies,
    /// Live streams (rollout progress) open at once: per user, and in total.
    pub live_streams_per_user: usize,
    pub live_streams_total: usize,
    /// How often a watched rollout is read without a change signal (`PORTAL_LIVE_FALLBACK_POLL_MS`);
    /// by default 5 s on PostgreSQL (NOTIFY signals every write), 2 s on SQLite (only this
    /// process's writes are signalled).
    pub live_fallback_poll: Option<std::time::Duration>,
    /// The bearer token `/metrics` asks for (`PORTAL_METRICS_TOKEN`); open without one.
    pub metrics_token: Option<String>,
    pub aws: AwsSettings,
    pub background: Background,
    /// The calendar's clock: the machine's, or one a test moves.
    pub clock: SharedClock,
    /// How often the day-two sweep runs (expiry, schedules, change windows, drift checks due):
    /// `PORTAL_LIFECYCLE_SECONDS`, 30 by default.
    pub lifecycle_every: Duration,
}

impl Settings {
    /// Defaults for a database: no sandbox badge, no single sign-on, no webhook, AWS from the
    /// environment, every background task on.
    pub fn new(database_url: impl Into<String>) -> Settings {
        Settings {
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            database_url: database_url.into(),
            site_root: "target/site".into(),
            policy: ApprovalPolicy::default(),
            sandbox: false,
            public_url: None,
            webhook: None,
            oidc: None,
            audit_head: None,
            engine: EngineConfig::default(),
            trusted_proxies: TrustedProxies::default(),
            live_streams_per_user: 8,
            live_streams_total: 1_000,
            live_fallback_poll: None,
            metrics_token: None,
            aws: AwsSettings::FromEnvironment,
            background: Background::ALL,
            clock: crate::clock::system(),
            lifecycle_every: Duration::from_secs(30),
        }
    }

    /// `portal serve`'s settings: its arguments (which clap already filled from
    /// `LEPTOS_SITE_ADDR`, `DATABASE_URL`, `LEPTOS_SITE_ROOT`, `PORTAL_POLICY`) and the `PORTAL_*`
    /// variables.
    pub fn from_env(
        addr: SocketAddr,
        database_url: &str,
        site_root: &str,
        policy: Option<&Path>,
    ) -> Result<Settings, ServerError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let seconds = |name: &str, default: Duration| -> Result<Duration, ServerError> {
            match var(name) {
                None => Ok(default),
                Some(v) => {
                    v.parse::<f64>().ok().filter(|s| s.is_finite() && *s > 0.0).map(Duration::from_secs_f64).ok_or_else(
                        || ServerError::Startup(format!("{name} must be a positive number of seconds, got `{v}`")),
                    )
                }
            }
        };
        let defaults = EngineConfig::default();
        let engine = EngineConfig {
            lease: seconds("PORTAL_LEASE_SECONDS", defaults.lease)?,
            poll: match var("PORTAL_POLL_MS") {
                None => defaults.poll,
                Some(v) => v.parse().map(Duration::from_millis).map_err(|_| {
                    ServerError::Startup(format!("PORTAL_POLL_MS must be a whole number of milliseconds, got `{v}`"))
                })?,
            },
            max_running: positive(&var, "PORTAL_MAX_ROLLOUTS", defaults.max_running)?,
            max_parallel_phases: positive(&var, "PORTAL_MAX_PARALLEL_PHASES", defaults.max_parallel_phases)?,
            give_up_after: positive(&var, "PORTAL_GIVE_UP_AFTER", defaults.give_up_after)?,
            stack_deadline: Duration::from_secs(
                60 * positive(&var, "PORTAL_STACK_DEADLINE_MINUTES", defaults.stack_deadline.as_secs() / 60)?,
            ),
            ..defaults
        };
        Ok(Settings {
            addr,
            database_url: database_url.to_owned(),
            site_root: site_root.to_owned(),
            policy: match policy {
                Some(path) => ApprovalPolicy::load(path)?,
                None => ApprovalPolicy::default(),
            },
            sandbox: var("PORTAL_SANDBOX").is_some_and(|v| v == "1"),
            public_url: var("PORTAL_PUBLIC_URL"),
            webhook: match (var("PORTAL_WEBHOOK_URL"), var("PORTAL_WEBHOOK_SECRET")) {
                (None, _) => None,
                (Some(url), Some(secret)) if secret.len() >= 16 => Some(Webhook { url, secret }),
                (Some(_), _) => {
                    return Err(ServerError::Startup(
                        "PORTAL_WEBHOOK_URL needs PORTAL_WEBHOOK_SECRET (16 characters or more): every delivery is signed with it"
                            .into(),
                    ))
                }
            },
            oidc: OidcConfig::from_vars(&var)?,
            audit_head: var("PORTAL_AUDIT_HEAD").map(PathBuf::from),
            engine,
            trusted_proxies: TrustedProxies::parse(&var("PORTAL_TRUSTED_PROXIES").unwrap_or_default())
                .map_err(|e| ServerError::Startup(format!("PORTAL_TRUSTED_PROXIES: {e}")))?,
            live_streams_per_user: positive(&var, "PORTAL_LIVE_STREAMS_PER_USER", 8)?,
            live_streams_total: positive(&var, "PORTAL_LIVE_STREAMS_TOTAL", 1_000)?,
            live_fallback_poll: match var("PORTAL_LIVE_FALLBACK_POLL_MS") {
                None => None,
                Some(_) => Some(std::time::Duration::from_millis(positive(&var, "PORTAL_LIVE_FALLBACK_POLL_MS", 1u64)?)),
            },
            metrics_token: match var("PORTAL_METRICS_TOKEN") {
                Some(token) if token.trim().len() < 16 => {
                    return Err(ServerError::Startup("PORTAL_METRICS_TOKEN must be 16 characters or more".into()))
                }
                token => token.map(|t| t.trim().to_owned()),
            },
            aws: AwsSettings::FromEnvironment,
            background: Background::ALL,
            clock: crate::clock::system(),
            lifecycle_every: seconds("PORTAL_LIFECYCLE_SECONDS", Duration::from_secs(30))?,
        })
    }

    /// How log lines are written (`PORTAL_LOG_FORMAT`): read before anything else, so that even
    /// start-up errors come in the chosen format.
    pub fn log_format() -> Result<LogFormat, ServerError> {
        match std::env::var("PORTAL_LOG_FORMAT").ok().as_deref().map(str::trim) {
            None | Some("") | Some("text") => Ok(LogFormat::Text),
            Some("json") => Ok(LogFormat::Json),
            Some(other) => Err(ServerError::Startup(format!("PORTAL_LOG_FORMAT must be text or json, got `{other}`"))),
        }
    }

    /// Cookies carry `Secure` when the portal is served over HTTPS.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
    }
}

/// A positive whole number from the variable `name`, or `default` when it is unset.
fn positive<T>(var: &dyn Fn(&str) -> Option<String>, name: &str, default: T) -> Result<T, ServerError>
where
    T: std::str::FromStr + PartialOrd + Default,
{
    match var(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<T>()
            .ok()
            .filter(|n| *n > T::default())
            .ok_or_else(|| ServerError::Startup(format!("{name} must be a positive whole number, got `{v}`"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positive_numbers_are_read_and_anything_else_names_the_variable() {
        let var = |name: &str| match name {
            "GOOD" => Some("12".to_owned()),
            "ZERO" => Some("0".to_owned()),
            "WORD" => Some("twelve".to_owned()),
            _ => None,
        };
        assert_eq!(positive(&var, "GOOD", 4usize).ok(), Some(12));
        assert_eq!(positive(&var, "UNSET", 4i64).ok(), Some(4));
        for bad in ["ZERO", "WORD"] {
            let message = positive(&var, bad, 4u64).map_err(|e| e.to_string()).err().unwrap_or_default();
            assert!(message.contains(bad) && message.contains("positive whole number"), "{message}");
        }
    }
}
