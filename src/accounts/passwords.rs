//! Giving an account a new password: the one owner of that operation, whoever asks
//! (the person on the dashboard, an operator from the shell).
//!
//! A new password is a statement that whoever else knew the old one should lose
//! access: so every API token is revoked and every other session ends.

use tower_sessions::Session;

use super::fields::NewPassword;
use super::{User, sessions, tokens, users};
use crate::AppState;
use crate::error::Result;

/// Who set the new password, for the audit line.
#[derive(Debug, Clone, Copy)]
pub enum ChangedBy {
    /// The person themselves, proving it with the current password (or a recent
    /// sign-in with Google when there was none).
    Themselves,
    /// An operator, from the command line.
    Operator,
    /// Whoever holds a one-time reset link (made by an administrator).
    ResetLink,
}

/// Hashes and stores `new` for `user`, revokes their tokens and ends every session
/// but `keep` (the one asking, if any). Returns how many sessions ended.
///
/// The new credential generation (see `users::set_password_hash`) also refuses a
/// session that a sign-in with the old password creates after this.
pub async fn replace(
    state: &AppState,
    user: &User,
    new: &NewPassword,
    keep: Option<&Session>,
    by: ChangedBy,
) -> Result<usize> {
    let hash = state.passwords.hash(new).await?;
    let generation = users::set_password_hash(state, user.id, &hash).await?;
    if let Some(session) = keep {
        sessions::adopt_generation(session, generation).await?;
    }
    let revoked = tokens::revoke_all(&state.db, user.id).await?;
    let ended = sessions::end_others(state, user.id, keep.and_then(Session::id)).await?;
    let by = match by {
        ChangedBy::Themselves => "themselves",
        ChangedBy::Operator => "operator",
        ChangedBy::ResetLink => "reset link",
    };
    tracing::info!(target: "audit", user_id = user.id, by, ended, revoked, "password changed");
    Ok(ended)
}
