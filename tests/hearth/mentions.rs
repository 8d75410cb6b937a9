//! Mentioning someone with `@Their Name`: resolved among the room's members,
//! marked in the message, and counted apart from unread messages until read.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::on_both_databases;
use crate::support::{Backend, Browser};

on_both_databases!(
    a_mention_is_marked_and_counted_apart_from_unread_until_read,
    only_members_are_mentioned_the_longest_name_first_and_edits_count,
    the_composer_can_ask_whom_it_may_mention,
);

const SECOND: Duration = Duration::from_secs(1);
const PASSWORD: &str = "analytical engine";

async fn rooms_of(browser: &Browser) -> Value {
    serde_json::from_str(&browser.get("/api/rooms").await.body).unwrap()
}

fn room<'a>(rooms: &'a Value, slug: &str) -> &'a Value {
    rooms.as_array().unwrap().iter().find(|r| r["slug"] == slug).expect("the room is listed")
}

async fn a_mention_is_marked_and_counted_apart_from_unread_until_read(backend: Backend) {
    let app = backend.spawn().await;
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let grace = app.signed_up("Grace Hopper", "grace@example.org", PASSWORD).await;
    let grace_id = grace.user_id().await;
    ada.post_form("/rooms", &[("name", "Knitting")]).await;
    grace.post_form("/chat/knitting/join", &[]).await;
    let mut grace_ws = app.live_socket(&grace, "general").await;
    grace_ws.drain(SECOND / 4).await;

    ada.post_form("/chat/knitting/messages", &[("body", "anyone around?")]).await;
    ada.post_form("/chat/knitting/messages", &[("body", "@grace hopper, your yarn is here")]).await;
    let plain = grace_ws.expect_unread_badge(SECOND).await;
    assert!(!plain.contains("mentions-"), "no mention, no mention badge: {plain}");
    let badges = grace_ws.expect_unread_badge(SECOND).await;
    assert!(badges.contains(">2<span class=\"visually-hidden\"> unread"), "{badges}");
    assert!(
        badges.contains(
            r#"<span aria-hidden="true">@</span>1<span class="visually-hidden"> mention</span>"#
        ),
        "{badges}"
    );

    let knitting = rooms_of(&grace).await;
    assert_eq!(
        (
            room(&knitting, "knitting")["unread"].as_i64(),
            room(&knitting, "knitting")["mentions"].as_i64()
        ),
        (Some(2), Some(1))
    );
    assert!(grace.get("/dashboard").await.body.contains(" mention"));
    let page = grace.get("/chat/general").await.body;
    assert!(
        page.contains(r#"id="mentions-"#) && page.contains(" mention</span>"),
        "the sidebar counts it"
    );

    // In the message: marked with whom it names; Grace's stylesheet highlights it.
    let room_page = grace.get("/chat/knitting").await.body;
    let marked = format!(r#"<span class="mention" data-user="{grace_id}">@grace hopper</span>"#);
    assert!(room_page.contains(&marked), "{room_page}");
    let css = grace.get("/chat/viewer.css").await.body;
    assert!(css.contains(&format!(r#".mention[data-user="{grace_id}"]"#)));
    let listed: Value =
        serde_json::from_str(&grace.get("/api/rooms/knitting/messages").await.body).unwrap();
    assert_eq!(listed[1]["mentions"], serde_json::json!([grace_id]));
    assert_eq!(listed[0]["mentions"], serde_json::json!([]));

    // Reading the room (the page above) clears both counts.
    let after = rooms_of(&grace).await;
    assert_eq!(
        (
            room(&after, "knitting")["unread"].as_i64(),
            room(&after, "knitting")["mentions"].as_i64()
        ),
        (Some(0), Some(0))
    );
}

async fn only_members_are_mentioned_the_longest_name_first_and_edits_count(backend: Backend) {
    let app = backend.spawn().await;
    let ada = app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    let lovelace = app.signed_up("Ada Lovelace", "lovelace@example.org", PASSWORD).await;
    let outsider = app.signed_up("Linus", "linus@example.org", PASSWORD).await;
    ada.post_form("/rooms", &[("name", "Engines")]).await;
    lovelace.post_form("/chat/engines/join", &[]).await;

    let body = "@Ada Lovelace and @Linus, meet @ada";
    ada.post_form("/chat/engines/messages", &[("body", body)]).await;
    let listed: Value =
        serde_json::from_str(&ada.get("/api/rooms/engines/messages").await.body).unwrap();
    // Linus is not in the room; Ada's mention of herself does not count.
    assert_eq!(listed[0]["mentions"], serde_json::json!([lovelace.user_id().await]));
    assert_eq!(room(&rooms_of(&lovelace).await, "engines")["mentions"], 1);
    assert!(rooms_of(&outsider).await.as_array().unwrap().iter().all(|r| r["slug"] != "engines"));

    // Edited so it no longer names her: the mention goes, and so does the count.
    let page = ada.get("/chat/engines").await.body;
    let id = page.split("/messages/").nth(1).unwrap().split('/').next().unwrap().to_owned();
    let saved = ada.post_form(&format!("/messages/{id}"), &[("body", "never mind")]).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(room(&rooms_of(&lovelace).await, "engines")["mentions"], 0);
    // And edited to name her again, it counts again.
    ada.post_form(&format!("/messages/{id}"), &[("body", "cc @ada lovelace")]).await;
    assert_eq!(room(&rooms_of(&lovelace).await, "engines")["mentions"], 1);
}

async fn the_composer_can_ask_whom_it_may_mention(backend: Backend) {
    let app = backend.spawn().await;
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let grace = app.signed_up("Grace Hopper", "grace@example.org", PASSWORD).await;
    let members: Value =
        serde_json::from_str(&ada.get("/chat/general/members").await.body).unwrap();
    let names: Vec<&str> =
        members.as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Ada Lovelace", "Grace Hopper"]);
    ada.post_form("/rooms", &[("name", "Secret plans")]).await;
    assert_eq!(grace.get("/chat/secret-plans/members").await.status, StatusCode::NOT_FOUND);
}
