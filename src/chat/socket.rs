//! `GET /ws`: the chat socket. It is authenticated at upgrade by the same session
//! cookie as the pages, belongs to that session (ending the session closes it), and
//! carries HTML both ways: htmx sends the composer as JSON, the server pushes
//! out-of-band fragments.
//!
//! Catch-up: the page holds a hidden "resume" form whose `after` field is the number
//! of the newest change (posted, edited, deleted, reacted) it has applied; every pushed
//! change moves that number forward. htmx sends the form on every (re)connect. The
//! server subscribes the socket first, then sends from the database every change
//! numbered above `after`, then the live ones, skipping any it already sent: nothing
//! is missed between the page render and the socket, across a network drop, or
//! across a server restart, and nothing is applied twice (see `changes.rs`).
//!
//! Besides notifications, which may be lost, each socket checks by itself, on one
//! timer, that its session and rooms are still its own (see `keep_alive`).
//!
//! Limits: opening sockets is rate-limited per person and capped per session and per
//! person (429 at the upgrade, or 1008 when upgrades raced past the first look), and
//! typing is taken note of at most every [`TYPING_EVERY`].
//!
//! This file has the upgrade and the connection's loop; how a connection ends is in
//! `ending`, and its session and rooms' checks in `keep_alive`.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::stream::SplitStream;
use futures_util::{SinkExt, StreamExt};
use poem::http::StatusCode;
use poem::web::websocket::{CloseCode, Message as Frame, WebSocket, WebSocketStream};
use poem::web::{Data, Query};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;
use tokio::time::{Instant, interval, sleep_until, timeout};
use tower_sessions::Session;
use tower_sessions::session::Id;

mod ending;
mod keep_alive;

use self::ending::{Ending, closed};
use super::changes::{self, Kind};
use super::hub::{CloseReason, Outbound, Registered, Sink, TYPING_EVERY, Writer};
use super::messages;
use super::protocol::{self, Incoming, Received, websocket_config};
use super::read_marks::Position;
use super::rooms::{self, MyRoom};
use super::settings::About;
use super::views::{self, Oob};
use crate::AppState;
use crate::accounts::{User, sessions};
use crate::error::Result;
use crate::web::{MaybeUser, protect};

/// How long a client may take to accept a frame before it counts as gone.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// The most missed changes replayed one by one on (re)connect.
const CATCH_UP: i64 = 500;
/// How often the socket is pinged, so it is never quiet for long (proxies close
/// connections that are).
const PING_EVERY: Duration = Duration::from_secs(25);
/// The most queued frames taken into one write.
const WRITE_BATCH: usize = 64;

/// The query string: the room the page shows (`general` without one).
#[derive(Deserialize)]
pub struct Params {
    room: Option<String>,
}

/// Upgrades a request from one of Hearth's pages, signed in and in the room, to a
/// chat socket.
#[handler]
pub async fn upgrade(
    req: &Request,
    ws: WebSocket,
    state: Data<&AppState>,
    Data(session): Data<&Session>,
    MaybeUser(viewer): MaybeUser,
    Query(params): Query<Params>,
) -> Result<Response> {
    // A page on another site must not open a socket with this person's cookie.
    if !protect::is_same_origin_socket(req, &state.origin) {
        tracing::warn!("refused a cross-site WebSocket");
        return Ok(StatusCode::FORBIDDEN.into_response());
    }
    let (Some(user), Some(session_id)) = (viewer, session.id()) else {
        return Ok(StatusCode::UNAUTHORIZED.into_response());
    };
    state.chat_limits.socket_opened_by(user.id)?;
    if let Err(too_many) = state.hub.has_room_for(user.id, &session_id.to_string()) {
        return Ok((StatusCode::TOO_MANY_REQUESTS, too_many.reason()).into_response());
    }
    let slug = params.room.as_deref().unwrap_or("general");
    let Some(room) = rooms::find_mine(&state.db, user.id, slug).await? else {
        return Ok(StatusCode::NOT_FOUND.into_response());
    };
    let my_rooms = rooms::mine(&state.db, user.id).await?;
    // Read before the socket subscribes: the feed's starting point (see feed.rs).
    for room in &my_rooms {
        state.feed.subscribe(room.id, room.last_event).await;
    }
    // The session is read again whenever it is needed, not held: its loaded record
    // would stay in memory for as long as the socket is open.
    let left = sessions::deadline(&state, session).await?;
    let check_at = Instant::now() + keep_alive::first_wait(left, state.config.chat_recheck_every);
    let read_mark = state.read_marks.open(user.id, room.id, room.last_read_seq);
    let connection = Box::new(Socket {
        state: state.clone(),
        session: session_id,
        check_at,
        user,
        room,
        unread: my_rooms.iter().map(|r| (r.id, (r.unread(), r.mentions))).collect(),
        room_ids: my_rooms.iter().map(|r| r.id).collect(),
        resumed: false,
        caught_up_to: None,
        read_mark,
        kept_alive: Instant::now(),
        typed_at: None,
    });
    Ok(ws
        .config(websocket_config())
        .on_upgrade(move |stream| connection.run(stream))
        .into_response())
}

