//! Sign in with Google, against a real OpenID provider run locally, and against a
//! fake one that hands out broken ID tokens.

use reqwest::StatusCode;
use serde_json::json;

use crate::google_provider::{Token, fake_provider};
use crate::on_both_databases;
use crate::support::{AuditLog, Backend, Browser, Page, TestApp, bind};

on_both_databases!(
    a_first_google_sign_in_creates_the_account_and_honours_next,
    a_second_google_sign_in_is_the_same_account,
    a_verified_email_links_the_password_account_and_turns_its_password_off,
    an_unverified_email_that_has_an_account_is_refused,
    cancelling_at_google_returns_to_sign_in_with_a_message,
    a_missing_wrong_or_reused_state_is_refused_and_changes_nothing,
    a_replayed_code_is_refused,
    without_credentials_there_is_no_google_button,
    a_provider_that_is_down_does_not_stop_hearth,
    a_valid_token_from_the_fake_provider_signs_in,
    a_token_signed_with_an_unpublished_key_is_refused,
    an_unsigned_token_is_refused,
    a_token_for_another_audience_is_refused,
    a_token_from_another_issuer_is_refused,
    an_expired_token_is_refused,
    a_token_with_the_wrong_nonce_is_refused,
);

const PICTURE: &str = "https://lh3.googleusercontent.com/a/ada-picture";

fn accounts() -> serde_json::Value {
    json!({
        "g-ada": { "email": "ada@example.org", "email_verified": true, "name": "Ada Lovelace", "picture": PICTURE },
        "g-unverified": { "email": "ada@example.org", "email_verified": false, "name": "Not Ada" },
        "g-unverified-new": { "email": "newcomer@example.org", "email_verified": false, "name": "New" },
        "g-grace": { "email": "grace@example.org", "email_verified": true, "name": "Grace Hopper",
                     "picture": "https://evil.example/tracker.png" },
    })
}

async fn me(browser: &Browser) -> serde_json::Value {
    serde_json::from_str(&browser.get("/api/me").await.body).unwrap_or_default()
}

async fn a_first_google_sign_in_creates_the_account_and_honours_next(backend: Backend) {
    let app = backend.spawn_with_google(accounts()).await;
    let ada = app.browser();
    let done = ada.google_sign_in("g-ada", "/chat").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), "/chat");

    let who = me(&ada).await;
    assert_eq!(who["name"], "Ada Lovelace");
    assert_eq!(who["email"], "ada@example.org");
    assert_eq!(who["avatar_url"], PICTURE);
    let dashboard = ada.get("/dashboard").await;
    assert!(dashboard.body.contains("Google") && dashboard.body.contains(PICTURE));
    assert!(
        dashboard.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("img-src 'self' https://lh3.googleusercontent.com;")
    );

    // A picture from a host the CSP does not allow is not used.
    let grace = app.browser();
    grace.google_sign_in("g-grace", "/dashboard").await;
    assert!(me(&grace).await["avatar_url"].is_null());
}

async fn a_second_google_sign_in_is_the_same_account(backend: Backend) {
    let app = backend.spawn_with_google(accounts()).await;
    let laptop = app.browser();
    laptop.google_sign_in("g-ada", "/dashboard").await;
    let phone = app.browser();
    let again = phone.google_sign_in("g-ada", "/dashboard").await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(me(&laptop).await["id"], me(&phone).await["id"]);
    assert_ne!(laptop.session_cookie(), phone.session_cookie());
}

