//! Password hashing: bcrypt over a SHA-256 pre-hash, on a bounded pool of threads.
//!
//! bcrypt reads only the first 72 bytes of its input, so a long passphrase would be
//! silently cut. Hashing the password with SHA-256 first (base64, 44 bytes) lets every
//! character count. The stored value starts with [`SCHEME`], so a later scheme can
//! be told apart from this one.
//!
//! A bcrypt at cost 12 is a quarter-second of CPU. It never runs on the async
//! workers: a pool of hashing threads, one per core, takes the hashes in turn, so a
//! storm of sign-ins queues up. On Linux those threads run at the lowest priority
//! (nice 19): sign-ins get every core the chat is not using, and the chat is served
//! first when both want one. Elsewhere the pool leaves a core free instead.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use tokio::sync::{OnceCell, oneshot};

use super::fields::NewPassword;

const SCHEME: &str = "sha256-bcrypt$";

#[derive(Clone)]
pub struct Passwords {
    inner: Arc<Inner>,
}

type Job = Box<dyn FnOnce() + Send>;

struct Inner {
    cost: u32,
    /// The hashing threads' queue; they stop when it is dropped.
    hashers: Sender<Job>,
    /// A hash of nothing anyone knows, verified against when the email is unknown so
    /// that answer takes as long as a wrong password.
    decoy: OnceCell<String>,
}

impl Passwords {
    pub fn new(cost: u32) -> anyhow::Result<Self> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = if cfg!(target_os = "linux") { cores } else { cores.saturating_sub(1) };
        let inner = Inner { cost, hashers: start_hashers(threads.max(1))?, decoy: OnceCell::new() };
        Ok(Self { inner: Arc::new(inner) })
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

    /// Runs `work` on a hashing thread and waits for it without blocking a worker.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            // A panic drops `done`, which the waiting request sees as an error.
            if let Ok(value) = catch_unwind(AssertUnwindSafe(work)) {
                let _ = done.send(value);
            }
        });
        self.inner.hashers.send(job).map_err(|_| anyhow::anyhow!("the hashing threads stopped"))?;
        result.await.context("a password hash failed")
    }
}

fn start_hashers(threads: usize) -> anyhow::Result<Sender<Job>> {
    let (jobs, queue) = channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    for n in 0..threads {
        let queue = queue.clone();
        std::thread::Builder::new()
            .name(format!("hearth-bcrypt-{n}"))
            .spawn(move || {
                lowest_priority();
                while let Some(job) = next_job(&queue) {
                    job();
                }
            })
            .context("could not start a password hashing thread")?;
    }
    Ok(jobs)
}

fn next_job(queue: &Mutex<Receiver<Job>>) -> Option<Job> {
    queue.lock().ok()?.recv().ok()
}

/// Nice 19 for the calling thread. On Linux the nice value belongs to the thread,
/// so the async workers keep theirs.
fn lowest_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: setpriority only reads its integer arguments; `who` = 0 is this thread.
        let failed = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 19) } != 0;
        if failed {
            tracing::warn!("could not lower the password hashing thread's priority");
        }
    }
}

fn prehash(password: &str) -> String {
    STANDARD.encode(Sha256::digest(password.as_bytes()))
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::{NewPassword, Passwords};

    /// The nice value of each of this process's password hashing threads.
    fn hashing_thread_priorities() -> Vec<i64> {
        let tasks = std::fs::read_dir("/proc/self/task").expect("/proc/self/task");
        tasks
            .filter_map(|task| {
                let dir = task.ok()?.path();
                let name = std::fs::read_to_string(dir.join("comm")).ok()?;
                if !name.starts_with("hearth-bcrypt") {
                    return None;
                }
                let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
                // Fields after the command's closing parenthesis; the nice value is the 19th field.
                stat.rsplit_once(')')?.1.split_whitespace().nth(16)?.parse().ok()
            })
            .collect()
    }

    #[tokio::test]
    async fn hashes_run_on_threads_at_the_lowest_priority() {
        let passwords = Passwords::new(4).expect("hashing threads");
        let phrase = "kettle lantern ember";
        let hash = passwords.hash(&NewPassword::parse(phrase).expect("a fine password")).await;
        let hash = hash.expect("a hash");
        assert!(passwords.verify(phrase, Some(&hash)).await.expect("verified"));
        assert!(!passwords.verify("kettle lantern embers", Some(&hash)).await.expect("verified"));

        let priorities = hashing_thread_priorities();
        assert!(!priorities.is_empty(), "the hashing threads are running");
        assert!(priorities.iter().all(|&nice| nice == 19), "{priorities:?}");
    }
}
