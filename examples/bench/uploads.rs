//! Uploads at once: [`PEOPLE`] people each send a file in one message, all at the
//! same moment, through `POST /api/rooms/{room}/messages` (multipart), while the
//! server's RSS is read every 10 ms; then again with files twice as large. Files are
//! streamed into the database in chunks, so the server's memory should grow with
//! the uploads in flight, not with the files' sum: the second round should peak
//! where the first did. One file of each round is downloaded and compared byte for
//! byte, so a fast figure cannot hide a lost upload.

use std::time::{Duration, Instant};

use futures_util::future::try_join_all;
use rand::RngCore;
use reqwest::multipart::{Form, Part};

use crate::server::Server;

/// People uploading at once.
pub const PEOPLE: usize = 20;
/// Bytes in each person's file, round by round: 10 MiB, then 20 MiB.
pub const SIZES: [usize; 2] = [10 << 20, 20 << 20];

/// What the uploads cost.
#[derive(Debug, Clone)]
pub struct UploadRun {
    /// RSS before the first round.
    pub rss_before_kib: u64,
    /// One per entry of [`SIZES`].
    pub rounds: Vec<Round>,
}

/// One round: everyone uploads a file of `size` bytes at once.
#[derive(Debug, Clone)]
pub struct Round {
    pub size: usize,
    /// From the first request sent to the last 201 received.
    pub elapsed: Duration,
    /// The highest RSS read while the uploads ran.
    pub rss_peak_kib: u64,
    /// RSS two seconds after the last upload finished.
    pub rss_after_kib: u64,
}

/// `cookies[0]` starts a private room and adds the others; then everyone uploads at
/// once, a round for each of [`SIZES`]. Needs [`PEOPLE`] cookies.
pub async fn run(
    http: &reqwest::Client,
    server: &Server,
    cookies: &[&str],
) -> anyhow::Result<UploadRun> {
    anyhow::ensure!(cookies.len() >= PEOPLE, "{PEOPLE} people are needed to upload");
    let base = &server.base;
    let as_person = |cookie: &str| format!("id={cookie}");

    let room: serde_json::Value = http
        .post(format!("{base}/api/rooms"))
        .header("cookie", as_person(cookies[0]))
        .json(&serde_json::json!({"name": "Uploads", "private": true}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let slug =
        room["slug"].as_str().ok_or_else(|| anyhow::anyhow!("no slug in {room}"))?.to_owned();
    for cookie in &cookies[1..PEOPLE] {
        let me: serde_json::Value = http
            .get(format!("{base}/api/me"))
            .header("cookie", as_person(cookie))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        http.post(format!("{base}/api/rooms/{slug}/members"))
            .header("cookie", as_person(cookies[0]))
            .json(&serde_json::json!({"user_id": me["id"]}))
            .send()
            .await?
            .error_for_status()?;
    }

    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_before_kib = server.rss_kib();
    let mut rounds = Vec::new();
    for size in SIZES {
        rounds.push(round(http, server, cookies, &slug, size).await?);
    }
    Ok(UploadRun { rss_before_kib, rounds })
}

async fn round(
    http: &reqwest::Client,
    server: &Server,
    cookies: &[&str],
    slug: &str,
    size: usize,
) -> anyhow::Result<Round> {
    let base = &server.base;
    let as_person = |cookie: &str| format!("id={cookie}");
    // Random bytes: nothing on the way can make them smaller.
    let mut file = vec![0u8; size];
    rand::thread_rng().fill_bytes(&mut file);

    let url = format!("{base}/api/rooms/{slug}/messages");
    let started = Instant::now();
    let uploads = try_join_all(cookies[..PEOPLE].iter().enumerate().map(|(i, cookie)| {
        let form = Form::new()
            .text("body", format!("upload {i}"))
            .part("file", Part::bytes(file.clone()).file_name(format!("file-{i}.bin")));
        let request = http.post(&url).header("cookie", as_person(cookie)).multipart(form).send();
        async move {
            let resp = request.await?;
            if resp.status() != reqwest::StatusCode::CREATED {
                anyhow::bail!("upload {i} answered {}: {}", resp.status(), resp.text().await?);
            }
            Ok(resp.json::<serde_json::Value>().await?)
        }
    }));
    tokio::pin!(uploads);
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    let mut rss_peak_kib = 0;
    let sent = loop {
        tokio::select! {
            sent = &mut uploads => break sent?,
            _ = tick.tick() => rss_peak_kib = rss_peak_kib.max(server.rss_kib()),
        }
    };
    let elapsed = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after_kib = server.rss_kib();

    // What was stored is what was sent.
    let link = sent[PEOPLE - 1]["attachments"][0]["url"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no attachment url in {}", sent[PEOPLE - 1]))?;
    let back = http
        .get(format!("{base}{link}"))
        .header("cookie", as_person(cookies[0]))
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    anyhow::ensure!(back.as_ref() == file.as_slice(), "a downloaded file differs from its upload");

    Ok(Round { size, elapsed, rss_peak_kib, rss_after_kib })
}
