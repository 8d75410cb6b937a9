//! Rooms, history and reading without JavaScript.

use std::time::Duration;

use reqwest::StatusCode;

use crate::on_both_databases;
use crate::support::{Backend, Browser, Socket, TestApp, message_numbers};

on_both_databases!(
    creating_a_room_makes_a_slug_and_refuses_a_taken_name,
    people_browse_join_and_leave_rooms,
    without_javascript_a_person_reads_and_posts,
    older_messages_load_as_a_fragment_or_a_page,
    unread_counts_and_the_new_messages_divider_follow_reading,
    reading_in_an_open_chat_clears_unread_counts_while_it_stays_open,
    reading_in_a_closed_chat_counts_at_once,
);

const PASSWORD: &str = "analytical engine";

async fn creating_a_room_makes_a_slug_and_refuses_a_taken_name(backend: Backend) {
    let app = backend.spawn().await;
    let ada = app.signed_up("Ada", "ada@example.org", PASSWORD).await;

    let made = ada.post_form("/rooms", &[("name", "  Book Club! ")]).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER);
    assert_eq!(made.location(), "/chat/book-club");
    assert!(ada.get("/chat/book-club").await.body.contains("#Book Club!"));

    let again = ada.post_form("/rooms", &[("name", "book club")]).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("already a room with that name"));
    assert!(again.body.contains(r#"value="book club""#), "what was typed is kept");

    for (name, problem) in [
        ("", "Give the room a name."),
        ("!!!", "at least one letter"),
        ("DM me", "direct messages"),
        // Shown as "Book Club" followed by reversed text: someone else's room, say.
        ("Book Club\u{202E}bulc", "change the direction of text"),
        ("Book\u{2066}Club", "change the direction of text"),
    ] {
        let bad = ada.post_form("/rooms", &[("name", name)]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(bad.body.contains(problem), "{name}: {problem}");
    }
}

async fn people_browse_join_and_leave_rooms(backend: Backend) {
    let app = backend.spawn().await;
    let ada = app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    let grace = app.signed_up("Grace", "grace@example.org", PASSWORD).await;
    ada.post_form("/rooms", &[("name", "Knitting")]).await;

    let browse = grace.get("/rooms").await;
    assert!(browse.body.contains("#Knitting") && browse.body.contains("1 member"));
    assert!(browse.body.contains(r#"action="/chat/knitting/join""#));

    assert_eq!(grace.post_form("/chat/knitting/join", &[]).await.location(), "/chat/knitting");
    assert!(grace.get("/chat").await.body.contains(r#"href="/chat/knitting""#), "in the sidebar");
    assert!(grace.get("/rooms").await.body.contains("2 members"));

    assert_eq!(grace.post_form("/chat/knitting/leave", &[]).await.location(), "/chat");
    assert_eq!(grace.get("/chat/knitting").await.status, StatusCode::NOT_FOUND);
    // Everyone stays in general.
    grace.post_form("/chat/general/leave", &[]).await;
    assert_eq!(grace.get("/chat/general").await.status, StatusCode::OK);
    assert_eq!(grace.post_form("/chat/nowhere/join", &[]).await.status, StatusCode::NOT_FOUND);
}

async fn without_javascript_a_person_reads_and_posts(backend: Backend) {
    let app = backend.spawn().await;
    let ada = app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    let grace = app.signed_up("Grace", "grace@example.org", PASSWORD).await;
    let mut grace_ws = app.live_socket(&grace, "general").await;

    let page = ada.get("/chat").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(
        r#"<form class="composer" id="composer" method="post" action="/chat/general/messages""#
    ));

    let posted =
        ada.post_form("/chat/general/messages", &[("body", "posted with a plain form")]).await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER);
    assert_eq!(posted.location(), "/chat/general");
    assert!(ada.get("/chat/general").await.body.contains("posted with a plain form"));
    grace_ws.expect("posted with a plain form", Duration::from_secs(1)).await;

    let empty = ada.post_form("/chat/general/messages", &[("body", "   ")]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.body.contains("Write something first."));
    let long = "z".repeat(4_001);
    let too_long = ada.post_form("/chat/general/messages", &[("body", &long)]).await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(too_long.body.contains(&long), "the text is kept in the composer");
}

async fn older_messages_load_as_a_fragment_or_a_page(backend: Backend) {
    let app = backend.spawn().await;
    let ada = app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    for i in 1..=60 {
        ada.post_form("/chat/general/messages", &[("body", &format!("note {i}"))]).await;
    }
    let page = ada.get("/chat/general").await;
    assert_eq!(message_numbers(std::slice::from_ref(&page.body)), (11..=60).collect::<Vec<i64>>());
    assert!(page.body.contains(r#"href="/chat/general/messages?before=11""#));

    let plain = ada.get("/chat/general/messages?before=11").await;
    assert!(plain.body.starts_with("<!DOCTYPE html>"));
    assert_eq!(message_numbers(&[plain.body]), (1..=10).collect::<Vec<i64>>());

    let fragment = ada
        .client
        .get(ada.url("/chat/general/messages?before=11"))
        .header("hx-request", "true")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!fragment.contains("<html"));
    assert_eq!(message_numbers(std::slice::from_ref(&fragment)), (1..=10).collect::<Vec<i64>>());
    assert!(!fragment.contains("Load older"), "nothing before the first message");
}

async fn unread_counts_and_the_new_messages_divider_follow_reading(backend: Backend) {
    let app = backend.spawn().await;
    let ada = app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    let grace = app.signed_up("Grace", "grace@example.org", PASSWORD).await;
    ada.post_form("/chat/general/messages", &[("body", "seen by Grace")]).await;
    grace.get("/chat/general").await; // Grace reads general
    for text in ["news one", "news two", "news three"] {
        ada.post_form("/chat/general/messages", &[("body", text)]).await;
    }

    let dashboard = grace.get("/dashboard").await;
    assert!(
        dashboard.body.contains(r#"<span class="unread">3<span class="visually-hidden"> unread"#)
    );

    let page = grace.get("/chat/general").await;
    let divider = page.body.find("New messages").expect("divider");
    assert!(page.body[..divider].contains("seen by Grace"));
    assert!(page.body[divider..].contains("news one"));

    // Reading cleared it; Ada's own messages never count for her.
    assert!(!grace.get("/dashboard").await.body.contains(r#"class="unread""#));
    assert!(!ada.get("/dashboard").await.body.contains(r#"class="unread""#));
    assert!(!grace.get("/chat/general").await.body.contains("New messages"));
}

/// Ada, and Grace with the chat open on #general, who has just read `said` by Ada live.
async fn grace_reading_live(app: &TestApp, said: &[&str]) -> (Browser, Browser, Socket) {
    let ada = app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    let grace = app.signed_up("Grace", "grace@example.org", PASSWORD).await;
    let mut chat = app.live_socket(&grace, "general").await;
    chat.expect("connection-status", Duration::from_secs(5)).await;
    for text in said {
        ada.post_form("/chat/general/messages", &[("body", text)]).await;
        chat.expect(text, Duration::from_secs(5)).await;
    }
    (ada, grace, chat)
}

/// Polls Grace's dashboard until it shows nothing unread; fails after `patience`.
async fn until_nothing_unread(grace: &Browser, patience: Duration) {
    let deadline = tokio::time::Instant::now() + patience;
    while grace.get("/dashboard").await.body.contains(r#"class="unread""#) {
        assert!(tokio::time::Instant::now() < deadline, "still unread after {patience:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Read positions of open sockets are saved in batches (chat/read_marks.rs): the
/// dashboard in another tab catches up within one batch, the socket still open.
async fn reading_in_an_open_chat_clears_unread_counts_while_it_stays_open(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, grace, mut chat) = grace_reading_live(&app, &["live one", "live two"]).await;

    let batch = hearth::chat::read_marks::SAVE_EVERY;
    until_nothing_unread(&grace, batch + Duration::from_secs(5)).await;

    // The socket kept working throughout.
    ada.post_form("/chat/general/messages", &[("body", "live three")]).await;
    chat.expect("live three", Duration::from_secs(5)).await;
}

/// Closing the chat saves where the person was without waiting for a batch.
async fn reading_in_a_closed_chat_counts_at_once(backend: Backend) {
    let app = backend.spawn().await;
    let (_ada, grace, chat) = grace_reading_live(&app, &["seen live"]).await;
    chat.close().await;
    until_nothing_unread(&grace, Duration::from_secs(2)).await;
}
