//! The hub: the one place where a stored message fans out to open sockets.
//!
//! Each socket registers a connection with an [`Outlet`]: a message rendered once is
//! written from here into every socket showing its room that has nothing queued and
//! room in its kernel buffer, and queued for the others' tasks (see `outlet`).
//! Nothing waits on a slow client: a queue that is full means its client stopped
//! reading, and that connection is told to close (it catches up on reconnect). The
//! hub's lock is a plain mutex held only for map updates and queueing, never across
//! an `.await`; the fan-out's writes happen after it is let go.
//!
//! Presence ("who is online here") and typing notices are batched: changes mark a
//! room, and [`Hub::tick`] (once a second) sends each marked room one update (see
//! `presence`).
//!
//! The hub also caps the sockets open at once per session and per person: counted
//! here, under the same lock that registers them, so sockets opened all at once
//! cannot all slip past the cap.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::watch;

mod outlet;
mod presence;

pub use self::outlet::{Outlet, Registered, Sink, Writer};
pub use self::presence::TYPING_EVERY;
use self::presence::Typer;
use super::read_marks::Position;

pub type ConnId = u64;

/// Sockets written to by a fan-out between chances for other tasks to run.
const DELIVER_BETWEEN_YIELDS: usize = 256;

/// Sockets one session (one browser) may have open at once: a tab each.
pub const SOCKETS_PER_SESSION: usize = 8;

/// A socket that a cap on open sockets leaves no room for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TooMany {
    Session,
    Person,
}

impl TooMany {
    /// Why, as the refusal and the close frame say it.
    pub fn reason(self) -> &'static str {
        match self {
            TooMany::Session => "too many chat sockets open in this browser",
            TooMany::Person => "too many chat sockets open for this person",
        }
    }
}

/// Why the server ends a socket, and the close code it sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The session ended: the browser must not reconnect (1008, policy).
    SignedOut,
    /// The client did not keep up; reconnecting catches it up (1013, try again).
    TooSlow,
    /// The server is going away; reconnect to another (1012, service restart).
    Restarting,
}

impl CloseReason {
    pub fn code(self) -> u16 {
        match self {
            CloseReason::SignedOut => 1008,
            CloseReason::TooSlow => 1013,
            CloseReason::Restarting => 1012,
        }
    }
}

/// A stored change to a room's messages, rendered once; every recipient gets the
/// same bytes.
#[derive(Debug)]
pub struct Delivery {
    pub room_id: i64,
    /// The change's number in the room's events: what a page resumes from.
    pub event: i64,
    /// The message's number in the room.
    pub seq: i64,
    /// A new message (which counts as unread), not an edit or deletion.
    pub posted: bool,
    /// Whom the message mentions (ids), for their mention counts elsewhere.
    pub mentions: Box<[i64]>,
    pub author_id: i64,
    pub html: Arc<str>,
}

impl Delivery {
    /// Whether a client showing the room, which has its events up to `sent_up_to`,
    /// lacks this one (a catch-up may have carried it already).
    pub fn is_new_to(&self, sent_up_to: i64) -> bool {
        self.event > sent_up_to
    }

    /// This went out to a client showing its room (written by the fan-out or by the
    /// socket's task): the client has the room up to it, and a new message on screen
    /// counts as read.
    pub fn went_out(&self, sent_up_to: &mut i64, read_mark: &Position) {
        *sent_up_to = self.event;
        if self.posted {
            read_mark.moved_to(self.seq);
        }
    }
}

/// A room's new settings, rendered once (see `settings.rs`).
#[derive(Debug)]
pub struct RoomNews {
    pub room_id: i64,
    pub name: String,
    pub archived: bool,
    /// For sockets showing the room: its name and topic, and whether it is
    /// archived (which shows or hides the composer).
    pub viewers: String,
    /// For its members' other sockets: its name in the sidebar, or, archived, its
    /// leaving the sidebar (it comes back on the next load; see `hearth.js`).
    pub members: String,
}

#[derive(Debug, Clone)]
pub enum Outbound {
    Message(Arc<Delivery>),
    /// A room was renamed, given a topic, archived or brought back.
    Room(Arc<RoomNews>),
    /// Who is typing in the room the connection shows (the socket leaves out itself).
    Typing(Arc<Vec<(i64, String)>>),
    /// The rendered "online here" list for the room the connection shows.
    Presence(Arc<str>),
}

/// A registered socket's side of the hub.
pub struct Connection {
    pub id: ConnId,
    pub outlet: Arc<Outlet>,
    pub close: watch::Receiver<Option<CloseReason>>,
}

struct Conn {
    user_id: i64,
    /// Shared, so listing who is online copies no names while the lock is held.
    name: Arc<str>,
    session_id: String,
    viewing: i64,
    rooms: HashSet<i64>,
    outlet: Arc<Outlet>,
}

