//! The devices a person turned notifications on for: each a browser's push
//! subscription, kept with the session that made it.

use poem::http::StatusCode;
use poem::web::{Data, Json, Path, Redirect};
use poem::{IntoResponse, Response, handler};
use serde::Deserialize;
use tower_sessions::Session;

use super::crypto::Receiver;
use crate::AppState;
use crate::db::{self, Db};
use crate::error::{AppError, Result};
use crate::on_db;
use crate::web::form::JsonBody;
use crate::web::{CurrentUser, UserAgent};

/// A device, as the dashboard lists it.
#[derive(Debug, sqlx::FromRow)]
pub struct Device {
    pub id: i64,
    /// The browser, as its user agent names itself.
    pub device: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

pub async fn of(db: &Db, user_id: i64) -> Result<Vec<Device>> {
    Ok(on_db!(db, pool => sqlx::query_as(
        "SELECT id, device, created_at, last_used_at FROM push_subscriptions
         WHERE user_id = $1 ORDER BY id",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await)?)
}

/// What a browser's `PushSubscription.toJSON()` holds.
#[derive(Debug, Deserialize)]
pub struct Subscription {
    endpoint: String,
    keys: Keys,
}

#[derive(Debug, Deserialize)]
struct Keys {
    p256dh: String,
    auth: String,
}

/// `POST /push/subscriptions` with the subscription as JSON, from the dashboard's
/// script: this device is notified from now on, while this session lasts.
#[handler]
pub async fn subscribe(
    state: Data<&AppState>,
    Data(session): Data<&Session>,
    CurrentUser(user): CurrentUser,
    UserAgent(agent): UserAgent,
    JsonBody(input): JsonBody<Subscription>,
) -> Result<Response> {
    let endpoint = state
        .push
        .outbound
        .destination(&input.endpoint)
        .await
        .map_err(|refusal| AppError::Unprocessable(refusal.message()))?;
    Receiver::parse(&input.keys.p256dh, &input.keys.auth)
        .map_err(|_| AppError::Unprocessable("The subscription's keys are not usable."))?;
    let session_id = session.id().map(|id| id.to_string()).unwrap_or_default();
    let device: String = agent.chars().take(300).collect();
    // The same browser subscribing again replaces what it had: for the same person,
    // or once the session that made it has ended (someone else signed in there).
    let stored = on_db!(&state.db, pool => sqlx::query(
        "INSERT INTO push_subscriptions (user_id, session_id, endpoint, p256dh, auth, device, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id,
             session_id = excluded.session_id, p256dh = excluded.p256dh, auth = excluded.auth,
             device = excluded.device, created_at = excluded.created_at, last_used_at = NULL
         WHERE push_subscriptions.user_id = excluded.user_id
            OR NOT EXISTS (SELECT 1 FROM user_sessions us
                           WHERE us.session_id = push_subscriptions.session_id)",
    )
    .bind(user.id)
    .bind(&session_id)
    .bind(endpoint.as_str())
    .bind(&input.keys.p256dh)
    .bind(&input.keys.auth)
    .bind(&device)
    .bind(db::now())
    .execute(pool)
    .await
    .map(|done| done.rows_affected()))?;
    if stored == 0 {
        return Err(AppError::Conflict(
            "This browser's notifications belong to someone still signed in here.",
        ));
    }
    tracing::info!(target: "audit", user_id = user.id, "device turned notifications on");
    Ok(Json(serde_json::json!({ "device": device }))
        .with_status(StatusCode::CREATED)
        .into_response())
}

/// `POST /push/subscriptions/{id}/remove`: that device is notified no more.
#[handler]
pub async fn remove(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Redirect> {
    let removed = on_db!(&state.db, pool => sqlx::query(
        "DELETE FROM push_subscriptions WHERE id = $1 AND user_id = $2",
    )
    .bind(id)
    .bind(user.id)
    .execute(pool)
    .await
    .map(|done| done.rows_affected()))?;
    if removed == 0 {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::see_other("/dashboard#devices"))
}

/// Removes the subscriptions made by `session_ids`: a device signed out of is told
/// nothing more.
pub async fn end_with_sessions(db: &Db, session_ids: &[String]) -> Result<()> {
    if session_ids.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "DELETE FROM push_subscriptions WHERE session_id IN ({})",
        db::placeholders(1, session_ids.len())
    );
    on_db!(db, pool => {
        let mut query = sqlx::query(&sql);
        for id in session_ids {
            query = query.bind(id);
        }
        query.execute(pool).await.map(|done| done.rows_affected())
    })?;
    Ok(())
}

/// Forgets a subscription its push service says is gone (404, 410).
pub async fn forget(db: &Db, id: i64) -> Result<()> {
    on_db!(db, pool => sqlx::query("DELETE FROM push_subscriptions WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(())
}
