//! How far each person has read in the room on their screen, saved in batches.
//!
//! Every delivery to an open chat moves its reader's position. Saving that per
//! socket meant one UPDATE and one commit per socket every few seconds: 400 a second
//! with 2,000 people in a busy room. Instead each socket moves a number it shares
//! with [`ReadMarks`] (one relaxed store per delivery, no lock), and one task saves
//! the positions that moved every [`SAVE_EVERY`], in a few statements. A socket that
//! closes saves its own position at once, so the unread counts of the next page are
//! right; at worst a crash forgets the last few seconds of reading, never a message.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::db::Db;
use crate::error::Result;
use crate::on_db;

/// How often moved positions are written.
pub const SAVE_EVERY: Duration = Duration::from_secs(5);

/// The read positions of the open chat sockets.
#[derive(Default)]
pub struct ReadMarks {
    open: Mutex<Vec<Open>>,
}

struct Open {
    room_id: i64,
    user_id: i64,
    seq: Arc<AtomicI64>,
    /// What the database has, as far as this process knows.
    saved: i64,
}

/// One socket's read position, moved as messages are shown (by the socket's task,
/// and by the fan-out writing to it; see `hub/outlet.rs`).
#[derive(Clone)]
pub struct Position(Arc<AtomicI64>);

impl Position {
    /// Never backwards.
    pub fn moved_to(&self, seq: i64) {
        self.0.fetch_max(seq, Ordering::Relaxed);
    }

    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl ReadMarks {
    /// A socket shows `room_id` to `user_id`, who has read it up to `seq`.
    pub fn open(&self, user_id: i64, room_id: i64, seq: i64) -> Position {
        let shared = Arc::new(AtomicI64::new(seq));
        let open = Open { room_id, user_id, seq: shared.clone(), saved: seq };
        self.lock().push(open);
        Position(shared)
    }

    /// Writes the positions that moved since the last save, and forgets closed
    /// sockets. What fails to be written is tried again with the next save.
    pub async fn save(&self, db: &Db) -> Result<()> {
        let moved = {
            let mut open = self.lock();
            // Several tabs may show the same room to the same person: the furthest wins.
            let mut moved: HashMap<(i64, i64), i64> = HashMap::new();
            for socket in open.iter_mut() {
                let seq = socket.seq.load(Ordering::Relaxed);
                if seq > socket.saved {
                    socket.saved = seq;
                    let furthest = moved.entry((socket.room_id, socket.user_id)).or_default();
                    *furthest = (*furthest).max(seq);
                }
            }
            open.retain(|socket| Arc::strong_count(&socket.seq) > 1);
            moved
        };
        if moved.is_empty() {
            return Ok(());
        }
        let marks: Vec<ReadMark> = moved
            .iter()
            .map(|(&(room_id, user_id), &seq)| ReadMark { room_id, user_id, seq })
            .collect();
        let written = mark_read_many(db, &marks).await;
        if written.is_err() {
            for socket in self.lock().iter_mut() {
                if moved.contains_key(&(socket.room_id, socket.user_id)) {
                    socket.saved = 0;
                }
            }
        }
        written
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Open>> {
        self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Saves the moved positions every [`SAVE_EVERY`], until aborted (shutdown saves
/// once more after the sockets have closed).
pub async fn keep_saving(state: crate::AppState) {
    let mut tick = tokio::time::interval(SAVE_EVERY);
    loop {
        tick.tick().await;
        if let Err(err) = state.read_marks.save(&state.db).await {
            tracing::warn!("could not save read positions: {err:#}");
        }
    }
}

/// Records that `user_id` has seen `room_id` up to message `seq` (never backwards).
pub async fn mark_read(db: &Db, user_id: i64, room_id: i64, seq: i64) -> Result<()> {
    on_db!(db, pool => sqlx::query(
        "UPDATE memberships SET last_read_seq = $3
         WHERE room_id = $1 AND user_id = $2 AND last_read_seq < $3",
    )
    .bind(room_id)
    .bind(user_id)
    .bind(seq)
    .execute(pool)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

/// One person's read position in one room.
#[derive(Debug, Clone, Copy)]
pub struct ReadMark {
    pub room_id: i64,
    pub user_id: i64,
    pub seq: i64,
}

/// [`mark_read`] for many at once: a few statements in one transaction, not one
/// commit per person. Each pair must appear once.
pub async fn mark_read_many(db: &Db, marks: &[ReadMark]) -> Result<()> {
    // 3 parameters a row, well under both databases' limits on parameters.
    const ROWS: usize = 500;
    on_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        for chunk in marks.chunks(ROWS) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
                .collect();
            // VALUES names its columns column1, column2, … in both databases.
            let sql = format!(
                "UPDATE memberships AS m SET last_read_seq = v.column3
                 FROM (VALUES {}) AS v
                 WHERE m.room_id = v.column1 AND m.user_id = v.column2
                   AND m.last_read_seq < v.column3",
                rows.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for mark in chunk {
                query = query.bind(mark.room_id).bind(mark.user_id).bind(mark.seq);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await
    }.await)?;
    Ok(())
}
