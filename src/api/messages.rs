//! Messages in the API: history, posting, editing, deleting and reacting.

use std::time::Duration;

use poem::http::StatusCode;
use poem::web::{Data, Json, Path, Query};
use poem::{IntoResponse, Response, handler};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::accounts::User;
use crate::chat::Refused;
use crate::chat::messages::{self, Message};
use crate::chat::reactions::Want;
use crate::chat::rooms;
use crate::error::{AppError, Result};
use crate::files::Attachment;
use crate::files::upload::{self, Sent, WithFiles};
use crate::web::CurrentUser;
use crate::web::form::JsonBody;

#[derive(Serialize)]
struct MessageOut {
    id: i64,
    seq: i64,
    author: Author,
    body: String,
    /// Unix seconds.
    created_at: i64,
    /// Unix seconds of the last edit; `null` if never edited.
    edited_at: Option<i64>,
    /// In the order they were first added.
    reactions: Vec<ReactionOut>,
    /// Whom it mentions (user ids).
    mentions: Vec<i64>,
    /// Its files, in the order they were sent.
    attachments: Vec<AttachmentOut>,
}

/// A file of a message as the API lists it.
#[derive(Serialize)]
struct AttachmentOut {
    id: i64,
    name: String,
    content_type: String,
    /// Bytes.
    size: i64,
    /// Where it is downloaded (the session or a token).
    url: String,
    /// A picture's preview; `null` for other files.
    thumbnail_url: Option<String>,
}

impl From<Attachment> for AttachmentOut {
    fn from(file: Attachment) -> Self {
        AttachmentOut {
            url: file.url(),
            thumbnail_url: file.preview_url(),
            id: file.id,
            name: file.name,
            content_type: file.content_type,
            size: file.size,
        }
    }
}

#[derive(Serialize)]
struct Author {
    id: i64,
    name: String,
}

/// A reaction as the API lists it.
#[derive(Serialize)]
struct ReactionOut {
    emoji: String,
    count: usize,
    /// Whether the one asking is among those who reacted.
    mine: bool,
}

impl MessageOut {
    /// `m` as `viewer` sees it (`mine` on reactions is theirs).
    fn new(m: Message, viewer: &User) -> Self {
        let reactions = m
            .reactions
            .into_iter()
            .map(|r| ReactionOut {
                count: r.people.len(),
                mine: r.people.iter().any(|(id, _)| *id == viewer.id),
                emoji: r.emoji,
            })
            .collect();
        MessageOut {
            id: m.id,
            seq: m.seq,
            author: Author { id: m.user_id, name: m.author_name },
            body: m.body,
            created_at: m.created_at,
            edited_at: m.edited_at,
            reactions,
            mentions: m.mentions.iter().map(|(id, _)| *id).collect(),
            attachments: m.attachments.into_iter().map(AttachmentOut::from).collect(),
        }
    }
}

#[derive(Deserialize)]
struct Page {
    before: Option<i64>,
    limit: Option<i64>,
}

/// Messages of a room, oldest first: the newest page, or those before `before`.
#[handler]
pub(super) async fn history(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(slug): Path<String>,
    Query(page): Query<Page>,
) -> Result<Json<Vec<MessageOut>>> {
    let limit = page.limit.unwrap_or(messages::PAGE);
    if !(1..=200).contains(&limit) {
        return Err(AppError::Unprocessable("limit must be between 1 and 200"));
    }
    let room = rooms::find_mine(&state.db, user.id, &slug).await?.ok_or(AppError::NotFound)?;
    let found =
        messages::before_limit(&state.db, room.id, page.before.unwrap_or(i64::MAX), limit).await?;
    Ok(Json(found.into_iter().map(|m| MessageOut::new(m, &user)).collect()))
}

/// The body of `POST /api/rooms/{slug}/messages`, and of `PATCH` on one of them.
#[derive(Deserialize)]
pub struct NewMessage {
    pub body: String,
}

