//! Creating an account: `GET /signup` shows the form, `POST /signup` creates the
//! account, signs the person in and sends them to the dashboard.

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Redirect};
use poem::{IntoResponse, Response, handler};
use serde::Deserialize;
use tower_sessions::Session;

use super::fields::{Email, Name, NewPassword};
use super::{sessions, users};
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
}

#[derive(Default)]
struct Problems {
    name: Option<&'static str>,
    email: Option<&'static str>,
    password: Option<&'static str>,
}

#[handler]
pub async fn form(state: Data<&AppState>, MaybeUser(viewer): MaybeUser) -> Response {
    if viewer.is_some() {
        return Redirect::see_other("/dashboard").into_response();
    }
    view(&state, &SignupForm::default(), &Problems::default()).into_response()
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
    let (name, email, password) =
        (Name::parse(&input.name), Email::parse(&input.email), NewPassword::parse(&input.password));
    let (Ok(name), Ok(email), Ok(password)) = (&name, &email, &password) else {
        let problems = Problems {
            name: name.as_ref().err().copied(),
            email: email.as_ref().err().copied(),
            password: password.as_ref().err().copied(),
        };
        return Ok(reshow(&state, StatusCode::UNPROCESSABLE_ENTITY, &input, problems));
    };
    let hash = state.passwords.hash(password).await?;
    let Ok(user) = users::create(&state, name.as_str(), email, Some(&hash), None).await? else {
        let problems = Problems {
            email: Some("There is already an account with this email. Sign in instead?"),
            ..Problems::default()
        };
        return Ok(reshow(&state, StatusCode::CONFLICT, &input, problems));
    };
    tracing::info!(user_id = user.id, "account created");
    sessions::begin(&state, session, &user, &agent).await?;
    Ok(Redirect::see_other("/dashboard").into_response())
}

/// The form again, with what was typed (but never the password) and the problems.
fn reshow(
    state: &AppState,
    status: StatusCode,
    input: &SignupForm,
    problems: Problems,
) -> Response {
    let kept = SignupForm {
        name: input.name.clone(),
        email: input.email.clone(),
        password: String::new(),
    };
    view(state, &kept, &problems).with_status(status).into_response()
}

fn view(state: &AppState, input: &SignupForm, problems: &Problems) -> Markup {
    page(
        "Create your account",
        None,
        html! {
            section.card.narrow {
                h1 { "Create your account" }
                form method="post" action="/signup" {
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
                    (google_button("Sign up with Google", "/dashboard"))
                }
                p.aside { "Already have an account? " a href="/login" { "Sign in" } }
            }
        },
    )
}
