//! Everything that differs between SQLite and PostgreSQL; every other statement of the
//! store is one text for both (`$N` parameters, `ON CONFLICT … DO UPDATE`, `RETURNING`,
//! `COUNT(*) FILTER (…)`, `CAST(… AS BIGINT)` all mean the same in both).
//!
//! Concurrency model, and how the two keep one meaning:
//! - SQLite has one writer at a time. Every write transaction starts with `BEGIN IMMEDIATE`,
//!   so it takes the write lock before its first statement and a concurrent writer waits in
//!   `busy_timeout` (5 s) instead of failing with `SQLITE_BUSY` when a deferred transaction
//!   tries to upgrade from read to write. PostgreSQL writes run in plain `BEGIN` (READ
//!   COMMITTED); every write transaction opens with the write that decides it (the webhook
//!   dedupe insert, the job update), so concurrent writers queue on that row as SQLite's
//!   writers queue on the file lock.
//! - What still fails transiently (SQLite busy or locked; PostgreSQL deadlock or
//!   serialization failure) is retried as a whole transaction by `Db::retry`.
//! - Reads that take several statements run in one snapshot: a SQLite read transaction
//!   sees one WAL snapshot; PostgreSQL needs `REPEATABLE READ READ ONLY` for that.
//! - Job claims on PostgreSQL lock the picked rows `FOR UPDATE SKIP LOCKED`: two workers
//!   never get the same job and neither waits for the other. On SQLite the claim is one
//!   statement, hence one write transaction, which no other claimer can split.
//! - Times are TIMESTAMPTZ on PostgreSQL (microseconds; anything finer is dropped when
//!   bound) and RFC 3339 UTC text on SQLite, which compares in time order.

use super::sql::{Db, backend, retry};
use sqlx::migrate::{Migrate, MigrateError, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use switchboard_actors::ports::{BackendCause, StoreError};

/// Embedded at compile time; the binary needs no migration files at run time. The public
/// `sqlx::migrate!` wrapper needs sqlx's `macros` feature, which this crate does not enable;
/// the proc macro behind it comes with `derive` + `migrate`.
static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// As [`SQLITE_MIGRATOR`]. sqlx's PostgreSQL migrator holds a session advisory lock (keyed
/// by the database name) while it runs, so instances starting together apply each
/// migration exactly once.
static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a SQLite connection waits for another writer's lock before it reports busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a caller waits for a free pooled PostgreSQL connection before the call fails.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// The SQL dialect of the backend in use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// `"sqlite"` or `"postgres"`, also the name of the migrations folder.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }

    /// Opens a write transaction: on SQLite it takes the write lock at once.
    pub fn begin_write(self) -> &'static str {
        match self {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
        }
    }

    /// Opens a multi-statement read that sees one snapshot.
    pub fn begin_snapshot(self) -> &'static str {
        match self {
            Dialect::Sqlite => "BEGIN",
            Dialect::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        }
    }

    /// Ends the subquery that picks jobs to claim. On PostgreSQL a row another claimer
    /// updated since the statement's snapshot is re-checked against the WHERE clause before
    /// it is locked, so a fresh lease is never taken over.
    pub fn claim_lock(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => "FOR UPDATE SKIP LOCKED",
        }
    }

    /// `SELECT … FROM jobs` of the queue listings (`JobListingRow`): the columns operators
    /// see plus the payload summary, extracted in SQL so the payload (with the attendee's
    /// contact data) never leaves the database. A summary field that is missing or not a
    /// string is NULL. PostgreSQL cannot extract anything from JSON text that holds a
    /// `\u0000` escape (SQLite can), so its lateral `doc` first turns each such escape into
    /// `\ufffd`; one odd payload cannot break a whole listing.
    pub fn job_listing_from(self) -> &'static str {
        match self {
            Dialect::Sqlite => {
                "SELECT id, queue, kind, company_id, call_id, status, attempts, max_attempts, \
                     next_run_at, locked_until, last_error, created_at, updated_at, \
                     CASE json_type(payload, '$.service_name') \
                         WHEN 'text' THEN json_extract(payload, '$.service_name') END \
                         AS service_name, \
                     CASE json_type(payload, '$.start') \
                         WHEN 'text' THEN json_extract(payload, '$.start') END AS start, \
                     CASE json_type(payload, '$.attendee.name') \
                         WHEN 'text' THEN json_extract(payload, '$.attendee.name') END \
                         AS attendee_name \
                 FROM jobs"
            }
            Dialect::Postgres => {
                "SELECT id, queue, kind, company_id, call_id, status, attempts, max_attempts, \
                     next_run_at, locked_until, last_error, created_at, updated_at, \
                     CASE json_typeof(doc -> 'service_name') \
                         WHEN 'string' THEN doc ->> 'service_name' END AS service_name, \
                     CASE json_typeof(doc -> 'start') \
                         WHEN 'string' THEN doc ->> 'start' END AS start, \
                     CASE json_typeof(doc #> '{attendee,name}') \
                         WHEN 'string' THEN doc #>> '{attendee,name}' END AS attendee_name \
                 FROM jobs CROSS JOIN LATERAL (SELECT regexp_replace(jobs.payload, \
                     '(?<!\\\\)((\\\\\\\\)*)\\\\u0000', '\\1\\\\ufffd', 'g')::json AS doc) \
                     AS summary"
            }
        }
    }

    /// The UTC minute of `jobs.updated_at` as text, `YYYY-MM-DDTHH:MM`.
    pub fn updated_minute(self) -> &'static str {
        match self {
            Dialect::Sqlite => "substr(updated_at, 1, 16)",
            Dialect::Postgres => "to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI')",
        }
    }

    /// `jobs.updated_at − created_at` in milliseconds, rounded to a whole number (BIGINT);
    /// SQLite's date functions keep no more than milliseconds.
    pub fn latency_ms(self) -> &'static str {
        match self {
            Dialect::Sqlite => {
                "CAST(ROUND((julianday(updated_at) - julianday(created_at)) * 86400000.0) \
                     AS INTEGER)"
            }
            Dialect::Postgres => {
                "CAST(ROUND(EXTRACT(EPOCH FROM (updated_at - created_at)) * 1000) AS BIGINT)"
            }
        }
    }

    /// Whether `error` ends a transaction that may succeed when run again: SQLite
    /// `SQLITE_BUSY` (5) or `SQLITE_LOCKED` (6) with their extended codes (low byte);
    /// PostgreSQL SQLSTATE `40001` (serialization_failure) or `40P01` (deadlock_detected).
    pub fn is_transient(self, error: &sqlx::Error) -> bool {
        let sqlx::Error::Database(db) = error else {
            return false;
        };
        let code = db.code();
        match self {
            Dialect::Sqlite => code
                .and_then(|code| code.parse::<i32>().ok())
                .is_some_and(|code| matches!(code & 0xff, 5 | 6)),
            Dialect::Postgres => matches!(code.as_deref(), Some("40001" | "40P01")),
        }
    }
}

