//! How much of a room one hears about when not looking: everything, mentions or
//! nothing, chosen per room on its page or through the API, and honoured by the
//! emails about missed mentions.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::on_both_databases;
use crate::support::openapi::OpenApi;
use crate::support::smtp::Inbox;
use crate::support::{Backend, Browser, TestApp};

on_both_databases!(
    each_room_has_a_level_chosen_on_its_page_or_through_the_api,
    a_room_set_to_nothing_sends_no_email,
);

const PASSWORD: &str = "analytical engine";

/// The API's answer, checked against the OpenAPI document.
async fn call(
    app: &TestApp,
    who: &Browser,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let (status, answer) = who.call(method, path, body).await;
    let doc = OpenApi::served(&app.base).await;
    if let Err(why) = doc.check(method, path, status.as_u16(), Some("application/json"), &answer) {
        panic!("{method} {path} answered {status} {answer}: {why}");
    }
    (status, answer)
}

async fn each_room_has_a_level_chosen_on_its_page_or_through_the_api(backend: Backend) {
    let app = backend.spawn().await;
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let bo = app.signed_up("Bo Pilot", "bo@example.org", PASSWORD).await;
    let general = "/api/rooms/general/notifications";
    assert_eq!(call(&app, &ada, "GET", general, None).await.1, json!({ "level": "mentions" }));
    let bo_id = bo.user_id().await;
    let (_, conversation) =
        ada.call("POST", "/api/conversations", Some(json!({ "user_ids": [bo_id] }))).await;
    let slug = conversation["slug"].as_str().unwrap();
    let direct = format!("/api/rooms/{slug}/notifications");
    assert_eq!(call(&app, &ada, "GET", &direct, None).await.1, json!({ "level": "everything" }));

    let (status, set) = call(&app, &ada, "PUT", general, Some(json!({ "level": "nothing" }))).await;
    assert_eq!((status, set), (StatusCode::OK, json!({ "level": "nothing" })));
    assert_eq!(call(&app, &bo, "GET", general, None).await.1["level"], "mentions", "per person");
    let (status, _) = call(&app, &ada, "PUT", general, Some(json!({ "level": "loud" }))).await;
    assert!(status.is_client_error());

    // The room's page links to a form that works without JavaScript.
    assert!(ada.get("/chat/general").await.body.contains(r#"href="/chat/general/notifications""#));
    let form = ada.get("/chat/general/notifications").await.body;
    assert!(form.contains(r#"value="nothing" checked"#), "{form}");
    let saved = ada.post_form("/chat/general/notifications", &[("level", "everything")]).await;
    assert_eq!((saved.status, saved.location()), (StatusCode::SEE_OTHER, "/chat/general"));
    assert_eq!(call(&app, &ada, "GET", general, None).await.1["level"], "everything");
    let refused = ada.post_form("/chat/general/notifications", &[("level", "loud")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);

    // A room one is not in has no level to see or set.
    let (_, room) =
        ada.call("POST", "/api/rooms", Some(json!({ "name": "Quiet", "private": true }))).await;
    let quiet = format!("/api/rooms/{}/notifications", room["slug"].as_str().unwrap());
    assert_eq!(call(&app, &bo, "GET", &quiet, None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        bo.get(&format!("/chat/{}/notifications", room["slug"].as_str().unwrap())).await.status,
        StatusCode::NOT_FOUND
    );
}

async fn a_room_set_to_nothing_sends_no_email(backend: Backend) {
    let Some(inbox) = Inbox::start().await else { return };
    let url = inbox.url();
    let app = backend
        .spawn_with(move |config| {
            config.smtp_url = Some(url);
            config.mail_from = Some("Hearth <hearth@example.test>".into());
            config.missed_mention_after = Duration::from_secs(1);
        })
        .await;
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let bo = app.signed_up("Bo Pilot", "bo@example.org", PASSWORD).await;
    let mails = inbox.until(2).await;
    let confirm = mails.iter().find(|m| m["to"] == json!(["bo@example.org"])).unwrap();
    let link = crate::support::smtp::link_in(
        confirm["text"].as_str().unwrap(),
        &app.browser().url("/email/confirm/"),
    );
    app.browser().post_form(link.strip_prefix(&app.browser().url("")).unwrap(), &[]).await;

    bo.call("PUT", "/api/rooms/general/notifications", Some(json!({ "level": "nothing" }))).await;
    ada.call(
        "POST",
        "/api/rooms/general/messages",
        Some(json!({ "body": "@Bo Pilot are you there?" })),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(inbox.mails().len(), 2, "nothing, as Bo chose");

    bo.call("PUT", "/api/rooms/general/notifications", Some(json!({ "level": "mentions" }))).await;
    let mails = inbox.until(3).await;
    assert_eq!(mails[2]["to"], json!(["bo@example.org"]));
    assert!(mails[2]["text"].as_str().unwrap().contains("@Bo Pilot are you there?"));
}
