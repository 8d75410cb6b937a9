//! Messages: storing one (numbered in its room, in commit order) and reading history.
//! Editing and deleting them, and the log of changes a page catches up from, are in
//! [`super::changes`].

use super::body::MessageBody;
use super::changes::{self, Change, Kind};
use super::mentions;
use super::reactions::{self, Reaction};
use crate::accounts::User;
use crate::db::{self, Db};
use crate::error::Result;
use crate::files::{self, Attachment};
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
    /// When it was last edited (Unix seconds), if ever.
    pub edited_at: Option<i64>,
    /// Set on a deleted message, whose text is gone; only the change log sees one.
    pub deleted_at: Option<i64>,
    /// Filled in by [`complete`] where the message is shown.
    #[sqlx(skip)]
    pub reactions: Vec<Reaction>,
    /// Whom it mentions (id, name now); filled in by [`complete`].
    #[sqlx(skip)]
    pub mentions: Vec<(i64, String)>,
    /// Its files, in the order they were sent; filled in by [`complete`].
    #[sqlx(skip)]
    pub attachments: Vec<Attachment>,
}

/// Fills in what is kept beside messages (reactions, mentions, files) for
/// `messages`, all of room `room_id`: wherever messages are shown.
pub async fn complete(db: &Db, room_id: i64, messages: &mut [Message]) -> Result<()> {
    reactions::attach(db, room_id, messages).await?;
    mentions::attach(db, room_id, messages).await?;
    files::attach(db, messages).await
}

/// What storing a message came to.
pub enum Posted {
    Stored(Box<Change>),
    /// `author` is not a member of the room (or it is archived).
    NotInRoom,
    /// One of the files was claimed by another message meanwhile (a send made
    /// twice): nothing is stored.
    FilesGone,
}

/// Stores a message if `author` is a member of `room_id`, claiming `files`, the
/// author's uploads to the room that no message has yet: all of them, or nothing is
/// stored.
///
/// Bumping `rooms.last_seq` (the message's number) and `last_event` (the change's)
/// first takes the room's row lock until commit, so both are handed out in commit
/// order and a reader that has seen number N has seen everything before it. The
/// author's read position moves past their own message.
pub async fn post(
    db: &Db,
    room_id: i64,
    author: &User,
    body: &MessageBody,
    files: &[i64],
) -> Result<Posted> {
    let now = db::now();
    let notify = db.is_postgres();
    let stored = on_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        let numbers: Option<(i64, i64)> = sqlx::query_as(
            "UPDATE rooms SET last_seq = last_seq + 1, last_event = last_event + 1
             WHERE id = $1 AND archived_at IS NULL AND EXISTS (
                 SELECT 1 FROM memberships WHERE room_id = $1 AND user_id = $2)
             RETURNING last_seq, last_event",
        )
        .bind(room_id)
        .bind(author.id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((seq, event)) = numbers else { return Ok(Err(Posted::NotInRoom)) };
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
        for (position, file) in files.iter().enumerate() {
            let claimed = sqlx::query(
                "UPDATE attachments SET message_id = $1, position = $2
                 WHERE id = $3 AND uploader_id = $4 AND room_id = $5
                   AND message_id IS NULL AND digest <> ''",
            )
            .bind(id)
            .bind(position as i64)
            .bind(*file)
            .bind(author.id)
            .bind(room_id)
            .execute(&mut *tx)
            .await?;
            if claimed.rows_affected() == 0 {
                // Dropped uncommitted, the transaction rolls back.
                return Ok(Err(Posted::FilesGone));
            }
        }
        sqlx::query("UPDATE memberships SET last_read_seq = $3 WHERE room_id = $1 AND user_id = $2")
            .bind(room_id)
            .bind(author.id)
            .bind(seq)
            .execute(&mut *tx)
            .await?;
        mentions::record!(tx, room_id, seq, author.id, body.as_str());
        crate::bots::store::owed!(tx, room_id, seq, author.id);
        changes::record!(tx, room_id, event, seq, Kind::Posted, notify);
        tx.commit().await?;
        Ok::<_, sqlx::Error>(Ok((id, seq, event)))
    }.await)?;
    let (id, seq, event) = match stored {
        Ok(numbers) => numbers,
        Err(not_stored) => return Ok(not_stored),
    };
    let mut change = Change {
        event,
        kind: Kind::Posted,
        message: Message {
            id,
            room_id,
            seq,
            user_id: author.id,
            author_name: author.name.clone(),
            author_avatar: author.avatar_url.clone(),
            body: body.as_str().to_owned(),
            created_at: now,
            edited_at: None,
            deleted_at: None,
            reactions: Vec::new(),
            mentions: Vec::new(),
            attachments: Vec::new(),
        },
    };
    let posted = std::slice::from_mut(&mut change.message);
    mentions::attach(db, room_id, posted).await?;
    files::attach(db, posted).await?;
    Ok(Posted::Stored(Box::new(change)))
}

