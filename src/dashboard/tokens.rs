//! Making and revoking personal access tokens from the dashboard.

use poem::handler;
use poem::web::{Data, Path, Redirect};
use serde::Deserialize;
use tower_sessions::Session;

use crate::AppState;
use crate::accounts::tokens;
use crate::error::{AppError, Result};
use crate::web::{CurrentUser, Form};

/// Session key for a token just made: shown on the next dashboard visit, then gone.
pub const NEW_TOKEN: &str = "dashboard_new_token";

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewToken {
    name: String,
}

#[handler]
pub async fn create(
    state: Data<&AppState>,
    Data(session): Data<&Session>,
    CurrentUser(user): CurrentUser,
    Form(input): Form<NewToken>,
) -> Result<Redirect> {
    let name = input.name.trim();
    let name = if name.is_empty() { "Unnamed token" } else { name };
    let name: String = name.chars().take(80).collect();
    let token = tokens::create(&state.db, user.id, &name).await?;
    tracing::info!(target: "audit", user_id = user.id, "API token made");
    session.insert(NEW_TOKEN, token).await?;
    Ok(Redirect::see_other("/dashboard#tokens"))
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
