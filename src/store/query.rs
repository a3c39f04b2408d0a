//! Runs a query [`sql_guard`](switchboard_actors::domain::sql_guard) checked and rewrote
//! (`database.query`): read-only, with a time limit, at most `max_rows` rows read from a
//! stream, every value decoded by its type into JSON.
//!
//! How each backend keeps it read-only and bounded:
//! - PostgreSQL: `BEGIN READ ONLY` + `SET LOCAL statement_timeout`, rolled back after; the
//!   server cancels the statement at the limit (SQLSTATE 57014).
//! - SQLite: a connection of its own, opened read-only (`SQLITE_OPEN_READONLY`) with
//!   `PRAGMA query_only`, and a progress handler that interrupts the statement once the
//!   limit has passed; closed after, so no pooled connection ever carries these settings.
//! - Both: a tokio timeout a little past the limit, in case the database does not stop.

use super::sql::{Db, backend};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use futures_util::{Stream, TryStreamExt};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::query::Query;
use sqlx::sqlite::SqliteRow;
use sqlx::{
    Column, ConnectOptions, Database, Encode, Executor, Row, Statement, Type, TypeInfo, ValueRef,
};
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use switchboard_actors::domain::sql_guard::{
    CheckedQuery, QueryColumn, QueryError, QueryOutput, QueryParam, RunLimits,
};

/// SQLite virtual-machine steps between two looks at the clock.
const PROGRESS_STEPS: i32 = 1000;

/// How long past the limit the tokio timeout waits for the database to stop by itself.
const GRACE: Duration = Duration::from_millis(500);

