//! Who may create an account: the operator's `SIGNUP` mode, and the invite link.
//!
//! The first account can always be made (it becomes the administrator). After that,
//! `open` lets anyone in, `invite` only those holding the current invite code, and
//! `closed` no one. An administrator can reset the code; the old link stops working.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::AppState;
use crate::config::Signup;
use crate::db::Db;
use crate::error::Result;
use crate::on_db;

const KEY: &str = "invite_code";

/// Why sign-up is refused: the sentence shown on the page.
pub type Refusal = &'static str;

/// Shown to someone let in as the first account when another got there first.
pub const NOT_FIRST: Refusal =
    "Someone has just created this Hearth's first account. Ask them for an invite link.";

/// On what grounds a new account may be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Sign-up is open, or this person holds the invite code.
    Member,
    /// Only because no account exists yet: [`super::users::create`] checks that
    /// again as it inserts, so two people racing cannot both get in this way.
    First,
}

/// Whether a new account may be created, with `invite` as the code presented.
pub async fn may_sign_up(
    state: &AppState,
    invite: Option<&str>,
) -> Result<Result<Admission, Refusal>> {
    if state.config.signup == Signup::Open {
        return Ok(Ok(Admission::Member));
    }
    if first_account(&state.db).await? {
        return Ok(Ok(Admission::First));
    }
    Ok(match state.config.signup {
        Signup::Closed => Err("This Hearth is not taking new accounts."),
        Signup::Open | Signup::Invite => match (invite, code(&state.db).await?) {
            (Some(given), Some(current)) if same(given, &current) => Ok(Admission::Member),
            (Some(_), _) => Err("This invite link is not valid any more. Ask for a new one."),
            (None, _) => {
                Err("Joining this Hearth is by invitation. Ask someone here for the invite link.")
            }
        },
    })
}

/// Whether no account exists yet (the sign-up page says the first one is the administrator).
pub async fn first_account(db: &Db) -> Result<bool> {
    let none: bool = on_db!(db, pool => sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM users)").fetch_one(pool).await)?;
    Ok(none)
}

/// The current invite code, made on first use.
pub async fn current(db: &Db) -> Result<String> {
    match code(db).await? {
        Some(code) => Ok(code),
        None => reset(db).await,
    }
}

/// A new invite code; the old one stops working.
pub async fn reset(db: &Db) -> Result<String> {
    let code = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 18]>());
    on_db!(db, pool => sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(KEY)
    .bind(&code)
    .execute(pool)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(code)
}

async fn code(db: &Db) -> Result<Option<String>> {
    let code = on_db!(db, pool => sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(KEY)
        .fetch_optional(pool)
        .await)?;
    Ok(code)
}

/// Compares without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
