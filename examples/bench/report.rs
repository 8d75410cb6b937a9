//! The printed result: where and when it ran, and the tables.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::chat::Fanout;
use crate::http::Wrk;
use crate::{Args, Run};

pub struct Machine {
    pub date: String,
    pub cpu: String,
    pub cores: usize,
    pub memory_gib: f64,
    pub kernel: String,
    pub load_before: String,
    pub load_after: String,
    pub commit: String,
}

impl Machine {
    pub fn here() -> Self {
        let cpuinfo = read("/proc/cpuinfo");
        let cpu = cpuinfo
            .lines()
            .find_map(|line| line.strip_prefix("model name")?.split_once(':').map(|(_, m)| m))
            .unwrap_or("unknown CPU")
            .trim()
            .to_owned();
        let memory_kib: f64 = read("/proc/meminfo")
            .lines()
            .find_map(|line| {
                line.strip_prefix("MemTotal:")?.split_whitespace().next()?.parse().ok()
            })
            .unwrap_or(0.0);
        Machine {
            date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            cpu,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_gib: memory_kib / 1024.0 / 1024.0,
            kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
            load_before: load_average(),
            load_after: String::new(),
            commit: commit(Path::new(env!("CARGO_MANIFEST_DIR"))),
        }
    }

    pub fn finish(mut self) -> Self {
        self.load_after = load_average();
        self
    }
}

fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn load_average() -> String {
    read("/proc/loadavg").split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// The checked-out commit, read from `.git` (no git needed).
fn commit(repo: &Path) -> String {
    let mut git = repo.join(".git");
    if git.is_file() {
        // A worktree: `.git` names the real folder.
        let pointer = read(&git);
        if let Some(dir) = pointer.trim().strip_prefix("gitdir:") {
            git = repo.join(dir.trim());
        }
    }
    let common = match read(git.join("commondir")).trim() {
        "" => git.clone(),
        dir => git.join(dir),
    };
    let head = read(git.join("HEAD"));
    let head = head.trim();
    let Some(reference) = head.strip_prefix("ref: ") else {
        return short(head).unwrap_or_else(|| "unknown".into());
    };
    let branch = reference.trim_start_matches("refs/heads/");
    let loose: Vec<PathBuf> = vec![git.join(reference), common.join(reference)];
    let hash = loose.iter().map(read).find(|h| !h.trim().is_empty()).or_else(|| {
        read(common.join("packed-refs")).lines().find_map(|line| {
            let (hash, name) = line.split_once(' ')?;
            (name == reference).then(|| hash.to_owned())
        })
    });
    match hash.and_then(|h| short(h.trim())) {
        Some(hash) => format!("{hash} ({branch})"),
        None => format!("none yet ({branch})"),
    }
}

fn short(hash: &str) -> Option<String> {
    (hash.len() >= 12 && hash.chars().all(|c| c.is_ascii_hexdigit())).then(|| hash[..12].to_owned())
}

pub fn open_file_limit() -> u64 {
    read("/proc/self/limits")
        .lines()
        .find_map(|line| {
            line.strip_prefix("Max open files")?.split_whitespace().next()?.parse().ok()
        })
        .unwrap_or(1024)
}

/// 1234567 → "1,234,567".
fn int(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A number with about three significant digits.
fn num(x: f64) -> String {
    if !x.is_finite() {
        "—".into()
    } else if x >= 1000.0 {
        int(x.round() as u64)
    } else if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 { format!("{} ms", num(s * 1000.0)) } else { format!("{} s", num(s)) }
}

fn mib(kib: u64) -> String {
    num(kib as f64 / 1024.0)
}

fn ratio(hearth: f64, bare: f64) -> String {
    if hearth.is_finite() && bare.is_finite() && bare > 0.0 {
        format!("{}×", num(hearth / bare))
    } else {
        "—".into()
    }
}

fn median(mut times: Vec<Duration>) -> Option<Duration> {
    times.sort_unstable();
    times.get(times.len() / 2).copied()
}

/// What a row's ratio divides: a run's number.
type Value<'v> = &'v dyn Fn(&Run) -> Option<f64>;

/// One table row: a label, the runs' cells, then "÷ socket.io" cells (or "÷ bare",
/// without the Node peers) when wanted: only ratios measured in one run mean
/// anything on shared machines.
struct Table<'a> {
    runs: &'a [Run],
    /// The run every other is divided by.
    base: Option<usize>,
    out: String,
}

/// The run ratios are taken against: socket.io, the server Hearth replaces, when it
/// ran; otherwise the bare poem broadcast.
fn ratio_base(runs: &[Run]) -> Option<(usize, &'static str)> {
    let socket_io = runs.iter().position(|r| r.label.starts_with("socket.io"));
    let bare = runs.iter().position(|r| r.label == "bare poem broadcast");
    socket_io.map(|i| (i, "socket.io")).or(bare.map(|i| (i, "bare")))
}

impl<'a> Table<'a> {
    fn new(runs: &'a [Run], ratios: bool) -> Self {
        let base = ratio_base(runs).filter(|_| ratios && runs.len() > 1);
        let mut out = String::from("| |");
        let mut rule = String::from("|---|");
        for run in runs {
            let _ = write!(out, " {} |", run.label);
            rule.push_str("---:|");
        }
        if let Some((base, name)) = base {
            for (_, run) in runs.iter().enumerate().filter(|(i, _)| *i != base) {
                let label = run.label.trim_start_matches("Hearth, ");
                let _ = write!(out, " {label} ÷ {name} |");
                rule.push_str("---:|");
            }
        }
        let base = base.map(|(i, _)| i);
        let _ = writeln!(out);
        out.push_str(&rule);
        out.push('\n');
        Table { runs, base, out }
    }

    /// `cell` renders a run's value; `value`, when given, is what the ratio divides.
    fn row(
        &mut self,
        label: &str,
        cell: impl Fn(&Run) -> Option<String>,
        value: Option<Value<'_>>,
    ) {
        let _ = write!(self.out, "| {label} |");
        for run in self.runs {
            let text = match &run.error {
                Some(_) if cell(run).is_none() => "failed".to_owned(),
                _ => cell(run).unwrap_or_else(|| "—".into()),
            };
            let _ = write!(self.out, " {text} |");
        }
        if let Some(base) = self.base {
            let bare = value.and_then(|v| v(&self.runs[base]));
            for (_, run) in self.runs.iter().enumerate().filter(|(i, _)| *i != base) {
                let text = match (value.and_then(|v| v(run)), bare) {
                    (Some(h), Some(b)) => ratio(h, b),
                    _ => String::new(),
                };
                let _ = write!(self.out, " {text} |");
            }
        }
        self.out.push('\n');
    }
}

fn fan(run: &Run) -> Option<&Fanout> {
    run.fanout.as_ref()
}

fn page(w: &Option<Wrk>) -> Option<String> {
    let w = w.as_ref()?;
    let bad = if w.bad > 0 { format!(" ({} failed)", int(w.bad)) } else { String::new() };
    Some(format!("{}/s · p50 {} ms · p99 {} ms{bad}", num(w.per_sec), num(w.p50_ms), num(w.p99_ms)))
}

pub fn render(args: &Args, m: &Machine, runs: &[Run]) -> String {
    let mut out = String::new();
    // A message reaches the clients of its room.
    let offered = args.senders as f64 * args.rate * (args.clients / args.rooms.max(1)) as f64;
    let rooms = match args.rooms {
        0 | 1 => "one room".to_owned(),
        n => format!("{} rooms of {} (only Hearth has rooms)", n, args.clients / n),
    };
    let _ = writeln!(out, "### {} · commit {}\n", m.date, m.commit);
    let _ = writeln!(
        out,
        "Machine: {}, {} cores, {:.1} GiB, Linux {}; load average {} before, {} after \
         (load generator, wrk and servers share these cores).  ",
        m.cpu, m.cores, m.memory_gib, m.kernel, m.load_before, m.load_after
    );
    let _ = writeln!(
        out,
        "Load: {} signed-in sockets in {rooms}; {} senders × {} msg/s × {} s = {} deliveries/s \
         offered. `{}`\n",
        int(args.clients as u64),
        args.senders,
        num(args.rate),
        num(args.duration),
        int(offered as u64),
        ["just bench".to_owned()]
            .into_iter()
            .chain(std::env::args().skip(1))
            .collect::<Vec<_>>()
            .join(" ")
    );

    let _ = writeln!(out, "#### Chat fan-out\n");
    let mut t = Table::new(runs, true);
    t.row(
        &format!(
            "connect {} sockets (signed in: Hearth's cookie, the peers' JWT; live)",
            int(args.clients as u64)
        ),
        |r| r.fanout.as_ref().map(|_| secs(r.connect)),
        Some(&|r| fan(r).map(|_| r.connect.as_secs_f64())),
    );
    t.row(
        "messages sent / stored",
        |r| {
            let f = fan(r)?;
            let refused =
                if f.refused > 0 { format!(" ({} refused)", f.refused) } else { String::new() };
            Some(format!("{} / {}{refused}", int(f.sent), f.stored.map_or("—".into(), int)))
        },
        None,
    );
    t.row(
        "deliveries expected / seen",
        |r| fan(r).map(|f| format!("{} / {}", int(f.expected), int(f.seen))),
        None,
    );
    t.row(
        "lost / duplicated / out of order",
        |r| fan(r).map(|f| format!("{} / {} / {}", f.lost, f.duplicates, f.out_of_order)),
        None,
    );
    t.row("sockets closed by the server", |r| fan(r).map(|f| f.closed.to_string()), None);
    t.row(
        "deliveries/s",
        |r| fan(r).map(|f| num(f.deliveries_per_sec)),
        Some(&|r| fan(r).map(|f| f.deliveries_per_sec)),
    );
    t.row(
        "latency p50",
        |r| fan(r).map(|f| format!("{} ms", num(f.p50_ms))),
        Some(&|r| fan(r).map(|f| f.p50_ms)),
    );
    t.row(
        "latency p90",
        |r| fan(r).map(|f| format!("{} ms", num(f.p90_ms))),
        Some(&|r| fan(r).map(|f| f.p90_ms)),
    );
    t.row(
        "latency p99",
        |r| fan(r).map(|f| format!("{} ms", num(f.p99_ms))),
        Some(&|r| fan(r).map(|f| f.p99_ms)),
    );
    t.row(
        "latency max",
        |r| fan(r).map(|f| format!("{} ms", num(f.max_ms))),
        Some(&|r| fan(r).map(|f| f.max_ms)),
    );
    if runs.iter().any(|r| fan(r).is_some_and(|f| f.crossed_ms.is_some())) {
        t.row(
            "… of those, sent through the other instance: p50 / p99",
            |r| {
                let (p50, p99) = fan(r)?.crossed_ms?;
                Some(format!("{} / {} ms", num(p50), num(p99)))
            },
            None,
        );
    }
    t.row(
        "send → stored, as the sender sees it, p50 / p99",
        |r| {
            let f = fan(r).filter(|f| f.ack_p50_ms.is_finite())?;
            Some(format!("{} / {} ms", num(f.ack_p50_ms), num(f.ack_p99_ms)))
        },
        None,
    );
    t.row(
        "server CPU per delivery",
        |r| fan(r).map(|f| format!("{} µs", num(f.server_cpu_us_per_delivery))),
        Some(&|r| fan(r).map(|f| f.server_cpu_us_per_delivery)),
    );
    t.row(
        "… plus PostgreSQL's CPU for Hearth, per delivery",
        |r| {
            let f = fan(r)?;
            let db = f.db_cpu_us_per_delivery?;
            Some(format!("{} µs", num(f.server_cpu_us_per_delivery + db)))
        },
        Some(&|r| {
            let f = fan(r)?;
            match f.db_cpu_us_per_delivery {
                Some(db) => Some(f.server_cpu_us_per_delivery + db),
                // The bare server and the Node peers store nothing.
                None if !r.label.starts_with("Hearth") => Some(f.server_cpu_us_per_delivery),
                None => None,
            }
        }),
    );
    t.row(
        "server CPU, cores busy",
        |r| fan(r).map(|f| num(f.server_cpu_cores)),
        Some(&|r| fan(r).map(|f| f.server_cpu_cores)),
    );
    t.row(
        "server RSS per socket (what the second half of them added)",
        |r| {
            fan(r)?;
            Some(format!("{} KiB", num(per_socket(r, args))))
        },
        Some(&|r| fan(r).map(|_| per_socket(r, args))),
    );
    t.row(
        "server RSS the first half warmed beyond that (caches: SQLite's pages, pools)",
        |r| {
            fan(r)?;
            Some(format!("{} MiB", num(warmed_kib(r, args) / 1024.0)))
        },
        None,
    );
    if args.duration >= 300.0 {
        t.row(
            "server RSS while sending (minutes in: MiB)",
            |r| {
                let samples = &fan(r)?.rss_over_time;
                let each = samples.iter().map(|(at, kib)| {
                    format!("{}: {}", num(at.as_secs_f64() / 60.0), num(*kib as f64 / 1024.0))
                });
                Some(each.collect::<Vec<_>>().join(" · "))
            },
            None,
        );
    }
    t.row(
        "bytes per message frame",
        |r| fan(r).map(|f| num(f.frame_bytes)),
        Some(&|r| fan(r).map(|f| f.frame_bytes)),
    );
    t.row("load generator, cores busy", |r| fan(r).map(|f| num(f.generator_cpu_cores)), None);
    t.row(
        "other processes on the machine, cores busy",
        |r| fan(r).map(|f| num(f.others_cpu_cores)),
        None,
    );
    out.push_str(&t.out);

    let hearth_runs: Vec<&Run> =
        runs.iter().filter(|r| r.label.starts_with("Hearth") && r.instances == 1).collect();
    let then = |part: &str| args.then.iter().any(|t| t == part);
    let only: Vec<Run> = hearth_runs.iter().map(|r| shallow(r)).collect();
    if !hearth_runs.is_empty() && then("pages") {
        let _ = writeln!(
            out,
            "\n#### Pages (wrk, {} connections, {} s each, {} sockets still open)\n",
            args.connections,
            args.page_seconds,
            int(args.clients as u64)
        );
        let mut t = Table::new(&only, false);
        t.row("`/healthz` (no session)", |r| page(&r.healthz), None);
        t.row("`/auth/verify`, signed in (a proxy asking)", |r| page(&r.verify), None);
        t.row("`/dashboard`, signed in", |r| page(&r.dashboard), None);
        out.push_str(&t.out);
    }
    if !hearth_runs.is_empty() && then("storm") {
        let _ = writeln!(out, "\n#### Sign-in storm (bcrypt cost {})\n", args.cost);
        let mut t = Table::new(&only, false);
        t.row(
            &format!("one bcrypt hash at cost {}, measured here", args.cost),
            |r| r.storm.as_ref().map(|s| secs(s.hash)),
            None,
        );
        t.row(
            &format!("limit: {} cores ÷ hash time", m.cores),
            |r| {
                r.storm
                    .as_ref()
                    .map(|s| format!("{}/s", num(m.cores as f64 / s.hash.as_secs_f64())))
            },
            None,
        );
        t.row(
            &format!(
                "sign-ins/s achieved ({} in flight, {} s)",
                args.storm_parallel,
                num(args.storm_seconds)
            ),
            |r| {
                let s = r.storm.as_ref()?;
                let limit = m.cores as f64 / s.hash.as_secs_f64();
                let mut failed = String::new();
                if s.storm.told_to_retry > 0 {
                    failed += &format!(", {} told to retry", s.storm.told_to_retry);
                }
                if s.storm.refused > 0 {
                    failed += &format!(", {} failed", s.storm.refused);
                }
                Some(format!(
                    "{}/s = {:.0}% of the limit{failed}",
                    num(s.storm.per_sec),
                    s.storm.per_sec / limit * 100.0
                ))
            },
            None,
        );
        t.row(
            "cores the chat beside it takes (server, load generator, others; quiet) → ceiling",
            |r| {
                let q = &r.storm.as_ref()?.quiet;
                let taken = q.server_cpu_cores + q.generator_cpu_cores + q.others_cpu_cores;
                let ceiling = (m.cores as f64 - taken).max(0.0) / m.cores as f64 * 100.0;
                Some(format!("{} → {ceiling:.0}% of the limit", num(taken)))
            },
            None,
        );
        t.row(
            "sign-in time p50 (queued for a hashing thread)",
            |r| r.storm.as_ref().map(|s| format!("{} ms", num(s.storm.p50_ms))),
            None,
        );
        t.row(
            &format!(
                "chat p50 / p99, quiet → during the storm ({} senders × 1/s)",
                args.storm_senders
            ),
            |r| {
                let s = r.storm.as_ref()?;
                Some(format!(
                    "{} / {} → {} / {} ms",
                    num(s.quiet.p50_ms),
                    num(s.quiet.p99_ms),
                    num(s.during.p50_ms),
                    num(s.during.p99_ms)
                ))
            },
            None,
        );
        t.row(
            "chat lost / duplicated during the storm",
            |r| r.storm.as_ref().map(|s| format!("{} / {}", s.during.lost, s.during.duplicates)),
            None,
        );
        t.row(
            &format!(
                "a real sign-in while {} made-up-email sign-ins/s arrive ({} s): p50 / max, in hash times",
                num(args.flood_rate),
                num(args.storm_seconds)
            ),
            |r| {
                let s = r.storm.as_ref()?;
                let f = &s.flood;
                let hashes = |d: &Duration| d.as_secs_f64() / s.hash.as_secs_f64();
                let ms = |d: &Duration| num(d.as_secs_f64() * 1000.0);
                let signed_in = match (f.signed_in.get(f.signed_in.len() / 2), f.signed_in.last()) {
                    (Some(p50), Some(max)) => format!(
                        "{} / {} ms = {} / {}",
                        ms(p50),
                        ms(max),
                        num(hashes(p50)),
                        num(hashes(max))
                    ),
                    _ => "none signed in".into(),
                };
                let told = match f.told.last() {
                    Some(max) => format!(", {} told to retry (in ≤ {} ms)", f.told.len(), ms(max)),
                    None => String::new(),
                };
                let failed =
                    if f.failed > 0 { format!(", {} failed", f.failed) } else { String::new() };
                Some(format!("{signed_in} ({} signed in{told}{failed})", f.signed_in.len()))
            },
            None,
        );
        t.row(
            "the made-up-email sign-ins: hashed / refused at once (503) / no answer in 10 s",
            |r| {
                let f = &r.storm.as_ref()?.flood;
                Some(format!("{} / {} / {}", f.hashed, f.refused, f.other))
            },
            None,
        );
        out.push_str(&t.out);
    }

    let searched: Vec<Run> = runs.iter().filter(|r| r.search.is_some()).map(shallow).collect();
    if let Some(first) = searched.iter().find_map(|r| r.search.as_ref()) {
        let _ = writeln!(
            out,
            "\n#### Search ({} messages in {} rooms, each query asked 100 times through `/api/search`)\n",
            int(first.messages as u64),
            crate::search::ROOMS
        );
        let mut t = Table::new(&searched, false);
        t.row(
            "writing them (rows and index, one transaction)",
            |r| r.search.as_ref().map(|s| secs(s.seed_time)),
            None,
        );
        for (i, query) in crate::search::QUERIES.iter().enumerate() {
            t.row(
                &format!("`{query}`: p50 / p99 (results)"),
                |r| {
                    let (_, found, p50, p99) = r.search.as_ref()?.queries.get(i)?.clone();
                    Some(format!("{} / {} ms ({found})", num(p50), num(p99)))
                },
                None,
            );
        }
        out.push_str(&t.out);
    }

    let uploaded: Vec<Run> = runs.iter().filter(|r| r.uploads.is_some()).map(shallow).collect();
    if !uploaded.is_empty() {
        let people = crate::uploads::PEOPLE;
        let _ = writeln!(
            out,
            "\n#### Uploads ({people} people send a file each, all at once, through \
             `POST /api/rooms/{{room}}/messages`; RSS read every 10 ms)\n",
        );
        let mut t = Table::new(&uploaded, false);
        t.row(
            "RSS before",
            |r| Some(format!("{} MiB", mib(r.uploads.as_ref()?.rss_before_kib))),
            None,
        );
        for (i, size) in crate::uploads::SIZES.iter().enumerate() {
            let sum = (people * size) as u64;
            let round = move |r: &Run| r.uploads.as_ref()?.rounds.get(i).cloned();
            t.row(
                &format!(
                    "{people} × {} MiB: all stored (201), one read back identical, in",
                    size >> 20
                ),
                move |r| round(r).map(|u| secs(u.elapsed)),
                None,
            );
            t.row(
                &format!(
                    "{people} × {} MiB: RSS highest during (growth, against the files' {} MiB) / 2 s after",
                    size >> 20,
                    sum >> 20
                ),
                move |r| {
                    let u = round(r)?;
                    let grew = u.rss_peak_kib.saturating_sub(r.uploads.as_ref()?.rss_before_kib);
                    Some(format!(
                        "{} MiB (+{}, {}%) / {} MiB",
                        mib(u.rss_peak_kib),
                        mib(grew),
                        num(grew as f64 * 1024.0 * 100.0 / sum as f64),
                        mib(u.rss_after_kib)
                    ))
                },
                None,
            );
        }
        out.push_str(&t.out);
    }

    let _ = writeln!(out, "\n#### Start-up and memory\n");
    let mut t = Table::new(runs, false);
    t.row(
        &format!(
            "process start → first healthy `/healthz`, existing database (median of {})",
            args.startups.max(1)
        ),
        |r| {
            let all = r.startups.clone();
            let (lo, hi) = (all.iter().min()?, all.iter().max()?);
            let spread = if all.len() > 1 {
                format!(" ({}–{})", secs(*lo), secs(*hi))
            } else {
                String::new()
            };
            Some(format!("{}{spread}", secs(median(all)?)))
        },
        None,
    );
    t.row(
        "RSS, no clients",
        |r| (r.rss_idle_kib > 0).then(|| format!("{} MiB", mib(r.rss_idle_kib))),
        None,
    );
    t.row(
        &format!("RSS, {} idle sockets", int(args.clients as u64)),
        |r| (r.rss_sockets_kib > 0).then(|| format!("{} MiB", mib(r.rss_sockets_kib))),
        None,
    );
    t.row(
        "peak RSS over the run",
        |r| (r.rss_peak_kib > 0).then(|| format!("{} MiB", mib(r.rss_peak_kib))),
        None,
    );
    t.row(
        &format!("sign-up of {} people (cost 4, 16 at a time)", int(args.clients as u64)),
        |r| {
            r.signup
                .map(|d| format!("{} ({}/s)", secs(d), num(args.clients as f64 / d.as_secs_f64())))
        },
        None,
    );
    out.push_str(&t.out);

    for run in runs {
        if let Some(err) = &run.error {
            let _ = writeln!(out, "\n**{} failed:** {err}", run.label);
        }
    }
    out
}

/// Memory per socket: the slope between half the sockets and all of them, so what
/// the first ones warmed once (SQLite's page cache, the pools' connections) is left
/// out, and shown by [`warmed_kib`] instead.
fn per_socket(r: &Run, args: &Args) -> f64 {
    let second_half = args.clients - args.clients / 2;
    (r.rss_sockets_kib as f64 - r.rss_half_kib as f64) / second_half.max(1) as f64
}

/// What opening the first half of the sockets added beyond their own cost.
fn warmed_kib(r: &Run, args: &Args) -> f64 {
    let first_half = (args.clients / 2) as f64;
    r.rss_half_kib as f64 - r.rss_idle_kib as f64 - per_socket(r, args) * first_half
}

/// A copy of the parts of a run the page and storm tables show.
fn shallow(r: &Run) -> Run {
    Run {
        label: r.label.clone(),
        healthz: r.healthz.clone(),
        verify: r.verify.clone(),
        dashboard: r.dashboard.clone(),
        storm: r.storm.clone(),
        search: r.search.clone(),
        uploads: r.uploads.clone(),
        error: r.error.clone(),
        ..Run::default()
    }
}
