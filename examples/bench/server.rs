//! The processes under test and what /proc says about them; the throw-away databases.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sqlx::Connection;

/// The binaries `cargo build --release` put next to this one.
pub struct Bins {
    pub hearth: PathBuf,
    pub baseline: PathBuf,
}

impl Bins {
    /// This program is `<target>/release/examples/bench`.
    pub fn locate() -> anyhow::Result<Self> {
        let me = std::env::current_exe()?;
        let examples = me.parent().context("no parent folder")?;
        let release = examples.parent().context("no parent folder")?;
        let bins =
            Bins { hearth: release.join("hearth"), baseline: examples.join("bench_baseline") };
        for bin in [&bins.hearth, &bins.baseline] {
            if !bin.exists() {
                bail!("{} is missing: run the benchmark with `just bench`", bin.display());
            }
        }
        Ok(bins)
    }
}

pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A server process this benchmark started; killed if still running when dropped.
pub struct Server {
    child: Child,
    started: Instant,
    pub base: String,
    pub log: PathBuf,
    /// The path that answers 200 once the server is up.
    health: &'static str,
}

impl Server {
    /// Hearth on `127.0.0.1:port`, with the benchmark's settings; `queue` is
    /// `SIGNIN_QUEUE` (Hearth's default when `None`).
    pub fn hearth(
        bin: &Path,
        dir: &Path,
        db_url: &str,
        port: u16,
        cost: u32,
        queue: Option<u32>,
    ) -> anyhow::Result<Self> {
        let base = format!("http://127.0.0.1:{port}");
        let mut command = Command::new(bin);
        command
            // Away from any `.env` in the repository.
            .current_dir(dir)
            .env("DATABASE_URL", db_url)
            .env("BIND", format!("127.0.0.1:{port}"))
            .env("BASE_URL", &base)
            .env("BCRYPT_COST", cost.to_string())
            // The benchmark's people sign themselves up.
            .env("SIGNUP", "open")
            .env("RATE_LIMIT_PER_ADDRESS", "1000000")
            .env("RATE_LIMIT_PER_ACCOUNT", "1000000")
            .env("CHAT_MESSAGES_PER_MINUTE", "100000")
            .env("RUST_LOG", "warn");
        for unset in [
            "PORT",
            "METRICS_BIND",
            "GOOGLE_CLIENT_ID",
            "GOOGLE_CLIENT_SECRET",
            "TRUST_FLY_CLIENT_IP",
            "CHAT_SOCKET_QUEUE",
            "CHAT_SOCKETS_PER_PERSON",
            "CHAT_SOCKET_OPENS_PER_MINUTE",
            "CHAT_ROOMS_PER_HOUR",
            "LOG_FORMAT",
            "SIGNIN_QUEUE",
        ] {
            command.env_remove(unset);
        }
        if let Some(queue) = queue {
            command.env("SIGNIN_QUEUE", queue.to_string());
        }
        Self::spawn(command, dir, base)
    }

    pub fn baseline(bin: &Path, dir: &Path, port: u16) -> anyhow::Result<Self> {
        let mut command = Command::new(bin);
        command.current_dir(dir).arg(format!("127.0.0.1:{port}"));
        Self::spawn(command, dir, format!("http://127.0.0.1:{port}"))
    }

    /// One of the Node peers in `peers` (a copy of ../shared/bench-peers with its
    /// packages installed): `server.js` (socket.io) or `server-ws.js` (bare `ws`),
    /// checking HS256 tokens signed with `secret`.
    pub fn node_peer(
        peers: &Path,
        script: &str,
        dir: &Path,
        port: u16,
        secret: &str,
    ) -> anyhow::Result<Self> {
        let mut command = Command::new("node");
        command
            .current_dir(peers)
            .arg(script)
            .env("PORT", port.to_string())
            .env("JWT_SECRET", secret)
            .env("NODE_ENV", "production");
        let mut server = Self::spawn(command, dir, format!("http://127.0.0.1:{port}"))?;
        server.health = "/health";
        Ok(server)
    }

