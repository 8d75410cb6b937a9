//! Making and revoking personal access tokens from the dashboard.

use poem::handler;
use poem::web::{Data, Path, Redirect};
use serde::Deserialize;
use tower_sessions::Session;

use crate::AppState;
use crate::accounts::reauth::Confirmed;
use crate::accounts::tokens;
use crate::error::{AppError, Result};
use crate::web::{CurrentUser, Form};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewToken {
    name: String,
}

/// Makes a token and shows it in the answer itself, once: it is never stored
/// anywhere readable, not even in the session until the next page (a page that
/// is `no-store`, so the browser keeps no copy either).
#[handler]
pub async fn create(
    state: Data<&AppState>,
    Data(session): Data<&Session>,
    Confirmed(user): Confirmed,
    Form(input): Form<NewToken>,
) -> Result<maud::Markup> {
    let name = input.name.trim();
    let name = if name.is_empty() { "Unnamed token" } else { name };
    let name: String = name.chars().take(80).collect();
    let token = tokens::create(&state.db, user.id, &name).await?;
    tracing::info!(target: "audit", user_id = user.id, "API token made");
    super::render(&state, session, &user, None, Some(token), Default::default()).await
}

#[handler]
pub async fn revoke(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Redirect> {
    if !tokens::revoke(&state.db, user.id, id).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(target: "audit", user_id = user.id, token_id = id, "API token revoked");
    Ok(Redirect::see_other("/dashboard#tokens"))
}
