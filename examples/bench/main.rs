//! `just bench`: what Hearth exists for, measured on this machine.
//!
//! Starts a release Hearth on 127.0.0.1 with a fresh database (SQLite, then
//! PostgreSQL), drives it, stops it, and prints a markdown table; a bare poem
//! broadcast server (examples/bench_baseline.rs) takes the same chat load in the same
//! run, so the table shows what Hearth's sessions, storage and ordering cost on top.
//! Progress goes to stderr, the table to stdout. See docs/benchmarks.md.

mod chat;
mod http;
mod report;
mod search;
mod server;
mod uploads;

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use clap::Parser;

use self::chat::{Fanout, Fleet, Servers, Wire};
use self::http::{Flood, Storm, Wrk};
use self::server::{Backend, BenchDb, Bins, Server};

static START: LazyLock<Instant> = LazyLock::new(Instant::now);

/// Microseconds since this program started: the clock in every message body.
pub fn now_us() -> u64 {
    START.elapsed().as_micros() as u64
}

fn progress(what: impl std::fmt::Display) {
    eprintln!("[{:>6.1}s] {what}", START.elapsed().as_secs_f64());
}

#[derive(Debug, Clone, Parser)]
#[command(name = "bench", about = "Benchmarks Hearth against a bare broadcast server.")]
pub struct Args {
    /// Signed-in WebSocket clients.
    #[arg(long, default_value_t = 2000)]
    pub clients: usize,
    /// Rooms the clients are spread over (client `i` in room `i % rooms`; senders
    /// post to their own room). Above 1, only Hearth runs: the peers have one room.
    #[arg(long, default_value_t = 1)]
    pub rooms: usize,
    /// How many of them send.
    #[arg(long, default_value_t = 20)]
    pub senders: usize,
    /// Messages per second per sender.
    #[arg(long, default_value_t = 1.0)]
    pub rate: f64,
    /// Seconds of sending.
    #[arg(long, default_value_t = 20.0)]
    pub duration: f64,
    /// Which servers, comma-separated: socketio and ws (the Node peers Hearth
    /// replaces, run when Node and `--peers` are there), baseline, sqlite, postgres,
    /// and postgres2 (two Hearth instances on one PostgreSQL database, the sockets
    /// split between them).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "socketio,ws,baseline,sqlite,postgres,postgres2",
        value_parser = ["socketio", "ws", "baseline", "sqlite", "postgres", "postgres2"]
    )]
    pub only: Vec<String>,
    /// A copy of ../shared/bench-peers with its packages installed (`just bench`
    /// makes it).
    #[arg(long, default_value = "target/bench-peers")]
    pub peers: std::path::PathBuf,
    /// The PostgreSQL server (a database `hearth_bench_<random>` is created and dropped).
    #[arg(
        long,
        env = "HEARTH_BENCH_POSTGRES",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pub postgres: String,
    /// wrk connections for the page load.
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    /// Seconds of wrk per page.
    #[arg(long, default_value_t = 8)]
    pub page_seconds: u64,
    /// Seconds of the sign-in storm (and of the quiet chat measured before it).
    #[arg(long, default_value_t = 8.0)]
    pub storm_seconds: f64,
    /// Sign-ins in flight at once during the storm.
    #[arg(long, default_value_t = 8)]
    pub storm_parallel: usize,
    /// Sign-ins with made-up emails per second in the flood, while one real person
    /// signs in again and again (no chat beside it).
    #[arg(long, default_value_t = 40.0)]
    pub flood_rate: f64,
    /// Senders (1 message/s each) of the chat measured during the storm.
    #[arg(long, default_value_t = 5)]
    pub storm_senders: usize,
    /// bcrypt cost of the sign-in storm (Hearth's default is 12).
    #[arg(long, default_value_t = 12)]
    pub cost: u32,
    /// Start-ups timed per database.
    #[arg(long, default_value_t = 5)]
    pub startups: usize,
    /// Which parts follow the chat fan-out, comma-separated: pages, storm, uploads
    /// (20 people send a 10 MiB file at once), search (a million messages written,
    /// then searched), or none.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "pages,storm,uploads,search",
        value_parser = ["pages", "storm", "uploads", "search", "none"]
    )]
    pub then: Vec<String>,
    /// Another Hearth binary to measure (to compare two builds), instead of the one
    /// built next to this program.
    #[arg(long)]
    pub hearth_bin: Option<std::path::PathBuf>,
}

