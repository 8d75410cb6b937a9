//! The dashboard: who you are, your sessions (and ending the others), changing
//! your password or email, API tokens, passkeys and two-factor codes.

mod email;
mod passkeys;
mod password;
mod tokens;
mod two_factor;
mod views;

pub use two_factor::TWO_FACTOR;

/// The passkey pages; open to someone who must set up a second factor.
pub const PASSKEYS: &str = "/dashboard/passkeys";

use poem::web::{Data, Redirect};
use poem::{Route, get, handler, post};
use tower_sessions::Session;

use crate::AppState;
use crate::accounts::{User, sessions, users};
use crate::chat::rooms;
use crate::error::Result;
use crate::web::CurrentUser;
use crate::web::client::while_connected;
use crate::web::flash::{self, Flash};

pub fn routes(route: Route) -> Route {
    route
        .at("/dashboard", get(show))
        .at("/dashboard/sessions/end-others", post(end_other_sessions))
        // It waits for password hashes: see `accounts::routes`.
        .at("/dashboard/password", post(while_connected(password::change)))
        .at(email::EMAIL, get(email::form).post(email::change))
        .at("/dashboard/email/confirm", post(email::resend))
        .at("/dashboard/email/mentions", post(email::mentions))
        .at("/dashboard/tokens", post(tokens::create))
        .at("/dashboard/tokens/:id/revoke", post(tokens::revoke))
        .at(TWO_FACTOR, get(two_factor::setup).post(two_factor::confirm))
        .at("/dashboard/two-factor/recovery-codes", post(two_factor::new_codes))
        .at("/dashboard/two-factor/off", post(two_factor::turn_off))
        .at(passkeys::NEW, get(passkeys::new))
        .at("/dashboard/passkeys/options", post(passkeys::options))
        .at("/dashboard/passkeys", post(passkeys::add))
        .at("/dashboard/passkeys/:id/remove", post(passkeys::remove))
}

#[handler]
async fn show(
    state: Data<&AppState>,
    Data(session): Data<&Session>,
    CurrentUser(user): CurrentUser,
) -> Result<maud::Markup> {
    let notice = flash::take(session, Flash::Dashboard).await?;
    render(&state, session, &user, notice.as_deref(), None, views::PasswordProblems::default())
        .await
}

/// The dashboard, with everything it shows read fresh.
async fn render(
    state: &AppState,
    session: &Session,
    user: &User,
    notice: Option<&str>,
    new_token: Option<String>,
    problems: views::PasswordProblems,
) -> Result<maud::Markup> {
    let page = views::Dashboard {
        user,
        rooms: &rooms::mine(&state.db, user.id).await?,
        sessions: &sessions::list(state, user.id).await?,
        this_session: session.id().map(|id| id.to_string()),
        notice,
        problems,
        identities: users::identity_issuers(&state.db, user.id).await?,
        may_set_password: sessions::signed_in_with_google_recently(session).await?,
        mail: state.mailer.enabled(),
        devices: &crate::push::subscriptions::of(&state.db, user.id).await?,
        push_key: state.push.vapid.public(),
        tokens: &crate::accounts::tokens::list(&state.db, user.id).await?,
        new_token,
        passkeys: match state.passkey_rp.enabled() {
            true => Some(&crate::accounts::passkeys::list(&state.db, user.id).await?),
            false => None,
        },
        two_factor: match crate::accounts::two_factor::is_on(&state.db, user.id).await? {
            true => {
                Some(crate::accounts::two_factor::recovery_codes_left(&state.db, user.id).await?)
            }
            false => None,
        },
    };
    Ok(page.render())
}

#[handler]
async fn end_other_sessions(
    state: Data<&AppState>,
    Data(session): Data<&Session>,
    CurrentUser(user): CurrentUser,
) -> Result<Redirect> {
    let ended = sessions::end_others(&state, user.id, session.id()).await?;
    tracing::info!(target: "audit", user_id = user.id, ended, "other sessions ended");
    let notice = match ended {
        0 => "There were no other sessions.".to_owned(),
        1 => "Signed out 1 other session.".to_owned(),
        n => format!("Signed out {n} other sessions."),
    };
    flash::set(session, Flash::Dashboard, notice).await?;
    Ok(Redirect::see_other("/dashboard"))
}
