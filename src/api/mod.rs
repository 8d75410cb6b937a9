//! The JSON API, for programs (bots, scripts, a CLI) as much as for the page. The
//! same sessions as the pages, or a personal access token (`Authorization: Bearer`);
//! the same membership rules and validation; the same cross-site checks. Errors are
//! JSON: `{"error": "...", "detail": "..."}` (see [`crate::web::errors`]).
//! `GET /api/openapi.json` describes it.

//!
//! Rooms are in `rooms`, messages in `messages`; both call the chat's owners of
//! each operation, as the pages do.

mod messages;
mod rooms;

use poem::http::header;
use poem::web::{Data, Json};
use poem::{Response, Route, delete, get, handler, patch, post, put};
use serde::Serialize;

use self::messages::{
    add_reaction, delete_message, edit_message, history, post_message, remove_reaction,
};
use self::rooms::{
    add_member, change_room, choose_notifications, converse, my_rooms, notification_level,
    remove_member, start_room,
};
use crate::AppState;
use crate::error::Result;
use crate::web::CurrentUser;

pub fn routes(route: Route) -> Route {
    route
        .at("/api/me", get(me))
        .at("/api/rooms", get(my_rooms).post(start_room))
        .at("/api/rooms/:room", patch(change_room))
        .at("/api/rooms/:room/members", post(add_member))
        .at("/api/rooms/:room/notifications", get(notification_level).put(choose_notifications))
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
    /// A bot (see `/admin`): a program that answers mentions and conversations.
    bot: bool,
}

/// Everyone here (not deactivated), by name: whom a program can message or mention.
#[handler]
async fn people(
    state: Data<&AppState>,
    CurrentUser(_): CurrentUser,
) -> Result<Json<Vec<PersonOut>>> {
    let people = crate::accounts::users::all(&state.db).await?;
    let bots = crate::bots::store::ids(&state.db).await?;
    Ok(Json(
        people
            .into_iter()
            .filter(|p| p.deactivated_at.is_none())
            .map(|p| PersonOut {
                bot: bots.contains(&p.id),
                id: p.id,
                name: p.name,
                avatar_url: p.avatar_url,
            })
            .collect(),
    ))
}

#[handler]
fn openapi() -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .body(include_str!("openapi.json"))
}