impl Args {
    fn runs(&self, what: &str) -> bool {
        self.only.iter().any(|o| o == what)
    }
}

/// The sign-in storm and the chat measured beside it.
#[derive(Debug, Clone)]
pub struct StormRun {
    pub hash: Duration,
    pub storm: Storm,
    pub quiet: Fanout,
    pub during: Fanout,
    pub flood: Flood,
}

/// Everything measured on one server.
#[derive(Debug, Default)]
pub struct Run {
    pub label: String,
    /// Hearth instances sharing the database (pages and the storm are measured on one).
    pub instances: usize,
    pub startups: Vec<Duration>,
    pub signup: Option<Duration>,
    pub rss_idle_kib: u64,
    /// With half the sockets open (see `Fleet::rss_half_kib`).
    pub rss_half_kib: u64,
    pub rss_sockets_kib: u64,
    pub rss_peak_kib: u64,
    pub connect: Duration,
    pub fanout: Option<Fanout>,
    pub healthz: Option<Wrk>,
    /// `/auth/verify` with a session, as a proxy asks before each request.
    pub verify: Option<Wrk>,
    pub dashboard: Option<Wrk>,
    pub storm: Option<StormRun>,
    pub search: Option<search::SearchRun>,
    pub uploads: Option<uploads::UploadRun>,
    pub error: Option<String>,
}

