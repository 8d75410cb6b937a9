//! Rooms and who is in them: the `rooms` and `memberships` tables.

use crate::chat::body::RoomName;
use crate::db::{self, Db};
use crate::error::Result;
use crate::on_db;

/// What a room is; stored as its lowercase name in `rooms.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RoomKind {
    /// Anyone can find and join it.
    Public,
    /// Two people's conversation.
    Direct,
}

/// A `rooms.kind` that is neither (the table's CHECK allows no other).
#[derive(Debug)]
pub struct UnknownRoomKind(String);

impl std::fmt::Display for UnknownRoomKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown room kind {:?}", self.0)
    }
}

impl std::error::Error for UnknownRoomKind {}

/// Decoded from the column as text, the same on SQLite and PostgreSQL.
impl TryFrom<String> for RoomKind {
    type Error = UnknownRoomKind;

    fn try_from(kind: String) -> Result<Self, Self::Error> {
        match kind.as_str() {
            "public" => Ok(RoomKind::Public),
            "direct" => Ok(RoomKind::Direct),
            _ => Err(UnknownRoomKind(kind)),
        }
    }
}

/// A room as one of its members sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MyRoom {
    pub id: i64,
    pub slug: String,
    #[sqlx(try_from = "String")]
    pub kind: RoomKind,
    /// The room's name, or for a direct message the other person's name.
    pub title: String,
    pub last_seq: i64,
    pub last_read_seq: i64,
    /// The number of the room's newest change to its messages (see `changes.rs`).
    pub last_event: i64,
    /// Unread messages that mention this member.
    pub mentions: i64,
    /// Only its members know it exists (see `membership.rs`).
    pub private: bool,
    /// A line under the title saying what the room is for; may be empty.
    pub topic: String,
    /// Read-only and off the sidebar; its history stays (see `settings.rs`).
    pub archived: bool,
    /// Who started it; `None` for conversations and rooms older than settings.
    pub created_by: Option<i64>,
}

impl MyRoom {
    pub fn unread(&self) -> i64 {
        (self.last_seq - self.last_read_seq).max(0)
    }

    pub fn is_direct(&self) -> bool {
        self.kind == RoomKind::Direct
    }
}

/// A room for browsing: a public one, or a private one of the viewer's.
#[derive(Debug, sqlx::FromRow)]
pub struct PublicRoom {
    pub slug: String,
    pub name: String,
    pub topic: String,
    pub members: i64,
    pub joined: bool,
    pub private: bool,
    pub archived: bool,
}

const MY_ROOMS: &str = "
    SELECT r.id, r.slug, r.kind, r.last_seq, m.last_read_seq, r.last_event, r.private,
           r.topic, r.archived_at IS NOT NULL AS archived, r.created_by,
           (SELECT COUNT(*) FROM mentions x WHERE x.user_id = m.user_id
                AND x.room_id = r.id AND x.seq > m.last_read_seq) AS mentions,
           CASE WHEN r.kind = 'direct' THEN COALESCE(
               (SELECT string_agg(u.name, ', ' ORDER BY u.name)
                FROM memberships o JOIN users u ON u.id = o.user_id
                WHERE o.room_id = r.id AND o.user_id <> m.user_id), r.name)
           ELSE r.name END AS title
    FROM memberships m JOIN rooms r ON r.id = m.room_id
    WHERE m.user_id = $1";

/// The rooms `user_id` is in: public rooms first, then direct messages, by title.
pub async fn mine(db: &Db, user_id: i64) -> Result<Vec<MyRoom>> {
    let sql = format!("{MY_ROOMS} ORDER BY r.kind DESC, title");
    let rooms = on_db!(db, pool => sqlx::query_as(&sql).bind(user_id).fetch_all(pool).await)?;
    Ok(rooms)
}

/// The room `slug`, if `user_id` is in it. Non-members get `None`, exactly as if
/// the room did not exist.
pub async fn find_mine(db: &Db, user_id: i64, slug: &str) -> Result<Option<MyRoom>> {
    let sql = format!("{MY_ROOMS} AND r.slug = $2");
    let room = on_db!(db, pool => sqlx::query_as(&sql).bind(user_id).bind(slug).fetch_optional(pool).await)?;
    Ok(room)
}

