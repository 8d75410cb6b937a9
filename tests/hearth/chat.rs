//! Two or three people chatting over real WebSockets.

use std::time::Duration;

use reqwest::StatusCode;

use crate::on_both_databases;
use crate::support::{Backend, Browser, Seen, TestApp, message_numbers};

on_both_databases!(
    a_message_reaches_everyone_in_the_room_and_resets_the_senders_composer,
    every_recipient_gets_the_same_bytes_and_markup_is_escaped,
    someone_outside_a_room_gets_nothing_from_it,
    a_direct_message_is_seen_by_its_two_people_only,
    unauthenticated_and_cross_site_sockets_are_refused,
    signing_out_closes_the_socket_within_a_second,
    ending_other_sessions_or_changing_the_password_closes_their_sockets,
    a_reconnecting_client_gets_what_it_missed_once_and_in_order,
    after_a_restart_the_client_catches_up_from_the_database,
    after_a_restart_someone_in_many_rooms_gets_each_of_them_live,
    a_client_that_stops_reading_is_dropped_and_others_keep_receiving,
    bad_messages_are_explained_in_the_composer,
    protocol_abuse_closes_only_that_socket,
    sending_too_fast_is_slowed_down,
    typing_and_presence_reach_the_others_in_the_room,
);

const SECOND: Duration = Duration::from_secs(1);
const PASSWORD: &str = "analytical engine";

async fn ada(app: &TestApp) -> Browser {
    app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await
}

async fn two_people(app: &TestApp) -> (Browser, Browser) {
    let ada = ada(app).await;
    let grace = app.signed_up("Grace Hopper", "grace@example.org", PASSWORD).await;
    (ada, grace)
}

