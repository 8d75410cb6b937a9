use reqwest::StatusCode;

use crate::on_both_databases;
use crate::support::{Backend, read};

on_both_databases!(
    a_cross_site_post_is_refused_and_changes_nothing,
    pages_carry_security_headers_and_no_inline_script,
    the_session_cookie_is_http_only_lax_and_secure_over_https,
    a_body_over_64_kib_gets_413,
    malformed_requests_get_a_clear_4xx_never_a_500,
    repeated_sign_in_attempts_on_one_account_are_slowed_down,
    signing_in_on_many_devices_is_not_slowed_down,
    one_address_cannot_flood_sign_in_and_sign_up,
    addresses_in_one_ipv6_64_share_a_limit,
    unknown_pages_get_a_friendly_404,
    requests_for_another_host_are_refused,
    behind_a_trusted_proxy_each_client_has_its_own_limit,
    api_answers_are_not_cached,
);

const PASSWORD: &str = "analytical engine";

async fn a_cross_site_post_is_refused_and_changes_nothing(backend: Backend) {
    let app = backend.spawn().await;
    let ada = app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    let logout = ada.url("/logout");

    let by_fetch_metadata =
        ada.client.post(&logout).header("sec-fetch-site", "cross-site").send().await;
    let by_fetch_metadata = read(by_fetch_metadata).await;
    assert_eq!(by_fetch_metadata.status, StatusCode::FORBIDDEN);
    assert!(by_fetch_metadata.body.contains("came from another site"));

    let sibling =
        read(ada.client.post(&logout).header("sec-fetch-site", "same-site").send().await).await;
    assert_eq!(sibling.status, StatusCode::FORBIDDEN);

    let by_origin =
        read(ada.client.post(&logout).header("origin", "https://evil.example").send().await).await;
    assert_eq!(by_origin.status, StatusCode::FORBIDDEN);

    assert_eq!(ada.get("/dashboard").await.status, StatusCode::OK, "still signed in");
}

async fn pages_carry_security_headers_and_no_inline_script(backend: Backend) {
    let app = backend.spawn().await;
    let browser = app.browser();
    for path in ["/", "/login", "/signup", "/no-such-page"] {
        let page = browser.get(path).await;
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert!(!csp.contains("unsafe-inline"), "{path}");
        assert_eq!(page.headers["x-content-type-options"], "nosniff");
        assert!(page.headers.contains_key("referrer-policy"));
        assert_eq!(page.headers["cache-control"], "no-store");
        let scripts = page.body.matches("<script").count();
        assert_eq!(scripts, page.body.matches("<script src=").count(), "{path}: inline script");
    }
}

async fn the_session_cookie_is_http_only_lax_and_secure_over_https(backend: Backend) {
    let app = backend.spawn().await;
    let resp = app
        .browser()
        .post_form(
            "/signup",
            &[("name", "Ada"), ("email", "ada@example.org"), ("password", PASSWORD)],
        )
        .await;
    let cookie = resp.set_cookies().into_iter().find(|c| c.starts_with("id=")).expect("cookie");
    for part in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=1728000"] {
        assert!(cookie.contains(part), "{cookie} lacks {part}");
    }
    assert!(!cookie.contains("Secure"), "no Secure flag over plain http");

    let https = backend
        .spawn_with(|config| {
            config.base_url = Some("https://hearth.example".parse().unwrap());
            // The test talks to it directly, not through hearth.example.
            config.allowed_hosts = vec!["127.0.0.1".into()];
        })
        .await;
    let resp = https
        .browser()
        .post_form(
            "/signup",
            &[("name", "Ada"), ("email", "ada@example.org"), ("password", PASSWORD)],
        )
        .await;
    let cookie = resp
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("__Host-id="))
        .expect("__Host- cookie");
    assert!(cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("Path=/"));
    assert!(!cookie.contains("Domain"));
}

