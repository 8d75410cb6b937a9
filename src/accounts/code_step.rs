//! The second step of a password sign-in for someone with two-factor codes on:
//! `/login/two-factor` asks for a code from their app, or a recovery code. The
//! right password alone signs in to nothing; this step waits five minutes.

use maud::{Markup, html};
use poem::error::ResponseError;
use poem::http::StatusCode;
use poem::web::{Data, Redirect};
use poem::{IntoResponse, Response, handler};
use serde::Deserialize;
use tower_sessions::Session;

use super::two_factor::{self, Checked};
use super::users;
use crate::AppState;
use crate::error::Result;
use crate::web::errors::set_retry_after;
use crate::web::flash::{self, Flash};
use crate::web::layout::{Field, page};
use crate::web::{ClientAddr, Form, UserAgent};

pub const PATH: &str = "/login/two-factor";

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CodeForm {
    code: String,
}

#[handler]
pub async fn form(Data(session): Data<&Session>) -> Result<Response> {
    if two_factor::pending(session).await?.is_none() {
        return Ok(Redirect::see_other("/login").into_response());
    }
    Ok(view(None).into_response())
}

const WRONG: &str = "That code is not right. Codes change every 30 seconds, and each works \
                     once; a recovery code works once too.";

#[handler]
pub async fn submit(
    state: Data<&AppState>,
    Data(session): Data<&Session>,
    ClientAddr(addr): ClientAddr,
    UserAgent(agent): UserAgent,
    Form(input): Form<CodeForm>,
) -> Result<Response> {
    let Some(pending) = two_factor::pending(session).await? else {
        // Expired (or never begun): from the password again.
        return Ok(Redirect::see_other("/login").into_response());
    };
    // Per account, so that guessing from many addresses counts together.
    let key = format!("two-factor:{}", pending.user_id);
    if let Err(err) = state.limits.attempt_on(&key) {
        let mut resp = view(Some(&err.message())).with_status(err.status()).into_response();
        set_retry_after(&mut resp, &err);
        return Ok(resp);
    }
    // Still the account whose password was right: active, its credentials
    // unchanged. (Checked first, so that no code is used up for nothing.)
    let user = users::find_by_id(&state.db, pending.user_id)
        .await?
        .filter(|u| u.deactivated_at.is_none() && u.credential_generation == pending.generation);
    let Some(user) = user else {
        return Ok(Redirect::see_other("/login").into_response());
    };
    let checked = two_factor::check(&state.db, user.id, &input.code).await?;
    if !matches!(checked, Checked::Code | Checked::RecoveryCode) {
        tracing::info!(target: "audit", user_id = user.id, client = %addr, ?checked, "code refused");
        return Ok(view(Some(WRONG)).with_status(StatusCode::UNAUTHORIZED).into_response());
    }
    state.limits.succeeded_on(&key);
    let proof = super::signin::Proof::PasswordAndCode;
    let done =
        super::signin::complete(&state, session, &user, proof, addr, &agent, &pending.next).await?;
    if checked == Checked::RecoveryCode {
        let left = two_factor::recovery_codes_left(&state.db, user.id).await?;
        tracing::info!(target: "audit", user_id = user.id, left, "signed in with a recovery code");
        let notice = format!(
            "You signed in with a recovery code; {left} are left. You can make new ones below."
        );
        flash::set(session, Flash::Dashboard, notice).await?;
    }
    Ok(done)
}

fn view(problem: Option<&str>) -> Markup {
    page(
        "Two-factor code",
        None,
        html! {
            section.card.narrow {
                h1 { "Enter your code" }
                @if let Some(problem) = problem {
                    p.alert role="alert" { (problem) }
                }
                p { "Open your authenticator app and enter the six-digit code it shows for Hearth, or one of your recovery codes." }
                form method="post" action=(PATH) hx-boost="true" hx-disabled-elt="find button" {
                    (Field { label: "Code", name: "code", kind: "text", value: "",
                        error: None, autocomplete: "one-time-code", hint: None }.render())
                    button.primary type="submit" { "Sign in" }
                }
                p.aside { a href="/login" { "Start again" } }
            }
        },
    )
}
