//! [`SqliteStore`]: the embedded default backend (DESIGN §8) — one SQLite file in WAL mode,
//! shared by every actor of the process.
//!
//! Concurrency model: SQLite has one writer at a time. Every write transaction starts with
//! `BEGIN IMMEDIATE`, so it takes the write lock before its first statement and a concurrent
//! writer waits in `busy_timeout` (5 s) instead of failing with `SQLITE_BUSY` when a deferred
//! transaction tries to upgrade from read to write. Each write transaction also opens with a
//! write statement, so the same code keeps its meaning on PostgreSQL's plain `BEGIN`.
//! What still comes back busy or locked (lock recovery, a timeout under heavy load) is
//! retried as a whole transaction a few times by [`retry_busy`].

use super::rows::{
    AppointmentViewRow, BOOK_KIND, CallContextRow, CallRow, CompanyRow, EventFields,
    JOB_LISTING_COLUMNS, JobListingRow, JobRow, JobViewRow, QueueOverviewRow, RouteRow, ServiceRow,
    WINDOW_TIME_FORMAT,
};
use super::{NewCompany, NewService};
use async_trait::async_trait;
use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use secrecy::ExposeSecret;
use sqlx::migrate::{Migrate, MigrateError, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};
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

/// Embedded at compile time; the binary needs no migration files at run time. The public
/// `sqlx::migrate!` wrapper needs sqlx's `macros` feature, which this crate does not enable;
/// the proc macro behind it comes with `derive` + `migrate`.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a connection waits for another writer's lock before SQLite reports busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Extra attempts of a whole transaction that still came back busy or locked.
const BUSY_RETRIES: u32 = 4;

