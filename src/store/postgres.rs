//! [`PgStore`]: the production backend (DESIGN §8) — a PostgreSQL pool shared by every actor
//! of the process and by every instance of the service.
//!
//! Behaviour is [`SqliteStore`](super::SqliteStore)'s, statement for statement, and the
//! same test suite checks both (`tests.rs`). Where the dialects or the concurrency models
//! differ, this file says how the meaning is kept:
//! - Writes run in plain `BEGIN` (READ COMMITTED) transactions. Every write transaction
//!   opens with the write that decides it (the webhook dedupe insert, the job update), so
//!   concurrent writers queue on that row as SQLite's writers queue on the file lock. A
//!   deadlock or serialization failure is retried as a whole transaction a few times by
//!   [`retry_transient`], as SQLite's busy errors are.
//! - Reads that take several statements (`get_call`, `webhook_stats`) run in one
//!   `REPEATABLE READ READ ONLY` transaction: one snapshot, as a SQLite read transaction.
//! - Job claims lock the picked rows `FOR UPDATE SKIP LOCKED`: two workers never get the
//!   same job and neither waits for the other.
//! - Times are TIMESTAMPTZ and keep microseconds; anything finer is dropped when bound.
//! - `SUM` of BIGINT is NUMERIC in PostgreSQL, so counts use `COUNT(*) FILTER (…)` and
//!   sums are cast back to BIGINT.

use super::rows::{
    AppointmentViewRow, BOOK_KIND, CallContextRow, CallRow, CompanyRow, EventFields, JobListingRow,
    JobRow, JobViewRow, QueueOverviewRow, RouteRow, ServiceRow, WINDOW_TIME_FORMAT,
};
use super::{NewCompany, NewService};
use async_trait::async_trait;
use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use secrecy::ExposeSecret;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};
use std::future::Future;
use std::str::FromStr;
use std::time::Duration;
use switchboard_actors::domain::ids::{BranchId, CompanyId};
use switchboard_actors::domain::phone::PhoneNumber;
use switchboard_actors::domain::tenant::{CompanyProfile, Service, TenantRoute};
use switchboard_actors::ports::{
    CallStore, LockStore, OutboxStore, QueueAdminStore, StoreError, TenancyStore, TokenStore,
};
use switchboard_actors::records::{
    CallContextRecord, CallEventRecord, CallId, CallView, EventOutcome, FailedJob, Job, JobFailure,
    JobStatus, NewAppointment, NewJob, QueueMetricsRows, QueueOverview, RecentJob, RetryOutcome,
    TokenGrant, WebhookStats, WorkerHeartbeat, WorkerView,
};

/// Embedded at compile time; the binary needs no migration files at run time. sqlx's
/// PostgreSQL migrator holds a session advisory lock (keyed by the database name) while it
/// runs, so instances starting together apply each migration exactly once.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// Extra attempts of a whole transaction that failed on a deadlock or serialization error.
const TRANSIENT_RETRIES: u32 = 4;

/// How long a caller waits for a free pooled connection before the call fails.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens a multi-statement read: one snapshot for all its statements, as a SQLite read
/// transaction sees one WAL snapshot.
const BEGIN_SNAPSHOT: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

/// The `SELECT` list of [`JobListingRow`] over `jobs`, the PostgreSQL twin of
/// [`JOB_LISTING_COLUMNS`](super::rows::JOB_LISTING_COLUMNS): the summary is extracted in
/// SQL so the payload never leaves the database; a missing or non-string field is NULL.
/// PostgreSQL cannot extract anything from JSON text that holds a `\u0000` escape (SQLite
/// can), so the lateral `doc` first turns each such escape into `\ufffd`; one odd payload
/// cannot break a whole listing.
const JOB_LISTING_FROM: &str = "SELECT id, queue, kind, company_id, call_id, status, \
         attempts, max_attempts, next_run_at, locked_until, last_error, created_at, updated_at, \
         CASE json_typeof(doc -> 'service_name') \
             WHEN 'string' THEN doc ->> 'service_name' END AS service_name, \
         CASE json_typeof(doc -> 'start') WHEN 'string' THEN doc ->> 'start' END AS start, \
         CASE json_typeof(doc #> '{attendee,name}') \
             WHEN 'string' THEN doc #>> '{attendee,name}' END AS attendee_name \
     FROM jobs CROSS JOIN LATERAL (SELECT regexp_replace(jobs.payload, \
         '(?<!\\\\)((\\\\\\\\)*)\\\\u0000', '\\1\\\\ufffd', 'g')::json AS doc) AS summary";

