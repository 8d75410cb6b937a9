//! A message's actions from the room page: its menu (react, edit, delete, made for
//! the one who asks), Edit (a form in place of the message, or a page of its own
//! without JavaScript) and Delete; and the viewer's stylesheet. (What a pick in
//! the menu's reaction picker does is in `reacting.rs`.)
//!
//! Page URLs name a message by its global id (`/messages/{id}`), so a rendered
//! message, pushed alike to every viewer, needs nothing of the room's. Every
//! handler checks that the viewer is in the message's room (404 otherwise, as for
//! the room) and leaves the rest to the owners, [`super::edit`] and
//! [`super::delete`].

use maud::html;
use poem::http::{StatusCode, header};
use poem::web::{Data, Path, Redirect};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;

use super::Refused;
use super::messages::{self, Message};
use super::rooms::{self, MyRoom};
use super::views;
use crate::AppState;
use crate::accounts::User;
use crate::error::{AppError, Result};
use crate::web::layout::page;
use crate::web::{CurrentUser, Form};

/// Message `id` and its room, if `user` is in that room.
pub(super) async fn visible(state: &AppState, user: &User, id: i64) -> Result<(MyRoom, Message)> {
    let message = messages::by_id(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let room = rooms::find_mine_by_id(&state.db, user.id, message.room_id).await?;
    Ok((room.ok_or(AppError::NotFound)?, message))
}

pub(super) fn is_htmx(req: &Request) -> bool {
    req.header("hx-request").is_some()
}

/// Where a message is on its room's page.
pub(super) fn in_room(room: &MyRoom, message: &Message) -> Redirect {
    Redirect::see_other(format!("/chat/{}#m-{}", room.slug, message.seq))
}

/// The message: its fragment for htmx (what "Cancel" puts back), or its room.
#[handler]
pub async fn show(
    req: &Request,
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    let (room, message) = visible(&state, &user, id).await?;
    if is_htmx(req) {
        return Ok(views::message(&message).into_response());
    }
    Ok(in_room(&room, &message).into_response())
}

/// The message's menu, for the one who asks: in place of its "⋯" link for htmx,
/// or a page of the message and its actions without JavaScript.
#[handler]
pub async fn actions(
    req: &Request,
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    let (room, message) = visible(&state, &user, id).await?;
    let own = message.user_id == user.id;
    let menu = views::actions_menu(&message, own, own || user.is_admin, room.archived);
    if is_htmx(req) {
        return Ok(menu.into_response());
    }
    let title = format!("A message in {}", room.title);
    let back = format!("/chat/{}#m-{}", room.slug, message.seq);
    Ok(page(
        &title,
        Some(&user),
        html! {
            section.card {
                h1 { (title) }
                div.messages.standalone { (views::message(&message)) }
                (menu)
                p { a href=(back) { "Back to the room" } }
            }
        },
    )
    .into_response())
}

/// The edit form: in place of the message for htmx, a page without JavaScript.
#[handler]
pub async fn form(
    req: &Request,
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    let (room, message) = visible(&state, &user, id).await?;
    if message.user_id != user.id {
        return Err(AppError::Forbidden(Refused::NotYours.message()));
    }
    Ok(edit_page(req, &user, &room, &message, &message.body, None, StatusCode::OK))
}

fn edit_page(
    req: &Request,
    user: &User,
    room: &MyRoom,
    message: &Message,
    body: &str,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    let editor = views::edit_form(message, &room.slug, body, problem);
    if is_htmx(req) {
        return editor.with_status(status).into_response();
    }
    let title = format!("Edit your message in {}", room.title);
    page(&title, Some(user), html! { section.card { h1 { (title) } (editor) } })
        .with_status(status)
        .into_response()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EditForm {
    body: String,
}

/// Saves an edit: the message as it now is for htmx (the socket shows it to
/// everyone else), 303 back to it without JavaScript, or the form again with the
/// problem and what was typed.
#[handler]
pub async fn save(
    req: &Request,
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    Form(input): Form<EditForm>,
) -> Result<Response> {
    let (room, message) = visible(&state, &user, id).await?;
    let problem = match super::edit(&state, &user, room.id, message.seq, &input.body).await? {
        Ok(edited) if is_htmx(req) => return Ok(views::message(&edited).into_response()),
        Ok(edited) => return Ok(in_room(&room, &edited).into_response()),
        Err(Refused::Gone | Refused::NotInRoom) => return Err(AppError::NotFound),
        Err(Refused::NotYours) => return Err(AppError::Forbidden(Refused::NotYours.message())),
        Err(problem) => problem,
    };
    let status = match problem {
        Refused::TooFast => StatusCode::TOO_MANY_REQUESTS,
        Refused::Archived => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let text = Some(problem.message());
    Ok(edit_page(req, &user, &room, &message, &input.body, text, status))
}

/// Deletes a message for everyone (its author, or an administrator): an empty
/// answer for htmx, which removes it at once, or 303 back to the room.
#[handler]
pub async fn delete(
    req: &Request,
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    let (room, message) = visible(&state, &user, id).await?;
    match super::delete(&state, &user, room.id, message.seq).await? {
        // Deleted meanwhile (two clicks racing): the room is as asked.
        Ok(()) | Err(Refused::Gone) => {}
        Err(Refused::NotYours) => return Err(AppError::Forbidden(Refused::NotYours.message())),
        Err(Refused::TooFast) => {
            return Err(AppError::RateLimited { retry_after: std::time::Duration::from_secs(1) });
        }
        Err(Refused::NotInRoom) => return Err(AppError::NotFound),
        Err(Refused::Archived) => return Err(AppError::Conflict(Refused::Archived.message())),
        // Not reasons a deletion gives.
        Err(refused @ (Refused::Invalid(_) | Refused::NotAnEmoji(_) | Refused::Full)) => {
            return Err(AppError::Unprocessable(refused.message()));
        }
    }
    if is_htmx(req) {
        return Ok(StatusCode::OK.into_response());
    }
    Ok(Redirect::see_other(format!("/chat/{}", room.slug)).into_response())
}

/// The viewer's own stylesheet: it marks the reactions that are theirs and the
/// mentions (and messages) that name them. Messages
/// are rendered once for all viewers, and the page's CSP allows no inline styles.
#[handler]
pub fn viewer_css(CurrentUser(user): CurrentUser) -> Response {
    let id = user.id;
    let css = format!(
        ".reaction[data-by~=\"{id}\"] {{ border-color: var(--accent); \
         background: color-mix(in srgb, var(--accent) 14%, transparent); }}\n\
         .mention[data-user=\"{id}\"] {{ padding: 0 0.15rem; border-radius: 4px; \
         background: color-mix(in srgb, var(--accent) 18%, transparent); }}\n\
         .message:has(.mention[data-user=\"{id}\"]) {{ \
         box-shadow: inset 3px 0 0 var(--accent); padding-left: 0.5rem; }}\n"
    );
    Response::builder()
        .header(header::CONTENT_TYPE, "text/css; charset=utf-8")
        // Per person, and a sign-in as someone else must not reuse it.
        .header(header::CACHE_CONTROL, "private, no-cache")
        .body(css)
}
