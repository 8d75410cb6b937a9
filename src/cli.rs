//! The `hearth` command: serve (the default) or only run the migrations.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;
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
    /// Write every person (no password hashes), room, membership, message and file
    /// listing to stdout as NDJSON, one object per line with its `type`.
    Export,
    /// Copy the SQLite database to PATH, consistently, while Hearth serves it (on
    /// PostgreSQL: print the `pg_dump` line to run instead).
    Backup {
        /// A file that does not exist yet; it is created readable by its owner only.
        path: std::path::PathBuf,
    },
    /// Manage people from the shell. Passwords are read from the first line of stdin.
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an account: `echo 'passphrase' | hearth user create --name Ada --email ada@example.org`.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
    },
    /// Set a new password (from stdin) and end every session of the account.
    ResetPassword {
        #[arg(long)]
        email: String,
    },
    /// Turn two-factor codes off for someone who lost their app and recovery codes.
    TurnOffTwoFactor {
        #[arg(long)]
        email: String,
    },
    /// Stop an account from signing in and end its sessions.
    Deactivate {
        #[arg(long)]
        email: String,
    },
    /// Let a deactivated account sign in again.
    Reactivate {
        #[arg(long)]
        email: String,
    },
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
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // `hearth export` writes its data to stdout: its log goes to stderr.
    let to_stderr = matches!(cli.command, Some(Command::Export));
    let writer = move || -> Box<dyn std::io::Write> {
        if to_stderr { Box::new(std::io::stderr()) } else { Box::new(std::io::stdout()) }
    };
    if config.log_format == LogFormat::Json {
        tracing_subscriber::fmt().json().with_env_filter(filter).with_writer(writer).init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).init();
    }

    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate => crate::db::Db::connect(&config.database_url)
            .await
            .map(|_| tracing::info!("migrations applied")),
        Command::Export => export(&config).await,
        Command::Backup { path } => backup(&config, &path).await,
        Command::User(command) => user_command(config, command).await,
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

async fn export(config: &Config) -> anyhow::Result<()> {
    let db = crate::db::Db::connect(&config.database_url).await?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let said = crate::export::export(&db, &mut out).await?;
    eprintln!("{said}");
    db.close().await;
    Ok(())
}

async fn backup(config: &Config, path: &std::path::Path) -> anyhow::Result<()> {
    let db = crate::db::Db::connect(&config.database_url).await?;
    let said = crate::export::backup(&db, &config.database_url, path).await;
    db.close().await;
    println!("{}", said?);
    Ok(())
}

async fn user_command(config: Config, command: UserCommand) -> anyhow::Result<()> {
    use crate::accounts::operator;
    let state = crate::AppState::open(config.clone(), config.bind).await?;
    match command {
        UserCommand::Create { name, email } => {
            let user = operator::create(&state, &name, &email, &password_from_stdin()?).await?;
            println!("created account {} for {}", user.id, user.email);
        }
        UserCommand::ResetPassword { email } => {
            let ended = operator::reset_password(&state, &email, &password_from_stdin()?).await?;
            println!("password reset for {email}; {ended} session(s) ended");
        }
        UserCommand::TurnOffTwoFactor { email } => {
            operator::turn_off_two_factor(&state, &email).await?;
            println!("two-factor codes are off for {email}; the password alone signs in");
        }
        UserCommand::Deactivate { email } => {
            let ended = operator::set_active(&state, &email, false).await?;
            println!("{email} deactivated; {ended} session(s) ended");
        }
        UserCommand::Reactivate { email } => {
            operator::set_active(&state, &email, true).await?;
            println!("{email} can sign in again");
        }
    }
    state.db.close().await;
    Ok(())
}

/// The first line of stdin, without its line ending (spaces are part of a password).
fn password_from_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
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
