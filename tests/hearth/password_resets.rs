//! A forgotten password: an administrator makes a one-time link; whoever opens it
//! sets a new password and is signed in, every other session and token ended.

use reqwest::StatusCode;

use crate::on_both_databases;
use crate::support::{Backend, Browser, TestApp};

on_both_databases!(
    an_administrator_makes_a_link_and_the_person_sets_a_new_password,
    a_link_works_once_and_a_new_one_replaces_it,
    forgetting_a_password_says_whom_to_ask,
);

const PASSWORD: &str = "analytical engine";

/// Ada (the administrator) makes a link for Bo on /admin; returns its path.
async fn link_for_bo(app: &TestApp, ada: &Browser, bo: &Browser) -> String {
    let bo_id = bo.user_id().await;
    let page = ada.post_form(&format!("/admin/people/{bo_id}/reset-link"), &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("is not shown again"));
    let url = page.body.split("value=\"").find(|v| v.contains("/password/reset/")).unwrap();
    let url = url.split('"').next().unwrap();
    assert!(url.starts_with(&app.browser().url("/password/reset/")), "{url}");
    assert!(!ada.get("/admin").await.body.contains(url), "shown once");
    url.strip_prefix(&app.browser().url("")).unwrap().to_owned()
}

async fn an_administrator_makes_a_link_and_the_person_sets_a_new_password(backend: Backend) {
    let app = backend.spawn().await;
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let bo = app.signed_up("Bo Pilot", "bo@example.org", "forgotten words").await;
    let token = bo.make_token("script").await;
    // Someone who is not an administrator finds nothing to ask.
    let ada_id = ada.user_id().await;
    let refused = bo.post_form(&format!("/admin/people/{ada_id}/reset-link"), &[]).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);

    let path = link_for_bo(&app, &ada, &bo).await;
    let elsewhere = app.browser();
    let form = elsewhere.get(&path).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("bo@example.org"));
    let short = elsewhere.post_form(&path, &[("password", "short")]).await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    let set = elsewhere.post_form(&path, &[("password", "a fresh start")]).await;
    assert_eq!((set.status, set.location()), (StatusCode::SEE_OTHER, "/dashboard"));
    assert!(elsewhere.get("/dashboard").await.body.contains("Bo Pilot"), "signed in");

    // Every other session and token of the account is over.
    assert_eq!(bo.get("/dashboard").await.status, StatusCode::SEE_OTHER);
    let with_token = app
        .browser()
        .client
        .get(app.browser().url("/api/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status(), StatusCode::UNAUTHORIZED);
    let old = app
        .browser()
        .post_form("/login", &[("email", "bo@example.org"), ("password", "forgotten words")])
        .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = app
        .browser()
        .post_form("/login", &[("email", "bo@example.org"), ("password", "a fresh start")])
        .await;
    assert_eq!(new.status, StatusCode::SEE_OTHER);
}

async fn a_link_works_once_and_a_new_one_replaces_it(backend: Backend) {
    let app = backend.spawn().await;
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let bo = app.signed_up("Bo Pilot", "bo@example.org", PASSWORD).await;

    let first = link_for_bo(&app, &ada, &bo).await;
    let second = link_for_bo(&app, &ada, &bo).await;
    let gone = app.browser().get(&first).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND, "a new link replaces the old one");
    assert!(gone.body.contains("no longer works"));
    assert_eq!(
        app.browser().post_form(&first, &[("password", "a fresh start")]).await.status,
        StatusCode::NOT_FOUND
    );

    let used = app.browser().post_form(&second, &[("password", "a fresh start")]).await;
    assert_eq!(used.status, StatusCode::SEE_OTHER);
    let again = app.browser().post_form(&second, &[("password", "another try")]).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "a link works once");
    let made_up = app.browser().get("/password/reset/not-a-real-link").await;
    assert_eq!(made_up.status, StatusCode::NOT_FOUND);
}

async fn forgetting_a_password_says_whom_to_ask(backend: Backend) {
    let app = backend.spawn().await;
    app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let visitor = app.browser();
    assert!(visitor.get("/login").await.body.contains(r#"href="/password/forgot""#));
    let page = visitor.get("/password/forgot").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Ask one of its administrators"));
    assert!(!page.body.contains("/auth/google"), "no Google sign-in where there is none");
    // The same answer for an account and for none.
    let known = visitor.post_form("/password/forgot", &[("email", "ada@example.org")]).await;
    let unknown = visitor.post_form("/password/forgot", &[("email", "nobody@example.org")]).await;
    assert_eq!((known.status, unknown.status), (StatusCode::OK, StatusCode::OK));
    assert_eq!(known.body, unknown.body);
}
