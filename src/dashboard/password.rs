//! Changing a password: the current one is required, and every other session ends,
//! since whoever else was signed in may be the reason for the change.

use poem::http::StatusCode;
use poem::web::{Data, Redirect};
use poem::{IntoResponse, Response, handler};
use serde::Deserialize;
use tower_sessions::Session;

use super::views::PasswordProblems;
use crate::AppState;
use crate::accounts::fields::NewPassword;
use crate::accounts::passwords::{self, ChangedBy};
use crate::accounts::sessions;
use crate::error::Result;
use crate::web::flash::{self, Flash};
use crate::web::{CurrentUser, Form};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
}

#[handler]
pub async fn change(
    state: Data<&AppState>,
    Data(session): Data<&Session>,
    CurrentUser(user): CurrentUser,
    Form(input): Form<PasswordForm>,
) -> Result<Response> {
    // Guessing the current password here is as rate-limited as at sign-in.
    state.limits.attempt_on(&user.email)?;
    let may_set = sessions::signed_in_with_google_recently(session).await?;
    let current = match &user.password_hash {
        Some(hash) => state
            .passwords
            .verify(&input.current_password, Some(hash))
            .await?
            .then_some(())
            .ok_or("That is not your current password."),
        // No password yet: a recent Google sign-in is the re-authentication.
        None => may_set.then_some(()).ok_or("Sign in with Google again to set a password."),
    };
    let current_ok = current.is_ok();
    if current_ok {
        state.limits.succeeded_on(&user.email);
    }
    let new = NewPassword::parse(&input.new_password);
    let problems = PasswordProblems { current: current.err(), new: new.as_ref().err().copied() };
    let (true, Ok(new)) = (current_ok, new) else {
        let page = super::render(&state, session, &user, None, None, problems).await?;
        return Ok(page.with_status(StatusCode::UNPROCESSABLE_ENTITY).into_response());
    };
    passwords::replace(&state, &user, &new, Some(session), ChangedBy::Themselves).await?;
    let notice = "Your password was changed, and your other sessions were signed out.";
    flash::set(session, Flash::Dashboard, notice).await?;
    Ok(Redirect::see_other("/dashboard").into_response())
}
