use reqwest::StatusCode;

use crate::on_both_databases;
use crate::support::{Backend, Page, TestApp};

on_both_databases!(
    a_signed_out_visit_to_the_dashboard_asks_to_sign_in_and_comes_back,
    each_unsafe_next_lands_on_the_dashboard,
    a_wrong_password_and_an_unknown_email_get_the_same_answer,
    signing_in_gives_a_new_session_id_and_the_old_one_is_dead,
    after_signing_out_the_old_cookie_is_refused,
    an_unknown_session_cookie_is_removed,
    a_long_unicode_passphrase_works_and_changing_its_last_character_fails,
    a_form_sent_by_htmx_keeps_the_address_unless_it_was_redirected,
    a_flood_of_unknown_emails_is_refused_at_once_and_a_real_person_is_told_to_retry,
    a_sign_in_whose_client_has_gone_is_not_hashed_and_frees_its_place,
);

const PASSWORD: &str = "analytical engine";

async fn a_signed_out_visit_to_the_dashboard_asks_to_sign_in_and_comes_back(backend: Backend) {
    let app = backend.spawn().await;
    app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    let browser = app.browser();

    let bounced = browser.get("/dashboard").await;
    assert_eq!(bounced.status, StatusCode::SEE_OTHER);
    assert_eq!(bounced.location(), "/login?next=%2Fdashboard");

    let form = browser.get(bounced.location()).await;
    assert!(form.body.contains(r#"name="next" value="/dashboard""#));

    let signed_in = browser
        .post_form(
            "/login",
            &[("email", "ada@example.org"), ("password", PASSWORD), ("next", "/dashboard")],
        )
        .await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    assert_eq!(signed_in.location(), "/dashboard");
    assert_eq!(browser.get("/dashboard").await.status, StatusCode::OK);
}

async fn each_unsafe_next_lands_on_the_dashboard(backend: Backend) {
    let app = backend.spawn().await;
    app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    for next in ["//evil.example", "https://evil.example", "/\\evil.example", "javascript:alert(1)"]
    {
        let resp = app
            .browser()
            .post_form(
                "/login",
                &[("email", "ada@example.org"), ("password", PASSWORD), ("next", next)],
            )
            .await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER, "{next}");
        assert_eq!(resp.location(), "/dashboard", "{next}");
    }
    let safe = app
        .browser()
        .post_form(
            "/login",
            &[("email", "ada@example.org"), ("password", PASSWORD), ("next", "/api/me")],
        )
        .await;
    assert_eq!(safe.location(), "/api/me");
}

async fn a_wrong_password_and_an_unknown_email_get_the_same_answer(backend: Backend) {
    let app = backend.spawn().await;
    app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    let browser = app.browser();

    let wrong = browser
        .post_form("/login", &[("email", "ada@example.org"), ("password", "analytical enginf")])
        .await;
    let unknown = browser
        .post_form("/login", &[("email", "nobody@example.org"), ("password", "analytical enginf")])
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, wrong.status);
    let message = "That email and password do not match an account.";
    assert!(wrong.body.contains(message) && unknown.body.contains(message));
    assert_eq!(
        wrong.body.replace("ada@example.org", "E"),
        unknown.body.replace("nobody@example.org", "E")
    );
    assert!(wrong.set_cookies().is_empty() && unknown.set_cookies().is_empty());
}

async fn signing_in_gives_a_new_session_id_and_the_old_one_is_dead(backend: Backend) {
    let app = backend.spawn().await;
    app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    let mallory = app.signed_up("Mallory", "mallory@example.org", "mallory's passphrase").await;
    let planted = mallory.session_cookie().expect("mallory has a session");

    // Mallory plants her session id in Ada's browser; Ada then signs in.
    let ada = app.browser();
    ada.set_session_cookie(&planted);
    let resp =
        ada.post_form("/login", &[("email", "ada@example.org"), ("password", PASSWORD)]).await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    let fresh = ada.session_cookie().expect("a session after sign-in");
    assert_ne!(fresh, planted, "the id is cycled at sign-in");

    // The planted id no longer opens anything, not Ada's account nor Mallory's.
    let attacker = app.browser();
    attacker.set_session_cookie(&planted);
    assert_eq!(attacker.get("/dashboard").await.status, StatusCode::SEE_OTHER);
    let dashboard = ada.get("/dashboard").await;
    assert_eq!(dashboard.status, StatusCode::OK);
    assert!(dashboard.body.contains("ada@example.org"));
}

