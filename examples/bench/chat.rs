//! The chat load: a fleet of WebSocket clients in one room, some of which send.
//!
//! Every message body carries the phase it belongs to and the moment it was sent
//! (`benchmsg <phase> <µs since start> <sender>`), so each receiving client measures
//! send-to-receipt latency itself and keeps the `data-seq` numbers it saw, from which
//! losses, duplicates and disorder are counted afterwards.
//!
//! The same load runs against the Node peers Hearth replaces (../shared/bench-peers:
//! socket.io with a JWT handshake, and bare `ws`), each in its own wire format. They
//! number nothing, so there a message is known by its sender and that sender's count,
//! and order is checked per sender.
//!
//! With `--rooms N` (Hearth only), client `i` is in room `i % N` and a sender posts to
//! its own room, so a message reaches that room's clients only.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::now_us;
use crate::server::Server;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;
/// A socket's sending half, shared by its sender and (for socket.io's pings) its reader.
type Sink = Arc<tokio::sync::Mutex<SplitSink<Ws, Message>>>;

/// How a server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// Hearth's chat socket (and the bare poem server, which speaks it too).
    Hearth,
    /// Socket.IO v4 over Engine.IO's websocket transport, JWT in the connect packet.
    SocketIo,
    /// Bare `ws`: JSON frames, the JWT in the URL.
    Ws,
}

/// The phase whose messages are being counted; others are ignored.
static PHASE: AtomicU32 = AtomicU32::new(0);
/// Deliveries of the current phase seen by all clients, to know when all arrived.
static SEEN: AtomicU64 = AtomicU64::new(0);

const MARK: &str = "benchmsg ";

#[derive(Default)]
struct Log {
    seqs: Vec<u64>,
    latency_us: Vec<u32>,
    /// The part of `latency_us` whose sender is on another instance (several servers).
    crossed_us: Vec<u32>,
    /// Send to Hearth's answer on the sender's own socket (the composer, cleared).
    ack_us: Vec<u32>,
    refused: u64,
    bytes: u64,
    last_receipt_us: u64,
    closed: Option<String>,
    /// The peers: each sender's last count seen, and counts that came after a later one.
    last_of_sender: std::collections::HashMap<usize, u64>,
    disorder: u64,
}

pub struct Fleet {
    wire: Wire,
    sinks: Vec<Sink>,
    logs: Vec<Arc<Mutex<Log>>>,
    /// When each client last sent (µs since start).
    sent_at: Vec<Arc<AtomicU64>>,
    readers: JoinSet<()>,
    /// Which room each client shows (an index into `rooms`).
    room_of: Vec<usize>,
    /// The rooms' slugs (Hearth) and how many clients show each.
    rooms: Vec<(String, usize)>,
    pub connect_time: Duration,
    /// The servers' memory with half the sockets open: what the second half adds is
    /// the cost of a socket, apart from what the first ones warmed (caches, pools).
    pub rss_half_kib: u64,
}

