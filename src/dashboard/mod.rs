//! The dashboard: who you are, your sessions (and ending the others), and changing
//! your password.

mod password;
mod views;

use poem::web::{Data, Redirect};
use poem::{Route, get, handler, post};
use tower_sessions::Session;

use crate::AppState;
use crate::accounts::sessions;
use crate::chat::rooms;
use crate::error::Result;
use crate::web::CurrentUser;

/// Session key for a one-time message shown on the next dashboard visit.
const NOTICE: &str = "dashboard_notice";

pub fn routes(route: Route) -> Route {
    route
        .at("/dashboard", get(show))
        .at("/dashboard/sessions/end-others", post(end_other_sessions))
        .at("/dashboard/password", post(password::change))
}

#[handler]
async fn show(
    state: Data<&AppState>,
    Data(session): Data<&Session>,
    CurrentUser(user): CurrentUser,
) -> Result<maud::Markup> {
    let notice: Option<String> = session.remove(NOTICE).await?;
    let page = views::Dashboard {
        user: &user,
        rooms: &rooms::mine(&state.db, user.id).await?,
        sessions: &sessions::list(&state, user.id).await?,
        this_session: session.id().map(|id| id.to_string()),
        notice: notice.as_deref(),
        problems: views::PasswordProblems::default(),
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
    tracing::info!(user_id = user.id, ended, "other sessions ended");
    let notice = match ended {
        0 => "There were no other sessions.".to_owned(),
        1 => "Signed out 1 other session.".to_owned(),
        n => format!("Signed out {n} other sessions."),
    };
    session.insert(NOTICE, notice).await?;
    Ok(Redirect::see_other("/dashboard"))
}