/// Writes the frames and flushes once: one system call for all of them when the
/// kernel's buffer has room.
async fn write<S>(sink: &mut S, frames: Vec<Frame>) -> Result<(), S::Error>
where
    S: futures_util::Sink<Frame> + Unpin,
{
    for frame in frames {
        sink.feed(frame).await?;
    }
    sink.flush().await
}

/// One open chat socket: whose, the room it shows, and how far its client is.
struct Socket {
    state: AppState,
    session: Id,
    /// When to check the session and rooms first (see keep_alive.rs).
    check_at: Instant,
    user: User,
    room: MyRoom,
    /// Every room of the person: the socket receives them all.
    room_ids: Vec<i64>,
    /// Unread messages and unread mentions of the rooms not on screen, for the
    /// sidebar badges.
    unread: HashMap<i64, (i64, i64)>,
    /// Whether the client said where it is (its resume frame): until then, what the
    /// hub sends waits.
    resumed: bool,
    /// Where the catch-up being sent leaves the client: live frames follow from there.
    caught_up_to: Option<i64>,
    /// How far the person has read the room on screen; the batched saves read it
    /// too (see read_marks.rs).
    read_mark: Position,
    /// When sending last kept the session alive.
    kept_alive: Instant,
    /// When typing was last taken note of.
    typed_at: Option<Instant>,
}

impl Socket {
    /// Serves the connection until it ends.
    ///
    /// Why boxed, and split before the future is made: every idle socket keeps its
    /// task's future, and a future keeps room for its arguments for its whole life.
    /// Passed inline, the socket would be stored twice (in the callback poem keeps,
    /// and in the future) and the whole stream once more beside its two halves.
    fn run(self: Box<Self>, stream: WebSocketStream) -> impl Future<Output = ()> {
        let (sink, incoming) = stream.split();
        self.serve(sink, incoming)
    }

