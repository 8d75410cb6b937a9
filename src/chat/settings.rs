//! Room settings: a room's name, its topic, and whether it is archived. Its creator
//! and administrators change them through [`change`], the one owner the page and
//! the API both call; every open page of the room shows the change at once, on
//! every instance, and a page that was away gets it when its socket resumes.
//!
//! A rename keeps the room's address (its slug), so links, bookmarks and open
//! sockets stay right. An archived room is read-only: the statement that would
//! number a new message or change refuses it (see `changes::next_event!`), so
//! nothing gets in even while the archiving commits. It leaves the sidebar and is
//! listed under "Archived" on `/rooms`; its history stays for its members.
//! Conversations have no settings: they are named by their people.

use std::sync::Arc;

use maud::html;
use poem::http::StatusCode;
use poem::web::{Data, Path, Redirect};
use poem::{IntoResponse, Response, handler};
use serde::Deserialize;

use super::body::{RoomName, Topic};
use super::membership::NotDone;
use super::rooms::{self, MyRoom};
use super::{bus, views};
use crate::AppState;
use crate::accounts::User;
use crate::db::{self, Db};
use crate::error::{AppError, Result};
use crate::on_db;
use crate::web::layout::{Field, page};
use crate::web::{CurrentUser, Form};

/// Whether `user` may change `room`'s settings and take others out of it: its
/// creator and administrators, never for a conversation.
pub fn may_manage(user: &User, room: &MyRoom) -> bool {
    !room.is_direct() && (user.is_admin || room.created_by == Some(user.id))
}

/// A room as every member sees it: what a change of settings pushes.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct About {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub topic: String,
    pub private: bool,
    pub archived: bool,
    /// A conversation, named per viewer by the others in it.
    pub direct: bool,
}

impl From<&MyRoom> for About {
    fn from(room: &MyRoom) -> Self {
        About {
            id: room.id,
            slug: room.slug.clone(),
            name: room.title.clone(),
            topic: room.topic.clone(),
            private: room.private,
            archived: room.archived,
            direct: room.is_direct(),
        }
    }
}

async fn about(db: &Db, room_id: i64) -> Result<Option<About>> {
    let about = on_db!(db, pool => sqlx::query_as(
        "SELECT id, slug, name, topic, private, archived_at IS NOT NULL AS archived,
                kind = 'direct' AS direct
         FROM rooms WHERE id = $1",
    )
    .bind(room_id)
    .fetch_optional(pool)
    .await)?;
    Ok(about)
}

/// What to change; `None` leaves it as it is.
#[derive(Debug, Default, Clone, Copy)]
pub struct Changes<'a> {
    pub name: Option<&'a str>,
    pub topic: Option<&'a str>,
    pub archived: Option<bool>,
}

/// Changes `room`'s settings as `by` asks, if they may; every open page of the room
/// shows the change. The outer `Result` is for failures, the inner one a problem to
/// show.
pub async fn change(
    state: &AppState,
    by: &User,
    room: &MyRoom,
    changes: Changes<'_>,
) -> Result<Result<(), NotDone>> {
    if !may_manage(by, room) {
        return Ok(Err(NotDone::NotManager));
    }
    let name = match changes.name.map(RoomName::parse).transpose() {
        Ok(name) => name,
        Err(problem) => return Ok(Err(NotDone::Invalid(problem))),
    };
    let topic = match changes.topic.map(Topic::parse).transpose() {
        Ok(topic) => topic,
        Err(problem) => return Ok(Err(NotDone::InvalidTopic(problem))),
    };
    if changes.archived == Some(true) && room.slug == "general" {
        return Ok(Err(NotDone::Everyones));
    }
    if let Some(name) = &name
        && rooms::name_taken(&state.db, &name.slug, Some(room.id)).await?
    {
        return Ok(Err(NotDone::NameTaken));
    }
    let updated = on_db!(&state.db, pool => sqlx::query(
        "UPDATE rooms SET name = COALESCE($2, name), name_key = COALESCE($3, name_key),
                topic = COALESCE($4, topic),
                archived_at = CASE WHEN NOT $5 THEN archived_at
                                   WHEN $6 THEN COALESCE(archived_at, $7) ELSE NULL END
         WHERE id = $1",
    )
    .bind(room.id)
    .bind(name.as_ref().map(|n| &n.name))
    .bind(name.as_ref().map(|n| &n.slug))
    .bind(topic.as_ref().map(Topic::as_str))
    .bind(changes.archived.is_some())
    .bind(changes.archived.unwrap_or(false))
    .bind(db::now())
    .execute(pool)
    .await
    .map(drop));
    match updated {
        Ok(()) => {}
        // Another room took the name meanwhile.
        Err(sqlx::Error::Database(err)) if err.is_unique_violation() => {
            return Ok(Err(NotDone::NameTaken));
        }
        Err(err) => return Err(err.into()),
    }
    tracing::info!(target: "audit", by = by.id, admin = by.is_admin, room_id = room.id,
        renamed = name.is_some(), topic = topic.is_some(), archived = ?changes.archived,
        "changed a room's settings");
    // Saved: showing it is on a best-effort footing (a page that misses it gets it
    // on its next load or reconnect). On PostgreSQL the notification reaches every
    // instance, this one included, one at a time in commit order; each shows the
    // room as it is when it reads it, so the last shown is the newest.
    if state.db.is_postgres() {
        bus::room_changed(state, room.id).await;
    } else {
        show_here(state, room.id).await;
    }
    Ok(Ok(()))
}

