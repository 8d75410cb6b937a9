//! Running a private Hearth from the UI: the first administrator, who may sign up,
//! the invite link, deactivation, and administrators.

use std::time::Duration;

use reqwest::StatusCode;

use hearth::config::Signup;

use crate::on_both_databases;
use crate::support::{Backend, Browser, TestApp};

on_both_databases!(
    the_first_account_is_the_administrator,
    of_people_racing_to_be_first_one_gets_in_and_runs_it,
    of_people_racing_into_an_open_hearth_one_runs_it,
    with_invites_only_the_current_link_lets_people_in,
    closed_and_open_sign_up_do_what_they_say,
    deactivation_ends_a_live_socket_and_refuses_sign_in,
    a_sign_in_racing_a_deactivation_gets_no_session,
    the_last_administrator_cannot_be_demoted,
    people_who_are_not_administrators_get_404,
);

const PASSWORD: &str = "analytical engine";

async fn invite_app(backend: Backend) -> TestApp {
    backend.spawn_with(|c| c.signup = Signup::Invite).await
}

async fn signup(browser: &Browser, email: &str, invite: &str) -> reqwest::StatusCode {
    browser
        .post_form(
            "/signup",
            &[("name", "Someone"), ("email", email), ("password", PASSWORD), ("invite", invite)],
        )
        .await
        .status
}

/// The invite URL shown on the administrator's page.
async fn invite_code(admin: &Browser) -> String {
    let page = admin.get("/admin").await.body;
    let start = page.find("/signup?invite=").expect("an invite link") + "/signup?invite=".len();
    page[start..].split('"').next().unwrap().to_owned()
}