/// Room `room_id`, if `user_id` is in it (`None` otherwise, as for `find_mine`).
pub async fn find_mine_by_id(db: &Db, user_id: i64, room_id: i64) -> Result<Option<MyRoom>> {
    let sql = format!("{MY_ROOMS} AND r.id = $2");
    let room = on_db!(db, pool => sqlx::query_as(&sql).bind(user_id).bind(room_id).fetch_optional(pool).await)?;
    Ok(room)
}

/// The rooms `user_id` can find: every public one, and the private ones they are
/// in, by name (archived ones too; the page lists them apart).
pub async fn public(db: &Db, user_id: i64) -> Result<Vec<PublicRoom>> {
    let rooms = on_db!(db, pool => sqlx::query_as(
        "SELECT r.slug, r.name, r.topic, r.private, r.archived_at IS NOT NULL AS archived,
                (SELECT COUNT(*) FROM memberships c WHERE c.room_id = r.id) AS members,
                EXISTS (SELECT 1 FROM memberships j WHERE j.room_id = r.id AND j.user_id = $1) AS joined
         FROM rooms r WHERE r.kind = 'public'
           AND (NOT r.private OR EXISTS (
               SELECT 1 FROM memberships p WHERE p.room_id = r.id AND p.user_id = $1))
         ORDER BY r.name",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await)?;
    Ok(rooms)
}

/// The room's name is taken.
#[derive(Debug)]
pub struct NameTaken;

/// Creates a room (public, or private: then only its members know it exists) with
/// its creator as the first member. Returns its slug: the name's, or with `-2`,
/// `-3`… when a renamed room still has that one.
pub async fn create(
    db: &Db,
    user_id: i64,
    name: &RoomName,
    private: bool,
) -> Result<Result<String, NameTaken>> {
    for n in 1..=20 {
        let slug = if n == 1 { name.slug.clone() } else { format!("{}-{n}", name.slug) };
        match insert(db, user_id, name, &slug, private).await {
            Ok(()) => return Ok(Ok(slug)),
            Err(sqlx::Error::Database(err)) if err.is_unique_violation() => {
                if name_taken(db, &name.slug, None).await? {
                    return Ok(Err(NameTaken));
                }
            }
            Err(err) => return Err(err.into()),
        }
    }
    Ok(Err(NameTaken))
}

async fn insert(
    db: &Db,
    user_id: i64,
    name: &RoomName,
    slug: &str,
    private: bool,
) -> sqlx::Result<()> {
    let now = db::now();
    on_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO rooms (slug, name, name_key, kind, created_at, private, created_by)
             VALUES ($1, $2, $3, 'public', $4, $5, $6) RETURNING id",
        )
        .bind(slug)
        .bind(&name.name)
        .bind(&name.slug)
        .bind(now)
        .bind(private)
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO memberships (room_id, user_id, joined_at) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }.await)
}

/// Whether a room other than `except` has a name that reads as `key` (a slug form).
pub async fn name_taken(db: &Db, key: &str, except: Option<i64>) -> Result<bool> {
    let id: Option<i64> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT id FROM rooms WHERE name_key = $1 AND id <> $2",
    )
    .bind(key)
    .bind(except.unwrap_or(0))
    .fetch_optional(pool)
    .await)?;
    Ok(id.is_some())
}

/// Joins a public room (not a private one: its members add people); history before
/// joining counts as read. Returns the room id, or `None` when there is no such room.
pub async fn join(db: &Db, user_id: i64, slug: &str) -> Result<Option<i64>> {
    let room_id: Option<i64> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT id FROM rooms WHERE slug = $1 AND kind = 'public' AND NOT private",
    )
    .bind(slug)
    .fetch_optional(pool)
    .await)?;
    if let Some(room_id) = room_id {
        add_member(db, room_id, user_id).await?;
    }
    Ok(room_id)
}

