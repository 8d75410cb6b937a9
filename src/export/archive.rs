//! A person's archive: `GET /dashboard/export` downloads one JSON file with who
//! they are, the rooms they are in, everything they wrote (in any room, those they
//! have left included) and every conversation they are in, everyone's messages in
//! it. Written by a task a page at a time into a small channel that the response
//! body reads, so a slow download holds back the task, not the server's memory,
//! and a closed one stops it.

use std::collections::HashMap;

use futures_util::stream;
use poem::http::header;
use poem::web::Data;
use poem::{Body, Response, handler};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::rows::{self, MessageRow, Messages, PAGE};
use crate::AppState;
use crate::accounts::User;
use crate::accounts::reauth::Confirmed;
use crate::chat::rooms::{self, MyRoom};
use crate::db::{self, Db};
use crate::error::{AppError, Result};
use crate::files::{self, Attachment};

/// Pages written ahead of the download.
const AHEAD: usize = 4;

type Chunk = std::io::Result<Vec<u8>>;

/// Every conversation in one file: it needs a recent sign-in, as a token does, so a
/// session left open somewhere cannot take it all away at once.
#[handler]
pub(super) async fn download(
    state: Data<&AppState>,
    Confirmed(user): Confirmed,
) -> Result<Response> {
    // Read before answering 200, so that a database that is down gets its error page.
    let rooms = rooms::mine(&state.db, user.id).await?;
    let (out, chunks) = mpsc::channel::<Chunk>(AHEAD);
    let (db, origin) = (state.db.clone(), state.origin.clone());
    tokio::spawn(async move {
        let archive = Archive { db: &db, origin: &origin, out: &out };
        match archive.write(&user, &rooms).await {
            Ok(()) | Err(Stop::Closed) => {}
            Err(Stop::Failed(err)) => {
                tracing::warn!(user_id = user.id, "an archive was cut short: {err}");
                // The download ends in an error rather than in a file that looks whole.
                let _ = out.send(Err(std::io::Error::other("the archive was cut short"))).await;
            }
        }
    });
    let body = stream::unfold(chunks, |mut chunks| async move {
        chunks.recv().await.map(|chunk| (chunk, chunks))
    });
    let day = crate::web::time::iso(db::now());
    let name = format!("hearth-archive-{}.json", day.get(..10).unwrap_or("today"));
    Ok(Response::builder()
        .content_type("application/json")
        .header(header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\""))
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from_bytes_stream(body)))
}

/// Why writing stopped early.
enum Stop {
    /// The download was closed: nobody is reading.
    Closed,
    Failed(AppError),
}

impl From<AppError> for Stop {
    fn from(err: AppError) -> Self {
        Stop::Failed(err)
    }
}

struct Archive<'a> {
    db: &'a Db,
    /// Files are listed with links that work from anywhere (while signed in).
    origin: &'a str,
    out: &'a mpsc::Sender<Chunk>,
}

impl Archive<'_> {
    async fn put(&self, text: impl Into<Vec<u8>>) -> Result<(), Stop> {
        self.out.send(Ok(text.into())).await.map_err(|_| Stop::Closed)
    }

    async fn write(&self, user: &User, rooms: &[MyRoom]) -> Result<(), Stop> {
        let person = json!({
            "id": user.id, "name": user.name, "email": user.email,
            "avatar_url": user.avatar_url, "created_at": user.created_at,
        });
        let in_rooms: Vec<Value> = rooms
            .iter()
            .map(|r| {
                json!({
                    "room": r.slug, "title": r.title, "kind": r.kind, "private": r.private,
                    "topic": r.topic, "archived": r.archived,
                })
            })
            .collect();
        self.put(format!(
            r#"{{"format":"hearth-archive/1","exported_at":{},"person":{person},"rooms":{},"written":["#,
            db::now(),
            Value::Array(in_rooms),
        ))
        .await?;
        self.messages(Messages::WrittenBy(user.id)).await?;
        self.put(r#"],"conversations":["#).await?;
        for (i, room) in rooms.iter().filter(|r| r.is_direct()).enumerate() {
            let people: Vec<Value> = rooms::members(self.db, room.id)
                .await?
                .into_iter()
                .map(|(id, name)| json!({"id": id, "name": name}))
                .collect();
            self.put(format!(
                r#"{}{{"room":{},"title":{},"people":{},"messages":["#,
                if i == 0 { "" } else { "," },
                json!(room.slug),
                json!(room.title),
                Value::Array(people),
            ))
            .await?;
            self.messages(Messages::InRoom(room.id)).await?;
            self.put("]}").await?;
        }
        self.put("]}\n").await
    }

    /// The messages of `which` as the items of a JSON array, a page at a time.
    async fn messages(&self, which: Messages) -> Result<(), Stop> {
        let mut after = 0;
        let mut first = true;
        loop {
            let page = rows::messages(self.db, which, after).await?;
            let ids: Vec<i64> = page.iter().map(|m| m.id).collect();
            let files = files::of_messages(self.db, &ids).await?;
            let mut chunk = Vec::new();
            for message in &page {
                if !first {
                    chunk.push(b',');
                }
                first = false;
                chunk.extend(self.message(message, &files).to_string().into_bytes());
            }
            if !chunk.is_empty() {
                self.put(chunk).await?;
            }
            match page.last() {
                Some(last) if page.len() == PAGE => after = last.id,
                _ => return Ok(()),
            }
        }
    }

    fn message(&self, m: &MessageRow, files: &HashMap<i64, Vec<Attachment>>) -> Value {
        let files: Vec<Value> = files
            .get(&m.id)
            .into_iter()
            .flatten()
            .map(|f| {
                json!({
                    "name": f.name, "content_type": f.content_type, "size": f.size,
                    "url": format!("{}{}", self.origin, f.url()),
                })
            })
            .collect();
        json!({
            "room": m.room, "seq": m.seq, "author": {"id": m.author_id, "name": m.author_name},
            "body": m.body, "created_at": m.created_at, "edited_at": m.edited_at, "files": files,
        })
    }
}
