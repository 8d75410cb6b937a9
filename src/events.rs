//! What one capability announces and others act on, so that neither reaches into
//! the other: accounts say that sessions ended, and the chat closes their sockets.
//!
//! Listeners run synchronously, in the announcer's task, in the order they
//! subscribed: an event is acted on before the announcing call returns, and none is
//! dropped (a broadcast channel would drop events for a listener that lags). So a
//! listener must be quick and must not wait; one with slow work hands it to a task.
//!
//! These are this process's events. What must also reach other Hearth processes
//! travels through the database (see `accounts::sessions` and `chat::bus`), and
//! arrives there as the same event.

use std::sync::{Arc, RwLock};

/// Something that happened, as the capability that made it happen says it.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// These sessions are signed out (sign-out, "sign out other sessions", a
    /// password change, deactivation, or expiry noticed): nothing may act for them.
    SessionsEnded(&'a [String]),
    /// Message `seq` of room `room_id` is stored (and on its way to open pages).
    MessageStored { room_id: i64, seq: i64 },
}

type Listener = Arc<dyn Fn(&Event<'_>) + Send + Sync>;

/// The process's listeners. Subscribing happens at start-up; announcing anytime.
#[derive(Default)]
pub struct Events {
    listeners: RwLock<Vec<Listener>>,
}

impl Events {
    /// Calls `listener` for every event announced from now on.
    pub fn subscribe(&self, listener: impl Fn(&Event<'_>) + Send + Sync + 'static) {
        self.write().push(Arc::new(listener));
    }

    /// Tells every listener, before returning.
    pub fn announce(&self, event: Event<'_>) {
        // Cloned out of the lock, so a listener may itself subscribe or announce.
        let listeners: Vec<Listener> = self.read().clone();
        for listener in listeners {
            listener(&event);
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Listener>> {
        // A listener that panicked cannot have left the list half-changed.
        self.listeners.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Listener>> {
        self.listeners.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[test]
    fn every_listener_hears_every_event_before_announce_returns() {
        let events = Events::default();
        let heard = Arc::new(Mutex::new(Vec::new()));
        for who in ["chat", "push"] {
            let heard = heard.clone();
            events.subscribe(move |event| {
                if let Event::SessionsEnded(ids) = event {
                    heard.lock().unwrap().push(format!("{who}:{}", ids.join(",")));
                }
            });
        }
        events.announce(Event::SessionsEnded(&["a".into(), "b".into()]));
        assert_eq!(*heard.lock().unwrap(), ["chat:a,b", "push:a,b"]);
    }
}
