//! Bots that answer: an administrator adds one with a webhook; a message that
//! mentions it, or is sent in a conversation with it, reaches the webhook signed,
//! and what it answers is posted in the room. The webhooks here are real HTTP
//! servers on 127.0.0.1 that check the signature as a bot would.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hmac::{Hmac, Mac};
use poem::http::StatusCode as PoemStatus;
use poem::listener::TcpAcceptor;
use poem::web::Data;
use poem::{EndpointExt, IntoResponse, Request, Response, Route, Server, handler};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::on_both_databases;
use crate::support::{Backend, Browser, TestApp, bind};

on_both_databases!(
    a_bot_answers_when_mentioned_and_in_a_conversation,
    a_failed_delivery_is_tried_again_and_shown_to_administrators,
    a_bot_that_hangs_does_not_slow_the_chat,
    a_webhook_must_be_public_https,
    a_deactivated_bot_hears_nothing_and_its_token_stops,
);

/// What a webhook does with the next request it gets.
#[derive(Clone)]
enum Reply {
    Text(&'static str),
    Json(Value),
    Status(u16),
    Redirect(String),
    /// Waits this long before answering 200.
    Hang(Duration),
}

/// One request the webhook got.
#[derive(Debug, Clone)]
struct Received {
    timestamp: String,
    signature: String,
    delivery: String,
    body: Value,
}

#[derive(Default)]
struct Inbox {
    replies: Mutex<VecDeque<Reply>>,
    received: Mutex<Vec<Received>>,
    /// The signing secret, once the bot is added: every request is checked.
    secret: Mutex<Option<String>>,
}

/// A bot's program: an HTTP server on 127.0.0.1 that checks signatures.
struct Webhook {
    url: String,
    inbox: Arc<Inbox>,
}

impl Webhook {
    async fn start(replies: Vec<Reply>) -> Self {
        let listener = bind().await;
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let inbox = Arc::new(Inbox::default());
        inbox.replies.lock().unwrap().extend(replies);
        let app = Route::new().at("/hook", receive).data(inbox.clone());
        let acceptor = TcpAcceptor::from_tokio(listener).unwrap();
        tokio::spawn(async move { Server::new_with_acceptor(acceptor).run(app).await });
        Webhook { url, inbox }
    }

    fn knows(&self, secret: &str) {
        *self.inbox.secret.lock().unwrap() = Some(secret.to_owned());
    }

    fn received(&self) -> Vec<Received> {
        self.inbox.received.lock().unwrap().clone()
    }

