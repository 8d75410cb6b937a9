//! The chat pages: a room with its history and composer, older messages, posting
//! without JavaScript, and browsing, creating, joining and leaving rooms.

use maud::html;
use poem::http::StatusCode;
use poem::web::{Data, Json, Path, Query, Redirect};
use poem::{IntoResponse, Request, Response, handler};
use serde::{Deserialize, Serialize};

use super::membership::NotDone;
use super::rooms::{self, MyRoom};
use super::views::{self, Composer, Oob, RoomPage};
use super::{limits, messages};
use crate::AppState;
use crate::accounts::User;
use crate::error::{AppError, Result};
use crate::files::{
    self,
    upload::{self, Sent, WithFiles},
};
use crate::web::layout::{Field, page};
use crate::web::{CurrentUser, Form};

#[handler]
pub async fn general(state: Data<&AppState>, CurrentUser(user): CurrentUser) -> Result<Response> {
    show(&state, &user, "general", Composer::default(), StatusCode::OK).await
}

#[handler]
pub async fn show_room(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(slug): Path<String>,
) -> Result<Response> {
    show(&state, &user, &slug, Composer::default(), StatusCode::OK).await
}

async fn show(
    state: &AppState,
    user: &User,
    slug: &str,
    composer: Composer<'_>,
    status: StatusCode,
) -> Result<Response> {
    let room = member_of(state, user, slug).await?;
    let (recent, position) = messages::latest_with_position(&state.db, room.id).await?;
    let rooms = rooms::mine(&state.db, user.id).await?;
    if let Some(newest) = recent.last() {
        super::read_marks::mark_read(&state.db, user.id, room.id, newest.seq).await?;
    }
    let page = views::room_page(&RoomPage {
        viewer: user,
        rooms: &rooms,
        room: &room,
        messages: &recent,
        position,
        last_read: room.last_read_seq,
        composer,
        attachment_max_mb: state.config.attachment_max_mb,
    });
    Ok(page.with_status(status).into_response())
}

