//! Bots and the deliveries owed to them, in the database.

use crate::db::{self, Db};
use crate::error::Result;
use crate::on_db;

/// A bot as the administrator's page lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Bot {
    /// Its account's id (`users.id`).
    pub id: i64,
    pub name: String,
    pub webhook_url: String,
    pub created_at: i64,
    /// Set while its account is deactivated: nothing is delivered to it.
    pub deactivated_at: Option<i64>,
    /// When the last delivery was tried, and what came of it.
    pub last_attempt_at: Option<i64>,
    pub last_outcome: Option<String>,
    pub last_ok: Option<bool>,
    /// Deliveries still owed (waiting, or waiting to be tried again).
    pub owed: i64,
}

const COLUMNS: &str = "u.id, u.name, b.webhook_url, b.created_at, u.deactivated_at,
     b.last_attempt_at, b.last_outcome, b.last_ok,
     (SELECT COUNT(*) FROM bot_deliveries d WHERE d.bot_id = b.user_id) AS owed";

/// Every bot, by name.
pub async fn all(db: &Db) -> Result<Vec<Bot>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM bots b JOIN users u ON u.id = b.user_id ORDER BY u.name, u.id"
    );
    Ok(on_db!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await)?)
}

/// The ids of every bot: pages that list people mark them.
pub async fn ids(db: &Db) -> Result<Vec<i64>> {
    Ok(on_db!(db, pool => sqlx::query_scalar("SELECT user_id FROM bots").fetch_all(pool).await)?)
}

/// Whether account `user_id` is a bot's.
pub async fn is_bot(db: &Db, user_id: i64) -> Result<bool> {
    let found: Option<i64> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT user_id FROM bots WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await)?;
    Ok(found.is_some())
}

/// Makes a bot's account (in no room: an administrator adds it where it is wanted)
/// and its row, together. The account has no password and an address that cannot
/// receive mail (`.invalid` is reserved), so nobody signs in as it.
pub async fn create(
    db: &Db,
    name: &str,
    webhook_url: &str,
    signing_secret: &str,
    created_by: i64,
) -> Result<i64> {
    let now = db::now();
    let email = format!("bot-{}@bots.invalid", super::random_text(12).to_lowercase());
    let id = on_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (name, email, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(name)
        .bind(&email)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO bots (user_id, webhook_url, signing_secret, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(webhook_url)
        .bind(signing_secret)
        .bind(created_by)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(id)
    }.await)?;
    Ok(id)
}

/// Records that message `$seq` of room `$room`, by `$author`, is owed to every
/// active bot it mentions or that is in the conversation it was sent to, in the
/// message's own transaction `$tx` (after its mentions are recorded). Bots do not
/// wake bots: a message by a bot is owed to none, so two bots cannot talk forever.
macro_rules! owed {
    ($tx:ident, $room:expr, $seq:expr, $author:expr) => {{
        sqlx::query(
            "INSERT INTO bot_deliveries (bot_id, room_id, seq, due_at)
             SELECT b.user_id, $1, $2, $4 FROM bots b JOIN users u ON u.id = b.user_id
             WHERE u.deactivated_at IS NULL
               AND NOT EXISTS (SELECT 1 FROM bots a WHERE a.user_id = $3)
               AND (EXISTS (SELECT 1 FROM mentions x
                            WHERE x.room_id = $1 AND x.seq = $2 AND x.user_id = b.user_id)
                    OR EXISTS (SELECT 1 FROM rooms r JOIN memberships m ON m.room_id = r.id
                               WHERE r.id = $1 AND r.kind = 'direct' AND m.user_id = b.user_id))",
        )
        .bind($room)
        .bind($seq)
        .bind($author)
        .bind($crate::queue::now_ms())
        .execute(&mut *$tx)
        .await?;
    }};
}
pub(crate) use owed;

/// A delivery taken by this instance.
#[derive(Debug, sqlx::FromRow)]
pub struct Owed {
    pub id: i64,
    pub bot_id: i64,
    pub room_id: i64,
    pub seq: i64,
    /// Tries so far, this one included.
    pub attempts: i64,
}

/// The deliveries' table, as [`crate::queue`] works it.
pub const QUEUE: &str = "bot_deliveries";

/// Where to deliver, and with what to sign.
#[derive(Debug, sqlx::FromRow)]
pub struct Endpoint {
    pub webhook_url: String,
    pub signing_secret: String,
}

/// The endpoint of an active bot.
pub async fn endpoint(db: &Db, bot_id: i64) -> Result<Option<Endpoint>> {
    let endpoint = on_db!(db, pool => sqlx::query_as(
        "SELECT b.webhook_url, b.signing_secret FROM bots b JOIN users u ON u.id = b.user_id
         WHERE b.user_id = $1 AND u.deactivated_at IS NULL",
    )
    .bind(bot_id)
    .fetch_optional(pool)
    .await)?;
    Ok(endpoint)
}

/// What came of the bot's latest delivery, for the administrator's page.
pub async fn record_outcome(db: &Db, bot_id: i64, ok: bool, outcome: &str) -> Result<()> {
    on_db!(db, pool => sqlx::query(
        "UPDATE bots SET last_attempt_at = $2, last_ok = $3, last_outcome = $4 WHERE user_id = $1",
    )
    .bind(bot_id)
    .bind(db::now())
    .bind(ok)
    .bind(outcome)
    .execute(pool)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}
