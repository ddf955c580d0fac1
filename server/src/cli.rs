//! The `portal` command line: `serve`, `cost`, `diagram`, `templates render`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use infra::{Catalog, DeploymentSpec, EnvironmentName, OptionSet, Region, TierId};

use crate::error::ServerError;
use crate::views::CatalogService;

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
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/portal.db?mode=rwc")]
        database_url: String,
        /// Folder of the compiled site (wasm, JS, CSS), as cargo-leptos writes it.
        #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
        site_root: String,
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
    },
}

fn options_for(catalog: &Catalog, tier: TierId, options: &Option<Vec<String>>) -> Result<OptionSet, ServerError> {
    Ok(match options {
        None => catalog.tier(tier).default_options.clone(),
        Some(list) => list.iter().map(|o| o.parse()).collect::<Result<_, _>>()?,
    })
}

/// Runs a command that prints its result; `serve` is handled by `main`.
pub fn run_offline(catalog: Arc<Catalog>, command: &Command) -> Result<String, ServerError> {
    match command {
        Command::Serve { .. } => Err(ServerError::Startup("`serve` is not an offline command".into())),
        Command::Cost {
            tier,
            usage,
            options,
            no_free_tier,
            format,
        } => {
            let tier: TierId = tier.parse()?;
            let options = options_for(&catalog, tier, options)?;
            let mut assumptions = catalog.default_usage.clone();
            if let Some(path) = usage {
                let text = std::fs::read_to_string(path).map_err(|source| ServerError::Io {
                    path: path.display().to_string(),
                    source,
                })?;
                assumptions = assumptions
                    .with_overrides(&path.display().to_string(), &text)
                    .map_err(|e| ServerError::Invalid {
                        code: "invalid_usage",
                        message: e.to_string(),
                        field: None,
                    })?;
            }
            let report = catalog.report(&DeploymentSpec::preview(tier, options), &assumptions, !no_free_tier)?;
            Ok(match format {
                Format::Json => {
                    let json = serde_json::json!({
                        "tier": tier,
                        "pricing": report.estimate.pricing,
                        "monthly_usd": report.estimate.monthly_usd,
                        "yearly_usd": report.estimate.yearly_usd,
                        "on_demand_monthly_usd": report.estimate.on_demand_monthly_usd,
                        "reserved_monthly_usd": report.estimate.reserved_monthly_usd,
                        "free_tier": report.estimate.free_tier,
                        "services": report.estimate.services,
                        "lines": report.estimate.lines,
                        "unpriced": report.estimate.unpriced,
                        "usage": report.usage,
                    });
                    serde_json::to_string_pretty(&json).map_err(|e| ServerError::Startup(e.to_string()))?
                }
                Format::Table => cost_table(&report),
            })
        }
        Command::Diagram { tier, options } => {
            let tier: TierId = tier.parse()?;
            let options = options_for(&catalog, tier, options)?;
            let report = catalog.report(&DeploymentSpec::preview(tier, options), &catalog.default_usage, true)?;
            Ok(catalog.diagram(&report))
        }
        Command::Templates {
            command:
                TemplatesCommand::Render {
                    tier,
                    out,
                    environment,
                    region,
                    options,
                },
        } => {
            let tier: TierId = tier.parse()?;
            let spec = DeploymentSpec {
                tier,
                environment: EnvironmentName::parse(environment)?,
                region: Region::parse(region)?,
                options: options_for(&catalog, tier, options)?,
                domain_name: None,
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

fn cost_table(report: &infra::TierReport) -> String {
    use app::format::usd;
    let e = &report.estimate;
    let mut out = format!(
        "{} ({:?} pricing, free tier {})\n",
        report.tier.name,
        e.pricing,
        if e.free_tier { "applied" } else { "not applied" }
    );
    out.push_str(&format!(
        "{:<16} {:<26} {:>5} {:<44} {:>12}\n",
        "SERVICE", "RESOURCE", "PHASE", "WHAT", "MONTHLY"
    ));
    for l in &e.lines {
        out.push_str(&format!(
            "{:<16} {:<26} {:>5} {:<44} {:>12}\n",
            l.service,
            l.resource,
            l.phase.number(),
            l.description.chars().take(44).collect::<String>(),
            usd(l.monthly_usd)
        ));
    }
    out.push('\n');
    for s in &e.services {
        let seed = s.seed_usd.map(|v| format!("  (seed {})", usd(v))).unwrap_or_default();
        out.push_str(&format!("{:<16} {:>12}{}\n", s.service, usd(s.monthly_usd), seed));
        if let Some(note) = &s.note {
            out.push_str(&format!("    note: {note}\n"));
        }
    }
    out.push_str(&format!(
        "\nMonthly {}   Yearly {}   On-demand {}   Reserved {}\n",
        usd(e.monthly_usd),
        usd(e.yearly_usd),
        usd(e.on_demand_monthly_usd),
        usd(e.reserved_monthly_usd)
    ));
    for u in &e.unpriced {
        out.push_str(&format!("warning: no price model for {} ({})\n", u.resource, u.resource_type));
    }
    out
}

/// Starts the HTTP server on `addr` with the embedded catalog.
pub async fn serve(catalog: Arc<Catalog>, addr: SocketAddr, database_url: &str, site_root: &str) -> Result<(), ServerError> {
    if !(database_url.starts_with("sqlite:") || database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
        return Err(ServerError::Startup(format!(
            "DATABASE_URL must start with sqlite: or postgres://, got `{database_url}`"
        )));
    }
    let sandbox = std::env::var("PORTAL_SANDBOX").is_ok_and(|v| v == "1");
    let service = Arc::new(CatalogService::new(catalog, sandbox));
    let options = crate::http::leptos_options(addr, site_root);
    crate::http::serve(addr, crate::http::router(service, options)).await
}
