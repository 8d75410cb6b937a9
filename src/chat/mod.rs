//! Chat: rooms, direct messages, messages, and the socket that pushes them.
//!
//! A message is stored first, then rendered once and handed to the [`hub::Hub`],
//! which puts the same bytes in the queue of every open socket of the room's members.

pub mod body;
pub mod bus;
pub mod feed;
pub mod hub;
pub mod limits;
pub mod messages;
mod pages;
mod people;
pub mod protocol;
pub mod read_marks;
pub mod rooms;
pub mod socket;
pub mod views;

use std::sync::Arc;

use poem::{Route, get, post};

use self::body::MessageBody;
use self::hub::{CloseReason, Hub};
use crate::AppState;
use crate::accounts::User;
use crate::error::{AppError, Result};
use crate::events::{Event, Events};

/// The chat's pages and its socket.
pub fn routes(route: Route) -> Route {
    route
        .at("/chat", get(pages::general))
        .at("/chat/:room", get(pages::show_room))
        .at("/chat/:room/messages", get(pages::older).post(pages::post_message))
        .at("/chat/:room/join", post(pages::join))
        .at("/chat/:room/leave", post(pages::leave))
        .at("/rooms", get(pages::browse).post(pages::create))
        .at("/people", get(people::list))
        .at("/people/:id", get(people::show))
        .at("/people/:id/message", post(people::message))
        .at("/ws", get(socket::upgrade))
}

/// What the chat does when others announce: a socket belongs to its session, so
/// when sessions end, their sockets close.
pub fn listen(events: &Events, hub: &Arc<Hub>) {
    let hub = hub.clone();
    events.subscribe(move |event| match event {
        Event::SessionsEnded(ids) => hub.close_sessions(ids, CloseReason::SignedOut),
    });
}

/// `user_id` joined `room_id`: their open sockets start receiving it.
pub async fn joined(state: &AppState, user_id: i64, room_id: i64) -> Result<()> {
    // The feed's starting point is read before the sockets subscribe (see feed.rs).
    let newest = rooms::newest(&state.db, room_id).await?;
    state.feed.subscribe(room_id, newest).await;
    state.hub.joined(user_id, room_id);
    Ok(())
}

/// `user_id` left `room_id`: nothing more from it reaches their open sockets, on
/// this instance and (through the bus) on the others.
pub async fn left(state: &AppState, user_id: i64, room_id: i64) {
    state.hub.left(user_id, room_id);
    bus::left(state, user_id, room_id).await;
}

/// Why a message was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Empty or too long; the text says which.
    Invalid(&'static str),
    TooFast,
    NotInRoom,
}

impl Refused {
    /// What the composer shows.
    pub fn message(self) -> &'static str {
        match self {
            Refused::Invalid(problem) => problem,
            Refused::TooFast => {
                "You are sending messages very quickly. Wait a moment and try again."
            }
            Refused::NotInRoom => "You are not in this room any more.",
        }
    }
}

/// Sends a message from `author` to `room_id`: checks it, stores it, delivers it.
/// The outer `Result` is for failures; the inner one is a problem to show the person.
pub async fn send(
    state: &AppState,
    author: &User,
    room_id: i64,
    input: &str,
) -> Result<Result<messages::Message, Refused>> {
    let body = match MessageBody::parse(input) {
        Ok(body) => body,
        Err(problem) => return Ok(Err(Refused::Invalid(problem))),
    };
    if state.limits.message_from(author.id).is_err() {
        return Ok(Err(Refused::TooFast));
    }
    // Stored and handed to the feed in a task of its own, so a client that
    // disconnects midway cannot leave a stored message undelivered.
    let (task_state, author) = (state.clone(), author.clone());
    let stored = tokio::spawn(async move {
        let message = messages::post(&task_state.db, room_id, &author, &body).await?;
        if let Some(message) = &message {
            metrics::counter!("hearth_messages_stored_total").increment(1);
            task_state.hub.stopped_typing(room_id, author.id);
            task_state.feed.stored(message.clone()).await;
        }
        Ok::<_, AppError>(message)
    })
    .await
    .map_err(|err| AppError::Internal(err.into()))??;
    Ok(stored.ok_or(Refused::NotInRoom))
}
