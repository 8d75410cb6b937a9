//! Reading a message that carries files (`multipart/form-data`, from the composer
//! with or without JavaScript, or from the API): the text, the files, each stored
//! as it arrives, and those kept from an attempt that was refused.

use poem::http::header;
use poem::web::{Field, Multipart};
use poem::{FromRequest, Request, RequestBody};
use serde::de::DeserializeOwned;
use tokio::io::{AsyncRead, AsyncReadExt};

use super::pictures::Kind;
use super::store::{self, Part, Writer};
use crate::AppState;
use crate::db::{self, Db};
use crate::error::{AppError, Result};
use crate::on_db;
use crate::web::Form;
use crate::web::form::JsonBody;

/// A request body that is either `T` (a plain form, JSON) or a form with files.
pub enum WithFiles<T> {
    No(T),
    Yes(Multipart),
}

/// Whether the request is a form with files.
pub fn is_multipart(req: &Request) -> bool {
    req.header(header::CONTENT_TYPE)
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("multipart/form-data"))
}

/// The pages' forms: urlencoded, or with files.
impl<'a, T: DeserializeOwned> FromRequest<'a> for WithFiles<Form<T>> {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        if !is_multipart(req) {
            return Ok(WithFiles::No(Form::from_request(req, body).await?));
        }
        Ok(WithFiles::Yes(multipart(req, body).await?))
    }
}

/// The API's bodies: JSON, or a form with files.
impl<'a, T: DeserializeOwned> FromRequest<'a> for WithFiles<JsonBody<T>> {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        if !is_multipart(req) {
            return Ok(WithFiles::No(JsonBody::from_request(req, body).await?));
        }
        Ok(WithFiles::Yes(multipart(req, body).await?))
    }
}

async fn multipart(req: &Request, body: &mut RequestBody) -> Result<Multipart> {
    Multipart::from_request(req, body).await.map_err(|_| unreadable())
}

/// What a form with files said.
#[derive(Debug, Default)]
pub struct Sent {
    /// The `body` field: the message's text, perhaps empty.
    pub body: String,
    /// The files to send: those uploaded now, then those kept from before (each
    /// `attachment` field, at most [`super::MAX_PER_MESSAGE`] of them).
    pub files: Vec<i64>,
    /// Of [`Sent::files`], those uploaded by this request: what to delete if the
    /// message is refused (kept ones stay for the next try).
    pub uploaded: Vec<i64>,
    /// Why this request's files were refused (and deleted), if they were.
    pub refused: Option<TooMuch>,
}

/// Files refused for their number or their size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TooMuch {
    Large,
    Many,
    /// The uploader's files sent with no message yet would come to more than
    /// [`WAITING_MESSAGES`] messages' worth.
    Waiting,
}

impl TooMuch {
    /// As an error: 413 for the size, 422 for the number, 409 for uploads waiting.
    pub fn error(self, max_mb: u32) -> AppError {
        match self {
            TooMuch::Large => AppError::FilesTooLarge { max_mb },
            TooMuch::Many => AppError::Unprocessable(MANY),
            TooMuch::Waiting => AppError::Conflict(WAITING),
        }
    }
}

pub const MANY: &str = "A message can carry at most 10 files.";
const WAITING: &str = "You have many files uploaded and not yet sent. Send them first; \
                       unsent files are deleted after a day.";

/// How many messages' worth of files (at `ATTACHMENT_MAX_MB` each) one person may
/// have uploaded and not yet sent: refused sends keep their files for a day, so
/// without a cap one member could fill the database by refusing themselves.
const WAITING_MESSAGES: u64 = 4;

/// Text fields are short; this is far above the longest message.
const TEXT_LIMIT: u64 = 64 * 1024;

