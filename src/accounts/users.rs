//! People: the `users` table and its queries.

use super::fields::Email;
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
}

/// The email is already someone's account.
#[derive(Debug)]
pub struct EmailTaken;

/// A user's columns, for queries that name the table `u`.
pub const COLUMNS: &str = "u.id, u.name, u.email, u.password_hash, u.avatar_url, u.created_at, u.deactivated_at, u.is_admin";

pub async fn find_by_id(db: &Db, id: i64) -> Result<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users u WHERE u.id = $1");
    let user = on_db!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?;
    Ok(user)
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

/// Creates an account, in the `general` room like everyone. The database's unique
/// index is what decides a taken email, so two sign-ups racing for one address
/// cannot both win.
pub async fn create(
    state: &AppState,
    name: &str,
    email: &Email,
    password_hash: Option<&str>,
    avatar_url: Option<&str>,
) -> Result<Result<User, EmailTaken>> {
    let sql = format!(
        "INSERT INTO users (name, email, password_hash, avatar_url, created_at, is_admin)
         VALUES ($1, $2, $3, $4, $5, NOT EXISTS (SELECT 1 FROM users))
         RETURNING {}",
        // RETURNING cannot name a table alias in SQLite.
        COLUMNS.replace("u.", "")
    );
    let now = db::now();
    let inserted = on_db!(&state.db, pool => async {
        let mut tx = pool.begin().await?;
        let user: User = sqlx::query_as(&sql)
            .bind(name)
            .bind(email.as_str())
            .bind(password_hash)
            .bind(avatar_url)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO memberships (room_id, user_id, last_read_seq, joined_at)
             SELECT id, $1, last_seq, $2 FROM rooms WHERE slug = 'general'",
        )
        .bind(user.id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(user)
    }.await);
    match inserted {
        Ok(user) => Ok(Ok(user)),
        Err(sqlx::Error::Database(err)) if err.is_unique_violation() => Ok(Err(EmailTaken)),
        Err(err) => Err(err.into()),
    }
}

/// Deactivates (or reactivates) an account. Ending its sessions is the caller's job.
pub async fn set_deactivated(db: &Db, user_id: i64, deactivated: bool) -> Result<()> {
    let at = deactivated.then(db::now);
    on_db!(db, pool => sqlx::query("UPDATE users SET deactivated_at = $1 WHERE id = $2")
        .bind(at)
        .bind(user_id)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(())
}

pub async fn set_password_hash(state: &AppState, user_id: i64, hash: &str) -> Result<()> {
    on_db!(&state.db, pool => sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(user_id)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(())
}
