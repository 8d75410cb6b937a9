//! One member flooding the chat: typing frames, sockets, reconnections, new rooms and
//! conversations are each limited, with a clear answer.

use std::time::Duration;

use crate::support::{Backend, postgres_available};

const SECOND: Duration = Duration::from_secs(1);
const PASSWORD: &str = "analytical engine";

/// Typing frames, however many, are announced to the other instances (a `pg_notify`
/// each) at most once every two seconds per person and room, over all their tabs.
#[tokio::test]
async fn a_typing_flood_is_announced_once_every_two_seconds() {
    if !postgres_available().await {
        return;
    }
    let app = Backend::Postgres.spawn().await;
    let ada = app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    let grace = app.signed_up("Grace", "grace@example.org", PASSWORD).await;
    let mut listener =
        sqlx::postgres::PgListener::connect(app.database_url()).await.expect("listener");
    listener.listen(hearth::chat::bus::TYPING).await.expect("LISTEN");
    let mut tabs = [app.live_socket(&ada, "general").await, app.live_socket(&ada, "general").await];
    let mut grace_ws = app.live_socket(&grace, "general").await;

    let started = tokio::time::Instant::now();
    for _ in 0..25 {
        for tab in &mut tabs {
            tab.send_json(serde_json::json!({"kind": "typing", "HEADERS": {}})).await;
        }
    }
    let flood = started.elapsed();
    grace_ws.expect("Ada is typing", 3 * SECOND).await;

    let mut announced = 0;
    while let Ok(note) = tokio::time::timeout(SECOND, listener.recv()).await {
        note.expect("notification");
        announced += 1;
    }
    let allowed = 1 + flood.as_secs() / 2;
    assert!((1..=allowed).contains(&announced), "{announced} announcements in {flood:?}");
}
