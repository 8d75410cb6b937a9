//! Reacting to a message from the room page: the picker in the message's menu
//! (see `editing::actions`), and the reaction buttons under a message, each of
//! which adds the viewer's own or takes it back. The work is [`super::react`]'s;
//! this file speaks HTTP.

use std::time::Duration;

use maud::html;
use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;

use super::editing::{in_room, is_htmx, visible};
use super::reactions::Want;
use super::rooms::MyRoom;
use super::{Refused, views};
use crate::AppState;
use crate::accounts::User;
use crate::chat::messages::Message;
use crate::error::{AppError, Result};
use crate::web::layout::page;
use crate::web::{CurrentUser, Form};

/// The picker again, with what was typed and why it was not taken.
fn picker_page(
    req: &Request,
    user: &User,
    room: &MyRoom,
    message: &Message,
    typed: &str,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    let form = views::picker(message, typed, problem);
    if is_htmx(req) {
        // A pick answers with the message; a problem goes back into its menu.
        let picker = format!("#m-{} form.picker", message.seq);
        return form
            .with_status(status)
            .with_header("HX-Retarget", picker)
            .with_header("HX-Reswap", "outerHTML")
            .into_response();
    }
    let title = format!("React to a message in {}", room.title);
    let back = format!("/chat/{}#m-{}", room.slug, message.seq);
    page(
        &title,
        Some(user),
        html! {
            section.card {
                h1 { (title) }
                div.messages.standalone { (views::message(message)) }
                (form)
                p { a href=(back) { "Back to the room" } }
            }
        },
    )
    .with_status(status)
    .into_response()
}

/// A reaction button's `emoji`, or the picker's field, `other` (which only the
/// picker sends, so it also says where the pick came from).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReactionForm {
    emoji: String,
    other: Option<String>,
}

impl ReactionForm {
    fn emoji(&self) -> &str {
        match &self.other {
            Some(other) if self.emoji.is_empty() => other,
            _ => &self.emoji,
        }
    }
}

/// Adds the viewer's reaction, or takes it back if it is there: the message as it
/// now is for htmx (the socket shows it to everyone else), or 303 back to it.
#[handler]
pub async fn toggle(
    req: &Request,
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    Form(input): Form<ReactionForm>,
) -> Result<Response> {
    let (room, message) = visible(&state, &user, id).await?;
    let reacted =
        super::react(&state, &user, room.id, message.seq, input.emoji(), Want::Flip).await?;
    let problem = match reacted {
        Ok(changed) => {
            let now = changed.unwrap_or(message);
            if is_htmx(req) {
                return Ok(views::message(&now).into_response());
            }
            return Ok(in_room(&room, &now).into_response());
        }
        Err(Refused::Gone | Refused::NotInRoom) => return Err(AppError::NotFound),
        Err(problem) => problem,
    };
    let status = match problem {
        Refused::TooFast => StatusCode::TOO_MANY_REQUESTS,
        Refused::Full | Refused::Archived => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let text = Some(problem.message());
    if is_htmx(req) && input.other.is_none() {
        // A reaction button under the message: there is no picker to show it in.
        return Err(match problem {
            Refused::TooFast => AppError::RateLimited { retry_after: Duration::from_secs(1) },
            Refused::Full | Refused::Archived => AppError::Conflict(problem.message()),
            _ => AppError::Unprocessable(problem.message()),
        });
    }
    let typed = input.other.as_deref().unwrap_or_default();
    Ok(picker_page(req, &user, &room, &message, typed, text, status))
}
