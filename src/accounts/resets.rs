//! A forgotten password: one-time links that set a new one, valid 30 minutes (only
//! a hash is kept). With email (`SMTP_URL`), `/password/forgot` sends one to the
//! address asked about, if it is an account's; without, it tells people to ask an
//! administrator, who makes one on `/admin` (shown once). The person opens
//! `/password/reset/{token}`, chooses a password, and is signed in, every other
//! session and token of the account ended.

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{IntoResponse, Response, handler};
use serde::Deserialize;
use tower_sessions::Session;

use super::fields::{Email, NewPassword};
use super::passwords::{self, ChangedBy};
use super::{User, users};
use crate::AppState;
use crate::db::{self, Db};
use crate::error::Result;
use crate::mail::Mail;
use crate::on_db;
use crate::web::layout::{Field, page};
use crate::web::{ClientAddr, Form, UserAgent};

/// How long a link works.
const VALID_FOR: i64 = 30 * 60;

/// Makes a link for `user_id`, replacing any earlier one not yet used; returns its
/// path (`/password/reset/…`), to be shown once.
pub async fn make(db: &Db, user_id: i64) -> Result<String> {
    let token = super::new_secret();
    let now = db::now();
    on_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        sqlx::query("DELETE FROM password_resets WHERE user_id = $1 AND used_at IS NULL")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(digest(&token))
        .bind(user_id)
        .bind(now)
        .bind(now + VALID_FOR)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }.await)?;
    Ok(format!("/password/reset/{token}"))
}

/// The account a link is for, while it works.
async fn holder(db: &Db, token: &str) -> Result<Option<User>> {
    let user_id: Option<i64> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT user_id FROM password_resets
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at >= $2",
    )
    .bind(digest(token))
    .bind(db::now())
    .fetch_optional(pool)
    .await)?;
    let Some(user_id) = user_id else { return Ok(None) };
    Ok(users::find_by_id(db, user_id).await?.filter(|u| u.deactivated_at.is_none()))
}

/// Uses the link up; false when it was used (or ran out) meanwhile.
async fn use_up(db: &Db, token: &str) -> Result<bool> {
    let used = on_db!(db, pool => sqlx::query(
        "UPDATE password_resets SET used_at = $2
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at >= $2",
    )
    .bind(digest(token))
    .bind(db::now())
    .execute(pool)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(used == 1)
}

fn digest(token: &str) -> String {
    super::kept_of(token)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ForgotForm {
    email: String,
}

/// `GET /password/forgot`: the form that sends a link, or without email, whom to ask.
#[handler]
pub async fn forgot(state: Data<&AppState>) -> Markup {
    forgot_page(&state, "", None, false)
}

/// `POST /password/forgot`: the same answer whether or not the address is an
/// account's, so it tells nobody who has one. At most one link a minute goes to an
/// account, and asking is limited per client address as signing in is.
#[handler]
pub async fn send_link(
    state: Data<&AppState>,
    ClientAddr(addr): ClientAddr,
    Form(input): Form<ForgotForm>,
) -> Result<Response> {
    if !state.mailer.enabled() {
        return Ok(forgot_page(&state, "", None, false).into_response());
    }
    state.limits.attempt_from(addr)?;
    let email = match Email::parse(&input.email) {
        Ok(email) => email,
        Err(problem) => {
            let page = forgot_page(&state, &input.email, Some(problem), false);
            return Ok(page.with_status(StatusCode::UNPROCESSABLE_ENTITY).into_response());
        }
    };
    let holder = users::find_by_email(&state, &email).await?;
    if let Some(user) = holder.filter(|u| u.deactivated_at.is_none())
        && !made_lately(&state.db, user.id).await?
    {
        let path = make(&state.db, user.id).await?;
        let link = state.base_url.join(&path).map_err(anyhow::Error::from)?;
        crate::mail::send(
            &state,
            Mail {
                to: user.email.clone(),
                subject: "Set a new password for Hearth".into(),
                paragraphs: vec![
                    format!("Hello {},", user.name),
                    "Someone (we hope you) asked to set a new password for your Hearth account. \
                 The link below works once, for 30 minutes. Setting a password signs out \
                 every other session of the account."
                        .into(),
                    "If it was not you, ignore this email: your password stays as it is.".into(),
                ],
                action: Some(("Set a new password".into(), link.to_string())),
                unsubscribe: None,
                valid_for: Some(std::time::Duration::from_secs(VALID_FOR as u64)),
            },
        )
        .await?;
        tracing::info!(target: "audit", user_id = user.id, "password reset link emailed");
    }
    Ok(forgot_page(&state, &input.email, None, true).into_response())
}

/// Whether a link for `user_id` was made within the last minute.
async fn made_lately(db: &Db, user_id: i64) -> Result<bool> {
    let found: Option<i64> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT created_at FROM password_resets WHERE user_id = $1 AND created_at > $2 LIMIT 1",
    )
    .bind(user_id)
    .bind(db::now() - 60)
    .fetch_optional(pool)
    .await)?;
    Ok(found.is_some())
}

