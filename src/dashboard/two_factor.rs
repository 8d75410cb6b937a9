//! Turning two-factor codes on and off from the dashboard. Setting up shows a QR
//! code drawn here and the secret as text (and as its `otpauth://` URI, for
//! password managers); the secret stays in the session until a code from the app
//! proves it was copied, and only then replaces the account's. Recovery codes are
//! shown once, in the answer that made them.

use maud::{Markup, PreEscaped, html};
use poem::http::StatusCode;
use poem::web::{Data, Redirect};
use poem::{IntoResponse, Response, handler};
use serde::Deserialize;
use tower_sessions::Session;

use crate::AppState;
use crate::accounts::User;
use crate::accounts::reauth::Confirmed;
use crate::accounts::two_factor::{self, Secret};
use crate::db;
use crate::error::{AppError, Result};
use crate::web::Form;
use crate::web::flash::{self, Flash};
use crate::web::layout::{Field, page};

/// The setup page; every page under it is open to someone who must set codes up.
pub const TWO_FACTOR: &str = "/dashboard/two-factor";
/// The secret being set up, until a code confirms it.
const SETTING_UP: &str = "two_factor.setting_up";

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Confirm {
    code: String,
}

#[handler]
pub async fn setup(
    state: Data<&AppState>,
    Data(session): Data<&Session>,
    Confirmed(user): Confirmed,
) -> Result<Response> {
    let secret = Secret::generate();
    session.insert(SETTING_UP, &secret).await?;
    let required = state.config.require_two_factor.applies_to(&user)
        && !two_factor::is_on(&state.db, user.id).await?;
    Ok(setup_page(&user, &secret, None, required).into_response())
}

#[handler]
pub async fn confirm(
    state: Data<&AppState>,
    Data(session): Data<&Session>,
    Confirmed(user): Confirmed,
    Form(input): Form<Confirm>,
) -> Result<Response> {
    let Some(secret) = session.get::<Secret>(SETTING_UP).await? else {
        return Ok(Redirect::see_other(TWO_FACTOR).into_response());
    };
    let code: String = input.code.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(step) = secret.step_of(&code, db::now().max(0) as u64) else {
        let problem = "That code does not match. Check that the app's clock is right, and \
                       enter the code it shows now.";
        let page = setup_page(&user, &secret, Some(problem), false);
        return Ok(page.with_status(StatusCode::UNPROCESSABLE_ENTITY).into_response());
    };
    let codes = two_factor::turn_on(&state.db, user.id, &secret, step).await?;
    session.remove::<Secret>(SETTING_UP).await?;
    tracing::info!(target: "audit", user_id = user.id, "two-factor codes turned on");
    Ok(codes_page(&user, &codes, "Two-factor codes are on").into_response())
}

#[handler]
pub async fn new_codes(state: Data<&AppState>, Confirmed(user): Confirmed) -> Result<Response> {
    let Some(codes) = two_factor::new_recovery_codes(&state.db, user.id).await? else {
        return Ok(Redirect::see_other(TWO_FACTOR).into_response());
    };
    tracing::info!(target: "audit", user_id = user.id, "new recovery codes made");
    Ok(codes_page(&user, &codes, "New recovery codes").into_response())
}

#[handler]
pub async fn turn_off(
    state: Data<&AppState>,
    Data(session): Data<&Session>,
    Confirmed(user): Confirmed,
) -> Result<Redirect> {
    if state.config.require_two_factor.applies_to(&user) {
        return Err(AppError::Forbidden(
            "This Hearth requires two-factor codes for your account, so they stay on.",
        ));
    }
    two_factor::turn_off(&state.db, user.id).await?;
    tracing::info!(target: "audit", user_id = user.id, "two-factor codes turned off");
    flash::set(session, Flash::Dashboard, "Two-factor codes are off.".to_owned()).await?;
    Ok(Redirect::see_other("/dashboard"))
}

fn setup_page(user: &User, secret: &Secret, problem: Option<&str>, required: bool) -> Markup {
    page(
        "Set up two-factor codes",
        Some(user),
        html! {
            section.card.narrow.two-factor-setup {
                h1 { "Set up two-factor codes" }
                @if required {
                    p.notice role="status" {
                        "This Hearth asks you to turn on two-factor codes before going on. "
                        "Or " a href=(super::passkeys::NEW) { "add a passkey" }
                        " and sign in with it: a passkey is two factors on its own."
                    }
                }
                p {
                    "Scan this with an authenticator app (such as Google Authenticator, "
                    "Authy, 1Password or Bitwarden). After your password, Hearth will ask "
                    "for the six-digit code it shows."
                }
                @if let Some(svg) = secret.qr_svg(&user.email) {
                    figure.qr role="img" aria-label="QR code of the secret below" {
                        (PreEscaped(svg))
                    }
                }
                p { "Or enter the secret by hand: " code.secret { (secret.as_str()) } }
                details {
                    summary { "The setup address, for password managers" }
                    p { code.secret { (secret.uri(&user.email)) } }
                }
                @if let Some(problem) = problem {
                    p.alert role="alert" { (problem) }
                }
                form method="post" action=(TWO_FACTOR) hx-boost="true" hx-disabled-elt="find button" {
                    (Field { label: "Code from the app", name: "code", kind: "text", value: "",
                        error: None, autocomplete: "one-time-code", hint: None }.render())
                    button.primary type="submit" { "Turn on" }
                }
                p.aside { a href="/dashboard" { "Back to the dashboard" } }
            }
        },
    )
}

fn codes_page(user: &User, codes: &[String], title: &str) -> Markup {
    page(
        title,
        Some(user),
        html! {
            section.card.narrow {
                h1 { (title) }
                p {
                    "Keep these recovery codes somewhere safe: each signs you in once "
                    "without the app (a lost phone). They are shown only now."
                }
                ul.recovery-codes { @for code in codes { li { code { (code) } } } }
                a.button.primary href="/dashboard" { "Done" }
            }
        },
    )
}