async fn after_signing_out_the_old_cookie_is_refused(backend: Backend) {
    let app = backend.spawn().await;
    let ada = app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    let cookie = ada.session_cookie().expect("session");

    let out = ada.post_form("/logout", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), "/login");
    assert!(out.set_cookies().iter().any(|c| c.starts_with("id=;") && c.contains("Max-Age=0")));

    let replay = app.browser();
    replay.set_session_cookie(&cookie);
    assert_eq!(replay.get("/dashboard").await.status, StatusCode::SEE_OTHER);
    assert_eq!(replay.get("/api/me").await.status, StatusCode::UNAUTHORIZED);
}

async fn an_unknown_session_cookie_is_removed(backend: Backend) {
    let app = backend.spawn().await;
    let browser = app.browser();
    browser.set_session_cookie("AAAAAAAAAAAAAAAAAAAAAA");
    let resp = browser.get("/login").await;
    assert_eq!(resp.status, StatusCode::OK);
    assert!(resp.set_cookies().iter().any(|c| c.starts_with("id=;") && c.contains("Max-Age=0")));
}

async fn a_long_unicode_passphrase_works_and_changing_its_last_character_fails(backend: Backend) {
    let app = backend.spawn().await;
    // 200 characters, far past bcrypt's 72 bytes, in several scripts.
    let passphrase: String =
        "火よ燃えろ — ωμέγα — огонь — 🔥 hearth ".chars().cycle().take(199).chain(['a']).collect();
    assert_eq!(passphrase.chars().count(), 200);
    let mut wrong = passphrase.clone();
    wrong.pop();
    wrong.push('b');

    app.signed_up("Ada", "ada@example.org", &passphrase).await;
    let ok = app
        .browser()
        .post_form("/login", &[("email", "ada@example.org"), ("password", &passphrase)])
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let refused = app
        .browser()
        .post_form("/login", &[("email", "ada@example.org"), ("password", &wrong)])
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
}

/// htmx pushes the answer's URL after a boosted form; a form shown again must not
/// leave `/login` (a POST-only address) in the history, a redirect must.
async fn a_form_sent_by_htmx_keeps_the_address_unless_it_was_redirected(backend: Backend) {
    let app = backend.spawn().await;
    app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    let browser = app.browser();
    let boosted = |password: &'static str| {
        browser
            .client
            .post(browser.url("/login"))
            .header("sec-fetch-site", "same-origin")
            .header("hx-request", "true")
            .header("hx-boosted", "true")
            .form(&[("email", "ada@example.org"), ("password", password), ("next", "/dashboard")])
            .send()
    };

    let refused = crate::support::read(boosted("not it").await).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.headers.get("hx-push-url").map(|v| v.as_bytes()), Some(&b"false"[..]));
    assert!(refused.body.contains("role=\"alert\""), "the problem is on the page");

    let signed_in = crate::support::read(boosted(PASSWORD).await).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    assert_eq!(signed_in.location(), "/dashboard");
    assert!(signed_in.headers.get("hx-push-url").is_none());
}

/// A bcrypt cost at which one hash, in a test build, outlasts sending a handful of
/// requests many times over: the storm tests below rely on admitted sign-ins still
/// hashing while the next requests arrive.
const SLOW_COST: u32 = 11;

/// A sign-in with an email no account has, from a browser of its own.
fn unknown_sign_in(app: &TestApp, n: usize) -> tokio::task::JoinHandle<Page> {
    let browser = app.browser();
    tokio::spawn(async move {
        let email = format!("stranger{n}@example.org");
        browser.post_form("/login", &[("email", &email), ("password", "guess guess")]).await
    })
}

/// Waits for `ms` milliseconds: only to let requests already sent reach the queue.
async fn settle(ms: u64) {
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
}

