//! The harness: a real Hearth on 127.0.0.1:0 with a fresh database, and browsers
//! (cookie-jar HTTP clients that do not follow redirects) to drive it.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use hearth::{App, AppState, Config};

pub mod authenticator;
pub mod openapi;
pub mod process;
pub mod push;
pub mod python;
pub mod smtp;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::{StatusCode, redirect};

/// Runs each named test once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_databases {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test($crate::support::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $test() {
                    if $crate::support::postgres_available().await {
                        super::$test($crate::support::Backend::Postgres).await
                    }
                }
            )*
        }
    };
}

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Hearth with test settings (fast hashing, generous rate limits).
    pub async fn spawn(self) -> TestApp {
        self.spawn_with(|_| {}).await
    }

    /// Hearth whose public address (BASE_URL) is `http://localhost:<port>`, as
    /// passkeys need: WebAuthn refuses an IP address as the site's name. Its
    /// browsers use that address too (reqwest sends `localhost` to 127.0.0.1).
    pub async fn spawn_on_localhost(self, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let listener = bind().await;
        let base = format!("http://localhost:{}", listener.local_addr().unwrap().port());
        let db = Arc::new(TestDb::create(self).await);
        let mut config = Config::for_tests(&db.url);
        config.base_url = Some(base.parse().unwrap());
        adjust(&mut config);
        let mut app = TestApp::start(listener, config, db, Vec::new()).await;
        app.site = External::new(&base);
        app.base = base;
        app
    }

    pub async fn spawn_with(self, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let db = Arc::new(TestDb::create(self).await);
        let mut config = Config::for_tests(&db.url);
        adjust(&mut config);
        TestApp::start(bind().await, config, db, Vec::new()).await
    }

    /// Hearth with "Sign in with Google" pointed at the local OpenID provider
    /// (tests/oidc), which knows `accounts` (subject -> claims).
    pub async fn spawn_with_google(self, accounts: serde_json::Value) -> TestApp {
        let listener = bind().await;
        let redirect = format!("http://{}/auth/google/callback", listener.local_addr().unwrap());
        let provider = crate::google_provider::OidcProvider::start(&redirect, &accounts).await;
        self.spawn_with_issuer(listener, &provider.issuer.clone(), Box::new(provider)).await
    }

    /// Hearth whose OpenID provider is at `issuer`; `keep` stays alive with the app.
    pub async fn spawn_with_issuer(
        self,
        listener: tokio::net::TcpListener,
        issuer: &str,
        keep: Box<dyn std::any::Any + Send>,
    ) -> TestApp {
        let db = Arc::new(TestDb::create(self).await);
        let mut config = Config::for_tests(&db.url);
        config.google_client_id = Some(crate::google_provider::CLIENT_ID.into());
        config.google_client_secret = Some(crate::google_provider::CLIENT_SECRET.into());
        config.oidc_issuer_url = issuer.to_owned();
        config.avatar_origins = vec!["https://lh3.googleusercontent.com".parse().unwrap()];
        TestApp::start(listener, config, db, vec![keep]).await
    }
}

pub async fn bind() -> tokio::net::TcpListener {
    tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind")
}

pub struct TestApp {
    pub base: String,
    site: External,
    pub state: AppState,
    pub metrics: Option<std::net::SocketAddr>,
    config: Config,
    db: Arc<TestDb>,
    stop: tokio::sync::oneshot::Sender<()>,
    running: tokio::task::JoinHandle<std::io::Result<()>>,
    _keep: Vec<Box<dyn std::any::Any + Send>>,
}

impl TestApp {
    async fn start(
        listener: tokio::net::TcpListener,
        config: Config,
        db: Arc<TestDb>,
        keep: Vec<Box<dyn std::any::Any + Send>>,
    ) -> TestApp {
        let app = App::build(config.clone(), listener).await.expect("app builds");
        let base = format!("http://{}", app.local_addr());
        let state = app.state().clone();
        let metrics = app.metrics_addr();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        let site = External::new(&base);
        TestApp { base, site, state, metrics, config, db, stop, running, _keep: keep }
    }

    /// A second Hearth process on the same database, as after a restart or beside
    /// this one.
    pub async fn another_instance(&self) -> TestApp {
        TestApp::start(bind().await, self.config.clone(), self.db.clone(), Vec::new()).await
    }