/// Reads the form of `uploader`, a member of `room_id`, storing its files.
pub async fn receive(
    state: &AppState,
    uploader: i64,
    room_id: i64,
    mut form: Multipart,
) -> Result<Sent> {
    let mut sent = Sent::default();
    let mut kept = Vec::new();
    let limit = state.config.attachment_max_bytes();
    let waiting = super::waiting_bytes(&state.db, uploader).await?;
    let mut budget = Budget {
        limit,
        files: 0,
        read: 0,
        room: (WAITING_MESSAGES * limit).saturating_sub(waiting),
    };
    let outcome: Result<()> = async {
        while let Some(field) = form.next_field().await.map_err(|_| unreadable())? {
            match field.name() {
                Some("body") => sent.body = text(field, &mut budget).await?,
                Some("attachment") => {
                    let id = text(field, &mut budget).await?.trim().parse::<i64>().ok();
                    if kept.len() < super::MAX_PER_MESSAGE {
                        kept.extend(id);
                    }
                }
                Some("file") if sent.refused.is_none() => {
                    let name = field.file_name().unwrap_or_default().to_owned();
                    let declared = field.content_type().unwrap_or_default().to_owned();
                    let mut upload =
                        Upload { reader: field.into_async_read(), budget: &mut budget };
                    let first = upload.first_bytes().await?;
                    if first.is_empty() && name.is_empty() {
                        continue; // An empty file input: nothing was chosen.
                    }
                    if sent.files.len() == super::MAX_PER_MESSAGE {
                        sent.refused = Some(TooMuch::Many);
                        upload.drain().await?;
                        continue;
                    }
                    let owner = (uploader, room_id);
                    match upload.store(state, owner, &name, &declared, first).await {
                        Ok(id) => sent.files.push(id),
                        Err(Stored::Refused(too_much)) => sent.refused = Some(too_much),
                        Err(Stored::Failed(err)) => return Err(err),
                    }
                }
                // Past a refusal, the rest is read only to answer cleanly.
                _ => {
                    Upload { reader: field.into_async_read(), budget: &mut budget }.drain().await?
                }
            }
        }
        Ok(())
    }
    .await;
    if outcome.is_err() || sent.refused.is_some() {
        super::discard(&state.db, uploader, &sent.files).await?;
        sent.files.clear();
    }
    outcome?;
    sent.uploaded = sent.files.clone();
    sent.files.extend(kept);
    Ok(sent)
}

fn unreadable() -> AppError {
    AppError::BadRequest("the form could not be read")
}

/// What one request may read: its files' limit, and a little more for its text and
/// the form's framing. Past that it is refused mid-stream.
struct Budget {
    limit: u64,
    files: u64,
    read: u64,
    /// What the uploader may still have waiting, unsent, before this request.
    room: u64,
}

/// What a form with files may carry beyond its files.
pub const SLACK: u64 = 1024 * 1024;

impl Budget {
    fn read(&mut self, n: usize) -> Result<()> {
        self.read += n as u64;
        if self.read > self.limit + SLACK { Err(AppError::PayloadTooLarge) } else { Ok(()) }
    }
}

async fn text(field: Field, budget: &mut Budget) -> Result<String> {
    let mut bytes = Vec::new();
    field
        .into_async_read()
        .take(TEXT_LIMIT + 1)
        .read_to_end(&mut bytes)
        .await
        .map_err(|_| unreadable())?;
    budget.read(bytes.len())?;
    if bytes.len() as u64 > TEXT_LIMIT {
        return Err(AppError::PayloadTooLarge);
    }
    String::from_utf8(bytes).map_err(|_| AppError::BadRequest("the form is not valid UTF-8"))
}

/// One file part being read.
struct Upload<'b, R> {
    reader: R,
    budget: &'b mut Budget,
}

impl<R: AsyncRead + Unpin> Upload<'_, R> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        let n = self.reader.read(buf).await.map_err(|_| unreadable())?;
        self.budget.read(n)?;
        Ok(n)
    }

    /// The first bytes (up to 16, fewer for a shorter file): enough to know a
    /// picture by.
    async fn first_bytes(&mut self) -> Result<Vec<u8>> {
        let mut first = vec![0; 16];
        let mut n = 0;
        while n < first.len() {
            let more = self.read(&mut first[n..]).await?;
            if more == 0 {
                break;
            }
            n += more;
        }
        first.truncate(n);
        Ok(first)
    }

    /// Reads the part to its end, keeping nothing.
    async fn drain(&mut self) -> Result<()> {
        let mut buf = vec![0; 64 * 1024];
        while self.read(&mut buf).await? > 0 {}
        Ok(())
    }

    /// Stores the file as it arrives; refused, and nothing kept, when the message's
    /// files come to more than the limit (or the uploader's waiting ones would).
    /// Its type is what its first bytes say for the four pictures, and otherwise
    /// what the browser declared.
    async fn store(
        &mut self,
        state: &AppState,
        (uploader, room_id): (i64, i64),
        name: &str,
        declared: &str,
        first: Vec<u8>,
    ) -> Result<i64, Stored> {
        let picture = Kind::sniff(&first);
        let content_type =
            picture.map_or_else(|| declared_type(declared), |k| k.content_type().to_owned());
        let id = begin(&state.db, uploader, room_id, &file_name(name), &content_type).await?;
        let stored = self.write_all(state, id, picture, first).await;
        // A failed or refused upload leaves nothing behind (a client gone mid-way,
        // a database error): what was written of it goes now, not in a day.
        if !matches!(stored, Ok(None)) {
            super::discard(&state.db, uploader, &[id]).await?;
        }
        match stored? {
            None => Ok(id),
            Some(too_much) => Err(Stored::Refused(too_much)),
        }
    }

    /// Writes the file of attachment `id` as it arrives; why not, when the message's
    /// files, or the uploader's waiting ones, come to more than they may (the rest
    /// is then read and dropped).
    async fn write_all(
        &mut self,
        state: &AppState,
        id: i64,
        picture: Option<Kind>,
        first: Vec<u8>,
    ) -> Result<Option<TooMuch>> {
        let mut writer = Writer::new(&state.db, id, Part::File);
        let mut buf = vec![0; 64 * 1024];
        let mut chunk = first.len();
        buf[..chunk].copy_from_slice(&first);
        while chunk > 0 {
            let after = self.budget.files + writer.size() + chunk as u64;
            let too_much = match () {
                () if after > self.budget.limit => Some(TooMuch::Large),
                () if after > self.budget.room => Some(TooMuch::Waiting),
                () => None,
            };
            if too_much.is_some() {
                self.drain().await?;
                return Ok(too_much);
            }
            writer.write(&buf[..chunk]).await?;
            chunk = self.read(&mut buf).await?;
        }
        let written = writer.finish().await?;
        self.budget.files += written.size;
        match picture {
            Some(kind) => finish_picture(state, id, kind, written).await?,
            None => finish(&state.db, id, &written).await?,
        }
        Ok(None)
    }
}

