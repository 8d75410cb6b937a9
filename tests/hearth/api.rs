//! The JSON API, used by a script with a token and by the page with its session.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::on_both_databases;
use crate::support::openapi::OpenApi;
use crate::support::{Backend, Page, TestApp, read};

on_both_databases!(
    a_script_with_a_token_posts_and_a_browser_sees_it_live,
    every_route_answers_the_session_and_a_token_the_same_way,
    a_revoked_token_or_a_deactivated_owner_stops_working,
    bad_api_input_gets_the_right_json_error,
    a_script_edits_and_deletes_messages_and_is_told_why_not,
    a_script_finds_the_people_who_are_here,
    the_openapi_document_describes_routes_that_exist,
);

const PASSWORD: &str = "analytical engine";

/// The API as a script calls it. Every answer is checked against the OpenAPI document
/// Hearth serves, so an answer that drifts from the document fails the story.
async fn api(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let client = reqwest::Client::new();
    let url = format!("{}{path}", app.base);
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
    let mut request = client.request(method.clone(), url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let page = read(request.send().await).await;
    let body = serde_json::from_str(&page.body).unwrap_or(Value::Null);
    documented(app, method.as_str(), path, &page, &body).await;
    (page.status, body)
}

/// Panics unless `page`, the answer to `method path`, has the shape the document gives.
async fn documented(app: &TestApp, method: &str, path: &str, page: &Page, body: &Value) {
    let content_type = page.headers.get("content-type").and_then(|v| v.to_str().ok());
    let doc = OpenApi::served(&app.base).await;
    if let Err(why) = doc.check(method, path, page.status.as_u16(), content_type, body) {
        panic!("{method} {path} answered {} {}: {why}", page.status, page.body);
    }
}

async fn a_script_with_a_token_posts_and_a_browser_sees_it_live(backend: Backend) {
    let app = backend.spawn().await;
    let ada = app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    let token = ada.make_token("weather bot").await;
    let grace = app.signed_up("Grace", "grace@example.org", PASSWORD).await;
    let mut ws = app.live_socket(&grace, "general").await;

    let (status, message) = api(
        &app,
        "POST",
        "/api/rooms/general/messages",
        Some(&token),
        Some(json!({"body": "Sunny, 21°C"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(message["body"], "Sunny, 21°C");
    assert_eq!(message["author"]["name"], "Ada");
    let live = ws.expect("Sunny, 21°C", Duration::from_secs(1)).await;
    assert!(live.contains(&format!("data-seq=\"{}\"", message["seq"])));
    assert!(ada.get("/dashboard").await.body.contains("last used"));
}

async fn every_route_answers_the_session_and_a_token_the_same_way(backend: Backend) {
    let app = backend.spawn().await;
    let ada = app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    let token = ada.make_token("script").await;
    ada.post_form("/chat/general/messages", &[("body", "hello")]).await;

    let (status, me) = api(&app, "GET", "/api/me", Some(&token), None).await;
    assert_eq!((status, me["email"].as_str()), (StatusCode::OK, Some("ada@example.org")));
    let page = ada.get("/api/me").await;
    let by_session: Value = serde_json::from_str(&page.body).unwrap();
    documented(&app, "GET", "/api/me", &page, &by_session).await;
    assert_eq!(by_session, me);
    assert_eq!(me["name"], "Ada");
    assert!(me["id"].as_i64().is_some());
    assert!(me["avatar_url"].is_null(), "no picture without Google");

    let (status, rooms) = api(&app, "GET", "/api/rooms", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rooms[0]["slug"], "general");
    let (status, history) =
        api(&app, "GET", "/api/rooms/general/messages?limit=10", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(history[0]["body"], "hello");
    let (status, older) =
        api(&app, "GET", "/api/rooms/general/messages?before=1", Some(&token), None).await;
    assert_eq!((status, older), (StatusCode::OK, json!([])));

    // The session posts too, from a same-site page; a cross-site page cannot.
    let messages = "/api/rooms/general/messages";
    let from_page = |site: &'static str, body: &'static str| {
        ada.client
            .post(ada.url(messages))
            .header("sec-fetch-site", site)
            .json(&json!({ "body": body }))
            .send()
    };
    let same_site = read(from_page("same-origin", "from the page").await).await;
    assert_eq!(same_site.status, StatusCode::CREATED);
    let message: Value = serde_json::from_str(&same_site.body).unwrap();
    documented(&app, "POST", messages, &same_site, &message).await;
    let cross_site = read(from_page("cross-site", "forged").await).await;
    assert_eq!(cross_site.status, StatusCode::FORBIDDEN);
    let error: Value = serde_json::from_str(&cross_site.body).unwrap();
    documented(&app, "POST", messages, &cross_site, &error).await;
    assert_eq!(error["error"], "cross_site");

    // Without a token or session, a script and a browser alike get JSON, not a page.
    for path in ["/api/me", "/api/rooms", "/api/rooms/general/messages"] {
        let (status, error) = api(&app, "GET", path, None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(error["error"], "unauthorized");
        let page = app.browser().get(path).await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(page.headers["content-type"].to_str().unwrap().starts_with("application/json"));
        let error: Value = serde_json::from_str(&page.body).unwrap();
        documented(&app, "GET", path, &page, &error).await;
        assert_eq!(error["error"], "unauthorized");
    }
}

async fn a_revoked_token_or_a_deactivated_owner_stops_working(backend: Backend) {
    let app = backend.spawn().await;
    let owner = app.signed_up("Owner", "owner@example.org", PASSWORD).await;
    let ada = app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    let token = ada.make_token("script").await;
    assert_eq!(api(&app, "GET", "/api/me", Some(&token), None).await.0, StatusCode::OK);

    let id: i64 = serde_json::from_str::<Value>(&ada.get("/api/me").await.body).unwrap()["id"]
        .as_i64()
        .unwrap();
    owner.post_form(&format!("/admin/people/{id}/deactivate"), &[]).await;
    assert_eq!(api(&app, "GET", "/api/me", Some(&token), None).await.0, StatusCode::UNAUTHORIZED);
    // Deactivation revoked the token: coming back does not revive it.
    owner.post_form(&format!("/admin/people/{id}/reactivate"), &[]).await;
    assert_eq!(api(&app, "GET", "/api/me", Some(&token), None).await.0, StatusCode::UNAUTHORIZED);

    let ada = app.browser();
    ada.post_form("/login", &[("email", "ada@example.org"), ("password", PASSWORD)]).await;
    let token = ada.make_token("script again").await;
    assert_eq!(api(&app, "GET", "/api/me", Some(&token), None).await.0, StatusCode::OK);
    let page = ada.get("/dashboard").await.body;
    let start = page.find("/dashboard/tokens/").unwrap();
    let revoke: String = page[start..].split('"').next().unwrap().to_owned();
    assert_eq!(ada.post_form(&revoke, &[]).await.status, StatusCode::SEE_OTHER);
    assert_eq!(api(&app, "GET", "/api/me", Some(&token), None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        api(&app, "GET", "/api/me", Some("hearth_made-up"), None).await.0,
        StatusCode::UNAUTHORIZED
    );

    // A new password revokes every token.
    let second = ada.make_token("second").await;
    assert_eq!(api(&app, "GET", "/api/me", Some(&second), None).await.0, StatusCode::OK);
    ada.post_form(
        "/dashboard/password",
        &[("current_password", PASSWORD), ("new_password", "a fresh passphrase")],
    )
    .await;
    assert_eq!(api(&app, "GET", "/api/me", Some(&second), None).await.0, StatusCode::UNAUTHORIZED);
}

async fn bad_api_input_gets_the_right_json_error(backend: Backend) {
    let app = backend.spawn_with(|c| c.chat_messages_per_minute = 6).await;
    let ada = app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    let token = ada.make_token("script").await;
    let post = |body: reqwest::Body, content_type: &'static str| {
        reqwest::Client::new()
            .post(format!("{}/api/rooms/general/messages", app.base))
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let cases: Vec<(reqwest::Body, &str, StatusCode, &str)> = vec![
        ("not json".into(), "application/json", StatusCode::BAD_REQUEST, "bad_request"),
        (
            r#"{"text": "hi"}"#.into(),
            "application/json",
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable",
        ),
        // Found by `just fuzz` (json_body): serde reads a struct from an array too,
        // so `["hi"]` was posted as a message.
        (r#"["hi"]"#.into(), "application/json", StatusCode::UNPROCESSABLE_ENTITY, "unprocessable"),
        (
            r#"{"body": "   "}"#.into(),
            "application/json",
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable",
        ),
        (
            json!({"body": "x".repeat(4001)}).to_string().into(),
            "application/json",
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable",
        ),
        (
            "body=hi".into(),
            "application/x-www-form-urlencoded",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            json!({"body": "y".repeat(70_000)}).to_string().into(),
            "application/json",
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
    ];
    for (body, content_type, status, code) in cases {
        let resp = read(post(body, content_type).await).await;
        assert_eq!(resp.status, status, "{code}");
        let error: Value = serde_json::from_str(&resp.body).unwrap();
        documented(&app, "POST", "/api/rooms/general/messages", &resp, &error).await;
        assert_eq!(error["error"], code);
        assert!(error["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }
    let (status, error) =
        api(&app, "POST", "/api/rooms/nowhere/messages", Some(&token), Some(json!({"body": "hi"})))
            .await;
    assert_eq!((status, error["error"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    let (status, _) =
        api(&app, "GET", "/api/rooms/general/messages?limit=0", Some(&token), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let mut limited = None;
    for i in 0..5 {
        let (status, error) = api(
            &app,
            "POST",
            "/api/rooms/general/messages",
            Some(&token),
            Some(json!({"body": format!("n{i}")})),
        )
        .await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(error);
        }
    }
    assert_eq!(limited.expect("the send rate limit applies")["error"], "rate_limited");
}

async fn the_openapi_document_describes_routes_that_exist(backend: Backend) {
    let app = backend.spawn().await;
    let ada = app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    let token = ada.make_token("script").await;
    let me = serde_json::from_str::<Value>(&ada.get("/api/me").await.body).unwrap()["id"]
        .as_i64()
        .unwrap();
    let grace = app.signed_up("Grace", "grace@example.org", PASSWORD).await;
    let other = serde_json::from_str::<Value>(&grace.get("/api/me").await.body).unwrap()["id"]
        .as_i64()
        .unwrap();
    let (status, doc) = api(&app, "GET", "/api/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let schemas = OpenApi::new(doc.clone());
    assert_eq!(paths.len(), 13);
    // The messages the routes of one message act on: the first is deleted last,
    // the second is reacted to.
    for body in ["for the spec", "to react to"] {
        ada.post_form("/chat/general/messages", &[("body", body)]).await;
    }
    for (path, operations) in paths {
        let seq = if path.contains("/reactions/") { "2" } else { "1" };
        // The room routes act on a room POST /api/rooms started (sorted before them).
        let room = if path.contains("/members") { "from-the-spec" } else { "general" };
        let path = path
            .replace("{room}", room)
            .replace("{seq}", seq)
            .replace("{emoji}", "%F0%9F%91%8D")
            .replace("{id}", &me.to_string());
        let mut operations: Vec<_> =
            operations.as_object().unwrap().iter().filter(|(m, _)| *m != "parameters").collect();
        operations.sort_by_key(|(method, _)| *method == "delete");
        for (method, spec) in operations {
            let body = match (method.as_str(), path.as_str()) {
                ("post", "/api/rooms") => Some(json!({"name": "From the spec", "private": true})),
                ("post", "/api/conversations") => Some(json!({"user_ids": [other]})),
                ("post", p) if p.ends_with("/members") => Some(json!({"user_id": me})),
                ("patch", "/api/rooms/general") => Some(json!({"topic": "From the spec"})),
                ("put", p) if p.ends_with("/notifications") => Some(json!({"level": "nothing"})),
                ("post" | "patch", _) => Some(json!({"body": "from the spec"})),
                _ => None,
            };
            let method = method.to_uppercase();
            let (status, body) = api(&app, &method, &path, Some(&token), body).await;
            // api() checked the shape; every JSON answer had a schema to check it against.
            let checked =
                schemas.check(&method, &path, status.as_u16(), Some("application/json"), &body);
            assert!(
                checked == Ok(true)
                    || path == "/api/openapi.json"
                    || status == StatusCode::NO_CONTENT,
                "{method} {path}: {checked:?}"
            );
            let documented = spec["responses"].as_object().unwrap();
            assert!(
                documented.contains_key(status.as_str()),
                "{method} {path} answered {status}, not documented"
            );
            assert!(status.is_success(), "{method} {path}: {status}");
        }
    }
}

async fn a_script_edits_and_deletes_messages_and_is_told_why_not(backend: Backend) {
    let app = backend.spawn().await;
    let ada = app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    let grace = app.signed_up("Grace", "grace@example.org", PASSWORD).await;
    let (ada_token, grace_token) =
        (ada.make_token("ada's").await, grace.make_token("grace's").await);
    let mut ws = app.live_socket(&grace, "general").await;
    let messages = "/api/rooms/general/messages";
    let new = |body: &str| Some(json!({ "body": body }));
    let (_, first) = api(&app, "POST", messages, Some(&ada_token), new("typo hre")).await;
    let (_, second) = api(&app, "POST", messages, Some(&grace_token), new("Grace's")).await;
    assert_eq!(first["edited_at"], Value::Null);
    let one = format!("{messages}/{}", first["seq"]);
    let two = format!("{messages}/{}", second["seq"]);

    let (status, edited) = api(&app, "PATCH", &one, Some(&ada_token), new("typo here")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (edited["body"].as_str(), edited["seq"].clone()),
        (Some("typo here"), first["seq"].clone())
    );
    assert!(
        edited["edited_at"].as_i64().is_some_and(|at| at >= first["created_at"].as_i64().unwrap())
    );
    ws.expect("typo here", Duration::from_secs(1)).await;

    // Someone else's: not for Grace to edit or delete, and not for Ada (an
    // administrator) to edit; she may delete it.
    for (method, path, token, body) in [
        ("PATCH", &one, &grace_token, new("hijacked")),
        ("DELETE", &one, &grace_token, None),
        ("PATCH", &two, &ada_token, new("hijacked")),
    ] {
        let (status, error) = api(&app, method, path, Some(token), body).await;
        assert_eq!(
            (status, error["error"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden")),
            "{method} {path}"
        );
    }
    let (status, error) = api(&app, "PATCH", &one, Some(&ada_token), new(" ")).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unprocessable"))
    );
    let (status, _) = api(&app, "DELETE", &two, Some(&ada_token), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    ws.expect(r#"<div id="m-2" hx-swap-oob="delete">"#, Duration::from_secs(1)).await;

    // Gone is gone: listing skips it, and acting on it again finds nothing.
    let (_, listed) = api(&app, "GET", messages, Some(&ada_token), None).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert_eq!(listed[0]["body"], "typo here");
    assert!(listed[0]["edited_at"].is_i64());
    for (method, path, body) in [
        ("DELETE", &two, None),
        ("PATCH", &two, new("again")),
        ("PATCH", &format!("{messages}/99"), new("x")),
    ] {
        let (status, error) = api(&app, method, path, Some(&grace_token), body).await;
        assert_eq!(
            (status, error["error"].as_str()),
            (StatusCode::NOT_FOUND, Some("not_found")),
            "{method} {path}"
        );
    }
}

async fn a_script_finds_the_people_who_are_here(backend: Backend) {
    let app = backend.spawn().await;
    let ada = app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    let grace = app.signed_up("Grace", "grace@example.org", PASSWORD).await;
    app.signed_up("Linus", "linus@example.org", PASSWORD).await;
    let token = ada.make_token("bot").await;
    let (status, people) = api(&app, "GET", "/api/people", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> =
        people.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Ada", "Grace", "Linus"]);
    assert!(people[0]["id"].is_i64() && people[0]["avatar_url"].is_null());
    assert!(people[0].get("email").is_none(), "emails are not for everyone");

    let grace_id =
        serde_json::from_str::<Value>(&grace.get("/api/me").await.body).unwrap()["id"].clone();
    ada.post_form(&format!("/admin/people/{grace_id}/deactivate"), &[]).await;
    let (_, people) = api(&app, "GET", "/api/people", Some(&token), None).await;
    let names: Vec<&str> =
        people.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Ada", "Linus"], "deactivated people are not listed");
}
