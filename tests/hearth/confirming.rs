//! A fresh sign-in before what matters: past the window (shortened here to a
//! second), making a token, setting up two-factor codes and administrator actions
//! ask for the password, then do what was asked.

use std::time::Duration;

use reqwest::StatusCode;

use crate::on_both_databases;
use crate::support::{Backend, TestApp};

on_both_databases!(
    a_stale_session_confirms_with_its_password_and_the_form_goes_on,
    a_page_that_needs_a_fresh_sign_in_comes_back_after_the_password,
    administrator_actions_need_a_fresh_sign_in,
);

const PASSWORD: &str = "analytical engine";

async fn app_with_a_short_window(backend: Backend) -> TestApp {
    backend.spawn_with(|config| config.fresh_sign_in = Duration::from_secs(1)).await
}

async fn stale() {
    tokio::time::sleep(Duration::from_millis(2_100)).await;
}

async fn a_stale_session_confirms_with_its_password_and_the_form_goes_on(backend: Backend) {
    let app = app_with_a_short_window(backend).await;
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    stale().await;

    let asked = ada.post_form("/dashboard/tokens", &[("name", "Deploy bot")]).await;
    assert_eq!(asked.status, StatusCode::UNAUTHORIZED);
    assert!(asked.body.contains("Confirm it is you"));
    assert!(asked.body.contains(r#"<form method="post" action="/dashboard/tokens""#));
    assert!(
        asked.body.contains(r#"name="name" value="Deploy bot""#),
        "the form's fields come back"
    );
    assert!(!ada.get("/dashboard").await.body.contains("Deploy bot"), "nothing made yet");

    let wrong = ada
        .post_form("/dashboard/tokens", &[("name", "Deploy bot"), ("reauth_password", "guess")])
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("That password is not right."));

    let made = ada
        .post_form("/dashboard/tokens", &[("name", "Deploy bot"), ("reauth_password", PASSWORD)])
        .await;
    assert_eq!(made.status, StatusCode::OK);
    assert!(made.body.contains("Your new token") && made.body.contains("Deploy bot"));
    // Confirmed: the next one within the window is not asked.
    let next = ada.post_form("/dashboard/tokens", &[("name", "Another")]).await;
    assert_eq!(next.status, StatusCode::OK);
}

async fn a_page_that_needs_a_fresh_sign_in_comes_back_after_the_password(backend: Backend) {
    let app = app_with_a_short_window(backend).await;
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    stale().await;

    let asked = ada.get("/dashboard/two-factor").await;
    assert_eq!(asked.status, StatusCode::UNAUTHORIZED);
    assert!(asked.body.contains(r#"action="/confirm""#));
    assert!(!asked.body.contains("<svg"), "no secret before the proof");
    let wrong = ada
        .post_form("/confirm", &[("then", "/dashboard/two-factor"), ("reauth_password", "guess")])
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let right = ada
        .post_form("/confirm", &[("then", "/dashboard/two-factor"), ("reauth_password", PASSWORD)])
        .await;
    assert_eq!((right.status, right.location()), (StatusCode::SEE_OTHER, "/dashboard/two-factor"));
    let setup = ada.get("/dashboard/two-factor").await;
    assert_eq!(setup.status, StatusCode::OK);
    assert!(setup.body.contains("<svg"));
    // `then` is a local path only.
    stale().await;
    let away = ada
        .post_form("/confirm", &[("then", "https://evil.example/"), ("reauth_password", PASSWORD)])
        .await;
    assert_eq!(away.location(), "/dashboard");
}

async fn administrator_actions_need_a_fresh_sign_in(backend: Backend) {
    let app = app_with_a_short_window(backend).await;
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let bo = app.signed_up("Bo Pilot", "bo@example.org", PASSWORD).await;
    stale().await;

    // Looking needs no proof; changing does.
    assert_eq!(ada.get("/admin").await.status, StatusCode::OK);
    let asked = ada.post_form("/admin/invite/reset", &[]).await;
    assert_eq!(asked.status, StatusCode::UNAUTHORIZED);
    let done = ada.post_form("/admin/invite/reset", &[("reauth_password", PASSWORD)]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    // Someone who is not an administrator is not asked anything: there is nothing here.
    assert_eq!(bo.post_form("/admin/invite/reset", &[]).await.status, StatusCode::NOT_FOUND);
}
