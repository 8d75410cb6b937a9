//! Signed-in sessions: starting one, recognising it on each request, listing and
//! ending them.
//!
//! The tower-sessions record holds [`SignIn`]; the `user_sessions` table holds one row
//! per signed-in session so a person can see and end them all. A session is signed in
//! only while both exist, so deleting the row is enough to end it everywhere.
//!
//! Ending a session is announced ([`Event::SessionsEnded`]) so that whatever acts
//! for it (the chat's open sockets) stops. It reaches every process three ways, each
//! for a reason: announced here at once; `NOTIFY` on PostgreSQL, so other instances
//! hear at once too; and a row in `ended_sessions` that every process reads once a
//! second ([`announce_ended_elsewhere`]), the only path from a second process on
//! SQLite (`hearth user deactivate`) and the backstop for a `NOTIFY` missed while an
//! instance's LISTEN connection was down.

use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use tower_sessions::session::Id;
use tower_sessions::session_store::SessionStore;

use super::users::User;
use crate::db::{self, Db};
use crate::error::Result;
use crate::events::Event;
use crate::{AppState, on_db};

/// The PostgreSQL `NOTIFY` channel on which an ended session's id is announced to
/// the other instances (see `chat::bus`, which listens).
pub const ENDED_CHANNEL: &str = "hearth_sessions";

/// The session key under which the sign-in lives.
pub const SIGN_IN: &str = "sign_in";

/// How recent a sign-in with Google must be to stand in for the current password
/// (for setting one on an account that has none).
pub const RECENT_SIGN_IN: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// The session key of when this session last signed in with Google.
const GOOGLE_SIGNED_IN_AT: &str = "google_signed_in_at";

