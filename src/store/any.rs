//! [`AnyStore`]: the backend chosen at run time from the database URL, so the app and the
//! sandbox seeding are written once for SQLite and PostgreSQL. Every method delegates to
//! the chosen store; there is no behaviour of its own here.

use super::{NewCompany, NewService, PgStore, SqliteStore};
use async_trait::async_trait;
use chrono::{DateTime, NaiveTime, Utc};
use std::time::Duration;
use switchboard_actors::domain::ids::{BranchId, CompanyId};
use switchboard_actors::domain::phone::PhoneNumber;
use switchboard_actors::domain::tenant::{CompanyProfile, Service, TenantRoute};
use switchboard_actors::ports::{
    CallStore, LockStore, OutboxStore, QueueAdminStore, StoreError, TenancyStore, TokenStore,
};
use switchboard_actors::records::{
    CallContextRecord, CallEventRecord, CallId, CallView, EventOutcome, FailedJob, Job, JobFailure,
    JobStatus, NewAppointment, QueueMetricsRows, QueueOverview, RecentJob, RetryOutcome,
    TokenGrant, WebhookStats, WorkerHeartbeat, WorkerView,
};

/// The configured [`Store`]: SQLite (embedded default) or PostgreSQL (production). Cheap to
/// clone: clones share the chosen store's pool.
#[derive(Clone, Debug)]
pub enum AnyStore {
    /// A SQLite file (`sqlite:` URLs).
    Sqlite(SqliteStore),
    /// A PostgreSQL database (`postgres://` and `postgresql://` URLs).
    Postgres(PgStore),
}

/// Runs `$call` on the store inside `$any`, bound as `$store`, whichever backend it is.
macro_rules! delegate {
    ($any:expr, $store:ident => $call:expr) => {
        match $any {
            AnyStore::Sqlite($store) => $call,
            AnyStore::Postgres($store) => $call,
        }
    };
}

impl AnyStore {
    /// Connects to the database at `url` with at most `max_connections` pooled connections
    /// and applies that backend's migrations. The scheme chooses the backend:
    /// `sqlite:` → [`SqliteStore::connect`], `postgres://` or `postgresql://` →
    /// [`PgStore::connect`] (lower case, as sqlx parses them).
    ///
    /// # Errors
    /// [`StoreError::Backend`] for any other scheme (the message names the scheme, never
    /// the rest of the URL, which may hold a password), or the chosen store's connect error.
    pub async fn connect(url: &str, max_connections: u32) -> Result<AnyStore, StoreError> {
        if url.starts_with("sqlite:") {
            SqliteStore::connect(url, max_connections)
                .await
                .map(AnyStore::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            PgStore::connect(url, max_connections)
                .await
                .map(AnyStore::Postgres)
        } else {
            let scheme = url.split_once(':').map_or("(none)", |(scheme, _)| scheme);
            Err(StoreError::Backend(format!(
                "unsupported database URL scheme {scheme:?}: expected sqlite:, postgres:// \
                 or postgresql://"
            )))
        }
    }

    /// The backend in use: `"sqlite"` or `"postgres"` (for logs and the readiness report).
    pub fn backend(&self) -> &'static str {
        match self {
            AnyStore::Sqlite(_) => "sqlite",
            AnyStore::Postgres(_) => "postgres",
        }
    }

    /// [`SqliteStore::upsert_company`] / [`PgStore::upsert_company`]: creates or updates
    /// the company named `new.name`; returns its id.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the statement fails.
    pub async fn upsert_company(&self, new: &NewCompany) -> Result<CompanyId, StoreError> {
        delegate!(self, store => store.upsert_company(new).await)
    }

    /// [`SqliteStore::upsert_branch`] / [`PgStore::upsert_branch`]: creates or updates the
    /// branch `name` of `company` with its business window (local times, to the minute);
    /// returns its id.
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
        delegate!(self, store => store.upsert_branch(company, name, opens, closes).await)
    }

    /// [`SqliteStore::upsert_phone_number`] / [`PgStore::upsert_phone_number`]: routes
    /// `number` to `branch`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when `branch` does not exist.
    pub async fn upsert_phone_number(
        &self,
        number: &PhoneNumber,
        branch: BranchId,
    ) -> Result<(), StoreError> {
        delegate!(self, store => store.upsert_phone_number(number, branch).await)
    }

    /// [`SqliteStore::upsert_service`] / [`PgStore::upsert_service`]: creates or updates
    /// the service (`company_id`, `name`); returns its id.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the company does not exist or `duration_min` is 0.
    pub async fn upsert_service(&self, new: &NewService) -> Result<i64, StoreError> {
        delegate!(self, store => store.upsert_service(new).await)
    }

    /// [`SqliteStore::insert_api_token`] / [`PgStore::insert_api_token`]: stores a token by
    /// its SHA-256 hex digest; `company: None` makes it an admin token; an existing digest
    /// keeps its grant.
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
        delegate!(self, store => store.insert_api_token(token_sha256, company, label).await)
    }
}

