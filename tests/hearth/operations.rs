//! Running Hearth: the health check, its embedded assets, metrics, the command line,
//! SIGTERM, and the deploy files.

use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;

use crate::on_both_databases;
use crate::support::process::{self, hearth_binary};
use crate::support::{Backend, Seen, TestApp, message_numbers};

on_both_databases!(
    healthz_is_200_with_a_database_and_503_without,
    assets_are_embedded_and_cached_by_version,
    metrics_count_requests_sockets_messages_and_sign_ins,
    the_command_line_creates_resets_and_deactivates_people,
);

const SECOND: Duration = Duration::from_secs(1);

/// The container's user (the Dockerfile's `USER`), when these tests run as root.
const CONTAINER_USER: u32 = 10001;

fn running_as_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
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

async fn metrics_count_requests_sockets_messages_and_sign_ins(backend: Backend) {
    let app = backend.spawn_with(|c| c.metrics_bind = Some("127.0.0.1:0".parse().unwrap())).await;
    let ada = app.signed_up("Ada", "ada@example.org", "analytical engine").await;
    app.browser()
        .post_form("/login", &[("email", "ada@example.org"), ("password", "nope nope")])
        .await;
    let mut ws = app.live_socket(&ada, "general").await;
    ws.say("counted").await;
    ws.expect("counted", SECOND).await;
    // Labelled by the route that answered, also when it answered with an error, and
    // made-up paths share one label.
    assert_eq!(ada.get("/chat/no-such-room").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.browser().get("/wp-admin/install.php").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.browser().get("/").await.status, StatusCode::OK);

    let url = format!("http://{}/metrics", app.metrics.expect("metrics address"));
    let text = reqwest::get(url).await.unwrap().text().await.unwrap();
    for needle in [
        r#"hearth_http_requests_total{route="/signup",status="303"}"#,
        r#"hearth_http_request_duration_seconds_bucket{route="/signup""#,
        r#"hearth_http_requests_total{route="/chat/:room",status="404"}"#,
        r#"hearth_http_requests_total{route="other",status="404"}"#,
        r#"hearth_http_requests_total{route="/",status="200"}"#,
        r#"hearth_signins_total{method="password",result="failure"}"#,
        "hearth_messages_stored_total",
        "hearth_deliveries_total",
        "hearth_chat_sockets 1",
    ] {
        assert!(text.contains(needle), "metrics lack {needle}:\n{text}");
    }
    // The public port does not serve them.
    assert_eq!(app.browser().get("/metrics").await.status, StatusCode::NOT_FOUND);
}

/// Runs `hearth <args>` against the app's database: whether it succeeded, and all
/// it said.
async fn cli(app: &TestApp, args: &[&str], stdin: &str) -> (bool, String) {
    let ran = process::run(app, args, stdin).await;
    (ran.ok, ran.stdout + &ran.stderr)
}

async fn the_command_line_creates_resets_and_deactivates_people(backend: Backend) {
    let app = backend.spawn().await;
    let (ok, said) = cli(
        &app,
        &["user", "create", "--name", "Ada", "--email", "Ada@Example.org"],
        "engine room key\n",
    )
    .await;
    assert!(ok, "{said}");
    assert!(said.contains("created account"));
    let (ok, said) =
        cli(&app, &["user", "create", "--name", "Eve", "--email", "eve@example.org"], "short\n")
            .await;
    assert!(!ok && said.contains("at least 8 characters"), "{said}");

    let login = |password: &'static str| {
        let browser = app.browser();
        async move {
            let page = browser
                .post_form("/login", &[("email", "ada@example.org"), ("password", password)])
                .await;
            (page, browser)
        }
    };
    let (page, ada) = login("engine room key").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let mut ws = app.live_socket(&ada, "general").await;

    let (ok, said) = cli(&app, &["user", "deactivate", "--email", "ada@example.org"], "").await;
    assert!(ok && said.contains("1 session(s) ended"), "{said}");
    // Another process ended the session: the server notices within a second or two.
    assert_eq!(ws.expect_close(3 * SECOND).await, Some(1008));
    assert_eq!(ada.get("/dashboard").await.status, StatusCode::SEE_OTHER);
    let (refused, _) = login("engine room key").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "as for a wrong password");
    assert!(refused.body.contains("deactivated"));

    assert!(cli(&app, &["user", "reactivate", "--email", "ada@example.org"], "").await.0);
    let (ok, _) =
        cli(&app, &["user", "reset-password", "--email", "ada@example.org"], "a brand new key\n")
            .await;
    assert!(ok);
    assert_eq!(login("engine room key").await.0.status, StatusCode::UNAUTHORIZED);
    assert_eq!(login("a brand new key").await.0.status, StatusCode::SEE_OTHER);
}

