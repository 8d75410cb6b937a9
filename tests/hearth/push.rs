//! Notifications on devices (Web Push), received by a real receiver that checks the
//! VAPID signature and decrypts each payload with the subscription's private key.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::on_both_databases;
use crate::support::push::PushReceiver;
use crate::support::{Backend, Browser, TestApp};

on_both_databases!(
    a_mention_reaches_the_devices_of_someone_not_looking,
    gone_busy_and_signed_out_devices_are_handled,
    a_push_address_must_be_public_https,
);

const PASSWORD: &str = "analytical engine";

async fn with_push(backend: Backend) -> TestApp {
    backend
        .spawn_with(|config| {
            config.web_push_allow_loopback = true;
            config.push_retry_after = Duration::from_millis(200);
        })
        .await
}

async fn say(browser: &Browser, room: &str, body: &str) -> Value {
    let (status, message) = browser
        .call("POST", &format!("/api/rooms/{room}/messages"), Some(json!({ "body": body })))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{message}");
    message
}

/// The device list on the dashboard, waiting up to a few seconds for `count`.
async fn until_devices(browser: &Browser, count: usize) -> String {
    for _ in 0..200 {
        let page = browser.get("/dashboard").await.body;
        if page.matches("/push/subscriptions/").count() == count {
            return page;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the dashboard never listed {count} devices");
}

async fn a_mention_reaches_the_devices_of_someone_not_looking(backend: Backend) {
    let Some(receiver) = PushReceiver::start().await else { return };
    let app = with_push(backend).await;
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let bo = app.signed_up("Bo Pilot", "bo@example.org", PASSWORD).await;

    // The service worker the dashboard's button registers, and the key it uses.
    let worker = app.browser().get("/sw.js").await;
    assert!(worker.headers["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert!(worker.body.contains("showNotification"));
    let dashboard = bo.get("/dashboard").await.body;
    let key = dashboard.split("data-key=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();

    let (status, _) =
        bo.call("POST", "/push/subscriptions", Some(receiver.subscription("bo-laptop"))).await;
    assert_eq!(status, StatusCode::CREATED);
    until_devices(&bo, 1).await;

    // Rooms tell of mentions only (the default); the author is never told.
    say(&ada, "general", "hello everyone").await;
    let lunch = say(&ada, "general", "@Bo Pilot lunch?").await;
    let pushes = receiver.until(1).await;
    let seq = lunch["seq"].as_i64().unwrap();
    assert_eq!(pushes[0]["name"], "bo-laptop");
    assert_eq!(pushes[0]["vapid_key"], key.as_str(), "signed with the key the browser was given");
    assert_eq!(pushes[0]["headers"]["ttl"], "86400");
    assert_eq!(
        pushes[0]["payload"],
        json!({
            "title": "Ada Lovelace in #General",
            "body": "@Bo Pilot lunch?",
            "url": format!("/chat/general/messages?around={seq}#m-{seq}"),
            "tag": pushes[0]["payload"]["tag"],
        })
    );

    // With the room open, Bo sees it there: no notification.
    let mut looking = app.live_socket(&bo, "general").await;
    say(&ada, "general", "@Bo Pilot never mind, found it").await;
    looking.expect("found it", Duration::from_secs(2)).await;
    looking.close().await;

    // A conversation tells of every message, unless Bo chose nothing for it.
    let bo_id = bo.user_id().await;
    let (_, conversation) =
        ada.call("POST", "/api/conversations", Some(json!({ "user_ids": [bo_id] }))).await;
    let slug = conversation["slug"].as_str().unwrap();
    say(&ada, slug, "psst").await;
    let pushes = receiver.until(2).await;
    assert_eq!(pushes[1]["payload"]["title"], "Ada Lovelace");
    assert_eq!(pushes[1]["payload"]["body"], "psst");
    bo.call(
        "PUT",
        &format!("/api/rooms/{slug}/notifications"),
        Some(json!({ "level": "nothing" })),
    )
    .await;
    say(&ada, slug, "are you there?").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.pushes().len(), 2, "nothing more: Bo was looking, then chose nothing");
    assert!(bo.get("/dashboard").await.body.contains("last notified"));
}

async fn gone_busy_and_signed_out_devices_are_handled(backend: Backend) {
    let Some(receiver) = PushReceiver::start().await else { return };
    let app = with_push(backend).await;
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let bo = app.signed_up("Bo Pilot", "bo@example.org", PASSWORD).await;

    // A subscription its push service says is gone (410) is forgotten.
    bo.call("POST", "/push/subscriptions", Some(receiver.subscription("gone-phone"))).await;
    until_devices(&bo, 1).await;
    say(&ada, "general", "@Bo Pilot one").await;
    until_devices(&bo, 0).await;

    // A busy push service (503) is tried again.
    bo.call("POST", "/push/subscriptions", Some(receiver.subscription("busy-tablet"))).await;
    say(&ada, "general", "@Bo Pilot two").await;
    let pushes = receiver.until(1).await;
    assert_eq!(
        (pushes[0]["name"].as_str(), pushes[0]["payload"]["body"].as_str()),
        (Some("busy-tablet"), Some("@Bo Pilot two"))
    );

    // Signing out of the browser that subscribed turns its notifications off.
    bo.post_form("/logout", &[]).await;
    let bo_again = app.browser();
    bo_again.post_form("/login", &[("email", "bo@example.org"), ("password", PASSWORD)]).await;
    until_devices(&bo_again, 0).await;
    say(&ada, "general", "@Bo Pilot three").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.pushes().len(), 1);
}

async fn a_push_address_must_be_public_https(backend: Backend) {
    let Some(receiver) = PushReceiver::start().await else { return };
    let app = backend.spawn().await;
    let bo = app.signed_up("Bo Pilot", "bo@example.org", PASSWORD).await;
    let mut local = receiver.subscription("bo");
    let (status, _) = bo.call("POST", "/push/subscriptions", Some(local.clone())).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "http, without the test setting");
    for endpoint in [
        "https://127.0.0.1/push",
        "https://10.0.0.7/push",
        "https://[fd00::1]/push",
        "https://localhost/push",
    ] {
        local["endpoint"] = json!(endpoint);
        let (status, _) = bo.call("POST", "/push/subscriptions", Some(local.clone())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{endpoint}");
    }
    let mut bad_keys = receiver.subscription("bo");
    bad_keys["endpoint"] = json!("https://93.184.216.34/push/abc");
    bad_keys["keys"]["auth"] = json!("c2hvcnQ");
    let (status, _) = bo.call("POST", "/push/subscriptions", Some(bad_keys)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Signed out, the page's script is sent to sign in; nothing is stored.
    let signed_out = app.browser().call("POST", "/push/subscriptions", Some(local)).await.0;
    assert_eq!(signed_out, StatusCode::SEE_OTHER);
    assert!(!bo.get("/dashboard").await.body.contains("/push/subscriptions/"));
}
