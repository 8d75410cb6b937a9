//! The JSON API, on the same sessions as the pages. Errors here are JSON too
//! (see [`crate::web::errors`]).

use poem::web::Json;
use poem::{Route, get, handler};
use serde::Serialize;

use crate::web::CurrentUser;

pub fn routes(route: Route) -> Route {
    route.at("/api/me", get(me))
}

#[derive(Serialize)]
struct Me {
    id: i64,
    name: String,
    email: String,
    /// `null` when the person has no picture (pages then show their initials).
    avatar_url: Option<String>,
}

#[handler]
async fn me(CurrentUser(user): CurrentUser) -> Json<Me> {
    Json(Me { id: user.id, name: user.name, email: user.email, avatar_url: user.avatar_url })
}
