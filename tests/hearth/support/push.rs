//! A real Web Push receiver for the notification tests (tests/push/receiver.py):
//! Python's `cryptography` and `http_ece` check each push's VAPID signature and
//! decrypt its payload with the subscription's private key, as a browser and its
//! push service would, with code that shares nothing with Hearth's.

use std::path::Path;

use serde_json::{Value, json};

use super::python::Helper;

const PUSH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/push");
const PACKAGES: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/push-packages");

static INSTALLED: tokio::sync::OnceCell<Result<(), String>> = tokio::sync::OnceCell::const_new();

async fn install() -> Result<(), String> {
    super::python::install(Path::new(PUSH).join("requirements.txt"), PACKAGES, "http_ece").await
}

/// The receiver: one subscription key pair; any `/push/<name>` is an endpoint.
pub struct PushReceiver {
    receiver: Helper,
    port: u16,
    p256dh: String,
    auth: String,
}

impl PushReceiver {
    /// A fresh receiver, or `None` (the test is skipped) where Python cannot run it.
    pub async fn start() -> Option<PushReceiver> {
        if let Err(why) = INSTALLED.get_or_init(install).await {
            super::python::unavailable("HEARTH_REQUIRE_PUSH", "the Web Push tests", why);
            return None;
        }
        let script = Path::new(PUSH).join("receiver.py");
        let (receiver, first) = Helper::spawn(&script, PACKAGES, &[]).await;
        let said: Value = serde_json::from_str(&first).expect("a JSON line");
        Some(PushReceiver {
            receiver,
            port: said["port"].as_u64().unwrap() as u16,
            p256dh: said["p256dh"].as_str().unwrap().to_owned(),
            auth: said["auth"].as_str().unwrap().to_owned(),
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
        self.receiver.received()
    }

    /// Waits until `n` pushes came; returns them all, each checked and decrypted.
    pub async fn until(&self, n: usize) -> Vec<Value> {
        let pushes = self.receiver.until(n, "pushes").await;
        for push in &pushes {
            assert!(push.get("error").is_none(), "a push failed its checks: {push}");
        }
        pushes
    }
}
