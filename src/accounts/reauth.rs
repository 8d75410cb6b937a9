//! Fresh proof before what matters: making an API token, turning two-factor codes
//! on or off, new recovery codes, adding or removing a passkey, and every
//! administrator action. A sign-in (password, and code where codes are on; a
//! passkey; or Google) within the last ten minutes counts. Otherwise the page asks
//! for the password, a passkey, or a Google sign-in, and then
//! does what was asked: a form comes back with its fields and a password field, and
//! is sent on to where it was going.

use maud::{Markup, html};
use poem::http::{Method, StatusCode};
use poem::{Body, FromRequest, IntoResponse, Request, RequestBody, Response};
use tower_sessions::Session;

use super::User;
use super::sessions::{self, SignIn};
use crate::AppState;
use crate::db;
use crate::error::{AppError, Result};
use crate::web::CurrentUser;
use crate::web::form::BODY_LIMIT;
use crate::web::layout::{Field, google_button, page};

/// The form field that carries the password along with the form it confirms.
const PASSWORD: &str = "reauth_password";
/// The form field that carries a passkey's answer instead (see `assets/passkeys.js`).
const PASSKEY: &str = "reauth_passkey";
/// When this session last proved who it is, apart from its sign-in.
const CONFIRMED_AT: &str = "confirmed_at";

/// The signed-in person, proven within the last ten minutes.
pub struct Confirmed(pub User);

/// What asking for the proof needs to send the person on afterwards.
#[derive(Debug)]
pub struct Ask {
    /// Where the form goes (this request's path).
    action: String,
    /// The form's fields, to send again (a GET has none).
    fields: Vec<(String, String)>,
    method: Method,
    has_password: bool,
    /// Whether the person has a passkey to confirm with.
    has_passkey: bool,
    /// Whether "Continue with Google" can be offered.
    google: bool,
    problem: Option<&'static str>,
}

/// Whether `session` signed in, or proved itself, within `fresh`.
pub async fn is_fresh(session: &Session, fresh: std::time::Duration) -> Result<bool> {
    let since = |at: i64| db::now() - at <= fresh.as_secs() as i64;
    let signed_in = session.get::<SignIn>(sessions::SIGN_IN).await?.map(|s| s.signed_in_at);
    let confirmed = session.get::<i64>(CONFIRMED_AT).await?;
    let google = sessions::google_sign_in_at(session).await?;
    Ok([signed_in, confirmed, google].into_iter().flatten().any(since))
}

impl<'a> FromRequest<'a> for Confirmed {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let CurrentUser(user) = CurrentUser::from_request(req, body).await?;
        confirm(req, body, &user).await?;
        Ok(Confirmed(user))
    }
}

/// Lets the request go on if `user` (already extracted from it) signed in or
/// confirmed within the window, or gives their password now; otherwise the page
/// asking for it. For extractors that have the user already (see `admin::Admin`).
pub async fn confirm(req: &Request, body: &mut RequestBody, user: &User) -> poem::Result<()> {
    let state = AppState::of(req)?;
    let Some(session) = req.extensions().get::<Session>() else {
        return Err(AppError::Forbidden("Sign in again in a browser to do this.").into());
    };
    if is_fresh(session, state.config.fresh_sign_in).await? {
        return Ok(());
    }
    let is_post = req.method() == Method::POST;
    let mut fields = if is_post { form_fields(body).await? } else { Vec::new() };
    let mut take = |field: &str| {
        fields.iter().position(|(name, _)| name == field).map(|at| fields.remove(at).1)
    };
    let proof = match (take(PASSWORD), take(PASSKEY)) {
        (_, Some(answer)) => Some(Proof::Passkey(answer)),
        (Some(password), None) => Some(Proof::Password(password)),
        (None, None) => None,
    };
    let mut problem = None;
    if let Some(proof) = proof {
        match proof_confirms(&state, session, user, &proof).await? {
            None => {
                // The handler reads the form as it was sent, without the proof.
                let form = serde_urlencoded::to_string(&fields).unwrap_or_default();
                *body = RequestBody::new(Body::from_string(form));
                return Ok(());
            }
            wrong => problem = wrong,
        }
    }
    let action = req.uri().path().to_owned();
    let method = req.method().clone();
    let ask = Ask::new(&state, user, action, fields, method, problem).await?;
    Err(AppError::ConfirmIdentity(Box::new(ask)).into())
}

impl Ask {
    async fn new(
        state: &AppState,
        user: &User,
        action: String,
        fields: Vec<(String, String)>,
        method: Method,
        problem: Option<&'static str>,
    ) -> Result<Ask> {
        let has_passkey =
            state.passkey_rp.enabled() && super::passkeys::count(&state.db, user.id).await? > 0;
        Ok(Ask {
            action,
            fields,
            method,
            has_password: user.password_hash.is_some(),
            has_passkey,
            google: state.google.enabled(),
            problem,
        })
    }
}

/// What the person gave to confirm it is them.
enum Proof {
    Password(String),
    /// A passkey's answer (JSON) to this session's challenge.
    Passkey(String),
}

