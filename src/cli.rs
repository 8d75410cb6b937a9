//! The `hearth` command: serve (the default) or only run the migrations.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::{App, Config};

#[derive(Debug, Parser)]
#[command(name = "hearth", version, about = "Accounts and real-time chat in one binary.")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    config: Config,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve Hearth (the default).
    Serve,
    /// Apply the database migrations and exit (for a deploy's release step).
    Migrate,
}

pub async fn main() -> ExitCode {
    // A missing .env is normal; a broken one is worth a line.
    if let Err(err) = dotenvy::dotenv()
        && !err.not_found()
    {
        eprintln!("hearth: could not read .env: {err}");
        return ExitCode::from(2);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return config_error(err),
    };
    let config = match cli.config.validated() {
        Ok(config) => config,
        Err(message) => {
            eprintln!("hearth: {message}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();

    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate => crate::db::Db::connect(&config.database_url)
            .await
            .map(|_| tracing::info!("migrations applied")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|err| anyhow::anyhow!("cannot listen on BIND={}: {err}", config.bind))?;
    let app = App::build(config, listener).await?;
    tracing::info!("Hearth is listening on {}", app.base_url());
    app.run_until(shutdown_signal()).await?;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM (what Fly sends before stopping a machine).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

/// Help and version go to stdout as usual; a bad setting is one line naming it.
fn config_error(err: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(err.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = err.print();
        return ExitCode::SUCCESS;
    }
    let rendered = err.render().to_string();
    let first = rendered.lines().next().unwrap_or("invalid configuration");
    eprintln!("hearth: {}", first.trim_start_matches("error: "));
    ExitCode::from(2)
}