    /// Stops this instance the way SIGTERM does, and waits until it has.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.running.await.expect("server task").expect("server stops cleanly");
    }

    /// The database this instance uses, for other processes (the CLI) to open.
    pub fn database_url(&self) -> &str {
        &self.db.url
    }

    /// Runs `sql` on the database behind Hearth's back: no event, no notification, as
    /// another program would (or as if a notification were lost). Returns the rows changed.
    pub async fn behind_the_back(&self, sql: &str) -> u64 {
        let done = hearth::on_db!(&self.state.db, pool => sqlx::query(sql)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()));
        done.expect("the statement runs")
    }
}

/// A Hearth reached over HTTP only (in-process or another process).
pub struct External {
    pub base: String,
}

impl External {
    pub fn new(base: &str) -> Self {
        External { base: base.to_owned() }
    }

    /// A WebSocket to `/ws?room=<room>` from `browser`, as the chat page opens it.
    pub async fn socket(&self, browser: &Browser, room: &str) -> Socket {
        self.try_socket(browser, room, Some(&self.base)).await.expect("socket opens")
    }

    /// [`External::socket`] that has said it has nothing yet (`resume` after 0), as a
    /// page with an empty room does: live from here on.
    pub async fn live_socket(&self, browser: &Browser, room: &str) -> Socket {
        let mut socket = self.socket(browser, room).await;
        socket.resume(0).await;
        socket
    }

    /// Like [`External::socket`], but returns the refusal's HTTP status.
    pub async fn try_socket(
        &self,
        browser: &Browser,
        room: &str,
        origin: Option<&str>,
    ) -> Result<Socket, u16> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = format!("{}/ws?room={room}", self.base.replacen("http", "ws", 1));
        let mut request = url.into_client_request().expect("request");
        if let Some(cookie) = browser.session_cookie() {
            request.headers_mut().insert("cookie", format!("id={cookie}").parse().unwrap());
        }
        if let Some(origin) = origin {
            request.headers_mut().insert("origin", origin.parse().unwrap());
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((stream, _)) => Ok(Socket { stream }),
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
            Err(err) => panic!("socket failed: {err}"),
        }
    }

    /// A new browser with an empty cookie jar.
    pub fn browser(&self) -> Browser {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(redirect::Policy::none())
            .user_agent("Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0 Safari/537.36")
            // Only loopback: `localhost` is 127.0.0.1 (the port is the URL's).
            .resolve("localhost", std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
            .build()
            .expect("client");
        Browser { client, jar, base: self.base.clone() }
    }

    /// A browser that has just signed up as `name` <`email`> with `password`.
    pub async fn signed_up(&self, name: &str, email: &str, password: &str) -> Browser {
        let browser = self.browser();
        let resp = browser
            .post_form("/signup", &[("name", name), ("email", email), ("password", password)])
            .await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER, "sign-up failed: {}", resp.body);
        browser
    }
}

impl std::ops::Deref for TestApp {
    type Target = External;
    fn deref(&self) -> &External {
        &self.site
    }
}

pub struct Browser {
    pub client: reqwest::Client,
    jar: Arc<Jar>,
    base: String,
}

pub struct Page {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }
}

impl Browser {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> Page {
        read(self.client.get(self.url(path)).send().await).await
    }

