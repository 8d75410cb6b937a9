//! The operator's exports: `hearth export` writes everything but secrets as NDJSON,
//! one object per line with its `type` (`person`, `room`, `membership`, `message`,
//! `file`), each type in key order; `hearth backup PATH` copies a SQLite database
//! while Hearth serves it, or says how to back up PostgreSQL.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use super::rows::{self, Messages, PAGE};
use crate::db::Db;

/// One line of the export: a row with its type.
#[derive(Serialize)]
struct Line<'a, T> {
    r#type: &'static str,
    #[serde(flatten)]
    row: &'a T,
}

/// Writes every page of one type of row as lines.
macro_rules! lines {
    ($out:expr, $type:literal, $start:expr, |$after:ident| $page:expr, |$last:ident| $key:expr) => {{
        let mut $after = $start;
        let mut count = 0_u64;
        loop {
            let page = $page.await?;
            for row in &page {
                serde_json::to_writer(&mut *$out, &Line { r#type: $type, row })?;
                $out.write_all(b"\n")?;
            }
            count += page.len() as u64;
            match page.last() {
                Some($last) if page.len() == PAGE => $after = $key,
                _ => break,
            }
        }
        count
    }};
}

/// Writes the export to `out`; returns a line saying how many of each it wrote.
pub async fn export(db: &Db, out: &mut impl Write) -> anyhow::Result<String> {
    let people = lines!(out, "person", 0, |after| rows::people(db, after), |last| last.id);
    let rooms = lines!(out, "room", 0, |after| rows::rooms(db, after), |last| last.id);
    let memberships =
        lines!(out, "membership", (0, 0), |after| rows::memberships(db, after), |last| {
            (last.room_id, last.user_id)
        });
    let messages =
        lines!(out, "message", 0, |after| rows::messages(db, Messages::All, after), |last| last.id);
    let files = lines!(out, "file", 0, |after| rows::files(db, after), |last| last.id);
    out.flush()?;
    Ok(format!(
        "exported {people} people, {rooms} rooms, {memberships} memberships, {messages} messages \
         and {files} files (listed, not their bytes)"
    ))
}

/// Backs the database up to `path` (SQLite), or returns the `pg_dump` line to run
/// (PostgreSQL has its own tools for consistent copies).
pub async fn backup(db: &Db, database_url: &str, path: &Path) -> anyhow::Result<String> {
    match db {
        Db::Sqlite(pool) => {
            // The copy holds password hashes and sessions: only its owner may read it.
            // VACUUM INTO fills an empty file, and this refuses to overwrite one.
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            options.open(path).map_err(|err| {
                anyhow::anyhow!("cannot create {}: {err} (it must not exist yet)", path.display())
            })?;
            let target = path.to_str().ok_or_else(|| anyhow::anyhow!("the path is not UTF-8"))?;
            // One read transaction: a consistent copy while Hearth goes on writing.
            if let Err(err) = sqlx::query("VACUUM INTO $1").bind(target).execute(pool).await {
                let _ = std::fs::remove_file(path);
                return Err(err.into());
            }
            let size = std::fs::metadata(path)?.len();
            Ok(format!(
                "backed up to {} ({:.1} MB), a consistent copy taken while serving",
                path.display(),
                size as f64 / 1e6
            ))
        }
        Db::Postgres(_) => {
            let mut url = url::Url::parse(database_url)?;
            let had_password = url.password().is_some();
            let _ = url.set_password(None);
            let password_note = if had_password {
                "\n(give the password in PGPASSWORD or ~/.pgpass; it is left out here)"
            } else {
                ""
            };
            Ok(format!(
                "PostgreSQL is backed up with its own tool, consistently while Hearth serves:\n\
                 pg_dump --format=custom --file={path} {url}{password_note}\n\
                 Restore into an empty database with: pg_restore --no-owner --dbname=<url> {path}",
                path = quoted(&path.display().to_string()),
                url = quoted(url.as_str()),
            ))
        }
    }
}

/// `text` as one shell word.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}
