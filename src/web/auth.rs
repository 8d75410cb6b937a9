//! Who is asking: extractors for handlers that need a signed-in person, or may have one.

use poem::{FromRequest, Request, RequestBody};
use tower_sessions::Session;

use crate::AppState;
use crate::accounts::User;
use crate::accounts::{sessions, tokens, two_factor};
use crate::error::AppError;

/// The signed-in person. Without one, pages answer 303 to `/login?next=…` and the
/// API answers a JSON 401 (see [`crate::web::errors`]).
pub struct CurrentUser(pub User);

/// The signed-in person, if there is one.
pub struct MaybeUser(pub Option<User>);

/// Who is asking, and with what.
enum Asking {
    Nobody,
    /// A session: it signed in with a password (and code) or with Google.
    Session(User),
    /// A personal access token (made by someone signed in).
    Token(User),
}

async fn asking(req: &Request) -> poem::Result<Asking> {
    let state = AppState::of(req)?;
    // Programs use the API (and proxies ask `/auth/verify`) with a personal access
    // token instead of a cookie. A token that does not work is a 401, not a
    // fall-back to the session.
    let path = req.uri().path();
    if (path.starts_with("/api/")
        || path == crate::forward_auth::VERIFY
        || crate::files::takes_tokens(path))
        && let Some(auth) = req.header(poem::http::header::AUTHORIZATION)
    {
        let token = auth.strip_prefix("Bearer ").unwrap_or_default().trim();
        let user = tokens::user_for(&state.db, token).await?;
        return Ok(user.map_or(Asking::Nobody, Asking::Token));
    }
    let Some(session) = req.extensions().get::<Session>() else {
        return Ok(Asking::Nobody);
    };
    Ok(sessions::current(&state, session).await?.map_or(Asking::Nobody, Asking::Session))
}

impl<'a> FromRequest<'a> for MaybeUser {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        Ok(MaybeUser(match asking(req).await? {
            Asking::Nobody => None,
            // Someone who must set up codes first is nobody yet to the chat's
            // socket, to `/auth/verify` and to the pages that welcome visitors.
            Asking::Session(user) if waits_for_two_factor(req, &user).await? => None,
            Asking::Session(user) | Asking::Token(user) => Some(user),
        }))
    }
}

impl<'a> FromRequest<'a> for CurrentUser {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        match asking(req).await? {
            Asking::Session(user) if waits_for_two_factor(req, &user).await? => {
                Err(AppError::TwoFactorRequired.into())
            }
            Asking::Session(user) | Asking::Token(user) => Ok(CurrentUser(user)),
            Asking::Nobody => {
                let next = req
                    .original_uri()
                    .path_and_query()
                    .map_or("/dashboard", |pq| pq.as_str())
                    .to_owned();
                Err(AppError::SignInRequired { next }.into())
            }
        }
    }
}

/// Whether `user`, signed in on a session, must turn two-factor codes on before
/// this request: `REQUIRE_TWO_FACTOR` covers them, they signed in with a password
/// (a Google sign-in is not asked: Google has its own second factor; nor a passkey,
/// which is two factors itself), they have
/// none, and this is not one of the pages that set codes or a passkey up (with the
/// password confirmation they may ask for first).
async fn waits_for_two_factor(req: &Request, user: &User) -> poem::Result<bool> {
    let state = AppState::of(req)?;
    let path = req.uri().path();
    if !state.config.require_two_factor.applies_to(user)
        || path.starts_with(crate::dashboard::TWO_FACTOR)
        || path.starts_with(crate::dashboard::PASSKEYS)
        || path == "/confirm"
    {
        return Ok(false);
    }
    let Some(session) = req.extensions().get::<Session>() else { return Ok(false) };
    if sessions::signed_in_with_google(session).await?
        || sessions::signed_in_with_passkey(session).await?
    {
        return Ok(false);
    }
    Ok(!two_factor::is_on(&state.db, user.id).await?)
}
