use reqwest::StatusCode;

use crate::on_both_databases;
use crate::support::Backend;

on_both_databases!(
    the_dashboard_lists_each_session_and_marks_this_one,
    signing_out_other_sessions_ends_them_and_keeps_this_one,
    changing_the_password_needs_the_current_one_and_ends_the_other_sessions,
    looking_at_pages_does_not_write_the_session,
);

const PASSWORD: &str = "analytical engine";

async fn the_dashboard_lists_each_session_and_marks_this_one(backend: Backend) {
    let app = backend.spawn().await;
    let laptop = app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    let phone = app.browser();
    phone.post_form("/login", &[("email", "ada@example.org"), ("password", PASSWORD)]).await;

    let page = laptop.get("/dashboard").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body.matches("Chrome on Linux").count(), 2, "both sessions listed");
    assert_eq!(page.body.matches("This one").count(), 1);
    assert!(page.body.contains("Sign out all other sessions"));
}

async fn signing_out_other_sessions_ends_them_and_keeps_this_one(backend: Backend) {
    let app = backend.spawn().await;
    let laptop = app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    let phone = app.browser();
    phone.post_form("/login", &[("email", "ada@example.org"), ("password", PASSWORD)]).await;
    assert_eq!(phone.get("/dashboard").await.status, StatusCode::OK);

    let resp = laptop.post_form("/dashboard/sessions/end-others", &[]).await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    let page = laptop.get("/dashboard").await;
    assert!(page.body.contains("Signed out 1 other session."));
    assert_eq!(page.body.matches("Chrome on Linux").count(), 1);

    assert_eq!(phone.get("/dashboard").await.status, StatusCode::SEE_OTHER);
    assert_eq!(laptop.get("/dashboard").await.status, StatusCode::OK);
}

async fn changing_the_password_needs_the_current_one_and_ends_the_other_sessions(backend: Backend) {
    let app = backend.spawn().await;
    let laptop = app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    let phone = app.browser();
    phone.post_form("/login", &[("email", "ada@example.org"), ("password", PASSWORD)]).await;

    let wrong = laptop
        .post_form(
            "/dashboard/password",
            &[("current_password", "not it at all"), ("new_password", "difference engine")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("That is not your current password."));
    let weak = laptop
        .post_form(
            "/dashboard/password",
            &[("current_password", PASSWORD), ("new_password", "short")],
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.body.contains("Use at least 8 characters."));
    assert_eq!(phone.get("/dashboard").await.status, StatusCode::OK, "failed changes end nothing");

    let changed = laptop
        .post_form(
            "/dashboard/password",
            &[("current_password", PASSWORD), ("new_password", "difference engine")],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER);
    assert!(laptop.get("/dashboard").await.body.contains("Your password was changed"));
    assert_eq!(phone.get("/dashboard").await.status, StatusCode::SEE_OTHER);

    let old = app
        .browser()
        .post_form("/login", &[("email", "ada@example.org"), ("password", PASSWORD)])
        .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = app
        .browser()
        .post_form("/login", &[("email", "ada@example.org"), ("password", "difference engine")])
        .await;
    assert_eq!(new.status, StatusCode::SEE_OTHER);
}

/// A page view reads the session; only a change (a notice shown once, "last active"
/// moved on, at most every few minutes) writes it back and re-sends the cookie.
async fn looking_at_pages_does_not_write_the_session(backend: Backend) {
    let app = backend.spawn().await;
    let ada = app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    for path in ["/dashboard", "/dashboard", "/admin", "/chat/general"] {
        let page = ada.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_eq!(page.set_cookies(), Vec::<String>::new(), "{path} wrote the session");
    }

    // A one-time notice is taken (a write), then gone (no write).
    ada.post_form("/dashboard/sessions/end-others", &[]).await;
    let shown = ada.get("/dashboard").await;
    assert!(shown.body.contains("There were no other sessions."));
    assert_eq!(shown.set_cookies().len(), 1, "taking the notice out writes the session");
    let again = ada.get("/dashboard").await;
    assert!(!again.body.contains("There were no other sessions."));
    assert!(again.set_cookies().is_empty());
}
