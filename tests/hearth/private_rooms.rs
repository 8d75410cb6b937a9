//! Private rooms: to everyone outside, they do not exist; their members bring
//! others in, and anyone can leave.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::on_both_databases;
use crate::support::{Backend, Browser, TestApp};

on_both_databases!(
    a_private_room_does_not_exist_for_anyone_outside_it,
    a_member_brings_someone_in_who_then_reads_it_live_and_can_leave,
    a_script_starts_a_private_room_and_adds_people,
);

const SECOND: Duration = Duration::from_secs(1);
const PASSWORD: &str = "analytical engine";

async fn ada_grace_and_plans(app: &TestApp) -> (Browser, Browser) {
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let grace = app.signed_up("Grace Hopper", "grace@example.org", PASSWORD).await;
    let made = ada.post_form("/rooms", &[("name", "Plans"), ("private", "on")]).await;
    assert_eq!(made.location(), "/chat/plans");
    ada.post_form("/chat/plans/messages", &[("body", "the secret plan")]).await;
    (ada, grace)
}

async fn a_private_room_does_not_exist_for_anyone_outside_it(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, grace) = ada_grace_and_plans(&app).await;
    ada.post_form("/rooms", &[("name", "Knitting")]).await;

    let page = ada.get("/chat/plans").await.body;
    assert!(page.contains("the secret plan") && page.contains(">Private<"));
    let browse = grace.get("/rooms").await.body;
    assert!(browse.contains("Knitting") && !browse.contains("Plans"), "not listed");
    for answer in [
        grace.get("/chat/plans").await,
        grace.post_form("/chat/plans/join", &[]).await,
        grace.get("/chat/plans/people").await,
        grace.get("/chat/plans/members").await,
        grace.get("/api/rooms/plans/messages").await,
        grace.post_form("/chat/plans/messages", &[("body", "let me in")]).await,
    ] {
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.body);
    }
    assert_eq!(app.try_socket(&grace, "plans", Some(&app.base)).await.err(), Some(404));
    let rooms = grace.get("/api/rooms").await.body;
    assert!(!rooms.contains("plans"), "{rooms}");
    // Its name is taken all the same, without saying whose.
    let again = grace.post_form("/rooms", &[("name", "plans")]).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
}

async fn a_member_brings_someone_in_who_then_reads_it_live_and_can_leave(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, grace) = ada_grace_and_plans(&app).await;
    let grace_id = grace.user_id().await;
    let mut grace_ws = app.live_socket(&grace, "general").await;
    grace_ws.drain(SECOND / 4).await;

    let people = ada.get("/chat/plans/people").await.body;
    assert!(people.contains(&format!(r#"<option value="{grace_id}">Grace Hopper</option>"#)));
    let added = ada.post_form("/chat/plans/members", &[("user_id", &grace_id.to_string())]).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let bad = ada.post_form("/chat/plans/members", &[("user_id", "nobody")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Her open page receives the room at once; she reads its history.
    ada.post_form("/chat/plans/messages", &[("body", "welcome aboard")]).await;
    grace_ws.expect_unread_badge(SECOND).await;
    let page = grace.get("/chat/plans").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("the secret plan") && page.body.contains("welcome aboard"));

    // And she can leave; then it is gone for her again.
    assert_eq!(grace.post_form("/chat/plans/leave", &[]).await.status, StatusCode::SEE_OTHER);
    assert_eq!(grace.get("/chat/plans").await.status, StatusCode::NOT_FOUND);
    ada.post_form("/chat/plans/messages", &[("body", "after she left")]).await;
    let leaked = grace_ws.drain(SECOND / 2).await;
    assert!(
        leaked.iter().all(|f| !f.contains("after she left") && !f.contains("unread-")),
        "{leaked:?}"
    );
}

async fn a_script_starts_a_private_room_and_adds_people(backend: Backend) {
    let app = backend.spawn().await;
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let grace = app.signed_up("Grace Hopper", "grace@example.org", PASSWORD).await;
    let grace_id = grace.user_id().await;

    let (status, room) =
        ada.call("POST", "/api/rooms", Some(json!({"name": "Ops", "private": true}))).await;
    assert_eq!(status, StatusCode::CREATED, "{room}");
    assert_eq!((room["slug"].as_str(), room["private"].as_bool()), (Some("ops"), Some(true)));
    let (status, _) = ada.call("POST", "/api/rooms", Some(json!({"name": "ops"}))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) =
        grace.call("POST", "/api/rooms/ops/members", Some(json!({"user_id": grace_id}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no way in from outside");

    let (status, _) =
        ada.call("POST", "/api/rooms/ops/members", Some(json!({"user_id": grace_id}))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, rooms) = grace.call("GET", "/api/rooms", None).await;
    let ops = rooms.as_array().unwrap().iter().find(|r| r["slug"] == "ops").expect("now hers too");
    assert_eq!(ops["private"], true);

    // One takes only oneself out.
    let ada_id = ada.user_id().await;
    let (status, error) =
        grace.call("DELETE", &format!("/api/rooms/ops/members/{ada_id}"), None).await;
    assert_eq!((status, error["error"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));
    let (status, _) =
        grace.call("DELETE", &format!("/api/rooms/ops/members/{grace_id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = grace.call("GET", "/api/rooms/ops/messages", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) =
        ada.call("DELETE", &format!("/api/rooms/general/members/{ada_id}"), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "nobody leaves #general");
}