#[async_trait]
impl TenancyStore for AnyStore {
    async fn tenant_by_phone(
        &self,
        number: &PhoneNumber,
    ) -> Result<Option<TenantRoute>, StoreError> {
        delegate!(self, store => store.tenant_by_phone(number).await)
    }

    async fn company(&self, id: CompanyId) -> Result<Option<CompanyProfile>, StoreError> {
        delegate!(self, store => store.company(id).await)
    }

    async fn services(&self, company: CompanyId) -> Result<Vec<Service>, StoreError> {
        delegate!(self, store => store.services(company).await)
    }
}

#[async_trait]
impl CallStore for AnyStore {
    async fn save_call_context(&self, ctx: &CallContextRecord) -> Result<(), StoreError> {
        delegate!(self, store => store.save_call_context(ctx).await)
    }

    async fn load_call_context(
        &self,
        call_id: &CallId,
    ) -> Result<Option<CallContextRecord>, StoreError> {
        delegate!(self, store => store.load_call_context(call_id).await)
    }

    async fn record_call_event(&self, event: &CallEventRecord) -> Result<EventOutcome, StoreError> {
        delegate!(self, store => store.record_call_event(event).await)
    }

    async fn get_call(&self, call_id: &CallId) -> Result<Option<CallView>, StoreError> {
        delegate!(self, store => store.get_call(call_id).await)
    }

    async fn webhook_stats(&self, company: Option<CompanyId>) -> Result<WebhookStats, StoreError> {
        delegate!(self, store => store.webhook_stats(company).await)
    }

    async fn insert_appointment(&self, appointment: &NewAppointment) -> Result<i64, StoreError> {
        delegate!(self, store => store.insert_appointment(appointment).await)
    }
}

#[async_trait]
impl OutboxStore for AnyStore {
    async fn claim_due_jobs(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError> {
        delegate!(self, store => store.claim_due_jobs(now, lease, limit).await)
    }

    async fn complete_booking_job(
        &self,
        job_id: i64,
        appointment: &NewAppointment,
    ) -> Result<i64, StoreError> {
        delegate!(self, store => store.complete_booking_job(job_id, appointment).await)
    }

    async fn fail_job(&self, job_id: i64, failure: &JobFailure) -> Result<(), StoreError> {
        delegate!(self, store => store.fail_job(job_id, failure).await)
    }

    async fn heartbeat_worker(&self, heartbeat: &WorkerHeartbeat) -> Result<(), StoreError> {
        delegate!(self, store => store.heartbeat_worker(heartbeat).await)
    }
}

#[async_trait]
impl QueueAdminStore for AnyStore {
    async fn queue_overview(
        &self,
        company: Option<CompanyId>,
        now: DateTime<Utc>,
    ) -> Result<QueueOverview, StoreError> {
        delegate!(self, store => store.queue_overview(company, now).await)
    }

    async fn failed_jobs(
        &self,
        company: Option<CompanyId>,
        limit: u32,
        before_id: Option<i64>,
    ) -> Result<Vec<FailedJob>, StoreError> {
        delegate!(self, store => store.failed_jobs(company, limit, before_id).await)
    }

    async fn recent_jobs(
        &self,
        company: Option<CompanyId>,
        limit: u32,
        status: Option<JobStatus>,
    ) -> Result<Vec<RecentJob>, StoreError> {
        delegate!(self, store => store.recent_jobs(company, limit, status).await)
    }

    async fn retry_job(
        &self,
        job_id: i64,
        company: Option<CompanyId>,
        now: DateTime<Utc>,
    ) -> Result<RetryOutcome, StoreError> {
        delegate!(self, store => store.retry_job(job_id, company, now).await)
    }

    async fn retry_failed(
        &self,
        company: Option<CompanyId>,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        delegate!(self, store => store.retry_failed(company, since, now).await)
    }

    async fn queue_metrics(
        &self,
        company: Option<CompanyId>,
        since: DateTime<Utc>,
    ) -> Result<QueueMetricsRows, StoreError> {
        delegate!(self, store => store.queue_metrics(company, since).await)
    }

    async fn workers(&self, alive_since: DateTime<Utc>) -> Result<Vec<WorkerView>, StoreError> {
        delegate!(self, store => store.workers(alive_since).await)
    }
}

#[async_trait]
impl TokenStore for AnyStore {
    async fn api_token(&self, token_sha256: &str) -> Result<Option<TokenGrant>, StoreError> {
        delegate!(self, store => store.api_token(token_sha256).await)
    }
}

#[async_trait]
impl LockStore for AnyStore {
    async fn try_lock_tenant(
        &self,
        company: CompanyId,
        holder: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        delegate!(self, store => store.try_lock_tenant(company, holder, now, lease).await)
    }

    async fn unlock_tenant(&self, company: CompanyId, holder: &str) -> Result<(), StoreError> {
        delegate!(self, store => store.unlock_tenant(company, holder).await)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        delegate!(self, store => store.ping().await)
    }
}