/// Why a file was not stored.
enum Stored {
    Refused(TooMuch),
    Failed(AppError),
}

impl From<AppError> for Stored {
    fn from(err: AppError) -> Self {
        Stored::Failed(err)
    }
}

/// A picture is served without its metadata, with a preview; one that does not
/// decode stays a file to download.
async fn finish_picture(
    state: &AppState,
    id: i64,
    kind: Kind,
    written: store::Written,
) -> Result<()> {
    let load = store::read_whole(&state.db, id, Part::File);
    let Some(processed) = state.pictures.process(kind, load).await? else {
        return finish(&state.db, id, &written).await;
    };
    let file = store::replace(&state.db, id, Part::File, &processed.file).await?;
    let preview = store::replace(&state.db, id, Part::Preview, &processed.preview).await?;
    let (width, height) = processed.preview_size;
    on_db!(&state.db, pool => sqlx::query(
        "UPDATE attachments SET preview_type = $2, preview_size = $3, preview_digest = $4,
                preview_width = $5, preview_height = $6 WHERE id = $1",
    )
    .bind(id)
    .bind(processed.preview_type)
    .bind(preview.size as i64)
    .bind(&preview.digest)
    .bind(i64::from(width))
    .bind(i64::from(height))
    .execute(pool)
    .await
    .map(|done| done.rows_affected()))?;
    finish(&state.db, id, &file).await
}

async fn begin(
    db: &Db,
    uploader: i64,
    room_id: i64,
    name: &str,
    content_type: &str,
) -> Result<i64> {
    Ok(on_db!(db, pool => sqlx::query_scalar(
        "INSERT INTO attachments (room_id, uploader_id, name, content_type, created_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(room_id)
    .bind(uploader)
    .bind(name)
    .bind(content_type)
    .bind(db::now())
    .fetch_one(pool)
    .await)?)
}

/// The upload is complete: its size and digest are set, and from now on it can
/// be sent and served.
async fn finish(db: &Db, id: i64, written: &store::Written) -> Result<()> {
    on_db!(db, pool => sqlx::query("UPDATE attachments SET size = $2, digest = $3 WHERE id = $1")
        .bind(id)
        .bind(written.size as i64)
        .bind(&written.digest)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(())
}

/// The name shown and downloaded: the last part of what the browser sent (some
/// send a whole path), without control or direction-changing characters, at most
/// 200 characters.
fn file_name(given: &str) -> String {
    let last = given.rsplit(['/', '\\']).next().unwrap_or_default();
    let name: String = last
        .chars()
        .filter(|c| !c.is_control() && !crate::accounts::fields::changes_text_direction(*c))
        .take(200)
        .collect();
    let name = name.trim();
    if name.is_empty() || name == "." || name == ".." { "file".into() } else { name.to_owned() }
}

/// The declared type when it is a plain `type/subtype`; otherwise (or none) bytes.
fn declared_type(declared: &str) -> String {
    let essence = declared.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let token = |s: &str| {
        !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c))
    };
    match essence.split_once('/') {
        Some((kind, sub)) if token(kind) && token(sub) && essence.len() <= 100 => essence,
        _ => "application/octet-stream".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_their_last_part_and_printable() {
        assert_eq!(file_name("C:\\Users\\ada\\notes.txt"), "notes.txt");
        assert_eq!(file_name("../../etc/passwd"), "passwd");
        assert_eq!(file_name("a\u{202E}fdp.exe"), "afdp.exe");
        assert_eq!(file_name(""), "file");
        assert_eq!(file_name(".."), "file");
    }

    #[test]
    fn declared_types_are_kept_only_when_well_formed() {
        assert_eq!(declared_type("application/PDF; charset=x"), "application/pdf");
        assert_eq!(declared_type("text/html\r\nSet-Cookie: a=b"), "application/octet-stream");
        assert_eq!(declared_type(""), "application/octet-stream");
        assert_eq!(declared_type("nonsense"), "application/octet-stream");
    }
}
