//! `portal environment add|list`: the registry from the server's command line, acting as the
//! `portal-cli` operator (audited as such).

use clap::Subcommand;

use crate::cli::DEFAULT_DATABASE_URL;
use crate::db::Database;
use crate::environments::{Environments, NewEnvironment};
use crate::error::ServerError;
use crate::people;

#[derive(Debug, Subcommand)]
pub enum EnvironmentCommand {
    /// Register an environment; prints its ExternalId and the trust policy its deploy role needs
    /// (shown once).
    Add {
        name: String,
        /// The AWS account id (12 digits); the deploy role must be in it.
        #[arg(long = "account")]
        account_id: String,
        #[arg(long)]
        region: String,
        #[arg(long)]
        role_arn: String,
        /// The environment's domain (HTTPS with an ACM certificate); without one, no TLS where
        /// no CloudFront is in front.
        #[arg(long = "domain")]
        domain_name: Option<String>,
        /// Tiers it allows, comma-separated (development,production-lite,full-production).
        #[arg(long, value_delimiter = ',', required = true)]
        tiers: Vec<String>,
        /// Who may request here beside the requester role: user names or group:NAME, comma-separated.
        #[arg(long, value_delimiter = ',')]
        requesters: Vec<String>,
        /// Who may approve here beside the approver role: user names or group:NAME, comma-separated.
        #[arg(long, value_delimiter = ',')]
        approvers: Vec<String>,
        /// Succeed without change when an environment of that name is registered already.
        #[arg(long)]
        if_missing: bool,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
    /// List the registered environments.
    List {
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
}

/// Runs `portal environment …`; returns what it prints.
pub(super) async fn run(command: &EnvironmentCommand) -> Result<String, ServerError> {
    // The catalog `portal serve` serves: what a registration is checked against.
    let catalog = infra::Catalog::embedded().map_err(ServerError::Catalog)?;
    match command {
        EnvironmentCommand::Add {
            name,
            account_id,
            region,
            role_arn,
            domain_name,
            tiers,
            requesters,
            approvers,
            if_missing,
            database_url,
        } => {
            let db = Database::connect(database_url).await?;
            let registry = Environments { db: &db, catalog: &catalog };
            if *if_missing && registry.find(name).await?.is_some() {
                return Ok(format!("environment {name} is registered already"));
            }
            let input = NewEnvironment {
                name: name.clone(),
                account_id: account_id.clone(),
                region: region.clone(),
                role_arn: role_arn.clone(),
                domain_name: domain_name.clone(),
                tiers: tiers.clone(),
                requesters: requesters.clone(),
                approvers: approvers.clone(),
                lifecycle: None,
            };
            let registered = registry.register(&people::User::operator(), input, None).await?;
            let environment = &registered.environment;
            Ok(format!(
                "registered environment {} ({} / {}, tiers {})\nExternalId (shown once): {}\n\
                 Trust policy for {} (put the ARN the portal runs as under Principal):\n{}",
                environment.name,
                environment.account_id,
                environment.region.as_str(),
                environment.tiers.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(","),
                registered.external_id.unwrap_or_default(),
                environment.role_arn.as_str(),
                serde_json::to_string_pretty(&registered.trust_policy.unwrap_or_default())?
            ))
        }
        EnvironmentCommand::List { database_url } => {
            let db = Database::connect(database_url).await?;
            let list = Environments { db: &db, catalog: &catalog }.list().await?;
            let lines: Vec<String> = list
                .iter()
                .map(|e| {
                    let tiers: Vec<&str> = e.tiers.iter().map(|t| t.as_str()).collect();
                    format!(
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        e.name,
                        e.account_id,
                        e.region.as_str(),
                        e.role_arn.as_str(),
                        tiers.join(","),
                        e.domain_name.as_ref().map_or("(no domain)", |d| d.as_str())
                    )
                })
                .collect();
            Ok(if lines.is_empty() { "no registered environments".into() } else { lines.join("\n") })
        }
    }
}
