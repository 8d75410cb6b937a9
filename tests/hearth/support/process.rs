//! Hearth's command line, run as an operator runs it: the binary as a process, on
//! a test app's database.

use std::process::Stdio;

use tokio::io::AsyncWriteExt;

use super::TestApp;

/// The binary these tests run as a process: `HEARTH_BIN` when set (CI points it at
/// the release build, the one the Dockerfile ships), else the one cargo built for them.
pub fn hearth_binary() -> String {
    std::env::var("HEARTH_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_hearth").to_owned())
}

/// What a command did.
pub struct Ran {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `hearth <args>` against the app's database, with `stdin` as input and the
/// default log level.
pub async fn run(app: &TestApp, args: &[&str], stdin: &str) -> Ran {
    let mut child = tokio::process::Command::new(hearth_binary())
        .args(args)
        .env_clear()
        .env("DATABASE_URL", app.database_url())
        .env("BCRYPT_COST", "4")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).await.unwrap();
    let out = child.wait_with_output().await.unwrap();
    Ran {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
