//! Several instances on one PostgreSQL behave as one: PostgreSQL's LISTEN/NOTIFY is
//! the bus, and the tables stay the truth.
//!
//! Notifications carry numbers, never message bodies: `room:event` for a stored
//! change to a room's messages (sent inside its transaction, so it arrives only if
//! and after it commits, in commit order), a session id for an ended session,
//! `user:room` for someone who left a room, a room id for changed settings, a small
//! JSON for typing. Each instance
//! holds one long-lived LISTEN connection. When it drops, notifications sent
//! meanwhile are lost, so on reconnecting, and every few seconds anyway, the
//! instance compares each room's newest event number with what its feed has
//! delivered, and the feed reads whatever is missing from the table.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgListener, PgPool};

use crate::AppState;
use crate::accounts::sessions::ENDED_CHANNEL as ENDED_SESSIONS;
use crate::db::Db;
use crate::events::Event;
use crate::on_db;

pub const MESSAGES: &str = "hearth_messages";
pub const TYPING: &str = "hearth_typing";
pub const PRESENCE: &str = "hearth_presence";
pub const LEFT: &str = "hearth_left";
pub const ROOMS: &str = "hearth_rooms";

/// At most this many people per room and instance are announced (payloads are
/// capped at 8,000 bytes; the "online" line names a dozen anyway).
const ANNOUNCED_PEOPLE: usize = 40;

#[derive(Serialize, Deserialize)]
struct Presence {
    instance: String,
    room: i64,
    online: Vec<(i64, String)>,
}

/// How often rooms are checked against the feed even without a lost connection.
const RECHECK_EVERY: Duration = Duration::from_secs(5);

#[derive(Serialize, Deserialize)]
struct Typing {
    room: i64,
    user: i64,
    name: String,
}

/// Someone is typing: shown here at once, and on the other instances via NOTIFY (at
/// most every [`crate::chat::hub::TYPING_EVERY`]).
pub async fn typing(state: &AppState, room: i64, user: i64, name: &str) {
    if state.hub.typing(room, user, name)
        && let Db::Postgres(pool) = &state.db
    {
        let payload = serde_json::to_string(&Typing { room, user, name: name.to_owned() });
        if let Ok(payload) = payload {
            let sent = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(TYPING)
                .bind(payload)
                .execute(pool)
                .await;
            if let Err(err) = sent {
                tracing::warn!("could not announce typing: {err}");
            }
        }
    }
}

/// Someone left a room: the other instances stop their sockets receiving it (this
/// one already has). Should the notification be lost, each socket's periodic check
/// of its rooms finds out.
pub async fn left(state: &AppState, user: i64, room: i64) {
    if let Db::Postgres(pool) = &state.db {
        let sent = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(LEFT)
            .bind(format!("{user}:{room}"))
            .execute(pool)
            .await;
        if let Err(err) = sent {
            tracing::warn!("could not announce leaving a room: {err}");
        }
    }
}

/// A room's settings changed: every instance, this one included, shows it on its
/// sockets. Should the notification be lost, pages get it when they next load or
/// reconnect.
pub async fn room_changed(state: &AppState, room: i64) {
    if let Db::Postgres(pool) = &state.db {
        let sent = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(ROOMS)
            .bind(room.to_string())
            .execute(pool)
            .await;
        if let Err(err) = sent {
            tracing::warn!("could not announce a room's settings: {err}");
        }
    }
}