async fn the_first_account_is_the_administrator(backend: Backend) {
    let app = invite_app(backend).await;
    let first = app.browser();
    assert!(first.get("/signup").await.body.contains("first account"));
    assert_eq!(signup(&first, "owner@example.org", "").await, StatusCode::SEE_OTHER);
    assert_eq!(first.get("/admin").await.status, StatusCode::OK);
    assert!(first.get("/dashboard").await.body.contains(r#"href="/admin""#));
}

/// Six people sign up to a new Hearth at the same moment; the statuses they got, and
/// how many of them can open the administrator's page.
async fn race_to_be_first(app: &TestApp) -> (Vec<StatusCode>, usize) {
    let racers: Vec<Browser> = (0..6).map(|_| app.browser()).collect();
    let statuses = futures_util::future::join_all(
        racers
            .iter()
            .enumerate()
            .map(|(i, b)| async move { signup(b, &format!("racer{i}@example.org"), "").await }),
    )
    .await;
    let mut administrators = 0;
    for racer in &racers {
        if racer.get("/admin").await.status == StatusCode::OK {
            administrators += 1;
        }
    }
    (statuses, administrators)
}

/// By invitation, only the first account needs none: one gets in, as administrator,
/// and the others are asked for an invite.
async fn of_people_racing_to_be_first_one_gets_in_and_runs_it(backend: Backend) {
    let app = invite_app(backend).await;
    let (statuses, administrators) = race_to_be_first(&app).await;
    let made = statuses.iter().filter(|&&s| s == StatusCode::SEE_OTHER).count();
    let refused = statuses.iter().filter(|&&s| s == StatusCode::FORBIDDEN).count();
    assert_eq!((made, refused, administrators), (1, 5, 1), "{statuses:?}");
}

/// With open sign-up everyone gets in, and still only one runs the place.
async fn of_people_racing_into_an_open_hearth_one_runs_it(backend: Backend) {
    let app = backend.spawn_with(|c| c.signup = Signup::Open).await;
    let (statuses, administrators) = race_to_be_first(&app).await;
    assert!(statuses.iter().all(|&s| s == StatusCode::SEE_OTHER), "{statuses:?}");
    assert_eq!(administrators, 1);
}

async fn with_invites_only_the_current_link_lets_people_in(backend: Backend) {
    let app = invite_app(backend).await;
    let owner = app.signed_up("Owner", "owner@example.org", PASSWORD).await;
    let stranger = app.browser();
    let page = stranger.get("/signup").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("by invitation"));
    assert_eq!(signup(&stranger, "stranger@example.org", "").await, StatusCode::FORBIDDEN);

    let code = invite_code(&owner).await;
    let invited = app.browser();
    let form = invited.get(&format!("/signup?invite={code}")).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains(&format!(r#"name="invite" value="{code}""#)));
    assert_eq!(signup(&invited, "friend@example.org", &code).await, StatusCode::SEE_OTHER);

    owner.post_form("/admin/invite/reset", &[]).await;
    let late = app.browser();
    let stale = late.get(&format!("/signup?invite={code}")).await;
    assert_eq!(stale.status, StatusCode::FORBIDDEN);
    assert!(stale.body.contains("not valid any more"));
    assert_eq!(signup(&late, "late@example.org", &code).await, StatusCode::FORBIDDEN);
    let fresh = invite_code(&owner).await;
    assert_ne!(fresh, code);
    assert_eq!(signup(&late, "late@example.org", &fresh).await, StatusCode::SEE_OTHER);
}

async fn closed_and_open_sign_up_do_what_they_say(backend: Backend) {
    let closed = backend.spawn_with(|c| c.signup = Signup::Closed).await;
    assert_eq!(
        signup(&closed.browser(), "owner@example.org", "").await,
        StatusCode::SEE_OTHER,
        "the first account"
    );
    let refused = closed.browser();
    assert_eq!(signup(&refused, "second@example.org", "").await, StatusCode::FORBIDDEN);
    assert!(refused.get("/signup").await.body.contains("not taking new accounts"));

    let open = backend.spawn_with(|c| c.signup = Signup::Open).await;
    assert_eq!(signup(&open.browser(), "owner@example.org", "").await, StatusCode::SEE_OTHER);
    assert_eq!(signup(&open.browser(), "second@example.org", "").await, StatusCode::SEE_OTHER);
}

async fn deactivation_ends_a_live_socket_and_refuses_sign_in(backend: Backend) {
    let app = backend.spawn().await;
    let owner = app.signed_up("Owner", "owner@example.org", PASSWORD).await;
    let member = app.signed_up("Member", "member@example.org", PASSWORD).await;
    let mut ws = app.live_socket(&member, "general").await;
    let member_id: i64 =
        serde_json::from_str::<serde_json::Value>(&member.get("/api/me").await.body).unwrap()["id"]
            .as_i64()
            .unwrap();

    let done = owner.post_form(&format!("/admin/people/{member_id}/deactivate"), &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(ws.expect_close(Duration::from_secs(1)).await, Some(1008));
    assert!(owner.get("/admin").await.body.contains("Member is deactivated"));
    // The right password gets exactly the answer a wrong one gets: no one learns
    // from a deactivated account whether they guessed right.
    let again = app
        .browser()
        .post_form("/login", &[("email", "member@example.org"), ("password", PASSWORD)])
        .await;
    let wrong = app
        .browser()
        .post_form("/login", &[("email", "member@example.org"), ("password", "not it at all")])
        .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    assert!(again.body.contains("deactivated"));
    assert_eq!((again.status, strip_value(&again.body)), (wrong.status, strip_value(&wrong.body)));

    owner.post_form(&format!("/admin/people/{member_id}/reactivate"), &[]).await;
    let back = app
        .browser()
        .post_form("/login", &[("email", "member@example.org"), ("password", PASSWORD)])
        .await;
    assert_eq!(back.status, StatusCode::SEE_OTHER);
}

async fn the_last_administrator_cannot_be_demoted(backend: Backend) {
    let app = backend.spawn().await;
    let owner = app.signed_up("Owner", "owner@example.org", PASSWORD).await;
    let me: serde_json::Value = serde_json::from_str(&owner.get("/api/me").await.body).unwrap();
    let id = me["id"].as_i64().unwrap();
    owner.post_form(&format!("/admin/people/{id}/demote"), &[]).await;
    let page = owner.get("/admin").await;
    assert_eq!(page.status, StatusCode::OK, "still an administrator");
    assert!(page.body.contains("needs at least one administrator"));

    let second = app.signed_up("Second", "second@example.org", PASSWORD).await;
    let second_id: i64 =
        serde_json::from_str::<serde_json::Value>(&second.get("/api/me").await.body).unwrap()["id"]
            .as_i64()
            .unwrap();
    owner.post_form(&format!("/admin/people/{second_id}/promote"), &[]).await;
    assert_eq!(second.get("/admin").await.status, StatusCode::OK);
    owner.post_form(&format!("/admin/people/{id}/demote"), &[]).await;
    assert_eq!(
        owner.get("/admin").await.status,
        StatusCode::NOT_FOUND,
        "demoted now that another exists"
    );
}

async fn people_who_are_not_administrators_get_404(backend: Backend) {
    let app = backend.spawn().await;
    let _owner = app.signed_up("Owner", "owner@example.org", PASSWORD).await;
    let member = app.signed_up("Member", "member@example.org", PASSWORD).await;
    assert_eq!(member.get("/admin").await.status, StatusCode::NOT_FOUND);
    assert_eq!(member.post_form("/admin/invite/reset", &[]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        member.post_form("/admin/people/1/deactivate", &[]).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(!member.get("/dashboard").await.body.contains(r#"href="/admin""#));
}

/// A page with the email field's value blanked (both answers echo what was typed).
fn strip_value(body: &str) -> String {
    body.replace(r#"value="member@example.org""#, r#"value="""#)
}

/// A sign-in that checked the password just before the account was deactivated
/// (and reactivated) must not end up with a working session: its credentials were
/// of the generation that deactivation ended.
async fn a_sign_in_racing_a_deactivation_gets_no_session(backend: Backend) {
    // Slow hashing, so the sign-in is still checking the password while the
    // administrator acts.
    let app = backend.spawn_with(|c| c.bcrypt_cost = 13).await;
    let owner = app.signed_up("Owner", "owner@example.org", PASSWORD).await;
    let member = app.signed_up("Member", "member@example.org", PASSWORD).await;
    let me: serde_json::Value = serde_json::from_str(&member.get("/api/me").await.body).unwrap();
    let member_id = me["id"].as_i64().unwrap();

    let racer = std::sync::Arc::new(app.browser());
    let signing_in = {
        let racer = racer.clone();
        tokio::spawn(async move {
            racer
                .post_form("/login", &[("email", "member@example.org"), ("password", PASSWORD)])
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    owner.post_form(&format!("/admin/people/{member_id}/deactivate"), &[]).await;
    owner.post_form(&format!("/admin/people/{member_id}/reactivate"), &[]).await;
    let answer = signing_in.await.unwrap();
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "the password was right when checked");
    assert_eq!(
        racer.get("/dashboard").await.status,
        StatusCode::SEE_OTHER,
        "the session made with the old generation is refused"
    );
    // Signing in again now works as usual.
    let again = app.browser();
    again.post_form("/login", &[("email", "member@example.org"), ("password", PASSWORD)]).await;
    assert_eq!(again.get("/dashboard").await.status, StatusCode::OK);
}