/// Runs `query` with `params` within `limits` on `db`.
pub(super) async fn run(
    db: &Db,
    query: &CheckedQuery,
    params: &[QueryParam],
    limits: RunLimits,
) -> Result<QueryOutput, QueryError> {
    let started = Instant::now();
    let run = async {
        match db {
            Db::Sqlite(pool) => run_sqlite(pool, query, params, limits).await,
            Db::Postgres(pool) => run_postgres(pool, query, params, limits).await,
        }
    };
    let (rows, truncated, columns) = tokio::time::timeout(limits.timeout + GRACE, run)
        .await
        .map_err(|_| QueryError::Timeout(limits.timeout))??;
    Ok(QueryOutput {
        columns,
        rows,
        truncated,
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}

/// Decoded rows, whether more were there, and the columns.
type Table = (Vec<Vec<Value>>, bool, Vec<QueryColumn>);

fn store(error: sqlx::Error) -> QueryError {
    QueryError::Store(backend(error))
}

/// Binds `params` as `$1…$n`; a JSON `null` as a NULL text.
fn bind<'q, DB: Database>(
    mut query: Query<'q, DB, <DB as Database>::Arguments<'q>>,
    params: &'q [QueryParam],
) -> Query<'q, DB, <DB as Database>::Arguments<'q>>
where
    Option<String>: Encode<'q, DB> + Type<DB>,
    bool: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    f64: Encode<'q, DB> + Type<DB>,
    &'q str: Encode<'q, DB> + Type<DB>,
{
    for param in params {
        query = match param {
            QueryParam::Null => query.bind(None::<String>),
            QueryParam::Bool(b) => query.bind(*b),
            QueryParam::Int(i) => query.bind(*i),
            QueryParam::Real(r) => query.bind(*r),
            QueryParam::Text(t) => query.bind(t.as_str()),
        };
    }
    query
}

/// At most `max` rows of `stream`, and whether more were there (one more is read to know).
async fn take<R>(
    stream: impl Stream<Item = Result<R, sqlx::Error>>,
    max: u32,
) -> Result<(Vec<R>, bool), sqlx::Error> {
    let mut stream = pin!(stream);
    let mut rows = Vec::new();
    while let Some(row) = stream.try_next().await? {
        if rows.len() == max as usize {
            return Ok((rows, true));
        }
        rows.push(row);
    }
    Ok((rows, false))
}

/// Every row of `rows` decoded by `decode`.
fn decode_all<R>(
    rows: &[R],
    cols: &[QueryColumn],
    decode: fn(&R, &[QueryColumn]) -> Result<Vec<Value>, QueryError>,
) -> Result<Vec<Vec<Value>>, QueryError> {
    rows.iter().map(|row| decode(row, cols)).collect()
}

fn columns<C: Column>(columns: &[C]) -> Vec<QueryColumn> {
    columns
        .iter()
        .map(|c| QueryColumn {
            name: c.name().to_owned(),
            kind: c.type_info().name().to_lowercase(),
        })
        .collect()
}

async fn run_sqlite(
    pool: &sqlx::SqlitePool,
    query: &CheckedQuery,
    params: &[QueryParam],
    limits: RunLimits,
) -> Result<Table, QueryError> {
    let options = (*pool.connect_options())
        .clone()
        .read_only(true)
        .create_if_missing(false)
        .pragma("query_only", "ON");
    let mut conn = options.connect().await.map_err(store)?;
    let deadline = Instant::now() + limits.timeout;
    let stopped = Arc::new(AtomicBool::new(false));
    {
        let stopped = Arc::clone(&stopped);
        let mut handle = conn.lock_handle().await.map_err(store)?;
        handle.set_progress_handler(PROGRESS_STEPS, move || {
            let go_on = Instant::now() < deadline;
            if !go_on {
                stopped.store(true, Ordering::Relaxed);
            }
            go_on
        });
    }
    let result = async {
        let statement = (&mut conn).prepare(&query.sql).await?;
        let cols = columns(statement.columns());
        let stream = bind(statement.query(), params).fetch(&mut conn);
        let (rows, truncated) = take(stream, limits.max_rows).await?;
        Ok::<_, sqlx::Error>((cols, rows, truncated))
    }
    .await;
    match result {
        Err(_) if stopped.load(Ordering::Relaxed) => Err(QueryError::Timeout(limits.timeout)),
        Err(e) => Err(store(e)),
        Ok((cols, rows, truncated)) => Ok((decode_all(&rows, &cols, sqlite_row)?, truncated, cols)),
    }
}

fn sqlite_row(row: &SqliteRow, cols: &[QueryColumn]) -> Result<Vec<Value>, QueryError> {
    (0..row.len())
        .map(|i| {
            let raw = row.try_get_raw(i).map_err(store)?;
            if raw.is_null() {
                return Ok(Value::Null);
            }
            let kind = raw.type_info().name().to_owned();
            let value = match kind.as_str() {
                "INTEGER" => row.try_get_unchecked::<i64, _>(i).map(Value::from),
                "REAL" => row.try_get_unchecked::<f64, _>(i).map(Value::from),
                "TEXT" => row.try_get_unchecked::<String, _>(i).map(Value::from),
                _ => return Err(unsupported(cols, i, &kind)),
            };
            value.map_err(store)
        })
        .collect()
}

async fn run_postgres(
    pool: &sqlx::PgPool,
    query: &CheckedQuery,
    params: &[QueryParam],
    limits: RunLimits,
) -> Result<Table, QueryError> {
    let mut tx = pool.begin_with("BEGIN READ ONLY").await.map_err(store)?;
    let timeout_ms = limits.timeout.as_millis().max(1);
    sqlx::query(&format!("SET LOCAL statement_timeout = {timeout_ms}"))
        .execute(&mut *tx)
        .await
        .map_err(store)?;
    let result = async {
        let statement = (&mut *tx).prepare(&query.sql).await?;
        let cols = columns(statement.columns());
        let stream = bind(statement.query(), params).fetch(&mut *tx);
        let (rows, truncated) = take(stream, limits.max_rows).await?;
        Ok::<_, sqlx::Error>((cols, rows, truncated))
    }
    .await;
    // Read-only: nothing to keep. Dropping it would roll back too, later.
    let _ = tx.rollback().await;
    match result {
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("57014") => {
            Err(QueryError::Timeout(limits.timeout))
        }
        Err(e) => Err(store(e)),
        Ok((cols, rows, truncated)) => {
            Ok((decode_all(&rows, &cols, postgres_row)?, truncated, cols))
        }
    }
}

fn postgres_row(row: &PgRow, cols: &[QueryColumn]) -> Result<Vec<Value>, QueryError> {
    (0..row.len())
        .map(|i| {
            let raw = row.try_get_raw(i).map_err(store)?;
            if raw.is_null() {
                return Ok(Value::Null);
            }
            let kind = cols.get(i).map_or("", |c| c.kind.as_str());
            let value = match kind {
                "bool" => row.try_get::<bool, _>(i).map(Value::from),
                "int2" => row.try_get::<i16, _>(i).map(Value::from),
                "int4" => row.try_get::<i32, _>(i).map(Value::from),
                "int8" => row.try_get::<i64, _>(i).map(Value::from),
                "float4" => row.try_get::<f32, _>(i).map(Value::from),
                "float8" => row.try_get::<f64, _>(i).map(Value::from),
                "numeric" => return numeric(row, i, cols),
                "text" | "varchar" | "bpchar" | "name" | "unknown" => {
                    row.try_get::<String, _>(i).map(Value::from)
                }
                "timestamptz" => row
                    .try_get::<DateTime<Utc>, _>(i)
                    .map(|t| Value::from(t.to_rfc3339())),
                "timestamp" => row
                    .try_get::<NaiveDateTime, _>(i)
                    .map(|t| Value::from(t.format("%Y-%m-%dT%H:%M:%S%.f").to_string())),
                "date" => row
                    .try_get::<NaiveDate, _>(i)
                    .map(|d| Value::from(d.to_string())),
                "time" => row
                    .try_get::<NaiveTime, _>(i)
                    .map(|t| Value::from(t.to_string())),
                "json" | "jsonb" => row.try_get::<Value, _>(i),
                other => return Err(unsupported(cols, i, other)),
            };
            value.map_err(store)
        })
        .collect()
}

/// A NUMERIC as a JSON number: an integer when it has no fraction and fits, a float
/// otherwise.
fn numeric(row: &PgRow, i: usize, cols: &[QueryColumn]) -> Result<Value, QueryError> {
    let decimal = row
        .try_get::<rust_decimal::Decimal, _>(i)
        .map_err(|_| unsupported(cols, i, "numeric beyond 28 digits"))?;
    let text = decimal.normalize().to_string();
    if let Ok(int) = text.parse::<i64>() {
        return Ok(Value::from(int));
    }
    text.parse::<f64>()
        .map(Value::from)
        .map_err(|_| unsupported(cols, i, "numeric"))
}

fn unsupported(cols: &[QueryColumn], i: usize, kind: &str) -> QueryError {
    let name = cols.get(i).map_or("?", |c| c.name.as_str());
    QueryError::Unsupported(format!(
        "column `{name}` has type {kind}, which database.query cannot return; cast it, \
         e.g. CAST({name} AS TEXT)"
    ))
}