/// `fly.toml` as sections of `key = value` (enough for this file; no TOML crate needed).
fn fly_toml() -> HashMap<String, HashMap<String, String>> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fly.toml")).unwrap();
    let mut sections: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut current = String::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        if line.starts_with('[') {
            current = line.trim_matches(['[', ']']).to_owned();
        } else if let Some((key, value)) = line.split_once('=') {
            let value = value.trim().trim_matches('"').to_owned();
            sections.entry(current.clone()).or_default().insert(key.trim().to_owned(), value);
        }
    }
    sections
}

#[test]
fn fly_toml_and_the_dockerfile_agree_with_the_binary() {
    let fly = fly_toml();
    let env = &fly["env"];
    let bind: std::net::SocketAddr = env["BIND"].parse().unwrap();
    assert_eq!(fly["http_service"]["internal_port"], bind.port().to_string());
    assert_eq!(fly["http_service.checks"]["path"], "/healthz");
    let volume = &fly["mounts"]["destination"];
    let db_path = env["DATABASE_URL"].strip_prefix("sqlite://").expect("SQLite URL");
    assert!(db_path.starts_with(&format!("{volume}/")), "the database lives on the volume");
    let metrics: std::net::SocketAddr = env["METRICS_BIND"].parse().unwrap();
    assert_eq!(fly["metrics"]["port"], metrics.port().to_string());
    assert_eq!(fly["metrics"]["path"], "/metrics");
    assert_eq!(fly["build"]["dockerfile"], "Dockerfile");
    assert_eq!(fly[""]["kill_signal"], "SIGTERM");

    let dockerfile =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Dockerfile")).unwrap();
    assert!(dockerfile.contains(&format!("EXPOSE {}", bind.port())));
    assert!(dockerfile.contains(&format!("BIND={bind}")));
    assert!(dockerfile.contains("USER 10001:10001"), "runs as a non-root user");
}

