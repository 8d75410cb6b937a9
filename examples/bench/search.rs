//! Search at scale: a million messages in a hundred rooms, written straight into the
//! database (through Hearth's own tables, so its index is kept as it would be), then
//! searches timed through `GET /api/search` as a member of every one of those rooms.
//!
//! The text is made from a fixed seed, the same on both databases: most words come
//! from a short list of everyday ones (a few are in most messages, as "the" is),
//! the rest are tokens `t<n>` whose frequency falls with `n`, so some are in
//! thousands of messages and some in one or two.

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::Connection;

use crate::server::BenchDb;

/// The rooms and the messages in each.
pub const ROOMS: usize = 100;
pub const PER_ROOM: usize = 10_000;
/// Rows per INSERT: 5 parameters each, under both databases' limits.
const BATCH: usize = 1_000;
/// Times each query is asked.
const ASKED: usize = 100;

const EVERYDAY: &[&str] = &[
    "the", "a", "to", "and", "we", "is", "it", "for", "on", "that", "this", "with", "you", "i",
    "can", "at", "be", "so", "will", "just", "deploy", "build", "review", "meeting", "release",
    "notes", "today", "tomorrow", "fix", "branch", "lunch", "friday", "customer", "invoice",
    "design", "draft", "thanks", "please", "question", "update",
];

/// What the searches found, and how long they took.
#[derive(Debug, Clone)]
pub struct SearchRun {
    pub messages: usize,
    pub seed_time: Duration,
    /// Per query: what was typed, results returned, p50 and p99 in ms.
    pub queries: Vec<(String, usize, f64, f64)>,
}

/// The queries: a word in most messages, an everyday one, two words, a phrase, a
/// word being typed, a rare token, and a word that is nowhere.
pub const QUERIES: &[&str] =
    &["the", "deploy", "deploy tomorrow", "\"release notes\"", "invo", "t49000", "zeppelin"];

fn body(rng: &mut StdRng) -> String {
    let words = rng.gen_range(6..=14);
    let mut body = String::new();
    for i in 0..words {
        if i > 0 {
            body.push(' ');
        }
        if rng.gen_bool(0.7) {
            // Skewed towards the start of the list, as everyday words are.
            let at = (EVERYDAY.len() as f64 * rng.r#gen::<f64>().powi(3)) as usize;
            body.push_str(EVERYDAY[at.min(EVERYDAY.len() - 1)]);
        } else {
            let n = (50_000.0 * rng.r#gen::<f64>().powi(2)) as u32;
            body.push_str(&format!("t{n}"));
        }
    }
    body
}

/// Writes the rooms, the searcher's memberships and the messages; returns how long
/// it took.
pub async fn seed(db: &BenchDb, searcher_email: &str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(19);
    let now = 1_760_000_000_i64;
    macro_rules! fill {
        ($conn:expr) => {{
            let conn = $conn;
            let authors: Vec<i64> = sqlx::query_scalar("SELECT id FROM users ORDER BY id LIMIT 50")
                .fetch_all(&mut *conn)
                .await?;
            let me: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
                .bind(searcher_email)
                .fetch_one(&mut *conn)
                .await?;
            let mut tx = conn.begin().await?;
            for r in 0..ROOMS {
                let slug = format!("search-{r}");
                let room: i64 = sqlx::query_scalar(
                    "INSERT INTO rooms (slug, name, name_key, kind, created_at, last_seq, last_event)
                     VALUES ($1, $1, $1, 'public', $2, $3, $3) RETURNING id",
                )
                .bind(&slug)
                .bind(now)
                .bind(PER_ROOM as i64)
                .fetch_one(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO memberships (room_id, user_id, last_read_seq, joined_at)
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(room)
                .bind(me)
                .bind(PER_ROOM as i64)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                for start in (0..PER_ROOM).step_by(BATCH) {
                    let rows: Vec<String> = (0..BATCH)
                        .map(|i| {
                            let p = 5 * i;
                            format!("(${}, ${}, ${}, ${}, ${})", p + 1, p + 2, p + 3, p + 4, p + 5)
                        })
                        .collect();
                    let sql = format!(
                        "INSERT INTO messages (room_id, seq, user_id, body, created_at) VALUES {}",
                        rows.join(", ")
                    );
                    let mut query = sqlx::query(&sql);
                    for i in 0..BATCH {
                        let seq = (start + i + 1) as i64;
                        let author = authors[rng.gen_range(0..authors.len())];
                        query = query
                            .bind(room)
                            .bind(seq)
                            .bind(author)
                            .bind(body(&mut rng))
                            .bind(now + seq * 60);
                    }
                    query.execute(&mut *tx).await?;
                }
            }
            tx.commit().await?;
        }};
    }
    if db.is_postgres() {
        let mut conn = sqlx::PgConnection::connect(&db.url).await?;
        fill!(&mut conn);
        sqlx::query("ANALYZE").execute(&mut conn).await?;
    } else {
        let mut conn = sqlx::SqliteConnection::connect(&db.url).await?;
        fill!(&mut conn);
    }
    Ok(started.elapsed())
}

/// Asks each of [`QUERIES`] [`ASKED`] times, one after another, as `cookie`.
pub async fn time_queries(
    http: &reqwest::Client,
    base: &str,
    cookie: &str,
) -> anyhow::Result<Vec<(String, usize, f64, f64)>> {
    let mut out = Vec::new();
    for query in QUERIES {
        let url = reqwest::Url::parse_with_params(&format!("{base}/api/search"), [("q", query)])?;
        let mut times = Vec::with_capacity(ASKED);
        let mut found = 0;
        for _ in 0..ASKED {
            let started = Instant::now();
            let resp =
                http.get(url.clone()).header("cookie", format!("id={cookie}")).send().await?;
            if !resp.status().is_success() {
                anyhow::bail!("search for {query:?} answered {}", resp.status());
            }
            let body: serde_json::Value = resp.json().await?;
            times.push(started.elapsed());
            found = body["results"].as_array().map_or(0, Vec::len);
        }
        times.sort_unstable();
        let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        out.push(((*query).to_owned(), found, ms(at(0.5)), ms(at(0.99))));
    }
    Ok(out)
}
