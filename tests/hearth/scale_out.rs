//! Several Hearth instances on one PostgreSQL behave as one.

use std::time::Duration;

use reqwest::StatusCode;

use crate::support::{Backend, Seen, TestApp, message_numbers, postgres_available};

const SECOND: Duration = Duration::from_secs(1);

/// Three instances on one fresh PostgreSQL database, or `None` to skip.
async fn three_instances() -> Option<(TestApp, TestApp, TestApp)> {
    if !postgres_available().await {
        return None;
    }
    let a = Backend::Postgres.spawn().await;
    let b = a.another_instance().await;
    let c = a.another_instance().await;
    Some((a, b, c))
}

#[tokio::test]
async fn a_session_made_on_one_instance_works_on_the_others() {
    let Some((a, b, c)) = three_instances().await else { return };
    let ada = a.signed_up("Ada", "ada@example.org", "analytical engine").await;
    for other in [&b, &c] {
        let page = ada.on(other).get("/dashboard").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("ada@example.org"));
    }
}

#[tokio::test]
async fn concurrent_senders_on_every_instance_reach_every_socket_in_order() {
    let Some((a, b, c)) = three_instances().await else { return };
    let instances = [&a, &b, &c];
    const EACH: usize = 25;

    let mut readers = Vec::new();
    let mut senders = Vec::new();
    for (i, app) in instances.iter().enumerate() {
        let reader = app
            .signed_up(&format!("Reader {i}"), &format!("reader{i}@example.org"), "read read read")
            .await;
        readers.push(app.live_socket(&reader, "general").await);
        let sender = app
            .signed_up(&format!("Sender {i}"), &format!("sender{i}@example.org"), "send send send")
            .await;
        senders.push(app.live_socket(&sender, "general").await);
    }
    let total = (EACH * instances.len()) as i64;
    let reading: Vec<_> = readers
        .into_iter()
        .map(|mut ws| {
            tokio::spawn(async move {
                let mut seen = Vec::new();
                while (seen.len() as i64) < total {
                    match ws.next(5 * SECOND).await {
                        Seen::Text(frame) => seen.extend(message_numbers(&[frame])),
                        other => panic!("reader stopped after {seen:?}: {other:?}"),
                    }
                }
                // Nothing doubled afterwards either.
                let extra = ws.drain(Duration::from_millis(500)).await;
                seen.extend(message_numbers(&extra));
                seen
            })
        })
        .collect();
    let sending: Vec<_> = senders
        .into_iter()
        .enumerate()
        .map(|(i, mut ws)| {
            tokio::spawn(async move {
                for n in 0..EACH {
                    ws.say(&format!("from {i}, number {n}")).await;
                }
                ws.drain(2 * SECOND).await;
            })
        })
        .collect();
    for task in sending {
        task.await.unwrap();
    }
    for task in reading {
        let seen = task.await.unwrap();
        assert_eq!(
            seen,
            (1..=total).collect::<Vec<i64>>(),
            "every message, in the stored order, once"
        );
    }
}

#[tokio::test]
async fn signing_out_on_one_instance_closes_the_socket_on_another() {
    let Some((a, b, _c)) = three_instances().await else { return };
    let ada = a.signed_up("Ada", "ada@example.org", "analytical engine").await;
    let on_b = ada.on(&b);
    let mut ws = b.live_socket(&on_b, "general").await;
    ws.drain(Duration::from_millis(300)).await;

    ada.post_form("/logout", &[]).await;
    assert_eq!(ws.expect_close(SECOND).await, Some(1008));
}

#[tokio::test]
async fn leaving_a_room_on_one_instance_stops_it_reaching_sockets_on_another() {
    let Some((a, b, _c)) = three_instances().await else { return };
    let ada = a.signed_up("Ada", "ada@example.org", "analytical engine").await;
    let grace = a.signed_up("Grace", "grace@example.org", "compiler compiler").await;
    ada.post_form("/rooms", &[("name", "Knitting")]).await;
    grace.post_form("/chat/knitting/join", &[]).await;
    let mut grace_ws = b.live_socket(&grace.on(&b), "general").await;
    ada.post_form("/chat/knitting/messages", &[("body", "first")]).await;
    grace_ws.expect_unread_badge(5 * SECOND).await;

    let left = grace.post_form("/chat/knitting/leave", &[]).await;
    assert_eq!(left.status, StatusCode::SEE_OTHER);
    ada.post_form("/chat/knitting/messages", &[("body", "second")]).await;
    let leaked = grace_ws.drain(2 * SECOND).await;
    assert!(leaked.iter().all(|f| !f.contains("unread-")), "{leaked:?}");
}