    /// A form post as a browser makes it from one of Hearth's own pages.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let request = self
            .client
            .post(self.url(path))
            .header("sec-fetch-site", "same-origin")
            .header("origin", &self.base)
            .form(fields);
        read(request.send().await).await
    }

    /// The account id of whoever is signed in on this browser.
    pub async fn user_id(&self) -> i64 {
        let me: serde_json::Value = serde_json::from_str(&self.get("/api/me").await.body).unwrap();
        me["id"].as_i64().expect("signed in")
    }

    /// The id (as in `/messages/{id}`) of the message reading exactly `text` in room
    /// `room`, found on the room's page after the text, as a person finds its menu.
    pub async fn message_id(&self, room: &str, text: &str) -> i64 {
        let page = self.get(&format!("/chat/{room}")).await.body;
        let at = page.find(&format!(">{text}<")).expect("the message is on the page");
        let rest = page[at..].split("/messages/").nth(1).expect("its actions follow it");
        rest.split('/').next().unwrap().parse().expect("a message id")
    }

    /// Makes a token on the dashboard, as a person would; returns it.
    pub async fn make_token(&self, name: &str) -> String {
        // Shown in the answer to the form itself, never kept for a later page.
        let made = self.post_form("/dashboard/tokens", &[("name", name)]).await;
        assert_eq!(made.status, reqwest::StatusCode::OK);
        assert_eq!(made.headers["cache-control"], "no-store");
        let page = made.body;
        let start = page.find("hearth_").expect("the new token is shown once");
        let token: String = page[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || "_-".contains(*c))
            .collect();
        assert!(!self.get("/dashboard").await.body.contains(&token), "shown only once");
        token
    }

    /// The JSON API with this browser's session, as the page's own scripts would
    /// call it: the status and the answer (`null` when it is not JSON).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request =
            self.client.request(method, self.url(path)).header("sec-fetch-site", "same-origin");
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer = request.send().await.unwrap();
        let status = answer.status();
        let text = answer.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
    }

    /// What htmx sends for `hx-get`.
    pub async fn get_htmx(&self, path: &str) -> Page {
        read(self.client.get(self.url(path)).header("hx-request", "true").send().await).await
    }

    /// What htmx sends for `hx-post` from one of Hearth's pages.
    pub async fn post_htmx(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let request = self
            .client
            .post(self.url(path))
            .header("hx-request", "true")
            .header("sec-fetch-site", "same-origin")
            .header("origin", &self.base)
            .form(fields);
        read(request.send().await).await
    }

    /// Signs in with the OpenID provider as `hint` (a subject it knows, or "cancel"),
    /// following the redirects as a browser would; returns Hearth's callback answer.
    pub async fn google_sign_in(&self, hint: &str, next: &str) -> Page {
        match self.google_until_callback(hint, next).await {
            Ok(callback) => read(self.client.get(callback).send().await).await,
            Err(page) => page,
        }
    }

    /// Goes through the provider up to (not including) Hearth's callback: returns the
    /// callback URL, or the page the provider stopped at.
    pub async fn google_until_callback(&self, hint: &str, next: &str) -> Result<String, Page> {
        let next = percent_encoding::utf8_percent_encode(next, percent_encoding::NON_ALPHANUMERIC);
        let start = self.get(&format!("/auth/google?next={next}")).await;
        if start.status != StatusCode::SEE_OTHER {
            return Err(start);
        }
        let mut url = url::Url::parse(start.location()).expect("provider URL");
        url.query_pairs_mut().append_pair("login_hint", hint);
        for _ in 0..10 {
            let page = read(self.client.get(url.as_str()).send().await).await;
            if !page.status.is_redirection() {
                return Err(page);
            }
            url = url.join(page.location()).expect("redirect");
            if url.as_str().starts_with(&self.base) {
                return Ok(url.to_string());
            }
        }
        panic!("too many redirects at the provider");
    }

    /// This browser (its cookies) pointed at another instance.
    pub fn on(&self, app: &TestApp) -> Browser {
        let browser = app.browser();
        if let Some(cookie) = self.session_cookie() {
            browser.set_session_cookie(&cookie);
        }
        browser
    }

    /// The session cookie's value, if the jar holds one.
    pub fn session_cookie(&self) -> Option<String> {
        let url = self.base.parse().ok()?;
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .ok()?
            .split("; ")
            .find_map(|pair| pair.strip_prefix("id=").map(str::to_owned))
    }

    /// Puts a session cookie in the jar, as a planted or copied cookie would be.
    pub fn set_session_cookie(&self, value: &str) {
        let url = self.base.parse().expect("base url");
        self.jar.add_cookie_str(&format!("id={value}; Path=/"), &url);
    }
}

pub async fn read(resp: reqwest::Result<reqwest::Response>) -> Page {
    let resp = resp.expect("request reaches Hearth");
    let (status, headers) = (resp.status(), resp.headers().clone());
    let body = resp.text().await.expect("body");
    Page { status, headers, body }
}

type WsStream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A chat socket as the page's htmx uses it.
pub struct Socket {
    pub stream: WsStream,
}

/// What a socket saw next.
#[derive(Debug, PartialEq)]
pub enum Seen {
    Text(String),
    Closed(Option<u16>),
    Nothing,
}

impl Socket {
    pub async fn send_json(&mut self, value: serde_json::Value) {
        use futures_util::SinkExt;
        use tokio_tungstenite::tungstenite::Message;
        self.stream.send(Message::text(value.to_string())).await.expect("send");
    }

    /// "I have everything up to `after`": what htmx sends on every (re)connect.
    pub async fn resume(&mut self, after: i64) {
        self.send_json(
            serde_json::json!({ "kind": "resume", "after": after.to_string(), "HEADERS": {} }),
        )
        .await;
    }

