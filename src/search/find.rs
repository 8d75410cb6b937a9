//! The search itself, in each database's full-text index: SQLite's FTS5 table
//! `message_search` (kept in step with `messages` by triggers, in the writing
//! transaction) and PostgreSQL's generated `messages.search` tsvector with its GIN
//! index. Both split words at whatever is not a letter or a digit, fold case, keep
//! accents, and have no stemming and no stop words, the same for every language.
//!
//! Neither database ranks: `bm25` and `ts_rank` read every match's positions,
//! which for a common word cost more than the search. The newest matches are read
//! (each index hands them out newest first) and `rank.rs` orders them.
//!
//! Only the rooms and conversations the person is in are searched (a join on their
//! memberships, so a private room's messages never leave the query), never a
//! deleted message, and an edited one by its text now (the index follows the text).

use super::query::Query;
use crate::db::Db;
use crate::error::Result;

/// How many of the newest matches are read and ranked. A word in half of a
/// million messages would otherwise be ranked in all of them, for seconds; the
/// best of the newest few hundred answers in milliseconds, and in a chat the newest
/// is what is looked for first (more words, a room or a person reach further back).
pub const NEWEST: i64 = 500;

/// A found message.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Hit {
    pub room_id: i64,
    pub seq: i64,
    pub body: String,
    pub created_at: i64,
    pub author_id: i64,
    pub author_name: String,
}

/// What to look in: everything the person can read, or one room, or one author.
#[derive(Debug, Clone, Copy, Default)]
pub struct Within {
    pub room_id: Option<i64>,
    pub author_id: Option<i64>,
}

/// The newest [`NEWEST`] messages `user_id` can read that match `query`, newest
/// first. (Ranking them is `rank.rs`'s, the same for both databases.)
pub async fn newest(db: &Db, user_id: i64, query: &Query, within: Within) -> Result<Vec<Hit>> {
    // 0 matches no row id: "any".
    let (room, author) = (within.room_id.unwrap_or(0), within.author_id.unwrap_or(0));
    let hits = match db {
        Db::Sqlite(pool) => {
            // FTS5 walks a term's matches in row id order (newest first, here) and
            // stops at the limit.
            sqlx::query_as(
                "SELECT m.room_id, m.seq, m.body, m.created_at,
                        u.id AS author_id, u.name AS author_name
                 FROM message_search s
                 JOIN messages m ON m.id = s.rowid
                 JOIN memberships me ON me.room_id = m.room_id AND me.user_id = $1
                 JOIN users u ON u.id = m.user_id
                 WHERE s.message_search MATCH $2 AND m.deleted_at IS NULL
                   AND ($3 = 0 OR m.room_id = $3) AND ($4 = 0 OR m.user_id = $4)
                 ORDER BY s.rowid DESC
                 LIMIT $5",
            )
            .bind(user_id)
            .bind(query.to_fts5())
            .bind(room)
            .bind(author)
            .bind(NEWEST)
            .fetch_all(pool)
            .await?
        }
        Db::Postgres(pool) => {
            // Planned for these words each time (not a cached generic plan): the
            // planner then walks the primary key backwards for a common word and
            // takes a rare one's few rows from the GIN index.
            sqlx::query_as(
                "SELECT m.room_id, m.seq, m.body, m.created_at,
                        u.id AS author_id, u.name AS author_name
                 FROM messages m
                 JOIN memberships me ON me.room_id = m.room_id AND me.user_id = $1
                 JOIN users u ON u.id = m.user_id
                 WHERE m.search @@ to_tsquery('simple', $2) AND m.deleted_at IS NULL
                   AND ($3 = 0 OR m.room_id = $3) AND ($4 = 0 OR m.user_id = $4)
                 ORDER BY m.id DESC
                 LIMIT $5",
            )
            .bind(user_id)
            .bind(query.to_tsquery())
            .bind(room)
            .bind(author)
            .bind(NEWEST)
            .persistent(false)
            .fetch_all(pool)
            .await?
        }
    };
    Ok(hits)
}
