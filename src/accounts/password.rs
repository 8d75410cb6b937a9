//! Password hashing: bcrypt over a SHA-256 pre-hash, on a bounded blocking pool.
//!
//! bcrypt reads only the first 72 bytes of its input, so a long passphrase would be
//! silently cut. Hashing the password with SHA-256 first (base64, 44 bytes) lets every
//! character count. The stored value starts with [`SCHEME`], so a later scheme can
//! be told apart from this one.
//!
//! A bcrypt at cost 12 is a quarter-second of CPU. It runs on tokio's blocking threads,
//! never on the async workers, and a semaphore keeps at most `cores - 1` running at
//! once, so a storm of sign-ins queues up instead of starving chat.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use tokio::sync::{OnceCell, Semaphore};

use super::fields::NewPassword;

const SCHEME: &str = "sha256-bcrypt$";

#[derive(Clone)]
pub struct Passwords {
    inner: Arc<Inner>,
}

struct Inner {
    cost: u32,
    permits: Semaphore,
    /// A hash of nothing anyone knows, verified against when the email is unknown so
    /// that answer takes as long as a wrong password.
    decoy: OnceCell<String>,
}

impl Passwords {
    pub fn new(cost: u32) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let permits = Semaphore::new(cores.saturating_sub(1).max(1));
        let inner = Inner { cost, permits, decoy: OnceCell::new() };
        Self { inner: Arc::new(inner) }
    }

    pub async fn hash(&self, password: &NewPassword) -> anyhow::Result<String> {
        let prehashed = prehash(password.as_str());
        let cost = self.inner.cost;
        let hash = self.blocking(move || bcrypt::non_truncating_hash(prehashed, cost)).await??;
        Ok(format!("{SCHEME}{hash}"))
    }

    /// Checks `password` against a stored hash, or against the decoy when there is
    /// none, which always fails but costs the same.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> anyhow::Result<bool> {
        let (bcrypt_hash, real) = match stored {
            Some(stored) => match stored.strip_prefix(SCHEME) {
                Some(hash) => (hash.to_owned(), true),
                None => anyhow::bail!("stored password hash has an unknown scheme"),
            },
            None => (self.decoy().await?, false),
        };
        let prehashed = prehash(password);
        let matches = self.blocking(move || bcrypt::verify(prehashed, &bcrypt_hash)).await??;
        Ok(real && matches)
    }

    async fn decoy(&self) -> anyhow::Result<String> {
        let hash = self
            .inner
            .decoy
            .get_or_try_init(|| async {
                let cost = self.inner.cost;
                let random: [u8; 32] = rand::random();
                let secret = STANDARD.encode(random);
                self.blocking(move || bcrypt::non_truncating_hash(secret, cost))
                    .await?
                    .map_err(anyhow::Error::from)
            })
            .await?;
        Ok(hash.clone())
    }

    /// Computes the decoy hash ahead of the first unknown-email sign-in.
    pub async fn warm_up(&self) {
        if let Err(err) = self.decoy().await {
            tracing::warn!("could not prepare the decoy password hash: {err:#}");
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let _permit = self.inner.permits.acquire().await?;
        Ok(tokio::task::spawn_blocking(work).await?)
    }
}

fn prehash(password: &str) -> String {
    STANDARD.encode(Sha256::digest(password.as_bytes()))
}