    /// Closes the socket, as leaving the page does.
    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }

    /// Sends the composer, as htmx does.
    pub async fn say(&mut self, body: &str) {
        self.send_json(serde_json::json!({ "kind": "send", "body": body, "HEADERS": {} })).await;
    }

    /// The next text frame or close within `wait`.
    pub async fn next(&mut self, wait: std::time::Duration) -> Seen {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => return Seen::Nothing,
                Ok(None) | Ok(Some(Err(_))) => return Seen::Closed(None),
                Ok(Some(Ok(Message::Text(text)))) => return Seen::Text(text.to_string()),
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return Seen::Closed(frame.map(|f| u16::from(f.code)));
                }
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// Reads frames until one contains `needle` (panics after `wait`).
    pub async fn expect(&mut self, needle: &str, wait: std::time::Duration) -> String {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Seen::Text(text) if text.contains(needle) => return text,
                Seen::Text(_) => continue,
                other => panic!("waiting for {needle:?}, got {other:?}"),
            }
        }
    }

    /// Reads frames until an unread badge pushed on its own (a message in a room not
    /// on screen); the sidebar sent on resuming has badges too, so matching on text
    /// would not do. Panics after `wait`.
    pub async fn expect_unread_badge(&mut self, wait: std::time::Duration) -> String {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Seen::Text(text) if text.starts_with(r#"<span class="unread""#) => return text,
                Seen::Text(_) => continue,
                other => panic!("waiting for an unread badge, got {other:?}"),
            }
        }
    }

    /// Reads frames until the socket closes; returns the close code.
    pub async fn expect_close(&mut self, wait: std::time::Duration) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Seen::Closed(code) => return code,
                Seen::Text(_) => continue,
                Seen::Nothing => panic!("socket still open after {wait:?}"),
            }
        }
    }

    /// Every text frame that arrives within `wait`.
    pub async fn drain(&mut self, wait: std::time::Duration) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Seen::Text(text) => seen.push(text),
                _ => return seen,
            }
        }
    }
}

/// The `data-seq` numbers of the messages in `frames`, in order.
pub fn message_numbers(frames: &[String]) -> Vec<i64> {
    frames
        .iter()
        .flat_map(|f| f.match_indices("data-seq=\"").map(move |(i, _)| &f[i + 10..]))
        .filter_map(|rest| rest.split('"').next()?.parse().ok())
        .collect()
}

/// A database for one test, removed when the test ends.
struct TestDb {
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Folder(PathBuf),
    Database(String),
}

fn admin_url() -> String {
    std::env::var("HEARTH_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn unique_name() -> String {
    format!("hearth_test_{:016x}", rand::random::<u64>())
}

impl TestDb {
    async fn create(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let folder = std::env::temp_dir().join(unique_name());
                std::fs::create_dir_all(&folder).expect("temp folder");
                let url = format!("sqlite://{}/hearth.db", folder.display());
                TestDb { url, cleanup: Cleanup::Folder(folder) }
            }
            Backend::Postgres => {
                use sqlx::Connection;
                let name = unique_name();
                let mut admin = sqlx::PgConnection::connect(&admin_url()).await.expect("postgres");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .expect("create database");
                let url = admin_url()
                    .rsplit_once('/')
                    .map(|(server, _)| format!("{server}/{name}"))
                    .expect("url");
                TestDb { url, cleanup: Cleanup::Database(name) }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Folder(folder) => {
                let _ = std::fs::remove_dir_all(folder);
            }
            Cleanup::Database(name) => {
                // Drop runs outside async; a short-lived runtime on its own thread does it.
                let name = name.clone();
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                    rt.block_on(async {
                        use sqlx::Connection;
                        let mut admin = sqlx::PgConnection::connect(&admin_url())
                            .await
                            .map_err(std::io::Error::other)?;
                        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(&mut admin)
                            .await
                            .map_err(std::io::Error::other)?;
                        Ok::<_, std::io::Error>(())
                    })
                })
                .join();
            }
        }
    }
}

/// Whether PostgreSQL tests can run; a test that gets `false` returns at once and is
/// counted as skipped ([`skipped`]). With `HEARTH_REQUIRE_POSTGRES=1` (as in CI) an
/// unreachable PostgreSQL is a failure instead.
pub async fn postgres_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    let available = match AVAILABLE.get() {
        Some(available) => *available,
        None => {
            use sqlx::Connection;
            let reached = sqlx::PgConnection::connect(&admin_url()).await.is_ok();
            *AVAILABLE.get_or_init(|| reached)
        }
    };
    if !available {
        if std::env::var("HEARTH_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
            panic!(
                "PostgreSQL at {} is required (HEARTH_REQUIRE_POSTGRES=1) but unreachable",
                admin_url()
            );
        }
        skipped(format!(
            "PostgreSQL at {} is unreachable (start it, point HEARTH_TEST_POSTGRES at one, \
             or set HEARTH_REQUIRE_POSTGRES=1 to make this a failure)",
            admin_url()
        ));
    }
    available
}

