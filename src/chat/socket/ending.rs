//! How a chat socket ends: the read position saved at once, and the close frame
//! (with the signed-out notice first, when that is why) and its handshake.

use std::time::Duration;

use futures_util::stream::SplitStream;
use futures_util::{SinkExt, StreamExt};
use poem::web::websocket::{CloseCode, Message as Frame, WebSocketStream};
use tokio::sync::watch;
use tokio::time::timeout;

use super::{Socket, WRITE_TIMEOUT};
use crate::chat::hub::{CloseReason, Sink};
use crate::chat::{read_marks, views};

/// How long to wait for the client's side of the closing handshake.
const CLOSE_WAIT: Duration = Duration::from_secs(2);
/// When the client's close frame cannot be read (the reader stopped at a protocol
/// error), how long to wait instead, so the client reads ours before the connection goes.
const LINGER: Duration = Duration::from_millis(500);

/// How a connection ends, from the server's side.
pub(super) enum Ending {
    /// The client went away or the transport failed: nothing more to send.
    Gone,
    /// The server ends it, for this reason.
    Closed(CloseReason),
    /// The client broke the protocol: close with this code, log it once.
    Abuse(CloseCode, &'static str),
    /// Refused before it started (too many sockets): close with 1008 and the reason.
    Refused(&'static str),
}

impl Socket {
    /// Saves where the person was and closes the connection, saying why.
    pub(super) async fn finish(
        &mut self,
        ending: Ending,
        mut sink: Sink,
        mut incoming: SplitStream<WebSocketStream>,
    ) {
        // At once rather than with the next batch: the page this person opens next
        // counts unread messages from it.
        let read_up_to = self.read_mark.get();
        if read_up_to > self.room.last_read_seq {
            let (db, user_id, room_id) = (&self.state.db, self.user.id, self.room.id);
            let _ = read_marks::mark_read(db, user_id, room_id, read_up_to).await;
        }
        let close = match ending {
            Ending::Gone => None,
            Ending::Closed(reason) => {
                if reason == CloseReason::SignedOut {
                    let notice = views::signed_out_notice(&self.room.slug);
                    let _ = timeout(WRITE_TIMEOUT, sink.send(Frame::Text(notice))).await;
                }
                Some((CloseCode::from(reason.code()), ""))
            }
            Ending::Abuse(code, why) => {
                tracing::warn!(
                    user_id = self.user.id,
                    why,
                    "closed a chat socket for a protocol error"
                );
                Some((code, why))
            }
            Ending::Refused(why) => {
                tracing::info!(user_id = self.user.id, why, "refused a chat socket");
                Some((CloseCode::Policy, why))
            }
        };
        if let Some((code, why)) = close
            && timeout(WRITE_TIMEOUT, sink.send(Frame::close_with(code, why))).await.is_ok()
        {
            // Finish the closing handshake: read until the client's close frame, so
            // the connection is not reset while it still has our close frame unread.
            let _ = timeout(CLOSE_WAIT, async {
                loop {
                    match incoming.next().await {
                        Some(Ok(Frame::Close(_))) => break,
                        Some(Ok(_)) => continue,
                        // After a protocol error the reader has stopped: linger a
                        // moment instead, so the client reads our close frame first.
                        _ => {
                            tokio::time::sleep(LINGER).await;
                            break;
                        }
                    }
                }
            })
            .await;
        }
        let _ = timeout(WRITE_TIMEOUT, sink.close()).await;
    }
}

/// Resolves when the hub tells this connection to close (`None`: the hub let go of it).
pub(super) async fn closed(mut close: watch::Receiver<Option<CloseReason>>) -> Option<CloseReason> {
    loop {
        if let Some(reason) = *close.borrow_and_update() {
            return Some(reason);
        }
        close.changed().await.ok()?;
    }
}
