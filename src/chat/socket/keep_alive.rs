//! The session behind a chat socket: kept alive while the person chats, and
//! checked at its deadline, since another tab may have kept it alive meanwhile.

use std::time::Duration;

use tokio::time::Instant;

use super::Socket;
use crate::accounts::sessions;
use crate::chat::hub::CloseReason;
use crate::error::Result;
use crate::web::session;

/// How often sending a message refreshes the session's "last active".
const KEEP_ALIVE_EVERY: Duration = Duration::from_secs(30);
/// When the session could not be read at its deadline, how long until trying again.
const RETRY: Duration = Duration::from_secs(30);

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

    /// At the deadline: the new one if the session is still alive, `None` if it ended.
    pub(super) async fn expiry_check(&mut self) -> Option<Instant> {
        let session = session::reopen(&self.state, self.session);
        match sessions::keep_alive(&self.state, &session).await {
            Ok(Some(_)) => {
                let left = sessions::deadline(&self.state, &session).await.unwrap_or_default();
                Some(Instant::now() + left)
            }
            Ok(None) => None,
            Err(_) => Some(Instant::now() + RETRY),
        }
    }
}
