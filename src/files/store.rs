//! Files' bytes in the database, in numbered chunks of [`CHUNK`] bytes: written as
//! they arrive and read back one chunk at a time, so a 25 MB upload or download
//! costs the server one chunk of memory, not 25 MB. Every instance reads the same
//! database, so there is nothing else to run or share.
//!
//! Each chunk is written in its own short statement: an upload from a slow client
//! never holds a transaction (on SQLite, the one write lock) while it waits.

use std::ops::Range;

use futures_util::Stream;
use sha2::{Digest, Sha256};

use crate::db::Db;
use crate::error::Result;
use crate::on_db;

/// Bytes per chunk (the last one of a file may be shorter).
pub const CHUNK: usize = 256 * 1024;

/// Which bytes of an attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The file as it is served.
    File = 0,
    /// A picture's preview.
    Preview = 1,
}

/// Writes one part of an attachment as it arrives, a chunk at a time, and keeps its
/// size and SHA-256 as it goes.
pub struct Writer {
    db: Db,
    id: i64,
    part: Part,
    next: i64,
    pending: Vec<u8>,
    size: u64,
    digest: Sha256,
}

/// What was written: its size and its SHA-256 (hex), its ETag.
pub struct Written {
    pub size: u64,
    pub digest: String,
}

impl Writer {
    pub fn new(db: &Db, id: i64, part: Part) -> Self {
        Self {
            db: db.clone(),
            id,
            part,
            next: 0,
            pending: Vec::with_capacity(CHUNK),
            size: 0,
            digest: Sha256::new(),
        }
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    pub async fn write(&mut self, mut data: &[u8]) -> Result<()> {
        self.size += data.len() as u64;
        self.digest.update(data);
        while !data.is_empty() {
            let room = CHUNK - self.pending.len();
            let (now, later) = data.split_at(room.min(data.len()));
            self.pending.extend_from_slice(now);
            data = later;
            if self.pending.len() == CHUNK {
                self.flush().await?;
            }
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        let (id, part, n) = (self.id, self.part as i64, self.next);
        let data = self.pending.as_slice();
        on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO attachment_chunks (attachment_id, part, n, data) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(part)
        .bind(n)
        .bind(data)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        self.next += 1;
        self.pending.clear();
        Ok(())
    }

    pub async fn finish(mut self) -> Result<Written> {
        if !self.pending.is_empty() {
            self.flush().await?;
        }
        Ok(Written { size: self.size, digest: hex(&self.digest.finalize()) })
    }
}

/// `bytes` as one part of attachment `id`, replacing what the part held.
pub async fn replace(db: &Db, id: i64, part: Part, bytes: &[u8]) -> Result<Written> {
    on_db!(db, pool => sqlx::query("DELETE FROM attachment_chunks WHERE attachment_id = $1 AND part = $2")
        .bind(id)
        .bind(part as i64)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
    let mut writer = Writer::new(db, id, part);
    writer.write(bytes).await?;
    writer.finish().await
}

/// A whole part, read back: only for pictures, whose decoding needs all of it (and
/// which [`super::pictures`] takes a few at a time).
pub async fn read_whole(db: &Db, id: i64, part: Part) -> Result<Vec<u8>> {
    let chunks: Vec<Vec<u8>> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT data FROM attachment_chunks WHERE attachment_id = $1 AND part = $2 ORDER BY n",
    )
    .bind(id)
    .bind(part as i64)
    .fetch_all(pool)
    .await)?;
    Ok(chunks.concat())
}

/// The bytes `range` of a part, as a stream that reads one chunk at a time.
pub fn stream(
    db: Db,
    id: i64,
    part: Part,
    range: Range<u64>,
) -> impl Stream<Item = std::io::Result<Vec<u8>>> + Send + 'static {
    let chunk = CHUNK as u64;
    futures_util::stream::try_unfold(range.start, move |at| {
        let db = db.clone();
        let end = range.end;
        async move {
            if at >= end {
                return Ok(None);
            }
            let n = (at / chunk) as i64;
            let data: Option<Vec<u8>> = on_db!(&db, pool => sqlx::query_scalar(
                "SELECT data FROM attachment_chunks WHERE attachment_id = $1 AND part = $2 AND n = $3",
            )
            .bind(id)
            .bind(part as i64)
            .bind(n)
            .fetch_optional(pool)
            .await)
            .map_err(std::io::Error::other)?;
            // Deleted while being sent: the response ends short, and the client knows.
            let Some(mut data) = data else {
                return Err(std::io::Error::new(std::io::ErrorKind::NotFound, "file deleted"));
            };
            let from = (at - n as u64 * chunk) as usize;
            let to = ((end - n as u64 * chunk) as usize).min(data.len());
            if from >= to {
                return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "file short"));
            }
            let next = n as u64 * chunk + to as u64;
            data.truncate(to);
            data.drain(..from);
            Ok(Some((data, next)))
        }
    })
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lower_case_and_padded() {
        assert_eq!(hex(&[0, 10, 255]), "000aff");
    }
}