async fn a_verified_email_links_the_password_account_and_turns_its_password_off(backend: Backend) {
    let app = backend.spawn_with_google(accounts()).await;
    // Someone registered Ada's address with a password before she ever came.
    let squatter = app.signed_up("Squatter", "ada@example.org", "i got here first").await;
    let account_id = me(&squatter).await["id"].clone();
    let page = squatter.post_form("/dashboard/tokens", &[("name", "kept for later")]).await.body;
    let token: String = page[page.find("hearth_").unwrap()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "_-".contains(*c))
        .collect();

    let ada = app.browser();
    let linked = ada.google_sign_in("g-ada", "/dashboard").await;
    assert_eq!(linked.status, StatusCode::SEE_OTHER, "{}", linked.body);
    assert_eq!(me(&ada).await["id"], account_id, "linked, not a second account");

    assert_eq!(
        squatter.get("/dashboard").await.status,
        StatusCode::SEE_OTHER,
        "other sessions ended"
    );
    let with_token = reqwest::Client::new()
        .get(format!("{}/api/me", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status(), StatusCode::UNAUTHORIZED, "the squatter's token is gone");
    let old = app
        .browser()
        .post_form("/login", &[("email", "ada@example.org"), ("password", "i got here first")])
        .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED, "the old password is off");

    let dashboard = ada.get("/dashboard").await;
    assert!(dashboard.body.contains("Your Google account is now linked"));
    assert!(dashboard.body.contains("Set a password"));
    let set =
        ada.post_form("/dashboard/password", &[("new_password", "ada's own passphrase")]).await;
    assert_eq!(set.status, StatusCode::SEE_OTHER);
    let with_password = app
        .browser()
        .post_form("/login", &[("email", "ada@example.org"), ("password", "ada's own passphrase")])
        .await;
    assert_eq!(with_password.status, StatusCode::SEE_OTHER);
}

async fn an_unverified_email_that_has_an_account_is_refused(backend: Backend) {
    let app = backend.spawn_with_google(accounts()).await;
    let owner = app.signed_up("Ada", "ada@example.org", "analytical engine").await;
    let stranger = app.browser();
    let refused = stranger.google_sign_in("g-unverified", "/dashboard").await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.body.contains("has not verified"));
    assert!(refused.body.contains("Sign in with your password instead"));
    assert_eq!(stranger.get("/dashboard").await.status, StatusCode::SEE_OTHER);
    assert_eq!(owner.get("/dashboard").await.status, StatusCode::OK, "the owner is untouched");

    // Nor is an account made from an address the provider has not verified.
    let newcomer = app.browser();
    let refused = newcomer.google_sign_in("g-unverified-new", "/dashboard").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("has not verified"));
    assert!(refused.body.contains("cannot make an account with it"));
    assert_eq!(newcomer.get("/dashboard").await.status, StatusCode::SEE_OTHER);
}

async fn cancelling_at_google_returns_to_sign_in_with_a_message(backend: Backend) {
    let app = backend.spawn_with_google(accounts()).await;
    let browser = app.browser();
    let back = browser.google_sign_in("cancel", "/dashboard").await;
    assert_eq!(back.status, StatusCode::SEE_OTHER);
    assert_eq!(back.location(), "/login?google=cancelled");
    assert!(browser.get(back.location()).await.body.contains("Google sign-in was cancelled"));
}

async fn a_missing_wrong_or_reused_state_is_refused_and_changes_nothing(backend: Backend) {
    let app = backend.spawn_with_google(accounts()).await;
    let audit = AuditLog::capture();
    let browser = app.browser();
    for path in ["/auth/google/callback?code=abc", "/auth/google/callback?code=abc&state=wrong"] {
        let page = browser.get(path).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(page.body.contains("This sign-in link is not valid any more"), "{path}");
        assert!(page.set_cookies().is_empty(), "no session change");
    }
    let callback = browser.google_until_callback("g-ada", "/dashboard").await.ok().unwrap();
    let first = crate::support::read(browser.client.get(&callback).send().await).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    let cookie = browser.session_cookie();
    let reused = crate::support::read(browser.client.get(&callback).send().await).await;
    assert_eq!(reused.status, StatusCode::BAD_REQUEST);
    assert!(reused.body.contains("This sign-in link is not valid any more"));
    assert_eq!(browser.session_cookie(), cookie, "still the same session");
    assert_eq!(browser.get("/dashboard").await.status, StatusCode::OK);
    let refusals = audit
        .events()
        .into_iter()
        .filter(|e| e["fields"]["message"] == "Google sign-in refused: unknown state");
    assert_eq!(refusals.count(), 3, "missing, wrong and reused: each refused for its state");
}

