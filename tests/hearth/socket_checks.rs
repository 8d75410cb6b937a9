//! What an open chat socket finds out by itself: that its session expired (an open
//! tab is not activity), or that its session or a room ended without anyone telling it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;

use crate::on_both_databases;
use crate::support::{Backend, Seen, Socket};

on_both_databases!(
    an_open_chat_does_not_keep_an_idle_session_alive,
    a_socket_notices_its_session_ended_without_being_told,
    a_socket_notices_it_left_a_room_without_being_told,
    a_session_is_over_from_the_first_second_of_its_absolute_deadline,
);

const SECOND: Duration = Duration::from_secs(1);
const PASSWORD: &str = "analytical engine";
/// The session "day" of these tests: with one idle day, 6 s without activity sign out.
const DAY: Duration = Duration::from_secs(6);

/// Sleeps until the wall clock is `fraction` of the way through a second.
async fn at_fraction(fraction: f64) {
    let into = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().subsec_nanos();
    let wait = (fraction - f64::from(into) / 1e9).rem_euclid(1.0);
    tokio::time::sleep(Duration::from_secs_f64(wait)).await;
}

/// Reads `ws` until `until`, failing if it closes meanwhile.
async fn stays_open(ws: &mut Socket, until: tokio::time::Instant) {
    loop {
        let left = until.saturating_duration_since(tokio::time::Instant::now());
        match ws.next(left).await {
            Seen::Text(_) => continue,
            Seen::Nothing => return,
            Seen::Closed(code) => panic!("the socket closed early ({code:?})"),
        }
    }
}

/// Pages keep a session alive and an open chat tab does not: its socket only reads
/// the session at its deadline (which another tab may have moved), and ends with it.
async fn an_open_chat_does_not_keep_an_idle_session_alive(backend: Backend) {
    let app = backend
        .spawn_with(|config| {
            config.session_day = DAY;
            config.session_idle_days = 1;
        })
        .await;
    let ada = app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    // The socket reads its deadlines early in a second, the other tab's request comes
    // late in one: each deadline (whole seconds) then comes while the session store,
    // which counts from the request's exact time, still holds the session.
    at_fraction(0.1).await;
    let start = tokio::time::Instant::now();
    let mut ws = app.live_socket(&ada, "general").await;

    tokio::time::sleep_until(start + Duration::from_millis(3_500)).await;
    assert_eq!(ada.get("/dashboard").await.status, StatusCode::OK, "another tab is used");
    // Past the deadline the socket had at first: the other tab's request moved it.
    stays_open(&mut ws, start + DAY + Duration::from_millis(500)).await;

    // DAY after that request, and nothing since but the open socket: signed out.
    let idle_end = start + Duration::from_millis(3_500) + DAY;
    let left = (idle_end + SECOND).saturating_duration_since(tokio::time::Instant::now());
    assert_eq!(ws.expect_close(left).await, Some(1008), "closed as signed out");
    assert_eq!(ada.get("/dashboard").await.status, StatusCode::SEE_OTHER, "to sign in");
}

/// A session whose row is deleted with no notification (another program, a lost
/// NOTIFY): the socket finds out at its next check, at most a check period later.
async fn a_socket_notices_its_session_ended_without_being_told(backend: Backend) {
    let app = backend.spawn_with(|config| config.chat_recheck_every = SECOND).await;
    let ada = app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    let mut ws = app.live_socket(&ada, "general").await;
    ws.drain(Duration::from_millis(200)).await;

    assert_eq!(app.behind_the_back("DELETE FROM user_sessions").await, 1);
    assert_eq!(ws.expect_close(3 * SECOND).await, Some(1008));
}

/// A membership deleted with no notification: the room stops reaching the socket.
async fn a_socket_notices_it_left_a_room_without_being_told(backend: Backend) {
    let app = backend.spawn_with(|config| config.chat_recheck_every = SECOND).await;
    let ada = app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    let grace = app.signed_up("Grace", "grace@example.org", PASSWORD).await;
    assert_eq!(
        ada.post_form("/rooms", &[("name", "Knitting")]).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(grace.post_form("/chat/knitting/join", &[]).await.status, StatusCode::SEE_OTHER);
    let mut grace_ws = app.live_socket(&grace, "general").await;
    let sent = ada.post_form("/chat/knitting/messages", &[("body", "first")]).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    grace_ws.expect_unread_badge(5 * SECOND).await;

    let removed = app
        .behind_the_back(
            "DELETE FROM memberships
             WHERE user_id = (SELECT id FROM users WHERE email = 'grace@example.org')
               AND room_id = (SELECT id FROM rooms WHERE slug = 'knitting')",
        )
        .await;
    assert_eq!(removed, 1);
    grace_ws.drain(Duration::from_millis(2_500)).await;
    ada.post_form("/chat/knitting/messages", &[("body", "second")]).await;
    let leaked = grace_ws.drain(2 * SECOND).await;
    assert!(leaked.iter().all(|f| !f.contains("unread-")), "{leaked:?}");
}

/// `SESSION_MAX_DAYS` after sign-in the session is over, from that very second on: the
/// deadline is not a second that is still allowed.
async fn a_session_is_over_from_the_first_second_of_its_absolute_deadline(backend: Backend) {
    let app = backend
        .spawn_with(|config| {
            // A "day" of 2 s: signed in at second t, the session ends at t + 2.
            config.session_day = Duration::from_secs(2);
            config.session_max_days = 1;
            config.session_idle_days = 100;
        })
        .await;
    // Early in a second, so the sign-in's second is this one.
    at_fraction(0.1).await;
    let start = tokio::time::Instant::now();
    let ada = app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    tokio::time::sleep_until(start + Duration::from_millis(1_200)).await;
    assert_eq!(ada.get("/dashboard").await.status, StatusCode::OK, "one second in");
    // In the deadline's own second.
    tokio::time::sleep_until(start + Duration::from_millis(2_200)).await;
    assert_eq!(ada.get("/dashboard").await.status, StatusCode::SEE_OTHER, "at the deadline");
}
