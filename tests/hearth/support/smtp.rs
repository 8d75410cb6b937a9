//! A real SMTP server for the email tests: Python's aiosmtpd (tests/smtp/inbox.py),
//! which writes every message it receives, decoded, as JSON for the test to read.
//!
//! Its package comes from PyPI on first use, into the target folder, so `cargo test`
//! on a fresh clone needs no set-up step. Without Python and pip the email tests are
//! skipped, unless `HEARTH_REQUIRE_SMTP=1` (as in CI) makes that a failure.

use std::path::{Path, PathBuf};

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const SMTP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp");
const PACKAGES: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/smtp-packages");

/// The server, and the folder it writes to. Stopped when dropped.
pub struct Inbox {
    folder: PathBuf,
    port: u16,
    _server: Child,
}

static INSTALLED: tokio::sync::OnceCell<Result<(), String>> = tokio::sync::OnceCell::const_new();

async fn install() -> Result<(), String> {
    super::python::install(Path::new(SMTP).join("requirements.txt"), PACKAGES, "aiosmtpd").await
}

impl Inbox {
    /// A fresh server, or `None` (the test is skipped) where Python cannot run it.
    pub async fn start() -> Option<Inbox> {
        Self::refusing_first(0).await
    }

    /// A server that answers the first `refuse` messages "451 try again later".
    pub async fn refusing_first(refuse: u32) -> Option<Inbox> {
        if let Err(why) = INSTALLED.get_or_init(install).await {
            super::python::unavailable("HEARTH_REQUIRE_SMTP", "the email tests", why);
            return None;
        }
        let folder = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "smtp-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        let mut server = Command::new("python3")
            .arg(Path::new(SMTP).join("inbox.py"))
            .arg(&folder)
            .arg(refuse.to_string())
            .env("PYTHONPATH", PACKAGES)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 runs");
        let stdout = server.stdout.take().expect("its output");
        let mut first = String::new();
        tokio::time::timeout(Duration::from_secs(20), BufReader::new(stdout).read_line(&mut first))
            .await
            .expect("the SMTP server starts within 20 s")
            .expect("it says where it listens");
        let port = first.trim().strip_prefix("ready ").expect("ready PORT").parse().unwrap();
        Some(Inbox { folder, port, _server: server })
    }

    /// `SMTP_URL` for Hearth: plain SMTP on 127.0.0.1.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, in order.
    pub fn mails(&self) -> Vec<Value> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.folder)
            .map(|entries| entries.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        names.retain(|p| p.extension().is_some_and(|e| e == "json"));
        names.sort();
        names.iter().map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()).collect()
    }

    /// Waits until `n` messages came; returns them all.
    pub async fn until(&self, n: usize) -> Vec<Value> {
        for _ in 0..500 {
            let mails = self.mails();
            if mails.len() >= n {
                return mails;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{} of {n} emails arrived", self.mails().len());
    }
}

impl Drop for Inbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

/// The first address in `text` that starts with `prefix` (a link in an email).
pub fn link_in(text: &str, prefix: &str) -> String {
    let start = text.find(prefix).unwrap_or_else(|| panic!("no {prefix} in {text}"));
    text[start..].split_whitespace().next().unwrap().to_owned()
}
