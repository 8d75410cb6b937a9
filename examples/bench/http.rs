//! Accounts over HTTP (sign-up for session cookies, the sign-in storm) and the page
//! load, which is `wrk`'s job.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

pub const PASSWORD: &str = "hearth-bench-passphrase";

/// A client as a browser form is: no redirects followed, no proxy, no cookie jar
/// (cookies are taken from the answers by hand).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(64)
        .build()
        .expect("HTTP client")
}

pub fn email(prefix: &str, i: usize) -> String {
    format!("{prefix}{i}@bench.example.org")
}

/// Signs up `count` people (`<prefix><i>@…`), `parallel` at a time; returns their
/// session cookies in order.
pub async fn sign_up(
    http: &reqwest::Client,
    base: &str,
    prefix: &str,
    count: usize,
    parallel: usize,
) -> anyhow::Result<Vec<String>> {
    let gate = Arc::new(Semaphore::new(parallel));
    let mut running = JoinSet::new();
    for i in 0..count {
        let (http, base, gate) = (http.clone(), base.to_owned(), gate.clone());
        let (name, email) = (format!("Bench Person {i}"), email(prefix, i));
        running.spawn(async move {
            let _permit = gate.acquire_owned().await?;
            let resp = http
                .post(format!("{base}/signup"))
                .header("sec-fetch-site", "same-origin")
                .header("origin", &base)
                .form(&[("name", name.as_str()), ("email", &email), ("password", PASSWORD)])
                .send()
                .await?;
            if resp.status() != reqwest::StatusCode::SEE_OTHER {
                bail!("sign-up of {email} answered {}", resp.status());
            }
            Ok((i, session_cookie(&resp).context("sign-up set no session cookie")?))
        });
    }
    let mut cookies = vec![String::new(); count];
    while let Some(done) = running.join_next().await {
        let (i, cookie) = done??;
        cookies[i] = cookie;
    }
    Ok(cookies)
}

/// Starts `rooms` rooms (`bench-0` …), person `r` starting room `r`, and has every
/// person `i` join room `i % rooms` (16 at a time). Returns the rooms' slugs.
pub async fn spread_over_rooms(
    http: &reqwest::Client,
    base: &str,
    cookies: &[String],
    rooms: usize,
) -> anyhow::Result<Vec<String>> {
    let mut slugs = Vec::with_capacity(rooms);
    for (r, cookie) in cookies.iter().take(rooms).enumerate() {
        let resp = http
            .post(format!("{base}/api/rooms"))
            .header("cookie", format!("id={cookie}"))
            .header("sec-fetch-site", "same-origin")
            .header("origin", base)
            .json(&serde_json::json!({ "name": format!("bench-{r}") }))
            .send()
            .await?;
        if resp.status() != reqwest::StatusCode::CREATED {
            bail!("starting room bench-{r} answered {}", resp.status());
        }
        let room: serde_json::Value = resp.json().await?;
        slugs.push(room["slug"].as_str().context("a room without a slug")?.to_owned());
    }
    let gate = Arc::new(Semaphore::new(16));
    let mut joining = JoinSet::new();
    for (i, cookie) in cookies.iter().enumerate().skip(rooms) {
        let (http, base, gate) = (http.clone(), base.to_owned(), gate.clone());
        let (cookie, slug) = (cookie.clone(), slugs[i % rooms].clone());
        joining.spawn(async move {
            let _permit = gate.acquire_owned().await?;
            let resp = http
                .post(format!("{base}/chat/{slug}/join"))
                .header("cookie", format!("id={cookie}"))
                .header("sec-fetch-site", "same-origin")
                .header("origin", &base)
                .send()
                .await?;
            if resp.status() != reqwest::StatusCode::SEE_OTHER {
                bail!("person {i} joining {slug} answered {}", resp.status());
            }
            Ok(())
        });
    }
    while let Some(done) = joining.join_next().await {
        done??;
    }
    Ok(slugs)
}

fn session_cookie(resp: &reqwest::Response) -> Option<String> {
    resp.headers().get_all("set-cookie").iter().find_map(|value| {
        let value = value.to_str().ok()?;
        let id = value.strip_prefix("id=")?.split(';').next()?;
        (!id.is_empty()).then(|| id.to_owned())
    })
}

