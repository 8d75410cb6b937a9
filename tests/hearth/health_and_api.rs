use reqwest::StatusCode;

use crate::on_both_databases;
use crate::support::Backend;

on_both_databases!(
    api_me_describes_the_signed_in_person,
    api_me_without_a_session_is_a_json_401,
    healthz_is_200_with_a_database_and_503_without,
    assets_are_embedded_and_cached_by_version,
);

async fn api_me_describes_the_signed_in_person(backend: Backend) {
    let app = backend.spawn().await;
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", "analytical engine").await;
    let resp = ada.get("/api/me").await;
    assert_eq!(resp.status, StatusCode::OK);
    let me: serde_json::Value = serde_json::from_str(&resp.body).unwrap();
    assert_eq!(me["name"], "Ada Lovelace");
    assert_eq!(me["email"], "ada@example.org");
    assert!(me["id"].as_i64().is_some());
    assert!(me["avatar_url"].is_null());
}

async fn api_me_without_a_session_is_a_json_401(backend: Backend) {
    let app = backend.spawn().await;
    let resp = app.browser().get("/api/me").await;
    assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
    assert!(resp.headers["content-type"].to_str().unwrap().starts_with("application/json"));
    let error: serde_json::Value = serde_json::from_str(&resp.body).unwrap();
    assert_eq!(error["error"], "unauthorized");
}

async fn healthz_is_200_with_a_database_and_503_without(backend: Backend) {
    let app = backend.spawn().await;
    let browser = app.browser();
    let up = browser.get("/healthz").await;
    assert_eq!(up.status, StatusCode::OK);

    app.state.db.close().await;
    let down = browser.get("/healthz").await;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
}

async fn assets_are_embedded_and_cached_by_version(backend: Backend) {
    let app = backend.spawn().await;
    let browser = app.browser();
    let landing = browser.get("/").await;
    let href = landing
        .body
        .split('"')
        .find(|part| part.starts_with("/assets/hearth.css?v="))
        .expect("versioned stylesheet link")
        .replace("&amp;", "&");
    let css = browser.get(&href).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.headers["content-type"].to_str().unwrap().starts_with("text/css"));
    assert!(css.headers["cache-control"].to_str().unwrap().contains("immutable"));
    assert!(css.body.contains(":root"));

    let js = browser.get("/assets/htmx.min.js").await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(js.body.contains("htmx"));
    assert_eq!(browser.get("/assets/nope.js").await.status, StatusCode::NOT_FOUND);
}
