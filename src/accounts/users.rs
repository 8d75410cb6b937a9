//! People: the `users` table and its queries.

use super::fields::{Email, Name};
use super::invites::Admission;
use crate::db::{self, Db};
use crate::error::Result;
use crate::{AppState, on_db};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub email: String,
    /// `None` when the account has no usable password.
    pub password_hash: Option<String>,
    pub avatar_url: Option<String>,
    pub created_at: i64,
    /// Set when an administrator deactivated the account: no sign-in, no sessions.
    pub deactivated_at: Option<i64>,
    /// Administrators manage people and the invite link. The first account is one.
    pub is_admin: bool,
    /// Which credentials are current: bumped by every change of who may act for
    /// the account, and recorded in each session made (see `sessions::begin`).
    pub credential_generation: i64,
    /// When the address was shown to be the owner's (see `accounts::addresses`).
    pub email_confirmed_at: Option<i64>,
}

/// Why [`create`] made no account.
#[derive(Debug, PartialEq, Eq)]
pub enum NotCreated {
    /// The email is already someone's account.
    EmailTaken,
    /// Admitted as the first account ([`Admission::First`]), but another was first.
    NotFirst,
}

/// A user's columns, for queries that name the table `u`.
pub const COLUMNS: &str = "u.id, u.name, u.email, u.password_hash, u.avatar_url, u.created_at, \
                           u.deactivated_at, u.is_admin, u.credential_generation, \
                           u.email_confirmed_at";

pub async fn find_by_id(db: &Db, id: i64) -> Result<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users u WHERE u.id = $1");
    let user = on_db!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?;
    Ok(user)
}

/// The OpenID issuers whose identities can sign in to this account, oldest first
/// (the identities themselves are made by `google::identities`).
pub async fn identity_issuers(db: &Db, user_id: i64) -> Result<Vec<String>> {
    let issuers = on_db!(db, pool => sqlx::query_scalar(
        "SELECT issuer FROM identities WHERE user_id = $1 ORDER BY created_at",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await)?;
    Ok(issuers)
}

/// Everyone, by name.
pub async fn all(db: &Db) -> Result<Vec<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users u ORDER BY u.name, u.id");
    let users = on_db!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await)?;
    Ok(users)
}

pub async fn find_by_email(state: &AppState, email: &Email) -> Result<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users u WHERE u.email = $1");
    let user = on_db!(&state.db, pool => sqlx::query_as(&sql)
        .bind(email.as_str())
        .fetch_optional(pool)
        .await)?;
    Ok(user)
}

/// Creates an account, in the `general` room like everyone; the first account is
/// the administrator. The database decides the races: its unique index a taken
/// email, and the insert itself whether this is the first account.
pub async fn create(
    state: &AppState,
    name: &Name,
    email: &Email,
    password_hash: Option<&str>,
    avatar_url: Option<&str>,
    admission: Admission,
) -> Result<Result<User, NotCreated>> {
    let sql = format!(
        "INSERT INTO users (name, email, password_hash, avatar_url, created_at, is_admin)
         SELECT $1, $2, $3, $4, $5, NOT EXISTS (SELECT 1 FROM users)
         WHERE $6 OR NOT EXISTS (SELECT 1 FROM users)
         RETURNING {}",
        // RETURNING cannot name a table alias in SQLite.
        COLUMNS.replace("u.", "")
    );
    let now = db::now();
    let as_member = admission == Admission::Member;
    // SQLite runs one writer at a time. PostgreSQL's transactions would each see no
    // users yet, and both become administrators: they take turns on this lock.
    let take_turns = matches!(state.db, Db::Postgres(_));
    let inserted = on_db!(&state.db, pool => async {
        let mut tx = pool.begin().await?;
        if take_turns {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(FIRST_ACCOUNT_LOCK)
                .execute(&mut *tx)
                .await?;
        }
        let user: Option<User> = sqlx::query_as(&sql)
            .bind(name.as_str())
            .bind(email.as_str())
            .bind(password_hash)
            .bind(avatar_url)
            .bind(now)
            .bind(as_member)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(user) = user else { return Ok(None) };
        sqlx::query(
            "INSERT INTO memberships (room_id, user_id, last_read_seq, joined_at)
             SELECT id, $1, last_seq, $2 FROM rooms WHERE slug = 'general'",
        )
        .bind(user.id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(user))
    }.await);
    match inserted {
        Ok(Some(user)) => Ok(Ok(user)),
        Ok(None) => Ok(Err(NotCreated::NotFirst)),
        Err(sqlx::Error::Database(err)) if err.is_unique_violation() => {
            Ok(Err(NotCreated::EmailTaken))
        }
        Err(err) => Err(err.into()),
    }
}

/// Serialises account creation on PostgreSQL (a `pg_advisory_xact_lock` key).
const FIRST_ACCOUNT_LOCK: i64 = 0x6865_6172_7468_0001;

/// Deactivates an account: sign-in is refused from now on, every session ends (and
/// with them the chat sockets, on every instance), and every API token is revoked,
/// so reactivating the account later revives none of them. Returns how many
/// sessions ended.
pub async fn deactivate(state: &AppState, user: &User) -> Result<usize> {
    set_deactivated(&state.db, user.id, true).await?;
    let revoked = super::tokens::revoke_all(&state.db, user.id).await?;
    let ended = super::sessions::end_others(state, user.id, None).await?;
    tracing::info!(target: "audit", user_id = user.id, ended, revoked, "account deactivated");
    Ok(ended)
}

/// Lets a deactivated account sign in again.
pub async fn reactivate(state: &AppState, user: &User) -> Result<()> {
    set_deactivated(&state.db, user.id, false).await?;
    tracing::info!(target: "audit", user_id = user.id, "account reactivated");
    Ok(())
}

/// Deactivating also starts a new credential generation: a sign-in under way that
/// checked the password before this ends up with a session that is refused.
async fn set_deactivated(db: &Db, user_id: i64, deactivated: bool) -> Result<()> {
    let at = deactivated.then(db::now);
    on_db!(db, pool => sqlx::query(
        "UPDATE users SET deactivated_at = $1,
                credential_generation = credential_generation + CASE WHEN $1 IS NULL THEN 0 ELSE 1 END
         WHERE id = $2",
    )
        .bind(at)
        .bind(user_id)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(())
}

/// Stores a new password hash and starts a new credential generation; returns it.
pub async fn set_password_hash(state: &AppState, user_id: i64, hash: &str) -> Result<i64> {
    let generation = on_db!(&state.db, pool => sqlx::query_scalar(
        "UPDATE users SET password_hash = $1, credential_generation = credential_generation + 1
         WHERE id = $2 RETURNING credential_generation",
    )
    .bind(hash)
    .bind(user_id)
    .fetch_one(pool)
    .await)?;
    Ok(generation)
}