/// Listens for the other instances until the process ends (PostgreSQL only).
pub async fn listen(state: AppState, pool: PgPool) {
    let mut listener = loop {
        match connect(&pool).await {
            Ok(listener) => break listener,
            Err(err) => {
                tracing::warn!("cannot LISTEN yet: {err}; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    let mut recheck = tokio::time::interval(RECHECK_EVERY);
    let instance = format!("{:016x}", rand::random::<u64>());
    let mut announced = std::collections::HashSet::new();
    loop {
        tokio::select! {
            received = listener.try_recv() => match received {
                Ok(Some(note)) => dispatch(&state, &instance, note.channel(), note.payload()).await,
                // The connection dropped; the next call reconnects. Anything sent in
                // between is lost: look at the tables instead.
                Ok(None) => {
                    tracing::warn!("LISTEN connection lost; reconnecting and catching up");
                    recheck_rooms(&state).await;
                }
                Err(err) => {
                    tracing::warn!("LISTEN failed: {err}; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    recheck_rooms(&state).await;
                }
            },
            _ = recheck.tick() => {
                recheck_rooms(&state).await;
                announce_presence(&state, &pool, &instance, &mut announced).await;
            }
        }
    }
}

async fn connect(pool: &PgPool) -> sqlx::Result<PgListener> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen_all([MESSAGES, ENDED_SESSIONS, TYPING, PRESENCE, LEFT, ROOMS]).await?;
    Ok(listener)
}

async fn dispatch(state: &AppState, instance: &str, channel: &str, payload: &str) {
    match channel {
        MESSAGES => {
            if let Some((room, seq)) = two_numbers(payload) {
                state.feed.announced(room, seq).await;
            }
        }
        // This instance's own announcement comes back too: leaving twice is harmless.
        LEFT => {
            if let Some((user, room)) = two_numbers(payload) {
                state.hub.left(user, room);
            }
        }
        // This instance's own too: it shows changes only when told here.
        ROOMS => {
            if let Ok(room) = payload.parse() {
                super::settings::show_here(state, room).await;
            }
        }
        // Announced here as if it ended here: the chat hears it as it hears any.
        ENDED_SESSIONS => state.events.announce(Event::SessionsEnded(&[payload.to_owned()])),
        PRESENCE => {
            if let Ok(p) = serde_json::from_str::<Presence>(payload)
                && p.instance != instance
            {
                state.hub.remote_online(&p.instance, p.room, p.online);
            }
        }
        TYPING => {
            if let Ok(t) = serde_json::from_str::<Typing>(payload) {
                state.hub.typing(t.room, t.user, &t.name);
            }
        }
        _ => {}
    }
}

/// `a:b`, as two numbers.
fn two_numbers(payload: &str) -> Option<(i64, i64)> {
    let (a, b) = payload.split_once(':')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// Tells the other instances who is online here, room by room; a room that emptied
/// is announced once more, empty.
async fn announce_presence(
    state: &AppState,
    pool: &PgPool,
    instance: &str,
    announced: &mut std::collections::HashSet<i64>,
) {
    let mut now = std::collections::HashSet::new();
    let mut rooms = state.hub.local_online();
    rooms.retain(|(_, online)| !online.is_empty());
    for (room, _) in &rooms {
        now.insert(*room);
    }
    rooms.extend(announced.difference(&now).map(|room| (*room, Vec::new())));
    for (room, mut online) in rooms {
        online.truncate(ANNOUNCED_PEOPLE);
        let presence = Presence { instance: instance.to_owned(), room, online };
        let Ok(payload) = serde_json::to_string(&presence) else { continue };
        if let Err(err) =
            sqlx::query("SELECT pg_notify($1, $2)").bind(PRESENCE).bind(payload).execute(pool).await
        {
            tracing::warn!("could not announce presence: {err}");
            return;
        }
    }
    *announced = now;
}

/// Tells the feed each watched room's newest event number; it reads what it lacks.
async fn recheck_rooms(state: &AppState) {
    if state.hub.connections() == 0 {
        return;
    }
    let rooms: Result<Vec<(i64, i64)>, sqlx::Error> = on_db!(&state.db, pool => sqlx::query_as("SELECT id, last_event FROM rooms").fetch_all(pool).await);
    match rooms {
        Ok(rooms) => {
            let watched = state.hub.watched_rooms();
            for (room, event) in rooms.into_iter().filter(|(room, _)| watched.contains(room)) {
                state.feed.announced(room, event).await;
            }
        }
        Err(err) => tracing::warn!("could not check rooms: {err}"),
    }
}
