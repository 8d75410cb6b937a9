//! A real SMTP server for the email tests: Python's aiosmtpd (tests/smtp/inbox.py),
//! which writes every message it receives, decoded, as JSON for the test to read.
//!
//! Its package comes from PyPI on first use, into the target folder, so `cargo test`
//! on a fresh clone needs no set-up step. Without Python and pip the email tests are
//! skipped, unless `HEARTH_REQUIRE_SMTP=1` (as in CI) makes that a failure.

use std::path::Path;

use serde_json::Value;

use super::python::Helper;

const SMTP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp");
const PACKAGES: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/smtp-packages");

/// The server, and the folder it writes to. Stopped when dropped.
pub struct Inbox {
    server: Helper,
    port: u16,
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
        let script = Path::new(SMTP).join("inbox.py");
        let (server, first) = Helper::spawn(&script, PACKAGES, &[refuse.to_string()]).await;
        let port = first.trim().strip_prefix("ready ").expect("ready PORT").parse().unwrap();
        Some(Inbox { server, port })
    }

    /// `SMTP_URL` for Hearth: plain SMTP on 127.0.0.1.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, in order.
    pub fn mails(&self) -> Vec<Value> {
        self.server.received()
    }

    /// Waits until `n` messages came; returns them all.
    pub async fn until(&self, n: usize) -> Vec<Value> {
        self.server.until(n, "emails").await
    }
}

/// The first address in `text` that starts with `prefix` (a link in an email).
pub fn link_in(text: &str, prefix: &str) -> String {
    let start = text.find(prefix).unwrap_or_else(|| panic!("no {prefix} in {text}"));
    text[start..].split_whitespace().next().unwrap().to_owned()
}
