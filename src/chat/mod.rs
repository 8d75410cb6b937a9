//! Chat: rooms, direct messages, messages, and the socket that pushes them.
//!
//! A message is stored first, then rendered once and handed to the [`hub::Hub`],
//! which puts the same bytes in the queue of every open socket of the room's members.

pub mod body;
pub mod hub;
pub mod messages;
mod pages;
mod people;
pub mod rooms;
mod socket;
pub mod views;

use std::sync::Arc;

use poem::{Route, get, post};

use self::body::MessageBody;
use self::hub::Delivery;
use crate::AppState;
use crate::accounts::User;
use crate::error::{AppError, Result};

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

/// Sends a message from `author` to `room_id`: checks it, stores it, delivers it.
/// The outer `Result` is for failures; the inner one is a problem to show the person.
pub async fn send(
    state: &AppState,
    author: &User,
    room_id: i64,
    input: &str,
) -> Result<Result<(), &'static str>> {
    let body = match MessageBody::parse(input) {
        Ok(body) => body,
        Err(problem) => return Ok(Err(problem)),
    };
    if state.limits.message_from(author.id).is_err() {
        return Ok(Err("You are sending messages very quickly. Wait a moment and try again."));
    }
    // Stored and delivered in a task of its own, so a client that disconnects midway
    // cannot leave a stored message undelivered. The room's turn keeps delivery in
    // the stored order when several people send at once.
    let (task_state, author) = (state.clone(), author.clone());
    let stored = tokio::spawn(async move {
        let turn = task_state.hub.sending_turn(room_id);
        let _turn = turn.lock().await;
        let message = messages::post(&task_state.db, room_id, &author, &body).await?;
        if let Some(m) = &message {
            metrics::counter!("hearth_messages_stored_total").increment(1);
            task_state.hub.stopped_typing(room_id, author.id);
            task_state.hub.deliver(Arc::new(Delivery {
                room_id,
                seq: m.seq,
                author_id: m.user_id,
                html: views::delivery_html(m).into(),
            }));
        }
        Ok::<_, AppError>(message.is_some())
    })
    .await
    .map_err(|err| AppError::Internal(err.into()))??;
    Ok(if stored { Ok(()) } else { Err("You are not in this room any more.") })
}