async fn a_body_over_64_kib_gets_413(backend: Backend) {
    let app = backend.spawn().await;
    let browser = app.browser();
    let huge = "x".repeat(65 * 1024);
    let resp = browser
        .post_form("/signup", &[("name", "Ada"), ("email", "ada@example.org"), ("password", &huge)])
        .await;
    assert_eq!(resp.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(resp.body.contains("more than Hearth accepts"));
}

async fn malformed_requests_get_a_clear_4xx_never_a_500(backend: Backend) {
    let app = backend.spawn().await;
    let browser = app.browser();
    let post = |body: &'static [u8], content_type: &'static str| {
        browser
            .client
            .post(browser.url("/signup"))
            .header("sec-fetch-site", "same-origin")
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let form = "application/x-www-form-urlencoded";

    let invalid_utf8 =
        read(post(b"name=%FF%FE&email=a%40b.org&password=analytical+engine", form).await).await;
    assert_eq!(invalid_utf8.status, StatusCode::BAD_REQUEST);
    assert!(invalid_utf8.body.contains("not valid UTF-8"));

    let json = read(post(br#"{"name":"Ada"}"#, "application/json").await).await;
    assert_eq!(json.status, StatusCode::BAD_REQUEST);

    let missing = read(post(b"", form).await).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        missing.body.contains("Enter your name.")
            && missing.body.contains("Enter your email address.")
    );

    let garbage = read(post(b"&&==%%", form).await).await;
    assert!(garbage.status.is_client_error(), "{}", garbage.status);

    let login_missing = read(
        browser
            .client
            .post(browser.url("/login"))
            .header("content-type", form)
            .body("email=ada%40example.org")
            .send()
            .await,
    )
    .await;
    assert_eq!(login_missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(login_missing.body.contains("Enter your password."));
    assert!(!invalid_utf8.body.to_lowercase().contains("sql"));
}

/// Ada's account, with five failed sign-ins a minute allowed per account and
/// enough per address not to matter.
async fn with_ada_limited_to_five_failures(backend: Backend) -> crate::support::TestApp {
    let app = backend
        .spawn_with(|config| {
            config.rate_limit_per_account = 5;
            config.rate_limit_per_address = 100;
        })
        .await;
    app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    app
}

async fn repeated_sign_in_attempts_on_one_account_are_slowed_down(backend: Backend) {
    let app = with_ada_limited_to_five_failures(backend).await;
    let attacker = app.browser();
    for _ in 0..5 {
        let resp = attacker
            .post_form("/login", &[("email", "ada@example.org"), ("password", "guess guess")])
            .await;
        assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
    }
    let limited =
        attacker.post_form("/login", &[("email", "ADA@example.org"), ("password", PASSWORD)]).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "retry after {retry}s");
    assert!(limited.body.contains("Too many attempts"));
    assert!(limited.body.contains(r#"action="/login""#), "the sign-in form is shown again");
    assert!(limited.body.contains(r#"value="ADA@example.org""#), "what was typed is kept");

    // Another account is not affected by Ada's limit.
    let other = attacker
        .post_form("/login", &[("email", "bob@example.org"), ("password", "guess guess")])
        .await;
    assert_eq!(other.status, StatusCode::UNAUTHORIZED);
}

/// The per-account limit is for guesses: right passwords do not use it up.
async fn signing_in_on_many_devices_is_not_slowed_down(backend: Backend) {
    let app = with_ada_limited_to_five_failures(backend).await;
    for device in 0..8 {
        let resp = app
            .browser()
            .post_form("/login", &[("email", "ada@example.org"), ("password", PASSWORD)])
            .await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER, "device {device}");
    }
    // Guesses still count: after five, even the right password must wait.
    for _ in 0..5 {
        let resp = app
            .browser()
            .post_form("/login", &[("email", "ada@example.org"), ("password", "guess guess")])
            .await;
        assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
    }
    let limited = app
        .browser()
        .post_form("/login", &[("email", "ada@example.org"), ("password", PASSWORD)])
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
}

async fn one_address_cannot_flood_sign_in_and_sign_up(backend: Backend) {
    let app = backend
        .spawn_with(|config| {
            config.rate_limit_per_address = 3;
            config.rate_limit_per_account = 100;
        })
        .await;
    let browser = app.browser();
    for i in 0..3 {
        let email = format!("person{i}@example.org");
        let resp =
            browser.post_form("/login", &[("email", &email), ("password", "guess guess")]).await;
        assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
    }
    let signup = browser
        .post_form(
            "/signup",
            &[("name", "Eve"), ("email", "eve@example.org"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(signup.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(signup.headers.contains_key("retry-after"));
}

/// One IPv6 customer is usually given a whole /64: counted per address, its 2^64
/// addresses would each get the full allowance.
async fn addresses_in_one_ipv6_64_share_a_limit(backend: Backend) {
    let app = backend
        .spawn_with(|config| {
            config.trust_fly_client_ip = true;
            config.rate_limit_per_address = 3;
            config.rate_limit_per_account = 100;
        })
        .await;
    let browser = &app.browser();
    let sign_in_from = move |client: &'static str| async move {
        let request = browser
            .client
            .post(browser.url("/login"))
            .header("sec-fetch-site", "same-origin")
            .header("fly-client-ip", client)
            .form(&[("email", "nobody@example.org"), ("password", "guess guess")]);
        read(request.send().await).await
    };
    for client in ["2001:db8:5:1::1", "2001:db8:5:1::2", "2001:db8:5:1:abcd:ef01:2345:6789"] {
        assert_eq!(sign_in_from(client).await.status, StatusCode::UNAUTHORIZED, "{client}");
    }
    let limited = sign_in_from("2001:db8:5:1:ffff:ffff:ffff:ffff").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers.contains_key("retry-after"));
    // The next /64 is someone else.
    assert_eq!(sign_in_from("2001:db8:5:2::1").await.status, StatusCode::UNAUTHORIZED);

    // An IPv4 client written as an IPv4-mapped IPv6 address is the same client.
    for _ in 0..3 {
        assert_eq!(sign_in_from("198.51.100.7").await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(sign_in_from("::ffff:198.51.100.7").await.status, StatusCode::TOO_MANY_REQUESTS);
}

async fn unknown_pages_get_a_friendly_404(backend: Backend) {
    let app = backend.spawn().await;
    let page = app.browser().get("/no/such/page").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("There is nothing at this address."));
    assert!(page.headers["content-type"].to_str().unwrap().starts_with("text/html"));
}

/// A page on a DNS name that an attacker pointed at this server (DNS rebinding) must
/// not be able to use it: say, to create the first, administrator account.
async fn requests_for_another_host_are_refused(backend: Backend) {
    let app = backend.spawn().await;
    let client = reqwest::Client::new();
    let as_host = |path: &str, host: &'static str| {
        let request = client.get(app.browser().url(path)).header("host", host);
        async move { read(request.send().await).await }
    };
    let rebound = as_host("/signup", "attacker.example:3000").await;
    assert_eq!(rebound.status, StatusCode::MISDIRECTED_REQUEST);
    assert!(rebound.body.contains("not served at this address"));
    let signup = client
        .post(app.browser().url("/signup"))
        .header("host", "attacker.example")
        .form(&[("name", "Eve"), ("email", "eve@example.org"), ("password", PASSWORD)])
        .send()
        .await;
    assert_eq!(read(signup).await.status, StatusCode::MISDIRECTED_REQUEST);
    assert_eq!(as_host("/login", "localhost:1234").await.status, StatusCode::OK);
    // Health checks ask by whatever address reaches the machine.
    assert_eq!(as_host("/healthz", "fdaa:0:1::3").await.status, StatusCode::OK);

    let extra = backend.spawn_with(|c| c.allowed_hosts = vec!["chat.example".into()]).await;
    let page = client.get(extra.browser().url("/login")).header("host", "chat.example");
    assert_eq!(read(page.send().await).await.status, StatusCode::OK);
    let page = client.get(extra.browser().url("/login")).header("host", "evil.example");
    assert_eq!(read(page.send().await).await.status, StatusCode::MISDIRECTED_REQUEST);
}

/// Behind a proxy every request comes from the proxy's address; the proxy says who
/// the client is in `X-Forwarded-For`, and only what it appended counts.
async fn behind_a_trusted_proxy_each_client_has_its_own_limit(backend: Backend) {
    let limited = |trusted: bool| {
        backend.spawn_with(move |config| {
            config.rate_limit_per_address = 2;
            config.rate_limit_per_account = 100;
            if trusted {
                config.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
            }
        })
    };
    let attempt = |app: &crate::support::TestApp, forwarded: &'static str| {
        let request = reqwest::Client::new()
            .post(app.browser().url("/login"))
            .header("x-forwarded-for", forwarded)
            .form(&[("email", "nobody@example.org"), ("password", "guess guess")]);
        async move { read(request.send().await).await.status }
    };
    let app = limited(true).await;
    assert_eq!(attempt(&app, "203.0.113.5").await, StatusCode::UNAUTHORIZED);
    assert_eq!(attempt(&app, "203.0.113.5").await, StatusCode::UNAUTHORIZED);
    assert_eq!(attempt(&app, "203.0.113.5").await, StatusCode::TOO_MANY_REQUESTS);
    // Another client behind the same proxy is not limited by the first.
    assert_eq!(attempt(&app, "198.51.100.9").await, StatusCode::UNAUTHORIZED);
    // Writing a different address in front does not make the first someone else.
    assert_eq!(attempt(&app, "192.0.2.1, 203.0.113.5").await, StatusCode::TOO_MANY_REQUESTS);

    // Without the setting the header is the client's say-so, and ignored.
    let app = limited(false).await;
    assert_eq!(attempt(&app, "203.0.113.5").await, StatusCode::UNAUTHORIZED);
    assert_eq!(attempt(&app, "198.51.100.9").await, StatusCode::UNAUTHORIZED);
    assert_eq!(attempt(&app, "192.0.2.1").await, StatusCode::TOO_MANY_REQUESTS);
}

async fn api_answers_are_not_cached(backend: Backend) {
    let app = backend.spawn().await;
    let ada = app.signed_up("Ada", "ada@example.org", PASSWORD).await;
    for path in ["/api/me", "/api/rooms", "/api/rooms/general/messages"] {
        let resp = ada.get(path).await;
        assert_eq!(resp.status, StatusCode::OK, "{path}");
        assert_eq!(resp.headers["cache-control"], "no-store", "{path}");
    }
    let signed_out = app.browser().get("/api/me").await;
    assert_eq!(signed_out.headers["cache-control"], "no-store");
}
