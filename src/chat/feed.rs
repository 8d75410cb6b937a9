//! The feed: every change to a room's messages (posted, edited, deleted, reacted)
//! passes
//! through here, in its room's order, on its way to the hub. It is what keeps
//! delivery gapless and duplicate-free when changes come from several places: this
//! process's senders, and (on PostgreSQL) other Hearth instances, announced by
//! `NOTIFY`.
//!
//! Changes are numbered per room in commit order (see [`super::changes`]), so for
//! each room the feed keeps the event number it has delivered up to. The next
//! number is delivered as it comes; anything else (a number from another instance,
//! or one that arrived ahead of its predecessor) makes the feed read every event
//! after its mark from the database, which holds them all, and deliver those in
//! order. A number at or below the mark is a duplicate and dropped.
//!
//! A room's mark starts at its newest event as read *before* the first socket
//! subscribed; that socket's own catch-up (`resume`) reads later, so whatever the
//! mark skips, the catch-up has.
//!
//! One task does all of this, so no lock is held across the database reads, and
//! each delivery has reached every socket before the next one starts.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::changes::{self, Change, Kind};
use super::hub::{Delivery, Hub};
use super::views;
use crate::db::Db;

enum Event {
    /// A socket is about to subscribe to `room`, whose newest event was `event`.
    Subscribe { room: i64, event: i64 },
    /// Event `event` of `room` is stored; this process has it when it made it.
    Stored { room: i64, event: i64, change: Option<Box<Change>> },
}

#[derive(Clone)]
pub struct Feed {
    events: mpsc::Sender<Event>,
}

impl Feed {
    /// Starts the feed's task.
    pub fn start(db: Db, hub: Arc<Hub>) -> Self {
        let (events, rx) = mpsc::channel(4096);
        tokio::spawn(run(db, hub, rx));
        Feed { events }
    }

    pub async fn subscribe(&self, room: i64, event: i64) {
        let _ = self.events.send(Event::Subscribe { room, event }).await;
    }

    /// A change this process made.
    pub async fn stored(&self, change: Change) {
        let (room, event) = (change.message.room_id, change.event);
        let change = Some(Box::new(change));
        let _ = self.events.send(Event::Stored { room, event, change }).await;
    }

    /// Room `room` has events up to `event` (from another instance, or a periodic
    /// check after a lost connection to PostgreSQL).
    pub async fn announced(&self, room: i64, event: i64) {
        let _ = self.events.send(Event::Stored { room, event, change: None }).await;
    }
}

/// How long a room's mark is kept after a socket subscribed to it, watched or not:
/// a socket subscribes to its rooms before the hub registers it.
const FRESH: Duration = Duration::from_secs(60);

/// Marks beyond this many (or four per watched room, if more) are pruned.
const KEPT: usize = 256;

/// A room's delivery position, and when a socket last subscribed to the room.
struct Mark {
    event: i64,
    subscribed: Instant,
}

async fn run(db: Db, hub: Arc<Hub>, mut events: mpsc::Receiver<Event>) {
    let mut marks: HashMap<i64, Mark> = HashMap::new();
    while let Some(event) = events.recv().await {
        match event {
            Event::Subscribe { room, event } => {
                let mark = marks.entry(room).or_insert(Mark { event, subscribed: Instant::now() });
                mark.subscribed = Instant::now();
            }
            Event::Stored { room, event, change } => {
                let Some(mark) = marks.get_mut(&room) else { continue };
                let mark = &mut mark.event;
                if event <= *mark {
                    continue;
                }
                match change {
                    Some(change) if event == *mark + 1 => {
                        *mark = event;
                        hub.deliver(Arc::new(render(&change))).await;
                    }
                    _ => catch_up(&db, &hub, room, mark, event).await,
                }
                if marks.len() > KEPT.max(4 * hub.rooms()) {
                    // Rooms nobody watches any more start afresh at their next
                    // subscription (which reads the newest event first).
                    let watched = hub.watched_rooms();
                    marks.retain(|room, mark| {
                        watched.contains(room) || mark.subscribed.elapsed() < FRESH
                    });
                }
            }
        }
    }
}

/// Delivers everything after `mark` up to at least `until` from the database.
async fn catch_up(db: &Db, hub: &Hub, room: i64, mark: &mut i64, until: i64) {
    while *mark < until {
        match changes::since(db, room, *mark, 500).await {
            Ok(batch) if !batch.is_empty() => {
                for change in &batch {
                    *mark = change.event;
                    hub.deliver(Arc::new(render(change))).await;
                }
            }
            Ok(_) => break,
            Err(err) => {
                // Sockets still catch up when they reconnect; the next message retries.
                tracing::error!("chat feed could not read room {room}: {err}");
                break;
            }
        }
    }
}

fn render(change: &Change) -> Delivery {
    let m = &change.message;
    Delivery {
        room_id: m.room_id,
        event: change.event,
        seq: m.seq,
        posted: change.kind == Kind::Posted,
        mentions: m.mentions.iter().map(|(id, _)| *id).collect(),
        author_id: m.user_id,
        html: views::change_html(change).into(),
    }
}
