//! Creating an account: `GET /signup` shows the form, `POST /signup` creates the
//! account, signs the person in and sends them to the dashboard. Who may do so is
//! the operator's choice (see [`super::invites`]).

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Query, Redirect};
use poem::{IntoResponse, Response, handler};
use serde::Deserialize;
use tower_sessions::Session;

use super::fields::{Email, Name, NewPassword};
use super::{invites, sessions, users};
use crate::AppState;
use crate::error::Result;
use crate::web::layout::{Field, google_button, page};
use crate::web::{ClientAddr, Form, MaybeUser, UserAgent};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SignupForm {
    name: String,
    email: String,
    password: String,
    invite: String,
}

#[derive(Default)]
struct Problems {
    name: Option<&'static str>,
    email: Option<&'static str>,
    password: Option<&'static str>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    invite: Option<String>,
}

#[handler]
pub async fn form(
    state: Data<&AppState>,
    MaybeUser(viewer): MaybeUser,
    Query(params): Query<Params>,
) -> Result<Response> {
    if viewer.is_some() {
        return Ok(Redirect::see_other("/dashboard").into_response());
    }
    if let Err(refusal) = invites::may_sign_up(&state, params.invite.as_deref()).await? {
        return Ok(refused(refusal));
    }
    let input = SignupForm { invite: params.invite.unwrap_or_default(), ..SignupForm::default() };
    let first = invites::first_account(&state.db).await?;
    Ok(view(&state, &input, &Problems::default(), first).into_response())
}

#[handler]
pub async fn submit(
    state: Data<&AppState>,
    Data(session): Data<&Session>,
    ClientAddr(addr): ClientAddr,
    UserAgent(agent): UserAgent,
    Form(input): Form<SignupForm>,
) -> Result<Response> {
    state.limits.attempt_from(addr)?;
    let invite = Some(input.invite.as_str()).filter(|code| !code.is_empty());
    let admission = match invites::may_sign_up(&state, invite).await? {
        Ok(admission) => admission,
        Err(refusal) => return Ok(refused(refusal)),
    };
    let (name, email, password) =
        (Name::parse(&input.name), Email::parse(&input.email), NewPassword::parse(&input.password));
    let (Ok(name), Ok(email), Ok(password)) = (&name, &email, &password) else {
        let problems = Problems {
            name: name.as_ref().err().copied(),
            email: email.as_ref().err().copied(),
            password: password.as_ref().err().copied(),
        };
        return reshow(&state, StatusCode::UNPROCESSABLE_ENTITY, &input, problems).await;
    };
    let hash = state.passwords.hash(password).await?;
    let user = match users::create(&state, name, email, Some(&hash), None, admission).await? {
        Ok(user) => user,
        Err(users::NotCreated::EmailTaken) => {
            let problems = Problems {
                email: Some("There is already an account with this email. Sign in instead?"),
                ..Problems::default()
            };
            return reshow(&state, StatusCode::CONFLICT, &input, problems).await;
        }
        Err(users::NotCreated::NotFirst) => return Ok(refused(invites::NOT_FIRST)),
    };
    tracing::info!(target: "audit", user_id = user.id, admin = user.is_admin, "account created");
    super::addresses::send_link(&state, &user, email).await?;
    sessions::begin(&state, session, &user, &agent).await?;
    Ok(Redirect::see_other("/dashboard").into_response())
}

/// The form again, with what was typed (but never the password) and the problems.
async fn reshow(
    state: &AppState,
    status: StatusCode,
    input: &SignupForm,
    problems: Problems,
) -> Result<Response> {
    let kept = SignupForm { password: String::new(), ..clone(input) };
    let first = invites::first_account(&state.db).await?;
    Ok(view(state, &kept, &problems, first).with_status(status).into_response())
}

fn clone(input: &SignupForm) -> SignupForm {
    SignupForm {
        name: input.name.clone(),
        email: input.email.clone(),
        password: input.password.clone(),
        invite: input.invite.clone(),
    }
}

/// Sign-up is not open to this visitor: say why, without revealing more.
fn refused(refusal: invites::Refusal) -> Response {
    page(
        "Sign-up",
        None,
        html! {
            section.card.narrow {
                h1 { "Sign-up" }
                p { (refusal) }
                p { "Already have an account? " a href="/login" { "Sign in" } }
            }
        },
    )
    .with_status(StatusCode::FORBIDDEN)
    .into_response()
}

fn view(state: &AppState, input: &SignupForm, problems: &Problems, first: bool) -> Markup {
    page(
        "Create your account",
        None,
        html! {
            section.card.narrow {
                h1 { "Create your account" }
                @if first {
                    p.notice { "This is the first account: it will run this Hearth as its administrator." }
                }
                form method="post" action="/signup" hx-boost="true" hx-disabled-elt="find button" {
                    input type="hidden" name="invite" value=(input.invite);
                    (Field { label: "Name", name: "name", kind: "text", value: &input.name,
                        error: problems.name, autocomplete: "name", hint: None }.render())
                    (Field { label: "Email", name: "email", kind: "email", value: &input.email,
                        error: problems.email, autocomplete: "email", hint: None }.render())
                    (Field { label: "Password", name: "password", kind: "password", value: "",
                        error: problems.password, autocomplete: "new-password",
                        hint: Some("At least 8 characters. Long passphrases are welcome.") }.render())
                    button.primary type="submit" { "Create account" }
                }
                @if state.google.enabled() {
                    (google_button("Sign up with Google", "/dashboard", Some(&input.invite)))
                }
                p.aside { "Already have an account? " a href="/login" { "Sign in" } }
            }
        },
    )
}
