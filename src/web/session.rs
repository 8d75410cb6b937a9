//! Server-side sessions: tower-sessions' [`Session`] over its sqlx store, in the same
//! database as everything else. The cookie carries only the session id.
//!
//! Why a native poem middleware rather than `SessionManagerLayer` through poem's
//! tower-compat: that path needs two adapters (a lock around poem's service and body
//! re-wrapping) and loses session changes when a handler returns an error. Here the
//! session is saved after the handler whatever it returned, because error pages are
//! rendered further in (see [`crate::app`]).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use poem::http::header;
use poem::{Endpoint, Request, Response};
use tower_sessions::cookie::{Cookie, SameSite};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions::{Expiry, Session};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use super::Next;
use crate::AppState;
use crate::db::Db;
use crate::error::AppError;

/// The session store for whichever database Hearth runs on.
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Store {
    /// Creates the store's table if needed (the store manages its own schema).
    pub async fn open(db: &Db) -> anyhow::Result<Self> {
        let store = match db {
            Db::Sqlite(pool) => Store::Sqlite(SqliteStore::new(pool.clone())),
            Db::Postgres(pool) => Store::Postgres(PostgresStore::new(pool.clone())),
        };
        match &store {
            Store::Sqlite(s) => s.migrate().await?,
            Store::Postgres(s) => s.migrate().await?,
        }
        Ok(store)
    }

    /// Removes every expired session from the store.
    pub async fn delete_expired(&self) -> session_store::Result<()> {
        match self {
            Store::Sqlite(s) => s.delete_expired().await,
            Store::Postgres(s) => s.delete_expired().await,
        }
    }
}

#[async_trait]
impl SessionStore for Store {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Store::Sqlite(s) => s.create(record).await,
            Store::Postgres(s) => s.create(record).await,
        }
    }
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Store::Sqlite(s) => s.save(record).await,
            Store::Postgres(s) => s.save(record).await,
        }
    }
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Store::Sqlite(s) => s.load(id).await,
            Store::Postgres(s) => s.load(id).await,
        }
    }
    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Store::Sqlite(s) => s.delete(id).await,
            Store::Postgres(s) => s.delete(id).await,
        }
    }
}

/// How the session cookie is written.
#[derive(Debug, Clone)]
pub struct CookieSettings {
    /// `__Host-id` over https (the browser then insists on Secure, Path=/ and no
    /// Domain); plain `id` over http, where that prefix is not allowed.
    pub name: &'static str,
    pub secure: bool,
    pub idle: Duration,
}

impl CookieSettings {
    pub fn new(secure: bool, idle: Duration) -> Self {
        let name = if secure { "__Host-id" } else { "id" };
        Self { name, secure, idle }
    }

    fn build(&self, value: String, max_age: Duration) -> Cookie<'static> {
        let max_age = time::Duration::seconds(max_age.as_secs().try_into().unwrap_or(i64::MAX));
        Cookie::build((self.name, value))
            .http_only(true)
            // Lax, not Strict: the redirect back from Google must carry the cookie.
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .path("/")
            .max_age(max_age)
            .build()
    }
}

/// The session `id`, as a request carrying its cookie would have it (read lazily):
/// for connections that outlive their request, such as the chat socket.
pub fn reopen(state: &AppState, id: Id) -> Session {
    new_session(state, Some(id))
}

fn new_session(state: &AppState, id: Option<Id>) -> Session {
    let idle = time::Duration::seconds(state.cookie.idle.as_secs() as i64);
    Session::new(id, state.sessions.clone(), Some(Expiry::OnInactivity(idle)))
}

/// Gives the request a [`Session`], then saves it and sets or clears the cookie.
pub async fn attach(next: Next, mut req: Request) -> poem::Result<Response> {
    let state = AppState::of(&req)?;
    let settings = &state.cookie;
    let incoming = session_id_from(&req, settings.name);
    let session = new_session(&state, incoming);
    if incoming.is_some() {
        // Load now, so an unknown or expired id is noticed and its cookie removed
        // even when the handler never looks at the session.
        session.get_value(crate::accounts::sessions::SIGN_IN).await.map_err(AppError::from)?;
    }
    req.extensions_mut().insert(session.clone());

    let mut resp = next.call(req).await?;

    if session.is_empty().await {
        // Signed out, unknown or expired: make the browser forget the id.
        if incoming.is_some() {
            append_cookie(&mut resp, &settings.build(String::new(), Duration::ZERO));
        }
    } else if session.is_modified() || session.id() != incoming {
        session.save().await.map_err(AppError::from)?;
        if let Some(id) = session.id() {
            append_cookie(&mut resp, &settings.build(id.to_string(), settings.idle));
        }
    }
    Ok(resp)
}

fn session_id_from(req: &Request, name: &str) -> Option<Id> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .and_then(|cookie| cookie.value().parse().ok())
}

fn append_cookie(resp: &mut Response, cookie: &Cookie<'_>) {
    if let Ok(value) = cookie.encoded().to_string().parse() {
        resp.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// Removes and returns a one-time value (a notice, a new token). tower-sessions'
/// `remove` marks the session changed even when the key is absent, which would write
/// the session back on every page view that merely looks for a notice.
pub async fn take<T: serde::de::DeserializeOwned>(
    session: &Session,
    key: &str,
) -> Result<Option<T>, tower_sessions::session::Error> {
    if session.get_value(key).await?.is_none() {
        return Ok(None);
    }
    session.remove(key).await
}

/// Store handle for places that need to delete other sessions by id.
pub type SharedStore = Arc<Store>;
