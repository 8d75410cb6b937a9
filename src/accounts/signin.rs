//! Signing in and out. `POST /login` answers the same way, after the same amount of
//! work, whether or not the email has an account, so the form cannot be used to find
//! out who is here.

use std::net::IpAddr;

use maud::{Markup, html};
use poem::error::ResponseError;
use poem::http::StatusCode;
use poem::web::{Data, Query, Redirect};
use poem::{IntoResponse, Response, handler};
use serde::Deserialize;
use tower_sessions::Session;

use super::fields::Email;
use super::{code_step, sessions, two_factor, users};
use crate::AppState;
use crate::error::Result;
use crate::web::errors::set_retry_after;
use crate::web::layout::{Field, google_button, page};
use crate::web::redirect::safe_next;
use crate::web::{ClientAddr, Form, MaybeUser, UserAgent};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SigninForm {
    email: String,
    password: String,
    next: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    next: Option<String>,
    google: Option<String>,
}

#[handler]
pub async fn form(
    state: Data<&AppState>,
    MaybeUser(viewer): MaybeUser,
    Query(query): Query<Params>,
) -> Response {
    let next = query.next.unwrap_or_default();
    if viewer.is_some() {
        let hosts = &state.config.forward_auth_hosts;
        return Redirect::see_other(safe_next(Some(&next), hosts)).into_response();
    }
    let problem = (query.google.as_deref() == Some("cancelled"))
        .then_some("Google sign-in was cancelled. You can try again, or use your password.");
    view(&state, "", &next, problem).into_response()
}

/// What a failed sign-in is told, whatever the reason.
const NO_MATCH: &str = "That email and password do not match an account. If yours was \
                        deactivated, ask the person who runs this Hearth.";

#[handler]
pub async fn submit(
    state: Data<&AppState>,
    Data(session): Data<&Session>,
    ClientAddr(addr): ClientAddr,
    UserAgent(agent): UserAgent,
    Form(input): Form<SigninForm>,
) -> Result<Response> {
    match attempt(&state, session, addr, &agent, &input).await {
        // Told to come back later (too many attempts, or the hashers are full): on
        // the form, with what was typed, so trying again is one click.
        Err(err) if err.retry_after().is_some() => {
            let mut resp = reshow(&state, err.status(), &input, &err.message());
            set_retry_after(&mut resp, &err);
            Ok(resp)
        }
        answer => answer,
    }
}

async fn attempt(
    state: &AppState,
    session: &Session,
    addr: IpAddr,
    agent: &str,
    input: &SigninForm,
) -> Result<Response> {
    state.limits.attempt_from(addr)?;
    let email = match Email::parse(&input.email) {
        Ok(email) if !input.password.is_empty() => email,
        Ok(_) => {
            return Ok(reshow(
                state,
                StatusCode::UNPROCESSABLE_ENTITY,
                input,
                "Enter your password.",
            ));
        }
        Err(problem) => {
            return Ok(reshow(state, StatusCode::UNPROCESSABLE_ENTITY, input, problem));
        }
    };
    state.limits.attempt_on(email.as_str())?;

    let user = users::find_by_email(state, &email).await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.as_deref());
    let verified = state.passwords.verify(&input.password, stored).await?;
    // A deactivated account gets the same answer as a wrong password: a different
    // one would tell a guesser that the password was right.
    let active = user.as_ref().is_some_and(|u| u.deactivated_at.is_none());
    let Some(user) = user.filter(|_| verified && active) else {
        metrics::counter!("hearth_signins_total", "method" => "password", "result" => "failure")
            .increment(1);
        tracing::info!(target: "audit", client = %addr, "sign-in refused");
        return Ok(reshow(state, StatusCode::UNAUTHORIZED, input, NO_MATCH));
    };
    state.limits.succeeded_on(email.as_str());
    password_proven(state, session, &user, addr, agent, &input.next).await
}

/// `user` has proven their password (at sign-in, or by setting it with a reset
/// link): signed in, or where codes are on, sent to give one first.
pub(super) async fn password_proven(
    state: &AppState,
    session: &Session,
    user: &super::User,
    addr: IpAddr,
    agent: &str,
    next: &str,
) -> Result<Response> {
    if two_factor::is_on(&state.db, user.id).await? {
        // Nothing is signed in until the code is given.
        tracing::info!(target: "audit", user_id = user.id, client = %addr, "password right; code asked");
        let pending = two_factor::Pending {
            user_id: user.id,
            since: crate::db::now(),
            generation: user.credential_generation,
            next: next.to_owned(),
        };
        two_factor::await_code(session, pending).await?;
        return Ok(Redirect::see_other(code_step::PATH).into_response());
    }
    complete(state, session, user, addr, agent, next).await
}

/// Signs `user` in, their password (and code, if they have codes on) proven, and
/// sends them on to `next`, or to set up codes where they must have them.
pub(super) async fn complete(
    state: &AppState,
    session: &Session,
    user: &super::User,
    addr: IpAddr,
    agent: &str,
    next: &str,
) -> Result<Response> {
    metrics::counter!("hearth_signins_total", "method" => "password", "result" => "success")
        .increment(1);
    tracing::info!(target: "audit", user_id = user.id, client = %addr, "signed in");
    sessions::begin(state, session, user, agent).await?;
    if state.config.require_two_factor.applies_to(user)
        && !two_factor::is_on(&state.db, user.id).await?
    {
        return Ok(Redirect::see_other(crate::dashboard::TWO_FACTOR).into_response());
    }
    let hosts = &state.config.forward_auth_hosts;
    Ok(Redirect::see_other(safe_next(Some(next), hosts)).into_response())
}

#[handler]
pub async fn sign_out(state: Data<&AppState>, Data(session): Data<&Session>) -> Result<Redirect> {
    sessions::end(&state, session).await?;
    Ok(Redirect::see_other("/login"))
}

fn reshow(state: &AppState, status: StatusCode, input: &SigninForm, problem: &str) -> Response {
    view(state, &input.email, &input.next, Some(problem)).with_status(status).into_response()
}

fn view(state: &AppState, email: &str, next: &str, problem: Option<&str>) -> Markup {
    page(
        "Sign in",
        None,
        html! {
            section.card.narrow {
                h1 { "Sign in" }
                @if let Some(problem) = problem {
                    p.alert role="alert" { (problem) }
                }
                form method="post" action="/login" hx-boost="true" hx-disabled-elt="find button" {
                    input type="hidden" name="next" value=(next);
                    (Field { label: "Email", name: "email", kind: "email", value: email,
                        error: None, autocomplete: "username", hint: None }.render())
                    (Field { label: "Password", name: "password", kind: "password", value: "",
                        error: None, autocomplete: "current-password", hint: None }.render())
                    button.primary type="submit" { "Sign in" }
                }
                @if state.google.enabled() {
                    (google_button("Sign in with Google", next, None))
                }
                p.aside { a href="/password/forgot" { "Forgot your password?" } }
                p.aside { "New here? " a href="/signup" { "Create an account" } }
            }
        },
    )
}
