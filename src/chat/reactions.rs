//! Reactions: emoji that people put on a message, shown with how many and who.
//!
//! Adding or removing one is a change to the message like an edit (see
//! [`super::changes`]): it takes the room's next event number under the room's
//! lock, so every open page shows it live, in order, and catches up on it after a
//! drop. The pushed fragment is the whole message again, with its reactions.

use std::collections::HashMap;

use super::changes::{self, Change, Kind, NotAllowed};
use super::messages::{self, Message};
use crate::db::{self, Db};
use crate::error::Result;
use crate::on_db;

/// The picker's emoji, offered on every message.
pub const COMMON: [&str; 8] = ["👍", "❤️", "😂", "🎉", "😮", "😢", "🙏", "👀"];

/// Different emoji one message may carry: each is a button on every copy of it.
pub const MOST_PER_MESSAGE: i64 = 20;

/// One emoji, as Unicode lists it: parsed once, where a person typed or picked it.
#[derive(Debug, Clone, Copy)]
pub struct Emoji(&'static emojis::Emoji);

impl Emoji {
    /// A single emoji (with or without its variation selector, surrounding spaces
    /// ignored), or why not.
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let input = input.trim();
        let found = emojis::get(input).or_else(|| emojis::get(&format!("{input}\u{fe0f}")));
        found.map(Emoji).ok_or("Pick an emoji, or type a single one.")
    }

    pub fn as_str(self) -> &'static str {
        self.0.as_str()
    }
}

/// The name of the emoji `text`, for screen readers ("thumbs up").
pub fn name_of(text: &str) -> &'static str {
    emojis::get(text).map_or("emoji", emojis::Emoji::name)
}

/// One emoji on a message, and who put it there (in the order they did).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reaction {
    pub emoji: String,
    pub people: Vec<(i64, String)>,
}

/// What a person asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Their reaction there (the API's `PUT`).
    On,
    /// Their reaction gone (the API's `DELETE`).
    Off,
    /// The other of what it is now (a click on the page).
    Flip,
}

/// Puts `user_id`'s `emoji` on message `seq` of `room_id`, or takes it off. `None`
/// when it already was as wanted (nothing changes, no event); refused when the
/// message is gone (or the person is not in the room) or has as many different
/// emoji as it can hold.
pub async fn react(
    db: &Db,
    room_id: i64,
    seq: i64,
    user_id: i64,
    emoji: Emoji,
    want: Want,
) -> Result<Result<Option<Change>, NotAllowed>> {
    let (now, notify, emoji) = (db::now(), db.is_postgres(), emoji.as_str());
    let changed = on_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        // The room's lock first, as for every change.
        let event = changes::next_event!(tx, room_id, user_id);
        let Some(event) = event else { return Ok(Err(NotAllowed::Gone)) };
        let (listed, mine, kinds): (bool, bool, i64) = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM messages
                            WHERE room_id = $1 AND seq = $2 AND deleted_at IS NULL),
                    EXISTS (SELECT 1 FROM reactions
                            WHERE room_id = $1 AND seq = $2 AND emoji = $3 AND user_id = $4),
                    (SELECT COUNT(DISTINCT emoji) FROM reactions WHERE room_id = $1 AND seq = $2)",
        )
        .bind(room_id)
        .bind(seq)
        .bind(emoji)
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
        if !listed {
            return Ok(Err(NotAllowed::Gone));
        }
        let on = match want {
            Want::On => true,
            Want::Off => false,
            Want::Flip => !mine,
        };
        if on == mine {
            return Ok(Ok(None));
        }
        if on {
            let taken: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM reactions WHERE room_id = $1 AND seq = $2 AND emoji = $3)",
            )
            .bind(room_id)
            .bind(seq)
            .bind(emoji)
            .fetch_one(&mut *tx)
            .await?;
            if !taken && kinds >= MOST_PER_MESSAGE {
                return Ok(Err(NotAllowed::Full));
            }
        }
        let sql = if on {
            "INSERT INTO reactions (room_id, seq, user_id, emoji, created_at, event)
             VALUES ($1, $2, $3, $4, $5, $6)"
        } else {
            "DELETE FROM reactions WHERE room_id = $1 AND seq = $2 AND user_id = $3 AND emoji = $4"
        };
        let mut query = sqlx::query(sql).bind(room_id).bind(seq).bind(user_id).bind(emoji);
        if on {
            query = query.bind(now).bind(event);
        }
        query.execute(&mut *tx).await?;
        changes::record!(tx, room_id, event, seq, Kind::Reacted, notify);
        let message: Message =
            sqlx::query_as(messages::ONE).bind(room_id).bind(seq).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(Ok(Some(Change { event, kind: Kind::Reacted, message })))
    }.await)?;
    let Ok(Some(mut change)) = changed else { return Ok(changed) };
    messages::complete(db, room_id, std::slice::from_mut(&mut change.message)).await?;
    Ok(Ok(Some(change)))
}

/// Fills in the reactions of `messages`, all of room `room_id`, in one query.
pub async fn attach(db: &Db, room_id: i64, messages: &mut [Message]) -> Result<()> {
    let mut seqs: Vec<i64> = messages.iter().map(|m| m.seq).collect();
    seqs.sort_unstable();
    seqs.dedup();
    if seqs.is_empty() {
        return Ok(());
    }
    // These messages only (a catch-up can name message 3 and message 50,000).
    let list = db::placeholders(2, seqs.len());
    let sql = format!(
        "SELECT r.seq, r.emoji, r.user_id, u.name FROM reactions r JOIN users u ON u.id = r.user_id
         WHERE r.room_id = $1 AND r.seq IN ({list})
         ORDER BY r.seq, r.event"
    );
    let rows: Vec<(i64, String, i64, String)> = on_db!(db, pool => {
        let mut query = sqlx::query_as(&sql).bind(room_id);
        for seq in &seqs {
            query = query.bind(*seq);
        }
        query.fetch_all(pool).await
    })?;
    let mut by_seq: HashMap<i64, Vec<Reaction>> = HashMap::new();
    for (seq, emoji, user_id, name) in rows {
        let reactions = by_seq.entry(seq).or_default();
        match reactions.iter_mut().find(|r| r.emoji == emoji) {
            Some(reaction) => reaction.people.push((user_id, name)),
            None => reactions.push(Reaction { emoji, people: vec![(user_id, name)] }),
        }
    }
    // A message can be here more than once (the change log names it per event).
    for message in messages.iter_mut() {
        message.reactions = by_seq.get(&message.seq).cloned().unwrap_or_default();
    }
    Ok(())
}
