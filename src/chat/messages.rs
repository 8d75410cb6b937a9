//! Messages: storing one (numbered in its room, in commit order) and reading history.

use super::body::MessageBody;
use super::bus;
use crate::accounts::User;
use crate::db::{self, Db};
use crate::error::Result;
use crate::on_db;

/// How many messages a page or a batch of history shows.
pub const PAGE: i64 = 50;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Message {
    pub id: i64,
    pub room_id: i64,
    /// The message's number in its room: 1, 2, 3… with no gaps.
    pub seq: i64,
    pub user_id: i64,
    pub author_name: String,
    pub author_avatar: Option<String>,
    pub body: String,
    pub created_at: i64,
}

/// Stores a message if `author` is a member of `room_id`; `None` if not.
///
/// Bumping `rooms.last_seq` first takes the room's row lock until commit, so the
/// numbers are handed out in commit order and a reader that has seen number N has
/// seen everything before it. The author's read position moves past their own message.
pub async fn post(
    db: &Db,
    room_id: i64,
    author: &User,
    body: &MessageBody,
) -> Result<Option<Message>> {
    let now = db::now();
    let notify = db.is_postgres();
    let stored = on_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        let seq: Option<i64> = sqlx::query_scalar(
            "UPDATE rooms SET last_seq = last_seq + 1
             WHERE id = $1 AND EXISTS (
                 SELECT 1 FROM memberships WHERE room_id = $1 AND user_id = $2)
             RETURNING last_seq",
        )
        .bind(room_id)
        .bind(author.id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(seq) = seq else { return Ok(None) };
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO messages (room_id, seq, user_id, body, created_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(room_id)
        .bind(seq)
        .bind(author.id)
        .bind(body.as_str())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("UPDATE memberships SET last_read_seq = $3 WHERE room_id = $1 AND user_id = $2")
            .bind(room_id)
            .bind(author.id)
            .bind(seq)
            .execute(&mut *tx)
            .await?;
        if notify {
            // Delivered to every instance's listener when (and only if) this commits,
            // in commit order. Numbers only: the payload limit is 8,000 bytes.
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(bus::MESSAGES)
                .bind(format!("{room_id}:{seq}"))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>(Some((id, seq)))
    }.await)?;
    Ok(stored.map(|(id, seq)| Message {
        id,
        room_id,
        seq,
        user_id: author.id,
        author_name: author.name.clone(),
        author_avatar: author.avatar_url.clone(),
        body: body.as_str().to_owned(),
        created_at: now,
    }))
}

const SELECT: &str = "
    SELECT m.id, m.room_id, m.seq, m.user_id, u.name AS author_name,
           u.avatar_url AS author_avatar, m.body, m.created_at
    FROM messages m JOIN users u ON u.id = m.user_id
    WHERE m.room_id = $1";

/// The newest messages, oldest first.
pub async fn latest(db: &Db, room_id: i64) -> Result<Vec<Message>> {
    before(db, room_id, i64::MAX).await
}

/// Up to a page of messages numbered below `seq`, oldest first.
pub async fn before(db: &Db, room_id: i64, seq: i64) -> Result<Vec<Message>> {
    before_limit(db, room_id, seq, PAGE).await
}

/// Up to `limit` messages numbered below `seq`, oldest first.
pub async fn before_limit(db: &Db, room_id: i64, seq: i64, limit: i64) -> Result<Vec<Message>> {
    let sql = format!("{SELECT} AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3");
    let mut page: Vec<Message> = on_db!(db, pool => sqlx::query_as(&sql)
        .bind(room_id)
        .bind(seq)
        .bind(limit)
        .fetch_all(pool)
        .await)?;
    page.reverse();
    Ok(page)
}

/// Up to `limit` messages numbered above `seq`, oldest first: what a reconnecting
/// client missed.
pub async fn after(db: &Db, room_id: i64, seq: i64, limit: i64) -> Result<Vec<Message>> {
    let sql = format!("{SELECT} AND m.seq > $2 ORDER BY m.seq LIMIT $3");
    let page = on_db!(db, pool => sqlx::query_as(&sql)
        .bind(room_id)
        .bind(seq)
        .bind(limit)
        .fetch_all(pool)
        .await)?;
    Ok(page)
}