/// The binary as the container runs it: `fly.toml`'s environment (with loopback
/// addresses and a fresh data folder), then SIGTERM while a request is in flight.
#[tokio::test]
async fn sigterm_finishes_requests_closes_sockets_with_1012_and_exits_0_and_a_restart_catches_up() {
    let data = std::env::temp_dir().join(format!("hearth-sigterm-{:x}", rand::random::<u64>()));
    let fly = fly_toml();
    let port = crate::support::bind().await.local_addr().unwrap().port();
    let metrics_port = crate::support::bind().await.local_addr().unwrap().port();
    // As root, run as the container's unprivileged user, in a folder it owns.
    let as_root = running_as_root();
    if as_root {
        std::fs::create_dir_all(&data).unwrap();
        std::os::unix::fs::chown(&data, Some(CONTAINER_USER), Some(CONTAINER_USER)).unwrap();
    }
    let start = || {
        let mut command = if as_root {
            let mut setpriv = tokio::process::Command::new("setpriv");
            let id = CONTAINER_USER.to_string();
            setpriv.args(["--reuid", &id, "--regid", &id, "--clear-groups", "--"]);
            setpriv.arg(hearth_binary());
            setpriv
        } else {
            tokio::process::Command::new(hearth_binary())
        };
        command.env_clear();
        for (key, value) in &fly["env"] {
            command.env(key, value);
        }
        command
            .env("BIND", format!("127.0.0.1:{port}"))
            .env("METRICS_BIND", format!("127.0.0.1:{metrics_port}"))
            .env("BASE_URL", format!("http://127.0.0.1:{port}"))
            .env("DATABASE_URL", format!("sqlite://{}/hearth.db", data.display()))
            .env("RUST_LOG", "warn")
            // A second person signs up during the test.
            .env("SIGNUP", "open")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap()
    };
    let base = format!("http://127.0.0.1:{port}");
    let wait_ready = || async {
        for _ in 0..100 {
            if reqwest::get(format!("{base}/healthz")).await.is_ok_and(|r| r.status() == 200) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("hearth did not become ready");
    };

    let mut hearth = start();
    wait_ready().await;
    if as_root {
        use std::os::unix::fs::MetadataExt;
        let db = std::fs::metadata(data.join("hearth.db")).unwrap();
        assert_eq!(db.uid(), CONTAINER_USER, "the database was made by the container's user");
    }
    let app = crate::support::External::new(&base);
    let ada = app.signed_up("Ada", "ada@example.org", "analytical engine").await;
    let mut ws = app.live_socket(&ada, "general").await;
    ada.post_form("/chat/general/messages", &[("body", "before the deploy")]).await;
    ws.expect("before the deploy", SECOND).await;

    // A sign-up hashes at bcrypt's full cost: it is still running when SIGTERM comes.
    // The client's connection is opened first, so the request is surely in flight.
    let slow = app.browser();
    assert_eq!(slow.get("/healthz").await.status, StatusCode::OK);
    let in_flight = tokio::spawn(async move {
        slow.post_form(
            "/signup",
            &[("name", "Grace"), ("email", "grace@example.org"), ("password", "compiler compiler")],
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let pid = hearth.id().unwrap().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());

    assert_eq!(ws.expect_close(5 * SECOND).await, Some(1012));
    assert_eq!(
        in_flight.await.unwrap().status,
        StatusCode::SEE_OTHER,
        "the request in flight finished"
    );
    let exit = tokio::time::timeout(Duration::from_secs(15), hearth.wait()).await.unwrap().unwrap();
    assert!(exit.success(), "exit code 0, got {exit}");

    let _restarted = start();
    wait_ready().await;
    ada.post_form("/chat/general/messages", &[("body", "after the deploy")]).await;
    let mut ws = app.live_socket(&ada, "general").await;
    let frames = ws.drain(SECOND).await;
    assert_eq!(message_numbers(&frames), [1, 2], "nothing lost, nothing doubled");
    assert!(!matches!(ws.next(Duration::from_millis(100)).await, Seen::Closed(_)));
    let _ = std::fs::remove_dir_all(&data);
}

/// Authentication events are written as JSON lines under the `audit` target, and no
/// password, cookie or token ever appears in the log.
#[tokio::test]
async fn authentication_events_are_logged_without_secrets() {
    let data = std::env::temp_dir().join(format!("hearth-audit-{:x}", rand::random::<u64>()));
    let port = crate::support::bind().await.local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let mut hearth = tokio::process::Command::new(hearth_binary())
        .env_clear()
        .env("BIND", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", format!("sqlite://{}/hearth.db", data.display()))
        .env("BCRYPT_COST", "4")
        .env("SIGNUP", "open")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if reqwest::get(format!("{base}/healthz")).await.is_ok_and(|r| r.status() == 200) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let app = crate::support::External::new(&base);
    let password = "audit trail passphrase";
    let ada = app.signed_up("Ada", "ada@example.org", password).await;
    let cookie = ada.session_cookie().unwrap();
    app.browser()
        .post_form("/login", &[("email", "ada@example.org"), ("password", "wrong guess here")])
        .await;
    let phone = app.browser();
    phone.post_form("/login", &[("email", "ada@example.org"), ("password", password)]).await;
    ada.post_form("/dashboard/sessions/end-others", &[]).await;
    ada.post_form(
        "/dashboard/password",
        &[("current_password", password), ("new_password", "a second passphrase")],
    )
    .await;
    let token_page = ada.post_form("/dashboard/tokens", &[("name", "bot")]).await.body;
    let token: String = token_page[token_page.find("hearth_").unwrap()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "_-".contains(*c))
        .collect();
    ada.post_form("/logout", &[]).await;

    let pid = hearth.id().unwrap().to_string();
    std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let out = tokio::time::timeout(Duration::from_secs(15), async {
        use tokio::io::AsyncReadExt;
        let mut text = String::new();
        hearth.stdout.take().unwrap().read_to_string(&mut text).await.unwrap();
        text
    })
    .await
    .unwrap();
    let audit: Vec<serde_json::Value> = out
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|event| event["target"] == "audit")
        .collect();
    let messages: Vec<&str> =
        audit.iter().filter_map(|e| e["fields"]["message"].as_str()).collect();
    for expected in [
        "account created",
        "sign-in refused",
        "signed in",
        "other sessions ended",
        "password changed",
        "API token made",
        "signed out",
    ] {
        assert!(messages.contains(&expected), "no {expected:?} in the audit log: {messages:?}");
    }
    for secret in
        [password, "wrong guess here", "a second passphrase", cookie.as_str(), token.as_str()]
    {
        assert!(!out.contains(secret), "the log contains a secret: {secret}");
    }
    let _ = std::fs::remove_dir_all(&data);
}