async fn a_message_reaches_everyone_in_the_room_and_resets_the_senders_composer(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, grace) = two_people(&app).await;
    let mut ada_ws = app.live_socket(&ada, "general").await;
    let mut grace_ws = app.live_socket(&grace, "general").await;

    ada_ws.say("  Hello, Grace!\nHow are you?  ").await;
    let seen = grace_ws.expect("Hello, Grace!", SECOND).await;
    assert!(seen.contains(r##"hx-swap-oob="beforeend:#messages""##));
    assert!(seen.contains("Ada Lovelace"));
    assert!(
        seen.contains("<p>Hello, Grace!<br>\nHow are you?</p>"),
        "trimmed, line break kept: {seen}"
    );
    assert!(seen.contains("<time datetime="));

    // The sender gets the composer back, reset, and the message like everyone else.
    let frames = ada_ws.drain(SECOND).await;
    assert_eq!(message_numbers(&frames), [1]);
    let composer = frames.iter().find(|f| f.contains(r#"id="composer""#)).expect("composer");
    assert!(composer.contains("></textarea>"), "composer is reset: {composer}");
    assert!(!composer.contains("error"));

    // Stored: a fresh page load shows it.
    assert!(grace.get("/chat/general").await.body.contains("Hello, Grace!"));
}

async fn every_recipient_gets_the_same_bytes_and_markup_is_escaped(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, grace) = two_people(&app).await;
    let mut ada_ws = app.live_socket(&ada, "general").await;
    let mut grace_ws = app.live_socket(&grace, "general").await;

    grace_ws.say("<script>alert('x')</script> read https://example.org/docs?a=1&b=2.").await;
    let to_grace = grace_ws.expect("alert", SECOND).await;
    let to_ada = ada_ws.expect("alert", SECOND).await;
    assert_eq!(to_ada, to_grace, "one rendering, the same bytes for everyone");
    assert!(!to_ada.contains("<script>"));
    assert!(to_ada.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(to_ada.contains(
        r#"<a href="https://example.org/docs?a=1&amp;b=2" rel="nofollow noopener noreferrer""#
    ));
}

async fn someone_outside_a_room_gets_nothing_from_it(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, grace) = two_people(&app).await;
    let created = ada.post_form("/rooms", &[("name", "Book Club")]).await;
    assert_eq!(created.location(), "/chat/book-club");

    assert_eq!(grace.get("/chat/book-club").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.try_socket(&grace, "book-club", Some(&app.base)).await.err(), Some(404));
    let post = grace.post_form("/chat/book-club/messages", &[("body", "let me in")]).await;
    assert_eq!(post.status, StatusCode::NOT_FOUND);

    let mut grace_ws = app.live_socket(&grace, "general").await;
    grace_ws.drain(Duration::from_millis(300)).await;
    let mut ada_ws = app.live_socket(&ada, "book-club").await;
    ada_ws.say("members only").await;
    ada_ws.expect("members only", SECOND).await;
    let leaked = grace_ws.drain(SECOND).await;
    assert!(
        leaked.iter().all(|f| !f.contains("members only") && !f.contains("unread-")),
        "{leaked:?}"
    );

    // Once she joins, she receives it.
    assert_eq!(grace.post_form("/chat/book-club/join", &[]).await.status, StatusCode::SEE_OTHER);
    ada_ws.say("welcome Grace").await;
    grace_ws.expect("unread-", SECOND).await;
    assert!(grace.get("/chat/book-club").await.body.contains("welcome Grace"));
}

async fn a_direct_message_is_seen_by_its_two_people_only(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, grace) = two_people(&app).await;
    let bob = app.signed_up("Bob", "bob@example.org", PASSWORD).await;
    let grace_id = grace_id(&grace).await;

    let opened = ada.post_form(&format!("/people/{grace_id}/message"), &[]).await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER);
    let dm = opened.location().trim_start_matches("/chat/").to_owned();
    assert!(dm.starts_with("dm-"));

    let mut grace_ws = app.live_socket(&grace, "general").await;
    let mut bob_ws = app.live_socket(&bob, "general").await;
    grace_ws.drain(Duration::from_millis(300)).await;
    bob_ws.drain(Duration::from_millis(300)).await;

    let sent = ada.post_form(&format!("/chat/{dm}/messages"), &[("body", "just between us")]).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    let badge = grace_ws.expect("unread-", SECOND).await;
    assert!(badge.contains(">1<"), "{badge}");
    let to_bob = bob_ws.drain(SECOND).await;
    assert!(
        to_bob.iter().all(|f| !f.contains("between us") && !f.contains("unread-")),
        "{to_bob:?}"
    );

    let page = grace.get(&format!("/chat/{dm}")).await;
    assert!(page.body.contains("just between us") && page.body.contains("Ada Lovelace"));
    assert_eq!(bob.get(&format!("/chat/{dm}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.try_socket(&bob, &dm, Some(&app.base)).await.err(), Some(404));
}

async fn grace_id(grace: &Browser) -> i64 {
    let me: serde_json::Value = serde_json::from_str(&grace.get("/api/me").await.body).unwrap();
    me["id"].as_i64().unwrap()
}

async fn unauthenticated_and_cross_site_sockets_are_refused(backend: Backend) {
    let app = backend.spawn().await;
    let ada = ada(&app).await;
    let stranger = app.browser();
    assert_eq!(app.try_socket(&stranger, "general", Some(&app.base)).await.err(), Some(401));
    assert_eq!(
        app.try_socket(&ada, "general", Some("https://evil.example")).await.err(),
        Some(403)
    );
    assert!(app.try_socket(&ada, "general", Some(&app.base)).await.is_ok());
}

async fn signing_out_closes_the_socket_within_a_second(backend: Backend) {
    let app = backend.spawn().await;
    let ada = ada(&app).await;
    let mut ws = app.live_socket(&ada, "general").await;
    ws.drain(Duration::from_millis(200)).await;

    ada.post_form("/logout", &[]).await;
    let notice = ws.expect("You were signed out", SECOND).await;
    assert!(notice.contains("connection-status"));
    assert_eq!(ws.expect_close(SECOND).await, Some(1008));
}

async fn ending_other_sessions_or_changing_the_password_closes_their_sockets(backend: Backend) {
    let app = backend.spawn().await;
    let laptop = ada(&app).await;
    let phone = app.browser();
    phone.post_form("/login", &[("email", "ada@example.org"), ("password", PASSWORD)]).await;
    let mut phone_ws = app.live_socket(&phone, "general").await;
    let mut laptop_ws = app.live_socket(&laptop, "general").await;
    laptop_ws.drain(Duration::from_millis(1500)).await;

    laptop.post_form("/dashboard/sessions/end-others", &[]).await;
    assert_eq!(phone_ws.expect_close(SECOND).await, Some(1008));
    // This session's socket stays open (it may still get presence updates).
    let still = laptop_ws.drain(Duration::from_millis(300)).await;
    assert!(still.iter().all(|f| !f.contains("signed out")), "{still:?}");
    laptop_ws.say("still open").await;
    laptop_ws.expect("still open", SECOND).await;

    let tablet = app.browser();
    tablet.post_form("/login", &[("email", "ada@example.org"), ("password", PASSWORD)]).await;
    let mut tablet_ws = app.live_socket(&tablet, "general").await;
    laptop
        .post_form(
            "/dashboard/password",
            &[("current_password", PASSWORD), ("new_password", "difference engine")],
        )
        .await;
    assert_eq!(tablet_ws.expect_close(SECOND).await, Some(1008));
}

async fn a_reconnecting_client_gets_what_it_missed_once_and_in_order(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, grace) = two_people(&app).await;
    let mut ada_ws = app.live_socket(&ada, "general").await;
    let mut grace_ws = app.live_socket(&grace, "general").await;

    ada_ws.say("message one").await;
    let first = grace_ws.expect("message one", SECOND).await;
    assert_eq!(message_numbers(&[first]), [1]);
    drop(grace_ws); // the network drops

    for text in ["two", "three", "four"] {
        ada_ws.say(text).await;
        ada_ws.expect(&format!(">{text}<"), SECOND).await;
    }
    let mut grace_ws = app.socket(&grace, "general").await;
    grace_ws.resume(1).await;
    ada_ws.say("five").await;
    let frames = grace_ws.drain(SECOND).await;
    assert_eq!(
        message_numbers(&frames),
        [2, 3, 4, 5],
        "missed ones in order, then live, no repeats"
    );
}

async fn after_a_restart_the_client_catches_up_from_the_database(backend: Backend) {
    let first = backend.spawn().await;
    let (ada, grace) = two_people(&first).await;
    let mut grace_ws = first.live_socket(&grace, "general").await;
    ada.post_form("/chat/general/messages", &[("body", "before the restart")]).await;
    grace_ws.expect("before the restart", SECOND).await;

    let second = first.another_instance().await;
    first.stop().await;
    assert_eq!(
        grace_ws.expect_close(SECOND).await,
        Some(1012),
        "closed as a restart, so browsers reconnect"
    );

    // The same cookies work on the new process: sessions live in the database.
    let ada = ada.on(&second);
    let grace = grace.on(&second);
    ada.post_form("/chat/general/messages", &[("body", "while you were away")]).await;
    ada.post_form("/chat/general/messages", &[("body", "and again")]).await;
    let mut grace_ws = second.socket(&grace, "general").await;
    grace_ws.resume(1).await;
    let frames = grace_ws.drain(SECOND).await;
    assert_eq!(message_numbers(&frames), [2, 3]);
    assert!(frames.concat().contains("while you were away"));
}

/// The first socket a fresh process sees subscribes to all of its person's rooms
/// before the hub knows it; none of them may be forgotten meanwhile.
async fn after_a_restart_someone_in_many_rooms_gets_each_of_them_live(backend: Backend) {
    let first = backend.spawn().await;
    let (ada, grace) = two_people(&first).await;
    let rooms = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot"];
    for name in rooms {
        ada.post_form("/rooms", &[("name", name)]).await;
        grace.post_form(&format!("/chat/{}/join", name.to_lowercase()), &[]).await;
    }
    let second = first.another_instance().await;
    first.stop().await;
    let (ada, grace) = (ada.on(&second), grace.on(&second));

    let mut grace_ws = second.live_socket(&grace, "general").await;
    grace_ws.drain(SECOND / 4).await;
    for name in rooms {
        let room = name.to_lowercase();
        ada.post_form(&format!("/chat/{room}/messages"), &[("body", name)]).await;
        let badge = grace_ws.expect_unread_badge(SECOND).await;
        assert!(badge.contains(">1<"), "{room}: {badge}");
    }
}

async fn a_client_that_stops_reading_is_dropped_and_others_keep_receiving(backend: Backend) {
    // A small queue, so the one who stops reading is found out quickly; large enough
    // that a reader on a busy machine is not.
    let app = backend.spawn_with(|config| config.chat_socket_queue = 32).await;
    let (ada, grace) = two_people(&app).await;
    let sloth = app.signed_up("Sloth", "sloth@example.org", PASSWORD).await;
    let mut sloth_ws = app.socket(&sloth, "general").await;
    sloth_ws.resume(0).await; // and then never reads again
    let mut grace_ws = app.live_socket(&grace, "general").await;
    assert_eq!(app.state.hub.connections(), 2);

    let long = "a long message that fills buffers ".repeat(110);
    let reader = tokio::spawn(async move {
        let mut seen = Vec::new();
        while seen.len() < 300 {
            match grace_ws.next(5 * SECOND).await {
                Seen::Text(t) => seen.extend(message_numbers(&[t])),
                other => panic!("grace's socket: {other:?}"),
            }
        }
        seen
    });
    for _ in 0..300 {
        let sent = ada.post_form("/chat/general/messages", &[("body", &long)]).await;
        assert_eq!(sent.status, StatusCode::SEE_OTHER);
    }
    let seen = reader.await.unwrap();
    assert_eq!(seen, (1..=300).collect::<Vec<i64>>(), "grace got every message, in order");
    for _ in 0..50 {
        if app.state.hub.connections() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.state.hub.connections(), 1, "the socket that stopped reading was dropped");
    drop(sloth_ws);
}

async fn bad_messages_are_explained_in_the_composer(backend: Backend) {
    let app = backend.spawn().await;
    let ada = ada(&app).await;
    let mut ws = app.live_socket(&ada, "general").await;

    ws.say("   \n  ").await;
    let empty = ws.expect(r#"id="composer""#, SECOND).await;
    assert!(empty.contains("Write something first."));

    let long = "x".repeat(4_001);
    ws.say(&long).await;
    let too_long = ws.expect(r#"id="composer""#, SECOND).await;
    assert!(too_long.contains("at most 4,000 characters"));
    assert!(too_long.contains(&long), "what was typed is kept");

    // Nothing was stored.
    ws.say("fine").await;
    let stored = ws.expect(">fine<", SECOND).await;
    assert_eq!(message_numbers(&[stored]), [1]);
}

async fn protocol_abuse_closes_only_that_socket(backend: Backend) {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::protocol::frame::{
        Frame,
        coding::{Data, OpCode},
    };

    let app = backend.spawn().await;
    let (ada, grace) = two_people(&app).await;
    let mut grace_ws = app.live_socket(&grace, "general").await;

    let cases: [(Message, u16); 6] = [
        (Message::text(r#"{"kind":"resume","after":"0"}"#), 1008),
        (Message::binary(vec![1, 2, 3]), 1003),
        (Message::text("this is not json"), 1008),
        (Message::text(r#"{"kind":"explode"}"#), 1008),
        (Message::text(format!(r#"{{"kind":"send","body":"{}"}}"#, "y".repeat(17 * 1024))), 1009),
        (
            Message::Frame(Frame::message(vec![0xff, 0xfe, 0xfd], OpCode::Data(Data::Text), true)),
            1007,
        ),
    ];
    for (frame, code) in cases {
        let mut ws = app.live_socket(&ada, "general").await;
        ws.stream.send(frame).await.unwrap();
        assert_eq!(ws.expect_close(3 * SECOND).await, Some(code));
    }

    // Everyone else is still served.
    let mut ada_ws = app.live_socket(&ada, "general").await;
    ada_ws.say("still here").await;
    grace_ws.expect("still here", SECOND).await;
}

async fn sending_too_fast_is_slowed_down(backend: Backend) {
    let app = backend.spawn_with(|config| config.chat_messages_per_minute = 6).await;
    let ada = ada(&app).await;
    let mut ws = app.live_socket(&ada, "general").await;
    let mut refused = 0;
    for i in 0..5 {
        ws.say(&format!("flood {i}")).await;
        let composer = ws.expect(r#"id="composer""#, SECOND).await;
        if composer.contains("sending messages very quickly") {
            refused += 1;
        }
    }
    assert!(refused >= 2, "only a burst of 2 may pass, {refused} refused");
}

async fn typing_and_presence_reach_the_others_in_the_room(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, grace) = two_people(&app).await;
    let mut ada_ws = app.live_socket(&ada, "general").await;
    let mut grace_ws = app.live_socket(&grace, "general").await;

    let online = grace_ws.expect(r#"id="online""#, 2 * SECOND).await;
    assert!(
        online.contains("2 online")
            && online.contains("Ada Lovelace")
            && online.contains("Grace Hopper")
    );

    ada_ws.send_json(serde_json::json!({"kind": "typing", "body": "hel", "HEADERS": {}})).await;
    let typing = grace_ws.expect("is typing", 2 * SECOND).await;
    assert!(typing.contains("Ada Lovelace is typing…"));
    let own = ada_ws.expect(r#"id="typing""#, 2 * SECOND).await;
    assert!(!own.contains("Ada Lovelace"), "nobody sees themself typing");

    drop(ada_ws);
    let left = grace_ws.expect("1 online", 3 * SECOND).await;
    assert!(!left.contains("Ada Lovelace"));
}