#[derive(Debug, Default, Clone)]
pub struct Storm {
    pub signed_in: u64,
    /// Answered 503 (the hashing queue was full), and waited `Retry-After` as asked.
    pub told_to_retry: u64,
    pub refused: u64,
    pub per_sec: f64,
    pub p50_ms: f64,
}

/// `parallel` clients sign in as the accounts `<prefix><i>` (round robin) for `secs`.
pub async fn sign_in_storm(
    http: &reqwest::Client,
    base: &str,
    prefix: &str,
    accounts: usize,
    parallel: usize,
    secs: f64,
) -> anyhow::Result<Storm> {
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(secs);
    let mut running = JoinSet::new();
    for worker in 0..parallel {
        let (http, base, prefix) = (http.clone(), base.to_owned(), prefix.to_owned());
        running.spawn(async move {
            let (mut ok, mut told, mut refused, mut times) = (0u64, 0u64, 0u64, Vec::new());
            let mut n = worker;
            while Instant::now() < until {
                let email = email(&prefix, n % accounts);
                n += parallel;
                let asked = Instant::now();
                let resp = http
                    .post(format!("{base}/login"))
                    .header("sec-fetch-site", "same-origin")
                    .header("origin", &base)
                    .form(&[("email", email.as_str()), ("password", PASSWORD), ("next", "")])
                    .send()
                    .await;
                match resp {
                    Ok(resp) if resp.status() == reqwest::StatusCode::SEE_OTHER => {
                        ok += 1;
                        times.push(asked.elapsed());
                    }
                    Ok(resp) if resp.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE => {
                        told += 1;
                        tokio::time::sleep(retry_after(&resp)).await;
                    }
                    _ => refused += 1,
                }
            }
            (ok, told, refused, times)
        });
    }
    let mut storm = Storm::default();
    let mut times = Vec::new();
    while let Some(done) = running.join_next().await {
        let (ok, told, refused, mut took) = done?;
        storm.signed_in += ok;
        storm.told_to_retry += told;
        storm.refused += refused;
        times.append(&mut took);
    }
    storm.per_sec = storm.signed_in as f64 / started.elapsed().as_secs_f64();
    times.sort_unstable();
    storm.p50_ms = times.get(times.len() / 2).map_or(f64::NAN, |t| t.as_secs_f64() * 1000.0);
    Ok(storm)
}

/// The `Retry-After` of an answer (1 s when it has none).
fn retry_after(resp: &reqwest::Response) -> Duration {
    let secs = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()?.parse().ok());
    Duration::from_secs(secs.unwrap_or(1))
}

/// A real person's sign-ins during a flood of sign-ins with made-up emails.
#[derive(Debug, Default, Clone)]
pub struct Flood {
    /// The person's sign-ins that went through, and how long each took.
    pub signed_in: Vec<Duration>,
    /// The person's attempts answered "try again" (503), and how long that took.
    pub told: Vec<Duration>,
    /// The person's attempts that failed otherwise (or took over the timeout).
    pub failed: u64,
    /// The flood's answers: hashed (401), refused at once (503), neither (timeout…).
    pub hashed: u64,
    pub refused: u64,
    pub other: u64,
}

/// Longest any one sign-in of the flood is waited for; a client that gives up.
const FLOOD_TIMEOUT: Duration = Duration::from_secs(10);

