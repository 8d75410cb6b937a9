//! People: who is here, and starting a conversation with one of them, or a group.

use maud::html;
use poem::http::StatusCode;
use poem::web::{Data, Path, Redirect};
use poem::{IntoResponse, Response, handler};

use super::limits;
use super::membership::{self, NotDone};
use crate::AppState;
use crate::accounts::{User, users};
use crate::error::{AppError, Result};
use crate::web::layout::{avatar, page};
use crate::web::{CurrentUser, Form};

#[handler]
pub async fn list(state: Data<&AppState>, CurrentUser(user): CurrentUser) -> Result<maud::Markup> {
    let people = users::all(&state.db).await?;
    let bots = crate::bots::store::ids(&state.db).await?;
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
                            @if bots.contains(&person.id) { span.badge { "Bot" } }
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
            @let others: Vec<&User> =
                people.iter().filter(|p| p.id != user.id && p.deactivated_at.is_none()).collect();
            @if others.len() > 1 {
                section.card.narrow-left {
                    h2 { "Start a group conversation" }
                    form method="post" action="/conversations" {
                        fieldset {
                            legend { "With (up to seven people)" }
                            @for person in &others {
                                div.check {
                                    input id=(format!("with-{}", person.id)) type="checkbox" name="with" value=(person.id);
                                    label for=(format!("with-{}", person.id)) { (person.name) }
                                }
                            }
                        }
                        button.primary type="submit" { "Start conversation" }
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
    conversation(&state, &user, &[id]).await
}

/// Opens a group conversation with the people ticked on the people page (`with`,
/// once for each).
#[handler]
pub async fn group(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let mut others = Vec::new();
    for (name, value) in fields {
        match (name.as_str(), value.trim().parse::<i64>()) {
            ("with", Ok(id)) => others.push(id),
            _ => return Err(AppError::BadRequest("the form is malformed")),
        }
    }
    conversation(&state, &user, &others).await
}

async fn conversation(state: &AppState, user: &User, others: &[i64]) -> Result<Response> {
    match membership::converse(state, user, others).await? {
        Ok(room) => Ok(Redirect::see_other(format!("/chat/{}", room.slug)).into_response()),
        Err(not_done) => {
            let problem = not_done.message();
            let page = page(
                "No conversation started",
                Some(user),
                html! {
                    section.card.narrow {
                        h1 { "No conversation started" }
                        p role="alert" { (problem) }
                        p { a href="/people" { "Back to people" } }
                    }
                },
            );
            Ok(match not_done {
                NotDone::TooFast(retry_after) => limits::refused(page, retry_after),
                _ => page.with_status(StatusCode::UNPROCESSABLE_ENTITY).into_response(),
            })
        }
    }
}
