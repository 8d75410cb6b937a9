//! The hub: the one place where a stored message fans out to open sockets.
//!
//! Each socket registers a connection with a bounded outgoing queue. Delivering a
//! message clones one `Arc` of rendered bytes into each member's queue with
//! `try_send`: nothing waits on a slow client. A queue that is full means its client
//! stopped reading; that connection is told to close (it catches up on reconnect).
//! The lock is a plain mutex held only for map updates and those `try_send`s, never
//! across an `.await`.
//!
//! Presence ("who is online here") and typing notices are batched: changes mark a
//! room, and [`Hub::tick`] (once a second) sends each marked room one update (see
//! `presence`).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::{mpsc, watch};

mod presence;

pub use self::presence::TYPING_EVERY;
use self::presence::Typer;

pub type ConnId = u64;

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

/// A stored message, rendered once; every recipient gets the same bytes.
#[derive(Debug)]
pub struct Delivery {
    pub room_id: i64,
    pub seq: i64,
    pub author_id: i64,
    pub html: Arc<str>,
}

#[derive(Debug, Clone)]
pub enum Outbound {
    Message(Arc<Delivery>),
    /// Who is typing in the room the connection shows (the socket leaves out itself).
    Typing(Arc<Vec<(i64, String)>>),
    /// The rendered "online here" list for the room the connection shows.
    Presence(Arc<str>),
}

/// A registered socket's side of the hub.
pub struct Connection {
    pub id: ConnId,
    pub outbound: mpsc::Receiver<Outbound>,
    pub close: watch::Receiver<Option<CloseReason>>,
}

struct Conn {
    user_id: i64,
    /// Shared, so listing who is online copies no names while the lock is held.
    name: Arc<str>,
    session_id: String,
    viewing: i64,
    rooms: HashSet<i64>,
    queue: mpsc::Sender<Outbound>,
    close: watch::Sender<Option<CloseReason>>,
}

impl Conn {
    fn push(&self, frame: Outbound) {
        if let Err(mpsc::error::TrySendError::Full(_)) = self.queue.try_send(frame)
            && self.close.borrow().is_none()
        {
            metrics::counter!("hearth_slow_clients_dropped_total").increment(1);
            self.close.send_replace(Some(CloseReason::TooSlow));
        }
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
}

impl Hub {
    pub fn new(queue: usize) -> Self {
        Self { inner: Mutex::default(), queue: queue.max(1) }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-updated in a way
        // that matters more than losing chat entirely, so keep going.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers a socket of `user_id` on `session_id`, showing room `viewing`, and
    /// subscribed to all of `rooms`.
    pub fn connect(
        &self,
        user_id: i64,
        name: &str,
        session_id: &str,
        viewing: i64,
        rooms: &[i64],
    ) -> Connection {
        let (queue, outbound) = mpsc::channel(self.queue);
        let (close_tx, close) = watch::channel(None);
        let mut inner = self.lock();
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
                queue,
                close: close_tx,
            },
        );
        Connection { id, outbound, close }
    }

    pub fn disconnect(&self, id: ConnId) {
        let mut inner = self.lock();
        if let Some(conn) = inner.conns.remove(&id) {
            for room_id in conn.rooms {
                if let Some(room) = inner.rooms.get_mut(&room_id) {
                    room.members.remove(&id);
                    room.presence_changed = true;
                }
            }
        }
    }

    /// Sends a stored message to every connection of the room's members.
    pub fn deliver(&self, delivery: Arc<Delivery>) {
        let inner = self.lock();
        let Some(room) = inner.rooms.get(&delivery.room_id) else {
            return;
        };
        metrics::counter!("hearth_deliveries_total").increment(room.members.len() as u64);
        for id in &room.members {
            if let Some(conn) = inner.conns.get(id) {
                conn.push(Outbound::Message(delivery.clone()));
            }
        }
    }

    /// How many rooms have sockets subscribed.
    pub fn rooms(&self) -> usize {
        self.lock().rooms.len()
    }

    /// The rooms with sockets subscribed.
    pub fn watched_rooms(&self) -> HashSet<i64> {
        self.lock().rooms.keys().copied().collect()
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
            conn.close.send_replace(Some(reason));
        }
    }

    /// Closes every socket (at shutdown).
    pub fn close_all(&self, reason: CloseReason) {
        for conn in self.lock().conns.values() {
            conn.close.send_replace(Some(reason));
        }
    }

    pub fn connections(&self) -> usize {
        self.lock().conns.len()
    }
}