impl Conn {
    fn push(&self, frame: Outbound) {
        self.outlet.push(frame);
    }
}

#[derive(Default)]
struct Room {
    members: HashSet<ConnId>,
    typing: Vec<Typer>,
    typing_changed: bool,
    presence_changed: bool,
}

#[derive(Default)]
struct Inner {
    next_id: ConnId,
    conns: HashMap<ConnId, Conn>,
    rooms: HashMap<i64, Room>,
    /// Who is online in each room on other instances, as they last announced it.
    remote: HashMap<i64, HashMap<String, (Instant, Online)>>,
    /// Open connections per session and per person, for the caps.
    per_session: HashMap<String, usize>,
    per_person: HashMap<i64, usize>,
}

impl Inner {
    fn room_for(&self, user_id: i64, session_id: &str, per_person: usize) -> Result<(), TooMany> {
        if self.per_session.get(session_id).is_some_and(|n| *n >= SOCKETS_PER_SESSION) {
            Err(TooMany::Session)
        } else if self.per_person.get(&user_id).is_some_and(|n| *n >= per_person) {
            Err(TooMany::Person)
        } else {
            Ok(())
        }
    }
}

/// Takes one from a count, forgetting it at zero.
fn count_down<K: std::hash::Hash + Eq>(counts: &mut HashMap<K, usize>, key: &K) {
    if let Some(n) = counts.get_mut(key) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            counts.remove(key);
        }
    }
}

/// Someone joined or left a room: [`Hub::joined`] and [`Hub::left`] share one update.
#[derive(Clone, Copy)]
enum Membership {
    Joined,
    Left,
}

/// People (id, name) online in a room.
pub type Online = Vec<(i64, String)>;

/// Every open socket of this instance and the rooms they receive.
pub struct Hub {
    inner: Mutex<Inner>,
    /// Frames a connection may have waiting before it counts as not reading.
    queue: usize,
    /// Sockets one person may have open at once, over all their sessions.
    per_person: usize,
}

