//! Serving files and previews to the members of their room (404 to anyone else, as
//! for the room), with `ETag`s and byte ranges, from the database a chunk at a time.
//!
//! An uploaded file is someone else's content on Hearth's origin: nothing served
//! here may run as a page of Hearth's. Every answer says `nosniff` and
//! `Content-Security-Policy: sandbox` (no script, a unique origin even if opened),
//! and everything but the four picture types is a download
//! (`Content-Disposition: attachment`), so an HTML or SVG file is saved, never shown.

use poem::http::{HeaderMap, StatusCode, header};
use poem::web::{Data, Path};
use poem::{Body, Request, Response, handler};

use super::pictures::Kind;
use super::store::{self, Part};
use crate::AppState;
use crate::error::{AppError, Result};
use crate::on_db;
use crate::web::CurrentUser;

/// What serving needs to know of a file.
#[derive(sqlx::FromRow)]
struct Served {
    name: String,
    content_type: String,
    size: i64,
    digest: String,
    preview_width: Option<i64>,
}

/// The file, as downloaded or opened.
#[handler]
pub async fn file(
    req: &Request,
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, _name)): Path<(i64, String)>,
) -> Result<Response> {
    let found = visible(&state, user.id, id, Part::File).await?;
    let inline = found.preview_width.is_some()
        && [Kind::Png, Kind::Jpeg, Kind::Gif, Kind::Webp]
            .iter()
            .any(|kind| kind.content_type() == found.content_type);
    let content_type = if inline { found.content_type.as_str() } else { download_type(&found) };
    let disposition = disposition(if inline { "inline" } else { "attachment" }, &found.name);
    Ok(respond(req, &state, id, Part::File, &found, content_type, &disposition))
}

/// A picture's preview.
#[handler]
pub async fn preview(
    req: &Request,
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    let found = visible(&state, user.id, id, Part::Preview).await?;
    Ok(respond(req, &state, id, Part::Preview, &found, &found.content_type, "inline"))
}

/// File `id` if `user_id` may see it: a member of its message's room, or its
/// uploader before any message claimed it; its `part`, which a file that is not a
/// picture has no preview of.
async fn visible(state: &AppState, user_id: i64, id: i64, part: Part) -> Result<Served> {
    let columns = match part {
        Part::File => "a.content_type, a.size, a.digest",
        Part::Preview => {
            "a.preview_type AS content_type, a.preview_size AS size, a.preview_digest AS digest"
        }
    };
    let sql = format!(
        "SELECT a.name, {columns}, a.preview_width
         FROM attachments a
         WHERE a.id = $1 AND a.digest <> '' AND ({} IS NOT NULL) AND CASE WHEN a.message_id IS NULL
             THEN a.uploader_id = $2
             ELSE EXISTS (SELECT 1 FROM memberships
                          WHERE room_id = a.room_id AND user_id = $2) END",
        if part == Part::File { "a.digest" } else { "a.preview_digest" }
    );
    let found: Option<Served> = on_db!(&state.db, pool => sqlx::query_as(&sql)
        .bind(id)
        .bind(user_id)
        .fetch_optional(pool)
        .await)?;
    found.ok_or(AppError::NotFound)
}

/// What a file that is not shown inline is sent as: its declared type, unless that
/// claims to be something a browser would render (the disposition and the sandbox
/// already stop it; this makes a third wall).
fn download_type(found: &Served) -> &str {
    let declared = found.content_type.as_str();
    let plain = declared.starts_with("application/")
        || declared.starts_with("audio/")
        || declared.starts_with("video/")
        || declared == "text/plain"
        || declared == "text/csv";
    let renders = declared.contains("html")
        || declared.contains("xml")
        || declared.contains("svg")
        || declared.contains("javascript");
    if plain && !renders { declared } else { "application/octet-stream" }
}

/// `Content-Disposition` with the file's name, in ASCII for old clients and in
/// full (RFC 8187) for the others.
fn disposition(kind: &str, name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    let encoded = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC);
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

