use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use server::cli::{Cli, Command};
use server::settings::{LogFormat, Settings};

/// Rendering a tier page allocates and frees thousands of small strings; mimalloc does that in a
/// fraction of glibc's time (tests/bench/ssr.sh, README).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let format = match Settings::log_format() {
        Ok(format) => format,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().with_current_span(true).with_span_list(false).init(),
    }
    let cli = Cli::parse();
    let catalog = match infra::Catalog::embedded() {
        Ok(c) => Arc::new(c),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match &cli.command {
        Command::Serve { addr, database_url, site_root, policy } => {
            match Settings::from_env(*addr, database_url, site_root, policy.as_deref()) {
                Ok(settings) => server::cli::serve(catalog, settings).await,
                Err(e) => Err(e),
            }
        }
        db @ (Command::Migrate { .. } | Command::User { .. } | Command::Environment { .. } | Command::Audit { .. }) => {
            server::cli::run_database(db).await.map(|out| println!("{out}"))
        }
        offline => server::cli::run_offline(catalog, offline).map(|out| println!("{out}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
