//! How far each person has read in the room on their screen, saved in batches.
//!
//! Every delivery to an open chat moves its reader's position. Saving that per
//! socket meant one UPDATE and one commit per socket every few seconds: 400 a second
//! with 2,000 people in a busy room. Sockets note their position here instead (a map
//! entry, no I/O), and one task saves all of them every [`SAVE_EVERY`] in a few
//! statements. A socket that closes saves its own position at once, so the unread
//! counts of the next page are right; at worst a crash forgets the last few
//! seconds of reading, never a message.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use super::rooms;
use crate::db::Db;
use crate::error::Result;

/// How often noted positions are written.
pub const SAVE_EVERY: Duration = Duration::from_secs(5);

/// Positions noted since the last save: (room, person) → newest message seen.
#[derive(Default)]
pub struct ReadMarks {
    noted: Mutex<HashMap<(i64, i64), i64>>,
}

impl ReadMarks {
    /// `user_id` has seen `room_id` up to `seq`.
    pub fn note(&self, user_id: i64, room_id: i64, seq: i64) {
        let mut noted = self.lock();
        let newest = noted.entry((room_id, user_id)).or_default();
        *newest = (*newest).max(seq);
    }

    /// Writes everything noted so far. On failure the positions are noted again, to
    /// be tried with the next save.
    pub async fn save(&self, db: &Db) -> Result<()> {
        let noted = std::mem::take(&mut *self.lock());
        if noted.is_empty() {
            return Ok(());
        }
        let marks: Vec<rooms::ReadMark> = noted
            .iter()
            .map(|(&(room_id, user_id), &seq)| rooms::ReadMark { room_id, user_id, seq })
            .collect();
        if let Err(err) = rooms::mark_read_many(db, &marks).await {
            for mark in marks {
                self.note(mark.user_id, mark.room_id, mark.seq);
            }
            return Err(err);
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(i64, i64), i64>> {
        self.noted.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Saves the noted positions every [`SAVE_EVERY`], until aborted (shutdown saves
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