    async fn serve(mut self: Box<Self>, sink: Sink, mut incoming: SplitStream<WebSocketStream>) {
        let hub = self.state.hub.clone();
        let connected = hub.connect(
            self.user.id,
            &self.user.name,
            &self.session.to_string(),
            (self.room.id, self.read_mark.clone()),
            &self.room_ids,
        );
        let conn = match connected {
            Ok(conn) => conn,
            // Past the cap after all: upgrades raced past the first look together.
            Err(too_many) => {
                Box::pin(self.finish(Ending::Refused(too_many.reason()), sink, incoming)).await;
                return;
            }
        };
        let outlet = conn.outlet;
        let _registered = Registered { hub: hub.clone(), id: conn.id, outlet: outlet.clone() };
        outlet.put_back(Writer { sink, sent_up_to: None });
        let mut ping = interval(PING_EVERY);
        // One timer for the session's deadline and the periodic checks, moved at each
        // check: a new one on every wake would be put in and taken out of tokio's
        // timer wheel per wake.
        let check = sleep_until(self.check_at);
        tokio::pin!(check);
        // Likewise the hub's close signal: one future for the connection's life, so a
        // wake checks it instead of adding and removing a waiter.
        let closed = closed(conn.close);
        tokio::pin!(closed);
        let mut queued = Vec::new();

        let (ending, writer) = 'conn: loop {
            let step = tokio::select! {
                biased;
                reason = &mut closed => Err(reason.map_or(Ending::Gone, Ending::Closed)),
                frame = incoming.next() => Box::pin(self.on_frame(frame)).await,
                // What is queued is taken with the writer, below.
                () = outlet.wanted(), if self.resumed => Ok(Vec::new()),
                _ = ping.tick() => Ok(vec![Frame::Ping(Vec::new())]),
                () = &mut check => match Box::pin(self.check(conn.id)).await {
                    Some(next) => { check.as_mut().reset(next); Ok(Vec::new()) }
                    None => Err(Ending::Closed(CloseReason::SignedOut)),
                },
            };
            // The writer is the task's until it is handed back: nothing is written
            // directly meanwhile, so these frames and the queued ones keep their order.
            let Some(mut writer) = outlet.take(&mut queued, WRITE_BATCH) else {
                tracing::error!("a chat socket's writer was not handed back");
                return; // `_registered` disconnects it.
            };
            let mut frames = match step {
                Ok(frames) => frames,
                Err(ending) => break (ending, writer),
            };
            if let Some(from) = self.caught_up_to.take() {
                // The catch-up goes out now: live frames follow it, from where it ends.
                writer.sent_up_to = Some(from);
            }
            if let Some(sent_up_to) = writer.sent_up_to.as_mut() {
                for out in queued.drain(..) {
                    frames.extend(self.on_outbound(out, sent_up_to));
                }
            }
            // Also when nothing is new: a write from the fan-out may be left to finish.
            // A client that does not take the frames within the timeout is gone, and
            // one the hub gave up on (queue full) is dropped without waiting.
            tokio::select! {
                sent = timeout(WRITE_TIMEOUT, write(&mut writer.sink, frames)) => {
                    if !matches!(sent, Ok(Ok(()))) {
                        break 'conn (Ending::Gone, writer);
                    }
                }
                reason = &mut closed => break 'conn (match reason {
                    Some(CloseReason::TooSlow) | None => Ending::Gone,
                    Some(reason) => Ending::Closed(reason),
                }, writer),
            }
            outlet.put_back(writer);
        };

        hub.disconnect(conn.id);
        // Boxed, like every rarely taken path here: the task of an idle socket is as
        // small as its busiest moment, for each of thousands of sockets.
        Box::pin(self.finish(ending, writer.sink, incoming)).await;
    }

    /// Acts on what the client sent; the frames are the answer to it.
    async fn on_frame(
        &mut self,
        frame: Option<std::io::Result<Frame>>,
    ) -> Result<Vec<Frame>, Ending> {
        let incoming = match protocol::read(frame) {
            Received::Incoming(incoming) => incoming,
            Received::Nothing => return Ok(Vec::new()),
            Received::Gone => return Err(Ending::Gone),
            Received::Broken(code, why) => return Err(Ending::Abuse(code, why)),
        };
        let result = match incoming {
            // htmx sends one per connection; more is someone making the server read.
            Incoming::Resume { .. } if self.resumed => {
                return Err(Ending::Abuse(CloseCode::Policy, "resume sent twice"));
            }
            Incoming::Resume { after } => self.resume(after).await,
            Incoming::Send { body } => self.send(&body).await,
            // Dropped without a word when too soon: the notice outlasts the throttle.
            // Nobody types in an archived room.
            Incoming::Typing if self.room.archived => Ok(Vec::new()),
            Incoming::Typing => {
                if self.typed_at.is_none_or(|at| at.elapsed() >= TYPING_EVERY) {
                    self.typed_at = Some(Instant::now());
                    let (room, user) = (self.room.id, &self.user);
                    super::bus::typing(&self.state, room, user.id, &user.name).await;
                }
                Ok(Vec::new())
            }
        };
        result.map_err(|err| {
            tracing::error!("chat socket failed: {err:#}");
            Ending::Closed(CloseReason::Restarting)
        })
    }

    /// Sends every change after event `after` from the database, then switches to live.
    async fn resume(&mut self, after: i64) -> Result<Vec<Frame>> {
        let (db, room) = (&self.state.db, self.room.id);
        let missed = changes::since(db, room, after, CATCH_UP + 1).await?;
        let mut frames = Vec::new();
        let (from, newest) = if missed.len() as i64 > CATCH_UP {
            // Too far behind to replay one by one: show the newest page, as a reload would.
            let (latest, position) = messages::latest_with_position(db, room).await?;
            frames.push(Frame::Text(views::messages_replacement(
                &self.room.slug,
                &latest,
                position,
            )));
            (position, latest.last().map(|m| m.seq))
        } else {
            frames.extend(missed.iter().map(|change| Frame::Text(views::change_html(change))));
            let posted = missed.iter().filter(|change| change.kind == Kind::Posted);
            (missed.last().map_or(after, |c| c.event), posted.map(|c| c.message.seq).max())
        };
        (self.resumed, self.caught_up_to) = (true, Some(from));
        if let Some(seq) = newest {
            self.read_mark.moved_to(seq);
        }
        let rooms = rooms::mine(&self.state.db, self.user.id).await?;
        self.unread = rooms.iter().map(|r| (r.id, (r.unread(), r.mentions))).collect();
        frames.push(Frame::Text(views::sidebar(&rooms, &self.room.slug, Oob::Yes).into_string()));
        // Settings changed while the page was away: its name and topic as they are
        // now, and whether it is archived (which shows or hides the composer).
        if let Some(room) = rooms.iter().find(|r| r.id == self.room.id && !r.is_direct()) {
            self.room = room.clone();
            let news = views::room_news(&About::from(room));
            frames.push(Frame::Text(news.viewers));
        }
        // Last, so a client can take the cleared status as "caught up" (the tests do).
        frames.push(Frame::Text(views::connection_status(Oob::Yes).into_string()));
        Ok(frames)
    }

    /// Sends a message from the composer; the answer is the composer, emptied, or
    /// with what was typed and why it was not sent.
    async fn send(&mut self, body: &str) -> Result<Vec<Frame>> {
        self.keep_session_alive().await?;
        let problem = super::send(&self.state, &self.user, self.room.id, body, &[])
            .await?
            .err()
            .map(super::Refused::message);
        let kept = if problem.is_some() { body } else { "" };
        let composer = views::Composer { body: kept, problem, kept: &[] };
        let html = views::composer(&self.room.slug, &self.room.title, &composer, Oob::Yes);
        Ok(vec![Frame::Text(html.into_string())])
    }

    /// What the hub pushed, as the frames this client needs of it.
    /// `sent_up_to`: the newest event of the room on screen the client has.
    fn on_outbound(&mut self, out: Outbound, sent_up_to: &mut i64) -> Vec<Frame> {
        match out {
            Outbound::Message(m) if m.room_id == self.room.id => {
                if !m.is_new_to(*sent_up_to) {
                    return Vec::new();
                }
                m.went_out(sent_up_to, &self.read_mark);
                vec![Frame::Text(m.html.to_string())]
            }
            // Only new messages count as unread elsewhere.
            Outbound::Message(m) if !m.posted => Vec::new(),
            Outbound::Message(m) => {
                let (unread, mentions) = self.unread.entry(m.room_id).or_default();
                let mut html = String::new();
                if m.author_id == self.user.id {
                    // Posting in a room reads it.
                    (*unread, *mentions) = (0, 0);
                } else {
                    *unread += 1;
                }
                html.push_str(&views::unread_badge(m.room_id, *unread, Oob::Yes).into_string());
                if m.mentions.contains(&self.user.id) || m.author_id == self.user.id {
                    *mentions += i64::from(m.author_id != self.user.id);
                    let badge = views::mention_badge(m.room_id, *mentions, Oob::Yes);
                    html.push_str(&badge.into_string());
                }
                vec![Frame::Text(html)]
            }
            Outbound::Typing(typers) => {
                let names: Vec<&str> = typers
                    .iter()
                    .filter(|(id, _)| *id != self.user.id)
                    .map(|(_, name)| name.as_str())
                    .collect();
                vec![Frame::Text(views::typing_line(&names, Oob::Yes).into_string())]
            }
            Outbound::Presence(html) => vec![Frame::Text(html.to_string())],
            Outbound::Room(news) if news.room_id == self.room.id => {
                // The composer this socket renders after a send names the room.
                self.room.title.clone_from(&news.name);
                self.room.archived = news.archived;
                vec![Frame::Text(news.viewers.clone())]
            }
            Outbound::Room(news) => vec![Frame::Text(news.members.clone())],
        }
    }
}