/// [`Store`] on a SQLite file. Cheap to clone: clones share one connection pool.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating the parent directory and the file when missing) the database at
    /// `url`, e.g. `sqlite://data/switchboard.db` — a path relative to the working directory
    /// — and applies the embedded migrations of `migrations/sqlite/`.
    ///
    /// Connections use WAL, `foreign_keys=ON`, a 5 s busy timeout and `synchronous=NORMAL`
    /// (durable across process crashes; an OS crash may lose the last commits). Several
    /// processes may call this on one file at once: migrations run under the write lock, so
    /// exactly one of them applies each migration.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the URL does not parse, the directory cannot be created,
    /// the file cannot be opened, or a migration fails (including a changed checksum of an
    /// already applied migration).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(backend)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .synchronous(SqliteSynchronous::Normal);
        let path = options.get_filename().to_owned();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(parent).await.map_err(|e| {
                StoreError::Backend(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        // Switching a fresh file to WAL needs an exclusive lock that busy_timeout does not
        // wait for, so two processes opening a new file together may see busy here.
        let pool = retry_busy(|| {
            SqlitePoolOptions::new()
                .max_connections(max_connections.max(1))
                .connect_with(options.clone())
        })
        .await
        .map_err(backend)?;
        let (before, after) = retry_busy(|| migrate(&pool)).await.map_err(backend)?;
        tracing::info!(
            path = %path.display(),
            applied = after - before,
            total = after,
            "sqlite store ready"
        );
        Ok(Self { pool })
    }

    /// The connection pool, for adapters that need queries the [`Store`] port does not
    /// offer (e.g. the read-only `database.query` server).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Creates the company named `new.name`, or updates its locale, time zone and
    /// credentials; returns its id either way.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the statement fails.
    pub async fn upsert_company(&self, new: &NewCompany) -> Result<CompanyId, StoreError> {
        let now = Utc::now();
        let id: i64 = retry_busy(|| {
            sqlx::query_scalar(
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
        })
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
        let opens = opens.format(WINDOW_TIME_FORMAT).to_string();
        let closes = closes.format(WINDOW_TIME_FORMAT).to_string();
        let id: i64 = retry_busy(|| {
            sqlx::query_scalar(
                "INSERT INTO branches (company_id, name, opens, closes, created_at) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (company_id, name) DO UPDATE SET \
                     opens = excluded.opens, closes = excluded.closes \
                 RETURNING id",
            )
            .bind(company.0)
            .bind(name)
            .bind(&opens)
            .bind(&closes)
            .bind(now)
            .fetch_one(&self.pool)
        })
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
        let now = Utc::now();
        retry_busy(|| {
            sqlx::query(
                "INSERT INTO phone_numbers (number, branch_id, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (number) DO UPDATE SET branch_id = excluded.branch_id",
            )
            .bind(number.as_str())
            .bind(branch.0)
            .bind(now)
            .execute(&self.pool)
        })
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
        let now = Utc::now();
        let aliases = serde_json::to_string(&new.aliases)
            .map_err(|e| StoreError::Backend(format!("aliases: {e}")))?;
        retry_busy(|| {
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
            .bind(now)
            .fetch_one(&self.pool)
        })
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
        let now = Utc::now();
        let digest = token_sha256.to_ascii_lowercase();
        retry_busy(|| {
            sqlx::query(
                "INSERT INTO api_tokens (token_sha256, company_id, label, created_at) \
                 VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (token_sha256) DO NOTHING",
            )
            .bind(&digest)
            .bind(company.map(|c| c.0))
            .bind(label)
            .bind(now)
            .execute(&self.pool)
        })
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }

    async fn record_once(
        &self,
        event: &CallEventRecord,
        fields: &EventFields,
    ) -> Result<EventOutcome, sqlx::Error> {
        let mut tx = self.begin_write().await?;
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
}

/// Finds the customer (`company`, `phone`) or creates it; fills a missing name or email but
/// never replaces one already stored (a later caller may say a shorter name).
async fn upsert_customer(
    conn: &mut SqliteConnection,
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
    conn: &mut SqliteConnection,
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
    conn: &mut SqliteConnection,
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
    conn: &mut SqliteConnection,
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

/// Applies pending migrations inside one `BEGIN IMMEDIATE` transaction, so concurrent
/// starters queue on the write lock and the later ones find everything applied (sqlx's
/// migration lock is a no-op on SQLite). Returns the number of applied migrations before
/// and after.
async fn migrate(pool: &SqlitePool) -> Result<(u64, u64), sqlx::Error> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    tx.ensure_migrations_table().await.map_err(migrate_error)?;
    let before = applied_migrations(&mut tx).await?;
    MIGRATOR.run_direct(&mut *tx).await.map_err(migrate_error)?;
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

/// Unwraps statement errors so [`retry_busy`] can see a busy database behind a migration.
fn migrate_error(error: MigrateError) -> sqlx::Error {
    match error {
        MigrateError::Execute(error) => error,
        other => sqlx::Error::Migrate(Box::new(other)),
    }
}

/// Runs `op` again (a fresh transaction each time) while it fails because the database is
/// busy or locked, with a short growing pause, at most [`BUSY_RETRIES`] extra times.
async fn retry_busy<T, F, Fut>(mut op: F) -> Result<T, sqlx::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, sqlx::Error>>,
{
    let mut retries = 0;
    loop {
        match op().await {
            Err(error) if retries < BUSY_RETRIES && is_busy(&error) => {
                retries += 1;
                tracing::debug!(retries, %error, "sqlite busy; retrying the transaction");
                tokio::time::sleep(Duration::from_millis(20 << retries)).await;
            }
            result => return result,
        }
    }
}

/// `SQLITE_BUSY` (5) or `SQLITE_LOCKED` (6), including their extended codes (low byte).
fn is_busy(error: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = error else {
        return false;
    };
    db.code()
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| matches!(code & 0xff, 5 | 6))
}

/// Unique violations become [`StoreError::Conflict`]; everything else
/// [`StoreError::Backend`]. SQLite messages name tables and columns, never bound values,
/// so credentials cannot leak through them.
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
impl TenancyStore for SqliteStore {
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
impl CallStore for SqliteStore {
    async fn save_call_context(&self, ctx: &CallContextRecord) -> Result<(), StoreError> {
        let collected = serde_json::to_string(&ctx.collected)
            .map_err(|e| StoreError::Backend(format!("collected: {e}")))?;
        // Status is only set on insert: a context saved after call_ended must not reopen
        // the call.
        retry_busy(|| {
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
        })
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
        let outcome = retry_busy(|| self.record_once(event, &fields))
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
        // One read transaction: a WAL snapshot, so the job and the appointment are seen as
        // of the same commit.
        let mut tx = self.pool.begin().await.map_err(backend)?;
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
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let events: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT event, COUNT(*), COALESCE(SUM(duplicate_count), 0) FROM webhook_events \
             WHERE $1 IS NULL OR company_id = $1 GROUP BY event",
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
        retry_busy(|| async {
            let mut tx = self.begin_write().await?;
            let id = insert_appointment_in(&mut tx, appointment, now).await?;
            tx.commit().await?;
            Ok(id)
        })
        .await
        .map_err(backend)
    }
}

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn claim_due_jobs(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        // A lease too long for the calendar saturates: the job stays claimed "forever".
        let locked_until = TimeDelta::from_std(lease)
            .ok()
            .and_then(|lease| now.checked_add_signed(lease))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        // One statement is one write transaction: the pick and the lease cannot be split
        // by another claimer.
        let rows: Vec<JobRow> = retry_busy(|| {
            sqlx::query_as(
                "UPDATE jobs SET status = 'running', locked_until = $2, \
                     attempts = attempts + 1, updated_at = $1 \
                 WHERE id IN ( \
                     SELECT id FROM jobs \
                     WHERE (status = 'pending' AND next_run_at <= $1) \
                        OR (status = 'running' AND locked_until < $1) \
                     ORDER BY next_run_at, id LIMIT $3) \
                 RETURNING id, queue, kind, company_id, call_id, idempotency_key, payload, \
                     attempts, max_attempts, created_at",
            )
            .bind(now)
            .bind(locked_until)
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
        let id = retry_busy(|| async {
            let mut tx = self.begin_write().await?;
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
        let exists = retry_busy(|| async {
            let mut tx = self.begin_write().await?;
            // A job another worker already completed stays done: a late failure report
            // from an expired lease must not schedule a second booking.
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
impl QueueAdminStore for SqliteStore {
    async fn queue_overview(
        &self,
        company: Option<CompanyId>,
        now: DateTime<Utc>,
    ) -> Result<QueueOverview, StoreError> {
        // One statement is one snapshot: the counts and the lag signals agree. "Due",
        // "expired" and the ages use the same comparisons as `claim_due_jobs`.
        let rows: Vec<QueueOverviewRow> = sqlx::query_as(
            "SELECT queue, \
                 SUM(status = 'pending') AS pending, \
                 SUM(status = 'running') AS running, \
                 SUM(status = 'done') AS done, \
                 SUM(status = 'failed') AS failed, \
                 SUM(status = 'pending' AND next_run_at <= $2) AS due, \
                 MIN(CASE WHEN status = 'pending' AND next_run_at <= $2 THEN created_at END) \
                     AS oldest_due_created_at, \
                 SUM(status = 'running' AND locked_until < $2) AS expired_leases, \
                 MIN(CASE WHEN status = 'pending' AND next_run_at > $2 THEN next_run_at END) \
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
            "SELECT {JOB_LISTING_COLUMNS} FROM jobs \
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
            "SELECT {JOB_LISTING_COLUMNS} FROM jobs \
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
        let (requeued, status) = retry_busy(|| async {
            let mut tx = self.begin_write().await?;
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
        let done = retry_busy(|| {
            sqlx::query(
                "UPDATE jobs SET status = 'pending', attempts = 0, next_run_at = $3, \
                     locked_until = NULL, updated_at = $3 \
                 WHERE status = 'failed' AND updated_at >= $2 \
                     AND ($1 IS NULL OR company_id = $1)",
            )
            .bind(company.map(|c| c.0))
            .bind(since)
            .bind(now)
            .execute(&self.pool)
        })
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
impl TokenStore for SqliteStore {
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
impl LockStore for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn try_lock_tenant(
        &self,
        company: CompanyId,
        holder: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        // Capped so an absurd lease cannot overflow the timestamp.
        let lease = lease.min(std::time::Duration::from_secs(10 * 365 * 24 * 3600));
        let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::zero());
        // One statement: insert, or take over an expired lease, or extend our own.
        let taken: Option<String> = retry_busy(|| {
            sqlx::query_scalar(
                "INSERT INTO tenant_locks (company_id, holder, locked_until) VALUES ($1, $2, $3) \
                 ON CONFLICT (company_id) DO UPDATE SET holder = excluded.holder, \
                     locked_until = excluded.locked_until \
                 WHERE tenant_locks.locked_until < $4 OR tenant_locks.holder = excluded.holder \
                 RETURNING holder",
            )
            .bind(company.0)
            .bind(holder)
            .bind(until)
            .bind(now)
            .fetch_optional(&self.pool)
        })
        .await
        .map_err(backend)?;
        Ok(taken.is_some())
    }

    async fn unlock_tenant(&self, company: CompanyId, holder: &str) -> Result<(), StoreError> {
        retry_busy(|| {
            sqlx::query("DELETE FROM tenant_locks WHERE company_id = $1 AND holder = $2")
                .bind(company.0)
                .bind(holder)
                .execute(&self.pool)
        })
        .await
        .map_err(backend)?;
        Ok(())
    }
}