#[tokio::test]
async fn edits_and_deletions_on_one_instance_reach_pages_on_the_others_in_order() {
    let Some((a, b, c)) = three_instances().await else { return };
    let ada = a.signed_up("Ada", "ada@example.org", "analytical engine").await;
    let mut on_b = b.live_socket(&ada.on(&b), "general").await;
    let mut on_c = c.live_socket(&ada.on(&c), "general").await;
    for body in ["one", "two"] {
        ada.post_form("/chat/general/messages", &[("body", body)]).await;
    }
    let (one, two) =
        (ada.message_id("general", "one").await, ada.message_id("general", "two").await);
    ada.post_form(&format!("/messages/{one}"), &[("body", "one, edited")]).await;
    // The deletion is made on another instance than the edit; both reach all three.
    ada.on(&c).post_form(&format!("/messages/{two}/delete"), &[]).await;
    for ws in [&mut on_b, &mut on_c] {
        let mut seen = Vec::new();
        while !seen.iter().any(|f: &String| f.contains(r#"hx-swap-oob="delete""#)) {
            match ws.next(5 * SECOND).await {
                Seen::Text(frame) if frame.contains("resume-after") => seen.push(frame),
                Seen::Text(_) => {}
                other => panic!("stopped after {seen:?}: {other:?}"),
            }
        }
        let positions: Vec<&str> = seen
            .iter()
            .filter_map(|f| f.split(r#"name="after" value=""#).nth(1)?.split('"').next())
            .collect();
        assert_eq!(positions, ["1", "2", "3", "4"], "every change once, in order: {seen:?}");
        assert!(seen[2].contains("one, edited") && seen[2].contains(r#"id="m-1""#));
    }
}

#[tokio::test]
async fn a_room_renamed_and_archived_on_one_instance_changes_on_the_others() {
    let Some((a, b, c)) = three_instances().await else { return };
    let ada = a.signed_up("Ada", "ada@example.org", "analytical engine").await;
    let grace = a.signed_up("Grace", "grace@example.org", "compiler compiler").await;
    ada.post_form("/rooms", &[("name", "Knitting")]).await;
    grace.post_form("/chat/knitting/join", &[]).await;
    let mut viewing = b.live_socket(&grace.on(&b), "knitting").await;
    let mut elsewhere = c.live_socket(&grace.on(&c), "general").await;
    viewing.drain(SECOND / 4).await;
    elsewhere.drain(SECOND / 4).await;

    let renamed = ada
        .post_form("/chat/knitting/settings", &[("name", "Yarn"), ("topic", "Socks mostly")])
        .await;
    assert_eq!(renamed.status, StatusCode::SEE_OTHER);
    let about = viewing.expect(r#"id="room-about""#, 5 * SECOND).await;
    assert!(about.contains("#Yarn") && about.contains("Socks mostly"), "{about}");
    let name = elsewhere.expect("#Yarn", 5 * SECOND).await;
    assert!(name.starts_with(r#"<span class="room-name""#), "only the name: {name}");

    ada.on(&c).post_form("/chat/knitting/archive", &[]).await;
    let about = viewing.expect(r#"id="room-about""#, 5 * SECOND).await;
    assert!(about.contains("room-about archived"), "{about}");
    let posted = grace.on(&b).post_form("/chat/knitting/messages", &[("body", "late")]).await;
    assert!(posted.body.contains("This room is archived"));
}

#[tokio::test]
async fn typing_on_one_instance_shows_on_another() {
    let Some((a, b, _c)) = three_instances().await else { return };
    let ada = a.signed_up("Ada", "ada@example.org", "analytical engine").await;
    let grace = b.signed_up("Grace", "grace@example.org", "compiler compiler").await;
    let mut ada_ws = a.live_socket(&ada, "general").await;
    let mut grace_ws = b.live_socket(&grace, "general").await;
    ada_ws.send_json(serde_json::json!({"kind": "typing", "HEADERS": {}})).await;
    grace_ws.expect("Ada is typing", 3 * SECOND).await;
}

/// Restarts the PostgreSQL cluster while two instances serve: opt-in with
/// `HEARTH_TEST_PG_RESTART=1` (as `.ci/run` does), since it disturbs every other
/// test using the server.
#[tokio::test]
async fn a_postgresql_restart_loses_nothing_and_the_instances_recover() {
    if std::env::var("HEARTH_TEST_PG_RESTART").as_deref() != Ok("1") {
        return;
    }
    let Some((a, b, _c)) = three_instances().await else { return };
    let ada = a.signed_up("Ada", "ada@example.org", "analytical engine").await;
    let grace = b.signed_up("Grace", "grace@example.org", "compiler compiler").await;
    let mut grace_ws = b.live_socket(&grace, "general").await;
    ada.post_form("/chat/general/messages", &[("body", "before")]).await;
    grace_ws.expect(">before<", SECOND).await;

    let cluster =
        std::fs::read_dir("/etc/postgresql").unwrap().next().unwrap().unwrap().file_name();
    let restarted = std::process::Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", cluster.to_str().unwrap(), "main", "restart"])
        .status()
        .unwrap();
    assert!(restarted.success());

    // Posting works again once the pool reconnects.
    let mut sent = 0;
    for attempt in 0..60 {
        let page =
            ada.post_form("/chat/general/messages", &[("body", &format!("after {sent}"))]).await;
        if page.status == StatusCode::SEE_OTHER {
            sent += 1;
            if sent == 3 {
                break;
            }
        } else {
            assert!(attempt < 59, "Hearth did not recover: {}", page.status);
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    // Grace's socket on the other instance gets them, in order, once (the LISTEN
    // connection was re-established, or the periodic check caught up).
    let mut seen = Vec::new();
    while seen.len() < 3 {
        match grace_ws.next(10 * SECOND).await {
            Seen::Text(frame) => seen.extend(message_numbers(&[frame])),
            other => panic!("after {seen:?}: {other:?}"),
        }
    }
    assert_eq!(seen, [2, 3, 4]);
}

#[tokio::test]
async fn who_is_online_counts_people_on_every_instance() {
    let Some((a, b, _c)) = three_instances().await else { return };
    let ada = a.signed_up("Ada", "ada@example.org", "analytical engine").await;
    let grace = b.signed_up("Grace", "grace@example.org", "compiler compiler").await;
    let ada_ws = a.live_socket(&ada, "general").await;
    let mut grace_ws = b.live_socket(&grace, "general").await;
    // Instances announce who is online every few seconds.
    let online = grace_ws.expect("2 online", 12 * SECOND).await;
    assert!(online.contains("Ada") && online.contains("Grace"), "{online}");

    drop(ada_ws);
    let left = grace_ws.expect("1 online", 12 * SECOND).await;
    assert!(!left.contains("Ada"), "{left}");
}
