//! Personal access tokens: how programs (bots, scripts) use the API as a person.
//! A token is shown once when made; only its SHA-256 is stored. Revoking one, or
//! deactivating its owner, stops it at once.

use super::User;
use super::users::COLUMNS;
use crate::db::{self, Db};
use crate::error::Result;
use crate::on_db;

#[derive(Debug, sqlx::FromRow)]
pub struct Token {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// Makes a token for `user_id`; returns it (the only time it is seen).
pub async fn create(db: &Db, user_id: i64, name: &str) -> Result<String> {
    let token = format!("hearth_{}", super::new_secret());
    on_db!(db, pool => sqlx::query(
        "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(user_id)
    .bind(name)
    .bind(digest(&token))
    .bind(db::now())
    .execute(pool)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(token)
}

pub async fn list(db: &Db, user_id: i64) -> Result<Vec<Token>> {
    let tokens = on_db!(db, pool => sqlx::query_as(
        "SELECT id, name, created_at, last_used_at FROM api_tokens WHERE user_id = $1 ORDER BY id",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await)?;
    Ok(tokens)
}

/// Revokes one of `user_id`'s tokens; false when there is no such token of theirs.
pub async fn revoke(db: &Db, user_id: i64, id: i64) -> Result<bool> {
    let removed = on_db!(db, pool => sqlx::query("DELETE FROM api_tokens WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(removed > 0)
}

/// Revokes every token of `user_id` (a new password, or a takeover undone).
pub async fn revoke_all(db: &Db, user_id: i64) -> Result<u64> {
    let removed = on_db!(db, pool => sqlx::query("DELETE FROM api_tokens WHERE user_id = $1")
        .bind(user_id)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(removed)
}

/// The active person a token belongs to, noting its use.
pub async fn user_for(db: &Db, token: &str) -> Result<Option<User>> {
    let hash = digest(token);
    let sql = format!(
        "SELECT {COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = $1 AND u.deactivated_at IS NULL"
    );
    let user: Option<User> =
        on_db!(db, pool => sqlx::query_as(&sql).bind(&hash).fetch_optional(pool).await)?;
    if user.is_some() {
        on_db!(db, pool => sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2")
            .bind(db::now())
            .bind(&hash)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
    }
    Ok(user)
}

fn digest(token: &str) -> String {
    super::kept_of(token)
}