/// Opens (creating the parent directory and the file when missing) the SQLite database at
/// `url` and applies the migrations of `migrations/sqlite/`. Connections use WAL,
/// `foreign_keys=ON`, a 5 s busy timeout and `synchronous=NORMAL` (durable across process
/// crashes; an OS crash may lose the last commits).
pub(super) async fn connect_sqlite(url: &str, max_connections: u32) -> Result<Db, StoreError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(backend)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT)
        .synchronous(SqliteSynchronous::Normal);
    let path = options.get_filename().to_owned();
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| StoreError::backend(format!("cannot create {}: {e}", parent.display())))?;
    }
    // Switching a fresh file to WAL needs an exclusive lock that busy_timeout does not
    // wait for, so two processes opening a new file together may see busy here.
    let pool = retry(Dialect::Sqlite, || {
        SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .connect_with(options.clone())
    })
    .await
    .map_err(backend)?;
    let (before, after) = retry(Dialect::Sqlite, || migrate_sqlite(&pool))
        .await
        .map_err(backend)?;
    tracing::info!(
        path = %path.display(),
        applied = after - before,
        total = after,
        "sqlite store ready"
    );
    Ok(Db::Sqlite(pool))
}

/// Applies pending migrations inside one `BEGIN IMMEDIATE` transaction, so concurrent
/// starters queue on the write lock and the later ones find everything applied (sqlx's
/// migration lock is a no-op on SQLite). Returns the number of applied migrations before
/// and after.
async fn migrate_sqlite(pool: &SqlitePool) -> Result<(u64, u64), sqlx::Error> {
    let mut tx = pool.begin_with(Dialect::Sqlite.begin_write()).await?;
    tx.ensure_migrations_table().await.map_err(migrate_error)?;
    let before = applied_migrations(&mut tx).await?;
    SQLITE_MIGRATOR
        .run_direct(&mut *tx)
        .await
        .map_err(migrate_error)?;
    let after = applied_migrations(&mut tx).await?;
    tx.commit().await?;
    Ok((before, after))
}

async fn applied_migrations(conn: &mut SqliteConnection) -> Result<u64, sqlx::Error> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(conn)
        .await?;
    Ok(u64::try_from(count).unwrap_or_default())
}

/// Unwraps statement errors so the retry can see a busy database behind a migration.
fn migrate_error(error: MigrateError) -> sqlx::Error {
    match error {
        MigrateError::Execute(error) => error,
        other => sqlx::Error::Migrate(Box::new(other)),
    }
}

/// Connects to the PostgreSQL database at `url` (libpq's URL form) with a pool of at most
/// `max_connections` (at least 1) and applies the migrations of `migrations/postgres/`.
/// The error never contains the URL (it may hold a password).
pub(super) async fn connect_postgres(url: &str, max_connections: u32) -> Result<Db, StoreError> {
    let options = PgConnectOptions::from_str(url).map_err(backend)?;
    let database = options.get_database().unwrap_or_default().to_owned();
    let pool = PgPoolOptions::new()
        .max_connections(max_connections.max(1))
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(backend)?;
    let total = migrate_postgres(&pool).await?;
    tracing::info!(%database, migrations = total, "postgres store ready");
    Ok(Db::Postgres(pool))
}

/// Applies pending migrations on one dedicated connection and returns how many are applied
/// in total. sqlx releases its advisory lock only when the run succeeds; after a failure
/// the connection is closed instead of going back to the pool, which ends the session and
/// with it the lock, so a failed start never blocks the next one.
async fn migrate_postgres(pool: &PgPool) -> Result<i64, StoreError> {
    let mut conn = pool.acquire().await.map_err(backend)?;
    if let Err(error) = POSTGRES_MIGRATOR.run(&mut *conn).await {
        conn.close_on_drop();
        return Err(StoreError::Backend {
            message: format!("migration failed: {error}"),
            source: Some(BackendCause(Arc::new(error))),
        });
    }
    sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)
}