fn main() -> std::process::ExitCode {
    LazyLock::force(&START);
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build();
    let result = runtime.map_err(anyhow::Error::from).and_then(|rt| {
        rt.block_on(async {
            tokio::select! {
                result = bench(args) => result,
                _ = tokio::signal::ctrl_c() => {
                    // The servers went with the dropped run (they are killed on drop).
                    server::remove_leftovers().await;
                    Err(anyhow::anyhow!("interrupted"))
                }
            }
        })
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bench: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn bench(args: Args) -> anyhow::Result<()> {
    let mut bins = Bins::locate()?;
    if let Some(bin) = &args.hearth_bin {
        bins.hearth = bin.clone();
    }
    let machine = report::Machine::here();
    let open_files = report::open_file_limit();
    if open_files < args.clients as u64 + 256 {
        anyhow::bail!(
            "{} sockets need more than {open_files} open files: raise `ulimit -n` (just bench does)",
            args.clients
        );
    }
    if which("wrk").is_none() {
        progress("wrk is not installed (apt-get install -y wrk): the page rows will be empty");
    }
    let mut runs = Vec::new();
    for (name, wire) in [("socketio", Wire::SocketIo), ("ws", Wire::Ws)] {
        if !args.runs(name) || args.rooms > 1 {
            continue;
        }
        if which("node").is_none() || !args.peers.join("node_modules").is_dir() {
            progress(format!(
                "{name}: skipped (needs node, and the peers installed in {})",
                args.peers.display()
            ));
            continue;
        }
        runs.push(other(&args, &bins, Other::Peer(wire)).await);
    }
    if args.runs("baseline") && args.rooms == 1 {
        runs.push(other(&args, &bins, Other::Baseline).await);
    }
    for (name, backend, instances) in [
        ("sqlite", Backend::Sqlite, 1),
        ("postgres", Backend::Postgres, 1),
        ("postgres2", Backend::Postgres, 2),
    ] {
        if args.runs(name) {
            runs.push(hearth(&args, &bins, backend, instances).await);
        }
    }
    let machine = machine.finish();
    println!("{}", report::render(&args, &machine, &runs));
    if runs.iter().any(|run| run.error.is_some()) {
        anyhow::bail!("some runs failed (see the table)");
    }
    Ok(())
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|p| p.is_file())
}

fn next_phase() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static PHASE: AtomicU32 = AtomicU32::new(0);
    PHASE.fetch_add(1, Ordering::SeqCst) + 1
}

async fn settle(secs: u64) {
    tokio::time::sleep(Duration::from_secs(secs)).await;
}

/// A server that is not Hearth, under the same chat load: it stores nothing and
/// has no sign-up, so only its fan-out and memory are measured.
#[derive(Clone, Copy)]
enum Other {
    /// The bare poem broadcast server (`examples/bench_baseline.rs`).
    Baseline,
    /// One of the Node peers (../shared/bench-peers).
    Peer(Wire),
}

async fn other(args: &Args, bins: &Bins, which: Other) -> Run {
    let label = match which {
        Other::Baseline => "bare poem broadcast",
        Other::Peer(Wire::SocketIo) => "socket.io 4.8 + JWT",
        Other::Peer(_) => "bare Node ws",
    };
    let mut run = Run { label: label.into(), ..Run::default() };
    let dir = std::env::temp_dir().join(format!("hearth_bench_{:016x}", rand::random::<u64>()));
    let secret = format!("{:032x}", rand::random::<u128>());
    let result = async {
        std::fs::create_dir_all(&dir)?;
        let http = http::client();
        let port = server::free_port()?;
        let mut server = match which {
            Other::Baseline => Server::baseline(&bins.baseline, &dir, port)?,
            Other::Peer(wire) => {
                let script = if wire == Wire::SocketIo { "server.js" } else { "server-ws.js" };
                Server::node_peer(&args.peers, script, &dir, port, &secret)?
            }
        };
        run.startups.push(server.ready(&http).await?);
        progress(format!("{label}: started"));
        settle(1).await;
        run.rss_idle_kib = server.rss_kib();
        let servers = [&server];
        let fleet = match which {
            Other::Baseline => {
                Fleet::connect(&servers, &vec![None; args.clients], &["general".to_owned()]).await?
            }
            Other::Peer(wire) => Fleet::connect_peer(&server, wire, args.clients, &secret).await?,
        };
        chat_phases(args, &mut run, &servers, fleet).await?.close().await;
        server.stop().await
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(err) = result {
        progress(format!("{label} failed: {err:#}"));
        run.error = Some(format!("{err:#}"));
    }
    run
}

/// Connected: idle memory, then the fan-out. Returns with the fleet still open.
async fn chat_phases(
    args: &Args,
    run: &mut Run,
    servers: Servers<'_>,
    fleet: Fleet,
) -> anyhow::Result<Fleet> {
    let mut fleet = fleet;
    run.connect = fleet.connect_time;
    run.rss_half_kib = fleet.rss_half_kib;
    progress(format!("{}: {} sockets connected in {:.2?}", run.label, fleet.len(), run.connect));
    settle(3).await;
    run.rss_sockets_kib = servers.iter().map(|s| s.rss_kib()).sum();
    progress(format!(
        "{}: fan-out, {} senders × {}/s for {} s",
        run.label, args.senders, args.rate, args.duration
    ));
    let fanout =
        fleet.fanout(next_phase(), args.senders, args.rate, args.duration, servers).await?;
    run.rss_peak_kib = servers.iter().map(|s| s.peak_rss_kib()).sum();
    progress(format!(
        "{}: {} deliveries seen, p99 {:.1} ms",
        run.label, fanout.seen, fanout.p99_ms
    ));
    run.fanout = Some(fanout);
    Ok(fleet)
}

async fn hearth(args: &Args, bins: &Bins, backend: Backend, instances: usize) -> Run {
    let label = match instances {
        1 => format!("Hearth, {}", backend.label()),
        n => format!("Hearth, {} × {n}", backend.label()),
    };
    let mut run = Run { label, instances, ..Run::default() };
    progress(format!("{}: creating a fresh database", run.label));
    let db = match BenchDb::create(backend, &args.postgres).await {
        Ok(db) => db,
        Err(err) => {
            progress(format!("{}: {err:#}", run.label));
            run.error = Some(format!("{err:#}"));
            return run;
        }
    };
    if let Err(err) = hearth_phases(args, bins, &db, instances, &mut run).await {
        progress(format!("{} failed: {err:#}", run.label));
        run.error = Some(format!("{err:#}"));
    }
    db.remove().await;
    run
}

async fn hearth_phases(
    args: &Args,
    bins: &Bins,
    db: &BenchDb,
    instances: usize,
    run: &mut Run,
) -> anyhow::Result<()> {
    let http = http::client();
    let port = server::free_port()?;

    // Accounts, with cheap hashing: the storm below is where bcrypt is measured. Many
    // sign-ups at once: none is to be told to come back.
    let mut setup = Server::hearth(&bins.hearth, &db.dir, &db.url, port, 4, Some(100_000))?;
    setup.ready(&http).await?;
    progress(format!("{}: signing up {} people", run.label, args.clients));
    let started = Instant::now();
    let cookies = http::sign_up(&http, &setup.base, "person", args.clients, 16).await?;
    run.signup = Some(started.elapsed());
    let rooms = match args.rooms {
        0 | 1 => vec!["general".to_owned()],
        n => {
            progress(format!("{}: spreading them over {n} rooms", run.label));
            http::spread_over_rooms(&http, &setup.base, &cookies, n).await?
        }
    };
    setup.stop().await?;

    // Start-up on the existing database, at the default cost; the last one stays up.
    let mut server = None;
    for i in 0..args.startups.max(1) {
        if let Some(previous) = server.take() {
            Server::stop(previous).await?;
        }
        let mut started = Server::hearth(&bins.hearth, &db.dir, &db.url, port, args.cost, None)?;
        run.startups.push(started.ready(&http).await?);
        if i == 0 {
            progress(format!("{}: timing start-up", run.label));
        }
        server = Some(started);
    }
    let server = server.expect("started at least once");
    // More instances on the same database, each with a folder of its own.
    let mut others = Vec::new();
    for i in 1..instances {
        let dir = db.dir.join(format!("instance-{i}"));
        std::fs::create_dir_all(&dir)?;
        let mut other =
            Server::hearth(&bins.hearth, &dir, &db.url, server::free_port()?, args.cost, None)?;
        other.ready(&http).await?;
        others.push(other);
    }
    let servers: Vec<&Server> = std::iter::once(&server).chain(&others).collect();
    settle(2).await;
    run.rss_idle_kib = servers.iter().map(|s| s.rss_kib()).sum();

    let cookies: Vec<Option<String>> = cookies.into_iter().map(Some).collect();
    let fleet = Fleet::connect(&servers, &cookies, &rooms).await?;
    let db_cpu = db.cpu_seconds().await?;
    let mut fleet = chat_phases(args, run, &servers, fleet).await?;
    let db_cpu = db.cpu_seconds().await?.map(|after| after - db_cpu.unwrap_or(0.0));
    if let Some(fanout) = run.fanout.take() {
        let stored = db.count_messages(&prefix(&fanout)).await?;
        let mut fanout = fleet.with_stored(fanout, &stored);
        fanout.db_cpu_us_per_delivery = db_cpu.map(|cpu| cpu * 1e6 / fanout.seen.max(1) as f64);
        run.fanout = Some(fanout);
    }

    // Pages and sign-ins are one instance's work: measured on the single-instance runs.
    let single = instances == 1;
    if single && args.then.iter().any(|t| t == "pages") && which("wrk").is_some() {
        progress(format!("{}: pages", run.label));
        let me = cookies[0].as_deref();
        let dashboard = http
            .get(format!("{}/dashboard", server.base))
            .header("cookie", format!("id={}", me.unwrap_or_default()))
            .send()
            .await?;
        if dashboard.status() != reqwest::StatusCode::OK {
            anyhow::bail!("the signed-in dashboard answered {}", dashboard.status());
        }
        let url = |path: &str| format!("{}{path}", server.base);
        run.healthz =
            Some(http::wrk(&url("/healthz"), None, args.connections, args.page_seconds).await?);
        run.verify =
            Some(http::wrk(&url("/auth/verify"), me, args.connections, args.page_seconds).await?);
        run.dashboard =
            Some(http::wrk(&url("/dashboard"), me, args.connections, args.page_seconds).await?);
    }

    if single && args.then.iter().any(|t| t == "storm") {
        storm(args, run, &server, db, &mut fleet).await?;
    }
    if single && args.then.iter().any(|t| t == "uploads") {
        progress(format!(
            "{}: {} people upload {} MiB each at once, then twice that",
            run.label,
            uploads::PEOPLE,
            uploads::SIZES[0] >> 20
        ));
        let people: Vec<&str> = cookies.iter().flatten().map(String::as_str).collect();
        run.uploads = Some(uploads::run(&http, &server, &people).await?);
    }
    // Last: it leaves a million messages in the database.
    if single && args.then.iter().any(|t| t == "search") {
        let messages = search::ROOMS * search::PER_ROOM;
        progress(format!("{}: writing {messages} messages to search", run.label));
        let seed_time = search::seed(db, &http::email("person", 0)).await?;
        progress(format!("{}: searching ({:.1?} to write them)", run.label, seed_time));
        let me = cookies[0].as_deref().unwrap_or_default();
        let queries = search::time_queries(&http, &server.base, me).await?;
        run.search = Some(search::SearchRun { messages, seed_time, queries });
    }
    run.rss_peak_kib = servers.iter().map(|s| s.peak_rss_kib()).sum();
    fleet.close().await;
    for other in others {
        other.stop().await?;
    }
    server.stop().await?;
    progress(format!("{}: done", run.label));
    Ok(())
}

/// Sign-ins at full bcrypt cost, with chat measured before and during them.
async fn storm(
    args: &Args,
    run: &mut Run,
    server: &Server,
    db: &BenchDb,
    fleet: &mut Fleet,
) -> anyhow::Result<()> {
    let http = http::client();
    progress(format!("{}: sign-in storm at cost {}", run.label, args.cost));
    http::sign_up(&http, &server.base, "storm", 4, 4).await?;
    let hash = http::bcrypt_time(args.cost).await?;
    let senders = args.storm_senders.min(fleet.len());
    let one = [server];
    let quiet = fleet.fanout(next_phase(), senders, 1.0, args.storm_seconds, &one).await?;
    let (storm, during) = tokio::join!(
        http::sign_in_storm(
            &http,
            &server.base,
            "storm",
            4,
            args.storm_parallel,
            args.storm_seconds
        ),
        fleet.fanout(next_phase(), senders, 1.0, args.storm_seconds, &one),
    );
    let during = during?;
    let stored = db.count_messages(&prefix(&quiet)).await?;
    let quiet = fleet.with_stored(quiet, &stored);
    let stored = db.count_messages(&prefix(&during)).await?;
    let during = fleet.with_stored(during, &stored);
    progress(format!(
        "{}: flood of {}/s unknown-email sign-ins beside a real one",
        run.label, args.flood_rate
    ));
    let flood =
        http::flood(&http, &server.base, "storm", args.flood_rate, args.storm_seconds).await?;
    run.storm = Some(StormRun { hash, storm: storm?, quiet, during, flood });
    Ok(())
}

fn prefix(fanout: &Fanout) -> String {
    format!("benchmsg {} ", fanout.phase)
}
