//! The `portal` command line: its arguments (clap), the offline commands (`cost`, `diagram`,
//! `templates render`), the database ones (`migrate`, `user add`, `environment add`, `audit verify`)
//! and `serve`, which hands its settings to [`Application`].

mod cost;
mod environment;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
pub use environment::EnvironmentCommand;
use infra::{Catalog, DeploymentSpec, EnvironmentName, Region, TierId};

use std::collections::BTreeSet;

use crate::application::Application;
use crate::audit;
use crate::db::Database;
use crate::error::ServerError;
use crate::people::{self, Role};
use crate::settings::Settings;

#[derive(Debug, Parser)]
#[command(name = "portal", version, about = "Concert Platform deployment portal")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the portal over HTTP.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "LEPTOS_SITE_ADDR", default_value = "127.0.0.1:3000")]
        addr: SocketAddr,
        /// Where the portal keeps its records: sqlite://… or postgres://…
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
        /// Folder of the compiled site (wasm, JS, CSS), as cargo-leptos writes it.
        #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
        site_root: String,
        /// Approval policy (TOML: approvals per tier, extra approval over a monthly cost, expiry);
        /// without it, the defaults in the README.
        #[arg(long, env = "PORTAL_POLICY")]
        policy: Option<PathBuf>,
    },
    /// Print a tier's monthly cost, line by line.
    Cost {
        #[arg(long)]
        tier: String,
        /// TOML or JSON file of usage assumptions to change (keys as in infra/pricing/usage.toml).
        #[arg(long)]
        usage: Option<PathBuf>,
        /// Optional services to switch on, comma-separated (default: the tier's own).
        #[arg(long, value_delimiter = ',')]
        options: Option<Vec<String>>,
        /// Leave out the always-free allowances.
        #[arg(long)]
        no_free_tier: bool,
        /// How compute is paid for: on-demand, reserved (1 year) or savings-plan (1-year Compute
        /// Savings Plan).
        #[arg(long, default_value = "on-demand")]
        pricing: String,
        /// Each line and the total at low, typical and high usage (the usage file's ranges).
        #[arg(long)]
        range: bool,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Print a tier's architecture diagram as SVG.
    Diagram {
        #[arg(long)]
        tier: String,
        #[arg(long, value_delimiter = ',')]
        options: Option<Vec<String>>,
    },
    /// Deployable templates.
    Templates {
        #[command(subcommand)]
        command: TemplatesCommand,
    },
    /// Apply the database migrations (`serve` does it too).
    Migrate {
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Registered environments: where the portal may deploy.
    Environment {
        #[command(subcommand)]
        command: EnvironmentCommand,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/portal.db?mode=rwc";

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user. The password is read from standard input (or asked for on a terminal);
    /// with --token, an API token is printed once, alone on the last line.
    Add {
        name: String,
        /// requester, approver, admin or viewer; repeat for several.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        #[arg(long)]
        token: bool,
        /// A user that signs in only with its token.
        #[arg(long)]
        no_password: bool,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
    /// Disable a user: their sessions end at once, their tokens stop working, sign-in is refused.
    Disable {
        name: String,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
    /// Enable a disabled user again.
    Enable {
        name: String,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain of the whole audit trail, and that it still reaches the head exported
    /// to the --head file; names the first broken entry.
    Verify {
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
        /// The file the portal exports the chain's head to (what `PORTAL_AUDIT_HEAD` names).
        #[arg(long, env = "PORTAL_AUDIT_HEAD")]
        head: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TemplatesCommand {
    /// Write the six templates and one parameter file per phase.
    Render {
        #[arg(long)]
        tier: String,
        #[arg(long)]
        out: PathBuf,
        /// Environment name: prefix of every stack and export.
        #[arg(long, default_value = "concert-dev")]
        environment: String,
        #[arg(long, default_value = "us-east-1")]
        region: String,
        #[arg(long, value_delimiter = ',')]
        options: Option<Vec<String>>,
        /// The environment's domain: HTTPS listener, certificates, origin.<domain>.
        #[arg(long)]
        domain: Option<String>,
    },
}

/// Runs a command that prints its result; `serve` is handled by `main`.
pub fn run_offline(catalog: Arc<Catalog>, command: &Command) -> Result<String, ServerError> {
    match command {
        Command::Serve { .. }
        | Command::Migrate { .. }
        | Command::User { .. }
        | Command::Environment { .. }
        | Command::Audit { .. } => {
            Err(ServerError::Internal("this command needs the database, not an offline run".into()))
        }
        Command::Cost { tier, usage, options, no_free_tier, pricing, range, format } => {
            let tier: TierId = tier.parse()?;
            let pricing: infra::PricingModel =
                pricing.parse().map_err(|e: infra::InfraError| ServerError::invalid("pricing", e.to_string()))?;
            let options = catalog.options(tier, options.as_deref())?;
            let mut assumptions = catalog.default_usage.clone();
            if let Some(path) = usage {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| ServerError::Io { path: path.display().to_string(), source })?;
                assumptions = assumptions
                    .with_overrides(&path.display().to_string(), &text)
                    .map_err(|e| ServerError::Invalid { code: "invalid_usage", message: e.to_string(), field: None })?;
            }
            let report =
                catalog.report(&DeploymentSpec::preview(tier, options), &assumptions, !no_free_tier, pricing)?;
            Ok(match format {
                Format::Json => serde_json::to_string_pretty(&cost::json(tier, &report, *range))?,
                Format::Table => cost::table(&report, *range),
            })
        }
        Command::Diagram { tier, options } => {
            let tier: TierId = tier.parse()?;
            let options = catalog.options(tier, options.as_deref())?;
            let report = catalog.report(
                &DeploymentSpec::preview(tier, options),
                &catalog.default_usage,
                true,
                infra::PricingModel::OnDemand,
            )?;
            Ok(catalog.diagram(&report))
        }
        Command::Templates {
            command: TemplatesCommand::Render { tier, out, environment, region, options, domain },
        } => {
            let tier: TierId = tier.parse()?;
            let spec = DeploymentSpec {
                tier,
                environment: EnvironmentName::parse(environment)?,
                region: Region::parse(region)?,
                options: catalog.options(tier, options.as_deref())?,
                domain_name: domain.as_deref().map(infra::DomainName::parse).transpose()?,
            };
            let phases = infra::render::render(&catalog, &spec)?;
            let io = |path: &std::path::Path| {
                let path = path.display().to_string();
                move |source| ServerError::Io { path, source }
            };
            std::fs::create_dir_all(out).map_err(io(out))?;
            let mut written = Vec::new();
            for phase in &phases {
                let template = out.join(&phase.template_file);
                std::fs::write(&template, &phase.template_body).map_err(io(&template))?;
                let params = out.join(phase.parameter_file_name());
                std::fs::write(&params, phase.parameter_file()).map_err(io(&params))?;
                written.push(format!("{}  {}", template.display(), params.display()));
            }
            Ok(written.join("\n"))
        }
    }
}

/// Reads a password: from a prompt without echo on a terminal, else the first line of standard input.
fn read_password() -> Result<String, ServerError> {
    use std::io::IsTerminal;
    let password = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Password for the new user: ")
            .map_err(|source| ServerError::Io { path: "the terminal".into(), source })?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|source| ServerError::Io { path: "standard input".into(), source })?;
        line.trim_end_matches(['\n', '\r']).to_owned()
    };
    if password.is_empty() {
        return Err(ServerError::Invalid {
            code: "no_password",
            message: "no password given on standard input (use --no-password for a token-only user)".into(),
            field: Some("password".into()),
        });
    }
    Ok(password)
}

/// Runs a command against the database and returns what it prints; `Err` exits non-zero.
pub async fn run_database(command: &Command) -> Result<String, ServerError> {
    match command {
        Command::Migrate { database_url } => {
            Database::connect(database_url).await?;
            Ok("migrations applied".into())
        }
        Command::User { command: UserCommand::Add { name, roles, token, no_password, database_url } } => {
            let roles: BTreeSet<Role> = roles.iter().map(|r| people::parse_role(r)).collect::<Result<_, _>>()?;
            let password = if *no_password { None } else { Some(read_password()?) };
            let db = Database::connect(database_url).await?;
            let (user, token) = people::add_user(&db, name, &roles, password.as_deref(), *token).await?;
            let roles: Vec<&str> = user.roles.iter().map(|r| r.as_str()).collect();
            let mut out = format!("added user {} (id {}) with roles {}", user.name, user.id, roles.join(", "));
            if let Some(token) = token {
                out.push_str("\nAPI token (shown once; only its hash is kept):\n");
                out.push_str(&token);
            }
            Ok(out)
        }
        Command::User {
            command:
                command @ (UserCommand::Disable { name, database_url } | UserCommand::Enable { name, database_url }),
        } => {
            let disable = matches!(command, UserCommand::Disable { .. });
            let db = Database::connect(database_url).await?;
            let user = people::set_disabled(&db, &people::User::operator(), name, disable).await?;
            Ok(format!("user {} is {}", user.name, if user.disabled { "disabled" } else { "enabled" }))
        }
        Command::Environment { command } => environment::run(command).await,
        Command::Audit { command: AuditCommand::Verify { database_url, head } } => {
            let db = Database::connect(database_url).await?;
            let n = audit::verify(&db).await?.map_err(|broken| ServerError::AuditBroken(broken.to_string()))?;
            let Some(path) = head else {
                return Ok(format!("audit trail intact: {n} entries (no exported head given: removing the newest entries would not show)"));
            };
            let Some(exported) = audit::head::read(path)? else {
                return Err(ServerError::AuditBroken(format!("{}: no exported head there", path.display())));
            };
            audit::head::reaches(&db, &exported)
                .await?
                .map_err(|broken| ServerError::AuditBroken(broken.to_string()))?;
            Ok(format!("audit trail intact: {n} entries, reaching the exported head (entry {})", exported.id))
        }
        _ => Err(ServerError::Internal("not a database command".into())),
    }
}

/// `portal serve`: the portal from its settings, with every background task, until stopped.
pub async fn serve(catalog: Arc<Catalog>, settings: Settings) -> Result<(), ServerError> {
    let application = Application::build(catalog, settings).await?;
    application.start_background();
    application.run_until_stopped().await
}
