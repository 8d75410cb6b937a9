//! The rows the exports read, a page at a time in key order: each call takes the
//! key of the last row it returned and gives the next [`PAGE`]. Deleted messages
//! are left out (their text is already gone), and so is every secret: no password
//! hash, session or token is ever selected.

use serde::Serialize;

use crate::db::Db;
use crate::error::Result;
use crate::on_db;

/// Rows per page.
pub const PAGE: usize = 500;

/// A message, with the room it is in and its author's name.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct MessageRow {
    /// The paging key; its room and number say which message it is.
    #[serde(skip)]
    pub id: i64,
    pub room: String,
    pub seq: i64,
    pub author_id: i64,
    pub author_name: String,
    pub body: String,
    pub created_at: i64,
    pub edited_at: Option<i64>,
}

/// Which messages.
#[derive(Debug, Clone, Copy)]
pub enum Messages {
    All,
    WrittenBy(i64),
    InRoom(i64),
}

pub async fn messages(db: &Db, which: Messages, after: i64) -> Result<Vec<MessageRow>> {
    let (filter, key) = match which {
        Messages::All => ("", None),
        Messages::WrittenBy(user_id) => ("AND m.user_id = $2", Some(user_id)),
        Messages::InRoom(room_id) => ("AND m.room_id = $2", Some(room_id)),
    };
    let sql = format!(
        "SELECT m.id, r.slug AS room, m.seq, m.user_id AS author_id, u.name AS author_name,
                m.body, m.created_at, m.edited_at
         FROM messages m JOIN rooms r ON r.id = m.room_id JOIN users u ON u.id = m.user_id
         WHERE m.deleted_at IS NULL AND m.id > $1 {filter}
         ORDER BY m.id LIMIT {PAGE}"
    );
    Ok(on_db!(db, pool => {
        let query = sqlx::query_as(&sql).bind(after);
        let query = match key {
            Some(key) => query.bind(key),
            None => query,
        };
        query.fetch_all(pool).await
    })?)
}

/// A person, as the operator's export lists them: no password hash.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct PersonRow {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub avatar_url: Option<String>,
    pub created_at: i64,
    pub deactivated_at: Option<i64>,
    pub is_admin: bool,
}

pub async fn people(db: &Db, after: i64) -> Result<Vec<PersonRow>> {
    let sql = format!(
        "SELECT id, name, email, avatar_url, created_at, deactivated_at, is_admin
         FROM users WHERE id > $1 ORDER BY id LIMIT {PAGE}"
    );
    Ok(on_db!(db, pool => sqlx::query_as(&sql).bind(after).fetch_all(pool).await)?)
}

/// A room or conversation (`kind` `direct`).
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct RoomRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub kind: String,
    pub private: bool,
    pub topic: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub archived_at: Option<i64>,
}

pub async fn rooms(db: &Db, after: i64) -> Result<Vec<RoomRow>> {
    let sql = format!(
        "SELECT id, slug, name, kind, private, topic, created_by, created_at, archived_at
         FROM rooms WHERE id > $1 ORDER BY id LIMIT {PAGE}"
    );
    Ok(on_db!(db, pool => sqlx::query_as(&sql).bind(after).fetch_all(pool).await)?)
}

/// Someone in a room.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct MembershipRow {
    #[serde(skip)]
    pub room_id: i64,
    pub room: String,
    pub user_id: i64,
    pub joined_at: i64,
}

pub async fn memberships(db: &Db, after: (i64, i64)) -> Result<Vec<MembershipRow>> {
    let sql = format!(
        "SELECT m.room_id, r.slug AS room, m.user_id, m.joined_at
         FROM memberships m JOIN rooms r ON r.id = m.room_id
         WHERE (m.room_id, m.user_id) > ($1, $2) ORDER BY m.room_id, m.user_id LIMIT {PAGE}"
    );
    Ok(on_db!(db, pool => sqlx::query_as(&sql).bind(after.0).bind(after.1).fetch_all(pool).await)?)
}

/// A file sent with a message that is still there.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct FileRow {
    pub id: i64,
    pub room: String,
    pub seq: i64,
    pub name: String,
    pub content_type: String,
    pub size: i64,
}

pub async fn files(db: &Db, after: i64) -> Result<Vec<FileRow>> {
    let sql = format!(
        "SELECT a.id, r.slug AS room, m.seq, a.name, a.content_type, a.size
         FROM attachments a JOIN messages m ON m.id = a.message_id JOIN rooms r ON r.id = m.room_id
         WHERE a.id > $1 AND m.deleted_at IS NULL ORDER BY a.id LIMIT {PAGE}"
    );
    Ok(on_db!(db, pool => sqlx::query_as(&sql).bind(after).fetch_all(pool).await)?)
}
