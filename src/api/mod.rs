//! The JSON API, for programs (bots, scripts, a CLI) as much as for the page. The
//! same sessions as the pages, or a personal access token (`Authorization: Bearer`);
//! the same membership rules and validation; the same cross-site checks. Errors are
//! JSON: `{"error": "...", "detail": "..."}` (see [`crate::web::errors`]).
//! `GET /api/openapi.json` describes it.

use poem::http::{StatusCode, header};
use poem::web::{Data, Json, Path, Query};
use poem::{IntoResponse, Response, Route, delete, get, handler, patch, post, put};
use serde::{Deserialize, Serialize};

use std::time::Duration;

use crate::AppState;
use crate::accounts::User;
use crate::chat::Refused;
use crate::chat::membership::{self, NotDone};
use crate::chat::messages::{self, Message};
use crate::chat::reactions::Want;
use crate::chat::rooms::{self, MyRoom, RoomKind};
use crate::error::{AppError, Result};
use crate::web::CurrentUser;
use crate::web::form::JsonBody;

pub fn routes(route: Route) -> Route {
    route
        .at("/api/me", get(me))
        .at("/api/rooms", get(my_rooms).post(start_room))
        .at("/api/rooms/:room/members", post(add_member))
        .at("/api/rooms/:room/members/:id", delete(remove_member))
        .at("/api/people", get(people))
        .at("/api/conversations", post(converse))
        .at("/api/rooms/:room/messages", get(history).post(post_message))
        .at("/api/rooms/:room/messages/:seq", patch(edit_message).delete(delete_message))
        .at(
            "/api/rooms/:room/messages/:seq/reactions/:emoji",
            put(add_reaction).delete(remove_reaction),
        )
        .at("/api/openapi.json", get(openapi))
}

#[derive(Serialize)]
struct Me {
    id: i64,
    name: String,
    email: String,
    /// `null` when the person has no picture (pages then show their initials).
    avatar_url: Option<String>,
}

#[handler]
async fn me(CurrentUser(user): CurrentUser) -> Json<Me> {
    Json(Me { id: user.id, name: user.name, email: user.email, avatar_url: user.avatar_url })
}

/// Someone with an account here, as `GET /api/people` lists them.
#[derive(Serialize)]
struct PersonOut {
    id: i64,
    name: String,
    avatar_url: Option<String>,
}

/// Everyone here (not deactivated), by name: whom a program can message or mention.
#[handler]
async fn people(
    state: Data<&AppState>,
    CurrentUser(_): CurrentUser,
) -> Result<Json<Vec<PersonOut>>> {
    let people = crate::accounts::users::all(&state.db).await?;
    Ok(Json(
        people
            .into_iter()
            .filter(|p| p.deactivated_at.is_none())
            .map(|p| PersonOut { id: p.id, name: p.name, avatar_url: p.avatar_url })
            .collect(),
    ))
}

#[derive(Serialize)]
struct RoomOut {
    slug: String,
    title: String,
    kind: RoomKind,
    unread: i64,
    /// Unread messages that mention the one asking.
    mentions: i64,
    /// Only its members know it exists.
    private: bool,
}

impl From<&MyRoom> for RoomOut {
    fn from(r: &MyRoom) -> Self {
        RoomOut {
            slug: r.slug.clone(),
            title: r.title.clone(),
            kind: r.kind,
            unread: r.unread(),
            mentions: r.mentions,
            private: r.private,
        }
    }
}

