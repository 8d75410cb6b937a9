//! How much of a room a person wants to hear about when they are not looking:
//! everything, mentions, or nothing. Rooms default to mentions and conversations
//! to everything, as in most team chats. Notifications on devices follow it, and
//! the emails about missed mentions honour it (nothing: no email).
//!
//! Kept per membership; `NULL` is the default for the room's kind, so a default
//! changed later applies to everyone who never chose.

use maud::{Markup, html};
use poem::handler;
use poem::web::{Data, Path, Redirect};
use serde::{Deserialize, Serialize};

use super::rooms::{self, MyRoom};
use crate::AppState;
use crate::db::Db;
use crate::error::{AppError, Result};
use crate::on_db;
use crate::web::layout::page;
use crate::web::{CurrentUser, Form};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Everything,
    Mentions,
    Nothing,
}

impl Level {
    const ALL: [Level; 3] = [Level::Everything, Level::Mentions, Level::Nothing];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Everything => "everything",
            Level::Mentions => "mentions",
            Level::Nothing => "nothing",
        }
    }

    fn parse(text: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|level| level.as_str() == text)
    }

    fn label(self) -> &'static str {
        match self {
            Level::Everything => "Every message",
            Level::Mentions => "Only when I am mentioned",
            Level::Nothing => "Nothing",
        }
    }

    /// What a room of this kind is, for whoever never chose.
    pub fn default_for(room: &MyRoom) -> Level {
        if room.is_direct() { Level::Everything } else { Level::Mentions }
    }
}

/// `user_id`'s level for `room`, chosen or by default.
pub async fn of(db: &Db, user_id: i64, room: &MyRoom) -> Result<Level> {
    let chosen: Option<String> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT notify FROM memberships WHERE room_id = $1 AND user_id = $2",
    )
    .bind(room.id)
    .bind(user_id)
    .fetch_optional(pool)
    .await)?
    .flatten();
    Ok(chosen.as_deref().and_then(Level::parse).unwrap_or_else(|| Level::default_for(room)))
}

/// Sets `user_id`'s level for `room`.
pub async fn set(db: &Db, user_id: i64, room: &MyRoom, level: Level) -> Result<()> {
    on_db!(db, pool => sqlx::query("UPDATE memberships SET notify = $3 WHERE room_id = $1 AND user_id = $2")
        .bind(room.id)
        .bind(user_id)
        .bind(level.as_str())
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Choice {
    level: String,
}

/// `GET /chat/{room}/notifications`.
#[handler]
pub async fn show(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(slug): Path<String>,
) -> Result<Markup> {
    let room = rooms::find_mine(&state.db, user.id, &slug).await?.ok_or(AppError::NotFound)?;
    let level = of(&state.db, user.id, &room).await?;
    Ok(view(&user, &room, level))
}

/// `POST /chat/{room}/notifications` with `level`.
#[handler]
pub async fn choose(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(slug): Path<String>,
    Form(input): Form<Choice>,
) -> Result<Redirect> {
    let room = rooms::find_mine(&state.db, user.id, &slug).await?.ok_or(AppError::NotFound)?;
    let level = Level::parse(&input.level)
        .ok_or(AppError::Unprocessable("Choose everything, mentions or nothing."))?;
    set(&state.db, user.id, &room, level).await?;
    Ok(Redirect::see_other(format!("/chat/{slug}")))
}

fn view(user: &crate::accounts::User, room: &MyRoom, level: Level) -> Markup {
    let name = if room.is_direct() { room.title.clone() } else { format!("#{}", room.title) };
    page(
        "Notifications",
        Some(user),
        html! {
            section.card.narrow {
                h1 { "Notifications for " (name) }
                form method="post" action=(format!("/chat/{}/notifications", room.slug)) {
                    fieldset {
                        legend { "When you are not looking, tell me about" }
                        @for choice in Level::ALL {
                            div.check {
                                input id=(format!("level-{}", choice.as_str())) type="radio" name="level"
                                    value=(choice.as_str()) checked[choice == level];
                                label for=(format!("level-{}", choice.as_str())) {
                                    (choice.label())
                                    @if choice == Level::default_for(room) { " (the default here)" }
                                }
                            }
                        }
                    }
                    p.hint { "Where this Hearth sends email, mentions you missed are emailed unless this is Nothing." }
                    button.primary type="submit" { "Save" }
                }
                p.aside { a href=(format!("/chat/{}", room.slug)) { "Back to " (name) } }
            }
        },
    )
}
