//! Who is asking: extractors for handlers that need a signed-in person, or may have one.

use poem::{FromRequest, Request, RequestBody};
use tower_sessions::Session;

use crate::AppState;
use crate::accounts::User;
use crate::accounts::sessions;
use crate::error::AppError;

/// The signed-in person. Without one, pages answer 303 to `/login?next=…` and the
/// API answers a JSON 401 (see [`crate::web::errors`]).
pub struct CurrentUser(pub User);

/// The signed-in person, if there is one.
pub struct MaybeUser(pub Option<User>);

impl<'a> FromRequest<'a> for MaybeUser {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let state = AppState::of(req)?;
        let Some(session) = req.extensions().get::<Session>() else {
            return Ok(MaybeUser(None));
        };
        Ok(MaybeUser(sessions::current(&state, session).await?))
    }
}

impl<'a> FromRequest<'a> for CurrentUser {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        match MaybeUser::from_request(req, body).await?.0 {
            Some(user) => Ok(CurrentUser(user)),
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
