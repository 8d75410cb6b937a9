//! Who is online in a room and who is typing there: changes mark the room, and
//! [`Hub::tick`] (once a second) sends each marked room one update.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Hub, Inner, Online, Outbound};
use crate::chat::views::{self, Oob};

/// How long "X is typing…" lasts after the last keystroke.
const TYPING_FOR: Duration = Duration::from_secs(4);
/// Typing is taken note of at most this often per socket, and announced to the other
/// instances at most this often per person and room: less than [`TYPING_FOR`], so
/// the notice lasts while someone types, and more frames would add only work (on
/// PostgreSQL a `pg_notify` each).
pub const TYPING_EVERY: Duration = Duration::from_secs(2);
/// Another instance's announcement is trusted this long; they repeat it more often.
const REMOTE_PRESENCE_FOR: Duration = Duration::from_secs(30);

/// Someone typing in a room.
pub(super) struct Typer {
    user_id: i64,
    name: String,
    /// When the notice ends unless they type on.
    until: Instant,
    /// When it was last announced to the other instances.
    announced: Instant,
}

impl Hub {
    /// Someone is typing in `room_id`. Returns whether to announce it to the other
    /// instances: at most once per [`TYPING_EVERY`], however many tabs they type in.
    pub fn typing(&self, room_id: i64, user_id: i64, name: &str) -> bool {
        let mut inner = self.lock();
        let Some(room) = inner.rooms.get_mut(&room_id) else {
            return false;
        };
        let now = Instant::now();
        match room.typing.iter_mut().find(|typer| typer.user_id == user_id) {
            Some(typer) => {
                typer.until = now + TYPING_FOR;
                let due = now.duration_since(typer.announced) >= TYPING_EVERY;
                if due {
                    typer.announced = now;
                }
                due
            }
            None => {
                let until = now + TYPING_FOR;
                room.typing.push(Typer { user_id, name: name.to_owned(), until, announced: now });
                room.typing_changed = true;
                true
            }
        }
    }

    /// Someone sent their message, so they are no longer typing.
    pub fn stopped_typing(&self, room_id: i64, user_id: i64) {
        let mut inner = self.lock();
        if let Some(room) = inner.rooms.get_mut(&room_id) {
            let before = room.typing.len();
            room.typing.retain(|typer| typer.user_id != user_id);
            room.typing_changed |= room.typing.len() != before;
        }
    }

    /// Who is online in each room with sockets on this instance (for other instances).
    pub fn local_online(&self) -> Vec<(i64, Online)> {
        let inner = self.lock();
        inner
            .rooms
            .iter()
            .map(|(room, r)| {
                let mut online: Online = r
                    .members
                    .iter()
                    .filter_map(|id| inner.conns.get(id))
                    .map(|c| (c.user_id, c.name.to_string()))
                    .collect();
                online.sort();
                online.dedup_by_key(|(id, _)| *id);
                (*room, online)
            })
            .collect()
    }

    /// Another instance says who is online in `room` there.
    pub fn remote_online(&self, instance: &str, room: i64, online: Online) {
        let mut inner = self.lock();
        let changed =
            inner.remote.get(&room).and_then(|r| r.get(instance)).map(|(_, o)| o) != Some(&online);
        inner.remote.entry(room).or_default().insert(instance.to_owned(), (Instant::now(), online));
        if changed && let Some(r) = inner.rooms.get_mut(&room) {
            r.presence_changed = true;
        }
    }

    /// Sends the batched typing and presence changes; run once a second. The
    /// "online" lists are rendered between two short holds of the lock, not under it.
    pub fn tick(&self) {
        let updates = self.take_changes();
        if updates.is_empty() {
            return;
        }
        let rendered: Vec<(i64, Option<Outbound>, Option<Outbound>)> = updates
            .into_iter()
            .map(|update| {
                let presence = update.online.map(|mut online| {
                    online.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
                    online.dedup_by_key(|(id, _)| *id);
                    let online: Vec<(i64, &str)> =
                        online.iter().map(|(id, name)| (*id, &**name)).collect();
                    let html = views::presence(&online, Oob::Yes).into_string();
                    Outbound::Presence(Arc::from(html))
                });
                (update.room_id, update.typing.map(Outbound::Typing), presence)
            })
            .collect();
        let inner = self.lock();
        for (room_id, typing, presence) in &rendered {
            let Some(room) = inner.rooms.get(room_id) else { continue };
            let viewers = room
                .members
                .iter()
                .filter_map(|id| inner.conns.get(id))
                .filter(|conn| conn.viewing == *room_id);
            for conn in viewers {
                if let Some(typing) = typing {
                    conn.push(typing.clone());
                }
                if let Some(presence) = presence {
                    conn.push(presence.clone());
                }
            }
        }
    }

    /// Expires typing and other instances' announcements that are due, and takes
    /// what changed in each room, unmarking it.
    fn take_changes(&self) -> Vec<RoomChanges> {
        let now = Instant::now();
        let mut guard = self.lock();
        let Inner { conns, rooms, remote, .. } = &mut *guard;
        for (room_id, instances) in remote.iter_mut() {
            let before = instances.len();
            instances.retain(|_, (at, _)| at.elapsed() < REMOTE_PRESENCE_FOR);
            if instances.len() != before
                && let Some(room) = rooms.get_mut(room_id)
            {
                room.presence_changed = true;
            }
        }
        remote.retain(|_, instances| !instances.is_empty());
        let mut changes = Vec::new();
        for (room_id, room) in rooms.iter_mut() {
            let before = room.typing.len();
            room.typing.retain(|typer| typer.until > now);
            room.typing_changed |= room.typing.len() != before;
            if !(room.typing_changed || room.presence_changed) {
                continue;
            }
            let typing = room.typing_changed.then(|| {
                Arc::new(room.typing.iter().map(|t| (t.user_id, t.name.clone())).collect())
            });
            let online = room.presence_changed.then(|| {
                let here = room.members.iter().filter_map(|id| conns.get(id));
                let elsewhere = remote.get(room_id).into_iter().flat_map(|instances| {
                    instances.values().flat_map(|(_, online)| {
                        online.iter().map(|(id, name)| (*id, Arc::from(name.as_str())))
                    })
                });
                here.map(|conn| (conn.user_id, conn.name.clone())).chain(elsewhere).collect()
            });
            changes.push(RoomChanges { room_id: *room_id, typing, online });
            room.typing_changed = false;
            room.presence_changed = false;
        }
        rooms.retain(|_, room| !room.members.is_empty() || !room.typing.is_empty());
        changes
    }
}

/// What changed in one room since the last tick, for the connections showing it.
struct RoomChanges {
    room_id: i64,
    typing: Option<Arc<Vec<(i64, String)>>>,
    /// Everyone online in the room, unsorted, some perhaps more than once.
    online: Option<Vec<(i64, Arc<str>)>>,
}
