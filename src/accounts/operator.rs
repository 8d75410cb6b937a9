//! What an operator does from a shell (`hearth user …`): create a person, reset a
//! password, turn two-factor codes off, deactivate and reactivate. The same rules as the pages apply.

use super::fields::{Email, Name, NewPassword};
use super::passwords::{self, ChangedBy};
use super::{User, users};
use crate::AppState;

pub async fn create(
    state: &AppState,
    name: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<User> {
    let name = Name::parse(name).map_err(anyhow::Error::msg)?;
    let email = Email::parse(email).map_err(anyhow::Error::msg)?;
    let password = NewPassword::parse(password).map_err(anyhow::Error::msg)?;
    let hash = state.passwords.hash(&password).await?;
    // The operator has the shell: the sign-up mode is for the pages.
    let admission = super::invites::Admission::Member;
    match users::create(state, &name, &email, Some(&hash), None, admission).await? {
        Ok(user) => {
            tracing::info!(target: "audit", user_id = user.id, "account created from the command line");
            Ok(user)
        }
        Err(_) => anyhow::bail!("there is already an account with {}", email.as_str()),
    }
}

/// Sets a new password and ends every session of the account.
pub async fn reset_password(
    state: &AppState,
    email: &str,
    password: &str,
) -> anyhow::Result<usize> {
    let user = find(state, email).await?;
    let password = NewPassword::parse(password).map_err(anyhow::Error::msg)?;
    Ok(passwords::replace(state, &user, &password, None, ChangedBy::Operator).await?)
}

/// Deactivates (ending every session; running Hearth processes close the sockets
/// within a second) or reactivates an account.
pub async fn set_active(state: &AppState, email: &str, active: bool) -> anyhow::Result<usize> {
    let user = find(state, email).await?;
    if active {
        users::reactivate(state, &user).await?;
        return Ok(0);
    }
    Ok(users::deactivate(state, &user).await?)
}

/// Turns two-factor codes off for someone who lost their app and recovery codes.
pub async fn turn_off_two_factor(state: &AppState, email: &str) -> anyhow::Result<()> {
    let user = find(state, email).await?;
    super::two_factor::turn_off(&state.db, user.id).await?;
    tracing::info!(target: "audit", user_id = user.id, "two-factor codes turned off from the command line");
    Ok(())
}

async fn find(state: &AppState, email: &str) -> anyhow::Result<User> {
    let email = Email::parse(email).map_err(anyhow::Error::msg)?;
    users::find_by_email(state, &email)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no account has the email {}", email.as_str()))
}
