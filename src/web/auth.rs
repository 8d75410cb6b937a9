//! Who is asking: extractors for handlers that need a signed-in person, or may have one.

use poem::{FromRequest, Request, RequestBody};
use tower_sessions::Session;

use crate::AppState;
use crate::accounts::User;
use crate::accounts::{sessions, tokens};
use crate::error::AppError;

/// The signed-in person. Without one, pages answer 303 to `/login?next=…` and the
/// API answers a JSON 401 (see [`crate::web::errors`]).
pub struct CurrentUser(pub User);

/// The signed-in person, if there is one.
pub struct MaybeUser(pub Option<User>);

impl<'a> FromRequest<'a> for MaybeUser {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
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
            return Ok(MaybeUser(tokens::user_for(&state.db, token).await?));
        }
        let Some(session) = req.extensions().get::<Session>() else {
            return Ok(MaybeUser(None));
        };
        Ok(MaybeUser(sessions::current(&state, session).await?))
    }
}

impl<'a> FromRequest<'a> for CurrentUser {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        match MaybeUser::from_request(req, body).await?.0 {
            Some(user) => {
                must_have_two_factor(req, &user).await?;
                Ok(CurrentUser(user))
            }
            None => {
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

/// Someone `REQUIRE_TWO_FACTOR` covers, signed in with a password and without codes,
/// gets only the pages that set codes up (and sign-out) until they have them.
/// (A Google sign-in is not asked: Google has its own second factor; a personal
/// access token was made by someone signed in.)
async fn must_have_two_factor(req: &Request, user: &User) -> poem::Result<()> {
    let state = AppState::of(req)?;
    if !state.config.require_two_factor.applies_to(user)
        || req.uri().path().starts_with(crate::dashboard::TWO_FACTOR)
        || req.header(poem::http::header::AUTHORIZATION).is_some()
    {
        return Ok(());
    }
    let Some(session) = req.extensions().get::<Session>() else { return Ok(()) };
    if sessions::signed_in_with_google(session).await?
        || crate::accounts::two_factor::is_on(&state.db, user.id).await?
    {
        return Ok(());
    }
    Err(AppError::TwoFactorRequired.into())
}
