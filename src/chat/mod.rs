//! Chat: rooms, direct messages, messages, and the socket that pushes them.
//!
//! A message is stored first, then rendered once and handed to the [`hub::Hub`],
//! which writes the same bytes into every open socket of the room's members (or
//! queues them for the socket's task when it cannot take them at once).
//! Edits and deletions travel the same way, as numbered changes (see [`changes`]).
//!
//! The operations people do on messages ([`send`], [`edit`], [`delete`], [`react`],
//! [`joined`], [`left`]) are here, one owner each, so pages, the socket and the API
//! all go through them; who is in a room is [`membership`]'s, and a room's name,
//! topic and archiving are [`settings`]'s.

pub mod body;
pub mod bus;
pub mod changes;
mod editing;
pub mod feed;
mod format;
pub mod hub;
pub mod limits;
pub mod membership;
pub mod mentions;
pub mod messages;
pub mod missed;
pub mod notifications;
mod pages;
mod people;
pub mod protocol;
mod reacting;
pub mod reactions;
pub mod read_marks;
pub mod rooms;
pub mod settings;
pub mod socket;
pub mod views;

use std::sync::Arc;

use poem::{Route, get, post};

use self::body::MessageBody;
use self::changes::{Actor, Change, NotAllowed};
use self::hub::{CloseReason, Hub};
use self::reactions::{Emoji, Want};
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
        .at("/messages/:id", get(editing::show).post(editing::save))
        .at("/messages/:id/edit", get(editing::form))
        .at("/messages/:id/delete", post(editing::delete))
        .at("/messages/:id/actions", get(editing::actions))
        .at("/messages/:id/reactions", post(reacting::toggle))
        .at("/chat/viewer.css", get(editing::viewer_css))
        .at("/chat/:room/members", get(pages::members).post(membership::add_person))
        .at("/chat/:room/people", get(membership::people))
        .at("/chat/:room/members/:id/remove", post(membership::remove_person))
        .at("/chat/:room/notifications", get(notifications::show).post(notifications::choose))
        .at("/chat/:room/settings", get(settings::show).post(settings::save))
        .at("/chat/:room/archive", post(settings::archive))
        .at("/chat/:room/unarchive", post(settings::unarchive))
        .at("/chat/:room/join", post(pages::join))
        .at("/chat/:room/leave", post(pages::leave))
        .at("/rooms", get(pages::browse).post(pages::create))
        .at("/people", get(people::list))
        .at("/people/:id", get(people::show))
        .at("/people/:id/message", post(people::message))
        .at("/conversations", post(people::group))
        .at("/ws", get(socket::upgrade))
        .at("/email/unsubscribe/:token", get(missed::unsubscribe_page).post(missed::stop))
}

/// What the chat does when others announce: a socket belongs to its session, so
/// when sessions end, their sockets close.
pub fn listen(events: &Events, hub: &Arc<Hub>) {
    let hub = hub.clone();
    events.subscribe(move |event| match event {
        Event::SessionsEnded(ids) => hub.close_sessions(ids, CloseReason::SignedOut),
        Event::MessageStored { .. } => {}
    });
}