fn forgot_page(state: &AppState, email: &str, problem: Option<&str>, sent: bool) -> Markup {
    page(
        "Forgot your password?",
        None,
        html! {
            section.card.narrow {
                h1 { "Forgot your password?" }
                @if sent {
                    p.notice role="status" {
                        "If an account has that address, a link to set a new password is on its way to it. "
                        "It works once, for 30 minutes. Nothing arrived? Look in your spam folder, or ask again in a minute."
                    }
                } @else if state.mailer.enabled() {
                    p { "Give the address you sign in with, and we will email you a link to set a new password." }
                    form method="post" action="/password/forgot" hx-boost="true" hx-disabled-elt="find button" {
                        (Field { label: "Email", name: "email", kind: "email", value: email,
                            error: problem, autocomplete: "email", hint: None }.render())
                        button.primary type="submit" { "Email me a link" }
                    }
                } @else {
                    p {
                        "This Hearth does not send email. Ask one of its administrators for a "
                        "link to set a new password: they can make one for you on their page, "
                        "and it works once, for 30 minutes."
                    }
                }
                @if state.google.enabled() {
                    p { "If your account signs in with Google, you can also " a href="/auth/google" { "sign in with Google" } "." }
                }
                p.aside { a href="/login" { "Back to sign in" } }
            }
        },
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewPasswordForm {
    password: String,
}

#[handler]
pub async fn reset_form(state: Data<&AppState>, Path(token): Path<String>) -> Result<Response> {
    Ok(match holder(&state.db, &token).await? {
        Some(user) => reset_page(&token, &user, None).into_response(),
        None => gone().into_response(),
    })
}

#[handler]
pub async fn reset(
    state: Data<&AppState>,
    Data(session): Data<&Session>,
    ClientAddr(addr): ClientAddr,
    UserAgent(agent): UserAgent,
    Path(token): Path<String>,
    Form(input): Form<NewPasswordForm>,
) -> Result<Response> {
    // Guessing links is guessing 256 bits; the limit keeps the hashing bounded.
    state.limits.attempt_from(addr)?;
    let Some(user) = holder(&state.db, &token).await? else { return Ok(gone().into_response()) };
    let password = match NewPassword::parse(&input.password) {
        Ok(password) => password,
        Err(problem) => {
            let page = reset_page(&token, &user, Some(problem));
            return Ok(page.with_status(StatusCode::UNPROCESSABLE_ENTITY).into_response());
        }
    };
    if !use_up(&state.db, &token).await? {
        return Ok(gone().into_response());
    }
    passwords::replace(&state, &user, &password, None, ChangedBy::ResetLink).await?;
    // Signed in with the new password: where codes are on, the code is still asked.
    let user = users::find_by_id(&state.db, user.id).await?.unwrap_or(user);
    super::signin::password_proven(&state, session, &user, addr, &agent, "/dashboard").await
}

fn reset_page(token: &str, user: &User, problem: Option<&'static str>) -> Markup {
    page(
        "Choose a new password",
        None,
        html! {
            section.card.narrow {
                h1 { "Choose a new password" }
                p { "For " strong { (user.email) } ". Every other session of the account will be signed out, and its API tokens revoked." }
                form method="post" action=(format!("/password/reset/{token}")) hx-boost="true" hx-disabled-elt="find button" {
                    input type="hidden" name="username" autocomplete="username" value=(user.email);
                    (Field { label: "New password", name: "password", kind: "password", value: "",
                        error: problem, autocomplete: "new-password", hint: Some("At least 8 characters.") }.render())
                    button.primary type="submit" { "Set password and sign in" }
                }
            }
        },
    )
}

fn gone() -> impl IntoResponse {
    page(
        "Link no longer works",
        None,
        html! {
            section.card.narrow {
                h1 { "This link no longer works" }
                p { "It was used, or more than 30 minutes have passed. " a href="/password/forgot" { "Ask for a new one" } "." }
                p.aside { a href="/login" { "Sign in" } }
            }
        },
    )
    .with_status(StatusCode::NOT_FOUND)
}
