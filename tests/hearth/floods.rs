//! One member flooding the chat: typing frames, sockets, reconnections, new rooms and
//! conversations are each limited, with a clear answer.

use std::time::Duration;

use reqwest::StatusCode;

use crate::on_both_databases;
use crate::support::{Backend, Browser, Seen, TestApp, postgres_available};

on_both_databases!(
    a_session_may_open_eight_sockets_and_a_person_a_set_number,
    sockets_opened_all_at_once_are_capped_all_the_same,
    opening_sockets_too_often_is_refused,
    starting_rooms_and_conversations_too_fast_is_refused,
);

const SECOND: Duration = Duration::from_secs(1);
const PASSWORD: &str = "analytical engine";

async fn signed_in_again(app: &TestApp, email: &str) -> Browser {
    let browser = app.browser();
    let signed_in = browser.post_form("/login", &[("email", email), ("password", PASSWORD)]).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    browser
}

async fn a_session_may_open_eight_sockets_and_a_person_a_set_number(backend: Backend) {
    let app = backend.spawn_with(|config| config.chat_sockets_per_person = 10).await;
    let laptop = app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    let mut open = Vec::new();
    for _ in 0..8 {
        open.push(app.live_socket(&laptop, "general").await);
    }
    assert_eq!(app.try_socket(&laptop, "general", Some(&app.base)).await.err(), Some(429));

    // Another browser of the same person has sockets of its own, up to the person's 10.
    let phone = signed_in_again(&app, "ada@example.org").await;
    for _ in 0..2 {
        open.push(app.live_socket(&phone, "general").await);
    }
    assert_eq!(app.try_socket(&phone, "general", Some(&app.base)).await.err(), Some(429));

    // A closed socket frees its place.
    open.pop().expect("a socket").close().await;
    for _ in 0..50 {
        if app.state.hub.connections() == 9 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(app.try_socket(&phone, "general", Some(&app.base)).await.is_ok());
}

/// Upgrades that all pass the first look at once: those past the cap are closed with
/// 1008 as soon as they open, so the cap holds.
async fn sockets_opened_all_at_once_are_capped_all_the_same(backend: Backend) {
    let app = backend.spawn().await;
    let ada = app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    let attempts = (0..20).map(|_| app.try_socket(&ada, "general", Some(&app.base)));
    let mut open = Vec::new();
    for attempt in futures_util::future::join_all(attempts).await {
        match attempt {
            Ok(mut ws) => match ws.next(Duration::from_millis(700)).await {
                Seen::Nothing => open.push(ws),
                Seen::Closed(code) => assert_eq!(code, Some(1008)),
                Seen::Text(text) => panic!("before resuming: {text}"),
            },
            Err(status) => assert_eq!(status, 429),
        }
    }
    assert_eq!(open.len(), 8, "eight sockets per session");
}

async fn opening_sockets_too_often_is_refused(backend: Backend) {
    let app = backend.spawn_with(|config| config.chat_socket_opens_per_minute = 3).await;
    let ada = app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    for _ in 0..3 {
        app.live_socket(&ada, "general").await.close().await;
    }
    assert_eq!(app.try_socket(&ada, "general", Some(&app.base)).await.err(), Some(429));
    // Someone else is not slowed down by it.
    let grace = app.signed_up("Grace", "grace@example.org", PASSWORD).await;
    assert!(app.try_socket(&grace, "general", Some(&app.base)).await.is_ok());
}

async fn user_id(browser: &Browser) -> i64 {
    let me: serde_json::Value =
        serde_json::from_str(&browser.get("/api/me").await.body).expect("JSON");
    me["id"].as_i64().expect("an id")
}

async fn starting_rooms_and_conversations_too_fast_is_refused(backend: Backend) {
    // Six an hour, in bursts of two.
    let app = backend.spawn_with(|config| config.chat_rooms_per_hour = 6).await;
    let ada = app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    let grace = app.signed_up("Grace", "grace@example.org", PASSWORD).await;
    let bob = app.signed_up("Bob", "bob@example.org", PASSWORD).await;
    let (grace_id, bob_id) = (user_id(&grace).await, user_id(&bob).await);

    let to_grace = format!("/people/{grace_id}/message");
    assert_eq!(ada.post_form(&to_grace, &[]).await.status, StatusCode::SEE_OTHER);
    assert_eq!(ada.post_form("/rooms", &[("name", "One")]).await.status, StatusCode::SEE_OTHER);

    let refused = ada.post_form("/rooms", &[("name", "Two")]).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.body.contains("new rooms and conversations very quickly"), "{}", refused.body);
    assert!(refused.body.contains(r#"value="Two""#), "what was typed is kept");
    assert!(refused.headers.contains_key("retry-after"));
    assert_eq!(ada.get("/chat/two").await.status, StatusCode::NOT_FOUND, "not made");

    let to_bob = ada.post_form(&format!("/people/{bob_id}/message"), &[]).await;
    assert_eq!(to_bob.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(to_bob.body.contains("new rooms and conversations very quickly"), "{}", to_bob.body);

    // Going back to a conversation that exists starts nothing, and others are not slowed.
    assert_eq!(ada.post_form(&to_grace, &[]).await.status, StatusCode::SEE_OTHER);
    assert_eq!(grace.post_form("/rooms", &[("name", "Two")]).await.status, StatusCode::SEE_OTHER);
}

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
