//! Who is told of a message, and the worker that pushes it to their devices.
//!
//! A stored message is news for each member (not its author) whose level for the
//! room asks for it: every message, or those that mention them. Someone with a
//! socket showing the room on this instance sees it already and is not told (a
//! page open through another instance does not count: with several instances,
//! such a person may get a notification of what is on their screen).
//! Each of their devices gets one queued notification ([`crate::queue`]); the
//! worker encrypts it for the device, signs the request with the VAPID key, and
//! gives the push service 10 seconds. A 404 or 410 means the subscription is gone
//! and it is forgotten; 429, 5xx or no answer is tried again three times within a
//! few minutes (a notification later than that is noise); anything else drops it.

use std::time::Duration;

use serde::Serialize;

use super::crypto::Receiver;
use super::subscriptions;
use crate::chat::{messages, rooms};
use crate::db::Db;
use crate::error::Result;
use crate::{AppState, on_db, queue};

pub const TIMEOUT: Duration = Duration::from_secs(10);
const QUEUE: &str = "push_deliveries";
const MOST_ATTEMPTS: i64 = 4;
/// How long a push service keeps a notification for a device that is offline.
const TTL: &str = "86400";

/// What the service worker shows (see `sw.js`).
#[derive(Serialize)]
struct Notification {
    title: String,
    body: String,
    url: String,
    /// One notification per room: a newer one replaces it.
    tag: String,
}

/// Queues a notification of message `seq` of `room_id` for every device that
/// should have one.
/// `watching` had a socket showing the room when it was delivered.
pub async fn tell_members(
    state: &AppState,
    room_id: i64,
    seq: i64,
    watching: &std::collections::HashSet<i64>,
) -> Result<()> {
    let db = &state.db;
    // Most messages are news for no device: that is one query, and nothing more.
    let devices = devices_to_tell(db, room_id, seq).await?;
    if devices.is_empty() {
        return Ok(());
    }
    let Some(message) = messages::one(db, room_id, seq).await? else { return Ok(()) };
    let mut queued = false;
    for (subscription, user_id) in devices {
        if watching.contains(&user_id) {
            continue;
        }
        // Titled as the person sees the room: a conversation by its other people.
        let Some(room) = rooms::find_mine_by_id(db, user_id, room_id).await? else { continue };
        let place = if room.is_direct() { String::new() } else { format!(" in #{}", room.title) };
        let body: String = message.body.chars().take(200).collect();
        let note = Notification {
            title: format!("{}{place}", message.author_name),
            body: if body.is_empty() { "Sent a file".into() } else { body },
            url: format!("/chat/{}/messages?around={seq}#m-{seq}", room.slug),
            tag: format!("room-{room_id}"),
        };
        let payload = serde_json::to_string(&note).map_err(anyhow::Error::from)?;
        on_db!(db, pool => sqlx::query(
            "INSERT INTO push_deliveries (subscription_id, payload, due_at) VALUES ($1, $2, $3)",
        )
        .bind(subscription)
        .bind(payload)
        .bind(queue::now_ms())
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        queued = true;
    }
    if queued {
        state.push.wake.notify_one();
    }
    Ok(())
}

/// (subscription, person) for every device of a member (not the author) whose
/// level asks for this message.
async fn devices_to_tell(db: &Db, room_id: i64, seq: i64) -> Result<Vec<(i64, i64)>> {
    Ok(on_db!(db, pool => sqlx::query_as(
        "SELECT s.id, m.user_id FROM memberships m
         JOIN rooms r ON r.id = m.room_id
         JOIN users u ON u.id = m.user_id
         JOIN push_subscriptions s ON s.user_id = m.user_id
         -- Only while the session that turned it on lasts (one that expired unseen
         -- announced nothing).
         JOIN user_sessions us ON us.session_id = s.session_id
         WHERE m.room_id = $1 AND u.deactivated_at IS NULL
           AND m.user_id <> (SELECT g.user_id FROM messages g WHERE g.room_id = $1 AND g.seq = $2)
           AND CASE COALESCE(m.notify, CASE WHEN r.kind = 'direct' THEN 'everything' ELSE 'mentions' END)
               WHEN 'everything' THEN TRUE
               WHEN 'mentions' THEN EXISTS (SELECT 1 FROM mentions x
                   WHERE x.room_id = $1 AND x.seq = $2 AND x.user_id = m.user_id)
               ELSE FALSE END",
    )
    .bind(room_id)
    .bind(seq)
    .fetch_all(pool)
    .await)?)
}

#[derive(Debug, sqlx::FromRow)]
struct Waiting {
    id: i64,
    subscription_id: i64,
    payload: String,
    attempts: i64,
    endpoint: String,
    p256dh: String,
    auth: String,
}

/// Pushes what waits, until the process stops.
pub async fn keep_pushing(state: AppState) {
    let queue = queue::Queue {
        table: QUEUE,
        columns: "id, subscription_id, payload, attempts,
            (SELECT endpoint FROM push_subscriptions s WHERE s.id = subscription_id) AS endpoint,
            (SELECT p256dh FROM push_subscriptions s WHERE s.id = subscription_id) AS p256dh,
            (SELECT auth FROM push_subscriptions s WHERE s.id = subscription_id) AS auth",
        at_once: 8,
        lease: Duration::from_secs(60),
        idle: Duration::from_secs(30),
    };
    queue::work(
        state,
        queue,
        |state| &state.push.wake,
        |state, waiting: Waiting| async move { push(&state, &waiting).await },
    )
    .await
}

/// Pushes one notification, and settles what comes of it.
async fn push(state: &AppState, waiting: &Waiting) -> Result<()> {
    let db = &state.db;
    let drop_it = || queue::forget(db, QUEUE, waiting.id);
    let (Ok(endpoint), Ok(receiver)) =
        (url::Url::parse(&waiting.endpoint), Receiver::parse(&waiting.p256dh, &waiting.auth))
    else {
        return drop_it().await;
    };
    let Ok(body) = super::crypto::encrypt(&receiver, waiting.payload.as_bytes()) else {
        return drop_it().await;
    };
    let Ok(request) = state.push.outbound.post(&endpoint) else { return drop_it().await };
    let sent = request
        .header("authorization", state.push.vapid.authorization(&endpoint, crate::db::now()))
        .header("content-encoding", "aes128gcm")
        .header("content-type", "application/octet-stream")
        .header("ttl", TTL)
        .header("urgency", "high")
        .body(body)
        .send()
        .await;
    let status = match sent {
        Ok(response) => response.status().as_u16(),
        Err(err) => {
            tracing::info!(push = waiting.id, "push service did not answer: {err}");
            0
        }
    };
    match status {
        200..=299 => {
            on_db!(db, pool => sqlx::query("UPDATE push_subscriptions SET last_used_at = $2 WHERE id = $1")
                .bind(waiting.subscription_id)
                .bind(crate::db::now())
                .execute(pool)
                .await
                .map(|done| done.rows_affected()))?;
            drop_it().await
        }
        404 | 410 => subscriptions::forget(db, waiting.subscription_id).await,
        0 | 429 | 500..=599 if waiting.attempts < MOST_ATTEMPTS => {
            let wait = state.config.push_retry_after * 3u32.pow((waiting.attempts - 1) as u32);
            queue::retry_later(db, QUEUE, waiting.id, wait.as_millis() as i64).await
        }
        _ => {
            tracing::info!(push = waiting.id, status, "push service refused a notification");
            drop_it().await
        }
    }
}
