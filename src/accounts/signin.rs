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
use super::{code_step, passkeys, sessions, two_factor, users};
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

/// What someone whose second factor is a passkey is told after their password.
const USE_PASSKEY: &str = "This Hearth asks for a second factor, and yours is a passkey: \
                           sign in with it below.";

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
    // Where a second factor is required and this person's is a passkey, the
    // password alone opens nothing, not even the pages that set factors up.
    if state.config.require_two_factor.applies_to(user)
        && passkeys::count(&state.db, user.id).await? > 0
    {
        tracing::info!(target: "audit", user_id = user.id, client = %addr, "password right; passkey asked");
        let page = view(state, &user.email, next, Some(USE_PASSKEY));
        return Ok(page.with_status(StatusCode::UNAUTHORIZED).into_response());
    }
    complete(state, session, user, Proof::Password, addr, agent, next).await
}

/// What proved who is signing in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Proof {
    Password,
    /// The password, then a code from the app (or a recovery code).
    PasswordAndCode,
    /// A passkey: something the person has, unlocked by something they are or
    /// know, so two factors on its own.
    Passkey,
}

/// Signs `user` in, as `proof` showed them to be, and sends them on to `next`, or
/// to set up codes where they must have them and signed in with a password alone.
pub(super) async fn complete(
    state: &AppState,
    session: &Session,
    user: &super::User,
    proof: Proof,
    addr: IpAddr,
    agent: &str,
    next: &str,
) -> Result<Response> {
    let method = if proof == Proof::Passkey { "passkey" } else { "password" };
    metrics::counter!("hearth_signins_total", "method" => method, "result" => "success")
        .increment(1);
    tracing::info!(target: "audit", user_id = user.id, client = %addr, ?proof, "signed in");
    sessions::begin(state, session, user, agent).await?;
    if proof == Proof::Passkey {
        sessions::note_passkey_sign_in(session).await?;
    } else if state.config.require_two_factor.applies_to(user)
        && !two_factor::is_on(&state.db, user.id).await?
    {
        return Ok(Redirect::see_other(crate::dashboard::TWO_FACTOR).into_response());
    }
    let hosts = &state.config.forward_auth_hosts;
    Ok(Redirect::see_other(safe_next(Some(next), hosts)).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PasskeyForm {
    /// The browser's answer to the challenge, as JSON (see `assets/passkeys.js`).
    credential: String,
    next: String,
}

/// `POST /login/passkey`: signs in whoever's passkey answered this session's
/// challenge. Counted against the address as password sign-ins are.
#[handler]
pub async fn with_passkey(
    state: Data<&AppState>,
    Data(session): Data<&Session>,
    ClientAddr(addr): ClientAddr,
    UserAgent(agent): UserAgent,
    Form(input): Form<PasskeyForm>,
) -> Result<Response> {
    let shown = SigninForm { next: input.next.clone(), ..SigninForm::default() };
    if let Err(err) = state.limits.attempt_from(addr) {
        let mut resp = reshow(&state, err.status(), &shown, &err.message());
        set_retry_after(&mut resp, &err);
        return Ok(resp);
    }
    match passkeys::prove(&state, session, &input.credential).await? {
        Ok(user) => {
            complete(&state, session, &user, Proof::Passkey, addr, &agent, &input.next).await
        }
        Err(refused) => {
            metrics::counter!("hearth_signins_total", "method" => "passkey", "result" => "failure")
                .increment(1);
            tracing::info!(target: "audit", client = %addr, ?refused, "passkey sign-in refused");
            Ok(reshow(&state, StatusCode::UNAUTHORIZED, &shown, refused.message()))
        }
    }
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
                    // "webauthn": the browser may offer this site's passkeys right
                    // in the email field's suggestions (see assets/passkeys.js).
                    (Field { label: "Email", name: "email", kind: "email", value: email,
                        error: None, autocomplete: "username webauthn", hint: None }.render())
                    (Field { label: "Password", name: "password", kind: "password", value: "",
                        error: None, autocomplete: "current-password", hint: None }.render())
                    button.primary type="submit" { "Sign in" }
                }
                @if state.passkey_rp.enabled() {
                    (passkey_button(next))
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

/// "Sign in with a passkey": hidden until the script finds the browser can use
/// passkeys; it asks for one and sends the answer in the form below.
fn passkey_button(next: &str) -> Markup {
    html! {
        form #passkey-signin method="post" action="/login/passkey" data-passkey="sign-in" hidden {
            p.or { span { "or" } }
            input type="hidden" name="next" value=(next);
            input type="hidden" name="credential";
            button.secondary type="submit" { "Sign in with a passkey" }
            p.hint aria-live="polite" data-passkey-status {}
        }
    }
}