/// Shows room `room_id` as it now is on this instance's open sockets.
pub async fn show_here(state: &AppState, room_id: i64) {
    match about(&state.db, room_id).await {
        Ok(Some(about)) if !about.direct => {
            state.hub.room_changed(Arc::new(views::room_news(&about)));
        }
        Ok(_) => {}
        Err(err) => tracing::warn!("could not show a room's new settings: {err:#}"),
    }
}

/// The settings page, for whoever may change them (403 for other members, 404 for
/// everyone else, as for the room).
#[handler]
pub async fn show(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(slug): Path<String>,
) -> Result<Response> {
    let room = managed(&state, &user, &slug).await?;
    let typed = SettingsForm { name: room.title.clone(), topic: room.topic.clone() };
    Ok(settings_page(&user, &room, &typed, None).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SettingsForm {
    name: String,
    topic: String,
}

/// Saves the name and topic: 303 to the room, or the form with what was typed and
/// why it was not saved.
#[handler]
pub async fn save(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(slug): Path<String>,
    Form(input): Form<SettingsForm>,
) -> Result<Response> {
    let room = managed(&state, &user, &slug).await?;
    let changes = Changes { name: Some(&input.name), topic: Some(&input.topic), archived: None };
    match change(&state, &user, &room, changes).await? {
        Ok(()) => Ok(Redirect::see_other(format!("/chat/{slug}")).into_response()),
        Err(not_done) => {
            let status = match not_done {
                NotDone::NameTaken => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let page = settings_page(&user, &room, &input, Some(&not_done));
            Ok(page.with_status(status).into_response())
        }
    }
}

/// Archives the room: 303 to it (read-only now).
#[handler]
pub async fn archive(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(slug): Path<String>,
) -> Result<Response> {
    set_archived(&state, &user, &slug, true).await
}

/// Brings an archived room back: 303 to it.
#[handler]
pub async fn unarchive(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(slug): Path<String>,
) -> Result<Response> {
    set_archived(&state, &user, &slug, false).await
}

async fn set_archived(
    state: &AppState,
    user: &User,
    slug: &str,
    archived: bool,
) -> Result<Response> {
    let room = managed(state, user, slug).await?;
    let changes = Changes { archived: Some(archived), ..Changes::default() };
    if let Err(not_done) = change(state, user, &room, changes).await? {
        let typed = SettingsForm { name: room.title.clone(), topic: room.topic.clone() };
        let page = settings_page(user, &room, &typed, Some(&not_done));
        return Ok(page.with_status(StatusCode::FORBIDDEN).into_response());
    }
    Ok(Redirect::see_other(format!("/chat/{slug}")).into_response())
}

/// The room, if `user` is in it (404 otherwise) and may manage it (403 otherwise).
async fn managed(state: &AppState, user: &User, slug: &str) -> Result<MyRoom> {
    let room = rooms::find_mine(&state.db, user.id, slug).await?.ok_or(AppError::NotFound)?;
    if !may_manage(user, &room) {
        return Err(AppError::Forbidden(
            "Only the room's creator or an administrator can change its settings.",
        ));
    }
    Ok(room)
}

fn settings_page(
    user: &User,
    room: &MyRoom,
    typed: &SettingsForm,
    problem: Option<&NotDone>,
) -> maud::Markup {
    let slug = &room.slug;
    let message = problem.map(NotDone::message);
    let (name_problem, topic_problem, other_problem) = match problem {
        Some(NotDone::InvalidTopic(_)) => (None, message.as_deref(), None),
        Some(NotDone::Invalid(_) | NotDone::NameTaken) => (message.as_deref(), None, None),
        Some(_) => (None, None, message.as_deref()),
        None => (None, None, None),
    };
    let title = format!("Settings of #{}", room.title);
    let address = format!("Renaming keeps its address, /chat/{slug}.");
    page(
        &title,
        Some(user),
        html! {
            section.card {
                h1 { (title) }
                @if let Some(problem) = other_problem { p.error role="alert" { (problem) } }
                form method="post" action=(format!("/chat/{slug}/settings")) {
                    (Field { label: "Name", name: "name", kind: "text", value: &typed.name,
                        error: name_problem, autocomplete: "off",
                        hint: Some(&address) }.render())
                    (Field { label: "Topic", name: "topic", kind: "text", value: &typed.topic,
                        error: topic_problem, autocomplete: "off",
                        hint: Some("What the room is for, under its name. Up to 250 characters.") }.render())
                    button.primary type="submit" { "Save" }
                }
            }
            section.card.narrow-left {
                @if room.archived {
                    h2 { "Archived" }
                    p { "Nobody can post, edit or react here. Bring it back to open it again." }
                    form method="post" action=(format!("/chat/{slug}/unarchive")) {
                        button.primary type="submit" { "Unarchive #" (room.title) }
                    }
                } @else if slug != "general" {
                    h2 { "Archive" }
                    p { "An archived room is read-only and leaves everyone's sidebar; its history stays." }
                    form method="post" action=(format!("/chat/{slug}/archive")) {
                        button.secondary type="submit" { "Archive #" (room.title) }
                    }
                }
                p { a href=(format!("/chat/{slug}")) { "Back to the room" } }
            }
        },
    )
}
