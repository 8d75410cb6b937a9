//! Changing one's address, and asking again for the link that confirms it. The
//! links and the change itself are `accounts::addresses`'.

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Redirect};
use poem::{IntoResponse, Response, handler};
use serde::Deserialize;
use tower_sessions::Session;

use crate::AppState;
use crate::accounts::fields::Email;
use crate::accounts::reauth::Confirmed;
use crate::accounts::{User, addresses, users};
use crate::error::Result;
use crate::web::flash::{self, Flash};
use crate::web::layout::{Field, page};
use crate::web::{CurrentUser, Form};

/// Where the form is.
pub const EMAIL: &str = "/dashboard/email";

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewEmail {
    email: String,
}

#[handler]
pub async fn form(state: Data<&AppState>, CurrentUser(user): CurrentUser) -> Result<Markup> {
    view(&state, &user, "", None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Wanted {
    mentions: String,
}

/// Turns emails about missed mentions on (`mentions=on`) or off.
#[handler]
pub async fn mentions(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Form(input): Form<Wanted>,
) -> Result<Redirect> {
    crate::chat::missed::set_wanted(&state.db, user.id, input.mentions == "on").await?;
    Ok(Redirect::see_other(EMAIL))
}

/// Sends a link to the new address; the address changes when it is opened.
#[handler]
pub async fn change(
    state: Data<&AppState>,
    Data(session): Data<&Session>,
    Confirmed(user): Confirmed,
    Form(input): Form<NewEmail>,
) -> Result<Response> {
    let problem = match Email::parse(&input.email) {
        _ if !state.mailer.enabled() => Some(NO_MAIL),
        Err(problem) => Some(problem),
        Ok(email) if email.as_str() == user.email => Some("That is already your address."),
        Ok(email) => match users::find_by_email(&state, &email).await? {
            Some(_) => Some("Another account signs in with that address."),
            None if !addresses::send_link(&state, &user, &email).await? => {
                Some("A link went out less than a minute ago. Wait a moment, then ask again.")
            }
            None => {
                let notice = format!(
                    "We sent a link to {}. Your address changes when you open it (within a day).",
                    email.as_str()
                );
                flash::set(session, Flash::Dashboard, notice).await?;
                return Ok(Redirect::see_other("/dashboard").into_response());
            }
        },
    };
    let page = view(&state, &user, &input.email, problem).await?;
    Ok(page.with_status(StatusCode::UNPROCESSABLE_ENTITY).into_response())
}

/// Sends the link that confirms the account's own address again.
#[handler]
pub async fn resend(
    state: Data<&AppState>,
    Data(session): Data<&Session>,
    CurrentUser(user): CurrentUser,
) -> Result<Redirect> {
    let notice = if !state.mailer.enabled() {
        NO_MAIL.to_owned()
    } else if user.email_confirmed_at.is_some() {
        "Your address is confirmed already.".to_owned()
    } else {
        let email = Email::parse(&user.email).map_err(|p| anyhow::anyhow!(p))?;
        match addresses::send_link(&state, &user, &email).await? {
            true => format!("We sent the link again to {}.", user.email),
            false => {
                "A link went out less than a minute ago. Wait a moment, then ask again.".to_owned()
            }
        }
    };
    flash::set(session, Flash::Dashboard, notice).await?;
    Ok(Redirect::see_other("/dashboard"))
}

const NO_MAIL: &str = "This Hearth does not send email, so it cannot confirm a new address. \
                       Ask an administrator.";

async fn view(state: &AppState, user: &User, value: &str, problem: Option<&str>) -> Result<Markup> {
    let wanted = crate::chat::missed::wanted(&state.db, user.id).await?;
    Ok(page(
        "Change your email",
        Some(user),
        html! {
            section.card.narrow {
                h1 { "Change your email" }
                p { "You sign in as " strong { (user.email) } ". We will send a link to the new address; the change is made when it is opened, and the old address is told." }
                @if !state.mailer.enabled() { p.notice role="status" { (NO_MAIL) } }
                form method="post" action=(EMAIL) hx-boost="true" hx-disabled-elt="find button" {
                    (Field { label: "New email", name: "email", kind: "email", value,
                        error: problem, autocomplete: "email", hint: None }.render())
                    button.primary type="submit" { "Send the link" }
                }
            }
            @if state.mailer.enabled() {
                section.card.narrow aria-labelledby="mention-emails" {
                    h2 id="mention-emails" { "Mentions you missed" }
                    @if wanted {
                        p { "When you are mentioned and have not read it after ten minutes, we email you (at most once an hour per room)." }
                        form method="post" action="/dashboard/email/mentions" hx-boost="true" hx-disabled-elt="find button" {
                            input type="hidden" name="mentions" value="off";
                            button.secondary type="submit" { "Stop these emails" }
                        }
                    } @else {
                        p { "You get no emails about mentions." }
                        form method="post" action="/dashboard/email/mentions" hx-boost="true" hx-disabled-elt="find button" {
                            input type="hidden" name="mentions" value="on";
                            button.secondary type="submit" { "Email me mentions I missed" }
                        }
                    }
                }
            }
            p.aside { a href="/dashboard" { "Back to your dashboard" } }
        },
    ))
}
