//! The plumbing every store method runs on: a statement is backend-neutral ([`Sql`]: SQL
//! text with `$N` parameters and its typed arguments), and only here is it handed to the
//! driver of the backend in use ([`Db`], [`Tx`]).
//!
//! Why not a store generic over `sqlx::Database`: binding a value or decoding a row
//! generically needs `i64: Encode<'q, DB>`, `Row: FromRow<'r, DB::Row>`, … and Rust does not
//! imply such where-clauses from a helper trait (checked with rustc 1.95), so every impl
//! block and helper would restate a dozen bounds. sqlx's `Any` driver cannot bind chrono
//! times. So the store is one concrete type, statements carry their arguments as three
//! kinds of values (integer, text, UTC time — all our columns use), and the choice of
//! driver is one `match` per operation below.

use super::dialect::Dialect;
use chrono::{DateTime, Utc};
use sqlx::error::BoxDynError;
use sqlx::pool::PoolConnection;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{
    Arguments, Database, Encode, FromRow, PgConnection, PgPool, Postgres, Sqlite, SqliteConnection,
    SqlitePool, Transaction, Type,
};
use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use switchboard_actors::ports::{BackendCause, StoreError};
use switchboard_actors::resilience::backoff::{Backoff, retry_while};

/// Waits before the extra attempts of a whole transaction that failed transiently (SQLite
/// busy or locked, PostgreSQL deadlock or serialization failure): 40, 80, 160 and 320 ms,
/// then the error stands.
const TRANSIENT_BACKOFF: Backoff =
    Backoff::exponential(Duration::from_millis(40), Duration::from_millis(320)).with_max_retries(4);

/// A row type both drivers can decode (`#[derive(sqlx::FromRow)]` over columns of types
/// both support, or a tuple of such).
pub(super) trait Record:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

impl<T> Record for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

/// One bound parameter. Every column is an integer, text or a UTC time (JSON is stored as
/// text), so three kinds cover every statement.
#[derive(Debug)]
pub(super) enum Arg<'a> {
    Int(Option<i64>),
    Text(Option<Cow<'a, str>>),
    Time(Option<DateTime<Utc>>),
}

impl From<i64> for Arg<'_> {
    fn from(value: i64) -> Self {
        Arg::Int(Some(value))
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(value: Option<i64>) -> Self {
        Arg::Int(value)
    }
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(value: &'a str) -> Self {
        Arg::Text(Some(Cow::Borrowed(value)))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(value: &'a String) -> Self {
        Arg::Text(Some(Cow::Borrowed(value)))
    }
}

impl From<String> for Arg<'_> {
    fn from(value: String) -> Self {
        Arg::Text(Some(Cow::Owned(value)))
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(value: Option<&'a str>) -> Self {
        Arg::Text(value.map(Cow::Borrowed))
    }
}

impl From<DateTime<Utc>> for Arg<'_> {
    fn from(value: DateTime<Utc>) -> Self {
        Arg::Time(Some(value))
    }
}

impl From<Option<DateTime<Utc>>> for Arg<'_> {
    fn from(value: Option<DateTime<Utc>>) -> Self {
        Arg::Time(value)
    }
}

/// A statement and its arguments, `$1` being the first bound. SQLite reads `$N` as
/// numbered parameters too, so the same text runs on both backends.
#[derive(Debug)]
pub(super) struct Sql<'a> {
    text: Cow<'a, str>,
    args: Vec<Arg<'a>>,
}

impl<'a> Sql<'a> {
    pub fn new(text: impl Into<Cow<'a, str>>) -> Self {
        Self {
            text: text.into(),
            args: Vec::new(),
        }
    }

    /// Binds the next parameter.
    pub fn bind(mut self, value: impl Into<Arg<'a>>) -> Self {
        self.args.push(value.into());
        self
    }

    /// The arguments in the driver's form.
    fn arguments<DB>(&self) -> Result<DB::Arguments<'_>, sqlx::Error>
    where
        DB: Database,
        for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
        for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
        for<'q> Option<DateTime<Utc>>: Encode<'q, DB> + Type<DB>,
    {
        let mut arguments = DB::Arguments::default();
        for arg in &self.args {
            let added: Result<(), BoxDynError> = match arg {
                Arg::Int(value) => arguments.add(*value),
                Arg::Text(value) => arguments.add(value.as_deref()),
                Arg::Time(value) => arguments.add(*value),
            };
            added.map_err(sqlx::Error::Encode)?;
        }
        Ok(arguments)
    }
}

/// A connection of either driver, borrowed from a pool or a transaction.
enum Conn<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

