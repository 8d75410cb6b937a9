//! Reacting to messages with emoji: from the page with and without JavaScript and
//! from the API, pushed live, caught up after a drop, and checked like any change.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::on_both_databases;
use crate::support::{Backend, Browser, TestApp};

on_both_databases!(
    a_reaction_is_counted_shown_live_and_taken_back_with_a_second_click,
    any_single_emoji_works_and_anything_else_is_explained,
    the_api_puts_and_removes_reactions_and_lists_them_with_mine,
    a_reconnecting_page_catches_up_on_reactions,
    a_message_holds_at_most_twenty_different_reactions,
);

const SECOND: Duration = Duration::from_secs(1);
const PASSWORD: &str = "analytical engine";

async fn ada_and_grace(app: &TestApp) -> (Browser, Browser) {
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let grace = app.signed_up("Grace Hopper", "grace@example.org", PASSWORD).await;
    (ada, grace)
}

/// Posts `body` to #general as `who`; returns the message's id in page URLs.
async fn posted(who: &Browser, body: &str) -> i64 {
    who.post_form("/chat/general/messages", &[("body", body)]).await;
    who.message_id("general", body).await
}

async fn a_reaction_is_counted_shown_live_and_taken_back_with_a_second_click(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, grace) = ada_and_grace(&app).await;
    let id = posted(&ada, "Shipped it!").await;
    let mut ada_ws = app.live_socket(&ada, "general").await;
    ada_ws.drain(SECOND / 4).await;

    // Without JavaScript: the picker is a page; a pick goes back to the message.
    let picker = grace.get(&format!("/messages/{id}/actions")).await;
    assert_eq!(picker.status, StatusCode::OK);
    assert!(picker.body.contains(r#"value="🎉""#) && picker.body.contains("Any emoji"));
    let picked = grace.post_form(&format!("/messages/{id}/reactions"), &[("emoji", "🎉")]).await;
    assert_eq!(picked.status, StatusCode::SEE_OTHER, "{}", picked.body);
    assert_eq!(picked.location(), "/chat/general#m-1");

    let pushed = ada_ws.expect("🎉", SECOND).await;
    let grace_id = grace.user_id().await;
    assert!(pushed.contains(r#"id="m-1""#) && pushed.contains(r#"hx-swap-oob="true""#), "{pushed}");
    assert!(pushed.contains(&format!(r#"data-by="{grace_id}""#)), "{pushed}");
    assert!(pushed.contains("party popper, 1: Grace Hopper"), "read out with who: {pushed}");

    // Ada adds hers with htmx: the answer is the message, now with two.
    let both = ada.post_htmx(&format!("/messages/{id}/reactions"), &[("emoji", "🎉")]).await;
    assert!(
        both.body.starts_with("<article")
            && both.body.contains("party popper, 2: Grace Hopper, Ada Lovelace"),
        "{}",
        both.body
    );
    // Grace clicks hers again: taken back, one left, shown to everyone.
    grace.post_form(&format!("/messages/{id}/reactions"), &[("emoji", "🎉")]).await;
    let page = ada.get("/chat/general").await.body;
    assert!(page.contains("party popper, 1: Ada Lovelace"), "{page}");
    // The viewer's stylesheet marks their own reactions.
    let css = grace.get("/chat/viewer.css").await.body;
    assert!(css.contains(&format!(r#".reaction[data-by~="{grace_id}"]"#)), "{css}");

    // Someone who is not in the room cannot react, nor learn the message exists.
    let dm = grace.post_form(&format!("/people/{}/message", ada.user_id().await), &[]).await;
    let dm = dm.location().trim_start_matches("/chat/").to_owned();
    grace.post_form(&format!("/chat/{dm}/messages"), &[("body", "psst")]).await;
    let linus = app.signed_up("Linus", "linus@example.org", PASSWORD).await;
    let psst = grace.message_id(&dm, "psst").await;
    for answer in [
        linus.get(&format!("/messages/{psst}/actions")).await,
        linus.post_form(&format!("/messages/{psst}/reactions"), &[("emoji", "👀")]).await,
    ] {
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
    }
    assert!(!grace.get(&format!("/chat/{dm}")).await.body.contains("👀"));
}

async fn any_single_emoji_works_and_anything_else_is_explained(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, grace) = ada_and_grace(&app).await;
    let id = posted(&ada, "How do we feel?").await;
    let react = format!("/messages/{id}/reactions");

    // Typed, with spaces around it, a skin tone, or a heart without its selector.
    for typed in [" 🦀 ", "👍🏽", "❤", "🇳🇴", "👩‍💻"] {
        let done = grace.post_form(&react, &[("emoji", ""), ("other", typed)]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{typed:?}: {}", done.body);
    }
    let page = grace.get("/chat/general").await.body;
    for shown in ["🦀 1", "👍🏽 1", "❤️ 1", "🇳🇴 1", "👩‍💻 1"] {
        assert!(page.contains(shown), "{shown} on the page");
    }
    for bad in ["", "ok", "🦀🦀", "<script>", ":tada:", "a\u{202e}b"] {
        let refused = grace.post_form(&react, &[("emoji", bad)]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
        assert!(refused.body.contains("Pick an emoji, or type a single one."), "{bad:?}");
        assert!(refused.body.contains(r#"aria-invalid="true""#));
    }
    // Typed into the picker's field, and sent by htmx: the picker comes back into
    // the message's menu with the problem.
    let htmx = grace.post_htmx(&react, &[("emoji", ""), ("other", "nope")]).await;
    assert_eq!(htmx.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(htmx.headers["hx-retarget"], "#m-1 form.picker");
    assert_eq!(htmx.headers["hx-reswap"], "outerHTML");
    assert!(
        htmx.body.starts_with(r#"<form class="picker""#) && htmx.body.contains(r#"value="nope""#)
    );
}

/// The API as a script calls it (the answers' shapes are checked in api.rs).
async fn call(app: &TestApp, who: &Browser, method: &str, path: &str) -> (StatusCode, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let answer = who
        .client
        .request(method, format!("{}{path}", app.base))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    let status = answer.status();
    (status, serde_json::from_str(&answer.text().await.unwrap()).unwrap_or(Value::Null))
}

async fn the_api_puts_and_removes_reactions_and_lists_them_with_mine(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, grace) = ada_and_grace(&app).await;
    posted(&ada, "API me").await;
    let mut ws = app.live_socket(&ada, "general").await;
    ws.drain(SECOND / 4).await;
    let thumbs = "/api/rooms/general/messages/1/reactions/%F0%9F%91%8D";

    assert_eq!(call(&app, &grace, "PUT", thumbs).await.0, StatusCode::NO_CONTENT);
    ws.expect("thumbs up, 1: Grace Hopper", SECOND).await;
    // Putting it twice changes nothing, and pushes nothing.
    assert_eq!(call(&app, &grace, "PUT", thumbs).await.0, StatusCode::NO_CONTENT);
    assert!(ws.drain(SECOND / 2).await.iter().all(|f| !f.contains("thumbs up")));
    assert_eq!(call(&app, &ada, "PUT", thumbs).await.0, StatusCode::NO_CONTENT);

    let (_, listed) = call(&app, &grace, "GET", "/api/rooms/general/messages").await;
    assert_eq!(listed[0]["reactions"], json!([{"emoji": "👍", "count": 2, "mine": true}]));
    assert_eq!(call(&app, &grace, "DELETE", thumbs).await.0, StatusCode::NO_CONTENT);
    assert_eq!(call(&app, &grace, "DELETE", thumbs).await.0, StatusCode::NO_CONTENT);
    let (_, listed) = call(&app, &grace, "GET", "/api/rooms/general/messages").await;
    assert_eq!(listed[0]["reactions"], json!([{"emoji": "👍", "count": 1, "mine": false}]));

    let (status, error) =
        call(&app, &grace, "PUT", "/api/rooms/general/messages/1/reactions/thumbsup").await;
    assert_eq!(
        (status, error["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unprocessable"))
    );
    let (status, _) =
        call(&app, &grace, "PUT", "/api/rooms/general/messages/9/reactions/%F0%9F%91%8D").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A deleted message takes its reactions with it.
    assert_eq!(
        call(&app, &ada, "DELETE", "/api/rooms/general/messages/1").await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(call(&app, &grace, "PUT", thumbs).await.0, StatusCode::NOT_FOUND);
}

async fn a_reconnecting_page_catches_up_on_reactions(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, grace) = ada_and_grace(&app).await;
    let id = posted(&ada, "catch me up").await;
    let react = format!("/messages/{id}/reactions");
    grace.post_form(&react, &[("emoji", "👀")]).await; // event 2
    ada.post_form(&react, &[("emoji", "👀")]).await; // event 3
    grace.post_form(&react, &[("emoji", "👀")]).await; // event 4: Grace's taken back

    // A page from before any of it replays all three, ending as it is now.
    let mut ws = app.socket(&ada, "general").await;
    ws.resume(1).await;
    let frames: Vec<String> =
        ws.drain(SECOND).await.into_iter().filter(|f| f.contains("resume-after")).collect();
    assert_eq!(frames.len(), 3, "{frames:?}");
    assert!(frames[2].contains(r#"name="after" value="4""#));
    assert!(frames[2].contains("eyes, 1: Ada Lovelace"), "{}", frames[2]);
}

async fn a_message_holds_at_most_twenty_different_reactions(backend: Backend) {
    let app = backend.spawn_with(|c| c.chat_messages_per_minute = 1000).await;
    let (ada, grace) = ada_and_grace(&app).await;
    let id = posted(&ada, "react to me").await;
    let react = format!("/messages/{id}/reactions");
    let many = [
        "😀", "😁", "😂", "🤣", "😃", "😄", "😅", "😆", "😉", "😊", "😋", "😎", "😍", "😘", "🥰",
        "😗", "😙", "🥲", "😚", "🙂",
    ];
    for emoji in many {
        assert_eq!(
            grace.post_form(&react, &[("emoji", emoji)]).await.status,
            StatusCode::SEE_OTHER
        );
    }
    let full = ada.post_form(&react, &[("emoji", "🤗")]).await;
    assert_eq!(full.status, StatusCode::CONFLICT);
    assert!(full.body.contains("as many different reactions as it can hold"));
    // Adding to one that is there still works.
    assert_eq!(ada.post_form(&react, &[("emoji", "😀")]).await.status, StatusCode::SEE_OTHER);
}
