//! Mentions someone missed, told by email: a mention still unread some minutes
//! after it was made (10 by default) is emailed to the person mentioned, if they
//! have no device with notifications on (those heard of it already), at most
//! once an hour per room, naming what came since the last such email. Only to a
//! confirmed address (a link sent to it was opened), and only to people who have
//! not turned these emails off, which one click does (RFC 8058 `List-Unsubscribe`).
//!
//! Each instance looks every minute; the row in `mention_emails` that a mail is
//! about to cover is claimed in one conditional upsert, so of several instances
//! one sends it.

use maud::html;
use poem::web::{Data, Path};
use poem::{IntoResponse, Response, handler};

use super::rooms;
use crate::db::{self, Db};
use crate::error::Result;
use crate::mail::Mail;
use crate::web::layout::page;
use crate::{AppState, on_db};

/// At most one email per room in this many seconds.
const AT_MOST_EVERY: i64 = 60 * 60;
/// Mentions older than this are not news any more: nobody is told of them.
const NEWS_FOR: i64 = 2 * 24 * 60 * 60;
/// How many of the missed messages an email quotes.
const QUOTED: usize = 3;

/// Looks for missed mentions, until the process stops.
pub async fn keep_telling(state: AppState) {
    if !state.mailer.enabled() {
        return;
    }
    let every = state.config.missed_mention_after.min(std::time::Duration::from_secs(60));
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        if let Err(err) = tell(&state).await {
            tracing::warn!("could not look for missed mentions: {err:#}");
        }
    }
}

/// Someone's unread mentions in one room, old enough to count as missed.
#[derive(Debug, sqlx::FromRow)]
struct Missed {
    user_id: i64,
    room_id: i64,
    newest: i64,
    count: i64,
}

async fn tell(state: &AppState) -> Result<()> {
    let now = db::now();
    let cutoff = now - state.config.missed_mention_after.as_secs() as i64;
    let missed: Vec<Missed> = on_db!(&state.db, pool => sqlx::query_as(
        "SELECT x.user_id, x.room_id, MAX(x.seq) AS newest, COUNT(*) AS count
         FROM mentions x
         JOIN memberships m ON m.room_id = x.room_id AND m.user_id = x.user_id
         JOIN messages g ON g.room_id = x.room_id AND g.seq = x.seq
         JOIN users u ON u.id = x.user_id
         LEFT JOIN mention_emails e ON e.user_id = x.user_id AND e.room_id = x.room_id
         WHERE x.seq > m.last_read_seq AND x.seq > COALESCE(e.last_seq, 0)
           AND g.deleted_at IS NULL AND g.created_at <= $1 AND g.created_at > $2
           AND (e.sent_at IS NULL OR e.sent_at <= $3)
           AND COALESCE(m.notify, 'mentions') <> 'nothing'
           AND NOT EXISTS (SELECT 1 FROM push_subscriptions p
                           JOIN user_sessions us ON us.session_id = p.session_id
                           WHERE p.user_id = x.user_id)
           AND u.deactivated_at IS NULL AND u.email_confirmed_at IS NOT NULL AND u.mention_emails
         GROUP BY x.user_id, x.room_id
         LIMIT 200",
    )
    .bind(cutoff)
    .bind(now - NEWS_FOR)
    .bind(now - AT_MOST_EVERY)
    .fetch_all(pool)
    .await)?;
    for one in missed {
        if claim(&state.db, &one, now).await?
            && let Err(err) = send(state, &one).await
        {
            tracing::warn!(user_id = one.user_id, "could not email missed mentions: {err:#}");
        }
    }
    Ok(())
}

