//! One socket's way out. A message for the room on screen is written into the
//! socket by the fan-out itself when nothing waits before it; everything else is
//! queued for the socket's task.
//!
//! Why: waking each recipient's task costs, per recipient, a wake-up, a poll of
//! everything that task waits on (its reader, its timers, its close signal) and a
//! hop to another thread, on top of the frame and the system call that are the
//! real work. Written from the fan-out, a delivery is a lock, a frame and a system
//! call. The task wakes only when it has something to do: finish a write the
//! kernel had no room for (with its timeout), or render what is personal to it
//! (other rooms' unread badges, typing, presence, room news).
//!
//! Order: frames leave in the order they were delivered. The [`Writer`] has one
//! holder at a time, the outlet or the task while it writes. The fan-out writes
//! only while the outlet holds it, nothing is queued and nothing is left half
//! written; otherwise it queues, and goes back to writing directly only once the
//! task has emptied the queue (64 frames a write) and handed the writer back. Once
//! the connection is told to close, nothing more is written directly.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use futures_util::Sink as _;
use futures_util::stream::SplitSink;
use poem::web::websocket::{Message as Frame, WebSocketStream};
use tokio::sync::{Notify, watch};

use super::{CloseReason, Delivery, Outbound};
use crate::chat::read_marks::Position;

/// The writing half of a chat socket.
pub type Sink = SplitSink<WebSocketStream, Frame>;

/// A socket's writing half and how far its client is.
pub struct Writer {
    pub sink: Sink,
    /// The newest event of the room on screen that went out; `None` until the
    /// client said where it is (its resume frame), and until then all waits.
    pub sent_up_to: Option<i64>,
}

/// What the fan-out and a socket's task share.
pub struct Outlet {
    /// The room the socket shows: its messages may be written directly.
    room: i64,
    /// How far the person has read that room, moved as its messages go out.
    read_mark: Position,
    /// Frames that may wait before the client counts as not reading.
    capacity: usize,
    state: Mutex<State>,
    /// Wakes the task: something is queued, or a write is left to finish.
    wake: Notify,
    /// Tells the task to end the connection.
    close: watch::Sender<Option<CloseReason>>,
}

struct State {
    /// Here while the task is not writing.
    writer: Option<Writer>,
    queue: VecDeque<Outbound>,
    /// A direct write left its frame in the sink (the kernel's buffer was full, the
    /// socket's reader held the sink that moment, or the write failed): the task
    /// finishes it, and nothing is written directly until then.
    unflushed: bool,
}

/// What a write from the fan-out came to.
enum Written {
    /// Out, in the kernel's buffer.
    Out,
    /// Taken, but not all of it is out yet (see [`State::unflushed`]).
    Partly,
    /// Not taken: the sink still holds an earlier frame.
    No,
}