/// Checks `proof`: `None` when it shows this is `user` (this session then counts
/// as freshly signed in), or what is wrong with it.
async fn proof_confirms(
    state: &AppState,
    session: &Session,
    user: &User,
    proof: &Proof,
) -> Result<Option<&'static str>> {
    match proof {
        Proof::Password(password) => {
            Ok((!password_confirms(state, session, user, password).await?).then_some(WRONG))
        }
        Proof::Passkey(answer) => {
            state.limits.attempt_on(&user.email)?;
            match super::passkeys::prove(state, session, answer).await? {
                Ok(signer) if signer.id == user.id => {
                    state.limits.succeeded_on(&user.email);
                    session.insert(CONFIRMED_AT, db::now()).await?;
                    tracing::info!(target: "audit", user_id = user.id, "identity confirmed by passkey");
                    Ok(None)
                }
                Ok(_) => Ok(Some("That passkey is another account's. Use one of yours.")),
                Err(refused) => Ok(Some(refused.message())),
            }
        }
    }
}

const WRONG: &str = "That password is not right.";

/// Whether `password` is `user`'s; if it is, this session counts as freshly
/// signed in. Tries count against the account's limit, as sign-ins do.
async fn password_confirms(
    state: &AppState,
    session: &Session,
    user: &User,
    password: &str,
) -> Result<bool> {
    state.limits.attempt_on(&user.email)?;
    if !state.passwords.verify(password, user.password_hash.as_deref()).await? {
        return Ok(false);
    }
    state.limits.succeeded_on(&user.email);
    session.insert(CONFIRMED_AT, db::now()).await?;
    tracing::info!(target: "audit", user_id = user.id, "identity confirmed by password");
    Ok(true)
}

/// The fields of an urlencoded form body (empty if it is not one).
async fn form_fields(body: &mut RequestBody) -> Result<Vec<(String, String)>> {
    let Ok(taken) = body.take() else { return Ok(Vec::new()) };
    let bytes = taken.into_bytes_limit(BODY_LIMIT).await.map_err(|_| AppError::PayloadTooLarge)?;
    Ok(serde_urlencoded::from_bytes(&bytes).unwrap_or_default())
}

/// After a password typed for a page (a GET), where it was going.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ThenPage {
    then: String,
    reauth_password: String,
    reauth_passkey: String,
}

/// `POST /confirm`: the password for a page that asked for it, then the page.
#[poem::handler]
pub async fn confirm_for_page(
    state: poem::web::Data<&AppState>,
    poem::web::Data(session): poem::web::Data<&Session>,
    CurrentUser(user): CurrentUser,
    crate::web::Form(input): crate::web::Form<ThenPage>,
) -> Result<Response> {
    let then = crate::web::redirect::safe_next(Some(&input.then), &[]).to_owned();
    let proof = match input.reauth_passkey.is_empty() {
        true => Proof::Password(input.reauth_password),
        false => Proof::Passkey(input.reauth_passkey),
    };
    let Some(problem) = proof_confirms(&state, session, &user, &proof).await? else {
        return Ok(poem::web::Redirect::see_other(then).into_response());
    };
    let ask = Ask::new(&state, &user, then, Vec::new(), Method::GET, Some(problem)).await?;
    Ok(view(&ask, Some(&user)).with_status(StatusCode::UNAUTHORIZED).into_response())
}

/// The page that asks for the proof.
pub fn view(ask: &Ask, viewer: Option<&User>) -> Markup {
    // A page is reached again by its address; a form is sent again to its action.
    let (action, then) = if ask.method == Method::GET {
        ("/confirm", Some(ask.action.as_str()))
    } else {
        (ask.action.as_str(), None)
    };
    let back_to = then.unwrap_or("/dashboard");
    page(
        "Confirm it is you",
        viewer,
        html! {
            section.card.narrow {
                h1 { "Confirm it is you" }
                @if let Some(problem) = ask.problem {
                    p.alert role="alert" { (problem) }
                }
                @if ask.has_password {
                    p { "This needs a recent sign-in. Enter your password and it goes ahead." }
                    form method="post" action=(action) hx-boost="true" hx-disabled-elt="find button" {
                        @for (name, value) in &ask.fields {
                            input type="hidden" name=(name) value=(value);
                        }
                        @if let Some(then) = then { input type="hidden" name="then" value=(then); }
                        (Field { label: "Password", name: PASSWORD, kind: "password", value: "",
                            error: None, autocomplete: "current-password", hint: None }.render())
                        button.primary type="submit" { "Confirm and go on" }
                    }
                } @else if !ask.has_passkey {
                    p { "This needs a recent sign-in. Sign in with Google again, then do it once more." }
                }
                @if ask.has_passkey {
                    // Shown by the script, which has the passkey answer and sends it.
                    form method="post" action=(action) data-passkey="confirm" hidden {
                        @for (name, value) in &ask.fields {
                            input type="hidden" name=(name) value=(value);
                        }
                        @if let Some(then) = then { input type="hidden" name="then" value=(then); }
                        input type="hidden" name=(PASSKEY);
                        button.secondary type="submit" { "Confirm with a passkey" }
                        p.hint aria-live="polite" data-passkey-status {}
                    }
                }
                @if ask.google {
                    (google_button("Continue with Google", back_to, None))
                }
                p.aside { a href="/dashboard" { "Back to the dashboard" } }
            }
        },
    )
}
