//! Who is in a room: starting one (its creator is its first member), opening a
//! conversation (two to eight people), adding someone to a room, and the room's
//! people page. A public room is open to anyone who
//! joins from the list; a private one only to whom its members add, and to
//! everyone else it does not exist (404 on page, API and socket; not listed).

use maud::html;
use poem::http::StatusCode;
use poem::web::{Data, Path, Redirect};
use poem::{IntoResponse, Response, handler};
use serde::Deserialize;

use super::body::RoomName;
use super::rooms::{self, MyRoom};
use crate::AppState;
use crate::accounts::{User, users};
use crate::error::{AppError, Result};
use crate::web::layout::page;
use crate::web::{CurrentUser, Form};

/// Why a room was not started, or someone not added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotDone {
    /// A bad name; the text says why.
    Invalid(&'static str),
    /// A bad topic; the text says why.
    InvalidTopic(&'static str),
    /// Too many rooms started lately; try again after this long.
    TooFast(std::time::Duration),
    /// The name's address is taken (by a room the person may not even see).
    NameTaken,
    /// A direct conversation is between its two people only.
    Direct,
    /// Only the room's creator or an administrator may do this.
    NotManager,
    /// `#general` is everyone's: nobody leaves it, nobody is taken out, it is never
    /// archived.
    Everyones,
}

impl NotDone {
    pub fn message(&self) -> String {
        match self {
            NotDone::Invalid(problem) | NotDone::InvalidTopic(problem) => (*problem).to_owned(),
            NotDone::TooFast(after) => super::limits::too_fast(*after),
            NotDone::NameTaken => {
                "There is already a room with that name (perhaps a private one). Pick another name."
                    .to_owned()
            }
            NotDone::Direct => "A direct conversation is between its two people only.".to_owned(),
            NotDone::NotManager => {
                "Only the room's creator or an administrator can do that.".to_owned()
            }
            NotDone::Everyones => {
                "#general is everyone's room: nobody leaves it and it cannot be archived."
                    .to_owned()
            }
        }
    }
}

/// Starts a room named `input` by `creator`, public or private; their open
/// sockets receive it at once.
pub async fn start(
    state: &AppState,
    creator: &User,
    input: &str,
    private: bool,
) -> Result<Result<MyRoom, NotDone>> {
    let name = match RoomName::parse(input) {
        Ok(name) => name,
        Err(problem) => return Ok(Err(NotDone::Invalid(problem))),
    };
    if let Err(retry_after) = state.chat_limits.room_started_by(creator.id) {
        return Ok(Err(NotDone::TooFast(retry_after)));
    }
    let Ok(slug) = rooms::create(&state.db, creator.id, &name, private).await? else {
        return Ok(Err(NotDone::NameTaken));
    };
    let room = rooms::find_mine(&state.db, creator.id, &slug).await?;
    let room = room.ok_or_else(|| AppError::Internal(anyhow::anyhow!("a new room vanished")))?;
    super::joined(state, creator.id, room.id).await?;
    Ok(Ok(room))
}

/// The most people a conversation holds; more is a room.
pub const MOST_IN_CONVERSATION: usize = 8;

/// Opens the conversation of `me` and `others` (one for a direct message, up to
/// seven for a group), creating it the first time (which counts as starting a
/// room); everyone's open sockets receive it at once. 404 for someone who is not
/// here (or deactivated).
pub async fn converse(
    state: &AppState,
    me: &User,
    others: &[i64],
) -> Result<Result<MyRoom, NotDone>> {
    let mut everyone: Vec<i64> = others.iter().copied().chain([me.id]).collect();
    everyone.sort_unstable();
    everyone.dedup();
    if everyone.len() < 2 {
        return Ok(Err(NotDone::Invalid("Pick someone to talk with.")));
    }
    if everyone.len() > MOST_IN_CONVERSATION {
        return Ok(Err(NotDone::Invalid(
            "A conversation has at most 8 people. For more, start a room (it can be private).",
        )));
    }
    for id in &everyone {
        let person = users::find_by_id(&state.db, *id).await?;
        if person.is_none_or(|p| p.deactivated_at.is_some()) {
            return Err(AppError::NotFound);
        }
    }
    let is_new = !rooms::exists(&state.db, &rooms::conversation_slug(&everyone)).await?;
    if is_new && let Err(retry_after) = state.chat_limits.room_started_by(me.id) {
        return Ok(Err(NotDone::TooFast(retry_after)));
    }
    let (slug, room_id) = rooms::conversation(&state.db, &everyone).await?;
    for id in &everyone {
        super::joined(state, *id, room_id).await?;
    }
    let room = rooms::find_mine(&state.db, me.id, &slug).await?;
    Ok(Ok(room.ok_or_else(|| AppError::Internal(anyhow::anyhow!("a new conversation vanished")))?))
}

/// Adds person `person_id` to `room` (of which the one asking is a member); their
/// open sockets receive it at once. `Ok(false)` if they were in it already; 404 for
/// someone who is not here (or deactivated).
pub async fn add(state: &AppState, room: &MyRoom, person_id: i64) -> Result<Result<bool, NotDone>> {
    if room.is_direct() {
        return Ok(Err(NotDone::Direct));
    }
    let person = users::find_by_id(&state.db, person_id).await?;
    if person.is_none_or(|p| p.deactivated_at.is_some()) {
        return Err(AppError::NotFound);
    }
    let added = rooms::add_member(&state.db, room.id, person_id).await?;
    if added {
        super::joined(state, person_id, room.id).await?;
    }
    Ok(Ok(added))
}

/// Takes `person_id` out of `room`: anyone may take themself out (but not of
/// `#general`), and the room's creator or an administrator anyone else. Nothing
/// more from the room reaches their open sockets, on any instance. `Ok(false)` if
/// they were not in it.
pub async fn remove(
    state: &AppState,
    by: &User,
    room: &MyRoom,
    person_id: i64,
) -> Result<Result<bool, NotDone>> {
    if room.is_direct() && person_id != by.id {
        return Ok(Err(NotDone::Direct));
    }
    if person_id != by.id && !super::settings::may_manage(by, room) {
        return Ok(Err(NotDone::NotManager));
    }
    if room.slug == "general" {
        return Ok(Err(NotDone::Everyones));
    }
    let removed = rooms::leave(&state.db, person_id, room.id).await?;
    if removed {
        super::left(state, person_id, room.id).await;
        if person_id != by.id {
            tracing::info!(target: "audit", by = by.id, room_id = room.id, person_id,
                "took someone out of a room");
        }
    }
    Ok(Ok(removed))
}

/// The room's people, and (but for direct conversations) a form to add someone.
#[handler]
pub async fn people(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(slug): Path<String>,
) -> Result<maud::Markup> {
    let room = rooms::find_mine(&state.db, user.id, &slug).await?.ok_or(AppError::NotFound)?;
    people_page(&state, &user, &room, Problem::None).await
}

/// What went wrong on the people page, shown where it was asked.
#[derive(Clone, Copy)]
enum Problem<'a> {
    None,
    Adding(&'a str),
    Removing(&'a str),
}

async fn people_page(
    state: &AppState,
    user: &User,
    room: &MyRoom,
    problem: Problem<'_>,
) -> Result<maud::Markup> {
    let (adding, removing) = match problem {
        Problem::None => (None, None),
        Problem::Adding(why) => (Some(why), None),
        Problem::Removing(why) => (None, Some(why)),
    };
    let members = rooms::members(&state.db, room.id).await?;
    let others: Vec<User> = users::all(&state.db)
        .await?
        .into_iter()
        .filter(|p| p.deactivated_at.is_none() && !members.iter().any(|(id, _)| *id == p.id))
        .collect();
    let title = format!("People in {}", room.title);
    Ok(page(
        &title,
        Some(user),
        html! {
            section.card {
                h1 { (title) }
                @if room.private { p.hint { "Private: only the people here can see this room." } }
                @if let Some(problem) = removing { p.error role="alert" { (problem) } }
                @let manager = super::settings::may_manage(user, room) && room.slug != "general";
                ul.people {
                    @for (id, name) in &members {
                        li {
                            a href=(format!("/people/{id}")) { (name) }
                            @if manager && *id != user.id {
                                form.inline method="post" action=(format!("/chat/{}/members/{id}/remove", room.slug)) {
                                    button.secondary.small type="submit" {
                                        "Remove" span.visually-hidden { " " (name) }
                                    }
                                }
                            }
                        }
                    }
                }
                @if !room.is_direct() && !others.is_empty() {
                    form method="post" action=(format!("/chat/{}/members", room.slug)) {
                        label for="add-person" { "Add someone" }
                        select id="add-person" name="user_id" aria-invalid=[adding.map(|_| "true")] {
                            @for p in &others { option value=(p.id) { (p.name) } }
                        }
                        @if let Some(problem) = adding { p.error role="alert" { (problem) } }
                        button.primary type="submit" { "Add to " (room.title) }
                    }
                }
                p { a href=(format!("/chat/{}", room.slug)) { "Back to the room" } }
            }
        },
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AddForm {
    user_id: String,
}

/// Adds someone from the people page: 303 back to it.
#[handler]
pub async fn add_person(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(slug): Path<String>,
    Form(input): Form<AddForm>,
) -> Result<Response> {
    let room = rooms::find_mine(&state.db, user.id, &slug).await?.ok_or(AppError::NotFound)?;
    let Ok(person_id) = input.user_id.trim().parse::<i64>() else {
        let page =
            people_page(&state, &user, &room, Problem::Adding("Pick someone to add.")).await?;
        return Ok(page.with_status(StatusCode::UNPROCESSABLE_ENTITY).into_response());
    };
    if let Err(not_done) = add(&state, &room, person_id).await? {
        let page = people_page(&state, &user, &room, Problem::Adding(&not_done.message())).await?;
        return Ok(page.with_status(StatusCode::UNPROCESSABLE_ENTITY).into_response());
    }
    Ok(Redirect::see_other(format!("/chat/{slug}/people")).into_response())
}

/// Takes someone out from the people page (the room's creator or an
/// administrator): 303 back to it, or the page with why not.
#[handler]
pub async fn remove_person(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path((slug, person_id)): Path<(String, i64)>,
) -> Result<Response> {
    let room = rooms::find_mine(&state.db, user.id, &slug).await?.ok_or(AppError::NotFound)?;
    if let Err(not_done) = remove(&state, &user, &room, person_id).await? {
        let page =
            people_page(&state, &user, &room, Problem::Removing(&not_done.message())).await?;
        return Ok(page.with_status(StatusCode::FORBIDDEN).into_response());
    }
    Ok(Redirect::see_other(format!("/chat/{slug}/people")).into_response())
}