async fn a_flood_of_unknown_emails_is_refused_at_once_and_a_real_person_is_told_to_retry(
    backend: Backend,
) {
    let app = backend
        .spawn_with(|config| {
            config.bcrypt_cost = SLOW_COST;
            config.signin_queue = Some(1);
        })
        .await;
    app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    // Every hashing thread busy, and the one place in the queue taken...
    let room = app.state.passwords.threads() + 1;
    let extra = 3;
    let (answers, mut arrived) = tokio::sync::mpsc::unbounded_channel();
    for n in 0..room + extra {
        let (answers, sign_in) = (answers.clone(), unknown_sign_in(&app, n));
        tokio::spawn(async move {
            let _ = answers.send(sign_in.await.expect("sign-in task"));
        });
    }
    drop(answers);
    // ...so the rest are refused at once: their answers come before any hashed one.
    for _ in 0..extra {
        let refused = arrived.recv().await.expect("an answer");
        assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE, "{}", refused.body);
        let retry: u64 = refused.headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry), "retry after {retry}s");
    }

    // A real person meanwhile is told to retry, on the sign-in form, not kept waiting.
    let ada = app.browser();
    let told =
        ada.post_form("/login", &[("email", "ada@example.org"), ("password", PASSWORD)]).await;
    assert_eq!(told.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(told.headers.contains_key("retry-after"));
    assert!(told.body.contains("Please try again in"), "{}", told.body);
    assert!(told.body.contains(r#"action="/login""#), "the sign-in form is shown again");
    assert!(told.body.contains(r#"value="ada@example.org""#), "what was typed is kept");

    // The admitted ones were hashed and answered as usual.
    let mut hashed = 0;
    while let Some(answer) = arrived.recv().await {
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
        hashed += 1;
    }
    assert_eq!(hashed, room);

    // Once the storm has passed, the retry works.
    let retried =
        ada.post_form("/login", &[("email", "ada@example.org"), ("password", PASSWORD)]).await;
    assert_eq!(retried.status, StatusCode::SEE_OTHER);
}

async fn a_sign_in_whose_client_has_gone_is_not_hashed_and_frees_its_place(backend: Backend) {
    let app = backend
        .spawn_with(|config| {
            config.bcrypt_cost = SLOW_COST;
            config.signin_queue = Some(1);
        })
        .await;
    // Once answered, the decoy hash for unknown emails is ready and out of the way.
    assert_eq!(unknown_sign_in(&app, 0).await.unwrap().status, StatusCode::UNAUTHORIZED);

    // Every hashing thread busy with a sign-in whose answer is awaited...
    let busy: Vec<_> =
        (1..=app.state.passwords.threads()).map(|n| unknown_sign_in(&app, n)).collect();
    settle(100).await;
    // ...and the one place in the queue taken by a client that then goes away.
    let leaver = post_and_keep_open(&app, "email=leaver%40example.org&password=guess+guess").await;
    settle(100).await;
    let probe = app
        .browser()
        .post_form("/login", &[("email", "probe@example.org"), ("password", "guess guess")])
        .await;
    assert_eq!(probe.status, StatusCode::SERVICE_UNAVAILABLE, "the queue is full");
    drop(leaver);
    settle(100).await;

    // The threads are still busy, yet the place is free again: the job was dropped.
    let newcomer = unknown_sign_in(&app, 99).await.unwrap();
    assert_eq!(newcomer.status, StatusCode::UNAUTHORIZED, "{}", newcomer.body);
    for sign_in in busy {
        assert_eq!(sign_in.await.unwrap().status, StatusCode::UNAUTHORIZED);
    }
}

/// Sends a sign-in form over a plain socket and returns the socket unread: dropping
/// it is a client that gave up waiting (closed the tab, timed out).
async fn post_and_keep_open(app: &TestApp, form: &str) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let host = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    let request = format!(
        "POST /login HTTP/1.1\r\nHost: {host}\r\nOrigin: {origin}\r\nSec-Fetch-Site: same-origin\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len}\r\n\r\n{form}",
        origin = app.base,
        len = form.len(),
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    stream
}