fn respond(
    req: &Request,
    state: &AppState,
    id: i64,
    part: Part,
    found: &Served,
    content_type: &str,
    disposition: &str,
) -> Response {
    let size = found.size.max(0) as u64;
    let etag = format!("\"{}\"", found.digest);
    let mut resp = Response::builder()
        .header(header::ETAG, etag.as_str())
        // Private, and asked again each time: access ends when membership does.
        .header(header::CACHE_CONTROL, "private, no-cache")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(header::CONTENT_SECURITY_POLICY, "sandbox")
        .header(header::CONTENT_DISPOSITION, disposition)
        .header(header::ACCEPT_RANGES, "bytes");
    if matches(req.headers(), header::IF_NONE_MATCH, &etag) {
        return resp.status(StatusCode::NOT_MODIFIED).finish();
    }
    resp = resp.content_type(content_type);
    // A range of a file that changed since (If-Range) is the whole file instead.
    let range_applies = req.headers().get(header::IF_RANGE).is_none()
        || matches(req.headers(), header::IF_RANGE, &etag);
    let range =
        req.header(header::RANGE).filter(|_| range_applies).map(|value| parse_range(value, size));
    let db = state.db.clone();
    match range {
        Some(Some(Ok(range))) => resp
            .status(StatusCode::PARTIAL_CONTENT)
            .header(
                header::CONTENT_RANGE,
                format!("bytes {}-{}/{size}", range.start, range.end - 1),
            )
            .header(header::CONTENT_LENGTH, range.end - range.start)
            .body(Body::from_bytes_stream(store::stream(db, id, part, range))),
        Some(Some(Err(()))) => resp
            .status(StatusCode::RANGE_NOT_SATISFIABLE)
            .header(header::CONTENT_RANGE, format!("bytes */{size}"))
            .finish(),
        // No range, or one this does not serve (several): the whole file.
        Some(None) | None => resp
            .header(header::CONTENT_LENGTH, size)
            .body(Body::from_bytes_stream(store::stream(db, id, part, 0..size))),
    }
}

/// Whether the header `name` lists `etag` (or `*`).
fn matches(headers: &HeaderMap, name: header::HeaderName, etag: &str) -> bool {
    headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).any(|v| {
        v.split(',').map(str::trim).any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
    })
}

/// One byte range (`bytes=a-b`, `bytes=a-`, `bytes=-n`) of a file of `size` bytes:
/// `None` for what is not served as a range (several ranges, another unit, nonsense:
/// the whole file is sent), `Err` for one that lies outside the file (416).
fn parse_range(value: &str, size: u64) -> Option<Result<std::ops::Range<u64>, ()>> {
    let spec = value.trim().strip_prefix("bytes=")?.trim();
    if spec.contains(',') {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    let range = if first.is_empty() {
        let suffix: u64 = last.parse().ok()?;
        if suffix == 0 {
            return Some(Err(()));
        }
        size.saturating_sub(suffix)..size
    } else {
        let start: u64 = first.parse().ok()?;
        if start >= size {
            return Some(Err(()));
        }
        let end = if last.is_empty() { size } else { last.parse::<u64>().ok()?.saturating_add(1) };
        if end <= start {
            return None;
        }
        start..end.min(size)
    };
    if range.start >= size || range.is_empty() { Some(Err(())) } else { Some(Ok(range)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        assert_eq!(parse_range("bytes=0-9", 100), Some(Ok(0..10)));
        assert_eq!(parse_range("bytes=90-", 100), Some(Ok(90..100)));
        assert_eq!(parse_range("bytes=-10", 100), Some(Ok(90..100)));
        assert_eq!(parse_range("bytes=-500", 100), Some(Ok(0..100)));
        assert_eq!(parse_range("bytes=95-200", 100), Some(Ok(95..100)));
        assert_eq!(parse_range("bytes=100-", 100), Some(Err(())));
        assert_eq!(parse_range("bytes=-0", 100), Some(Err(())));
        assert_eq!(parse_range("bytes=0-1,5-6", 100), None);
        assert_eq!(parse_range("bytes=9-2", 100), None);
        assert_eq!(parse_range("lines=1-2", 100), None);
        assert_eq!(parse_range("bytes=x-", 100), None);
    }

    #[test]
    fn a_download_is_named_safely_in_both_forms() {
        assert_eq!(
            disposition("attachment", "Ré\"sumé\r\n.pdf"),
            "attachment; filename=\"R__sum___.pdf\"; filename*=UTF-8''R%C3%A9%22sum%C3%A9%0D%0A%2Epdf"
        );
    }
}