/// Counts a test that returns without doing its work, for `reason`. libtest reports such
/// a test as passed and swallows what it prints, so the count is said at process exit
/// instead: after libtest's own summary, written straight to stderr, which libtest
/// does not capture (only `print!` and `eprint!` inside a test are).
pub fn skipped(reason: String) {
    static SAY_AT_EXIT: std::sync::Once = std::sync::Once::new();
    // SAFETY: `say_skips` is an `extern "C" fn` that never unwinds.
    SAY_AT_EXIT.call_once(|| unsafe {
        libc::atexit(say_skips);
    });
    *SKIPS.lock().unwrap_or_else(|e| e.into_inner()).entry(reason).or_default() += 1;
}

static SKIPS: std::sync::Mutex<std::collections::BTreeMap<String, usize>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

extern "C" fn say_skips() {
    use std::io::Write;
    let skips = SKIPS.lock().unwrap_or_else(|e| e.into_inner());
    let mut stderr = std::io::stderr().lock();
    for (reason, count) in skips.iter() {
        let tests = if *count == 1 { "test was" } else { "tests were" };
        let _ = writeln!(
            stderr,
            "\n*** SKIPPED: {count} {tests} reported ok but did not run: {reason} ***"
        );
    }
}

/// The audit log (target `audit`) of what this test's Hearth does, as the JSON lines
/// it writes in production with `LOG_FORMAT=json`. Captured on this test's thread,
/// which is where `#[tokio::test]` runs the app's tasks too; stops when dropped.
pub struct AuditLog {
    lines: Arc<std::sync::Mutex<Vec<u8>>>,
    _capturing: tracing::subscriber::DefaultGuard,
}

impl AuditLog {
    pub fn capture() -> Self {
        let lines = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_env_filter(tracing_subscriber::EnvFilter::new("audit=info"))
            .with_writer(move || AuditSink(sink.clone()))
            .finish();
        AuditLog { lines, _capturing: tracing::subscriber::set_default(subscriber) }
    }

    /// The fields of the one event logged with `message`; panics if there is not
    /// exactly one.
    pub fn the(&self, message: &str) -> serde_json::Value {
        let events = self.events();
        let mut found = events.iter().filter(|e| e["fields"]["message"] == message);
        match (found.next(), found.next()) {
            (Some(event), None) => event["fields"].clone(),
            _ => panic!("not exactly one {message:?} in the audit log: {events:#?}"),
        }
    }

    pub fn events(&self) -> Vec<serde_json::Value> {
        let bytes = self.lines.lock().unwrap().clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(|line| serde_json::from_str(line).expect("audit lines are JSON"))
            .collect()
    }
}

struct AuditSink(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for AuditSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Backend {
    /// [`Backend::spawn_with_google`], with `adjust` applied to the settings last.
    pub async fn spawn_with_google_and(
        self,
        accounts: serde_json::Value,
        adjust: impl FnOnce(&mut Config),
    ) -> TestApp {
        let listener = bind().await;
        let redirect = format!("http://{}/auth/google/callback", listener.local_addr().unwrap());
        let provider = crate::google_provider::OidcProvider::start(&redirect, &accounts).await;
        let db = Arc::new(TestDb::create(self).await);
        let mut config = Config::for_tests(&db.url);
        config.google_client_id = Some(crate::google_provider::CLIENT_ID.into());
        config.google_client_secret = Some(crate::google_provider::CLIENT_SECRET.into());
        config.oidc_issuer_url = provider.issuer.clone();
        config.avatar_origins = vec!["https://lh3.googleusercontent.com".parse().unwrap()];
        adjust(&mut config);
        TestApp::start(listener, config, db, vec![Box::new(provider)]).await
    }
}

impl TestApp {
    /// Another Hearth on this one's database, signing in with a second local OpenID
    /// provider (another issuer) that knows `accounts`: as after `OIDC_ISSUER_URL`
    /// changes.
    pub async fn another_instance_with_google(&self, accounts: &serde_json::Value) -> TestApp {
        let listener = bind().await;
        let redirect = format!("http://{}/auth/google/callback", listener.local_addr().unwrap());
        let provider = crate::google_provider::OidcProvider::start(&redirect, accounts).await;
        let mut config = self.config.clone();
        config.oidc_issuer_url = provider.issuer.clone();
        TestApp::start(listener, config, self.db.clone(), vec![Box::new(provider)]).await
    }
}
