//! Changes to a room's messages (posted, edited, deleted, reacted to), and the log
//! that open pages catch up from.
//!
//! Every change takes the room's next event number, `rooms.last_event`, bumped first
//! in the changing transaction. That takes the room's row lock until commit, so
//! events are numbered in commit order with no gaps, as messages' own numbers are,
//! and `message_events` keeps one row per event. A page holds the newest event it
//! has applied (its resume position), and every pushed change moves it forward.
//!
//! Catching up reads the events after a position, in order, each with its message
//! *as it is now*: a posted message is appended (or nothing, if it has since been
//! deleted), an edited or reacted-to one replaced by its id, a deleted one removed
//! by its id. Why
//! that is right, across a drop, a restart or several instances:
//!
//! - **Nothing missed.** Every change commits with its event, and the catch-up reads
//!   every event above the position; the live path (feed and hub) delivers every
//!   event in order and fills any gap from this log (see `feed.rs`).
//! - **Nothing applied twice.** A socket skips any event at or below what it has
//!   sent, whether it came from the log or live. Only a `posted` event appends, and
//!   each message has one, so no message is shown twice; replacing and removing
//!   by id are harmless to repeat anyway.
//! - **In order, and ending right.** Events are applied in number order. A fragment
//!   is the message's state when it was read, which is at or after its event's
//!   commit, so after a message's last event the page shows it as it is stored.
//!   (A fragment read later than the next one's commit can show that next state a
//!   moment early; the next event then shows it again.)
//!
//! The page itself is rendered from one snapshot with its position
//! (`messages::latest_with_position`), so what it shows and where it resumes agree.

use super::body::MessageBody;
use super::mentions;
use super::messages::{self, Message, columns};
use crate::db::{self, Db};
use crate::error::Result;
use crate::on_db;

/// What a change did to its message; stored as its lowercase name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Posted,
    Edited,
    Deleted,
    /// A reaction added or removed (see `reactions.rs`).
    Reacted,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Posted => "posted",
            Kind::Edited => "edited",
            Kind::Deleted => "deleted",
            Kind::Reacted => "reacted",
        }
    }
}

/// A `message_events.kind` the table's CHECK does not allow.
#[derive(Debug)]
pub struct UnknownKind(String);

impl std::fmt::Display for UnknownKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown change kind {:?}", self.0)
    }
}

impl std::error::Error for UnknownKind {}

impl TryFrom<String> for Kind {
    type Error = UnknownKind;

    fn try_from(kind: String) -> Result<Self, Self::Error> {
        match kind.as_str() {
            "posted" => Ok(Kind::Posted),
            "edited" => Ok(Kind::Edited),
            "deleted" => Ok(Kind::Deleted),
            "reacted" => Ok(Kind::Reacted),
            _ => Err(UnknownKind(kind)),
        }
    }
}

/// One event of a room: what happened to which message, and the message as read
/// with it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Change {
    /// Its number in the room's event sequence.
    pub event: i64,
    #[sqlx(try_from = "String")]
    pub kind: Kind,
    #[sqlx(flatten)]
    pub message: Message,
}

/// Records event `$event` (already taken from `rooms.last_event` in transaction
/// `$tx`) and, on PostgreSQL, tells the other instances when it commits.
macro_rules! record {
    ($tx:ident, $room:expr, $event:expr, $seq:expr, $kind:expr, $notify:expr) => {{
        sqlx::query(
            "INSERT INTO message_events (room_id, event, seq, kind) VALUES ($1, $2, $3, $4)",
        )
        .bind($room)
        .bind($event)
        .bind($seq)
        .bind($kind.as_str())
        .execute(&mut *$tx)
        .await?;
        if $notify {
            // Delivered to every instance's listener when (and only if) this commits,
            // in commit order. Numbers only: the payload limit is 8,000 bytes.
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind($crate::chat::bus::MESSAGES)
                .bind(format!("{}:{}", $room, $event))
                .execute(&mut *$tx)
                .await?;
        }
    }};
}
pub(super) use record;

/// Takes room `$room`'s next event number in transaction `$tx`, if `$user` is a
/// member and the room is not archived (`None` otherwise). Bumping it takes the room's row lock until commit:
/// no other change to the room's messages meanwhile, and a rollback gives the
/// number back. (`messages::post` bumps it together with the message number.)
macro_rules! next_event {
    ($tx:ident, $room:expr, $user:expr) => {{
        let event: Option<i64> = sqlx::query_scalar(
            "UPDATE rooms SET last_event = last_event + 1
             WHERE id = $1 AND archived_at IS NULL AND EXISTS (
                 SELECT 1 FROM memberships WHERE room_id = $1 AND user_id = $2)
             RETURNING last_event",
        )
        .bind($room)
        .bind($user)
        .fetch_optional(&mut *$tx)
        .await?;
        event
    }};
}
pub(super) use next_event;

