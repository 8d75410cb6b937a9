//! Work that waits in the database until it is done: deliveries to bots, email to
//! send. Each such table has an `id`, an `attempts` count and a `due_at` (Unix
//! milliseconds). Kept in the database, nothing waiting is lost to a restart, and
//! every instance sharing the database can take a turn.
//!
//! Taking an item pushes its due time ahead by a lease: no other instance takes it
//! meanwhile, and if the one that took it stops midway, it is due again then.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, Semaphore};

use crate::db::Db;
use crate::error::Result;
use crate::{AppState, on_db};

/// A table of waiting work, and how its worker goes about it.
pub struct Queue {
    pub table: &'static str,
    /// The columns an item is read with (see [`take_due`]).
    pub columns: &'static str,
    /// Items worked on at once, per instance.
    pub at_once: usize,
    /// How long an instance holds an item it took: longer than a try can last.
    pub lease: Duration,
    /// How long the worker sleeps when nothing is due and nothing wakes it: it
    /// then finds what other instances stored (they work it first).
    pub idle: Duration,
}

/// Works `queue` until the process stops: takes each due item, `handle`s it in a
/// task of its own (at most `at_once` at a time), and otherwise sleeps until the
/// next is due or `wake` says something was stored. `handle` settles the item
/// (forgets it, or sets when to try again); one whose handling failed is due
/// again when its lease runs out.
pub async fn work<T, H, Fut>(
    state: AppState,
    queue: Queue,
    wake: fn(&AppState) -> &Notify,
    handle: H,
) where
    T: Send
        + Unpin
        + 'static
        + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    H: Fn(AppState, T) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(queue.at_once));
    let lease = queue.lease.as_millis() as i64;
    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else { return };
        match take_due::<T>(&state.db, queue.table, queue.columns, lease).await {
            Ok(Some(item)) => {
                let (state, handle, table) = (state.clone(), handle.clone(), queue.table);
                tokio::spawn(async move {
                    if let Err(err) = handle(state.clone(), item).await {
                        tracing::warn!(queue = table, "an item could not be handled: {err:#}");
                    }
                    drop(permit);
                    // Its next try may be due sooner than what the worker waits for.
                    wake(&state).notify_one();
                });
                continue;
            }
            Ok(None) => drop(permit),
            Err(err) => {
                drop(permit);
                tracing::warn!(queue = queue.table, "cannot read the queue: {err:#}");
            }
        }
        let wait = wait_for_next(&state.db, queue.table, queue.idle).await;
        tokio::select! {
            () = wake(&state).notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// Takes the item of `table` that has waited longest, if one is due, reading
/// `columns` of it; its `attempts` counts this try.
pub async fn take_due<T>(db: &Db, table: &str, columns: &str, lease_ms: i64) -> Result<Option<T>>
where
    T: Send
        + Unpin
        + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    let now = now_ms();
    // The outer `due_at <= $1` is checked again on the row as it is when the
    // update gets it: of two instances picking the same row, one finds it taken.
    let sql = format!(
        "UPDATE {table} SET due_at = $2, attempts = attempts + 1
         WHERE due_at <= $1 AND id = (
             SELECT id FROM {table} WHERE due_at <= $1 ORDER BY due_at, id LIMIT 1)
         RETURNING {columns}"
    );
    let taken = on_db!(db, pool => sqlx::query_as(&sql)
        .bind(now)
        .bind(now + lease_ms)
        .fetch_optional(pool)
        .await)?;
    Ok(taken)
}

/// When the next item of `table` is due (Unix milliseconds), if any waits.
async fn next_due(db: &Db, table: &str) -> Result<Option<i64>> {
    let sql = format!("SELECT MIN(due_at) FROM {table}");
    Ok(on_db!(db, pool => sqlx::query_scalar(&sql).fetch_one(pool).await)?)
}

/// Done with an item, however it went.
pub async fn forget(db: &Db, table: &str, id: i64) -> Result<()> {
    let sql = format!("DELETE FROM {table} WHERE id = $1");
    on_db!(db, pool => sqlx::query(&sql).bind(id).execute(pool).await.map(|d| d.rows_affected()))?;
    Ok(())
}

/// Tries an item again `after_ms` from now.
pub async fn retry_later(db: &Db, table: &str, id: i64, after_ms: i64) -> Result<()> {
    let sql = format!("UPDATE {table} SET due_at = $2 WHERE id = $1");
    on_db!(db, pool => sqlx::query(&sql)
        .bind(id)
        .bind(now_ms() + after_ms)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(())
}

/// How long a worker may sleep: until the next item of `table` is due, at most
/// `idle` (it also finds what other instances stored, and is woken for its own).
async fn wait_for_next(db: &Db, table: &str, idle: Duration) -> Duration {
    match next_due(db, table).await {
        Ok(Some(due)) => Duration::from_millis((due - now_ms()).max(0) as u64).min(idle),
        Ok(None) | Err(_) => idle,
    }
}

/// Unix milliseconds: items are due to the millisecond, so tests can retry quickly.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64)
}
