//! A real Web Push receiver for the notification tests (tests/push/receiver.py):
//! Python's `cryptography` and `http_ece` check each push's VAPID signature and
//! decrypt its payload with the subscription's private key, as a browser and its
//! push service would, with code that shares nothing with Hearth's.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const PUSH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/push");
const PACKAGES: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/push-packages");

static INSTALLED: tokio::sync::OnceCell<Result<(), String>> = tokio::sync::OnceCell::const_new();

async fn install() -> Result<(), String> {
    super::python::install(Path::new(PUSH).join("requirements.txt"), PACKAGES, "http_ece").await
}

/// The receiver: one subscription key pair; any `/push/<name>` is an endpoint.
pub struct PushReceiver {
    folder: PathBuf,
    port: u16,
    p256dh: String,
    auth: String,
    _server: Child,
}

impl PushReceiver {
    /// A fresh receiver, or `None` (the test is skipped) where Python cannot run it.
    pub async fn start() -> Option<PushReceiver> {
        if let Err(why) = INSTALLED.get_or_init(install).await {
            super::python::unavailable("HEARTH_REQUIRE_PUSH", "the Web Push tests", why);
            return None;
        }
        let folder = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "push-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        let mut server = Command::new("python3")
            .arg(Path::new(PUSH).join("receiver.py"))
            .arg(&folder)
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
            .expect("the receiver starts within 20 s")
            .expect("it says where it listens");
        let said: Value = serde_json::from_str(&first).expect("a JSON line");
        Some(PushReceiver {
            folder,
            port: said["port"].as_u64().unwrap() as u16,
            p256dh: said["p256dh"].as_str().unwrap().to_owned(),
            auth: said["auth"].as_str().unwrap().to_owned(),
            _server: server,
        })
    }

    /// A subscription as a browser's `PushSubscription.toJSON()` gives it, for the
    /// endpoint `/push/<name>`.
    pub fn subscription(&self, name: &str) -> Value {
        json!({
            "endpoint": format!("http://127.0.0.1:{}/push/{name}", self.port),
            "keys": { "p256dh": self.p256dh, "auth": self.auth },
        })
    }

    /// Every push received so far, in order.
    pub fn pushes(&self) -> Vec<Value> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.folder)
            .map(|entries| entries.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        names.retain(|p| p.extension().is_some_and(|e| e == "json"));
        names.sort();
        names.iter().map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()).collect()
    }

    /// Waits until `n` pushes came; returns them all, each checked and decrypted.
    pub async fn until(&self, n: usize) -> Vec<Value> {
        for _ in 0..500 {
            let pushes = self.pushes();
            if pushes.len() >= n {
                for push in &pushes {
                    assert!(push.get("error").is_none(), "a push failed its checks: {push}");
                }
                return pushes;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{} of {n} pushes arrived", self.pushes().len());
    }
}

impl Drop for PushReceiver {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}
