//! The harness: a real Hearth on 127.0.0.1:0 with a fresh database, and browsers
//! (cookie-jar HTTP clients that do not follow redirects) to drive it.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use hearth::{App, AppState, Config};
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

    pub async fn spawn_with(self, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let db = TestDb::create(self).await;
        let mut config = Config::for_tests(&db.url);
        adjust(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let app = App::build(config, listener).await.expect("app builds");
        let base = format!("http://{}", app.local_addr());
        let state = app.state().clone();
        tokio::spawn(app.run_until(std::future::pending()));
        TestApp {
            base,
            state,
            _db: db,
        }
    }
}

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    _db: TestDb,
}

impl TestApp {
    /// A new browser with an empty cookie jar.
    pub fn browser(&self) -> Browser {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(redirect::Policy::none())
            .user_agent("Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0 Safari/537.36")
            .build()
            .expect("client");
        Browser {
            client,
            jar,
            base: self.base.clone(),
        }
    }

    /// A browser that has just signed up as `name` <`email`> with `password`.
    pub async fn signed_up(&self, name: &str, email: &str, password: &str) -> Browser {
        let browser = self.browser();
        let resp = browser
            .post_form(
                "/signup",
                &[("name", name), ("email", email), ("password", password)],
            )
            .await;
        assert_eq!(
            resp.status,
            StatusCode::SEE_OTHER,
            "sign-up failed: {}",
            resp.body
        );
        browser
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
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
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
        self.jar
            .add_cookie_str(&format!("id={value}; Path=/"), &url);
    }
}

pub async fn read(resp: reqwest::Result<reqwest::Response>) -> Page {
    let resp = resp.expect("request reaches Hearth");
    let (status, headers) = (resp.status(), resp.headers().clone());
    let body = resp.text().await.expect("body");
    Page {
        status,
        headers,
        body,
    }
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
                TestDb {
                    url,
                    cleanup: Cleanup::Folder(folder),
                }
            }
            Backend::Postgres => {
                use sqlx::Connection;
                let name = unique_name();
                let mut admin = sqlx::PgConnection::connect(&admin_url())
                    .await
                    .expect("postgres");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .expect("create database");
                let url = admin_url()
                    .rsplit_once('/')
                    .map(|(server, _)| format!("{server}/{name}"))
                    .expect("url");
                TestDb {
                    url,
                    cleanup: Cleanup::Database(name),
                }
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
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
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

/// Whether PostgreSQL tests can run. When it cannot be reached they are skipped with a
/// loud message, unless `HEARTH_REQUIRE_POSTGRES=1` (as in CI), which makes it a failure.
pub async fn postgres_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    if let Some(available) = AVAILABLE.get() {
        return *available;
    }
    use sqlx::Connection;
    let available = sqlx::PgConnection::connect(&admin_url()).await.is_ok();
    if !available {
        if std::env::var("HEARTH_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
            panic!(
                "PostgreSQL at {} is required (HEARTH_REQUIRE_POSTGRES=1) but unreachable",
                admin_url()
            );
        }
        eprintln!(
            "\n*** PostgreSQL at {} is unreachable: the PostgreSQL half of the tests was SKIPPED ***\n",
            admin_url()
        );
    }
    *AVAILABLE.get_or_init(|| available)
}