/// Why a change to a message was not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotAllowed {
    /// No such message in the room (or it was deleted).
    Gone,
    /// Someone else's message.
    NotYours,
    /// The message has as many different reactions as it may.
    Full,
}

/// Who is asking to change a message.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub user_id: i64,
    /// Administrators may delete anyone's message (never edit it).
    pub is_admin: bool,
}

/// What to do to the message.
enum Action<'a> {
    Edit(&'a MessageBody),
    Delete,
}

/// Replaces the text of message `seq` of `room_id`, if it is the actor's own.
pub async fn edit(
    db: &Db,
    room_id: i64,
    seq: i64,
    actor: Actor,
    body: &MessageBody,
) -> Result<Result<Change, NotAllowed>> {
    change(db, room_id, seq, actor, Action::Edit(body)).await
}

/// Deletes message `seq` of `room_id`: its author may, and so may an administrator.
/// The text is cleared at once; the row stays for the events that name it.
pub async fn delete(
    db: &Db,
    room_id: i64,
    seq: i64,
    actor: Actor,
) -> Result<Result<Change, NotAllowed>> {
    change(db, room_id, seq, actor, Action::Delete).await
}

async fn change(
    db: &Db,
    room_id: i64,
    seq: i64,
    actor: Actor,
    action: Action<'_>,
) -> Result<Result<Change, NotAllowed>> {
    let now = db::now();
    let notify = db.is_postgres();
    let kind = match action {
        Action::Edit(_) => Kind::Edited,
        Action::Delete => Kind::Deleted,
    };
    let changed = on_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        // The room's lock first; only a member acts on a room's messages.
        let event = next_event!(tx, room_id, actor.user_id);
        let Some(event) = event else { return Ok(Err(NotAllowed::Gone)) };
        let author: Option<i64> = sqlx::query_scalar(
            "SELECT user_id FROM messages WHERE room_id = $1 AND seq = $2 AND deleted_at IS NULL",
        )
        .bind(room_id)
        .bind(seq)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(author) = author else { return Ok(Err(NotAllowed::Gone)) };
        let allowed = match action {
            Action::Edit(_) => author == actor.user_id,
            Action::Delete => author == actor.user_id || actor.is_admin,
        };
        if !allowed {
            return Ok(Err(NotAllowed::NotYours));
        }
        let update = match action {
            Action::Edit(body) => sqlx::query(
                "UPDATE messages SET body = $3, edited_at = $4 WHERE room_id = $1 AND seq = $2",
            )
            .bind(room_id)
            .bind(seq)
            .bind(body.as_str())
            .bind(now),
            Action::Delete => sqlx::query(
                "UPDATE messages SET body = '', deleted_at = $3 WHERE room_id = $1 AND seq = $2",
            )
            .bind(room_id)
            .bind(seq)
            .bind(now),
        };
        update.execute(&mut *tx).await?;
        match action {
            Action::Edit(body) => mentions::record!(tx, room_id, seq, author, body.as_str()),
            Action::Delete => {
                for table in ["reactions", "mentions"] {
                    sqlx::query(&format!("DELETE FROM {table} WHERE room_id = $1 AND seq = $2"))
                        .bind(room_id)
                        .bind(seq)
                        .execute(&mut *tx)
                        .await?;
                }
                // Its files go with it, their bytes too (ON DELETE CASCADE).
                sqlx::query(
                    "DELETE FROM attachments WHERE message_id =
                         (SELECT id FROM messages WHERE room_id = $1 AND seq = $2)",
                )
                .bind(room_id)
                .bind(seq)
                .execute(&mut *tx)
                .await?;
            }
        }
        record!(tx, room_id, event, seq, kind, notify);
        let message: Message =
            sqlx::query_as(messages::ONE).bind(room_id).bind(seq).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(Ok(Change { event, kind, message }))
    }.await)?;
    let Ok(mut change) = changed else { return Ok(changed) };
    messages::complete(db, room_id, std::slice::from_mut(&mut change.message)).await?;
    Ok(Ok(change))
}

/// Up to `limit` events of `room_id` after `after`, in order, each with its message
/// as it is now: what a reconnecting page, or the feed after a gap, applies.
pub async fn since(db: &Db, room_id: i64, after: i64, limit: i64) -> Result<Vec<Change>> {
    let sql = concat!(
        "SELECT e.event, e.kind, ",
        columns!(),
        " FROM message_events e
          JOIN messages m ON m.room_id = e.room_id AND m.seq = e.seq
          JOIN users u ON u.id = m.user_id
          WHERE e.room_id = $1 AND e.event > $2
          ORDER BY e.event LIMIT $3"
    );
    let mut changes: Vec<Change> = on_db!(db, pool => sqlx::query_as(sql)
        .bind(room_id)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await)?;
    let mut messages: Vec<Message> = changes.iter().map(|c| c.message.clone()).collect();
    messages::complete(db, room_id, &mut messages).await?;
    for (change, message) in changes.iter_mut().zip(messages) {
        change.message = message;
    }
    Ok(changes)
}
