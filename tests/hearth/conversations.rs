//! Group conversations: two to eight people, named by its members, the same people
//! always in the same one, and nobody else let in.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::on_both_databases;
use crate::support::Backend;

on_both_databases!(
    three_people_talk_in_a_group_named_by_its_members,
    a_group_is_between_two_and_eight_people_who_are_here,
);

const SECOND: Duration = Duration::from_secs(1);
const PASSWORD: &str = "analytical engine";

async fn three_people_talk_in_a_group_named_by_its_members(backend: Backend) {
    let app = backend.spawn().await;
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let grace = app.signed_up("Grace Hopper", "grace@example.org", PASSWORD).await;
    let linus = app.signed_up("Linus", "linus@example.org", PASSWORD).await;
    let outsider = app.signed_up("Margaret", "margaret@example.org", PASSWORD).await;
    let (grace_id, linus_id) = (grace.user_id().await, linus.user_id().await);
    let mut linus_ws = app.live_socket(&linus, "general").await;
    linus_ws.drain(SECOND / 4).await;

    // From the people page: tick two people, start.
    let people = ada.get("/people").await.body;
    assert!(people.contains("Start a group conversation"));
    let started = ada
        .post_form(
            "/conversations",
            &[("with", &grace_id.to_string()), ("with", &linus_id.to_string())],
        )
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let slug = started.location().trim_start_matches("/chat/").to_owned();

    // Linus's open page receives it at once; each sees it named by the others.
    ada.post_form(&format!("/chat/{slug}/messages"), &[("body", "hello, all three")]).await;
    linus_ws.expect_unread_badge(SECOND).await;
    let page = linus.get(&format!("/chat/{slug}")).await.body;
    assert!(page.contains("hello, all three"));
    assert!(page.contains("<title>Ada Lovelace, Grace Hopper"), "named by the others");
    let rooms: Value = serde_json::from_str(&grace.get("/api/rooms").await.body).unwrap();
    let group = rooms.as_array().unwrap().iter().find(|r| r["slug"] == slug.as_str()).unwrap();
    assert_eq!(
        (group["title"].as_str(), group["kind"].as_str()),
        (Some("Ada Lovelace, Linus"), Some("direct"))
    );

    // The same people, in any order and from the API, have the same conversation.
    let again = grace
        .client
        .post(grace.url("/api/conversations"))
        .header("sec-fetch-site", "same-origin")
        .json(&json!({ "user_ids": [linus_id, ada.user_id().await] }))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["slug"], slug.as_str());

    // Nobody else gets in: not by its address, not by adding themselves.
    assert_eq!(outsider.get(&format!("/chat/{slug}")).await.status, StatusCode::NOT_FOUND);
    let add = ada
        .post_form(
            &format!("/chat/{slug}/members"),
            &[("user_id", &outsider.user_id().await.to_string())],
        )
        .await;
    assert_eq!(add.status, StatusCode::UNPROCESSABLE_ENTITY, "a conversation's people are fixed");
}

async fn a_group_is_between_two_and_eight_people_who_are_here(backend: Backend) {
    let app = backend.spawn().await;
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let mut ids = Vec::new();
    for i in 0..8 {
        let someone =
            app.signed_up(&format!("Person {i}"), &format!("p{i}@example.org"), PASSWORD).await;
        ids.push(someone.user_id().await.to_string());
    }
    let with = |n: usize| ids.iter().take(n).map(|id| ("with", id.as_str())).collect::<Vec<_>>();
    let eight = ada.post_form("/conversations", &with(7)).await;
    assert_eq!(eight.status, StatusCode::SEE_OTHER, "eight in all is fine");
    let nine = ada.post_form("/conversations", &with(8)).await;
    assert_eq!(nine.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(nine.body.contains("at most 8 people"), "{}", nine.body);
    let alone = ada.post_form("/conversations", &[]).await;
    assert_eq!(alone.status, StatusCode::UNPROCESSABLE_ENTITY);
    let unknown = ada.post_form("/conversations", &[("with", "999999")]).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let malformed = ada.post_form("/conversations", &[("with", "everyone")]).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
}
