//! Rooms in the API: listing one's rooms, starting a room or a conversation,
//! changing a room's settings, and who is in it.

use poem::http::StatusCode;
use poem::web::{Data, Json, Path};
use poem::{IntoResponse, Response, handler};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::chat::membership::{self, NotDone};
use crate::chat::rooms::{self, MyRoom, RoomKind};
use crate::chat::settings::{self, Changes};
use crate::error::{AppError, Result};
use crate::web::CurrentUser;
use crate::web::form::JsonBody;

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
    /// What the room is for; empty when not said.
    topic: String,
    /// Read-only (see `PATCH /api/rooms/{room}`).
    archived: bool,
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
            topic: r.topic.clone(),
            archived: r.archived,
        }
    }
}

#[handler]
pub(super) async fn my_rooms(
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
pub(super) async fn start_room(
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
        Err(_) => Err(AppError::Unprocessable("Not a room.")),
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
pub(super) async fn converse(
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
pub(super) async fn add_member(
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

/// Takes someone out of a room: oneself (anyone, but nobody leaves #general), or
/// another person (the room's creator or an administrator).
#[handler]
pub(super) async fn remove_member(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path((slug, id)): Path<(String, i64)>,
) -> Result<StatusCode> {
    let room = rooms::find_mine(&state.db, user.id, &slug).await?.ok_or(AppError::NotFound)?;
    match membership::remove(&state, &user, &room, id).await? {
        Ok(true) => Ok(StatusCode::NO_CONTENT),
        Ok(false) => Err(AppError::NotFound),
        Err(NotDone::Everyones) => {
            Err(AppError::Forbidden("Everyone is in #general; nobody can be taken out of it."))
        }
        Err(NotDone::Direct) => {
            Err(AppError::Forbidden("A conversation's people can only take themselves out."))
        }
        Err(_) => Err(AppError::Forbidden(
            "Only the room's creator or an administrator can take others out of it.",
        )),
    }
}

/// The body of `PATCH /api/rooms/{room}`: what to change (absent fields stay).
#[derive(Deserialize)]
pub(super) struct RoomChanges {
    name: Option<String>,
    topic: Option<String>,
    archived: Option<bool>,
}

/// Renames a room, sets its topic, archives it or brings it back (its creator or
/// an administrator); every open page of the room shows it at once. 200, the room.
#[handler]
pub(super) async fn change_room(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(slug): Path<String>,
    JsonBody(input): JsonBody<RoomChanges>,
) -> Result<Json<RoomOut>> {
    let room = rooms::find_mine(&state.db, user.id, &slug).await?.ok_or(AppError::NotFound)?;
    let changes = Changes {
        name: input.name.as_deref(),
        topic: input.topic.as_deref(),
        archived: input.archived,
    };
    match settings::change(&state, &user, &room, changes).await? {
        Ok(()) => {}
        Err(NotDone::Invalid(problem) | NotDone::InvalidTopic(problem)) => {
            return Err(AppError::Unprocessable(problem));
        }
        Err(NotDone::NameTaken) => {
            return Err(AppError::Conflict("There is already a room with that name."));
        }
        Err(NotDone::Everyones) => {
            return Err(AppError::Forbidden("#general is everyone's; it cannot be archived."));
        }
        Err(_) => {
            return Err(AppError::Forbidden(
                "Only the room's creator or an administrator can change its settings.",
            ));
        }
    }
    let room = rooms::find_mine(&state.db, user.id, &slug).await?.ok_or(AppError::NotFound)?;
    Ok(Json(RoomOut::from(&room)))
}