    fn spawn(mut command: Command, dir: &Path, base: String) -> anyhow::Result<Self> {
        let log = dir.join("server.log");
        let out = std::fs::OpenOptions::new().create(true).append(true).open(&log)?;
        command.stdin(Stdio::null()).stdout(out.try_clone()?).stderr(out);
        let started = Instant::now();
        let child = command.spawn().with_context(|| format!("cannot start {command:?}"))?;
        Ok(Self { child, started, base, log, health: "/healthz" })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the first 200 from its health check; returns the time since the
    /// process was started.
    pub async fn ready(&mut self, http: &reqwest::Client) -> anyhow::Result<Duration> {
        let url = format!("{}{}", self.base, self.health);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(resp) = http.get(&url).send().await
                && resp.status().is_success()
            {
                return Ok(self.started.elapsed());
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("the server exited with {status}; see {}", self.log.display());
            }
            if Instant::now() > deadline {
                bail!("no healthy answer from {url} within a minute");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    pub fn rss_kib(&self) -> u64 {
        status_kib(self.pid(), "VmRSS:")
    }

    pub fn peak_rss_kib(&self) -> u64 {
        status_kib(self.pid(), "VmHWM:")
    }

    pub fn cpu_seconds(&self) -> f64 {
        cpu_seconds(&self.pid().to_string())
    }

    /// SIGTERM, as a deploy stops it, then SIGKILL if it takes longer than 20 s.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let _ = Command::new("kill").arg("-TERM").arg(self.pid().to_string()).status();
        for _ in 0..400 {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.child.kill()?;
        self.child.wait()?;
        bail!("the server did not stop within 20 s of SIGTERM")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// User plus system CPU time of a process (`self` for this one), all threads.
pub fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at field 3.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    (ticks(11) + ticks(12)) as f64 / clock_ticks()
}

/// Busy CPU time of the whole machine, all processes, in seconds.
pub fn machine_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<u64> = stat
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("cpu "))
        .map(|rest| rest.split_whitespace().filter_map(|t| t.parse().ok()).collect())
        .unwrap_or_default();
    // user nice system idle iowait irq softirq steal (guest time is inside user).
    let all: u64 = ticks.iter().take(8).sum();
    let idle = ticks.get(3).copied().unwrap_or(0) + ticks.get(4).copied().unwrap_or(0);
    all.saturating_sub(idle) as f64 / clock_ticks()
}

fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok()?.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn label(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// Databases and folders not yet removed, for [`remove_leftovers`] after Ctrl-C.
static LEFTOVERS: std::sync::Mutex<Vec<Leftover>> = std::sync::Mutex::new(Vec::new());

/// A PostgreSQL database to drop (admin URL, name), and a folder to remove.
type Leftover = (Option<(String, String)>, PathBuf);

/// A fresh database (and a folder for the server's log and working directory),
/// removed by [`BenchDb::remove`].
pub struct BenchDb {
    pub url: String,
    pub dir: PathBuf,
    postgres: Option<(String, String)>,
}

impl BenchDb {
    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    pub async fn create(backend: Backend, admin_url: &str) -> anyhow::Result<Self> {
        let name = format!("hearth_bench_{:016x}", rand::random::<u64>());
        let dir = std::env::temp_dir().join(&name);
        std::fs::create_dir_all(&dir)?;
        match backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}/hearth.db", dir.display());
                LEFTOVERS.lock().unwrap().push((None, dir.clone()));
                Ok(Self { url, dir, postgres: None })
            }
            Backend::Postgres => {
                let mut admin = sqlx::PgConnection::connect(admin_url)
                    .await
                    .with_context(|| format!("PostgreSQL at {admin_url} is unreachable"))?;
                sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await?;
                let (server, _) = admin_url.rsplit_once('/').context("admin URL has no path")?;
                let url = format!("{server}/{name}");
                let postgres = Some((admin_url.to_owned(), name));
                LEFTOVERS.lock().unwrap().push((postgres.clone(), dir.clone()));
                Ok(Self { url, dir, postgres })
            }
        }
    }

    /// How many stored messages have a body starting with `prefix`, by room slug.
    pub async fn count_messages(&self, prefix: &str) -> anyhow::Result<HashMap<String, u64>> {
        let sql = "SELECT r.slug, COUNT(*) FROM messages m JOIN rooms r ON r.id = m.room_id
                   WHERE m.body LIKE $1 GROUP BY r.slug";
        let pattern = format!("{prefix}%");
        let counts: Vec<(String, i64)> = if self.postgres.is_some() {
            let mut conn = sqlx::PgConnection::connect(&self.url).await?;
            sqlx::query_as(sql).bind(pattern).fetch_all(&mut conn).await?
        } else {
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(&self.url)?.read_only(true);
            let mut conn = sqlx::SqliteConnection::connect_with(&options).await?;
            sqlx::query_as(sql).bind(pattern).fetch_all(&mut conn).await?
        };
        Ok(counts.into_iter().map(|(slug, n)| (slug, n as u64)).collect())
    }

    /// CPU time of the PostgreSQL backends connected to this database (not the one
    /// asking); `None` on SQLite, which runs inside Hearth.
    pub async fn cpu_seconds(&self) -> anyhow::Result<Option<f64>> {
        let Some((_, name)) = &self.postgres else { return Ok(None) };
        let mut conn = sqlx::PgConnection::connect(&self.url).await?;
        let pids: Vec<i32> = sqlx::query_scalar(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(name)
        .fetch_all(&mut conn)
        .await?;
        Ok(Some(pids.iter().map(|pid| cpu_seconds(&pid.to_string())).sum()))
    }

    pub async fn remove(self) {
        LEFTOVERS.lock().unwrap().retain(|(_, dir)| *dir != self.dir);
        remove(self.postgres.as_ref(), &self.dir).await;
    }
}

async fn remove(postgres: Option<&(String, String)>, dir: &Path) {
    if let Some((admin_url, name)) = postgres
        && let Ok(mut admin) = sqlx::PgConnection::connect(admin_url).await
    {
        let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        if let Err(err) = sqlx::query(&drop).execute(&mut admin).await {
            eprintln!("bench: could not drop database {name}: {err}");
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Removes the databases and folders of an interrupted run.
pub async fn remove_leftovers() {
    let leftovers = std::mem::take(&mut *LEFTOVERS.lock().unwrap());
    for (postgres, dir) in leftovers {
        remove(postgres.as_ref(), &dir).await;
    }
}