/// The columns of a [`Message`], from `messages m JOIN users u`.
macro_rules! columns {
    () => {
        "m.id, m.room_id, m.seq, m.user_id, u.name AS author_name,
         u.avatar_url AS author_avatar, m.body, m.created_at, m.edited_at, m.deleted_at"
    };
}
pub(super) use columns;

/// One message by room and number, deleted or not: what a change reads back.
pub(super) const ONE: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM messages m JOIN users u ON u.id = m.user_id WHERE m.room_id = $1 AND m.seq = $2"
);

/// Listed messages: the room's, not deleted.
const SELECT: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM messages m JOIN users u ON u.id = m.user_id
      WHERE m.room_id = $1 AND m.deleted_at IS NULL"
);

/// The newest messages and the room's newest event, read in one snapshot: the page
/// shows these and resumes from that event, so a change made while it was being
/// read is either in the page or after its position, never both or neither.
pub async fn latest_with_position(db: &Db, room_id: i64) -> Result<(Vec<Message>, i64)> {
    let repeatable = db.is_postgres();
    let sql = format!("{SELECT} ORDER BY m.seq DESC LIMIT $2");
    let (mut page, position) = on_db!(db, pool => async {
        // SQLite's read transaction is one snapshot already; PostgreSQL's default
        // (read committed) takes a new one per statement.
        let mut tx = pool.begin().await?;
        if repeatable {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                .execute(&mut *tx)
                .await?;
        }
        let position: i64 = sqlx::query_scalar("SELECT last_event FROM rooms WHERE id = $1")
            .bind(room_id)
            .fetch_one(&mut *tx)
            .await?;
        let page: Vec<Message> =
            sqlx::query_as(&sql).bind(room_id).bind(PAGE).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>((page, position))
    }.await)?;
    page.reverse();
    // Outside the snapshot, which is safe: a reaction's event replaces the whole
    // message, so a page showing it early shows it again, never twice.
    complete(db, room_id, &mut page).await?;
    Ok((page, position))
}

/// Message `seq` of room `room_id`, unless it was deleted.
pub async fn one(db: &Db, room_id: i64, seq: i64) -> Result<Option<Message>> {
    let sql = format!("{SELECT} AND m.seq = $2");
    let found: Option<Message> = on_db!(db, pool => sqlx::query_as(&sql).bind(room_id).bind(seq).fetch_optional(pool).await)?;
    let Some(mut message) = found else { return Ok(None) };
    complete(db, room_id, std::slice::from_mut(&mut message)).await?;
    Ok(Some(message))
}

/// Message `id` (the global id, as in page URLs), unless it was deleted.
pub async fn by_id(db: &Db, id: i64) -> Result<Option<Message>> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM messages m JOIN users u ON u.id = m.user_id WHERE m.id = $1 AND m.deleted_at IS NULL"
    );
    let found: Option<Message> =
        on_db!(db, pool => sqlx::query_as(sql).bind(id).fetch_optional(pool).await)?;
    let Some(mut message) = found else { return Ok(None) };
    complete(db, message.room_id, std::slice::from_mut(&mut message)).await?;
    Ok(Some(message))
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
    complete(db, room_id, &mut page).await?;
    Ok(page)
}

/// The messages numbered within `reach` of `seq` (those not deleted), oldest first.
pub async fn around(db: &Db, room_id: i64, seq: i64, reach: i64) -> Result<Vec<Message>> {
    let sql = format!("{SELECT} AND m.seq BETWEEN $2 AND $3 ORDER BY m.seq");
    let mut page: Vec<Message> = on_db!(db, pool => sqlx::query_as(&sql)
        .bind(room_id)
        .bind(seq.saturating_sub(reach))
        .bind(seq.saturating_add(reach))
        .fetch_all(pool)
        .await)?;
    complete(db, room_id, &mut page).await?;
    Ok(page)
}
