//! Rooms in the API: listing one's rooms, starting a room or a conversation,
//! changing a room's settings, and who is in it.

use poem::http::StatusCode;
use poem::web::{Data, Json, Path};
use poem::{IntoResponse, Response, handler};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::chat::membership::{self, NotDone};
use crate::chat::notifications::{self, Level};
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
        Err(not_done) => Err(refused(not_done)),
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
        Err(not_done) => Err(refused(not_done)),
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
        Err(not_done) => Err(refused(not_done)),
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
        Err(not_done) => Err(refused(not_done)),
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
    settings::change(&state, &user, &room, changes).await?.map_err(refused)?;
    let room = rooms::find_mine(&state.db, user.id, &slug).await?.ok_or(AppError::NotFound)?;
    Ok(Json(RoomOut::from(&room)))
}

/// Why a room operation was not done, as an API error.
fn refused(not_done: NotDone) -> AppError {
    match not_done {
        NotDone::Invalid(problem) | NotDone::InvalidTopic(problem) => {
            AppError::Unprocessable(problem)
        }
        NotDone::TooFast(retry_after) => AppError::RateLimited { retry_after },
        NotDone::NameTaken => AppError::Conflict("There is already a room with that name."),
        NotDone::Direct => AppError::Unprocessable(
            "A conversation is exactly its people: nobody is added, and each takes only \
             themself out.",
        ),
        NotDone::NotManager => {
            AppError::Forbidden("Only the room's creator or an administrator can do that.")
        }
        NotDone::Everyones => AppError::Forbidden(
            "#general is everyone's room: nobody leaves it and it cannot be archived.",
        ),
    }
}

/// A notification level, as the API reads and writes it.
#[derive(Serialize, Deserialize)]
struct LevelJson {
    level: Level,
}

/// `GET /api/rooms/{room}/notifications`.
#[handler]
pub(super) async fn notification_level(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(slug): Path<String>,
) -> Result<Json<LevelJson>> {
    let room = rooms::find_mine(&state.db, user.id, &slug).await?.ok_or(AppError::NotFound)?;
    Ok(Json(LevelJson { level: notifications::of(&state.db, user.id, &room).await? }))
}

/// `PUT /api/rooms/{room}/notifications` with `{"level": …}`.
#[handler]
pub(super) async fn choose_notifications(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(slug): Path<String>,
    JsonBody(input): JsonBody<LevelJson>,
) -> Result<Response> {
    let room = rooms::find_mine(&state.db, user.id, &slug).await?.ok_or(AppError::NotFound)?;
    notifications::set(&state.db, user.id, &room, input.level).await?;
    Ok(Json(LevelJson { level: input.level }).into_response())
}