/// The room if `user` is in it; otherwise 404, the same as a room that does not exist.
async fn member_of(state: &AppState, user: &User, slug: &str) -> Result<MyRoom> {
    rooms::find_mine(&state.db, user.id, slug).await?.ok_or(AppError::NotFound)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MessageForm {
    body: String,
}

/// Posting without JavaScript: 303 back to the room, or the room with the problem
/// in the composer. (With JavaScript the composer goes over the socket, or, with
/// files, here with htmx's header, answered with the composer.) A refused message
/// loses nothing: its text is put back, and its files stay uploaded, ticked in the
/// composer to send with the next try.
#[handler]
pub async fn post_message(
    req: &Request,
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(slug): Path<String>,
    input: WithFiles<Form<MessageForm>>,
) -> Result<Response> {
    let room = member_of(&state, &user, &slug).await?;
    let sent = match input {
        WithFiles::No(Form(form)) => Sent { body: form.body, ..Sent::default() },
        WithFiles::Yes(form) => upload::receive(&state, user.id, room.id, form).await?,
    };
    let max_mb = state.config.attachment_max_mb;
    let problem: Option<(String, StatusCode)> = match sent.refused {
        Some(too_much) => {
            let error = too_much.error(max_mb);
            Some((error.message(), poem::error::ResponseError::status(&error)))
        }
        None => match super::send(&state, &user, room.id, &sent.body, &sent.files).await? {
            Ok(_) => None,
            Err(refused) => Some((refused.message().to_owned(), StatusCode::UNPROCESSABLE_ENTITY)),
        },
    };
    let htmx = req.header("hx-request").is_some();
    let Some((problem, status)) = problem else {
        if htmx {
            let composer = views::composer(&slug, &room.title, &Composer::default(), Oob::No);
            return Ok(composer.into_response());
        }
        return Ok(Redirect::see_other(format!("/chat/{slug}")).into_response());
    };
    let kept = files::unclaimed(&state.db, user.id, room.id, &sent.files).await?;
    let composer = Composer { body: &sent.body, problem: Some(&problem), kept: &kept };
    if htmx {
        let composer = views::composer(&slug, &room.title, &composer, Oob::No);
        return Ok(composer.with_status(status).into_response());
    }
    show(&state, &user, &slug, composer, status).await
}

/// Who can be mentioned in the room, for the composer's suggestions (JSON: `[{"id",
/// "name"}]`); 404 to non-members, as for the room.
#[handler]
pub async fn members(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(slug): Path<String>,
) -> Result<Json<Vec<Member>>> {
    let room = member_of(&state, &user, &slug).await?;
    let people = rooms::members(&state.db, room.id).await?;
    Ok(Json(people.into_iter().map(|(id, name)| Member { id, name }).collect()))
}

#[derive(Serialize)]
pub struct Member {
    id: i64,
    name: String,
}

#[derive(Deserialize)]
pub struct Before {
    /// Missing when someone lands here by a plain GET (after signing in again, say).
    before: Option<i64>,
    /// A message to show with what was said around it (from a search result).
    around: Option<i64>,
}

/// How many messages are shown on each side of one looked for.
const AROUND: i64 = 20;

/// Older messages: a fragment for htmx, a page of its own without JavaScript. With
/// `around`, the page of what was said around one message (where a search result
/// leads), that message marked.
#[handler]
pub async fn older(
    req: &Request,
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(slug): Path<String>,
    Query(Before { before, around }): Query<Before>,
) -> Result<Response> {
    let room = member_of(&state, &user, &slug).await?;
    if let Some(seq) = around {
        let shown = messages::around(&state.db, room.id, seq, AROUND).await?;
        let title = format!("In {}", room.title);
        return Ok(history_page(&user, &room, &title, &shown, Some(seq)).into_response());
    }
    let Some(before) = before else {
        return Ok(Redirect::see_other(format!("/chat/{slug}")).into_response());
    };
    let older = messages::before(&state.db, room.id, before).await?;
    if req.header("hx-request").is_some() {
        return Ok(views::history_fragment(&slug, &older).into_response());
    }
    let title = format!("Earlier in {}", room.title);
    Ok(history_page(&user, &room, &title, &older, None).into_response())
}

/// A stretch of a room's history on a page of its own; around a `marked` message,
/// the link to it (`#m-{seq}`) singles it out (see `:target` in the stylesheet).
fn history_page(
    user: &User,
    room: &MyRoom,
    title: &str,
    shown: &[messages::Message],
    marked: Option<i64>,
) -> maud::Markup {
    let slug = &room.slug;
    page(
        title,
        Some(user),
        html! {
            section.card {
                h1 { (title) }
                div.messages.standalone {
                    // Around a message, what came before is a click away as well.
                    @if let (Some(_), Some(first)) = (marked, shown.first()) {
                        @if first.seq > 1 { (views::older_link(slug, first.seq)) }
                    }
                    (views::history_fragment(slug, shown))
                    @if shown.is_empty() { p.empty { "Nothing here." } }
                }
                p { a href=(format!("/chat/{slug}")) { "Back to the latest messages" } }
            }
        },
    )
}

#[handler]
pub async fn join(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(slug): Path<String>,
) -> Result<Redirect> {
    let room_id = rooms::join(&state.db, user.id, &slug).await?.ok_or(AppError::NotFound)?;
    super::joined(&state, user.id, room_id).await?;
    Ok(Redirect::see_other(format!("/chat/{slug}")))
}

#[handler]
pub async fn leave(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(slug): Path<String>,
) -> Result<Redirect> {
    let room = member_of(&state, &user, &slug).await?;
    // #general cannot be left: back to it, as after leaving.
    let _ = super::membership::remove(&state, &user, &room, user.id).await?;
    Ok(Redirect::see_other("/chat"))
}

#[handler]
pub async fn browse(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<maud::Markup> {
    rooms_page(&state, &user, "", None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewRoom {
    name: String,
    /// The "private" checkbox: present when ticked.
    private: Option<String>,
}

#[handler]
pub async fn create(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Form(input): Form<NewRoom>,
) -> Result<Response> {
    let private = input.private.is_some();
    match super::membership::start(&state, &user, &input.name, private).await? {
        Ok(room) => Ok(Redirect::see_other(format!("/chat/{}", room.slug)).into_response()),
        Err(not_done) => {
            let page = rooms_page(&state, &user, &input.name, Some(&not_done.message())).await?;
            Ok(match not_done {
                NotDone::TooFast(retry_after) => limits::refused(page, retry_after),
                NotDone::NameTaken => page.with_status(StatusCode::CONFLICT).into_response(),
                _ => page.with_status(StatusCode::UNPROCESSABLE_ENTITY).into_response(),
            })
        }
    }
}

async fn rooms_page(
    state: &AppState,
    user: &User,
    typed: &str,
    problem: Option<&str>,
) -> Result<maud::Markup> {
    let rooms = rooms::public(&state.db, user.id).await?;
    let (archived, open): (Vec<_>, Vec<_>) = rooms.iter().partition(|r| r.archived);
    Ok(page(
        "Rooms",
        Some(user),
        html! {
            section.card {
                h1 { "Rooms" }
                (room_list(&open))
                @if !archived.is_empty() {
                    h2 { "Archived" }
                    p.hint { "Read-only: their history stays." }
                    (room_list(&archived))
                }
            }
            section.card.narrow-left {
                h2 { "Create a room" }
                form method="post" action="/rooms" {
                    (Field { label: "Room name", name: "name", kind: "text", value: typed, error: problem,
                        autocomplete: "off", hint: Some("Anyone can find and join it, unless it is private.") }.render())
                    div.check {
                        input id="room-private" type="checkbox" name="private" value="on";
                        label for="room-private" { "Private: only the people you add can see it" }
                    }
                    button.primary type="submit" { "Create room" }
                }
            }
        },
    ))
}

fn room_list(rooms: &[&rooms::PublicRoom]) -> maud::Markup {
    html! {
        ul.room-list {
            @for r in rooms {
                li {
                    div {
                        @if r.joined {
                            a.room-name href=(format!("/chat/{}", r.slug)) { "#" (r.name) }
                        } @else {
                            span.room-name { "#" (r.name) }
                        }
                        @if r.private { " " span.tag { "Private" } }
                        span.hint { " " (r.members) @if r.members == 1 { " member" } @else { " members" } }
                        @if !r.topic.is_empty() { p.hint.topic { (r.topic) } }
                    }
                    @if r.joined {
                        span.badge { "Joined" }
                    } @else {
                        form method="post" action=(format!("/chat/{}/join", r.slug)) {
                            button.secondary.small type="submit" { "Join " span.visually-hidden { (r.name) } }
                        }
                    }
                }
            }
        }
    }
}
