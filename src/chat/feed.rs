//! The feed: every stored message passes through here, in its room's order, on its
//! way to the hub. It is what keeps delivery gapless and duplicate-free when messages
//! come from several places: this process's senders, and (on PostgreSQL) other
//! Hearth instances, announced by `NOTIFY`.
//!
//! Messages are numbered per room in commit order (see [`super::messages::post`]),
//! so for each room the feed keeps the number it has delivered up to. The next
//! number is delivered as it comes; anything else (a number from another instance,
//! or one that arrived ahead of its predecessor) makes the feed read every message
//! after its mark from the database, which holds them all, and deliver those in
//! order. A number at or below the mark is a duplicate and dropped.
//!
//! A room's mark starts at its newest number as read *before* the first socket
//! subscribed; that socket's own catch-up (`resume`) reads later, so whatever the
//! mark skips, the catch-up has.
//!
//! One task does all of this, so no lock is held across the database reads, and
//! the hub's fan-out stays synchronous.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::hub::{Delivery, Hub};
use super::messages::{self, Message};
use super::views;
use crate::db::Db;

enum Event {
    /// A socket is about to subscribe to `room`, whose newest message was `seq`.
    Subscribe { room: i64, seq: i64 },
    /// Message `seq` of `room` is stored; this process has it when it sent it.
    Stored { room: i64, seq: i64, message: Option<Box<Message>> },
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

    pub async fn subscribe(&self, room: i64, seq: i64) {
        let _ = self.events.send(Event::Subscribe { room, seq }).await;
    }

    /// A message this process stored.
    pub async fn stored(&self, message: Message) {
        let (room, seq) = (message.room_id, message.seq);
        let _ =
            self.events.send(Event::Stored { room, seq, message: Some(Box::new(message)) }).await;
    }

    /// Room `room` has messages up to `seq` (from another instance, or a periodic
    /// check after a lost connection to PostgreSQL).
    pub async fn announced(&self, room: i64, seq: i64) {
        let _ = self.events.send(Event::Stored { room, seq, message: None }).await;
    }
}

async fn run(db: Db, hub: Arc<Hub>, mut events: mpsc::Receiver<Event>) {
    let mut marks: HashMap<i64, i64> = HashMap::new();
    while let Some(event) = events.recv().await {
        match event {
            Event::Subscribe { room, seq } => {
                marks.entry(room).or_insert(seq);
            }
            Event::Stored { room, seq, message } => {
                let Some(mark) = marks.get_mut(&room) else { continue };
                if seq <= *mark {
                    continue;
                }
                match message {
                    Some(message) if seq == *mark + 1 => {
                        *mark = seq;
                        hub.deliver(Arc::new(render(&message)));
                    }
                    _ => catch_up(&db, &hub, room, mark, seq).await,
                }
            }
        }
        if marks.len() > 4 * hub.rooms().max(1) {
            // Rooms nobody watches any more start afresh at their next subscription.
            let watched = hub.watched_rooms();
            marks.retain(|room, _| watched.contains(room));
        }
    }
}

/// Delivers everything after `mark` up to at least `until` from the database.
async fn catch_up(db: &Db, hub: &Hub, room: i64, mark: &mut i64, until: i64) {
    while *mark < until {
        match messages::after(db, room, *mark, 500).await {
            Ok(batch) if !batch.is_empty() => {
                for message in &batch {
                    *mark = message.seq;
                    hub.deliver(Arc::new(render(message)));
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

fn render(m: &Message) -> Delivery {
    Delivery {
        room_id: m.room_id,
        seq: m.seq,
        author_id: m.user_id,
        html: views::delivery_html(m).into(),
    }
}
