//! Password hashing: bcrypt over a SHA-256 pre-hash, on a bounded pool of threads.
//!
//! bcrypt reads only the first 72 bytes of its input, so a long passphrase would be
//! silently cut. Hashing the password with SHA-256 first (base64, 44 bytes) lets every
//! character count. The stored value starts with [`SCHEME`], so a later scheme can
//! be told apart from this one.
//!
//! A bcrypt at cost 12 is a quarter-second of CPU. It never runs on the async
//! workers: a pool of hashing threads, one per core, takes the hashes in turn. On
//! Linux those threads run at the lowest priority (nice 19): sign-ins get every core
//! the chat is not using, and the chat is served first when both want one. Elsewhere
//! the pool leaves a core free instead.
//!
//! The queue in front of the threads is bounded (`SIGNIN_QUEUE`): a storm of
//! sign-ins with made-up emails, which no per-account limit meets, would otherwise
//! queue up without end and make everyone's sign-in wait seconds. When the queue is
//! full a hash is refused at once ([`AppError::Busy`], 503 with `Retry-After`). A job
//! whose requester has gone away (the client disconnected, so its request was
//! dropped) holds no place and is never hashed.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use tokio::sync::{OnceCell, oneshot};

use super::fields::NewPassword;
use crate::error::{AppError, Result};

const SCHEME: &str = "sha256-bcrypt$";

#[derive(Clone)]
pub struct Passwords {
    inner: Arc<Inner>,
}

struct Inner {
    cost: u32,
    /// The hashing threads' queue; they stop when this is dropped.
    hashers: Hashers,
    /// A hash of nothing anyone knows, verified against when the email is unknown so
    /// that answer takes as long as a wrong password.
    decoy: OnceCell<String>,
}

impl Passwords {
    /// Starts the hashing threads; `queue` hashes may wait for one (default: one
    /// per thread, so an admitted hash waits about one hash time before its own).
    pub fn new(cost: u32, queue: Option<usize>) -> anyhow::Result<Self> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = if cfg!(target_os = "linux") { cores } else { cores.saturating_sub(1) };
        let threads = threads.max(1);
        let hashers = Hashers::start(threads, queue.unwrap_or(threads))?;
        let inner = Inner { cost, hashers, decoy: OnceCell::new() };
        Ok(Self { inner: Arc::new(inner) })
    }

    /// How many hashes run at once.
    pub fn threads(&self) -> usize {
        self.inner.hashers.shared.threads
    }

    pub async fn hash(&self, password: &NewPassword) -> Result<String> {
        let prehashed = prehash(password.as_str());
        let cost = self.inner.cost;
        let hash = self.blocking(move || bcrypt::non_truncating_hash(prehashed, cost)).await?;
        Ok(format!("{SCHEME}{}", hash.map_err(anyhow::Error::from)?))
    }

    /// Checks `password` against a stored hash, or against the decoy when there is
    /// none, which always fails but costs the same.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool> {
        let (bcrypt_hash, real) = match stored {
            Some(stored) => match stored.strip_prefix(SCHEME) {
                Some(hash) => (hash.to_owned(), true),
                None => {
                    return Err(
                        anyhow::anyhow!("stored password hash has an unknown scheme").into()
                    );
                }
            },
            None => (self.decoy().await?, false),
        };
        let prehashed = prehash(password);
        let matches = self.blocking(move || bcrypt::verify(prehashed, &bcrypt_hash)).await?;
        Ok(real && matches.map_err(anyhow::Error::from)?)
    }

    async fn decoy(&self) -> Result<String> {
        let hash = self
            .inner
            .decoy
            .get_or_try_init(|| async {
                let cost = self.inner.cost;
                let random: [u8; 32] = rand::random();
                let secret = STANDARD.encode(random);
                let hash = self.blocking(move || bcrypt::non_truncating_hash(secret, cost)).await?;
                hash.map_err(|err| AppError::Internal(err.into()))
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

    /// Runs `work` on a hashing thread and waits for it without blocking a worker;
    /// [`AppError::Busy`] at once when the queue is full. Dropping the returned
    /// future (the request went away) withdraws the job if it has not started.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let (done, result) = oneshot::channel();
        self.inner.hashers.submit(Box::new(Pending { work, done }))?;
        Ok(result.await.context("a password hash failed")?)
    }
}

/// A hash waiting for a thread.
trait Job: Send {
    /// Whether anyone still waits for the result.
    fn wanted(&self) -> bool;
    /// Does the work; the result is handed over when the delivery is called.
    fn run(self: Box<Self>) -> Delivery;
}

type Delivery = Box<dyn FnOnce() + Send>;

struct Pending<T, F> {
    work: F,
    done: oneshot::Sender<T>,
}

impl<T: Send + 'static, F: FnOnce() -> T + Send> Job for Pending<T, F> {
    fn wanted(&self) -> bool {
        // The receiver is dropped with the request future that awaited it.
        !self.done.is_closed()
    }

    fn run(self: Box<Self>) -> Delivery {
        let Pending { work, done } = *self;
        let result = catch_unwind(AssertUnwindSafe(work));
        Box::new(move || {
            // A panic drops `done`, which the waiting request sees as an error.
            if let Ok(value) = result {
                let _ = done.send(value);
            }
        })
    }
}