/// [`Store`] on a PostgreSQL database. Cheap to clone: clones share one connection pool.
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`,
    /// options as libpq's URL form) with a pool of at most `max_connections` (at least 1),
    /// and applies the embedded migrations of `migrations/postgres/`.
    ///
    /// Several instances may call this on one database at once: the migrator's advisory
    /// lock makes the later ones wait and then find every migration applied.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the URL does not parse, the server cannot be reached or
    /// refuses the login, or a migration fails (including a changed checksum of an already
    /// applied migration). The message never contains the URL (it may hold a password).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(backend)?;
        let database = options.get_database().unwrap_or_default().to_owned();
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(backend)?;
        let total = migrate(&pool).await?;
        tracing::info!(%database, migrations = total, "postgres store ready");
        Ok(Self { pool })
    }

    /// The connection pool, for adapters that need queries the [`Store`] port does not
    /// offer (e.g. the read-only `database.query` server).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Creates the company named `new.name`, or updates its locale, time zone and
    /// credentials; returns its id either way. Safe when several instances seed at once.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the statement fails.
    pub async fn upsert_company(&self, new: &NewCompany) -> Result<CompanyId, StoreError> {
        let now = Utc::now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO companies \
                 (name, locale, time_zone, retell_api_key, calcom_api_key, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (name) DO UPDATE SET \
                 locale = excluded.locale, \
                 time_zone = excluded.time_zone, \
                 retell_api_key = excluded.retell_api_key, \
                 calcom_api_key = excluded.calcom_api_key \
             RETURNING id",
        )
        .bind(&new.name)
        .bind(new.locale.as_str())
        .bind(new.time_zone.name())
        .bind(new.retell_api_key.expose_secret())
        .bind(new.calcom_api_key.expose_secret())
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        Ok(CompanyId(id))
    }

    /// Creates the branch `name` of `company`, or updates its business window; returns its
    /// id either way. `opens`/`closes` are local times of the company, stored to the minute
    /// (seconds are dropped).
    ///
    /// # Errors
    /// [`StoreError::Backend`] when `company` does not exist or `opens` is not before
    /// `closes`.
    pub async fn upsert_branch(
        &self,
        company: CompanyId,
        name: &str,
        opens: NaiveTime,
        closes: NaiveTime,
    ) -> Result<BranchId, StoreError> {
        let now = Utc::now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO branches (company_id, name, opens, closes, created_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (company_id, name) DO UPDATE SET \
                 opens = excluded.opens, closes = excluded.closes \
             RETURNING id",
        )
        .bind(company.0)
        .bind(name)
        .bind(opens.format(WINDOW_TIME_FORMAT).to_string())
        .bind(closes.format(WINDOW_TIME_FORMAT).to_string())
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        Ok(BranchId(id))
    }

    /// Routes `number` to `branch`; a number already routed elsewhere moves to `branch`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when `branch` does not exist.
    pub async fn upsert_phone_number(
        &self,
        number: &PhoneNumber,
        branch: BranchId,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO phone_numbers (number, branch_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (number) DO UPDATE SET branch_id = excluded.branch_id",
        )
        .bind(number.as_str())
        .bind(branch.0)
        .bind(Utc::now())
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    /// Creates the service (`company_id`, `name`), or updates its aliases, duration and
    /// Cal.com mapping; returns its id either way.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the company does not exist or `duration_min` is 0.
    pub async fn upsert_service(&self, new: &NewService) -> Result<i64, StoreError> {
        let aliases = serde_json::to_string(&new.aliases)
            .map_err(|e| StoreError::Backend(format!("aliases: {e}")))?;
        sqlx::query_scalar(
            "INSERT INTO services \
                 (company_id, name, aliases, duration_min, event_type_id, team_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (company_id, name) DO UPDATE SET \
                 aliases = excluded.aliases, \
                 duration_min = excluded.duration_min, \
                 event_type_id = excluded.event_type_id, \
                 team_id = excluded.team_id \
             RETURNING id",
        )
        .bind(new.company_id.0)
        .bind(&new.name)
        .bind(&aliases)
        .bind(i64::from(new.duration_min))
        .bind(new.event_type_id.0)
        .bind(new.team_id)
        .bind(Utc::now())
        .fetch_one(&self.pool)
        .await
        .map_err(backend)
    }

    /// Stores an API token by its SHA-256 hex digest ([`super::token_digest`]);
    /// `company: None` makes it an admin token. A digest that is already stored keeps its
    /// original grant and label.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the digest is not 64 hex digits or the company does not
    /// exist.
    pub async fn insert_api_token(
        &self,
        token_sha256: &str,
        company: Option<CompanyId>,
        label: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO api_tokens (token_sha256, company_id, label, created_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (token_sha256) DO NOTHING",
        )
        .bind(token_sha256.to_ascii_lowercase())
        .bind(company.map(|c| c.0))
        .bind(label)
        .bind(Utc::now())
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn record_once(
        &self,
        event: &CallEventRecord,
        fields: &EventFields,
    ) -> Result<EventOutcome, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        // A concurrent delivery of the same (event, call_id) waits here on the unique key
        // until this transaction ends, then counts itself as a duplicate.
        let duplicates: i64 = sqlx::query_scalar(
            "INSERT INTO webhook_events (event, call_id, company_id, received_at, duplicate_count) \
             VALUES ($1, $2, $3, $4, 0) \
             ON CONFLICT (event, call_id) DO UPDATE SET \
                 duplicate_count = webhook_events.duplicate_count + 1 \
             RETURNING duplicate_count",
        )
        .bind(event.event.as_str())
        .bind(event.call_id.as_str())
        .bind(event.company_id.0)
        .bind(event.received_at)
        .fetch_one(&mut *tx)
        .await?;
        if duplicates > 0 {
            tx.commit().await?;
            return Ok(EventOutcome::Duplicate);
        }

        let customer_id = match &event.customer {
            Some(customer) => Some(
                upsert_customer(
                    &mut tx,
                    event.company_id,
                    &customer.phone,
                    customer.name.as_deref(),
                    customer.email.as_deref(),
                    event.received_at,
                )
                .await?,
            ),
            None => None,
        };
        upsert_call(&mut tx, event, fields, customer_id).await?;
        let job_id = match &event.booking_job {
            Some(job) => Some(enqueue(&mut tx, job, event.received_at).await?),
            None => None,
        };
        tx.commit().await?;
        Ok(EventOutcome::Recorded { job_id })
    }

    /// Dead-letters a claimed row that cannot become a [`Job`], so it stops being claimed
    /// and shows up in `queue.getFailedJobs` with the reason.
    async fn dead_letter_corrupt(&self, job_id: i64, error: &StoreError) -> Result<(), StoreError> {
        tracing::error!(job_id, %error, "dead-lettering a job that cannot be decoded");
        self.fail_job(
            job_id,
            &JobFailure {
                error: error.to_string(),
                retry_at: None,
            },
        )
        .await
    }

    async fn begin_snapshot(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        self.pool.begin_with(BEGIN_SNAPSHOT).await.map_err(backend)
    }
}

/// Applies pending migrations on one dedicated connection and returns how many are applied
/// in total. sqlx releases its advisory lock only when the run succeeds; after a failure
/// the connection is closed instead of going back to the pool, which ends the session and
/// with it the lock, so a failed start never blocks the next one.
async fn migrate(pool: &PgPool) -> Result<i64, StoreError> {
    let mut conn = pool.acquire().await.map_err(backend)?;
    if let Err(error) = MIGRATOR.run(&mut *conn).await {
        conn.close_on_drop();
        return Err(StoreError::Backend(format!("migration failed: {error}")));
    }
    sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)
}

/// Finds the customer (`company`, `phone`) or creates it; fills a missing name or email but
/// never replaces one already stored (a later caller may say a shorter name).
async fn upsert_customer(
    conn: &mut PgConnection,
    company: CompanyId,
    phone: &str,
    name: Option<&str>,
    email: Option<&str>,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO customers (company_id, phone, name, email, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5) \
         ON CONFLICT (company_id, phone) DO UPDATE SET \
             name = COALESCE(customers.name, excluded.name), \
             email = COALESCE(customers.email, excluded.email), \
             updated_at = excluded.updated_at \
         RETURNING id",
    )
    .bind(company.0)
    .bind(phone)
    .bind(name)
    .bind(email)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// Upserts the `calls` row of a webhook. The status only moves up the ladder
/// registered < ongoing < ended/error/not_connected < analyzed, and the stored call object
/// follows the status, so a late or reordered delivery cannot undo a newer one. Other
/// fields take the new value when the event carries one.
async fn upsert_call(
    conn: &mut PgConnection,
    event: &CallEventRecord,
    fields: &EventFields,
    customer_id: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO calls (call_id, company_id, branch_id, status, from_number, to_number, \
             direction, started_at, ended_at, duration_ms, disconnection_reason, collected, \
             collected_at, payload, summary, sentiment, customer_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
             CASE WHEN $12 IS NULL THEN NULL ELSE $17 END, $13, $14, $15, $16, $17, $17) \
         ON CONFLICT (call_id) DO UPDATE SET \
             status = CASE WHEN \
                 (CASE excluded.status WHEN 'registered' THEN 0 WHEN 'ongoing' THEN 1 \
                     WHEN 'analyzed' THEN 3 ELSE 2 END) \
                 >= (CASE calls.status WHEN 'registered' THEN 0 WHEN 'ongoing' THEN 1 \
                     WHEN 'analyzed' THEN 3 ELSE 2 END) \
                 THEN excluded.status ELSE calls.status END, \
             payload = CASE WHEN \
                 (CASE excluded.status WHEN 'registered' THEN 0 WHEN 'ongoing' THEN 1 \
                     WHEN 'analyzed' THEN 3 ELSE 2 END) \
                 >= (CASE calls.status WHEN 'registered' THEN 0 WHEN 'ongoing' THEN 1 \
                     WHEN 'analyzed' THEN 3 ELSE 2 END) \
                 THEN excluded.payload ELSE calls.payload END, \
             branch_id = COALESCE(calls.branch_id, excluded.branch_id), \
             from_number = COALESCE(excluded.from_number, calls.from_number), \
             to_number = COALESCE(excluded.to_number, calls.to_number), \
             direction = COALESCE(excluded.direction, calls.direction), \
             started_at = COALESCE(excluded.started_at, calls.started_at), \
             ended_at = COALESCE(excluded.ended_at, calls.ended_at), \
             duration_ms = COALESCE(excluded.duration_ms, calls.duration_ms), \
             disconnection_reason = \
                 COALESCE(excluded.disconnection_reason, calls.disconnection_reason), \
             collected = COALESCE(excluded.collected, calls.collected), \
             collected_at = COALESCE(excluded.collected_at, calls.collected_at), \
             summary = COALESCE(excluded.summary, calls.summary), \
             sentiment = COALESCE(excluded.sentiment, calls.sentiment), \
             customer_id = COALESCE(excluded.customer_id, calls.customer_id), \
             updated_at = excluded.updated_at",
    )
    .bind(event.call_id.as_str())
    .bind(event.company_id.0)
    .bind(event.branch_id.0)
    .bind(fields.status)
    .bind(event.from_number.as_deref())
    .bind(event.to_number.as_deref())
    .bind(event.direction.as_deref())
    .bind(event.started_at)
    .bind(event.ended_at)
    .bind(event.duration_ms)
    .bind(event.disconnection_reason.as_deref())
    .bind(fields.collected.as_deref())
    .bind(&fields.payload)
    .bind(event.summary.as_deref())
    .bind(event.sentiment.as_deref())
    .bind(customer_id)
    .bind(event.received_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Puts `job` in the outbox unless a job with its idempotency key exists; returns the id of
/// whichever row holds the key.
async fn enqueue(
    conn: &mut PgConnection,
    job: &NewJob,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    let inserted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO jobs (queue, kind, company_id, call_id, idempotency_key, payload, status, \
             attempts, max_attempts, next_run_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $8, $9, $9) \
         ON CONFLICT (idempotency_key) DO NOTHING \
         RETURNING id",
    )
    .bind(&job.queue)
    .bind(&job.kind)
    .bind(job.company_id.0)
    .bind(job.call_id.as_ref().map(CallId::as_str))
    .bind(&job.idempotency_key)
    .bind(job.payload.to_string())
    // A job with no attempts would sit in the outbox forever; the caller meant "once".
    .bind(i64::from(job.max_attempts.max(1)))
    .bind(job.run_at)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    match inserted {
        Some(id) => Ok(id),
        None => {
            sqlx::query_scalar("SELECT id FROM jobs WHERE idempotency_key = $1")
                .bind(&job.idempotency_key)
                .fetch_one(conn)
                .await
        }
    }
}

/// Inserts the appointment unless one with its idempotency key exists, finds or creates
/// the attendee as customer, and links the call; returns the appointment id.
async fn insert_appointment_in(
    conn: &mut PgConnection,
    appointment: &NewAppointment,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    let customer_id = match &appointment.attendee_phone {
        Some(phone) => Some(
            upsert_customer(
                conn,
                appointment.company_id,
                phone,
                Some(&appointment.attendee_name),
                appointment.attendee_email.as_deref(),
                now,
            )
            .await?,
        ),
        None => None,
    };
    // A concurrent insert of the same key makes this one wait for its commit and then do
    // nothing; the SELECT below (a fresh READ COMMITTED snapshot) sees the winner's row.
    let inserted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO appointments (company_id, branch_id, call_id, customer_id, booking_uid, \
             calcom_booking_id, event_type_id, service_id, service_name, start_at, end_at, \
             attendee_name, attendee_phone, attendee_email, status, idempotency_key, source, \
             created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'scheduled', \
             $15, $16, $17, $17) \
         ON CONFLICT (idempotency_key) DO NOTHING \
         RETURNING id",
    )
    .bind(appointment.company_id.0)
    .bind(appointment.branch_id.map(|b| b.0))
    .bind(appointment.call_id.as_ref().map(CallId::as_str))
    .bind(customer_id)
    .bind(appointment.booking_uid.as_str())
    .bind(appointment.calcom_booking_id)
    .bind(appointment.event_type_id.0)
    .bind(appointment.service_id)
    .bind(&appointment.service_name)
    .bind(appointment.start)
    .bind(appointment.end)
    .bind(&appointment.attendee_name)
    .bind(appointment.attendee_phone.as_deref())
    .bind(appointment.attendee_email.as_deref())
    .bind(&appointment.idempotency_key)
    .bind(&appointment.source)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    let id = match inserted {
        Some(id) => id,
        None => {
            sqlx::query_scalar("SELECT id FROM appointments WHERE idempotency_key = $1")
                .bind(&appointment.idempotency_key)
                .fetch_one(&mut *conn)
                .await?
        }
    };
    if let Some(call_id) = &appointment.call_id {
        sqlx::query(
            "UPDATE calls SET appointment_id = $1, \
                 customer_id = COALESCE(customer_id, $2), updated_at = $3 \
             WHERE call_id = $4",
        )
        .bind(id)
        .bind(customer_id)
        .bind(now)
        .bind(call_id.as_str())
        .execute(conn)
        .await?;
    }
    Ok(id)
}

/// `now + lease`, saturating at the largest instant chrono represents (which PostgreSQL can
/// store): a lease too long for the calendar holds "forever" instead of failing.
fn lease_end(now: DateTime<Utc>, lease: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(lease)
        .ok()
        .and_then(|lease| now.checked_add_signed(lease))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Runs `op` again (a fresh transaction each time) while it fails on a deadlock or a
/// serialization failure, with a short growing pause, at most [`TRANSIENT_RETRIES`] extra
/// times. PostgreSQL aborts one side of a deadlock; the retry lets it win the second time.
async fn retry_transient<T, F, Fut>(mut op: F) -> Result<T, sqlx::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, sqlx::Error>>,
{
    let mut retries = 0;
    loop {
        match op().await {
            Err(error) if retries < TRANSIENT_RETRIES && is_transient(&error) => {
                retries += 1;
                tracing::debug!(retries, %error, "postgres conflict; retrying the transaction");
                tokio::time::sleep(Duration::from_millis(20 << retries)).await;
            }
            result => return result,
        }
    }
}

/// SQLSTATE `40001` (serialization_failure) or `40P01` (deadlock_detected).
fn is_transient(error: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = error else {
        return false;
    };
    matches!(db.code().as_deref(), Some("40001" | "40P01"))
}

/// Unique violations become [`StoreError::Conflict`]; everything else (connection
/// failures, pool timeouts, other constraint violations) [`StoreError::Backend`]. Only the
/// server's primary message is kept: it names tables and constraints, whereas its DETAIL
/// line quotes the row's values, credentials included.
fn backend(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(db.message().to_owned())
        }
        _ => StoreError::Backend(error.to_string()),
    }
}

fn job_not_found(job_id: i64) -> StoreError {
    StoreError::Backend(format!("job {job_id} does not exist"))
}

#[async_trait]
impl TenancyStore for PgStore {
    async fn tenant_by_phone(
        &self,
        number: &PhoneNumber,
    ) -> Result<Option<TenantRoute>, StoreError> {
        let row: Option<RouteRow> = sqlx::query_as(
            "SELECT c.id, c.name, c.locale, c.time_zone, c.retell_api_key, c.calcom_api_key, \
                 b.id AS branch_id, b.name AS branch_name, b.opens, b.closes \
             FROM phone_numbers p \
             JOIN branches b ON b.id = p.branch_id \
             JOIN companies c ON c.id = b.company_id \
             WHERE p.number = $1",
        )
        .bind(number.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.map(RouteRow::into_route).transpose()
    }

    async fn company(&self, id: CompanyId) -> Result<Option<CompanyProfile>, StoreError> {
        let row: Option<CompanyRow> = sqlx::query_as(
            "SELECT id, name, locale, time_zone, retell_api_key, calcom_api_key \
             FROM companies WHERE id = $1",
        )
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.map(CompanyRow::into_profile).transpose()
    }

    async fn services(&self, company: CompanyId) -> Result<Vec<Service>, StoreError> {
        // `services.name` is COLLATE "C": byte order, as SQLite sorts.
        let rows: Vec<ServiceRow> = sqlx::query_as(
            "SELECT id, company_id, name, aliases, duration_min, event_type_id, team_id \
             FROM services WHERE company_id = $1 ORDER BY name, id",
        )
        .bind(company.0)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.into_iter().map(ServiceRow::into_service).collect()
    }
}

#[async_trait]
impl CallStore for PgStore {
    async fn save_call_context(&self, ctx: &CallContextRecord) -> Result<(), StoreError> {
        let collected = serde_json::to_string(&ctx.collected)
            .map_err(|e| StoreError::Backend(format!("collected: {e}")))?;
        // Status is only set on insert: a context saved after call_ended must not reopen
        // the call.
        sqlx::query(
            "INSERT INTO calls (call_id, company_id, branch_id, status, from_number, \
                 to_number, collected, collected_at, created_at, updated_at) \
             VALUES ($1, $2, $3, 'ongoing', $4, $5, $6, $7, $7, $7) \
             ON CONFLICT (call_id) DO UPDATE SET \
                 branch_id = COALESCE(calls.branch_id, excluded.branch_id), \
                 from_number = COALESCE(calls.from_number, excluded.from_number), \
                 to_number = COALESCE(calls.to_number, excluded.to_number), \
                 collected = excluded.collected, \
                 collected_at = excluded.collected_at, \
                 updated_at = excluded.updated_at",
        )
        .bind(ctx.call_id.as_str())
        .bind(ctx.company_id.0)
        .bind(ctx.branch_id.0)
        .bind(ctx.from_number.as_deref())
        .bind(ctx.to_number.as_deref())
        .bind(&collected)
        .bind(ctx.updated_at)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load_call_context(
        &self,
        call_id: &CallId,
    ) -> Result<Option<CallContextRecord>, StoreError> {
        let row: Option<CallContextRow> = sqlx::query_as(
            "SELECT call_id, company_id, branch_id, from_number, to_number, collected, \
                 collected_at AS updated_at \
             FROM calls WHERE call_id = $1 AND collected IS NOT NULL",
        )
        .bind(call_id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.map(CallContextRow::into_record).transpose()
    }

    async fn record_call_event(&self, event: &CallEventRecord) -> Result<EventOutcome, StoreError> {
        let fields = EventFields::of(event)?;
        let outcome = retry_transient(|| self.record_once(event, &fields))
            .await
            .map_err(backend)?;
        tracing::debug!(
            call_id = %event.call_id,
            event = event.event.as_str(),
            ?outcome,
            "webhook recorded"
        );
        Ok(outcome)
    }

    async fn get_call(&self, call_id: &CallId) -> Result<Option<CallView>, StoreError> {
        let mut tx = self.begin_snapshot().await?;
        let call: Option<CallRow> = sqlx::query_as(
            "SELECT call_id, company_id, branch_id, status, from_number, to_number, direction, \
                 started_at, ended_at, duration_ms, disconnection_reason, summary, sentiment, \
                 collected \
             FROM calls WHERE call_id = $1",
        )
        .bind(call_id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        let Some(call) = call else {
            return Ok(None);
        };
        let job: Option<JobViewRow> = sqlx::query_as(
            "SELECT id, status, attempts, max_attempts, next_run_at, last_error \
             FROM jobs WHERE call_id = $1 AND kind = $2 ORDER BY id DESC LIMIT 1",
        )
        .bind(call_id.as_str())
        .bind(BOOK_KIND)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        let appointment: Option<AppointmentViewRow> = sqlx::query_as(
            "SELECT a.id, a.booking_uid, a.service_name, a.start_at, a.end_at, a.status \
             FROM calls c JOIN appointments a ON a.id = c.appointment_id \
             WHERE c.call_id = $1",
        )
        .bind(call_id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        let job = job.map(JobViewRow::into_view).transpose()?;
        call.into_view(job, appointment.map(AppointmentViewRow::into_view))
            .map(Some)
    }

    async fn webhook_stats(&self, company: Option<CompanyId>) -> Result<WebhookStats, StoreError> {
        let company = company.map(|c| c.0);
        let mut tx = self.begin_snapshot().await?;
        let events: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT event, COUNT(*), COALESCE(SUM(duplicate_count), 0)::BIGINT \
             FROM webhook_events WHERE $1 IS NULL OR company_id = $1 GROUP BY event",
        )
        .bind(company)
        .fetch_all(&mut *tx)
        .await
        .map_err(backend)?;
        let calls: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM calls WHERE $1 IS NULL OR company_id = $1")
                .bind(company)
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
        let jobs: Vec<(String, i64)> = sqlx::query_as(
            "SELECT status, COUNT(*) FROM jobs \
             WHERE kind = $2 AND ($1 IS NULL OR company_id = $1) GROUP BY status",
        )
        .bind(company)
        .bind(BOOK_KIND)
        .fetch_all(&mut *tx)
        .await
        .map_err(backend)?;
        let appointments: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM appointments WHERE $1 IS NULL OR company_id = $1",
        )
        .bind(company)
        .fetch_one(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(WebhookStats {
            duplicates: events.iter().map(|(_, _, duplicates)| duplicates).sum(),
            events: events
                .into_iter()
                .map(|(event, count, _)| (event, count))
                .collect(),
            calls,
            jobs: jobs.into_iter().collect(),
            appointments,
        })
    }

    async fn insert_appointment(&self, appointment: &NewAppointment) -> Result<i64, StoreError> {
        let now = Utc::now();
        retry_transient(|| async {
            let mut tx = self.pool.begin().await?;
            let id = insert_appointment_in(&mut tx, appointment, now).await?;
            tx.commit().await?;
            Ok(id)
        })
        .await
        .map_err(backend)
    }
}

#[async_trait]
impl OutboxStore for PgStore {
    async fn claim_due_jobs(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        // The subquery locks the rows it picks and skips rows another claimer has locked,
        // so concurrent claimers take disjoint sets without waiting for each other. A row
        // another claimer updated since this statement's snapshot is re-checked against the
        // WHERE clause before it is locked, so a fresh lease is never taken over.
        let rows: Vec<JobRow> = retry_transient(|| {
            sqlx::query_as(
                "UPDATE jobs SET status = 'running', locked_until = $2, \
                     attempts = attempts + 1, updated_at = $1 \
                 WHERE id IN ( \
                     SELECT id FROM jobs \
                     WHERE (status = 'pending' AND next_run_at <= $1) \
                        OR (status = 'running' AND locked_until < $1) \
                     ORDER BY next_run_at, id LIMIT $3 \
                     FOR UPDATE SKIP LOCKED) \
                 RETURNING id, queue, kind, company_id, call_id, idempotency_key, payload, \
                     attempts, max_attempts, created_at",
            )
            .bind(now)
            .bind(lease_end(now, lease))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
        })
        .await
        .map_err(backend)?;
        let mut jobs = Vec::with_capacity(rows.len());
        for row in rows {
            let id = row.id;
            match row.into_job() {
                Ok(job) => jobs.push(job),
                Err(error) => self.dead_letter_corrupt(id, &error).await?,
            }
        }
        jobs.sort_by_key(|job| job.id);
        Ok(jobs)
    }

    async fn complete_booking_job(
        &self,
        job_id: i64,
        appointment: &NewAppointment,
    ) -> Result<i64, StoreError> {
        let now = Utc::now();
        let id = retry_transient(|| async {
            let mut tx = self.pool.begin().await?;
            let done = sqlx::query(
                "UPDATE jobs SET status = 'done', locked_until = NULL, last_error = NULL, \
                     updated_at = $2 \
                 WHERE id = $1",
            )
            .bind(job_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Ok(None);
            }
            let id = insert_appointment_in(&mut tx, appointment, now).await?;
            tx.commit().await?;
            Ok(Some(id))
        })
        .await
        .map_err(backend)?;
        id.ok_or_else(|| job_not_found(job_id))
    }

    async fn fail_job(&self, job_id: i64, failure: &JobFailure) -> Result<(), StoreError> {
        let now = Utc::now();
        let status = if failure.retry_at.is_some() {
            "pending"
        } else {
            "failed"
        };
        let exists = retry_transient(|| async {
            let mut tx = self.pool.begin().await?;
            // A job another worker already completed stays done: a late failure report
            // from an expired lease must not schedule a second booking. A completion in
            // flight holds the row; this update waits for it and then re-checks the status.
            let updated = sqlx::query(
                "UPDATE jobs SET status = $2, next_run_at = COALESCE($3, next_run_at), \
                     locked_until = NULL, last_error = $4, updated_at = $5 \
                 WHERE id = $1 AND status <> 'done'",
            )
            .bind(job_id)
            .bind(status)
            .bind(failure.retry_at)
            .bind(&failure.error)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let exists = updated.rows_affected() > 0
                || sqlx::query_scalar::<_, i64>("SELECT id FROM jobs WHERE id = $1")
                    .bind(job_id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .is_some();
            tx.commit().await?;
            Ok(exists)
        })
        .await
        .map_err(backend)?;
        if exists {
            Ok(())
        } else {
            Err(job_not_found(job_id))
        }
    }

    async fn heartbeat_worker(&self, _heartbeat: &WorkerHeartbeat) -> Result<(), StoreError> {
        Err(StoreError::Backend("not implemented yet".into()))
    }
}

#[async_trait]
impl QueueAdminStore for PgStore {
    async fn queue_overview(
        &self,
        company: Option<CompanyId>,
        now: DateTime<Utc>,
    ) -> Result<QueueOverview, StoreError> {
        // One statement is one snapshot: the counts and the lag signals agree. "Due",
        // "expired" and the ages use the same comparisons as `claim_due_jobs`; `jobs.queue`
        // is COLLATE "C", so queues come in SQLite's byte order.
        let rows: Vec<QueueOverviewRow> = sqlx::query_as(
            "SELECT queue, \
                 COUNT(*) FILTER (WHERE status = 'pending') AS pending, \
                 COUNT(*) FILTER (WHERE status = 'running') AS running, \
                 COUNT(*) FILTER (WHERE status = 'done') AS done, \
                 COUNT(*) FILTER (WHERE status = 'failed') AS failed, \
                 COUNT(*) FILTER (WHERE status = 'pending' AND next_run_at <= $2) AS due, \
                 MIN(created_at) FILTER (WHERE status = 'pending' AND next_run_at <= $2) \
                     AS oldest_due_created_at, \
                 COUNT(*) FILTER (WHERE status = 'running' AND locked_until < $2) \
                     AS expired_leases, \
                 MIN(next_run_at) FILTER (WHERE status = 'pending' AND next_run_at > $2) \
                     AS next_due_at \
             FROM jobs WHERE $1 IS NULL OR company_id = $1 \
             GROUP BY queue ORDER BY queue",
        )
        .bind(company.map(|c| c.0))
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        Ok(QueueOverview {
            as_of: now,
            queues: rows
                .into_iter()
                .map(|row| row.into_summary(now))
                .collect::<Result<_, _>>()?,
        })
    }

    async fn failed_jobs(
        &self,
        company: Option<CompanyId>,
        limit: u32,
        before_id: Option<i64>,
    ) -> Result<Vec<FailedJob>, StoreError> {
        let sql = format!(
            "{JOB_LISTING_FROM} \
             WHERE status = 'failed' AND ($1 IS NULL OR company_id = $1) \
                 AND ($2 IS NULL OR id < $2) \
             ORDER BY id DESC LIMIT $3"
        );
        let rows: Vec<JobListingRow> = sqlx::query_as(&sql)
            .bind(company.map(|c| c.0))
            .bind(before_id)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.into_iter().map(JobListingRow::into_failed).collect()
    }

    async fn recent_jobs(
        &self,
        company: Option<CompanyId>,
        limit: u32,
        status: Option<JobStatus>,
    ) -> Result<Vec<RecentJob>, StoreError> {
        let sql = format!(
            "{JOB_LISTING_FROM} \
             WHERE ($1 IS NULL OR company_id = $1) AND ($2 IS NULL OR status = $2) \
             ORDER BY id DESC LIMIT $3"
        );
        let rows: Vec<JobListingRow> = sqlx::query_as(&sql)
            .bind(company.map(|c| c.0))
            .bind(status.map(JobStatus::as_str))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.into_iter().map(JobListingRow::into_recent).collect()
    }

    async fn retry_job(
        &self,
        job_id: i64,
        company: Option<CompanyId>,
        now: DateTime<Utc>,
    ) -> Result<RetryOutcome, StoreError> {
        let company = company.map(|c| c.0);
        // The update and, when it matched nothing, the look at why, in one transaction: the
        // reported status is the one that stopped the retry.
        let (requeued, status) = retry_transient(|| async {
            let mut tx = self.pool.begin().await?;
            let requeued: Option<JobViewRow> = sqlx::query_as(
                "UPDATE jobs SET status = 'pending', attempts = 0, next_run_at = $3, \
                     locked_until = NULL, updated_at = $3 \
                 WHERE id = $1 AND status = 'failed' AND ($2 IS NULL OR company_id = $2) \
                 RETURNING id, status, attempts, max_attempts, next_run_at, last_error",
            )
            .bind(job_id)
            .bind(company)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let status: Option<String> = if requeued.is_some() {
                None
            } else {
                sqlx::query_scalar(
                    "SELECT status FROM jobs WHERE id = $1 AND ($2 IS NULL OR company_id = $2)",
                )
                .bind(job_id)
                .bind(company)
                .fetch_optional(&mut *tx)
                .await?
            };
            tx.commit().await?;
            Ok((requeued, status))
        })
        .await
        .map_err(backend)?;
        match (requeued, status) {
            (Some(row), _) => {
                tracing::info!(job_id, "dead letter requeued by an operator");
                Ok(RetryOutcome::Requeued(row.into_view()?))
            }
            (None, Some(status)) => JobStatus::parse(&status)
                .map(RetryOutcome::NotFailed)
                .ok_or_else(|| StoreError::Corrupt {
                    table: "jobs",
                    message: format!("unknown status {status:?}"),
                }),
            (None, None) => Ok(RetryOutcome::NotFound),
        }
    }

    async fn retry_failed(
        &self,
        company: Option<CompanyId>,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE jobs SET status = 'pending', attempts = 0, next_run_at = $3, \
                 locked_until = NULL, updated_at = $3 \
             WHERE status = 'failed' AND updated_at >= $2 \
                 AND ($1 IS NULL OR company_id = $1)",
        )
        .bind(company.map(|c| c.0))
        .bind(since)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        let requeued = done.rows_affected();
        tracing::info!(requeued, %since, "dead letters requeued by an operator");
        Ok(requeued)
    }

    async fn queue_metrics(
        &self,
        _company: Option<CompanyId>,
        _since: DateTime<Utc>,
    ) -> Result<QueueMetricsRows, StoreError> {
        Err(StoreError::Backend("not implemented yet".into()))
    }

    async fn workers(&self, _alive_since: DateTime<Utc>) -> Result<Vec<WorkerView>, StoreError> {
        Err(StoreError::Backend("not implemented yet".into()))
    }
}

#[async_trait]
impl TokenStore for PgStore {
    async fn api_token(&self, token_sha256: &str) -> Result<Option<TokenGrant>, StoreError> {
        let row: Option<(Option<i64>, String)> =
            sqlx::query_as("SELECT company_id, label FROM api_tokens WHERE token_sha256 = $1")
                .bind(token_sha256.to_ascii_lowercase())
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        Ok(row.map(|(company_id, label)| TokenGrant {
            company_id: company_id.map(CompanyId),
            label,
        }))
    }
}

#[async_trait]
impl LockStore for PgStore {
    async fn try_lock_tenant(
        &self,
        company: CompanyId,
        holder: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        // One statement: insert, or take over an expired lease, or extend our own. Two
        // instances racing for a free lock serialise on the primary key; the loser then
        // sees the winner's live lease and gets no row back.
        let taken: Option<String> = sqlx::query_scalar(
            "INSERT INTO tenant_locks (company_id, holder, locked_until) VALUES ($1, $2, $3) \
             ON CONFLICT (company_id) DO UPDATE SET holder = excluded.holder, \
                 locked_until = excluded.locked_until \
             WHERE tenant_locks.locked_until < $4 OR tenant_locks.holder = excluded.holder \
             RETURNING holder",
        )
        .bind(company.0)
        .bind(holder)
        .bind(lease_end(now, lease))
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        Ok(taken.is_some())
    }

    async fn unlock_tenant(&self, company: CompanyId, holder: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM tenant_locks WHERE company_id = $1 AND holder = $2")
            .bind(company.0)
            .bind(holder)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
