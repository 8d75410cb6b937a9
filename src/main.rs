use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    hearth::cli::main().await
}
