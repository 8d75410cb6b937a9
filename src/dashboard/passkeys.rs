//! Adding, listing and removing passkeys on the dashboard. Adding and removing
//! need a recent sign-in ([`Confirmed`]), as every change to how one signs in does.
//! The browser's part (asking the device for a key) is `assets/passkeys.js`; the
//! verifying is `accounts::passkeys`.

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Json, Path, Redirect};
use poem::{IntoResponse, Response, handler};
use serde::Deserialize;
use tower_sessions::Session;

use crate::AppState;
use crate::accounts::passkeys::{self, Listed};
use crate::accounts::reauth::Confirmed;
use crate::error::{AppError, Result};
use crate::web::flash::{self, Flash};
use crate::web::layout::{Field, page};
use crate::web::time::ago;
use crate::web::{Form, UserAgent};

/// The page that adds one.
pub const NEW: &str = "/dashboard/passkeys/new";

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewPasskey {
    name: String,
    /// The browser's new credential, as JSON.
    credential: String,
}

#[handler]
pub async fn new(
    state: Data<&AppState>,
    Confirmed(user): Confirmed,
    UserAgent(agent): UserAgent,
) -> Result<Markup> {
    if !state.passkey_rp.enabled() {
        return Err(AppError::NotFound);
    }
    Ok(add_page(&user, &super::views::describe_agent(&agent), None))
}

/// `POST /dashboard/passkeys/options`: what the browser needs to make the key.
#[handler]
pub async fn options(
    state: Data<&AppState>,
    Data(session): Data<&Session>,
    Confirmed(user): Confirmed,
) -> Result<Json<serde_json::Value>> {
    let options = passkeys::begin_adding(&state, session, &user).await?;
    Ok(Json(serde_json::to_value(options).map_err(anyhow::Error::from)?))
}

#[handler]
pub async fn add(
    state: Data<&AppState>,
    Data(session): Data<&Session>,
    Confirmed(user): Confirmed,
    Form(input): Form<NewPasskey>,
) -> Result<Response> {
    let name = input.name.trim();
    let name: String = if name.is_empty() { "Passkey" } else { name }.chars().take(60).collect();
    match passkeys::finish_adding(&state, session, &user, &name, &input.credential).await? {
        Ok(()) => {
            tracing::info!(target: "audit", user_id = user.id, "passkey added");
            let notice = format!("Passkey “{name}” added. You can sign in with it alone.");
            flash::set(session, Flash::Dashboard, notice).await?;
            Ok(Redirect::see_other("/dashboard#passkeys").into_response())
        }
        Err(refused) => {
            let page = add_page(&user, &name, Some(refused.message()));
            Ok(page.with_status(StatusCode::UNPROCESSABLE_ENTITY).into_response())
        }
    }
}

#[handler]
pub async fn remove(
    state: Data<&AppState>,
    Data(session): Data<&Session>,
    Confirmed(user): Confirmed,
    Path(id): Path<i64>,
) -> Result<Redirect> {
    if !passkeys::remove(&state.db, user.id, id).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(target: "audit", user_id = user.id, passkey_id = id, "passkey removed");
    flash::set(session, Flash::Dashboard, "Passkey removed.".to_owned()).await?;
    Ok(Redirect::see_other("/dashboard#passkeys"))
}

fn add_page(user: &crate::accounts::User, name: &str, problem: Option<&str>) -> Markup {
    page(
        "Add a passkey",
        Some(user),
        html! {
            section.card.narrow {
                h1 { "Add a passkey" }
                @if let Some(problem) = problem {
                    p.alert role="alert" { (problem) }
                }
                p { "A passkey signs you in with this device's lock (fingerprint, face or PIN) or your password manager, with no password to type. It is two factors on its own: Hearth asks for no code after it." }
                form #passkey-add method="post" action="/dashboard/passkeys" data-passkey="add" {
                    (Field { label: "Name", name: "name", kind: "text", value: name, error: None,
                        autocomplete: "off", hint: Some("Which device or password manager keeps it.") }.render())
                    input type="hidden" name="credential";
                    button.primary type="submit" { "Create the passkey" }
                    p.hint aria-live="polite" data-passkey-status {}
                }
                noscript { p.alert { "Adding a passkey needs JavaScript: your browser talks to the device that keeps it." } }
                p.aside { a href="/dashboard#passkeys" { "Back to the dashboard" } }
            }
        },
    )
}

/// The dashboard's section: `None` when passkeys are off (`BASE_URL` an IP address).
pub fn section(passkeys: Option<&[Listed]>, now: i64) -> Markup {
    html! {
        section.card aria-labelledby="passkeys" {
            h2 id="passkeys" { "Passkeys" }
            @match passkeys {
                None => p.hint { "Passkeys are off on this Hearth: they need its address (BASE_URL) to be a name such as hearth.example.org, not an IP address." },
                Some(list) => {
                    p.hint { "Sign in with your device's lock or your password manager instead of a password. A passkey is two factors on its own." }
                    @if !list.is_empty() {
                        ul.sessions {
                            @for key in list {
                                li {
                                    span.device { (key.name) }
                                    span.when {
                                        "Added " (ago(now, key.created_at)) " · "
                                        @match key.last_used_at {
                                            Some(at) => { "last used " (ago(now, at)) },
                                            None => { "not used yet" },
                                        }
                                        @if key.backed_up == Some(true) { " · synced" }
                                    }
                                    form method="post" action=(format!("/dashboard/passkeys/{}/remove", key.id)) hx-boost="true" hx-disabled-elt="find button" {
                                        button.secondary.small type="submit" { "Remove " span.visually-hidden { (key.name) } }
                                    }
                                }
                            }
                        }
                    }
                    a.button.secondary href=(NEW) { "Add a passkey" }
                }
            }
        }
    }
}