impl Hub {
    pub fn new(queue: usize, per_person: usize) -> Self {
        Self { inner: Mutex::default(), queue: queue.max(1), per_person: per_person.max(1) }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-updated in a way
        // that matters more than losing chat entirely, so keep going.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether `user_id` may open another socket on `session_id` now: asked at the
    /// upgrade, to refuse with 429 before upgrading; [`Hub::connect`] decides.
    pub fn has_room_for(&self, user_id: i64, session_id: &str) -> Result<(), TooMany> {
        self.lock().room_for(user_id, session_id, self.per_person)
    }

    /// Registers a socket of `user_id` on `session_id`, showing room `viewing` (read
    /// up to `read_mark`), and subscribed to all of `rooms`; refused when that person
    /// or session has as many open as allowed. The socket's task hands its writer to
    /// the connection's outlet once it has one.
    pub fn connect(
        &self,
        user_id: i64,
        name: &str,
        session_id: &str,
        (viewing, read_mark): (i64, Position),
        rooms: &[i64],
    ) -> Result<Connection, TooMany> {
        let mut inner = self.lock();
        inner.room_for(user_id, session_id, self.per_person)?;
        *inner.per_session.entry(session_id.to_owned()).or_default() += 1;
        *inner.per_person.entry(user_id).or_default() += 1;
        let (outlet, close) = Outlet::new(viewing, read_mark, self.queue);
        inner.next_id += 1;
        let id = inner.next_id;
        for room in rooms {
            let room = inner.rooms.entry(*room).or_default();
            room.members.insert(id);
            room.presence_changed = true;
        }
        inner.conns.insert(
            id,
            Conn {
                user_id,
                name: Arc::from(name),
                session_id: session_id.to_owned(),
                viewing,
                rooms: rooms.iter().copied().collect(),
                outlet: outlet.clone(),
            },
        );
        Ok(Connection { id, outlet, close })
    }

    /// Who has a socket showing `room_id` on this instance: they see what comes.
    pub fn watching(&self, room_id: i64) -> HashSet<i64> {
        let inner = self.lock();
        let Some(room) = inner.rooms.get(&room_id) else { return HashSet::new() };
        room.members
            .iter()
            .filter_map(|id| inner.conns.get(id))
            .filter(|conn| conn.viewing == room_id)
            .map(|conn| conn.user_id)
            .collect()
    }

    pub fn disconnect(&self, id: ConnId) {
        let mut inner = self.lock();
        if let Some(conn) = inner.conns.remove(&id) {
            count_down(&mut inner.per_session, &conn.session_id);
            count_down(&mut inner.per_person, &conn.user_id);
            for room_id in conn.rooms {
                if let Some(room) = inner.rooms.get_mut(&room_id) {
                    room.members.remove(&id);
                    room.presence_changed = true;
                }
            }
        }
    }

    /// Sends a stored message to every connection of the room's members. Called by
    /// one task (the feed), so deliveries reach each socket in order.
    pub async fn deliver(&self, delivery: Arc<Delivery>) {
        // Written outside the hub's lock: sockets come and go meanwhile.
        let outlets: Vec<Arc<Outlet>> = {
            let inner = self.lock();
            let Some(room) = inner.rooms.get(&delivery.room_id) else { return };
            room.members
                .iter()
                .filter_map(|id| inner.conns.get(id))
                .map(|c| c.outlet.clone())
                .collect()
        };
        metrics::counter!("hearth_deliveries_total").increment(outlets.len() as u64);
        for some in outlets.chunks(DELIVER_BETWEEN_YIELDS) {
            // Outside tokio's budget, which after 128 operations in one poll makes
            // every socket look busy (each would then be written by its own task);
            // the yield between chunks is this loop's own budget.
            tokio::task::unconstrained(async {
                for outlet in some {
                    outlet.deliver(&delivery);
                }
            })
            .await;
            // Thousands of writes take milliseconds: let the thread's other tasks run.
            tokio::task::yield_now().await;
        }
    }

    /// Shows a room's new settings on every connection of its members.
    pub fn room_changed(&self, news: Arc<RoomNews>) {
        let inner = self.lock();
        let Some(room) = inner.rooms.get(&news.room_id) else { return };
        for id in &room.members {
            if let Some(conn) = inner.conns.get(id) {
                conn.push(Outbound::Room(news.clone()));
            }
        }
    }

    /// How many rooms have (or had) sockets subscribed.
    pub fn rooms(&self) -> usize {
        self.lock().rooms.len()
    }

    /// The rooms with sockets subscribed.
    pub fn watched_rooms(&self) -> HashSet<i64> {
        let inner = self.lock();
        inner.rooms.iter().filter(|(_, room)| !room.members.is_empty()).map(|(id, _)| *id).collect()
    }

    /// `user_id` joined `room_id`: their open sockets start receiving it.
    pub fn joined(&self, user_id: i64, room_id: i64) {
        self.change_membership(user_id, room_id, Membership::Joined);
    }

    /// `user_id` left `room_id`: nothing more from it reaches their sockets.
    pub fn left(&self, user_id: i64, room_id: i64) {
        self.change_membership(user_id, room_id, Membership::Left);
    }

    /// The rooms connection `id` receives.
    pub fn rooms_of(&self, id: ConnId) -> Vec<i64> {
        self.lock()
            .conns
            .get(&id)
            .map(|conn| conn.rooms.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Connection `id` stops receiving `rooms` (its person is no longer in them).
    pub fn drop_rooms(&self, id: ConnId, rooms: &[i64]) {
        let mut guard = self.lock();
        let Inner { conns, rooms: all, .. } = &mut *guard;
        let Some(conn) = conns.get_mut(&id) else { return };
        for room_id in rooms {
            conn.rooms.remove(room_id);
            if let Some(room) = all.get_mut(room_id) {
                room.members.remove(&id);
                room.presence_changed = true;
            }
        }
    }

    /// Adds the room to, or takes it from, every socket of `user_id`.
    fn change_membership(&self, user_id: i64, room_id: i64, change: Membership) {
        let mut guard = self.lock();
        let Inner { conns, rooms, .. } = &mut *guard;
        let mut room = match change {
            Membership::Joined => Some(rooms.entry(room_id).or_default()),
            Membership::Left => rooms.get_mut(&room_id),
        };
        for (id, conn) in conns.iter_mut().filter(|(_, conn)| conn.user_id == user_id) {
            match change {
                Membership::Joined => conn.rooms.insert(room_id),
                Membership::Left => conn.rooms.remove(&room_id),
            };
            if let Some(room) = room.as_mut() {
                match change {
                    Membership::Joined => room.members.insert(*id),
                    Membership::Left => room.members.remove(id),
                };
            }
        }
        if let Some(room) = room {
            room.presence_changed = true;
        }
    }

    /// Closes every socket of the given sessions.
    pub fn close_sessions(&self, session_ids: &[String], reason: CloseReason) {
        let inner = self.lock();
        for conn in inner.conns.values().filter(|c| session_ids.contains(&c.session_id)) {
            conn.outlet.close(reason);
        }
    }

    /// Closes every socket (at shutdown).
    pub fn close_all(&self, reason: CloseReason) {
        for conn in self.lock().conns.values() {
            conn.outlet.close(reason);
        }
    }

    pub fn connections(&self) -> usize {
        self.lock().conns.len()
    }
}
