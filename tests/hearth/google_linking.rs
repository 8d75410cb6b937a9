//! Which account a provider's sign-in reaches: linking by email only where it is
//! safe, names that meet the sign-up rules, allowed domains, and a provider outage.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use poem::web::{Data, Json};
use poem::{EndpointExt, IntoResponse, Route, get, handler};
use reqwest::StatusCode;
use serde_json::json;

use crate::on_both_databases;
use crate::support::{Backend, Browser, bind};

on_both_databases!(
    a_second_identity_with_the_same_email_cannot_take_over_the_account,
    linking_keeps_the_identities_the_account_already_has,
    a_deactivated_account_is_refused_before_anything_changes,
    a_name_from_the_provider_meets_the_sign_up_rules,
    allowed_domains_are_checked_against_hd_or_the_verified_email,
    during_an_outage_one_discovery_runs_and_the_rest_are_answered_at_once,
);

fn accounts() -> serde_json::Value {
    json!({
        "g-ada": { "email": "ada@example.org", "email_verified": true, "name": "Ada Lovelace" },
        // Another person at the provider with Ada's verified address: a recycled
        // Workspace address, a re-registered domain.
        "g-ada-recycled": { "email": "ada@example.org", "email_verified": true, "name": "Not Ada" },
    })
}

async fn me(browser: &Browser) -> serde_json::Value {
    serde_json::from_str(&browser.get("/api/me").await.body).unwrap_or_default()
}

async fn a_second_identity_with_the_same_email_cannot_take_over_the_account(backend: Backend) {
    let app = backend.spawn_with_google(accounts()).await;
    let ada = app.browser();
    assert_eq!(ada.google_sign_in("g-ada", "/dashboard").await.status, StatusCode::SEE_OTHER);
    let account = me(&ada).await["id"].clone();

    let newcomer = app.browser();
    let refused = newcomer.google_sign_in("g-ada-recycled", "/dashboard").await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(refused.body.contains("already linked to a different"), "{}", refused.body);
    assert_eq!(newcomer.get("/dashboard").await.status, StatusCode::SEE_OTHER, "not signed in");
    assert_eq!(ada.get("/dashboard").await.status, StatusCode::OK, "Ada's session goes on");

    // Ada's own identity still signs in, as a known one (not linked again).
    let again = app.browser();
    again.google_sign_in("g-ada", "/dashboard").await;
    assert_eq!(me(&again).await["id"], account);
    assert!(!again.get("/dashboard").await.body.contains("now linked"));
}

async fn linking_keeps_the_identities_the_account_already_has(backend: Backend) {
    let first = backend.spawn_with_google(accounts()).await;
    let ada = first.browser();
    ada.google_sign_in("g-ada", "/dashboard").await;
    let account = me(&ada).await["id"].clone();

    // OIDC_ISSUER_URL now names another provider, where Ada has the same verified
    // address: the account has no identity from it yet, so it is linked.
    let second = first.another_instance_with_google(&accounts()).await;
    let ada_there = second.browser();
    let linked = ada_there.google_sign_in("g-ada", "/dashboard").await;
    assert_eq!(linked.status, StatusCode::SEE_OTHER, "{}", linked.body);
    assert_eq!(me(&ada_there).await["id"], account);

    // The first provider's identity was kept: it signs in as itself, and nothing
    // is linked (or signed out) again.
    let back = first.browser();
    back.google_sign_in("g-ada", "/dashboard").await;
    assert_eq!(me(&back).await["id"], account);
    let dashboard = back.get("/dashboard").await.body;
    assert!(!dashboard.contains("now linked"), "linked again");
    for issuer in [&first.state.config.oidc_issuer_url, &second.state.config.oidc_issuer_url] {
        assert!(dashboard.contains(&format!("OpenID ({issuer})")), "{issuer} is not listed");
    }
    assert_eq!(ada_there.get("/dashboard").await.status, StatusCode::OK);
}

async fn a_deactivated_account_is_refused_before_anything_changes(backend: Backend) {
    let app = backend.spawn_with_google(accounts()).await;
    let owner = app.signed_up("Owner", "owner@example.org", "the owner's passphrase").await;
    let ada = app.signed_up("Ada", "ada@example.org", "analytical engine").await;
    let ada_id = me(&ada).await["id"].as_i64().unwrap();
    let done = owner.post_form(&format!("/admin/people/{ada_id}/deactivate"), &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);

    let refused = app.browser().google_sign_in("g-ada", "/dashboard").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("deactivated"));

    // Reactivated, the account is as it was: its password works, and the Google
    // identity was not linked (signing in with it now is the linking).
    owner.post_form(&format!("/admin/people/{ada_id}/reactivate"), &[]).await;
    let password = app
        .browser()
        .post_form("/login", &[("email", "ada@example.org"), ("password", "analytical engine")])
        .await;
    assert_eq!(password.status, StatusCode::SEE_OTHER, "the password was turned off");
    let google = app.browser();
    assert_eq!(google.google_sign_in("g-ada", "/dashboard").await.status, StatusCode::SEE_OTHER);
    assert!(google.get("/dashboard").await.body.contains("now linked"), "it was linked before");
}

