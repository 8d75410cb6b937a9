//! The administrator's page: who is here, deactivating and reactivating people,
//! promoting and demoting administrators (never the last one), one-time password
//! reset links, and the invite link. Bots are listed here too; they are
//! [`crate::bots`]'.
//! Everyone else gets 404 here, as if the page did not exist.

mod people;

use maud::{Markup, html};
use poem::web::{Data, Path, Redirect};
use poem::{FromRequest, Request, RequestBody, Route, get, handler, post};
use tower_sessions::Session;

use crate::AppState;
use crate::accounts::{User, invites, users};
use crate::config::Signup;
use crate::db;
use crate::error::{AppError, Result};
use crate::web::CurrentUser;
use crate::web::flash::{self, Flash};
use crate::web::layout::page;

pub fn routes(route: Route) -> Route {
    route
        .at("/admin", get(show))
        .at("/admin/invite/reset", post(reset_invite))
        .at("/admin/people/:id/reset-link", post(reset_link))
        .at("/admin/people/:id/:action", post(act))
}

/// The signed-in person, when they are an administrator; 404 otherwise.
pub struct Admin(pub User);

impl<'a> FromRequest<'a> for Admin {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let CurrentUser(user) = CurrentUser::from_request(req, body).await?;
        if !user.is_admin {
            return Err(AppError::NotFound.into());
        }
        // Every change an administrator makes needs a recent sign-in.
        if req.method() != poem::http::Method::GET {
            crate::accounts::reauth::confirm(req, body, &user).await?;
        }
        Ok(Admin(user))
    }
}

#[handler]
async fn show(
    state: Data<&AppState>,
    Data(session): Data<&Session>,
    Admin(admin): Admin,
) -> Result<Markup> {
    let notice = flash::take(session, Flash::Admin).await?;
    render(&state, &admin, notice.as_deref(), None).await
}

/// Makes a one-time link that sets a new password for someone, and shows it in the
/// answer itself, once (never kept where it could be read again).
#[handler]
async fn reset_link(
    state: Data<&AppState>,
    Admin(admin): Admin,
    Path(id): Path<i64>,
) -> Result<Markup> {
    let person = users::find_by_id(&state.db, id).await?.ok_or(AppError::NotFound)?;
    if crate::bots::store::is_bot(&state.db, person.id).await? {
        return Err(AppError::Conflict("A bot has no password: it uses its API token."));
    }
    if person.deactivated_at.is_some() {
        return Err(AppError::Conflict(
            "Reactivate them first: a deactivated account cannot sign in.",
        ));
    }
    let path = crate::accounts::resets::make(&state.db, person.id).await?;
    let link = state.base_url.join(&path).map_err(anyhow::Error::from)?;
    tracing::info!(target: "audit", admin_id = admin.id, user_id = person.id, "password reset link made");
    render(&state, &admin, None, Some((&person, link.as_str()))).await
}

async fn render(
    state: &AppState,
    admin: &User,
    notice: Option<&str>,
    made_link: Option<(&User, &str)>,
) -> Result<Markup> {
    let people = people::all(&state.db).await?;
    let bots = crate::bots::store::all(&state.db).await?;
    let invite = match state.config.signup {
        Signup::Invite => Some(
            state.base_url.join(&format!("/signup?invite={}", invites::current(&state.db).await?)),
        ),
        Signup::Open | Signup::Closed => None,
    };
    let now = db::now();
    Ok(page(
        "Administration",
        Some(admin),
        html! {
            @if let Some(notice) = notice { p.notice role="status" { (notice) } }
            @if let Some((person, link)) = made_link {
                div.notice role="status" {
                    p { "A link for " strong { (person.name) } " to set a new password. Give it to them yourself: it works once, for 30 minutes, and is not shown again." }
                    p { input.invite-link type="text" readonly value=(link) aria-label=(format!("Password reset link for {}", person.name)); }
                }
            }
            section.card aria-labelledby="invite" {
                h2 id="invite" { "Who can join" }
                @match (state.config.signup, invite) {
                    (Signup::Invite, Some(Ok(url))) => {
                        p { "People join with this link. Share it with those you want here:" }
                        p { input.invite-link type="text" readonly value=(url) aria-label="Invite link"; }
                        form method="post" action="/admin/invite/reset" hx-boost="true" hx-disabled-elt="find button" {
                            button.secondary type="submit" { "Make a new link" }
                        }
                        p.hint { "A new link stops the old one from working." }
                    },
                    (Signup::Open, _) => { p { "Anyone can create an account (SIGNUP=open)." } },
                    _ => { p { "No one can create an account (SIGNUP=closed)." } },
                }
            }
            section.card aria-labelledby="people" {
                h1 id="people" { "People" }
                (people::table(&people, admin.id, now))
            }
            (crate::bots::section(&bots, now))
        },
    ))
}

#[handler]
async fn reset_invite(
    state: Data<&AppState>,
    Data(session): Data<&Session>,
    Admin(admin): Admin,
) -> Result<Redirect> {
    invites::reset(&state.db).await?;
    tracing::info!(target: "audit", admin_id = admin.id, "invite link reset");
    flash::set(session, Flash::Admin, "There is a new invite link; the old one no longer works.")
        .await?;
    Ok(Redirect::see_other("/admin"))
}

#[handler]
async fn act(
    state: Data<&AppState>,
    Data(session): Data<&Session>,
    Admin(admin): Admin,
    Path((id, action)): Path<(i64, String)>,
) -> Result<Redirect> {
    let person = users::find_by_id(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let admins = people::active_admins(&state.db).await?;
    let last_admin = person.is_admin && person.deactivated_at.is_none() && admins <= 1;
    let bot = crate::bots::store::is_bot(&state.db, person.id).await?;
    let notice = match action.as_str() {
        "promote" if bot => "A bot cannot be an administrator.".to_owned(),
        "deactivate" if person.id == admin.id => "You cannot deactivate yourself.".to_owned(),
        "deactivate" if last_admin => "Hearth needs at least one administrator.".to_owned(),
        "deactivate" => {
            let ended = users::deactivate(&state, &person).await?;
            format!("{} is deactivated; {ended} session(s) ended.", person.name)
        }
        "reactivate" => {
            users::reactivate(&state, &person).await?;
            format!("{} can sign in again.", person.name)
        }
        "promote" => {
            people::set_admin(&state.db, person.id, true).await?;
            format!("{} is now an administrator.", person.name)
        }
        "demote" if last_admin => "Hearth needs at least one administrator.".to_owned(),
        "demote" => {
            people::set_admin(&state.db, person.id, false).await?;
            format!("{} is no longer an administrator.", person.name)
        }
        _ => return Err(AppError::NotFound),
    };
    tracing::info!(target: "audit", admin_id = admin.id, user_id = person.id, action, "administrator action");
    flash::set(session, Flash::Admin, notice).await?;
    Ok(Redirect::see_other("/admin"))
}