async fn a_replayed_code_is_refused(backend: Backend) {
    let app = backend.spawn_with_google(accounts()).await;
    let audit = AuditLog::capture();
    let browser = app.browser();
    let first = browser.google_until_callback("g-ada", "/dashboard").await.ok().unwrap();
    crate::support::read(browser.client.get(&first).send().await).await;
    // A new flow's state, with the old (used) code.
    let second = browser.google_until_callback("g-ada", "/dashboard").await.ok().unwrap();
    let mut replay = url::Url::parse(&second).unwrap();
    let old_code = url::Url::parse(&first)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let pairs: Vec<(String, String)> = replay
        .query_pairs()
        .map(|(k, v)| {
            let value = if k == "code" { old_code.clone() } else { v.into_owned() };
            (k.into_owned(), value)
        })
        .collect();
    replay.query_pairs_mut().clear().extend_pairs(pairs);
    let refused = crate::support::read(browser.client.get(replay.as_str()).send().await).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("could not verify this sign-in"));
    // The provider would not trade the used code again (not some later check).
    assert_eq!(audit.the("Google sign-in refused")["why"], "code exchange refused");
}

async fn without_credentials_there_is_no_google_button(backend: Backend) {
    let plain = backend.spawn().await;
    let browser = plain.browser();
    assert!(!browser.get("/login").await.body.contains("Sign in with Google"));
    assert_eq!(browser.get("/auth/google").await.status, StatusCode::NOT_FOUND);

    let with_google = backend.spawn_with_google(accounts()).await;
    let login = with_google.browser().get("/login").await;
    assert!(login.body.contains("Sign in with Google"));
    assert!(with_google.browser().get("/signup").await.body.contains("Sign up with Google"));
}

async fn a_provider_that_is_down_does_not_stop_hearth(backend: Backend) {
    // Nothing listens on this port: discovery fails.
    let app = backend.spawn_with_issuer(bind().await, "http://127.0.0.1:9", Box::new(())).await;
    let browser = app.browser();
    assert_eq!(browser.get("/healthz").await.status, StatusCode::OK);
    let down = browser.get("/auth/google").await;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(down.body.contains("not reachable right now"));
}

async fn with_fake_provider(backend: Backend, token: Token) -> (TestApp, Page) {
    let (issuer, server) = fake_provider(token).await;
    let app = backend.spawn_with_issuer(bind().await, &issuer, Box::new(server)).await;
    let browser = app.browser();
    let page = browser.google_sign_in("anyone", "/dashboard").await;
    let signed_in = browser.get("/dashboard").await.status == StatusCode::OK;
    assert_eq!(signed_in, page.status == StatusCode::SEE_OTHER);
    (app, page)
}

/// Signs in through the fake provider with a token broken as `token`: Hearth refuses
/// it, and its audit log names the check that did (`reason` starts the verifier's
/// error), so a refusal for some other cause does not pass.
async fn refused(backend: Backend, token: Token, reason: &str) {
    let audit = AuditLog::capture();
    let (_app, page) = with_fake_provider(backend, token).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{token:?} was accepted");
    assert!(page.body.contains("could not verify this sign-in"), "{token:?}");
    let error = audit.the("Google ID token refused")["error"].as_str().unwrap_or("").to_owned();
    assert!(error.starts_with(reason), "{token:?} was refused for {error:?}, not {reason:?}");
    assert_eq!(audit.the("Google sign-in refused")["why"], "ID token invalid");
}

async fn a_valid_token_from_the_fake_provider_signs_in(backend: Backend) {
    let audit = AuditLog::capture();
    let (_app, page) = with_fake_provider(backend, Token::Valid).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    audit.the("signed in with Google");
}

async fn a_token_signed_with_an_unpublished_key_is_refused(backend: Backend) {
    refused(backend, Token::Forged, "SignatureVerification(CryptoError(").await;
}

async fn an_unsigned_token_is_refused(backend: Backend) {
    refused(backend, Token::Unsigned, "SignatureVerification(NoSignature)").await;
}

async fn a_token_for_another_audience_is_refused(backend: Backend) {
    refused(backend, Token::WrongAudience, "InvalidAudience(").await;
}

async fn a_token_from_another_issuer_is_refused(backend: Backend) {
    refused(backend, Token::WrongIssuer, "InvalidIssuer(").await;
}

async fn an_expired_token_is_refused(backend: Backend) {
    refused(backend, Token::Expired, "Expired(").await;
}

async fn a_token_with_the_wrong_nonce_is_refused(backend: Backend) {
    refused(backend, Token::WrongNonce, "InvalidNonce(").await;
}