/// `user_id` joined `room_id`: their open sockets start receiving it.
pub async fn joined(state: &AppState, user_id: i64, room_id: i64) -> Result<()> {
    // The feed's starting point is read before the sockets subscribe (see feed.rs).
    // It is an event number: the feed orders changes, not only new messages.
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

/// Why a message was not sent, edited or deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Empty or too long; the text says which.
    Invalid(&'static str),
    TooFast,
    NotInRoom,
    /// The message was deleted, or never was.
    Gone,
    /// Someone else's message.
    NotYours,
    /// Not an emoji, one at a time.
    NotAnEmoji(&'static str),
    /// As many different reactions as a message may have.
    Full,
    /// The room is archived: read-only.
    Archived,
}

impl Refused {
    /// What the composer (or the edit form) shows.
    pub fn message(self) -> &'static str {
        match self {
            Refused::Invalid(problem) => problem,
            Refused::TooFast => {
                "You are sending messages very quickly. Wait a moment and try again."
            }
            Refused::NotInRoom => "You are not in this room any more.",
            Refused::Gone => "That message was deleted.",
            Refused::NotYours => {
                "That message is someone else's: only its author can edit it, and only its \
                 author or an administrator can delete it."
            }
            Refused::NotAnEmoji(problem) => problem,
            Refused::Full => {
                "This message has as many different reactions as it can hold. Add yours to \
                 one of them."
            }
            Refused::Archived => {
                "This room is archived: its history stays, but nothing new can be added."
            }
        }
    }
}

impl From<NotAllowed> for Refused {
    fn from(why: NotAllowed) -> Self {
        match why {
            NotAllowed::Gone => Refused::Gone,
            NotAllowed::NotYours => Refused::NotYours,
            NotAllowed::Full => Refused::Full,
        }
    }
}

/// Sends a message from `author` to `room_id`, with text, `files` they uploaded
/// (see [`crate::files`]), or both: checks it, stores it, delivers it. The outer
/// `Result` is for failures; the inner one is a problem to show the person.
pub async fn send(
    state: &AppState,
    author: &User,
    room_id: i64,
    input: &str,
    files: &[i64],
) -> Result<Result<messages::Message, Refused>> {
    // The files that are still theirs to send, once each, in the order given, and
    // within a message's limits whatever mix of new and kept uploads they are.
    let files = &files[..files.len().min(4 * crate::files::MAX_PER_MESSAGE)];
    let sendable = crate::files::unclaimed(&state.db, author.id, room_id, files).await?;
    let mut chosen: Vec<i64> = Vec::with_capacity(sendable.len());
    for id in files {
        if sendable.iter().any(|f| f.id == *id) && !chosen.contains(id) {
            chosen.push(*id);
        }
    }
    let total: i64 = sendable.iter().filter(|f| chosen.contains(&f.id)).map(|f| f.size).sum();
    if chosen.len() > crate::files::MAX_PER_MESSAGE {
        return Ok(Err(Refused::Invalid(crate::files::upload::MANY)));
    }
    if total as u64 > state.config.attachment_max_bytes() {
        return Ok(Err(Refused::Invalid(TOO_LARGE_TOGETHER)));
    }
    let body = match chosen.is_empty() {
        true if !files.is_empty() && input.trim().is_empty() => Err(GONE_FILES),
        true => MessageBody::parse(input),
        false => MessageBody::caption(input),
    };
    let body = match body {
        Ok(body) => body,
        Err(problem) => return Ok(Err(Refused::Invalid(problem))),
    };
    if state.limits.message_from(author.id).is_err() {
        return Ok(Err(Refused::TooFast));
    }
    let typist = author.id;
    let stored = store_and_feed(state, author.clone(), room_id, move |state, author| async move {
        match messages::post(&state.db, room_id, &author, &body, &chosen).await? {
            messages::Posted::Stored(change) => {
                metrics::counter!("hearth_messages_stored_total").increment(1);
                state.hub.stopped_typing(room_id, typist);
                Ok(Ok(*change))
            }
            messages::Posted::NotInRoom => Ok(Err(Refused::NotInRoom)),
            messages::Posted::FilesGone => Ok(Err(Refused::Invalid(GONE_FILES))),
        }
    })
    .await?;
    if let Ok(change) = &stored {
        let message = &change.message;
        state.events.announce(Event::MessageStored { room_id, seq: message.seq });
    }
    Ok(stored.map(|change| change.message))
}

const GONE_FILES: &str = "Those files are no longer here. Choose them again.";
const TOO_LARGE_TOGETHER: &str = "These files together are larger than a message may carry. Send some of them in another message.";

/// Replaces the text of `editor`'s own message `seq` in `room_id`, and shows the
/// new text on every open page of the room.
pub async fn edit(
    state: &AppState,
    editor: &User,
    room_id: i64,
    seq: i64,
    input: &str,
) -> Result<Result<messages::Message, Refused>> {
    let body = match MessageBody::parse(input) {
        Ok(body) => body,
        Err(problem) => return Ok(Err(Refused::Invalid(problem))),
    };
    // Counted as a message: an edit costs the room what a message does.
    if state.limits.message_from(editor.id).is_err() {
        return Ok(Err(Refused::TooFast));
    }
    let edited = store_and_feed(state, editor.clone(), room_id, move |state, editor| async move {
        let actor = Actor { user_id: editor.id, is_admin: editor.is_admin };
        Ok(changes::edit(&state.db, room_id, seq, actor, &body).await?.map_err(Refused::from))
    })
    .await?;
    Ok(edited.map(|change| change.message))
}

/// Deletes message `seq` of `room_id` for everyone: its author may, and so may an
/// administrator (moderation, written to the audit log when it is someone else's).
pub async fn delete(
    state: &AppState,
    by: &User,
    room_id: i64,
    seq: i64,
) -> Result<Result<(), Refused>> {
    if state.limits.message_from(by.id).is_err() {
        return Ok(Err(Refused::TooFast));
    }
    let deleted = store_and_feed(state, by.clone(), room_id, move |state, by| async move {
        let actor = Actor { user_id: by.id, is_admin: by.is_admin };
        Ok(changes::delete(&state.db, room_id, seq, actor).await?.map_err(Refused::from))
    })
    .await?;
    let Ok(change) = deleted else { return Ok(deleted.map(drop)) };
    if change.message.user_id != by.id {
        tracing::info!(target: "audit", admin_id = by.id, room_id, seq,
            author_id = change.message.user_id, "administrator deleted a message");
    }
    Ok(Ok(()))
}

/// Puts `who`'s reaction on message `seq` of `room_id` or takes it off, as
/// `want`s; every open page of the room shows the new count. `None` when it
/// already was as wanted.
pub async fn react(
    state: &AppState,
    who: &User,
    room_id: i64,
    seq: i64,
    emoji: &str,
    want: Want,
) -> Result<Result<Option<messages::Message>, Refused>> {
    let emoji = match Emoji::parse(emoji) {
        Ok(emoji) => emoji,
        Err(problem) => return Ok(Err(Refused::NotAnEmoji(problem))),
    };
    if state.limits.message_from(who.id).is_err() {
        return Ok(Err(Refused::TooFast));
    }
    let user_id = who.id;
    let reacted = store_and_feed(state, who.clone(), room_id, move |state, _| async move {
        let reacted = reactions::react(&state.db, room_id, seq, user_id, emoji, want).await?;
        Ok(reacted.map_err(Refused::from))
    })
    .await?;
    Ok(reacted.map(|change| change.map(|c| c.message)))
}

/// Runs `store` and hands the change it made (if any) to the feed, in a task of
/// its own: a client that disconnects midway cannot leave a stored change
/// undelivered. A change an archived room refused says so.
async fn store_and_feed<F, Fut, C>(
    state: &AppState,
    user: User,
    room_id: i64,
    store: F,
) -> Result<Result<C, Refused>>
where
    F: FnOnce(AppState, User) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Result<C, Refused>>> + Send + 'static,
    C: Into<Option<Change>> + Clone + Send + 'static,
{
    let state = state.clone();
    tokio::spawn(async move {
        let changed = store(state.clone(), user).await?;
        match changed.clone().map(Into::into) {
            Ok(Some(change)) => state.feed.stored(change).await,
            // Refused before anything else was looked at (see `changes::next_event!`).
            Err(Refused::NotInRoom | Refused::Gone)
                if rooms::is_archived(&state.db, room_id).await? =>
            {
                return Ok(Err(Refused::Archived));
            }
            _ => {}
        }
        Ok(changed)
    })
    .await
    .map_err(|err| AppError::Internal(err.into()))?
}