/// The hashing threads and their bounded queue.
struct Hashers {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<Queue>,
    /// Signalled when a job is queued, and when the threads are to stop.
    queued: Condvar,
    threads: usize,
    /// How many jobs may wait while every thread is busy.
    bound: usize,
    /// How long the last hash took, for the `Retry-After` of a refusal.
    last_hash_us: AtomicU64,
}

#[derive(Default)]
struct Queue {
    waiting: VecDeque<Box<dyn Job>>,
    /// Threads with a job. Each counts itself free again before it hands the result
    /// over, so by the time a client has its answer the place is free: a thread
    /// at nice 19 may otherwise wait long on a busy machine to get that far.
    running: usize,
    stopping: bool,
}

impl Hashers {
    fn start(threads: usize, bound: usize) -> anyhow::Result<Self> {
        let shared = Arc::new(Shared {
            state: Mutex::new(Queue::default()),
            queued: Condvar::new(),
            threads,
            bound,
            last_hash_us: AtomicU64::new(0),
        });
        let hashers = Hashers { shared };
        for n in 0..threads {
            let shared = hashers.shared.clone();
            std::thread::Builder::new()
                .name(format!("hearth-bcrypt-{n}"))
                .spawn(move || {
                    lowest_priority();
                    while let Some(job) = shared.next_job() {
                        let delivery = shared.run(job);
                        shared.finished();
                        if let Some(deliver) = delivery {
                            deliver();
                        }
                    }
                })
                .context("could not start a password hashing thread")?;
        }
        Ok(hashers)
    }

    fn submit(&self, job: Box<dyn Job>) -> Result<()> {
        let shared = &self.shared;
        let mut queue = shared.lock()?;
        if queue.waiting.len() >= shared.room(&queue) {
            // Full: but a job whose requester has gone holds no place.
            let before = queue.waiting.len();
            queue.waiting.retain(|job| job.wanted());
            outcome("abandoned", before - queue.waiting.len());
        }
        if queue.waiting.len() >= shared.room(&queue) {
            let ahead = queue.waiting.len() + shared.threads;
            drop(queue);
            outcome("refused", 1);
            return Err(AppError::Busy { retry_after: shared.drain_time(ahead) });
        }
        queue.waiting.push_back(job);
        drop(queue);
        shared.queued.notify_one();
        Ok(())
    }
}

impl Drop for Hashers {
    fn drop(&mut self) {
        if let Ok(mut queue) = self.shared.lock() {
            queue.stopping = true;
        }
        self.shared.queued.notify_all();
    }
}

