//! The database: SQLite in a file by default, PostgreSQL when `DATABASE_URL` says so.
//!
//! Hearth writes each query once, in SQL both backends understand (`$1` parameters,
//! integers for ids and Unix-second timestamps), and [`on_db!`] runs it on whichever
//! pool this is. The compiler checks that each query's binds and result types suit
//! both drivers; the SQL itself is checked by the tests, which run every query on
//! both databases.
//!
//! Why not `sqlx::query!`, which checks SQL at compile time: it checks against one
//! database, named by `DATABASE_URL` or its committed offline data, and keys that
//! data by the query's text, so one query cannot be checked against both SQLite and
//! PostgreSQL. Checking only one would leave the other to the tests anyway, and make
//! a database (or offline files kept in step) part of every build.

use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same code with `$pool` bound to the SQLite or the PostgreSQL pool.
///
/// ```ignore
/// on_db!(db, pool => sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(pool).await)?;
/// ```
#[macro_export]
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}

impl Db {
    /// Opens the pool (creating a SQLite file and its folder if needed) and migrates.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let db = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .context("DATABASE_URL is not a valid SQLite URL")?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5));
            if let Some(folder) = Path::new(options.get_filename()).parent()
                && !folder.as_os_str().is_empty()
            {
                std::fs::create_dir_all(folder)
                    .with_context(|| format!("cannot create the folder {}", folder.display()))?;
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await
                .context("cannot open the SQLite database named by DATABASE_URL")?;
            Db::Sqlite(pool)
        } else {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(5))
                .connect(url)
                .await
                .context("cannot connect to the PostgreSQL database named by DATABASE_URL")?;
            Db::Postgres(pool)
        };
        db.migrate().await?;
        Ok(db)
    }

    async fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Db::Sqlite(pool) => sqlx::migrate!("migrations/sqlite").run(pool).await,
            Db::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await,
        }
        .context("database migration failed")?;
        Ok(())
    }

    /// PostgreSQL is what several instances share (and can `NOTIFY` each other on).
    pub fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }

    /// Closes the pool: in-flight queries finish, new ones fail. Used at shutdown so
    /// SQLite checkpoints its journal.
    pub async fn close(&self) {
        on_db!(self, pool => pool.close().await);
    }

    /// True when the database answers a trivial query within two seconds.
    pub async fn is_healthy(&self) -> bool {
        let ping =
            async { on_db!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ())) };
        matches!(tokio::time::timeout(Duration::from_secs(2), ping).await, Ok(Ok(_)))
    }
}

/// `$from, $from+1, …`: `n` numbered placeholders, for an `IN (…)` list.
pub fn placeholders(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// Now, in Unix seconds: the one clock every stored timestamp uses.
pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs() as i64)
}
