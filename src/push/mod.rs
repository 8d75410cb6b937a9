//! Notifications on people's devices when the tab is closed: Web Push.
//!
//! "Notify me on this device" on the dashboard registers the service worker the
//! binary serves (`/sw.js`) and subscribes the browser with this server's VAPID
//! key; the subscription is stored for the session that made it and ends with it.
//! When a message is stored, everyone in the room whose notification level asks
//! for it (see `chat::notifications`), and who has no socket showing the room on
//! the instance that stored it, gets a notification on each of their devices.
//!
//! - [`crypto`]: the payload's encryption (RFC 8291) and the VAPID token (RFC 8292).
//! - [`subscriptions`]: the devices: subscribing, listing, removing.
//! - [`sending`]: who is told of a message, and the worker that pushes (queued in
//!   the database, time-bounded, retried; expired subscriptions removed).
//!
//! Push service addresses are URLs strangers hand the server: they go through
//! [`crate::outbound`] (https, public addresses only, no redirects).

pub mod crypto;
pub mod sending;
pub mod subscriptions;

use poem::http::header;
use poem::{Response, Route, get, handler, post};
use tokio::sync::Notify;

use self::crypto::Vapid;
use crate::db::{self, Db};
use crate::events::{Event, Events};
use crate::outbound::Outbound;
use crate::{AppState, Config, on_db};

/// What Web Push keeps in the shared state.
pub struct Push {
    pub vapid: Vapid,
    pub outbound: Outbound,
    /// Wakes the worker: a notification is waiting.
    pub wake: Notify,
}

impl Push {
    /// Reads the VAPID key (VAPID_PRIVATE_KEY, or the one in the database, made at
    /// the first start by whichever instance gets there first).
    pub async fn open(config: &Config, db: &Db, base_url: &url::Url) -> anyhow::Result<Self> {
        let private = match &config.vapid_private_key {
            Some(key) => key.clone(),
            None => {
                let made = Vapid::new_private();
                on_db!(db, pool => async {
                    sqlx::query(
                        "INSERT INTO web_push_keys (id, private_key, created_at) VALUES (1, $1, $2)
                         ON CONFLICT (id) DO NOTHING",
                    )
                    .bind(&made)
                    .bind(db::now())
                    .execute(pool)
                    .await?;
                    sqlx::query_scalar::<_, String>("SELECT private_key FROM web_push_keys WHERE id = 1")
                        .fetch_one(pool)
                        .await
                }.await)?
            }
        };
        // RFC 8292 asks for a mailto: or https: contact; some push services refuse
        // anything else.
        let contact = match (&config.mail_from, base_url.scheme()) {
            (_, "https") => base_url.origin().ascii_serialization(),
            (Some(from), _) => match from.parse::<lettre::message::Mailbox>() {
                Ok(mailbox) => format!("mailto:{}", mailbox.email),
                Err(_) => format!("mailto:hearth@{}", base_url.host_str().unwrap_or("localhost")),
            },
            (None, _) => format!("mailto:hearth@{}", base_url.host_str().unwrap_or("localhost")),
        };
        Ok(Push {
            vapid: Vapid::from_private(&private, &contact)?,
            outbound: Outbound::new(config.web_push_allow_loopback, sending::TIMEOUT)?,
            wake: Notify::new(),
        })
    }
}

pub fn routes(route: Route) -> Route {
    route
        .at("/sw.js", get(service_worker))
        .at("/push/subscriptions", post(subscriptions::subscribe))
        .at("/push/subscriptions/:id/remove", post(subscriptions::remove))
}

/// What Web Push does when others announce: a stored message may be news for
/// someone's devices; ended sessions take their devices' subscriptions with them.
/// Both in tasks of their own (listeners must not wait).
pub fn listen(events: &Events, state: std::sync::Weak<crate::app::Shared>) {
    events.subscribe(move |event| {
        let Some(shared) = state.upgrade() else { return };
        let state = AppState::from(shared);
        match *event {
            Event::MessageStored { room_id, seq } => {
                // Who sees it now, as it is delivered (not when the task runs).
                let watching = state.hub.watching(room_id);
                tokio::spawn(async move {
                    if let Err(err) = sending::tell_members(&state, room_id, seq, &watching).await {
                        tracing::warn!(room_id, seq, "could not queue notifications: {err:#}");
                    }
                });
            }
            Event::SessionsEnded(ids) => {
                let ids = ids.to_vec();
                tokio::spawn(async move {
                    if let Err(err) = subscriptions::end_with_sessions(&state.db, &ids).await {
                        tracing::warn!("could not remove the ended sessions' devices: {err:#}");
                    }
                });
            }
        }
    });
}

/// The service worker: shows a pushed notification, and opens (or focuses) its
/// page when it is clicked. Served from the root so that its scope is every page.
#[handler]
fn service_worker() -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, "text/javascript; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(include_str!("sw.js"))
}
