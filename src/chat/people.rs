//! People: who is here, and starting a direct message with one of them.

use maud::html;
use poem::web::{Data, Path, Redirect};
use poem::{IntoResponse, Response, handler};

use super::{limits, rooms};
use crate::AppState;
use crate::accounts::users;
use crate::error::{AppError, Result};
use crate::web::CurrentUser;
use crate::web::layout::{avatar, page};

#[handler]
pub async fn list(state: Data<&AppState>, CurrentUser(user): CurrentUser) -> Result<maud::Markup> {
    let people = users::all(&state.db).await?;
    Ok(page(
        "People",
        Some(&user),
        html! {
            section.card {
                h1 { "People" }
                ul.people {
                    @for person in &people {
                        li {
                            (avatar(person, ""))
                            a href=(format!("/people/{}", person.id)) { (person.name) }
                            @if person.id == user.id {
                                span.badge { "You" }
                            } @else {
                                form method="post" action=(format!("/people/{}/message", person.id)) {
                                    button.secondary.small type="submit" { "Message " span.visually-hidden { (person.name) } }
                                }
                            }
                        }
                    }
                }
            }
        },
    ))
}

#[handler]
pub async fn show(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<maud::Markup> {
    let person = users::find_by_id(&state.db, id).await?.ok_or(AppError::NotFound)?;
    Ok(page(
        &person.name,
        Some(&user),
        html! {
            section.card.profile {
                (avatar(&person, "large"))
                div {
                    h1 { (person.name) }
                    @if person.id != user.id {
                        form method="post" action=(format!("/people/{}/message", person.id)) {
                            button.primary type="submit" { "Send a direct message" }
                        }
                    }
                }
            }
        },
    ))
}

/// Opens the direct-message room with this person, creating it the first time (which
/// counts as starting a room).
#[handler]
pub async fn message(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    if id == user.id {
        return Err(AppError::NotFound);
    }
    let other = users::find_by_id(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let is_new = !rooms::exists(&state.db, &rooms::direct_slug(user.id, other.id)).await?;
    if is_new && let Err(retry_after) = state.chat_limits.room_started_by(user.id) {
        let problem = limits::too_fast(retry_after);
        let page = page(
            "Too many new conversations",
            Some(&user),
            html! {
                section.card.narrow {
                    h1 { "Too many new conversations" }
                    p { (problem) }
                    p { a href=(format!("/people/{}", other.id)) { "Back to " (other.name) } }
                }
            },
        );
        return Ok(limits::refused(page, retry_after));
    }
    let (slug, room_id) = rooms::direct(&state.db, user.id, other.id).await?;
    super::joined(&state, user.id, room_id).await?;
    super::joined(&state, other.id, room_id).await?;
    Ok(Redirect::see_other(format!("/chat/{slug}")).into_response())
}