impl Shared {
    fn lock(&self) -> Result<MutexGuard<'_, Queue>> {
        // Only a panic inside these few lines could poison it; jobs run unlocked.
        self.state.lock().map_err(|_| anyhow::anyhow!("the hashing queue is poisoned").into())
    }

    /// The next job, or `None` once the threads are to stop.
    fn next_job(&self) -> Option<Box<dyn Job>> {
        let mut queue = self.lock().ok()?;
        loop {
            if let Some(job) = queue.waiting.pop_front() {
                queue.running += 1;
                return Some(job);
            }
            if queue.stopping {
                return None;
            }
            queue = self.queued.wait(queue).ok()?;
        }
    }

    /// A thread's job is done (or skipped).
    fn finished(&self) {
        if let Ok(mut queue) = self.lock() {
            queue.running = queue.running.saturating_sub(1);
        }
    }

    /// How many jobs may be waiting: the bound, plus one for each free thread
    /// (which is about to take one).
    fn room(&self, queue: &Queue) -> usize {
        self.bound + self.threads.saturating_sub(queue.running)
    }

    fn run(&self, job: Box<dyn Job>) -> Option<Delivery> {
        if !job.wanted() {
            outcome("abandoned", 1);
            return None;
        }
        let started = Instant::now();
        let delivery = job.run();
        let took = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.last_hash_us.store(took, Ordering::Relaxed);
        outcome("hashed", 1);
        Some(delivery)
    }

    /// About how long `jobs` take on all threads: when to try again (at least 1 s,
    /// as `Retry-After` counts whole seconds).
    fn drain_time(&self, jobs: usize) -> Duration {
        let hash = Duration::from_micros(self.last_hash_us.load(Ordering::Relaxed));
        let rounds = u32::try_from(jobs.div_ceil(self.threads)).unwrap_or(u32::MAX);
        hash.saturating_mul(rounds).max(Duration::from_secs(1))
    }
}

fn outcome(outcome: &'static str, n: usize) {
    if n > 0 {
        metrics::counter!("hearth_password_hashes_total", "outcome" => outcome).increment(n as u64);
    }
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
        let passwords = Passwords::new(4, None).expect("hashing threads");
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

#[cfg(test)]
mod queue_tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use super::{AppError, Passwords, Queue};

    /// Waits until the queue is as `ready` wants it (the threads run on their own).
    async fn until(passwords: &Passwords, ready: impl Fn(&Queue) -> bool) {
        for _ in 0..500 {
            if ready(&passwords.inner.hashers.shared.lock().expect("queue")) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the queue never got there");
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_a_withdrawn_job_is_never_run() {
        let passwords = Passwords::new(4, Some(1)).expect("hashing threads");
        let threads = passwords.threads();
        // Every thread held by a job that waits to be let go.
        let mut gates = Vec::new();
        let mut held = Vec::new();
        for _ in 0..threads {
            let (gate, wait) = std::sync::mpsc::channel::<()>();
            let passwords = passwords.clone();
            gates.push(gate);
            held.push(tokio::spawn(async move { passwords.blocking(move || wait.recv()).await }));
        }
        until(&passwords, |queue| queue.running == threads).await;

        // One job waits; its requester gives up.
        let ran = Arc::new(AtomicBool::new(false));
        let withdrawn = {
            let (passwords, ran) = (passwords.clone(), ran.clone());
            tokio::spawn(async move {
                passwords.blocking(move || ran.store(true, Ordering::SeqCst)).await
            })
        };
        until(&passwords, |queue| queue.waiting.len() == 1).await;
        withdrawn.abort();
        assert!(withdrawn.await.is_err_and(|err| err.is_cancelled()));

        // Its place is free, so the next job is taken; the one after is refused at once.
        let next = {
            let passwords = passwords.clone();
            tokio::spawn(async move { passwords.blocking(|| 7).await })
        };
        until(&passwords, |queue| queue.waiting.iter().any(|job| job.wanted())).await;
        let refused = passwords.blocking(|| 0).await;
        assert!(
            matches!(refused, Err(AppError::Busy { retry_after }) if retry_after.as_secs() >= 1)
        );

        for gate in gates {
            gate.send(()).expect("a held job");
        }
        for job in held {
            assert!(job.await.expect("held job").expect("ran").is_ok());
        }
        assert_eq!(next.await.expect("next job").expect("ran"), 7);
        assert!(!ran.load(Ordering::SeqCst), "the withdrawn job never ran");
    }
}