impl Conn<'_> {
    async fn fetch_all<R: Record>(self, sql: Sql<'_>) -> Result<Vec<R>, sqlx::Error> {
        match self {
            Conn::Sqlite(conn) => {
                let arguments = sql.arguments::<Sqlite>()?;
                sqlx::query_as_with(&sql.text, arguments)
                    .fetch_all(conn)
                    .await
            }
            Conn::Postgres(conn) => {
                let arguments = sql.arguments::<Postgres>()?;
                sqlx::query_as_with(&sql.text, arguments)
                    .fetch_all(conn)
                    .await
            }
        }
    }

    async fn fetch_optional<R: Record>(self, sql: Sql<'_>) -> Result<Option<R>, sqlx::Error> {
        match self {
            Conn::Sqlite(conn) => {
                let arguments = sql.arguments::<Sqlite>()?;
                sqlx::query_as_with(&sql.text, arguments)
                    .fetch_optional(conn)
                    .await
            }
            Conn::Postgres(conn) => {
                let arguments = sql.arguments::<Postgres>()?;
                sqlx::query_as_with(&sql.text, arguments)
                    .fetch_optional(conn)
                    .await
            }
        }
    }

    /// Rows changed by a statement that returns none.
    async fn execute(self, sql: Sql<'_>) -> Result<u64, sqlx::Error> {
        match self {
            Conn::Sqlite(conn) => {
                let arguments = sql.arguments::<Sqlite>()?;
                let done = sqlx::query_with(&sql.text, arguments).execute(conn).await?;
                Ok(done.rows_affected())
            }
            Conn::Postgres(conn) => {
                let arguments = sql.arguments::<Postgres>()?;
                let done = sqlx::query_with(&sql.text, arguments).execute(conn).await?;
                Ok(done.rows_affected())
            }
        }
    }
}

/// The pool of the backend in use. Cheap to clone: clones share the pool.
#[derive(Clone, Debug)]
pub(super) enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A connection taken from a [`Db`] for one statement.
///
/// A statement's future can be dropped where no Tokio runtime is current: actix drops an
/// arbiter's tasks after leaving its runtime when the system stops (e.g. a worker's heartbeat
/// in flight at the end of a test). sqlx's `PoolConnection` then panics spawning its return to
/// the pool ("requires a Tokio context"), and that panic inside a destructor aborts the
/// process. There, the connection is detached from the pool and closed by its own drop
/// instead (the pool keeps no minimum of connections to refill).
struct Pooled(Option<PooledConn>);

enum PooledConn {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl Pooled {
    fn conn(&mut self) -> Conn<'_> {
        match &mut self.0 {
            Some(PooledConn::Sqlite(conn)) => Conn::Sqlite(conn),
            Some(PooledConn::Postgres(conn)) => Conn::Postgres(conn),
            None => unreachable!("a Pooled holds its connection until dropped"),
        }
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        if tokio::runtime::Handle::try_current().is_ok() {
            return;
        }
        match self.0.take() {
            Some(PooledConn::Sqlite(conn)) => drop(conn.detach()),
            Some(PooledConn::Postgres(conn)) => drop(conn.detach()),
            None => {}
        }
    }
}

impl Db {
    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite(_) => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    async fn acquire(&self) -> Result<Pooled, sqlx::Error> {
        Ok(Pooled(Some(match self {
            Db::Sqlite(pool) => PooledConn::Sqlite(pool.acquire().await?),
            Db::Postgres(pool) => PooledConn::Postgres(pool.acquire().await?),
        })))
    }

    /// Every row of `sql`, run outside a transaction.
    pub async fn fetch_all<R: Record>(&self, sql: Sql<'_>) -> Result<Vec<R>, sqlx::Error> {
        self.acquire().await?.conn().fetch_all(sql).await
    }

    /// The first row of `sql`, if any, run outside a transaction.
    pub async fn fetch_optional<R: Record>(&self, sql: Sql<'_>) -> Result<Option<R>, sqlx::Error> {
        self.acquire().await?.conn().fetch_optional(sql).await
    }

    /// The first row of `sql`; [`sqlx::Error::RowNotFound`] when there is none.
    pub async fn fetch_one<R: Record>(&self, sql: Sql<'_>) -> Result<R, sqlx::Error> {
        self.fetch_optional(sql)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }

    /// Runs `sql` outside a transaction; returns the number of rows it changed.
    pub async fn execute(&self, sql: Sql<'_>) -> Result<u64, sqlx::Error> {
        self.acquire().await?.conn().execute(sql).await
    }