    /// Waits until `n` requests came; returns them.
    async fn until(&self, n: usize, within: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(tokio::time::Instant::now() < deadline, "got {} of {n} requests", got.len());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[handler]
async fn receive(req: &Request, body: Vec<u8>, Data(inbox): Data<&Arc<Inbox>>) -> Response {
    let header = |name: &str| {
        req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    };
    let (timestamp, signature) = (header("x-hearth-timestamp"), header("x-hearth-signature"));
    // As a bot checks it: HMAC-SHA256 of "timestamp.body" with the signing secret.
    let secret = inbox.secret.lock().unwrap().clone().expect("the secret is known");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(&body);
    let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(signature, format!("sha256={expected}"), "the signature checks out");
    assert_eq!(header("content-type"), "application/json");
    let sent_at: i64 = timestamp.parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - sent_at).abs() < 60, "a current timestamp");
    inbox.received.lock().unwrap().push(Received {
        timestamp,
        signature,
        delivery: header("x-hearth-delivery"),
        body: serde_json::from_slice(&body).unwrap(),
    });
    let reply = inbox.replies.lock().unwrap().pop_front().unwrap_or(Reply::Status(200));
    match reply {
        Reply::Text(text) => text.into_response(),
        Reply::Json(value) => poem::web::Json(value).into_response(),
        Reply::Status(code) => PoemStatus::from_u16(code).unwrap().into_response(),
        Reply::Redirect(to) => poem::web::Redirect::temporary(to).into_response(),
        Reply::Hang(wait) => {
            tokio::time::sleep(wait).await;
            "too late".into_response()
        }
    }
}

const PASSWORD: &str = "analytical engine";

/// Hearth whose bots may use webhooks on 127.0.0.1, tried again `retry_after`
/// after a failure.
async fn with_bots(backend: Backend, retry_after: Duration) -> TestApp {
    backend
        .spawn_with(|config| {
            config.bot_webhooks_allow_loopback = true;
            config.bot_retry_after = retry_after;
        })
        .await
}

/// A bot as the administrator's answer showed it.
struct Added {
    id: i64,
    token: String,
}

/// `admin` adds a bot called `name` for `webhook` on /admin; it is put in `general`.
async fn add_bot(admin: &Browser, name: &str, webhook: &Webhook) -> Added {
    let form = admin.get("/admin/bots").await;
    assert_eq!(form.status, StatusCode::OK);
    let added =
        admin.post_form("/admin/bots", &[("name", name), ("webhook_url", &webhook.url)]).await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    // The value of the input with this id.
    let shown = |id: &str| -> String {
        let input = added.body.split(&format!("id=\"{id}\"")).nth(1).expect("shown once");
        let value = input.split("value=\"").nth(1).unwrap();
        value.split('"').next().unwrap().to_owned()
    };
    let (token, secret) = (shown("bot-token"), shown("bot-secret"));
    assert!(token.starts_with("hearth_") && secret.starts_with("hearth_whsec_"));
    webhook.knows(&secret);
    let admin_page = admin.get("/admin").await.body;
    assert!(admin_page.contains(name) && admin_page.contains(&webhook.url));
    assert!(!admin_page.contains(&secret) && !admin_page.contains(&token), "shown only once");

    let (_, people) = admin.call("GET", "/api/people", None).await;
    let bot = people.as_array().unwrap().iter().find(|p| p["name"] == name).unwrap().clone();
    assert_eq!(bot["bot"], true);
    let id = bot["id"].as_i64().unwrap();
    let (status, _) =
        admin.call("POST", "/api/rooms/general/members", Some(json!({ "user_id": id }))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    Added { id, token }
}

async fn say(browser: &Browser, room: &str, body: &str) -> Value {
    let (status, message) = browser
        .call("POST", &format!("/api/rooms/{room}/messages"), Some(json!({ "body": body })))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{message}");
    message
}

/// Waits until a message by `author` appears in `room`; returns it.
async fn until_posted_by(browser: &Browser, room: &str, author: i64) -> Value {
    for _ in 0..250 {
        let (_, history) = browser.call("GET", &format!("/api/rooms/{room}/messages"), None).await;
        if let Some(found) =
            history.as_array().unwrap().iter().find(|m| m["author"]["id"] == author)
        {
            return found.clone();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("nothing from {author} in {room}");
}

/// Waits until the administrator's page says `needle` about the bots.
async fn until_admin_says(admin: &Browser, needle: &str) -> String {
    for _ in 0..300 {
        let page = admin.get("/admin").await.body;
        if page.contains(needle) {
            return page;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("/admin never said {needle:?}");
}

async fn a_bot_answers_when_mentioned_and_in_a_conversation(backend: Backend) {
    let app = with_bots(backend, Duration::from_millis(200)).await;
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let echo_hook = Webhook::start(vec![
        Reply::Text("Pong! @Parrot, your turn."),
        Reply::Json(json!({ "body": "Hello in private." })),
    ])
    .await;
    let parrot_hook = Webhook::start(vec![]).await;
    let echo = add_bot(&ada, "Echo", &echo_hook).await;
    let parrot = add_bot(&ada, "Parrot", &parrot_hook).await;

    say(&ada, "general", "hello everyone").await;
    let ping = say(&ada, "general", "@Echo ping").await;
    let got = echo_hook.until(1, Duration::from_secs(10)).await;
    let body = &got[0].body;
    assert_eq!(body["bot"], json!({ "id": echo.id, "name": "Echo" }));
    assert_eq!(body["room"]["slug"], "general");
    assert_eq!(body["room"]["kind"], "public");
    assert_eq!(body["message"]["seq"], ping["seq"]);
    assert_eq!(body["message"]["body"], "@Echo ping");
    assert_eq!(body["message"]["author"]["name"], "Ada Lovelace");
    assert_eq!(body["message"]["created_at"], ping["created_at"]);
    let answer = until_posted_by(&ada, "general", echo.id).await;
    // Its answer mentions Parrot, who is in the room; but bots do not wake bots.
    assert_eq!(answer["body"], "Pong! @Parrot, your turn.");
    until_admin_says(&ada, "Delivered (200).").await;

    // The bot uses the API with its token, as itself.
    let me = app
        .browser()
        .client
        .get(app.browser().url("/api/me"))
        .bearer_auth(&echo.token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.json::<Value>().await.unwrap()["name"], "Echo");

    // In a conversation with the bot, every message is for it; a JSON answer's body
    // is posted there.
    let (status, conversation) =
        ada.call("POST", "/api/conversations", Some(json!({ "user_ids": [echo.id] }))).await;
    assert_eq!(status, StatusCode::CREATED);
    let slug = conversation["slug"].as_str().unwrap();
    say(&ada, slug, "just between us").await;
    let got = echo_hook.until(2, Duration::from_secs(10)).await;
    assert_eq!(got[1].body["room"]["kind"], "direct");
    assert_eq!(got[1].body["message"]["body"], "just between us");
    assert_eq!(until_posted_by(&ada, slug, echo.id).await["body"], "Hello in private.");
    let to_parrot = say(&ada, "general", "@Parrot are you there?").await;
    let got = parrot_hook.until(1, Duration::from_secs(10)).await;
    assert_eq!(got[0].body["bot"]["id"], parrot.id);
    assert_eq!(got[0].body["message"]["seq"], to_parrot["seq"], "not Echo's mention");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(parrot_hook.received().len(), 1);
    assert_eq!(echo_hook.received().len(), 2, "a message that does not mention it is not sent");
}

async fn a_failed_delivery_is_tried_again_and_shown_to_administrators(backend: Backend) {
    let app = with_bots(backend, Duration::from_millis(200)).await;
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let flaky = Webhook::start(vec![Reply::Status(503), Reply::Text("Back again.")]).await;
    let bot = add_bot(&ada, "Flaky", &flaky).await;
    say(&ada, "general", "@Flaky are you up?").await;
    let got = flaky.until(2, Duration::from_secs(10)).await;
    assert_eq!(got[0].delivery, got[1].delivery, "the same delivery, tried again");
    assert_eq!(got[0].body, got[1].body);
    assert!(got[1].timestamp >= got[0].timestamp && got[0].signature.starts_with("sha256="));
    assert_eq!(until_posted_by(&ada, "general", bot.id).await["body"], "Back again.");
    until_admin_says(&ada, "Delivered (200).").await;

    // An answer that cannot help (404) is not tried again, and says so; neither is
    // a redirect followed.
    let elsewhere = Webhook::start(vec![]).await;
    let gone =
        Webhook::start(vec![Reply::Status(404), Reply::Redirect(elsewhere.url.clone())]).await;
    add_bot(&ada, "Gone", &gone).await;
    elsewhere.knows("unused");
    say(&ada, "general", "@Gone hello?").await;
    until_admin_says(&ada, "It answered 404 Not Found. Given up on message").await;
    say(&ada, "general", "@Gone once more").await;
    until_admin_says(&ada, "a redirect, which Hearth does not follow").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(gone.received().len(), 2, "neither was tried again");
    assert!(elsewhere.received().is_empty(), "the redirect was not followed");
}

async fn a_bot_that_hangs_does_not_slow_the_chat(backend: Backend) {
    let app = with_bots(backend, Duration::from_secs(60)).await;
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let bo = app.signed_up("Bo Pilot", "bo@example.org", PASSWORD).await;
    let slow = Webhook::start(vec![Reply::Hang(Duration::from_secs(30))]).await;
    add_bot(&ada, "Sloth", &slow).await;
    let mut bo_sees = app.live_socket(&bo, "general").await;
    say(&ada, "general", "@Sloth take your time").await;
    slow.until(1, Duration::from_secs(10)).await;
    // While the bot keeps Hearth waiting, the room carries on.
    for n in 0..5 {
        say(&ada, "general", &format!("meanwhile {n}")).await;
        bo_sees.expect(&format!("meanwhile {n}"), Duration::from_secs(2)).await;
    }
    // Five seconds is all it gets; then it is tried again later.
    until_admin_says(&ada, "It did not answer within 5 seconds. Trying again in 60 seconds").await;
}

async fn a_webhook_must_be_public_https(backend: Backend) {
    // As in production: no loopback allowance.
    let app = backend.spawn().await;
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let bo = app.signed_up("Bo Pilot", "bo@example.org", PASSWORD).await;
    let listener = bind().await;
    let local = format!("http://{}/hook", listener.local_addr().unwrap());
    for (url, problem) in [
        (local.as_str(), "must start with https://"),
        ("https://127.0.0.1/hook", "private, local or reserved network"),
        ("https://localhost:8443/hook", "private, local or reserved network"),
        ("https://10.1.2.3/hook", "private, local or reserved network"),
        ("https://169.254.169.254/latest/meta-data", "private, local or reserved network"),
        ("https://[::ffff:192.168.0.1]/hook", "private, local or reserved network"),
        ("javascript:alert(1)", "must start with https://"),
    ] {
        let refused =
            ada.post_form("/admin/bots", &[("name", "Sneaky"), ("webhook_url", url)]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        assert!(refused.body.contains(problem), "{url}: {}", refused.body);
        assert!(refused.body.contains("value=\"Sneaky\""), "what was typed is kept");
    }
    let nameless = ada
        .post_form("/admin/bots", &[("name", " "), ("webhook_url", "https://93.184.216.34/")])
        .await;
    assert_eq!(nameless.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Only administrators find the page at all.
    assert_eq!(bo.get("/admin/bots").await.status, StatusCode::NOT_FOUND);
    let not_admin = bo
        .post_form("/admin/bots", &[("name", "Mine"), ("webhook_url", "https://93.184.216.34/")])
        .await;
    assert_eq!(not_admin.status, StatusCode::NOT_FOUND);
    let (_, people) = ada.call("GET", "/api/people", None).await;
    assert!(people.as_array().unwrap().iter().all(|p| p["bot"] == false), "no bot was made");
}

async fn a_deactivated_bot_hears_nothing_and_its_token_stops(backend: Backend) {
    let app = with_bots(backend, Duration::from_millis(200)).await;
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let hook = Webhook::start(vec![]).await;
    let bot = add_bot(&ada, "Retired", &hook).await;
    // A bot is never an administrator, nor given a password.
    let promoted = ada.post_form(&format!("/admin/people/{}/promote", bot.id), &[]).await;
    assert_eq!(promoted.status, StatusCode::SEE_OTHER);
    assert!(ada.get("/admin").await.body.contains("A bot cannot be an administrator."));
    let link = ada.post_form(&format!("/admin/people/{}/reset-link", bot.id), &[]).await;
    assert_eq!(link.status, StatusCode::CONFLICT);

    let deactivated = ada.post_form(&format!("/admin/people/{}/deactivate", bot.id), &[]).await;
    assert_eq!(deactivated.status, StatusCode::SEE_OTHER);
    assert!(ada.get("/admin").await.body.contains("Retired, deactivated"));
    say(&ada, "general", "@Retired still there?").await;
    let with_token = app
        .browser()
        .client
        .get(app.browser().url("/api/me"))
        .bearer_auth(&bot.token)
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status(), StatusCode::UNAUTHORIZED);
    // A conversation message after it shows the worker had its chance.
    let watcher = Webhook::start(vec![]).await;
    add_bot(&ada, "Watcher", &watcher).await;
    say(&ada, "general", "@Watcher ping").await;
    watcher.until(1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(hook.received().is_empty(), "nothing reaches a deactivated bot");
}