/// The servers a fleet talks to: socket `i` is on `servers[i % servers.len()]`, so
/// with several instances of Hearth on one database, half the deliveries cross.
pub type Servers<'a> = &'a [&'a Server];

/// What one fan-out phase measured.
#[derive(Debug, Default, Clone)]
pub struct Fanout {
    pub phase: u32,
    pub clients: usize,
    pub sent: u64,
    /// Messages in the database afterwards (Hearth only).
    pub stored: Option<u64>,
    pub expected: u64,
    pub seen: u64,
    pub lost: u64,
    pub duplicates: u64,
    pub out_of_order: u64,
    pub closed: usize,
    pub deliveries_per_sec: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Several instances: p50 / p99 of the deliveries whose sender is on another one.
    pub crossed_ms: Option<(f64, f64)>,
    /// Hearth only: send → stored and handed to the hub, as the sender sees it.
    pub ack_p50_ms: f64,
    pub ack_p99_ms: f64,
    pub refused: u64,
    pub frame_bytes: f64,
    pub server_cpu_us_per_delivery: f64,
    /// PostgreSQL's backends serving Hearth (SQLite is inside Hearth's process).
    pub db_cpu_us_per_delivery: Option<f64>,
    pub server_cpu_cores: f64,
    pub generator_cpu_cores: f64,
    /// Everything else running on the machine meanwhile (other people's work).
    pub others_cpu_cores: f64,
    /// The servers' RSS (KiB) every tenth of the sending, with the time since it began.
    pub rss_over_time: Vec<(Duration, u64)>,
}

impl Fleet {
    /// Opens one socket per entry of `cookies` (`None`: no session), socket `i` in
    /// the room `rooms[i % rooms.len()]`, each resumed and shown as connected before
    /// this returns.
    pub async fn connect(
        servers: Servers<'_>,
        cookies: &[Option<String>],
        rooms: &[String],
    ) -> anyhow::Result<Self> {
        let urls = (0..cookies.len())
            .map(|i| {
                let server = servers[i % servers.len()];
                let ws = server.base.replacen("http", "ws", 1);
                let url = format!("{ws}/ws?room={}", rooms[i % rooms.len()]);
                (url, server.base.clone(), cookies[i].clone())
            })
            .collect();
        Self::open_all(Wire::Hearth, servers, urls, rooms).await
    }

    /// `clients` sockets to a Node peer, each with its own token signed with `secret`.
    pub async fn connect_peer(
        server: &Server,
        wire: Wire,
        clients: usize,
        secret: &str,
    ) -> anyhow::Result<Self> {
        let ws = server.base.replacen("http", "ws", 1);
        let urls = (0..clients)
            .map(|i| {
                let token = jwt(secret, i);
                let url = match wire {
                    Wire::SocketIo => format!("{ws}/socket.io/?EIO=4&transport=websocket"),
                    _ => format!("{ws}/?token={token}"),
                };
                (url, server.base.clone(), Some(token))
            })
            .collect();
        Self::open_all(wire, &[server], urls, &["general".to_owned()]).await
    }

    /// Opens the sockets (`url`, `origin`, Hearth's cookie or a peer's token), 64 at a
    /// time, in two halves: the servers' memory is read between them (see
    /// [`Fleet::rss_half_kib`]). Socket `i` shows `rooms[i % rooms.len()]`.
    async fn open_all(
        wire: Wire,
        servers: Servers<'_>,
        urls: Vec<(String, String, Option<String>)>,
        rooms: &[String],
    ) -> anyhow::Result<Self> {
        let gate = Arc::new(Semaphore::new(64));
        let count = urls.len();
        let half = count / 2;
        let mut sockets: Vec<Option<Ws>> = (0..count).map(|_| None).collect();
        let mut urls = urls.into_iter().enumerate();
        let mut connect_time = Duration::ZERO;
        let mut rss_half_kib = 0;
        for (round, size) in [half, count - half].into_iter().enumerate() {
            let started = Instant::now();
            let mut opening = JoinSet::new();
            for (i, (url, origin, secret)) in urls.by_ref().take(size) {
                let gate = gate.clone();
                opening.spawn(async move {
                    let _permit = gate.acquire_owned().await?;
                    let ws = open(wire, &url, &origin, secret.as_deref()).await;
                    Ok::<_, anyhow::Error>((i, ws.with_context(|| format!("socket {i}"))?))
                });
            }
            while let Some(done) = opening.join_next().await {
                let (i, ws) = done??;
                sockets[i] = Some(ws);
            }
            connect_time += started.elapsed();
            if round == 0 {
                // As after the whole fleet: settled, so what connecting left is freed.
                tokio::time::sleep(Duration::from_secs(3)).await;
                rss_half_kib = servers.iter().map(|s| s.rss_kib()).sum();
            }
        }
        let instances = servers.len();
        let room_of: Vec<usize> = (0..count).map(|i| i % rooms.len()).collect();
        let rooms = rooms
            .iter()
            .enumerate()
            .map(|(r, slug)| (slug.clone(), room_of.iter().filter(|&&of| of == r).count()))
            .collect();
        let mut fleet = Fleet {
            wire,
            sinks: Vec::new(),
            logs: Vec::new(),
            sent_at: Vec::new(),
            readers: JoinSet::new(),
            room_of,
            rooms,
            connect_time,
            rss_half_kib,
        };
        for (i, ws) in sockets.into_iter().flatten().enumerate() {
            let (sink, stream) = ws.split();
            let sink: Sink = Arc::new(tokio::sync::Mutex::new(sink));
            let log = Arc::new(Mutex::new(Log::default()));
            let sent_at = Arc::new(AtomicU64::new(0));
            let place = Place { instance: i % instances, instances };
            let reader = Reader { wire, log: log.clone(), sent_at: sent_at.clone(), place };
            fleet.readers.spawn(reader.run(stream, sink.clone()));
            fleet.sinks.push(sink);
            fleet.logs.push(log);
            fleet.sent_at.push(sent_at);
        }
        Ok(fleet)
    }

    pub fn len(&self) -> usize {
        self.logs.len()
    }

    /// `senders` of the clients each send `rate` messages a second for `secs`
    /// seconds, spread evenly over each second; then waits (up to 15 s) until every
    /// client has every message.
    pub async fn fanout(
        &mut self,
        phase: u32,
        senders: usize,
        rate: f64,
        secs: f64,
        servers: Servers<'_>,
    ) -> anyhow::Result<Fanout> {
        if senders > self.len() || senders == 0 {
            bail!("need between 1 and {} senders", self.len());
        }
        for log in &self.logs {
            *log.lock().unwrap() = Log::default();
        }
        PHASE.store(phase, Ordering::SeqCst);
        SEEN.store(0, Ordering::SeqCst);
        let period = Duration::from_secs_f64(1.0 / rate);
        let per_sender = (rate * secs).round().max(1.0) as u64;
        let servers_cpu = || servers.iter().map(|s| s.cpu_seconds()).sum::<f64>();
        let cpu_before = servers_cpu();
        let own_before = crate::server::cpu_seconds("self");
        let machine_before = crate::server::machine_cpu_seconds();
        let wall = Instant::now();
        let start = tokio::time::Instant::now() + Duration::from_millis(100);
        let first_send_us = now_us() + 100_000;
        let mut sending = JoinSet::new();
        for i in 0..senders {
            let sink = self.sinks[i].clone();
            let offset = period.mul_f64(i as f64 / senders as f64);
            let sent_at = self.sent_at[i].clone();
            let ticks = Ticks { start: start + offset, period, count: per_sender };
            sending.spawn(send(self.wire, i, sink, sent_at, phase, ticks));
        }
        // The servers' memory every tenth of the run: flat after warm-up, or growing.
        let every = Duration::from_secs_f64((secs / 10.0).max(1.0));
        let mut sample = tokio::time::interval_at(start + every, every);
        let collecting = async {
            let mut sent = 0;
            let mut sent_to = vec![0; self.rooms.len()];
            while let Some(done) = sending.join_next().await {
                let (i, count, error) = done?;
                sent += count;
                sent_to[self.room_of[i]] += count;
                if let Some(error) = error {
                    eprintln!("bench: sender {i} stopped: {error}");
                }
            }
            Ok::<_, anyhow::Error>((sent, sent_to))
        };
        tokio::pin!(collecting);
        let mut rss_over_time = Vec::new();
        let (sent, sent_to) = loop {
            tokio::select! {
                done = &mut collecting => break done?,
                _ = sample.tick() => rss_over_time.push((
                    wall.elapsed(),
                    servers.iter().map(|s| s.rss_kib()).sum::<u64>(),
                )),
            }
        };
        let want: u64 = self.for_each_room(&sent_to);
        let patience = Instant::now() + Duration::from_secs(15);
        while SEEN.load(Ordering::SeqCst) < want && Instant::now() < patience {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let elapsed = wall.elapsed().as_secs_f64();
        let cpu = servers_cpu() - cpu_before;
        let own = crate::server::cpu_seconds("self") - own_before;
        let busy = crate::server::machine_cpu_seconds() - machine_before;

        let rooms = self.rooms.len();
        let mut result =
            Fanout { phase, clients: self.len(), sent, rss_over_time, ..Fanout::default() };
        let mut latencies: Vec<u32> = Vec::with_capacity(want as usize);
        let mut acks: Vec<u32> = Vec::new();
        let mut crossed: Vec<u32> = Vec::new();
        let mut bytes = 0;
        let mut last_receipt_us = first_send_us;
        let mut union = vec![std::collections::BTreeSet::new(); rooms];
        for (log, &room) in self.logs.iter().zip(&self.room_of) {
            let mut log = log.lock().unwrap();
            // Hearth numbers the room's messages; the peers are checked per sender.
            result.out_of_order += match self.wire {
                Wire::Hearth => log.seqs.windows(2).filter(|w| w[1] <= w[0]).count() as u64,
                _ => log.disorder,
            };
            latencies.append(&mut log.latency_us);
            acks.append(&mut log.ack_us);
            crossed.append(&mut log.crossed_us);
            result.refused += log.refused;
            bytes += log.bytes;
            last_receipt_us = last_receipt_us.max(log.last_receipt_us);
            if log.closed.is_some() {
                result.closed += 1;
            }
            let received = log.seqs.len() as u64;
            log.seqs.sort_unstable();
            log.seqs.dedup();
            result.duplicates += received - log.seqs.len() as u64;
            result.seen += log.seqs.len() as u64;
            union[room].extend(log.seqs.iter().copied());
        }
        // Until Hearth's own count replaces it: messages someone in the room received.
        result.stored = None;
        let known: Vec<u64> =
            union.iter().zip(&sent_to).map(|(seen, &sent)| (seen.len() as u64).max(sent)).collect();
        result.expected = self.for_each_room(&known);
        result.lost = result.expected.saturating_sub(result.seen);
        latencies.sort_unstable();
        acks.sort_unstable();
        crossed.sort_unstable();
        if servers.len() > 1 {
            result.crossed_ms = Some((pick(&crossed, 0.50), pick(&crossed, 0.99)));
        }
        (result.p50_ms, result.p90_ms, result.p99_ms) =
            (pick(&latencies, 0.50), pick(&latencies, 0.90), pick(&latencies, 0.99));
        (result.ack_p50_ms, result.ack_p99_ms) = (pick(&acks, 0.50), pick(&acks, 0.99));
        result.max_ms = latencies.last().map_or(f64::NAN, |&l| f64::from(l) / 1000.0);
        let delivered = latencies.len() as f64;
        let span = (last_receipt_us.saturating_sub(first_send_us)) as f64 / 1e6;
        result.deliveries_per_sec = if span > 0.0 { delivered / span } else { 0.0 };
        result.frame_bytes = if delivered > 0.0 { bytes as f64 / delivered } else { 0.0 };
        result.server_cpu_us_per_delivery =
            if delivered > 0.0 { cpu * 1e6 / delivered } else { f64::NAN };
        result.server_cpu_cores = cpu / elapsed;
        result.generator_cpu_cores = own / elapsed;
        result.others_cpu_cores = ((busy - cpu - own) / elapsed).max(0.0);
        Ok(result)
    }

    /// With the number of messages stored in each room known (by slug), losses are
    /// counted against them.
    pub fn with_stored(&self, mut result: Fanout, stored: &HashMap<String, u64>) -> Fanout {
        let per_room: Vec<u64> =
            self.rooms.iter().map(|(slug, _)| stored.get(slug).copied().unwrap_or(0)).collect();
        result.stored = Some(per_room.iter().sum());
        result.expected = self.for_each_room(&per_room);
        result.lost = result.expected.saturating_sub(result.seen);
        result
    }

    /// Deliveries that `messages[r]` messages in each room `r` make: one per client
    /// showing that room.
    fn for_each_room(&self, messages: &[u64]) -> u64 {
        self.rooms.iter().zip(messages).map(|((_, clients), &n)| n * *clients as u64).sum()
    }

    pub async fn close(mut self) {
        for sink in &self.sinks {
            let closing = async { sink.lock().await.close().await };
            let _ = tokio::time::timeout(Duration::from_millis(200), closing).await;
        }
        self.readers.abort_all();
        while self.readers.join_next().await.is_some() {}
    }
}

/// Opens one socket and waits until it is live: Hearth has answered its resume
/// frame; socket.io has accepted its token; `ws` is live once open.
async fn open(wire: Wire, url: &str, origin: &str, secret: Option<&str>) -> anyhow::Result<Ws> {
    let mut request = url.into_client_request()?;
    if let (Wire::Hearth, Some(cookie)) = (wire, secret) {
        request.headers_mut().insert("cookie", format!("id={cookie}").parse()?);
    }
    request.headers_mut().insert("origin", origin.parse()?);
    // tungstenite zero-fills its whole read buffer before every read attempt: 128 KiB
    // by default, which would make this load generator mostly memset.
    let config = WebSocketConfig::default().read_buffer_size(8 * 1024);
    let (mut ws, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(config), true).await?;
    let (hello, live): (Option<String>, &str) = match wire {
        // Connected is when the page would show it: the status line is cleared.
        Wire::Hearth => {
            (Some(r#"{"kind":"resume","after":"0","HEADERS":{}}"#.into()), "connection-status")
        }
        // After Engine.IO's open packet (`0{…}`), the namespace connect with the token.
        Wire::SocketIo => {
            let token = secret.context("socket.io needs a token")?;
            (Some(format!(r#"40{{"token":"{token}"}}"#)), "40{")
        }
        Wire::Ws => return Ok(ws),
    };
    if let Some(hello) = hello {
        ws.send(Message::text(hello)).await?;
    }
    let shown = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(frame) = ws.next().await {
            if let Message::Text(text) = frame? {
                if text.starts_with("44") {
                    bail!("refused: {text}");
                }
                if text.contains(live) {
                    return Ok(());
                }
            }
        }
        bail!("closed before it was live")
    })
    .await;
    shown.context("not live within 60 s")??;
    Ok(ws)
}

/// An HS256 JWT for peer client `i`, as NextAuth would hand the socket.io client.
fn jwt(secret: &str, i: usize) -> String {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() + 3600);
    let claims = serde_json::json!({
        "sub": format!("user-{i}"),
        "email": format!("user{i}@bench.example"),
        "name": format!("User {i}"),
        "exp": exp,
    });
    let signed = format!(
        "{}.{}",
        b64(br#"{"alg":"HS256","typ":"JWT"}"#),
        b64(claims.to_string().as_bytes())
    );
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else {
        return signed;
    };
    mac.update(signed.as_bytes());
    format!("{signed}.{}", b64(&mac.finalize().into_bytes()))
}

/// The `q` quantile of sorted microseconds, in milliseconds.
fn pick(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    f64::from(sorted[i]) / 1000.0
}

/// Which of the servers a client is on.
#[derive(Clone, Copy)]
struct Place {
    instance: usize,
    instances: usize,
}

/// One client's reading half: what it saw, and when.
struct Reader {
    wire: Wire,
    log: Arc<Mutex<Log>>,
    sent_at: Arc<AtomicU64>,
    place: Place,
}

impl Reader {
    async fn run(self, mut stream: SplitStream<Ws>, sink: Sink) {
        let Reader { wire, log, sent_at, place } = self;
        let ending = loop {
            match stream.next().await {
                Some(Ok(Message::Text(text))) => {
                    let now = now_us();
                    if let Some(frame) = parse(wire, &text)
                        && frame.phase == PHASE.load(Ordering::Relaxed)
                    {
                        let Frame { seq, sent_us, sender, count, .. } = frame;
                        let latency = now.saturating_sub(sent_us).min(u64::from(u32::MAX)) as u32;
                        let mut log = log.lock().unwrap();
                        log.seqs.push(seq);
                        log.latency_us.push(latency);
                        // Sender `i` is socket `i`, so it is on instance `i % instances`.
                        if place.instances > 1 && sender % place.instances != place.instance {
                            log.crossed_us.push(latency);
                        }
                        if let Some(last) = log.last_of_sender.insert(sender, count)
                            && count <= last
                        {
                            log.disorder += 1;
                        }
                        log.bytes += text.len() as u64;
                        log.last_receipt_us = now;
                        drop(log);
                        SEEN.fetch_add(1, Ordering::Relaxed);
                    } else if wire == Wire::SocketIo && text.as_str() == "2" {
                        // Engine.IO's ping: unanswered, the server drops the socket.
                        let _ = sink.lock().await.send(Message::text("3")).await;
                    } else if text.contains(r#"id="composer""#) {
                        // Hearth's answer to this client's own message.
                        let sent = sent_at.load(Ordering::Relaxed);
                        let mut log = log.lock().unwrap();
                        if text.contains("composer-problem") {
                            log.refused += 1;
                        }
                        if sent > 0 {
                            log.ack_us
                                .push(now.saturating_sub(sent).min(u64::from(u32::MAX)) as u32);
                        }
                    }
                }
                Some(Ok(Message::Close(frame))) => break format!("closed: {frame:?}"),
                Some(Ok(_)) => {}
                Some(Err(err)) => break format!("error: {err}"),
                None => break "ended".to_owned(),
            }
        };
        log.lock().unwrap().closed = Some(ending);
    }
}

/// What a message frame says about itself.
struct Frame {
    /// Hearth's number for the message in the room; for the peers, which number
    /// nothing, the sender and its count together.
    seq: u64,
    phase: u32,
    sent_us: u64,
    sender: usize,
    /// The sender's own count of what it sent this phase.
    count: u64,
}

fn parse(wire: Wire, text: &str) -> Option<Frame> {
    let at = text.find(MARK)? + MARK.len();
    let mut parts = text[at..].split([' ', '<', '"']);
    let phase = parts.next()?.parse().ok()?;
    let sent_us = parts.next()?.parse().ok()?;
    let sender: usize = parts.next()?.parse().ok()?;
    let count: u64 = parts.next()?.parse().ok()?;
    let seq = match wire {
        Wire::Hearth => {
            let at = text.find("data-seq=\"")? + 10;
            text[at..].split('"').next()?.parse().ok()?
        }
        _ => ((sender as u64) << 32) | count,
    };
    Some(Frame { seq, phase, sent_us, sender, count })
}

/// When a sender sends: `count` times, every `period` from `start`.
struct Ticks {
    start: tokio::time::Instant,
    period: Duration,
    count: u64,
}

async fn send(
    wire: Wire,
    i: usize,
    sink: Sink,
    sent_at: Arc<AtomicU64>,
    phase: u32,
    ticks: Ticks,
) -> (usize, u64, Option<String>) {
    let mut tick = tokio::time::interval_at(ticks.start, ticks.period);
    let mut sent = 0;
    for n in 0..ticks.count {
        tick.tick().await;
        let now = now_us();
        sent_at.store(now, Ordering::Relaxed);
        let body = format!("{MARK}{phase} {now} {i} {n}");
        let frame = match wire {
            Wire::Hearth => {
                serde_json::json!({ "kind": "send", "body": body, "HEADERS": {} }).to_string()
            }
            Wire::SocketIo => {
                let event =
                    serde_json::json!(["send-message", { "room": "general", "message": body }]);
                format!("42{event}")
            }
            Wire::Ws => serde_json::json!({ "message": body }).to_string(),
        };
        if let Err(err) = sink.lock().await.send(Message::text(frame)).await {
            return (i, sent, Some(err.to_string()));
        }
        sent += 1;
    }
    (i, sent, None)
}