#[handler]
async fn my_rooms(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<Vec<RoomOut>>> {
    let rooms = rooms::mine(&state.db, user.id).await?;
    Ok(Json(rooms.iter().map(RoomOut::from).collect()))
}

/// The body of `POST /api/rooms`.
#[derive(Deserialize)]
struct NewRoom {
    name: String,
    #[serde(default)]
    private: bool,
}

/// Starts a room, public or private, with the one asking as its first member.
#[handler]
async fn start_room(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    JsonBody(input): JsonBody<NewRoom>,
) -> Result<Response> {
    match membership::start(&state, &user, &input.name, input.private).await? {
        Ok(room) => Ok(Json(RoomOut::from(&room)).with_status(StatusCode::CREATED).into_response()),
        Err(NotDone::Invalid(problem)) => Err(AppError::Unprocessable(problem)),
        Err(NotDone::TooFast(retry_after)) => Err(AppError::RateLimited { retry_after }),
        Err(NotDone::NameTaken) => {
            Err(AppError::Conflict("There is already a room with that name."))
        }
        Err(NotDone::Direct) => Err(AppError::Unprocessable("Not a room.")),
    }
}

/// The body of `POST /api/conversations`: the others in it (one to seven).
#[derive(Deserialize)]
struct NewConversation {
    user_ids: Vec<i64>,
}

/// Opens the conversation of the one asking and these people (created the first
/// time), named by its members.
#[handler]
async fn converse(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    JsonBody(input): JsonBody<NewConversation>,
) -> Result<Response> {
    match membership::converse(&state, &user, &input.user_ids).await? {
        Ok(room) => Ok(Json(RoomOut::from(&room)).with_status(StatusCode::CREATED).into_response()),
        Err(NotDone::TooFast(retry_after)) => Err(AppError::RateLimited { retry_after }),
        Err(NotDone::Invalid(problem)) => Err(AppError::Unprocessable(problem)),
        Err(_) => Err(AppError::Unprocessable("Not a conversation.")),
    }
}

/// The body of `POST /api/rooms/{room}/members`.
#[derive(Deserialize)]
struct NewMember {
    user_id: i64,
}

/// Adds someone to a room one is in (for a private room, the only way in).
#[handler]
async fn add_member(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(slug): Path<String>,
    JsonBody(input): JsonBody<NewMember>,
) -> Result<StatusCode> {
    let room = rooms::find_mine(&state.db, user.id, &slug).await?.ok_or(AppError::NotFound)?;
    match membership::add(&state, &room, input.user_id).await? {
        Ok(_) => Ok(StatusCode::NO_CONTENT),
        Err(_) => {
            Err(AppError::Unprocessable("A direct conversation is between its two people only."))
        }
    }
}

/// Leaves a room: one may take only oneself out (and nobody leaves #general).
#[handler]
async fn remove_member(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path((slug, id)): Path<(String, i64)>,
) -> Result<StatusCode> {
    let room = rooms::find_mine(&state.db, user.id, &slug).await?.ok_or(AppError::NotFound)?;
    if id != user.id {
        return Err(AppError::Forbidden("You can take only yourself out of a room."));
    }
    if !rooms::leave(&state.db, user.id, room.id).await? {
        return Err(AppError::Forbidden("Everyone is in #general; it cannot be left."));
    }
    crate::chat::left(&state, user.id, room.id).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
struct MessageOut {
    id: i64,
    seq: i64,
    author: Author,
    body: String,
    /// Unix seconds.
    created_at: i64,
    /// Unix seconds of the last edit; `null` if never edited.
    edited_at: Option<i64>,
    /// In the order they were first added.
    reactions: Vec<ReactionOut>,
    /// Whom it mentions (user ids).
    mentions: Vec<i64>,
}

#[derive(Serialize)]
struct Author {
    id: i64,
    name: String,
}

/// A reaction as the API lists it.
#[derive(Serialize)]
struct ReactionOut {
    emoji: String,
    count: usize,
    /// Whether the one asking is among those who reacted.
    mine: bool,
}

impl MessageOut {
    /// `m` as `viewer` sees it (`mine` on reactions is theirs).
    fn new(m: Message, viewer: &User) -> Self {
        let reactions = m
            .reactions
            .into_iter()
            .map(|r| ReactionOut {
                count: r.people.len(),
                mine: r.people.iter().any(|(id, _)| *id == viewer.id),
                emoji: r.emoji,
            })
            .collect();
        MessageOut {
            id: m.id,
            seq: m.seq,
            author: Author { id: m.user_id, name: m.author_name },
            body: m.body,
            created_at: m.created_at,
            edited_at: m.edited_at,
            reactions,
            mentions: m.mentions.iter().map(|(id, _)| *id).collect(),
        }
    }
}

#[derive(Deserialize)]
struct Page {
    before: Option<i64>,
    limit: Option<i64>,
}

/// Messages of a room, oldest first: the newest page, or those before `before`.
#[handler]
async fn history(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(slug): Path<String>,
    Query(page): Query<Page>,
) -> Result<Json<Vec<MessageOut>>> {
    let limit = page.limit.unwrap_or(messages::PAGE);
    if !(1..=200).contains(&limit) {
        return Err(AppError::Unprocessable("limit must be between 1 and 200"));
    }
    let room = rooms::find_mine(&state.db, user.id, &slug).await?.ok_or(AppError::NotFound)?;
    let found =
        messages::before_limit(&state.db, room.id, page.before.unwrap_or(i64::MAX), limit).await?;
    Ok(Json(found.into_iter().map(|m| MessageOut::new(m, &user)).collect()))
}

/// The body of `POST /api/rooms/{slug}/messages`, and of `PATCH` on one of them.
#[derive(Deserialize)]
pub struct NewMessage {
    pub body: String,
}

/// Posts a message; it appears live in every browser in the room.
#[handler]
async fn post_message(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(slug): Path<String>,
    JsonBody(input): JsonBody<NewMessage>,
) -> Result<Response> {
    let room = rooms::find_mine(&state.db, user.id, &slug).await?.ok_or(AppError::NotFound)?;
    match crate::chat::send(&state, &user, room.id, &input.body).await? {
        Ok(message) => Ok(Json(MessageOut::new(message, &user))
            .with_status(StatusCode::CREATED)
            .into_response()),
        Err(refused) => Err(refused_error(refused)),
    }
}

/// A refused message, edit or deletion as an API error.
fn refused_error(refused: Refused) -> AppError {
    match refused {
        Refused::Invalid(problem) => AppError::Unprocessable(problem),
        Refused::TooFast => AppError::RateLimited { retry_after: Duration::from_secs(1) },
        Refused::NotInRoom | Refused::Gone => AppError::NotFound,
        Refused::NotYours => AppError::Forbidden(Refused::NotYours.message()),
        Refused::NotAnEmoji(problem) => AppError::Unprocessable(problem),
        Refused::Full => AppError::Conflict(Refused::Full.message()),
    }
}

/// Replaces the text of one's own message; every open page shows the new text.
#[handler]
async fn edit_message(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path((slug, seq)): Path<(String, i64)>,
    JsonBody(input): JsonBody<NewMessage>,
) -> Result<Json<MessageOut>> {
    let room = rooms::find_mine(&state.db, user.id, &slug).await?.ok_or(AppError::NotFound)?;
    let edited = crate::chat::edit(&state, &user, room.id, seq, &input.body).await?;
    Ok(Json(MessageOut::new(edited.map_err(refused_error)?, &user)))
}

/// Deletes a message for everyone: one's own, or anyone's for an administrator.
#[handler]
async fn delete_message(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path((slug, seq)): Path<(String, i64)>,
) -> Result<StatusCode> {
    let room = rooms::find_mine(&state.db, user.id, &slug).await?.ok_or(AppError::NotFound)?;
    crate::chat::delete(&state, &user, room.id, seq).await?.map_err(refused_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Puts one's reaction on a message (nothing changes if it is there already).
#[handler]
async fn add_reaction(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path((slug, seq, emoji)): Path<(String, i64, String)>,
) -> Result<StatusCode> {
    react(&state, &user, &slug, seq, &emoji, Want::On).await
}

/// Takes one's reaction off a message (nothing changes if it is not there).
#[handler]
async fn remove_reaction(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path((slug, seq, emoji)): Path<(String, i64, String)>,
) -> Result<StatusCode> {
    react(&state, &user, &slug, seq, &emoji, Want::Off).await
}

async fn react(
    state: &AppState,
    user: &User,
    slug: &str,
    seq: i64,
    emoji: &str,
    want: Want,
) -> Result<StatusCode> {
    let room = rooms::find_mine(&state.db, user.id, slug).await?.ok_or(AppError::NotFound)?;
    crate::chat::react(state, user, room.id, seq, emoji, want).await?.map_err(refused_error)?;
    Ok(StatusCode::NO_CONTENT)
}

#[handler]
fn openapi() -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .body(include_str!("openapi.json"))
}
