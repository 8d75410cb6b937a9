//! Email addresses shown to be their owners': a link sent to the address, opened.
//!
//! After a password sign-up (when Hearth sends email) a link goes to the new
//! account's address; until it is opened, the dashboard says so. A Google sign-in
//! with the same, Google-verified address then adds itself beside the password
//! instead of turning it off (see `google::identities`). Changing one's address
//! sends a link to the new one, and the change is made when it is opened; the old
//! address is told. Links work once, for a day; only a hash is kept.

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{IntoResponse, Response, handler};

use super::fields::Email;
use super::{User, users};
use crate::AppState;
use crate::db::{self, Db};
use crate::error::Result;
use crate::mail::Mail;
use crate::on_db;
use crate::web::layout::page;

/// How long a link works.
const VALID_FOR: i64 = 24 * 60 * 60;

/// Sends `user` a link that confirms `email`: their own address, or the one they
/// are changing to; an earlier link stops working. At most one a minute goes out
/// per account (`address_link_every`; false: not sent, one went too lately), so nobody can
/// fill a stranger's mailbox by asking again and again.
pub async fn send_link(state: &AppState, user: &User, email: &Email) -> Result<bool> {
    if !state.mailer.enabled() {
        return Ok(false);
    }
    let lately: Option<i64> = on_db!(&state.db, pool => sqlx::query_scalar(
        "SELECT created_at FROM email_links WHERE user_id = $1 AND created_at > $2 LIMIT 1",
    )
    .bind(user.id)
    .bind(db::now() - state.config.address_link_every.as_secs() as i64)
    .fetch_optional(pool)
    .await)?;
    if lately.is_some() {
        return Ok(false);
    }
    let token = super::new_secret();
    let now = db::now();
    on_db!(&state.db, pool => async {
        let mut tx = pool.begin().await?;
        sqlx::query("DELETE FROM email_links WHERE user_id = $1 AND used_at IS NULL")
            .bind(user.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO email_links (token_hash, user_id, email, generation, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(super::kept_of(&token))
        .bind(user.id)
        .bind(email.as_str())
        .bind(user.credential_generation)
        .bind(now)
        .bind(now + VALID_FOR)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }.await)?;
    let link =
        state.base_url.join(&format!("/email/confirm/{token}")).map_err(anyhow::Error::from)?;
    let changing = email.as_str() != user.email;
    let paragraphs = if changing {
        vec![
            format!("Hello {},", user.name),
            format!(
                "You asked to sign in to Hearth as {} from now on, instead of {}. Open the \
                 link below (within a day) to make the change.",
                email.as_str(),
                user.email
            ),
            "If it was not you, ignore this email: nothing changes.".into(),
        ]
    } else {
        vec![
            format!("Hello {},", user.name),
            "Open the link below (within a day) to confirm that this address is yours.".into(),
            "If you did not make an account on Hearth, ignore this email.".into(),
        ]
    };
    let subject = if changing {
        "Confirm your new address for Hearth"
    } else {
        "Confirm your address for Hearth"
    };
    crate::mail::send(
        state,
        Mail {
            to: email.as_str().to_owned(),
            subject: subject.into(),
            paragraphs,
            action: Some(("Confirm this address".into(), link.to_string())),
            unsubscribe: None,
            valid_for: Some(std::time::Duration::from_secs(VALID_FOR as u64)),
        },
    )
    .await?;
    Ok(true)
}

/// Notes that `user_id`'s current address is theirs (Google vouched for it).
pub async fn vouched_for(db: &Db, user_id: i64) -> Result<()> {
    on_db!(db, pool => sqlx::query(
        "UPDATE users SET email_confirmed_at = COALESCE(email_confirmed_at, $2) WHERE id = $1",
    )
    .bind(user_id)
    .bind(db::now())
    .execute(pool)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

/// The account and address a link is for, while it works: unused, in time, and
/// made in the account's current credential generation (a new password, or a
/// Google sign-in taking over an unconfirmed account, ends the links before it).
async fn pending(db: &Db, token: &str) -> Result<Option<(User, String)>> {
    let found: Option<(i64, String)> = on_db!(db, pool => sqlx::query_as(
        "SELECT l.user_id, l.email FROM email_links l JOIN users u ON u.id = l.user_id
         WHERE l.token_hash = $1 AND l.used_at IS NULL AND l.expires_at >= $2
           AND l.generation = u.credential_generation",
    )
    .bind(super::kept_of(token))
    .bind(db::now())
    .fetch_optional(pool)
    .await)?;
    let Some((user_id, email)) = found else { return Ok(None) };
    let user = users::find_by_id(db, user_id).await?.filter(|u| u.deactivated_at.is_none());
    Ok(user.map(|user| (user, email)))
}

/// What opening a link came to.
enum Confirmed {
    Done,
    /// Another account has taken the address meanwhile.
    Taken,
    /// Used, or out of time, meanwhile.
    Gone,
}

/// Uses the link up and sets the account's address to the one it confirms, in one
/// transaction.
async fn confirm(db: &Db, token: &str, user_id: i64, email: &str) -> Result<Confirmed> {
    let now = db::now();
    let done = on_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        let used = sqlx::query(
            "UPDATE email_links SET used_at = $2
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at >= $2
               AND generation = (SELECT credential_generation FROM users WHERE id = email_links.user_id)",
        )
        .bind(super::kept_of(token))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() == 0 {
            return Ok(Confirmed::Gone);
        }
        let set = sqlx::query("UPDATE users SET email = $2, email_confirmed_at = $3 WHERE id = $1")
            .bind(user_id)
            .bind(email)
            .bind(now)
            .execute(&mut *tx)
            .await;
        match set {
            Err(sqlx::Error::Database(err)) if err.is_unique_violation() => return Ok(Confirmed::Taken),
            Err(err) => return Err(err),
            Ok(_) => {}
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>(Confirmed::Done)
    }.await)?;
    Ok(done)
}

/// `GET /email/confirm/{token}`: what the link confirms, and a button. Opening the
/// link changes nothing (mail scanners open links); the button does.
#[handler]
pub async fn show(state: Data<&AppState>, Path(token): Path<String>) -> Result<Response> {
    let Some((user, email)) = pending(&state.db, &token).await? else { return Ok(gone()) };
    let changing = email != user.email;
    Ok(page(
        "Confirm your address",
        None,
        html! {
            section.card.narrow {
                h1 { "Confirm your address" }
                @if changing {
                    p { "Sign in to Hearth as " strong { (email) } " from now on, instead of " (user.email) "?" }
                } @else {
                    p { "Confirm that " strong { (email) } " is the address of " (user.name) "'s account." }
                }
                form method="post" action=(format!("/email/confirm/{token}")) hx-boost="true" hx-disabled-elt="find button" {
                    button.primary type="submit" { "Confirm " (email) }
                }
            }
        },
    )
    .into_response())
}

/// `POST /email/confirm/{token}`: confirms the address (changing to it, if it is a
/// new one) and tells the old address of a change.
#[handler]
pub async fn accept(state: Data<&AppState>, Path(token): Path<String>) -> Result<Response> {
    let Some((user, email)) = pending(&state.db, &token).await? else { return Ok(gone()) };
    let said = match confirm(&state.db, &token, user.id, &email).await? {
        Confirmed::Gone => return Ok(gone()),
        Confirmed::Taken => {
            return Ok(done(
                "That address is taken",
                "Another account signs in with this address now, so yours stays as it was.",
            )
            .with_status(StatusCode::CONFLICT)
            .into_response());
        }
        Confirmed::Done if email != user.email => {
            tracing::info!(target: "audit", user_id = user.id, "email address changed");
            crate::mail::send(&state, Mail {
                to: user.email.clone(),
                subject: "Your Hearth address was changed".into(),
                paragraphs: vec![
                    format!("Hello {},", user.name),
                    format!("Your Hearth account signs in as {email} from now on, no longer as {}.", user.email),
                    "If you did not ask for this, tell an administrator of your Hearth at once.".into(),
                ],
                action: None,
                unsubscribe: None,
                valid_for: None,
            })
            .await?;
            format!("Your account signs in as {email} from now on.")
        }
        Confirmed::Done => format!("{email} is confirmed as your address."),
    };
    Ok(done("Address confirmed", &said).into_response())
}

fn done(title: &str, said: &str) -> Markup {
    page(
        title,
        None,
        html! {
            section.card.narrow {
                h1 { (title) }
                p role="status" { (said) }
                p.aside { a href="/dashboard" { "Go to your dashboard" } }
            }
        },
    )
}

fn gone() -> Response {
    page(
        "Link no longer works",
        None,
        html! {
            section.card.narrow {
                h1 { "This link no longer works" }
                p { "It was used, or more than a day has passed. Ask for a new one on your dashboard." }
                p.aside { a href="/dashboard" { "Go to your dashboard" } }
            }
        },
    )
    .with_status(StatusCode::NOT_FOUND)
    .into_response()
}