impl Outlet {
    pub(super) fn new(
        room: i64,
        read_mark: Position,
        capacity: usize,
    ) -> (Arc<Self>, watch::Receiver<Option<CloseReason>>) {
        let (close, closed) = watch::channel(None);
        let state = State { writer: None, queue: VecDeque::new(), unflushed: false };
        let outlet = Self {
            room,
            read_mark,
            capacity,
            state: Mutex::new(state),
            wake: Notify::new(),
            close,
        };
        (Arc::new(outlet), closed)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing under this lock can panic halfway through a change that matters.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Tells the task to end the connection, for `reason`.
    pub(super) fn close(&self, reason: CloseReason) {
        self.close.send_replace(Some(reason));
    }

    /// Queues `out` for the task.
    pub(super) fn push(&self, out: Outbound) {
        let queued = self.queue(&mut self.lock(), out);
        self.after(queued);
    }

    /// A stored change for the socket's rooms: written at once when it is for the
    /// room on screen, the client is live and nothing waits before it; queued
    /// otherwise.
    pub(super) fn deliver(&self, delivery: &Arc<Delivery>) {
        let mut state = self.lock();
        let direct = delivery.room_id == self.room
            && state.queue.is_empty()
            && !state.unflushed
            // A socket told to close (signed out, say) gets nothing more.
            && self.close.borrow().is_none();
        if direct
            && let Some(writer) = state.writer.as_mut()
            && let Some(sent_up_to) = writer.sent_up_to.as_mut()
        {
            if !delivery.is_new_to(*sent_up_to) {
                return;
            }
            match write_now(&mut writer.sink, &delivery.html) {
                // Not taken: queued below, like any delivery that cannot go directly.
                Written::No => {}
                written => {
                    delivery.went_out(sent_up_to, &self.read_mark);
                    if let Written::Partly = written {
                        state.unflushed = true;
                        drop(state);
                        self.wake.notify_one();
                    }
                    return;
                }
            }
        }
        let queued = self.queue(&mut state, Outbound::Message(delivery.clone()));
        drop(state);
        self.after(queued);
    }

    /// Queues `out`, unless the queue is full: `false` then.
    fn queue(&self, state: &mut State, out: Outbound) -> bool {
        if state.queue.len() >= self.capacity {
            return false;
        }
        state.queue.push_back(out);
        true
    }

    /// Wakes the task for what was queued; a client that let the queue fill up is
    /// not reading, and is told to close (it catches up when it reconnects).
    fn after(&self, queued: bool) {
        if queued {
            self.wake.notify_one();
        } else if self.close.borrow().is_none() {
            metrics::counter!("hearth_slow_clients_dropped_total").increment(1);
            self.close(CloseReason::TooSlow);
        }
    }

    /// Resolves when the task has something to do (see [`Outlet::take`]).
    pub async fn wanted(&self) {
        self.wake.notified().await;
    }

    /// The task takes the writer, and with it up to `most` queued frames once the
    /// client is live. `None` only if the writer was never handed in.
    pub fn take(&self, queued: &mut Vec<Outbound>, most: usize) -> Option<Writer> {
        let mut state = self.lock();
        let writer = state.writer.take()?;
        if writer.sent_up_to.is_some() {
            let n = state.queue.len().min(most);
            queued.extend(state.queue.drain(..n));
        }
        Some(writer)
    }

    /// The task hands the writer back, everything it wrote flushed.
    pub fn put_back(&self, writer: Writer) {
        let mut state = self.lock();
        let more = writer.sent_up_to.is_some() && !state.queue.is_empty();
        state.unflushed = false;
        state.writer = Some(writer);
        drop(state);
        if more {
            self.wake.notify_one();
        }
    }
}

/// A socket's place in the hub, given up when its task ends however it ends: the
/// task of one that panicked would otherwise leave the fan-out writing into a
/// connection that nobody reads, pings or closes.
pub struct Registered {
    pub hub: Arc<super::Hub>,
    pub id: super::ConnId,
    pub outlet: Arc<Outlet>,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.hub.disconnect(self.id);
        // Dropping the writer, if the task left it here, closes the connection.
        drop(self.outlet.take(&mut Vec::new(), 0));
    }
}

/// Writes a frame without waiting: the fan-out must never wait on one client.
fn write_now(sink: &mut Sink, html: &str) -> Written {
    let mut cx = Context::from_waker(Waker::noop());
    let mut sink = Pin::new(sink);
    match sink.as_mut().poll_ready(&mut cx) {
        Poll::Ready(Ok(())) => {}
        // A failed connection: left to the task, whose reads and writes end it.
        Poll::Ready(Err(_)) => return Written::Partly,
        Poll::Pending => return Written::No,
    }
    if sink.as_mut().start_send(Frame::Text(html.to_owned())).is_err() {
        return Written::Partly;
    }
    match sink.poll_flush(&mut cx) {
        Poll::Ready(Ok(())) => Written::Out,
        Poll::Ready(Err(_)) | Poll::Pending => Written::Partly,
    }
}