async fn a_name_from_the_provider_meets_the_sign_up_rules(backend: Backend) {
    let app = backend
        .spawn_with_google(json!({
            "g-bell": { "email": "bell@example.org", "email_verified": true,
                        "name": "Alexander\u{7} Graham\nBell" },
            "g-blank": { "email": "babbage@example.org", "email_verified": true,
                         "name": "\u{1b}\u{7}" },
        }))
        .await;
    // Control characters are cleaned out of a name...
    let bell = app.browser();
    assert_eq!(bell.google_sign_in("g-bell", "/dashboard").await.status, StatusCode::SEE_OTHER);
    assert_eq!(me(&bell).await["name"], "Alexander Graham Bell");
    // ...and a name with nothing left is the email's local part.
    let blank = app.browser();
    assert_eq!(blank.google_sign_in("g-blank", "/dashboard").await.status, StatusCode::SEE_OTHER);
    assert_eq!(me(&blank).await["name"], "babbage");
}

async fn allowed_domains_are_checked_against_hd_or_the_verified_email(backend: Backend) {
    let accounts = json!({
        "g-workspace": { "email": "ada@example.org", "email_verified": true, "hd": "example.org" },
        // `hd` names the organisation; an address at an allowed domain does not help.
        "g-other-org": { "email": "grace@example.org", "email_verified": true, "hd": "elsewhere.org" },
        // Without `hd`, a provider other than Google is judged by the verified email.
        "g-member": { "email": "bob@example.org", "email_verified": true },
        "g-unverified": { "email": "carol@example.org", "email_verified": false },
        "g-stranger": { "email": "mallory@elsewhere.org", "email_verified": true },
    });
    let app = backend
        .spawn_with_google_and(accounts, |config| {
            config.google_allowed_domains = vec!["example.org".into()];
        })
        .await;
    for (who, allowed) in [
        ("g-workspace", true),
        ("g-other-org", false),
        ("g-member", true),
        ("g-unverified", false),
        ("g-stranger", false),
    ] {
        let browser = app.browser();
        let page = browser.google_sign_in(who, "/dashboard").await;
        if allowed {
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{who}: {}", page.body);
        } else {
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{who} was let in");
            assert!(page.body.contains("only for accounts of its organisation"), "{who}");
            assert_eq!(browser.get("/dashboard").await.status, StatusCode::SEE_OTHER, "{who}");
        }
    }
}

/// How long the ailing provider takes to fail each discovery.
const SLOW: Duration = Duration::from_secs(2);

/// A provider in trouble: while `down`, discovery answers 500 after [`SLOW`].
struct Outage {
    issuer: String,
    down: AtomicBool,
    discoveries: AtomicUsize,
}

#[handler]
async fn outage_discovery(outage: Data<&Arc<Outage>>) -> poem::Response {
    outage.discoveries.fetch_add(1, Ordering::SeqCst);
    if outage.down.load(Ordering::SeqCst) {
        tokio::time::sleep(SLOW).await;
        return poem::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    Json(crate::google_provider::discovery_document(&outage.issuer)).into_response()
}

#[handler]
fn outage_jwks() -> Json<serde_json::Value> {
    Json(json!({ "keys": [] }))
}

async fn outage_provider() -> (Arc<Outage>, tokio::task::JoinHandle<()>) {
    let listener = bind().await;
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let outage =
        Arc::new(Outage { issuer, down: AtomicBool::new(true), discoveries: AtomicUsize::new(0) });
    let app = Route::new()
        .at("/.well-known/openid-configuration", get(outage_discovery))
        .at("/jwks", get(outage_jwks))
        .data(outage.clone());
    let acceptor = poem::listener::TcpAcceptor::from_tokio(listener).unwrap();
    let server = tokio::spawn(async move {
        let _ = poem::Server::new_with_acceptor(acceptor).run(app).await;
    });
    (outage, server)
}

async fn during_an_outage_one_discovery_runs_and_the_rest_are_answered_at_once(backend: Backend) {
    let (outage, server) = outage_provider().await;
    let app = backend.spawn_with_issuer(bind().await, &outage.issuer, Box::new(server)).await;
    let (a, b, c) = (app.browser(), app.browser(), app.browser());
    let started = Instant::now();
    let answers = tokio::join!(a.get("/auth/google"), b.get("/auth/google"), c.get("/auth/google"));
    let waited = started.elapsed();
    for page in [&answers.0, &answers.1, &answers.2] {
        assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(page.body.contains("not reachable right now"));
    }
    assert_eq!(outage.discoveries.load(Ordering::SeqCst), 1, "one discovery for all three");
    assert!(waited < SLOW + SLOW * 3 / 4, "three sign-ins took {waited:?}: they queued");

    // Just after the failure a sign-in is answered at once, without asking again.
    let started = Instant::now();
    let next = app.browser().get("/auth/google").await;
    assert_eq!(next.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(started.elapsed() < Duration::from_secs(1), "waited {:?}", started.elapsed());
    assert_eq!(outage.discoveries.load(Ordering::SeqCst), 1);

    // Once the provider is back, a sign-in soon gets through again.
    outage.down.store(false, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let page = app.browser().get("/auth/google").await;
        if page.status == StatusCode::SEE_OTHER {
            break;
        }
        assert!(Instant::now() < deadline, "still {} after the provider came back", page.status);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(outage.discoveries.load(Ordering::SeqCst), 2, "tried again once, not each time");
}