    /// Opens a write transaction in the dialect's mode ([`Dialect::begin_write`]).
    pub async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        self.begin(self.dialect().begin_write()).await
    }

    /// Opens a read transaction that sees one snapshot ([`Dialect::begin_snapshot`]).
    pub async fn begin_snapshot(&self) -> Result<Tx, sqlx::Error> {
        self.begin(self.dialect().begin_snapshot()).await
    }

    async fn begin(&self, statement: &'static str) -> Result<Tx, sqlx::Error> {
        Ok(Tx(Some(match self {
            Db::Sqlite(pool) => TxConn::Sqlite(pool.begin_with(statement).await?),
            Db::Postgres(pool) => TxConn::Postgres(pool.begin_with(statement).await?),
        })))
    }

    /// Runs `op` again (a fresh transaction each time) while it fails transiently in this
    /// dialect ([`Dialect::is_transient`]), waiting as [`TRANSIENT_BACKOFF`] says. Both
    /// backends end such a conflict by failing one side; the retry lets it win the second
    /// time.
    pub async fn retry<T, F, Fut>(&self, op: F) -> Result<T, sqlx::Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, sqlx::Error>>,
    {
        retry(self.dialect(), op).await
    }

    /// Round trip to the database.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        self.execute(Sql::new("SELECT 1")).await.map(drop)
    }
}

/// See [`Db::retry`]; also used while connecting, before a [`Db`] exists.
pub(super) async fn retry<T, F, Fut>(dialect: Dialect, op: F) -> Result<T, sqlx::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, sqlx::Error>>,
{
    retry_while(&TRANSIENT_BACKOFF, op, |error| {
        let transient = dialect.is_transient(error);
        if transient {
            tracing::debug!(
                %error,
                dialect = dialect.name(),
                "transient database conflict; retrying the transaction"
            );
        }
        transient
    })
    .await
}

/// An open transaction of either driver; dropped without [`Tx::commit`] it rolls back.
///
/// Dropped where no Tokio runtime is current (see [`Pooled`]), its connection cannot go back
/// to the pool without a panic that aborts the process, nor be detached from a transaction:
/// it is leaked instead, which happens only while a runtime shuts down (the database ends the
/// session, and so the transaction, when the process exits).
pub(super) struct Tx(Option<TxConn>);

enum TxConn {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Drop for Tx {
    fn drop(&mut self) {
        if tokio::runtime::Handle::try_current().is_err() {
            std::mem::forget(self.0.take());
        }
    }
}

impl Tx {
    fn conn(&mut self) -> Conn<'_> {
        match &mut self.0 {
            Some(TxConn::Sqlite(tx)) => Conn::Sqlite(tx),
            Some(TxConn::Postgres(tx)) => Conn::Postgres(tx),
            None => unreachable!("a Tx holds its transaction until committed or dropped"),
        }
    }

    /// Every row of `sql`.
    pub async fn fetch_all<R: Record>(&mut self, sql: Sql<'_>) -> Result<Vec<R>, sqlx::Error> {
        self.conn().fetch_all(sql).await
    }

    /// The first row of `sql`, if any.
    pub async fn fetch_optional<R: Record>(
        &mut self,
        sql: Sql<'_>,
    ) -> Result<Option<R>, sqlx::Error> {
        self.conn().fetch_optional(sql).await
    }

    /// The first row of `sql`; [`sqlx::Error::RowNotFound`] when there is none.
    pub async fn fetch_one<R: Record>(&mut self, sql: Sql<'_>) -> Result<R, sqlx::Error> {
        self.fetch_optional(sql)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }

    /// Runs `sql`; returns the number of rows it changed.
    pub async fn execute(&mut self, sql: Sql<'_>) -> Result<u64, sqlx::Error> {
        self.conn().execute(sql).await
    }

    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        match self.0.take() {
            Some(TxConn::Sqlite(tx)) => tx.commit().await,
            Some(TxConn::Postgres(tx)) => tx.commit().await,
            None => Ok(()),
        }
    }
}

/// Unique violations become [`StoreError::Conflict`]; everything else (connection
/// failures, pool timeouts, other constraint violations) [`StoreError::Backend`] with the
/// sqlx error as its source. Only the driver's `Display` is kept as the message: for a
/// database error that is the server's primary message, which names tables and
/// constraints, whereas PostgreSQL's DETAIL line quotes the row's values, credentials
/// included.
pub(super) fn backend(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(db.message().to_owned())
        }
        _ => StoreError::Backend {
            message: error.to_string(),
            source: Some(BackendCause(Arc::new(error))),
        },
    }
}

pub(super) fn job_not_found(job_id: i64) -> StoreError {
    StoreError::backend(format!("job {job_id} does not exist"))
}
