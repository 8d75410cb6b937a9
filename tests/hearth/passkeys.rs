//! Passkeys over HTTP, with a software authenticator (`support::authenticator`)
//! answering as a device would: adding one from the dashboard, signing in with it
//! alone, each answer counting once and only for its own challenge and site, a
//! copied key refused, removal, and a passkey as the fresh sign-in that changes
//! need. The browser suite does the same with Chromium's virtual authenticator.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::on_both_databases;
use crate::support::authenticator::Authenticator;
use crate::support::{Backend, Browser, TestApp};

on_both_databases!(
    a_passkey_added_on_the_dashboard_signs_in_alone,
    an_answer_counts_once_for_its_own_challenge_and_site,
    a_removed_key_or_a_deactivated_account_signs_in_to_nothing,
    a_passkey_is_two_factors_and_a_fresh_sign_in,
    answers_that_are_not_passkeys_get_a_clear_refusal,
    challenges_are_limited_per_address,
    passkeys_are_off_when_hearth_is_reached_by_ip_address,
);

const PASSWORD: &str = "analytical engine";

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|err| panic!("{err}: {body}"))
}

/// Adds a passkey named `name` to `browser`'s account, as the dashboard's page does.
async fn add(browser: &Browser, device: &mut Authenticator, name: &str) -> reqwest::StatusCode {
    let page = browser.get("/dashboard/passkeys/new").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let options = browser.post_form("/dashboard/passkeys/options", &[]).await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.body);
    let answer = device.create(&json(&options.body));
    let added =
        browser.post_form("/dashboard/passkeys", &[("name", name), ("credential", &answer)]).await;
    added.status
}

/// A challenge for `browser`, as the sign-in page asks for one.
async fn challenge(browser: &Browser) -> Value {
    let options = browser.post_form("/passkeys/challenge", &[]).await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.body);
    json(&options.body)
}

/// A new browser signs in with `device`'s passkey; the answer's status and location.
async fn sign_in(app: &TestApp, device: &mut Authenticator) -> (Browser, StatusCode, String) {
    let browser = app.browser();
    let options = challenge(&browser).await;
    let answer = device.get(&options);
    let page =
        browser.post_form("/login/passkey", &[("credential", &answer), ("next", "/chat")]).await;
    let location = page.location().to_owned();
    (browser, page.status, location)
}

