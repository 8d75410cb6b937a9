//! Files shared in messages: pictures shown inline, anything else as a card to
//! download.
//!
//! A file is stored as it arrives ([`upload`] reads the form, [`store`] keeps the
//! bytes in chunks in the database), and belongs to its uploader alone until the
//! message sent with it claims it (`chat::messages::post`, in the message's own
//! transaction). A picture is served without its metadata, upright, with a preview
//! made on the server ([`pictures`]). [`serve`] answers only the room's members,
//! and never lets a file run as a page of Hearth's.

pub mod pictures;
mod serve;
pub mod store;
pub mod upload;

use std::collections::HashMap;

use poem::{Route, get};

use crate::chat::messages::Message;
use crate::db::{self, Db};
use crate::error::Result;
use crate::on_db;

/// Files one message may carry.
pub const MAX_PER_MESSAGE: usize = 10;

/// How long an upload no message claimed is kept (a composer refused, then left).
const UNCLAIMED_FOR: i64 = 24 * 60 * 60;

pub fn routes(route: Route) -> Route {
    route.at("/files/:id/:name", get(serve::file)).at("/previews/:id", get(serve::preview))
}

/// Whether `path` is a file's, which scripts may fetch with an API token.
pub fn takes_tokens(path: &str) -> bool {
    path.starts_with("/files/") || path.starts_with("/previews/")
}

/// A file of a message, as it is listed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Attachment {
    pub id: i64,
    /// `None` while no message has claimed it.
    pub message_id: Option<i64>,
    pub name: String,
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    pub preview_width: Option<i64>,
    pub preview_height: Option<i64>,
}

impl Attachment {
    /// Where it is downloaded (or, a picture, opened): its name is in the path, so
    /// that what a browser saves is named as it was sent.
    pub fn url(&self) -> String {
        let name = percent_encoding::utf8_percent_encode(&self.name, PATH_SEGMENT);
        format!("/files/{}/{name}", self.id)
    }

    /// Where its preview is, for a picture.
    pub fn preview_url(&self) -> Option<String> {
        self.is_picture().then(|| format!("/previews/{}", self.id))
    }

    /// A picture shown inline (one that decoded, with a preview).
    pub fn is_picture(&self) -> bool {
        self.preview_width.is_some()
    }

    /// Its size as people read it: "812 bytes", "14 KB", "3.2 MB".
    pub fn size_text(&self) -> String {
        human_size(self.size)
    }
}

/// Everything but unreserved characters is escaped in a file's path segment.
const PATH_SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

pub fn human_size(bytes: i64) -> String {
    const KB: f64 = 1000.0;
    let b = bytes as f64;
    if b < KB {
        format!("{bytes} bytes")
    } else if b < KB * KB {
        format!("{:.0} KB", b / KB)
    } else {
        format!("{:.1} MB", b / (KB * KB))
    }
}

const COLUMNS: &str = "id, message_id, name, content_type, size, preview_width, preview_height";

/// Fills in the files of `messages`: wherever messages are shown.
pub async fn attach(db: &Db, messages: &mut [Message]) -> Result<()> {
    let ids: Vec<i64> = messages.iter().filter(|m| m.deleted_at.is_none()).map(|m| m.id).collect();
    let mut by_message = of_messages(db, &ids).await?;
    for message in messages.iter_mut() {
        message.attachments = by_message.remove(&message.id).unwrap_or_default();
    }
    Ok(())
}

/// The files of the messages `ids`, by message, each message's in their order.
pub async fn of_messages(db: &Db, ids: &[i64]) -> Result<HashMap<i64, Vec<Attachment>>> {
    let mut by_message: HashMap<i64, Vec<Attachment>> = HashMap::new();
    if ids.is_empty() {
        return Ok(by_message);
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM attachments WHERE message_id IN ({}) ORDER BY message_id, position",
        db::placeholders(1, ids.len())
    );
    let found: Vec<Attachment> = on_db!(db, pool => {
        let mut query = sqlx::query_as(&sql);
        for id in ids {
            query = query.bind(*id);
        }
        query.fetch_all(pool).await
    })?;
    for file in found {
        if let Some(message_id) = file.message_id {
            by_message.entry(message_id).or_default().push(file);
        }
    }
    Ok(by_message)
}

/// `uploader`'s files of `room_id` that no message has claimed, among `ids`: what a
/// composer refused still holds.
pub async fn unclaimed(
    db: &Db,
    uploader: i64,
    room_id: i64,
    ids: &[i64],
) -> Result<Vec<Attachment>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM attachments
         WHERE uploader_id = $1 AND room_id = $2 AND message_id IS NULL AND digest <> ''
           AND id IN ({}) ORDER BY id",
        db::placeholders(3, ids.len())
    );
    Ok(on_db!(db, pool => {
        let mut query = sqlx::query_as(&sql).bind(uploader).bind(room_id);
        for id in ids {
            query = query.bind(*id);
        }
        query.fetch_all(pool).await
    })?)
}

/// Deletes `uploader`'s uploads that no message claimed (their chunks go with
/// them); anyone else's are left alone.
pub async fn discard(db: &Db, uploader: i64, ids: &[i64]) -> Result<()> {
    for id in ids {
        on_db!(db, pool => sqlx::query(
            "DELETE FROM attachments WHERE id = $1 AND uploader_id = $2 AND message_id IS NULL",
        )
            .bind(*id)
            .bind(uploader)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
    }
    Ok(())
}

/// Bytes `uploader` has uploaded that no message has claimed yet.
pub async fn waiting_bytes(db: &Db, uploader: i64) -> Result<u64> {
    let bytes: i64 = on_db!(db, pool => sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM attachments
         WHERE uploader_id = $1 AND message_id IS NULL",
    )
    .bind(uploader)
    .fetch_one(pool)
    .await)?;
    Ok(bytes.max(0) as u64)
}

/// Deletes uploads no message claimed within a day: housekeeping.
pub async fn sweep(db: &Db) -> Result<u64> {
    let before = db::now() - UNCLAIMED_FOR;
    let swept = on_db!(db, pool => sqlx::query(
        "DELETE FROM attachments WHERE message_id IS NULL AND created_at < $1",
    )
    .bind(before)
    .execute(pool)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(swept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(human_size(812), "812 bytes");
        assert_eq!(human_size(14_200), "14 KB");
        assert_eq!(human_size(3_240_000), "3.2 MB");
    }

    #[test]
    fn a_file_url_carries_its_name_escaped() {
        let file = Attachment {
            id: 7,
            message_id: Some(1),
            name: "plan B/../v2 é.pdf".into(),
            content_type: "application/pdf".into(),
            size: 1,
            preview_width: None,
            preview_height: None,
        };
        assert_eq!(file.url(), "/files/7/plan%20B%2F..%2Fv2%20%C3%A9.pdf");
        assert_eq!(file.preview_url(), None);
    }
}