/// `rate` sign-ins per second with new made-up emails for `secs` (open loop: they
/// do not wait for each other), while one person, `<prefix>0`, signs in over and
/// over, a fifth of a second after each answer (a second after a 503).
pub async fn flood(
    http: &reqwest::Client,
    base: &str,
    prefix: &str,
    rate: f64,
    secs: f64,
) -> anyhow::Result<Flood> {
    let until = Instant::now() + Duration::from_secs_f64(secs);
    let post = |email: String| {
        http.post(format!("{base}/login"))
            .header("sec-fetch-site", "same-origin")
            .header("origin", base)
            .timeout(FLOOD_TIMEOUT)
            .form(&[("email", email.as_str()), ("password", PASSWORD), ("next", "")])
            .send()
    };
    let person = async {
        let mut seen = Flood::default();
        while Instant::now() < until {
            let asked = Instant::now();
            let pause = match post(email(prefix, 0)).await {
                Ok(resp) if resp.status() == reqwest::StatusCode::SEE_OTHER => {
                    seen.signed_in.push(asked.elapsed());
                    Duration::from_millis(200)
                }
                Ok(resp) if resp.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE => {
                    seen.told.push(asked.elapsed());
                    retry_after(&resp).min(Duration::from_secs(1))
                }
                _ => {
                    seen.failed += 1;
                    Duration::from_millis(200)
                }
            };
            tokio::time::sleep(pause).await;
        }
        seen
    };
    let strangers = async {
        let mut running = JoinSet::new();
        let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(0.1)));
        let mut n = 0u64;
        while Instant::now() < until {
            tick.tick().await;
            n += 1;
            let answer =
                post(format!("stranger{n}-{:08x}@bench.example.org", rand::random::<u32>()));
            running.spawn(async move { answer.await.map(|resp| resp.status()) });
        }
        let (mut hashed, mut refused, mut other) = (0, 0, 0);
        while let Some(done) = running.join_next().await {
            match done? {
                Ok(reqwest::StatusCode::UNAUTHORIZED) => hashed += 1,
                Ok(reqwest::StatusCode::SERVICE_UNAVAILABLE) => refused += 1,
                _ => other += 1,
            }
        }
        Ok::<_, anyhow::Error>((hashed, refused, other))
    };
    let (mut seen, strangers) = tokio::join!(person, strangers);
    (seen.hashed, seen.refused, seen.other) = strangers?;
    seen.signed_in.sort_unstable();
    seen.told.sort_unstable();
    Ok(seen)
}

/// The time one bcrypt hash takes here at `cost`, as Hearth computes it (over a
/// 44-byte SHA-256 pre-hash): the median of three.
pub async fn bcrypt_time(cost: u32) -> anyhow::Result<Duration> {
    let mut times = Vec::new();
    for _ in 0..3 {
        let took = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            bcrypt::non_truncating_hash("n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=", cost)
                .map(|_| started.elapsed())
        })
        .await??;
        times.push(took);
    }
    times.sort_unstable();
    Ok(times[1])
}

#[derive(Debug, Default, Clone)]
pub struct Wrk {
    pub per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub requests: u64,
    pub bad: u64,
}

/// `wrk` against `url` with `connections` connections for `secs` seconds.
pub async fn wrk(
    url: &str,
    cookie: Option<&str>,
    connections: usize,
    secs: u64,
) -> anyhow::Result<Wrk> {
    let mut command = tokio::process::Command::new("wrk");
    command
        .arg("-t2")
        .arg(format!("-c{connections}"))
        .arg(format!("-d{secs}s"))
        .arg("--latency")
        .arg("--timeout")
        .arg("10s");
    if let Some(cookie) = cookie {
        command.arg("-H").arg(format!("Cookie: id={cookie}"));
    }
    let out = command.arg(url).output().await.context("cannot run wrk")?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!("wrk failed: {}{}", text, String::from_utf8_lossy(&out.stderr));
    }
    let mut result = Wrk::default();
    for line in text.lines().map(str::trim) {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("50%"), Some(t)) => result.p50_ms = millis(t),
            (Some("99%"), Some(t)) => result.p99_ms = millis(t),
            (Some("Requests/sec:"), Some(n)) => result.per_sec = n.parse().unwrap_or(0.0),
            (Some(n), Some("requests")) => result.requests = n.parse().unwrap_or(0),
            _ => {}
        }
        if let Some(n) = line.strip_prefix("Non-2xx or 3xx responses:") {
            result.bad += n.trim().parse::<u64>().unwrap_or(0);
        }
        if let Some(errors) = line.strip_prefix("Socket errors:") {
            // "connect 0, read 0, write 0, timeout 0"
            result.bad += errors
                .split(',')
                .filter_map(|part| part.split_whitespace().nth(1)?.parse::<u64>().ok())
                .sum::<u64>();
        }
    }
    Ok(result)
}

fn millis(text: &str) -> f64 {
    let split = text.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => number / 1000.0,
        "ms" => number,
        "s" => number * 1000.0,
        "m" => number * 60_000.0,
        _ => f64::NAN,
    }
}