/// How often "last active" is written at most, in seconds: once a minute, so reading
/// pages does not turn every request into a database write (inactivity expiry is
/// therefore exact to a minute). A minute of the session "day", which tests shorten.
fn touch_every(state: &AppState) -> i64 {
    (state.config.session_day.as_secs() / (24 * 60)) as i64
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct SignIn {
    pub user_id: i64,
    pub signed_in_at: i64,
    pub seen_at: i64,
    /// The account's credential generation when the password (or identity) was
    /// checked; a session from an older one is refused. Absent in sessions made
    /// before generations existed, which were made under the first, 0.
    #[serde(default)]
    pub generation: i64,
}

/// One of a person's sessions, as the dashboard lists them.
#[derive(Debug, sqlx::FromRow)]
pub struct ActiveSession {
    pub session_id: String,
    pub user_agent: String,
    pub signed_in_at: i64,
    pub last_seen_at: i64,
}

/// Signs `user` in on this session. The id is cycled first, so an id that existed
/// before sign-in (perhaps planted by someone else) is never the signed-in one.
pub async fn begin(
    state: &AppState,
    session: &Session,
    user: &User,
    user_agent: &str,
) -> Result<()> {
    if let Some(old) = session.id() {
        delete_rows(&state.db, &[old.to_string()]).await?;
    }
    // Nothing from before the sign-in (notices, a pending flow) carries over.
    session.clear().await;
    session.cycle_id().await?;
    let now = db::now();
    // `user` was read before its credentials were checked: if they changed since,
    // this session is of the old generation and is refused on first use.
    let generation = user.credential_generation;
    let sign_in = SignIn { user_id: user.id, signed_in_at: now, seen_at: now, generation };
    session.insert(SIGN_IN, sign_in).await?;
    // Saving now gives the new id, which the session list needs.
    session.save().await?;
    let Some(id) = session.id() else {
        return Err(anyhow::anyhow!("session has no id after save").into());
    };
    on_db!(&state.db, pool => sqlx::query(
        "INSERT INTO user_sessions (session_id, user_id, user_agent, signed_in_at, last_seen_at)
         VALUES ($1, $2, $3, $4, $4)",
    )
    .bind(id.to_string())
    .bind(user.id)
    .bind(user_agent)
    .bind(now)
    .execute(pool)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

/// Notes that this session has just signed in with Google (after [`begin`]).
pub async fn note_google_sign_in(session: &Session) -> Result<()> {
    session.insert(GOOGLE_SIGNED_IN_AT, db::now()).await?;
    Ok(())
}

/// The session key of when this session signed in with a passkey.
const PASSKEY_SIGNED_IN_AT: &str = "passkey_signed_in_at";

/// Notes that this session has just signed in with a passkey (after [`begin`]).
pub async fn note_passkey_sign_in(session: &Session) -> Result<()> {
    session.insert(PASSKEY_SIGNED_IN_AT, db::now()).await?;
    Ok(())
}

/// Whether this session signed in with a passkey, which is two factors itself.
pub async fn signed_in_with_passkey(session: &Session) -> Result<bool> {
    Ok(session.get::<i64>(PASSKEY_SIGNED_IN_AT).await?.is_some())
}

/// When this session last signed in with Google.
pub async fn google_sign_in_at(session: &Session) -> Result<Option<i64>> {
    Ok(session.get::<i64>(GOOGLE_SIGNED_IN_AT).await?)
}

/// Whether this session signed in with Google (at any time).
pub async fn signed_in_with_google(session: &Session) -> Result<bool> {
    Ok(session.get::<i64>(GOOGLE_SIGNED_IN_AT).await?.is_some())
}

/// Whether this session signed in with Google within [`RECENT_SIGN_IN`].
pub async fn signed_in_with_google_recently(session: &Session) -> Result<bool> {
    let at: Option<i64> = session.get(GOOGLE_SIGNED_IN_AT).await?;
    Ok(at.is_some_and(|at| db::now() - at <= RECENT_SIGN_IN.as_secs() as i64))
}

/// The person signed in on this session, if any. Ends sessions past their limits or
/// whose row was deleted (signed out elsewhere), and keeps "last active" fresh.
pub async fn current(state: &AppState, session: &Session) -> Result<Option<User>> {
    let (Some(sign_in), Some(id)) = (session.get::<SignIn>(SIGN_IN).await?, session.id()) else {
        return Ok(None);
    };
    let now = db::now();
    if now - sign_in.signed_in_at >= state.config.session_max().as_secs() as i64 {
        end(state, session).await?;
        return Ok(None);
    }
    // Idle to the whole second, as [`time_left`] counts for the chat socket; the store
    // would keep the record up to a second longer (it counts from the exact save).
    if now >= ends_at(state, &sign_in) {
        session.flush().await?;
        return Ok(None);
    }
    let key = id.to_string();
    let Some(user) = signed_in_user(state, &key, &sign_in).await? else {
        session.flush().await?;
        return Ok(None);
    };
    if now - sign_in.seen_at >= touch_every(state) {
        session.insert(SIGN_IN, SignIn { seen_at: now, ..sign_in }).await?;
        on_db!(&state.db, pool => sqlx::query(
            "UPDATE user_sessions SET last_seen_at = $1 WHERE session_id = $2",
        )
        .bind(now)
        .bind(&key)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
    }
    Ok(Some(user))
}

/// The account of `sign_in`, while the session's row exists and the account is
/// active and of the same credential generation.
async fn signed_in_user(state: &AppState, key: &str, sign_in: &SignIn) -> Result<Option<User>> {
    let sql = format!(
        "SELECT {} FROM user_sessions s JOIN users u ON u.id = s.user_id
         WHERE s.session_id = $1 AND u.id = $2 AND u.deactivated_at IS NULL
           AND u.credential_generation = $3",
        super::users::COLUMNS
    );
    let user = on_db!(&state.db, pool => sqlx::query_as(&sql)
    .bind(key)
    .bind(sign_in.user_id)
    .bind(sign_in.generation)
    .fetch_optional(pool)
    .await)?;
    Ok(user)
}

/// Moves this session to the account's new credential `generation`: it is the one
/// that made the change, so it stays signed in while the others end.
pub async fn adopt_generation(session: &Session, generation: i64) -> Result<()> {
    if let Some(sign_in) = session.get::<SignIn>(SIGN_IN).await? {
        session.insert(SIGN_IN, SignIn { generation, ..sign_in }).await?;
    }
    Ok(())
}

/// For a long-lived connection (the chat socket): re-reads the session, so an
/// ending elsewhere is noticed, and refreshes "last active". `None` once it has ended.
pub async fn keep_alive(state: &AppState, session: &Session) -> Result<Option<User>> {
    session.load().await?;
    let user = current(state, session).await?;
    if user.is_some() && session.is_modified() {
        session.save().await?;
    }
    Ok(user)
}

/// How long until this session expires unless it is used again.
pub async fn deadline(state: &AppState, session: &Session) -> Result<std::time::Duration> {
    let Some(sign_in) = session.get::<SignIn>(SIGN_IN).await? else {
        return Ok(std::time::Duration::ZERO);
    };
    let left = ends_at(state, &sign_in) - db::now();
    Ok(std::time::Duration::from_secs(left.max(0) as u64))
}

/// For a long-lived connection (the chat socket), at its checks: how long this session
/// has left, or `None` once it has ended. Only reads: an open socket is not activity,
/// so it never moves "last active" on (pages and sending a message do, another tab's
/// too, which is why the socket reads it again).
pub async fn time_left(state: &AppState, session: &Session) -> Result<Option<std::time::Duration>> {
    let (Some(sign_in), Some(id)) = (session.get::<SignIn>(SIGN_IN).await?, session.id()) else {
        return Ok(None);
    };
    let left = ends_at(state, &sign_in) - db::now();
    if left <= 0 || signed_in_user(state, &id.to_string(), &sign_in).await?.is_none() {
        return Ok(None);
    }
    Ok(Some(std::time::Duration::from_secs(left as u64)))
}

/// When, in Unix seconds, the session ends unless it is used again: at its idle or
/// its absolute limit, whichever comes first.
fn ends_at(state: &AppState, sign_in: &SignIn) -> i64 {
    let idle_end = sign_in.seen_at + state.config.session_idle().as_secs() as i64;
    let hard_end = sign_in.signed_in_at + state.config.session_max().as_secs() as i64;
    idle_end.min(hard_end)
}

/// Signs this session out: its row and its stored record are deleted.
pub async fn end(state: &AppState, session: &Session) -> Result<()> {
    if let Some(id) = session.id() {
        let ids = [id.to_string()];
        let user = session.get::<SignIn>(SIGN_IN).await?.map(|s| s.user_id);
        tracing::info!(target: "audit", user_id = user, "signed out");
        delete_rows(&state.db, &ids).await?;
        state.events.announce(Event::SessionsEnded(&ids));
    }
    session.flush().await?;
    Ok(())
}

/// The person's sessions that have not expired, most recently active first.
pub async fn list(state: &AppState, user_id: i64) -> Result<Vec<ActiveSession>> {
    let idle_cutoff = db::now() - state.config.session_idle().as_secs() as i64;
    let max_cutoff = db::now() - state.config.session_max().as_secs() as i64;
    let sessions = on_db!(&state.db, pool => sqlx::query_as(
        "SELECT session_id, user_agent, signed_in_at, last_seen_at FROM user_sessions
         WHERE user_id = $1 AND last_seen_at > $2 AND signed_in_at > $3
         ORDER BY last_seen_at DESC, signed_in_at DESC",
    )
    .bind(user_id)
    .bind(idle_cutoff)
    .bind(max_cutoff)
    .fetch_all(pool)
    .await)?;
    Ok(sessions)
}

/// Ends every session of `user_id` except `keep`; returns how many were ended.
pub async fn end_others(state: &AppState, user_id: i64, keep: Option<Id>) -> Result<usize> {
    let keep = keep.map(|id| id.to_string()).unwrap_or_default();
    let ids: Vec<String> = on_db!(&state.db, pool => sqlx::query_scalar(
        "SELECT session_id FROM user_sessions WHERE user_id = $1 AND session_id <> $2",
    )
    .bind(user_id)
    .bind(&keep)
    .fetch_all(pool)
    .await)?;
    delete_rows(&state.db, &ids).await?;
    state.events.announce(Event::SessionsEnded(&ids));
    for id in &ids {
        // The row is gone, so the session is already signed out; removing the record
        // too leaves nothing behind. An id the store cannot parse has no record.
        if let Ok(id) = id.parse::<Id>() {
            state.sessions.delete(&id).await.map_err(anyhow::Error::from)?;
        }
    }
    Ok(ids.len())
}

/// Deletes the rows (which ends the sessions) and records the ending, so other
/// Hearth processes hear of it too (see the module's documentation).
async fn delete_rows(db: &Db, ids: &[String]) -> Result<()> {
    let now = db::now();
    let notify = db.is_postgres();
    for id in ids {
        on_db!(db, pool => async {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM user_sessions WHERE session_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO ended_sessions (session_id, ended_at) VALUES ($1, $2)")
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            if notify {
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(ENDED_CHANNEL)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        }.await)?;
    }
    Ok(())
}

/// Announces, once a second, the sessions that ended in the last few seconds in
/// any process, until the process ends.
pub async fn announce_ended_elsewhere(state: AppState) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        tick.tick().await;
        match recently_ended(&state.db).await {
            Ok(ended) if !ended.is_empty() => state.events.announce(Event::SessionsEnded(&ended)),
            Ok(_) => {}
            Err(err) => tracing::warn!("could not read ended sessions: {err}"),
        }
    }
}

/// Sessions that ended in the last few seconds, anywhere. A window rather than
/// "after the last id" because concurrent writers can commit ids out of order, and
/// hearing of an ending twice is harmless.
async fn recently_ended(db: &Db) -> Result<Vec<String>> {
    let ids = on_db!(db, pool => sqlx::query_scalar(
        "SELECT session_id FROM ended_sessions WHERE ended_at >= $1",
    )
    .bind(db::now() - 5)
    .fetch_all(pool)
    .await)?;
    Ok(ids)
}

/// Deletes the rows of sessions that can no longer be used; run periodically.
pub async fn delete_expired(state: &AppState) -> Result<()> {
    let idle_cutoff = db::now() - state.config.session_idle().as_secs() as i64;
    let max_cutoff = db::now() - state.config.session_max().as_secs() as i64;
    on_db!(&state.db, pool => sqlx::query(
        "DELETE FROM user_sessions WHERE last_seen_at <= $1 OR signed_in_at <= $2",
    )
    .bind(idle_cutoff)
    .bind(max_cutoff)
    .execute(pool)
    .await
    .map(|done| done.rows_affected()))?;
    on_db!(&state.db, pool => sqlx::query("DELETE FROM ended_sessions WHERE ended_at < $1")
        .bind(db::now() - 3600)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
    state.sessions.delete_expired().await.map_err(anyhow::Error::from)?;
    Ok(())
}
