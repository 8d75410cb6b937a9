//! The session and rooms behind a chat socket. Sending a message keeps the session
//! alive; the socket being open does not. On one timer the socket checks, only
//! reading, whether its session is still signed in and when it now ends (another tab
//! may have kept it alive), and which of its rooms the person is still in: at the
//! session's deadline, and at least every `chat_recheck_every` (a minute), since the
//! notifications that say so at once can be lost.

use std::time::Duration;

use tokio::time::Instant;

use super::Socket;
use crate::accounts::sessions;
use crate::chat::hub::{CloseReason, ConnId};
use crate::chat::rooms;
use crate::error::Result;
use crate::web::session;

/// How often sending a message refreshes the session's "last active".
const KEEP_ALIVE_EVERY: Duration = Duration::from_secs(30);
/// When the session could not be read at a check, how long until trying again.
const RETRY: Duration = Duration::from_secs(30);
/// The shortest wait between two checks, so that none can spin, whatever it read.
const MIN_WAIT: Duration = Duration::from_secs(1);

impl Socket {
    /// The person is chatting: keeps the session alive, at most every
    /// `KEEP_ALIVE_EVERY`, and notices when it ended elsewhere.
    pub(super) async fn keep_session_alive(&mut self) -> Result<()> {
        if self.kept_alive.elapsed() <= KEEP_ALIVE_EVERY {
            return Ok(());
        }
        self.kept_alive = Instant::now();
        let session = session::reopen(&self.state, self.session);
        if sessions::keep_alive(&self.state, &session).await?.is_none() {
            self.state.hub.close_sessions(&[self.session.to_string()], CloseReason::SignedOut);
        }
        Ok(())
    }

    /// The timer's check: when the next is due, or `None` when the session ended.
    pub(super) async fn check(&self, conn: ConnId) -> Option<Instant> {
        let every = self.state.config.chat_recheck_every;
        let session = session::reopen(&self.state, self.session);
        let left = match sessions::time_left(&self.state, &session).await {
            Ok(Some(left)) => left,
            Ok(None) => return None,
            Err(err) => {
                tracing::warn!("chat socket could not read its session: {err:#}");
                return Some(Instant::now() + next_wait(RETRY, every));
            }
        };
        self.check_rooms(conn).await;
        Some(Instant::now() + next_wait(left, every))
    }

    /// Stops the rooms the person is no longer in from reaching this socket.
    async fn check_rooms(&self, conn: ConnId) {
        // Taken before reading the table: a room joined meanwhile is not in it, and
        // must not look left.
        let had = self.state.hub.rooms_of(conn);
        match rooms::ids_of(&self.state.db, self.user.id).await {
            Ok(now) => {
                let gone: Vec<i64> = had.into_iter().filter(|room| !now.contains(room)).collect();
                if !gone.is_empty() {
                    self.state.hub.drop_rooms(conn, &gone);
                }
            }
            Err(err) => tracing::warn!("chat socket could not read its rooms: {err:#}"),
        }
    }
}

/// The wait before a socket's first check: the session's time left, or a random
/// part of the period, so that sockets opened together (after a restart) are spread
/// over it rather than all querying at once, every period.
pub(super) fn first_wait(left: Duration, every: Duration) -> Duration {
    left.min(every.mul_f64(rand::random::<f64>())).max(MIN_WAIT)
}

/// The wait before the next check: the session's time left, or the period less up to
/// a tenth at random, so the checks stay spread out.
fn next_wait(left: Duration, every: Duration) -> Duration {
    left.min(every.mul_f64(1.0 - rand::random::<f64>() / 10.0)).max(MIN_WAIT)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{MIN_WAIT, first_wait, next_wait};

    /// Whatever a check read (a deadline this instant, a failed read that left no time,
    /// a check period of zero), the socket waits at least `MIN_WAIT` before the next:
    /// a socket can never spin on its checks.
    #[test]
    fn no_check_follows_another_sooner_than_the_floor() {
        let zero = Duration::ZERO;
        for (left, every) in
            [(zero, zero), (zero, Duration::from_secs(60)), (Duration::from_millis(1), zero)]
        {
            for _ in 0..100 {
                assert!(next_wait(left, every) >= MIN_WAIT, "{left:?} {every:?}");
                assert!(first_wait(left, every) >= MIN_WAIT, "{left:?} {every:?}");
            }
        }
        // And above the floor, the nearer of the deadline and the period decides.
        let minute = Duration::from_secs(60);
        assert_eq!(next_wait(Duration::from_secs(5), minute), Duration::from_secs(5));
        assert!(next_wait(Duration::from_secs(3600), minute) <= minute);
        assert!(next_wait(Duration::from_secs(3600), minute) >= minute.mul_f64(0.9));
    }
}