/// Makes `user_id` a member of `room_id`; history before counts as read. Whether
/// they were not one already.
pub async fn add_member(db: &Db, room_id: i64, user_id: i64) -> Result<bool> {
    let added = on_db!(db, pool => sqlx::query(
        "INSERT INTO memberships (room_id, user_id, last_read_seq, joined_at)
         SELECT id, $2, last_seq, $3 FROM rooms WHERE id = $1
         ON CONFLICT (room_id, user_id) DO NOTHING",
    )
    .bind(room_id)
    .bind(user_id)
    .bind(db::now())
    .execute(pool)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(added > 0)
}

/// Leaves a room (not `general`, which is everyone's). Returns whether a membership
/// was removed.
pub async fn leave(db: &Db, user_id: i64, room_id: i64) -> Result<bool> {
    let removed = on_db!(db, pool => sqlx::query(
        "DELETE FROM memberships WHERE room_id = $1 AND user_id = $2
           AND room_id <> (SELECT id FROM rooms WHERE slug = 'general')",
    )
    .bind(room_id)
    .bind(user_id)
    .execute(pool)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(removed > 0)
}

/// The ids of the rooms `user_id` is in.
pub async fn ids_of(db: &Db, user_id: i64) -> Result<Vec<i64>> {
    let ids = on_db!(db, pool => sqlx::query_scalar("SELECT room_id FROM memberships WHERE user_id = $1")
        .bind(user_id)
        .fetch_all(pool)
        .await)?;
    Ok(ids)
}

/// The slug of the conversation of exactly these people (ids sorted, any order
/// given): `dm-3-7` for two, `dm-3-7-9` for a group.
pub fn conversation_slug(people: &[i64]) -> String {
    let mut ids = people.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
    format!("dm-{}", ids.join("-"))
}

/// Whether room `room_id` is archived (read-only).
pub async fn is_archived(db: &Db, room_id: i64) -> Result<bool> {
    let archived: Option<bool> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT archived_at IS NOT NULL FROM rooms WHERE id = $1",
    )
    .bind(room_id)
    .fetch_optional(pool)
    .await)?;
    Ok(archived.unwrap_or(false))
}

/// Whether a room (of either kind) has this slug.
pub async fn exists(db: &Db, slug: &str) -> Result<bool> {
    let id: Option<i64> = on_db!(db, pool => sqlx::query_scalar("SELECT id FROM rooms WHERE slug = $1")
        .bind(slug)
        .fetch_optional(pool)
        .await)?;
    Ok(id.is_some())
}

/// The conversation of exactly these people (two for a direct message, up to eight
/// for a group), created (or re-joined) as needed; each is shown it under the
/// others' names. Returns its slug and id.
pub async fn conversation(db: &Db, people: &[i64]) -> Result<(String, i64)> {
    let slug = conversation_slug(people);
    let now = db::now();
    let id = on_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO rooms (slug, name, name_key, kind, created_at)
             VALUES ($1, 'Conversation', $1, 'direct', $2)
             ON CONFLICT DO NOTHING",
        )
        .bind(&slug)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let id: i64 = sqlx::query_scalar("SELECT id FROM rooms WHERE slug = $1")
            .bind(&slug)
            .fetch_one(&mut *tx)
            .await?;
        for user in people {
            sqlx::query(
                "INSERT INTO memberships (room_id, user_id, joined_at) VALUES ($1, $2, $3)
                 ON CONFLICT (room_id, user_id) DO NOTHING",
            )
            .bind(id)
            .bind(user)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>(id)
    }.await)?;
    Ok((slug, id))
}

/// Everyone in room `room_id` (id, name), by name: whom a message there can mention.
pub async fn members(db: &Db, room_id: i64) -> Result<Vec<(i64, String)>> {
    let people = on_db!(db, pool => sqlx::query_as(
        "SELECT u.id, u.name FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.room_id = $1 AND u.deactivated_at IS NULL ORDER BY u.name",
    )
    .bind(room_id)
    .fetch_all(pool)
    .await)?;
    Ok(people)
}

/// The number of the room's newest event (change to its messages).
pub async fn newest(db: &Db, room_id: i64) -> Result<i64> {
    let event = on_db!(db, pool => sqlx::query_scalar("SELECT last_event FROM rooms WHERE id = $1")
        .bind(room_id)
        .fetch_optional(pool)
        .await)?;
    Ok(event.unwrap_or(0))
}