/// Posts a message; it appears live in every browser in the room. JSON `{"body"}`,
/// or a form (`multipart/form-data`) with a `body` field, `file` fields, or both.
#[handler]
pub(super) async fn post_message(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(slug): Path<String>,
    input: WithFiles<JsonBody<NewMessage>>,
) -> Result<Response> {
    let room = rooms::find_mine(&state.db, user.id, &slug).await?.ok_or(AppError::NotFound)?;
    let sent = match input {
        WithFiles::No(JsonBody(input)) => Sent { body: input.body, ..Sent::default() },
        WithFiles::Yes(form) => upload::receive(&state, user.id, room.id, form).await?,
    };
    if let Some(too_much) = sent.refused {
        return Err(too_much.error(state.config.attachment_max_mb));
    }
    let posted = crate::chat::send(&state, &user, room.id, &sent.body, &sent.files).await?;
    if posted.is_err() {
        // Nothing else will send them: a script sends its files again with its retry.
        crate::files::discard(&state.db, user.id, &sent.uploaded).await?;
    }
    match posted {
        Ok(message) => Ok(Json(MessageOut::new(message, &user))
            .with_status(StatusCode::CREATED)
            .into_response()),
        Err(refused) => Err(refused_error(refused)),
    }
}

/// A refused message, edit or deletion as an API error.
fn refused_error(refused: Refused) -> AppError {
    match refused {
        Refused::Invalid(problem) => AppError::Unprocessable(problem),
        Refused::TooFast => AppError::RateLimited { retry_after: Duration::from_secs(1) },
        Refused::NotInRoom | Refused::Gone => AppError::NotFound,
        Refused::NotYours => AppError::Forbidden(Refused::NotYours.message()),
        Refused::NotAnEmoji(problem) => AppError::Unprocessable(problem),
        Refused::Full | Refused::Archived => AppError::Conflict(refused.message()),
    }
}

/// Replaces the text of one's own message; every open page shows the new text.
#[handler]
pub(super) async fn edit_message(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path((slug, seq)): Path<(String, i64)>,
    JsonBody(input): JsonBody<NewMessage>,
) -> Result<Json<MessageOut>> {
    let room = rooms::find_mine(&state.db, user.id, &slug).await?.ok_or(AppError::NotFound)?;
    let edited = crate::chat::edit(&state, &user, room.id, seq, &input.body).await?;
    Ok(Json(MessageOut::new(edited.map_err(refused_error)?, &user)))
}

/// Deletes a message for everyone: one's own, or anyone's for an administrator.
#[handler]
pub(super) async fn delete_message(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path((slug, seq)): Path<(String, i64)>,
) -> Result<StatusCode> {
    let room = rooms::find_mine(&state.db, user.id, &slug).await?.ok_or(AppError::NotFound)?;
    crate::chat::delete(&state, &user, room.id, seq).await?.map_err(refused_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Puts one's reaction on a message (nothing changes if it is there already).
#[handler]
pub(super) async fn add_reaction(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path((slug, seq, emoji)): Path<(String, i64, String)>,
) -> Result<StatusCode> {
    react(&state, &user, &slug, seq, &emoji, Want::On).await
}

/// Takes one's reaction off a message (nothing changes if it is not there).
#[handler]
pub(super) async fn remove_reaction(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path((slug, seq, emoji)): Path<(String, i64, String)>,
) -> Result<StatusCode> {
    react(&state, &user, &slug, seq, &emoji, Want::Off).await
}

pub(super) async fn react(
    state: &AppState,
    user: &User,
    slug: &str,
    seq: i64,
    emoji: &str,
    want: Want,
) -> Result<StatusCode> {
    let room = rooms::find_mine(&state.db, user.id, slug).await?.ok_or(AppError::NotFound)?;
    crate::chat::react(state, user, room.id, seq, emoji, want).await?.map_err(refused_error)?;
    Ok(StatusCode::NO_CONTENT)
}