/// Takes the person's room for this email: false when another instance (or an
/// earlier round) has, or an email went within the hour.
async fn claim(db: &Db, missed: &Missed, now: i64) -> Result<bool> {
    let claimed = on_db!(db, pool => sqlx::query(
        "INSERT INTO mention_emails (user_id, room_id, last_seq, sent_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, room_id) DO UPDATE SET last_seq = excluded.last_seq, sent_at = excluded.sent_at
         WHERE mention_emails.sent_at <= $5 AND mention_emails.last_seq < excluded.last_seq",
    )
    .bind(missed.user_id)
    .bind(missed.room_id)
    .bind(missed.newest)
    .bind(now)
    .bind(now - AT_MOST_EVERY)
    .execute(pool)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(claimed == 1)
}

async fn send(state: &AppState, missed: &Missed) -> Result<()> {
    let db = &state.db;
    let Some(user) = crate::accounts::users::find_by_id(db, missed.user_id).await? else {
        return Ok(());
    };
    let Some(room) = rooms::find_mine_by_id(db, user.id, missed.room_id).await? else {
        return Ok(());
    };
    let quoted: Vec<(String, String)> = on_db!(db, pool => sqlx::query_as(
        "SELECT u.name, g.body FROM mentions x
         JOIN messages g ON g.room_id = x.room_id AND g.seq = x.seq
         JOIN users u ON u.id = g.user_id
         WHERE x.user_id = $1 AND x.room_id = $2 AND x.seq <= $3 AND g.deleted_at IS NULL
         ORDER BY x.seq DESC LIMIT $4",
    )
    .bind(user.id)
    .bind(room.id)
    .bind(missed.newest)
    .bind(QUOTED as i64)
    .fetch_all(pool)
    .await)?;
    let key = unsubscribe_key(db, user.id).await?;
    let base = &state.base_url;
    let link = base
        .join(&format!("/chat/{}/messages?around={}#m-{}", room.slug, missed.newest, missed.newest))
        .map_err(anyhow::Error::from)?;
    let stop_url = base.join(&format!("/email/unsubscribe/{key}")).map_err(anyhow::Error::from)?;
    let place = if room.is_direct() {
        format!("your conversation with {}", room.title)
    } else {
        format!("#{}", room.title)
    };
    let mut paragraphs = vec![
        format!("Hello {},", user.name),
        match missed.count {
            1 => format!("You were mentioned in {place} and have not read it yet:"),
            n => format!("You were mentioned {n} times in {place} and have not read them yet:"),
        },
    ];
    for (author, body) in quoted.iter().rev() {
        let body: String = body.chars().take(300).collect();
        paragraphs.push(format!("{author}: {body}"));
    }
    crate::mail::send(
        state,
        Mail {
            to: user.email.clone(),
            subject: format!("You were mentioned in {place}"),
            paragraphs,
            action: Some(("Open it in Hearth".into(), link.to_string())),
            unsubscribe: Some(stop_url.to_string()),
            valid_for: None,
        },
    )
    .await
}

/// The secret of `user_id`'s unsubscribe address, made the first time it is needed.
async fn unsubscribe_key(db: &Db, user_id: i64) -> Result<String> {
    let fresh = crate::accounts::new_secret();
    let key = on_db!(db, pool => sqlx::query_scalar(
        "UPDATE users SET unsubscribe_key = COALESCE(unsubscribe_key, $2) WHERE id = $1
         RETURNING unsubscribe_key",
    )
    .bind(user_id)
    .bind(fresh)
    .fetch_one(pool)
    .await)?;
    Ok(key)
}

/// Turns emails about missed mentions on or off for `user_id`.
pub async fn set_wanted(db: &Db, user_id: i64, wanted: bool) -> Result<()> {
    on_db!(db, pool => sqlx::query("UPDATE users SET mention_emails = $2 WHERE id = $1")
        .bind(user_id)
        .bind(wanted)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(())
}

/// Whether `user_id` wants them.
pub async fn wanted(db: &Db, user_id: i64) -> Result<bool> {
    Ok(on_db!(db, pool => sqlx::query_scalar("SELECT mention_emails FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(pool)
        .await)?)
}

/// `GET /email/unsubscribe/{token}`: a button (a link opened by a mail scanner
/// changes nothing).
#[handler]
pub async fn unsubscribe_page(Path(token): Path<String>) -> Response {
    page(
        "Stop emails about mentions",
        None,
        html! {
            section.card.narrow {
                h1 { "Stop emails about mentions" }
                p { "Hearth emails you when you are mentioned and have not read it for a while. Stop these emails?" }
                form method="post" action=(format!("/email/unsubscribe/{token}")) {
                    button.primary type="submit" { "Stop these emails" }
                }
            }
        },
    )
    .into_response()
}

/// `POST /email/unsubscribe/{token}`: one click, no sign-in (RFC 8058). The same
/// answer for a key that is nobody's.
#[handler]
pub async fn stop(state: Data<&AppState>, Path(token): Path<String>) -> Result<Response> {
    let stopped = on_db!(&state.db, pool => sqlx::query(
        "UPDATE users SET mention_emails = FALSE WHERE unsubscribe_key = $1",
    )
    .bind(&token)
    .execute(pool)
    .await
    .map(|done| done.rows_affected()))?;
    if stopped > 0 {
        tracing::info!(target: "audit", "emails about mentions turned off by their unsubscribe link");
    }
    Ok(page(
        "No more emails about mentions",
        None,
        html! {
            section.card.narrow {
                h1 { "No more emails about mentions" }
                p role="status" { "You will not be emailed about mentions any more. You can turn them on again on your dashboard." }
            }
        },
    )
    .into_response())
}