async fn a_passkey_added_on_the_dashboard_signs_in_alone(backend: Backend) {
    let app = backend.spawn_on_localhost(|_| {}).await;
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let mut laptop = Authenticator::new(&app.base);

    let login = app.browser().get("/login").await;
    assert!(login.body.contains(r#"action="/login/passkey""#), "the sign-in page offers passkeys");
    assert!(login.body.contains(r#"autocomplete="username webauthn""#), "and in the email field");

    let options = ada.post_form("/dashboard/passkeys/options", &[]).await;
    let options = json(&options.body);
    let key = &options["publicKey"];
    assert_eq!(key["rp"]["id"], "localhost");
    assert_eq!(key["authenticatorSelection"]["residentKey"], "required", "found without an email");
    assert_eq!(key["authenticatorSelection"]["userVerification"], "required");
    assert_eq!(key["user"]["name"], "ada@example.org");
    let handle = key["user"]["id"].as_str().unwrap();
    assert_eq!(handle.len(), 22, "a random 16-byte handle, not the account's id: {handle}");

    assert_eq!(add(&ada, &mut laptop, "Laptop").await, StatusCode::SEE_OTHER);
    let dashboard = ada.get("/dashboard").await.body;
    assert!(dashboard.contains("Passkey “Laptop” added"), "{dashboard}");
    assert!(dashboard.contains("Laptop") && dashboard.contains("not used yet"));
    assert!(dashboard.contains("Password, Passkey"), "listed among the ways to sign in");

    // The same device again is refused: the page excludes the keys already added.
    let again = add(&ada, &mut laptop, "Laptop again").await;
    assert_eq!(again, StatusCode::UNPROCESSABLE_ENTITY);

    let (browser, status, location) = sign_in(&app, &mut laptop).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/chat"));
    assert_eq!(browser.user_id().await, ada.user_id().await);
    let dashboard = browser.get("/dashboard").await.body;
    assert!(dashboard.contains("last used"), "{dashboard}");
    let sessions = dashboard.matches("Last active").count();
    assert_eq!(sessions, 2, "a session of its own, listed with the others");
}

async fn an_answer_counts_once_for_its_own_challenge_and_site(backend: Backend) {
    let app = backend.spawn_on_localhost(|_| {}).await;
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let mut laptop = Authenticator::new(&app.base);
    assert_eq!(add(&ada, &mut laptop, "Laptop").await, StatusCode::SEE_OTHER);

    // Replayed in the same session: the challenge was used up.
    let browser = app.browser();
    let answer = laptop.get(&challenge(&browser).await);
    let first = browser.post_form("/login/passkey", &[("credential", &answer)]).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    let thief = app.browser();
    let replayed = thief.post_form("/login/passkey", &[("credential", &answer)]).await;
    assert_eq!(replayed.status, StatusCode::UNAUTHORIZED);
    assert!(replayed.body.contains("That passkey request has expired"), "{}", replayed.body);

    // Sent against another challenge: refused.
    challenge(&thief).await;
    let wrong = thief.post_form("/login/passkey", &[("credential", &answer)]).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("could not be verified"));

    // Made on another site (a look-alike page relaying Hearth's challenge).
    laptop.origin = "http://localhost.evil.example".into();
    let (_, status, _) = sign_in(&app, &mut laptop).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    laptop.origin = app.base.clone();
    let (_, status, _) = sign_in(&app, &mut laptop).await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // A copy of the key, whose counter did not move on since, is refused.
    let browser = app.browser();
    let cloned = laptop.get_as_a_clone(&challenge(&browser).await);
    let page = browser.post_form("/login/passkey", &[("credential", &cloned)]).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    // The device itself still signs in.
    let (_, status, _) = sign_in(&app, &mut laptop).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

async fn a_removed_key_or_a_deactivated_account_signs_in_to_nothing(backend: Backend) {
    let app = backend.spawn_on_localhost(|_| {}).await;
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let grace = app.signed_up("Grace Hopper", "grace@example.org", PASSWORD).await;
    let mut ada_key = Authenticator::new(&app.base);
    let mut grace_key = Authenticator::new(&app.base);
    assert_eq!(add(&ada, &mut ada_key, "Phone").await, StatusCode::SEE_OTHER);
    assert_eq!(add(&grace, &mut grace_key, "Key").await, StatusCode::SEE_OTHER);

    let ada_page = ada.get("/dashboard").await.body;
    let id = ada_page.split("/dashboard/passkeys/").nth(1).unwrap().split('/').next().unwrap();
    let path = format!("/dashboard/passkeys/{id}/remove");
    assert_eq!(grace.post_form(&path, &[]).await.status, StatusCode::NOT_FOUND, "not hers");
    assert_eq!(ada.post_form(&path, &[]).await.status, StatusCode::SEE_OTHER);
    assert!(ada.get("/dashboard").await.body.contains("Passkey removed."));
    let (_, status, _) = sign_in(&app, &mut ada_key).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a removed passkey signs in to nothing");

    let grace_id = grace.user_id().await;
    let done = ada.post_form(&format!("/admin/people/{grace_id}/deactivate"), &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let (browser, status, _) = sign_in(&app, &mut grace_key).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "nor a deactivated account's");
    assert_eq!(browser.get("/dashboard").await.status, StatusCode::SEE_OTHER);
}

async fn a_passkey_is_two_factors_and_a_fresh_sign_in(backend: Backend) {
    let app = backend
        .spawn_on_localhost(|config| {
            config.require_two_factor = hearth::config::RequireTwoFactor::Everyone;
            config.fresh_sign_in = Duration::from_secs(1);
        })
        .await;
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    // Codes are required of everyone: after a password, set them up first.
    let asked = ada.get("/dashboard").await;
    assert_eq!(asked.location(), "/dashboard/two-factor", "{}", asked.body);
    let mut phone = Authenticator::new(&app.base);
    assert_eq!(add(&ada, &mut phone, "Phone").await, StatusCode::SEE_OTHER);

    // Now her second factor is the passkey: her password alone opens nothing,
    // not even the pages that set factors up.
    let thief = app.browser();
    let refused =
        thief.post_form("/login", &[("email", "ada@example.org"), ("password", PASSWORD)]).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    assert!(refused.body.contains("yours is a passkey"));
    assert_eq!(thief.get("/dashboard/passkeys/new").await.status, StatusCode::SEE_OTHER);

    // A passkey sign-in is not sent to set codes up, nor asked for one.
    let (browser, status, location) = sign_in(&app, &mut phone).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/chat"));
    assert_eq!(browser.get("/dashboard").await.status, StatusCode::OK);

    // Past the window, removing a passkey asks again; the passkey answers.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let page = browser.get("/dashboard").await.body;
    let id = page.split("/dashboard/passkeys/").nth(1).unwrap().split('/').next().unwrap();
    let path = format!("/dashboard/passkeys/{id}/remove");
    let asked = browser.post_form(&path, &[]).await;
    assert_eq!(asked.status, StatusCode::UNAUTHORIZED);
    assert!(asked.body.contains("Confirm with a passkey"), "{}", asked.body);
    assert!(asked.body.contains(r#"name="reauth_passkey""#));

    let stale = phone.get(&challenge(&browser).await);
    let other = app.browser();
    challenge(&other).await;
    // Someone else's answer (another session's challenge) does not confirm.
    let mut grace_key = Authenticator::new(&app.base);
    let grace = app.signed_up("Grace Hopper", "grace@example.org", PASSWORD).await;
    assert_eq!(add(&grace, &mut grace_key, "Key").await, StatusCode::SEE_OTHER);
    let hers = grace_key.get(&challenge(&browser).await);
    let refused = browser.post_form(&path, &[("reauth_passkey", &hers)]).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(refused.body.contains("another account"), "{}", refused.body);
    let refused = browser.post_form(&path, &[("reauth_passkey", &stale)]).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "its challenge was replaced");

    let answer = phone.get(&challenge(&browser).await);
    let removed = browser.post_form(&path, &[("reauth_passkey", &answer)]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.body);
    assert!(browser.get("/dashboard").await.body.contains("Passkey removed."));
}

async fn answers_that_are_not_passkeys_get_a_clear_refusal(backend: Backend) {
    let app = backend.spawn_on_localhost(|_| {}).await;
    let browser = app.browser();
    let unasked = browser.post_form("/login/passkey", &[("credential", "{}")]).await;
    assert_eq!(unasked.status, StatusCode::UNAUTHORIZED);
    assert!(unasked.body.contains("That passkey request has expired"));
    for junk in ["", "{", "null", r#"{"id":"x","rawId":"' OR 1=1 --","type":"public-key"}"#] {
        challenge(&browser).await;
        let page = browser.post_form("/login/passkey", &[("credential", junk)]).await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{junk}: {}", page.body);
        assert!(page.body.contains("Your browser did not send a passkey"), "{junk}");
    }
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    ada.post_form("/dashboard/passkeys/options", &[]).await;
    let junk = ada.post_form("/dashboard/passkeys", &[("name", "X"), ("credential", "{")]).await;
    assert_eq!(junk.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(junk.body.contains("Your browser did not send a passkey"));
    assert!(!ada.get("/dashboard").await.body.contains("not used yet"), "nothing added");
}

/// Each challenge waits in a session: an address asking for them in a loop is
/// slowed down (four per sign-in the address may make), not given a session each.
async fn challenges_are_limited_per_address(backend: Backend) {
    let app = backend.spawn_on_localhost(|config| config.rate_limit_per_address = 2).await;
    for _ in 0..8 {
        challenge(&app.browser()).await;
    }
    let refused = app.browser().post_form("/passkeys/challenge", &[]).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers.contains_key("retry-after"));
}

async fn passkeys_are_off_when_hearth_is_reached_by_ip_address(backend: Backend) {
    let app = backend.spawn().await;
    assert!(!app.browser().get("/login").await.body.contains("/login/passkey"));
    assert_eq!(app.browser().post_form("/passkeys/challenge", &[]).await.status, 404);
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    assert_eq!(ada.get("/dashboard/passkeys/new").await.status, StatusCode::NOT_FOUND);
    assert!(ada.get("/dashboard").await.body.contains("Passkeys are off on this Hearth"));
}
