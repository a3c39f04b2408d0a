//! Ports: the traits the shell (`src/`) implements for the core. The core never talks to a
//! database, cache or HTTP API except through these.

use crate::domain::booking::{
    Booking, BookingQuery, BookingRequest, CalcomProfile, CancelRequest, ErrorAnswer, EventType,
    RescheduleRequest, ReservationRequest, Slot, SlotQuery, SlotReservation, UpstreamError,
    Webhook, WebhookSubscription,
};
use crate::domain::ids::{BookingUid, CompanyId};
use crate::domain::onboarding::{
    AuditEntry, AuditRecord, CredentialUpdate, Slug, TenantRef, TenantSpec, TenantState,
    TenantSummary,
};
use crate::domain::phone::PhoneNumber;
use crate::domain::tenant::SmsSettings;
use crate::domain::tenant::{CompanyProfile, Service, TenantRoute};
use crate::records::{
    AppointmentRecord, CalcomEventOutcome, CalcomEventRecord, CallContextRecord, CallDetailRecord,
    CallEventRecord, CallId, CallView, ContextSave, EventOutcome, FailedJob, Job, JobFailure,
    JobStatus, NewAppointment, NewJob, NewToken, QueueMetricsRows, QueueOverview, RecentJob,
    RetryOutcome, TokenGrant, TokenInfo, WebhookStats, WorkerHeartbeat, WorkerView,
};
use crate::retell::api::{
    Agent, AgentSummary, AgentUpdate, AgentVersion, CallObject, CallQuery, LlmUpdate, Page,
    PageRequest, PhoneNumberUpdate, RetellLlm, RetellPhoneNumber,
};
use crate::retell::deploy::FunctionOverride;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// A storage failure. The message is for logs; callers map it to JSON-RPC 3004.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The backend could not be reached or the statement failed.
    #[error("database error: {message}")]
    Backend {
        /// What failed, safe to log: for a database error only the server's primary
        /// message, which names tables and constraints but never row values.
        message: String,
        /// The driver's error, for the cause chain; `None` when the store itself refused
        /// (e.g. a job that does not exist).
        #[source]
        source: Option<BackendCause>,
    },
    /// A stored row could not be turned into a domain value (e.g. a bad time zone).
    #[error("corrupt row in {table}: {message}")]
    Corrupt {
        /// Table the row came from, e.g. `companies`.
        table: &'static str,
        /// What could not be read, e.g. the unknown zone name.
        message: String,
    },
    /// A unique key was already taken (e.g. an appointment's idempotency key).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The call id is recorded for another company: a Retell call belongs to the company that
    /// first recorded it, and nothing was written. Endpoints answer it like a call that does
    /// not exist (JSON-RPC) or with 403 (Retell endpoints).
    #[error("call {0} belongs to another company")]
    ForeignCall(CallId),
}

impl StoreError {
    /// A [`StoreError::Backend`] without a driver error behind it.
    pub fn backend(message: impl Into<String>) -> Self {
        StoreError::Backend {
            message: message.into(),
            source: None,
        }
    }
}

/// The driver's error behind a [`StoreError::Backend`], shared so the error stays `Clone`.
/// Its `Debug` is its `Display`: a driver's `Debug` may quote row values (PostgreSQL's
/// DETAIL line, credentials included), and errors are logged with `?error` too.
#[derive(Clone)]
pub struct BackendCause(pub Arc<dyn std::error::Error + Send + Sync>);

impl fmt::Debug for BackendCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Display for BackendCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for BackendCause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// Tenancy: numbers, companies and their services.
#[async_trait]
pub trait TenancyStore: Send + Sync + 'static {
    /// The company and branch that own `number`, or `None` when the number is not configured.
    async fn tenant_by_phone(
        &self,
        number: &PhoneNumber,
    ) -> Result<Option<TenantRoute>, StoreError>;
    /// One company with its credentials.
    async fn company(&self, id: CompanyId) -> Result<Option<CompanyProfile>, StoreError>;
    /// The services of a company, ordered by name.
    async fn services(&self, company: CompanyId) -> Result<Vec<Service>, StoreError>;
    /// The company with slug `slug` (its Cal.com webhook URL names it), with its
    /// credentials; `None` when no company has it. The default refuses, for test fakes that
    /// serve no webhooks.
    async fn company_by_slug(&self, slug: &str) -> Result<Option<CompanyProfile>, StoreError> {
        let _ = slug;
        Err(StoreError::backend(
            "company_by_slug is not implemented by this store",
        ))
    }
}

/// Calls: live call contexts, webhooks and the local call record.
#[async_trait]
pub trait CallStore: Send + Sync + 'static {
    /// Upserts the live data of a call (`calls` row, status `ongoing` unless already ended)
    /// as `ctx.version`, compare-and-set: only over the stored version `ctx.version - 1`
    /// (none stored counts as 0), else [`ContextSave::Stale`] and nothing is written.
    /// [`StoreError::ForeignCall`], writing nothing, when another company owns the call id
    /// (checked in the same transaction).
    async fn save_call_context(&self, ctx: &CallContextRecord) -> Result<ContextSave, StoreError>;
    /// The live data of `company`'s call saved by [`CallStore::save_call_context`], with its
    /// version; [`StoreError::ForeignCall`] when another company owns the call id.
    async fn load_call_context(
        &self,
        company: CompanyId,
        call_id: &CallId,
    ) -> Result<Option<CallContextRecord>, StoreError>;
    /// Only the stored version of `company`'s call data (0 when none is stored): one integer
    /// read by the call id's unique key, so an instance holding the data in memory can tell
    /// whether another saved since. [`StoreError::ForeignCall`] when another company owns the
    /// call id.
    async fn call_context_version(
        &self,
        company: CompanyId,
        call_id: &CallId,
    ) -> Result<u64, StoreError>;

    /// Records one webhook in **one transaction**: dedupe on (company, event, call_id),
    /// upsert the call, find-or-create the customer and enqueue the booking job when given. A
    /// repeated (company, event, call_id) changes nothing but a duplicate counter and returns
    /// [`EventOutcome::Duplicate`]. A call id another company owns is
    /// [`StoreError::ForeignCall`] and writes nothing.
    async fn record_call_event(&self, event: &CallEventRecord) -> Result<EventOutcome, StoreError>;
    /// The local call record with its booking job and appointment, only of `company` (`None`:
    /// any company, for admin tokens); a call of another company is `None`, as an unknown one.
    async fn get_call(
        &self,
        company: Option<CompanyId>,
        call_id: &CallId,
    ) -> Result<Option<CallView>, StoreError>;
    /// Stores what an event added to its call, once per (company, event, call): a repeat
    /// changes nothing. Called after [`CallStore::record_call_event`] recorded the event or
    /// found it a duplicate, so a retry completes a write that failed. The default refuses,
    /// for test fakes that record no such events.
    async fn record_call_details(&self, details: &CallDetailRecord) -> Result<(), StoreError> {
        let _ = details;
        Err(StoreError::backend(
            "record_call_details is not implemented by this store",
        ))
    }
    /// Counts of webhooks, duplicates and booking jobs (all companies when `None`).
    async fn webhook_stats(&self, company: Option<CompanyId>) -> Result<WebhookStats, StoreError>;
    /// Inserts an appointment made outside a call (gateway `calcom.createBooking`), idempotent
    /// on its company and key; [`StoreError::ForeignCall`], writing nothing, when it names a
    /// call recorded for another company.
    async fn insert_appointment(&self, appointment: &NewAppointment) -> Result<i64, StoreError>;
    /// The calls of `company` (`None`: every company) that started in `[since, until)` (UTC),
    /// oldest first (then by call id), at most `limit`, each as [`CallStore::get_call`] shows
    /// it. The default refuses, for test fakes that list no calls.
    async fn list_calls(
        &self,
        company: Option<CompanyId>,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<CallView>, StoreError> {
        let _ = (company, since, until, limit);
        Err(StoreError::backend(
            "list_calls is not implemented by this store",
        ))
    }
}

/// The outbox as its workers use it: claim, complete, fail, and say they are alive.
#[async_trait]
pub trait OutboxStore: Send + Sync + 'static {
    /// Claims up to `limit` due jobs (`pending`, `next_run_at <= now`, or `running` with an
    /// expired lease): sets `running`, `locked_until = now + lease`, `attempts + 1`.
    async fn claim_due_jobs(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError>;
    /// In one transaction: inserts the appointment (idempotent on its company and key), links
    /// the call, marks the job `done`, and enqueues `follow_up` (the SMS confirmation;
    /// idempotent on company and key like every job). Returns the appointment id;
    /// [`StoreError::ForeignCall`], writing nothing, when the appointment's call is recorded
    /// for another company.
    async fn complete_booking_job(
        &self,
        job_id: i64,
        appointment: &NewAppointment,
        follow_up: &[NewJob],
    ) -> Result<i64, StoreError>;
    /// Records a failed attempt: back to `pending` at `retry_at`, or `failed` (dead letter)
    /// when `retry_at` is `None`.
    async fn fail_job(&self, job_id: i64, failure: &JobFailure) -> Result<(), StoreError>;
    /// Upserts the worker's row in `outbox_workers` (keyed by `worker_id`), setting its last
    /// heartbeat to `heartbeat.at`.
    async fn heartbeat_worker(&self, heartbeat: &WorkerHeartbeat) -> Result<(), StoreError>;
}

/// The outbox as operators see it (`queue.*`): overview, listings, metrics, workers, retries.
#[async_trait]
pub trait QueueAdminStore: Send + Sync + 'static {
    /// Outbox state per queue as of `now` (UTC), read in one consistent snapshot: counts by
    /// status, the due pending jobs and the age of the oldest of them, expired leases and
    /// the next time a waiting job becomes due. `company: None` covers all companies.
    async fn queue_overview(
        &self,
        company: Option<CompanyId>,
        now: DateTime<Utc>,
    ) -> Result<QueueOverview, StoreError>;
    /// Dead letters (`failed` jobs), newest (highest id) first, at most `limit`; with
    /// `before_id` only jobs with a smaller id (the next page). `company: None` covers all
    /// companies.
    async fn failed_jobs(
        &self,
        company: Option<CompanyId>,
        limit: u32,
        before_id: Option<i64>,
    ) -> Result<Vec<FailedJob>, StoreError>;
    /// The newest (highest id) jobs first, at most `limit`, only of `status` when given.
    /// `company: None` covers all companies.
    async fn recent_jobs(
        &self,
        company: Option<CompanyId>,
        limit: u32,
        status: Option<JobStatus>,
    ) -> Result<Vec<RecentJob>, StoreError>;
    /// Jobs that finished (`done` or `failed`, by `updated_at`) at or after `since` (UTC),
    /// counted per UTC minute, and the latency histogram of the `done` ones; aggregated in
    /// the database. `company: None` covers all companies.
    async fn queue_metrics(
        &self,
        company: Option<CompanyId>,
        since: DateTime<Utc>,
    ) -> Result<QueueMetricsRows, StoreError>;
    /// Workers whose last heartbeat is at or after `alive_since` (UTC), most recent
    /// heartbeat first.
    async fn workers(&self, alive_since: DateTime<Utc>) -> Result<Vec<WorkerView>, StoreError>;
    /// Puts one dead letter back in the outbox in one transaction: `pending`, due at `now`,
    /// `attempts = 0`, no lease, `updated_at = now`; `last_error` is kept until the next
    /// attempt replaces it. With `company` given, a job of another company is
    /// [`RetryOutcome::NotFound`]; a job that is not `failed` is left alone and reported as
    /// [`RetryOutcome::NotFailed`].
    async fn retry_job(
        &self,
        job_id: i64,
        company: Option<CompanyId>,
        now: DateTime<Utc>,
    ) -> Result<RetryOutcome, StoreError>;
    /// Puts every dead letter that failed (`updated_at`) at or after `since` back in the
    /// outbox, as [`QueueAdminStore::retry_job`] does, in one statement; returns how many.
    /// `company: None` covers all companies.
    async fn retry_failed(
        &self,
        company: Option<CompanyId>,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
}

/// API tokens (stored as SHA-256 hex digests).
#[async_trait]
pub trait TokenStore: Send + Sync + 'static {
    /// The grant of the token whose SHA-256 hex digest is `token_sha256`, if any.
    async fn api_token(&self, token_sha256: &str) -> Result<Option<TokenGrant>, StoreError>;
    /// Whether the token whose SHA-256 hex digest is `token_sha256` may read the metrics and
    /// the detailed health: an admin token or a `metrics`-scope token. Metrics tokens are never
    /// returned by [`api_token`](Self::api_token), so they cannot use the gateway.
    async fn metrics_access(&self, token_sha256: &str) -> Result<bool, StoreError>;
}

/// Tenant administration (`switchboard tenant …`, `company.*`, `branch.*`, `service.*`):
/// whole tenants read and written as declared, credentials written only, the audit log.
/// Every write records its [`AuditRecord`] in the same transaction.
#[async_trait]
pub trait TenantAdminStore: Send + Sync + 'static {
    /// Every tenant, by slug.
    async fn list_tenants(&self) -> Result<Vec<TenantSummary>, StoreError>;
    /// One tenant as stored, disabled ones included; `None` when there is none.
    async fn tenant(&self, tenant: &TenantRef) -> Result<Option<TenantState>, StoreError>;
    /// Which of `numbers` are routed, and to which tenant (slug), in the order given.
    async fn phone_owners(
        &self,
        numbers: &[PhoneNumber],
    ) -> Result<Vec<(PhoneNumber, Slug)>, StoreError>;
    /// Makes the stored tenant `spec.slug` exactly `spec`, in one transaction: creates it or
    /// updates its settings; creates, updates and deletes branches (by slug), phone numbers
    /// and services (by name) to match; writes only the credentials given (sealed); records
    /// `audit`. Returns the company id. A disabled tenant stays disabled.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] naming the value when a number belongs to another tenant, the
    /// name is another tenant's, or a branch to delete still has calls or appointments;
    /// [`StoreError::Backend`] when a service has no `event_type_id` or a statement fails.
    async fn write_tenant(
        &self,
        spec: &TenantSpec,
        audit: &AuditRecord,
    ) -> Result<CompanyId, StoreError>;
    /// Disables (`true`) or enables `company`, recording `audit`; returns whether anything
    /// changed. Nothing is deleted: a disabled tenant's numbers answer "not in service" and
    /// its tokens stop working.
    async fn set_disabled(
        &self,
        company: CompanyId,
        disabled: bool,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError>;
    /// Writes the credentials given (sealed), recording `audit`; returns whether the company
    /// exists.
    async fn set_credentials(
        &self,
        company: CompanyId,
        credentials: &CredentialUpdate,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError>;
    /// Audit entries of `company` (all when `None`), newest first, at most `limit`, only
    /// those with an id below `before_id` when given.
    async fn audit_log(
        &self,
        company: Option<CompanyId>,
        limit: u32,
        before_id: Option<i64>,
    ) -> Result<Vec<AuditEntry>, StoreError>;
}

/// Tokens as operators manage them (`switchboard token …`, `auth.*`).
#[async_trait]
pub trait TokenAdminStore: Send + Sync + 'static {
    /// Creates a random token; returns it (the only time it is shown: only its SHA-256 is
    /// stored) and its listing. `audit` is recorded with it.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the company already has 100 tokens that are neither
    /// revoked nor expired; [`StoreError::Backend`] when the company does not exist or a
    /// statement fails.
    async fn create_token(
        &self,
        new: &NewToken,
        audit: &AuditRecord,
    ) -> Result<(TokenInfo, SecretString), StoreError>;
    /// Tokens of `company` (every token when `None`), newest first, revoked and expired
    /// included; at most 500 (the newest).
    async fn list_tokens(&self, company: Option<CompanyId>) -> Result<Vec<TokenInfo>, StoreError>;
    /// Revokes token `id` at `now` (only a token of `company` when given); returns the token,
    /// `None` when there is none (or it is another company's). Revoking twice keeps the first
    /// time.
    async fn revoke_token(
        &self,
        id: i64,
        company: Option<CompanyId>,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<TokenInfo>, StoreError>;
}

/// Appointments after they are booked: found by the caller's number, moved and cancelled (by
/// phone, by staff tools, or in Cal.com and told to us by its webhooks), and the outbox jobs
/// that carry such work when it cannot be done at once. Every method is scoped to one
/// company: a booking uid or job of another company is answered like one that does not exist
/// and is never changed.
#[async_trait]
pub trait AppointmentStore: Send + Sync + 'static {
    /// `company`'s appointments with status `scheduled` whose `attendee_phone` is `phone`
    /// (E.164) and that end after `after` (UTC), earliest start first, at most `limit`.
    async fn upcoming_appointments(
        &self,
        company: CompanyId,
        phone: &str,
        after: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<AppointmentRecord>, StoreError>;
    /// `company`'s appointment with Cal.com booking uid `uid`, whatever its status.
    async fn appointment(
        &self,
        company: CompanyId,
        uid: &BookingUid,
    ) -> Result<Option<AppointmentRecord>, StoreError>;
    /// Records a reschedule Cal.com confirmed, in one transaction: `old_uid` becomes
    /// `rescheduled` with `rescheduled_to_uid = new.booking_uid`, and `new` is inserted
    /// (`scheduled`, same customer). Idempotent: a `new.booking_uid` already stored for
    /// `company` returns its id and changes nothing. Returns the new appointment's id.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when `new.booking_uid` is stored for another company.
    async fn record_reschedule(
        &self,
        company: CompanyId,
        old_uid: &BookingUid,
        new: &NewAppointment,
        at: DateTime<Utc>,
    ) -> Result<i64, StoreError>;
    /// Records a cancellation Cal.com confirmed: status `cancelled`, `cancellation_reason`,
    /// `updated_at = at`. Returns whether a row changed (`false`: unknown for `company`, or
    /// already cancelled).
    async fn record_cancellation(
        &self,
        company: CompanyId,
        uid: &BookingUid,
        reason: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Records one verified Cal.com webhook in **one transaction**: dedupe on (company,
    /// `dedupe_key`), then apply it to the local appointments (see [`CalcomEventRecord`]).
    /// A repeated key changes nothing and is [`CalcomEventOutcome::Duplicate`].
    async fn record_calcom_event(
        &self,
        event: &CalcomEventRecord,
    ) -> Result<CalcomEventOutcome, StoreError>;
    /// The stored name of `company`'s customer with number `phone` (E.164); `None` when no
    /// such customer is stored or their name is not.
    async fn customer_name(
        &self,
        company: CompanyId,
        phone: &str,
    ) -> Result<Option<String>, StoreError>;
    /// Puts a job in the outbox outside a webhook (reschedule, cancel, SMS). Idempotent on
    /// (company, `idempotency_key`): a second insert returns the first job's id.
    async fn enqueue_job(&self, job: &NewJob) -> Result<i64, StoreError>;
    /// Marks a claimed job that is not a `book` job `done` (clears `last_error` and the lease),
    /// and enqueues `follow_up` (e.g. the SMS confirmation) in the same transaction.
    async fn complete_job(&self, job_id: i64, follow_up: &[NewJob]) -> Result<(), StoreError>;
}

/// The per-company booking lock shared by all instances, and the readiness probe.
#[async_trait]
pub trait LockStore: Send + Sync + 'static {
    /// Takes the booking lock of `company` for `holder` until `now + lease`, unless another
    /// holder's lease is still running. Returns whether `holder` now holds it. Serialises a
    /// company's slot-changing work across instances; a holder that dies frees it when its
    /// lease ends. Taking it again as the same holder extends the lease.
    async fn try_lock_tenant(
        &self,
        company: CompanyId,
        holder: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<bool, StoreError>;
    /// Releases the booking lock of `company` if `holder` still holds it.
    async fn unlock_tenant(&self, company: CompanyId, holder: &str) -> Result<(), StoreError>;
    /// Round trip to the database (readiness probe).
    async fn ping(&self) -> Result<(), StoreError>;
}

/// Durable state: every role above. One implementation serves SQLite and PostgreSQL
/// (`src/store/`); a test fake implements only the roles its subject uses and takes that
/// role's trait object (e.g. `Arc<dyn QueueAdminStore>`).
pub trait Store:
    TenancyStore
    + CallStore
    + OutboxStore
    + QueueAdminStore
    + TokenStore
    + LockStore
    + TenantAdminStore
    + TokenAdminStore
    + AppointmentStore
    + RetellRecordStore
    + RetellConfigStore
    + AdminSessionStore
    + ReportStore
{
}

impl<T> Store for T where
    T: TenancyStore
        + CallStore
        + OutboxStore
        + QueueAdminStore
        + TokenStore
        + LockStore
        + TenantAdminStore
        + TokenAdminStore
        + AppointmentStore
        + RetellRecordStore
        + RetellConfigStore
        + AdminSessionStore
        + ReportStore
{
}

/// Cal.com API v2, one company credential per call (reference/calcom.md). Implemented by the
/// reqwest client in the shell; the simulators make it testable.
#[async_trait]
pub trait CalendarApi: Send + Sync + 'static {
    /// `GET /v2/event-types` of the key owner.
    async fn event_types(&self, key: &SecretString) -> Result<Vec<EventType>, UpstreamError>;
    /// `GET /v2/slots?format=range`, flattened in time order.
    async fn slots(
        &self,
        key: &SecretString,
        query: &SlotQuery,
    ) -> Result<Vec<Slot>, UpstreamError>;
    /// `POST /v2/bookings` → 201.
    async fn create_booking(
        &self,
        key: &SecretString,
        request: &BookingRequest,
    ) -> Result<Booking, UpstreamError>;
    /// `GET /v2/bookings` with filters.
    async fn list_bookings(
        &self,
        key: &SecretString,
        query: &BookingQuery,
    ) -> Result<Vec<Booking>, UpstreamError>;
    /// `GET /v2/bookings/{uid}`.
    async fn get_booking(
        &self,
        key: &SecretString,
        uid: &BookingUid,
    ) -> Result<Booking, UpstreamError>;
    /// `GET /v2/me`: the owner of `key`; a refused key is [`UpstreamError::Unauthorized`].
    async fn me(&self, key: &SecretString) -> Result<CalcomProfile, UpstreamError>;
    /// `GET /v2/teams/{team_id}/event-types`: the event types of team `team_id`.
    async fn team_event_types(
        &self,
        key: &SecretString,
        team_id: i64,
    ) -> Result<Vec<EventType>, UpstreamError>;

    // The methods below have a default that refuses (501), for test fakes that do not need
    // them; the reqwest client implements every one.

    /// `POST /v2/slots/reservations` → 201: holds the slot; another holder's live reservation
    /// of it is [`UpstreamError::SlotTaken`].
    async fn reserve_slot(
        &self,
        key: &SecretString,
        request: &ReservationRequest,
    ) -> Result<SlotReservation, UpstreamError> {
        let _ = (key, request);
        Err(unsupported("reserveSlot"))
    }
    /// `PATCH /v2/slots/reservations/{uid}`: renews the hold for `reservation_duration_min`
    /// from now. A lapsed or unknown reservation is [`UpstreamError::NotFound`].
    async fn renew_reservation(
        &self,
        key: &SecretString,
        uid: &str,
        request: &ReservationRequest,
    ) -> Result<SlotReservation, UpstreamError> {
        let _ = (key, uid, request);
        Err(unsupported("renewReservation"))
    }
    /// `DELETE /v2/slots/reservations/{uid}`: releases the hold. An unknown (or lapsed)
    /// reservation is [`UpstreamError::NotFound`].
    async fn release_reservation(
        &self,
        key: &SecretString,
        uid: &str,
    ) -> Result<(), UpstreamError> {
        let _ = (key, uid);
        Err(unsupported("releaseReservation"))
    }
    /// `POST /v2/bookings/{uid}/reschedule` → 201: the new booking (new uid,
    /// `rescheduledFromUid = uid`). A taken slot is [`UpstreamError::SlotTaken`]; a cancelled
    /// or already rescheduled booking is [`UpstreamError::Rejected`] (400).
    async fn reschedule_booking(
        &self,
        key: &SecretString,
        uid: &BookingUid,
        request: &RescheduleRequest,
    ) -> Result<Booking, UpstreamError> {
        let _ = (key, uid, request);
        Err(unsupported("rescheduleBooking"))
    }
    /// `POST /v2/bookings/{uid}/cancel` → 200: the cancelled booking. An already cancelled one
    /// is [`UpstreamError::Rejected`] (400 "This booking has already been cancelled.").
    async fn cancel_booking(
        &self,
        key: &SecretString,
        uid: &BookingUid,
        request: &CancelRequest,
    ) -> Result<Booking, UpstreamError> {
        let _ = (key, uid, request);
        Err(unsupported("cancelBooking"))
    }
    /// `POST /v2/webhooks` → 201: subscribes `subscription.subscriber_url` to the key owner's
    /// booking events.
    async fn create_webhook(
        &self,
        key: &SecretString,
        subscription: &WebhookSubscription,
    ) -> Result<Webhook, UpstreamError> {
        let _ = (key, subscription);
        Err(unsupported("createWebhook"))
    }
    /// `GET /v2/webhooks`: the key owner's webhook subscriptions.
    async fn list_webhooks(&self, key: &SecretString) -> Result<Vec<Webhook>, UpstreamError> {
        let _ = key;
        Err(unsupported("listWebhooks"))
    }
}

/// The refusal of a [`CalendarApi`] method a fake does not implement.
fn unsupported(method: &str) -> UpstreamError {
    UpstreamError::Rejected {
        service: "calcom",
        answer: ErrorAnswer {
            status: 501,
            code: None,
            message: format!("{method} is not implemented by this Cal.com client"),
        },
    }
}

/// Which [`CalendarApi`] serves a company: the configured Cal.com, or the one at the company's
/// own base URL (`CompanyProfile::calcom_base_url`, e.g. a self-hosted or EU instance).
pub trait CalendarApis: Send + Sync + 'static {
    /// The API at `base_url` (`None`: the configured one). The same base URL gives the same
    /// API (and connection pool) every time.
    ///
    /// # Errors
    /// A base URL no client can be built for, as text naming the URL and the reason.
    fn for_base_url(&self, base_url: Option<&str>) -> Result<Arc<dyn CalendarApi>, String>;
}

/// The same [`CalendarApi`] for every base URL: fakes in tests.
pub struct SameCalendarApi(pub Arc<dyn CalendarApi>);

impl CalendarApis for SameCalendarApi {
    fn for_base_url(&self, _: Option<&str>) -> Result<Arc<dyn CalendarApi>, String> {
        Ok(Arc::clone(&self.0))
    }
}

/// A company's Retell set-up settings (`retell.config.*`): its overrides of the deployed
/// custom functions, one row per (company, function) in `retell_custom_functions`.
#[async_trait]
pub trait RetellConfigStore: Send + Sync + 'static {
    /// The company's overrides by function name.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] for a stored override that does not parse.
    async fn function_overrides(
        &self,
        company: CompanyId,
    ) -> Result<BTreeMap<String, FunctionOverride>, StoreError>;
    /// Makes `value` the company's override of function `name` (replacing the one stored);
    /// an empty override deletes the row. `now` is the row's `updated_at`.
    async fn set_function_override(
        &self,
        company: CompanyId,
        name: &str,
        value: &FunctionOverride,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

/// An HTTP POST to this service's own public URL, sent from outside the way Retell sends
/// its requests: how `retell.config.testWebhook` checks that Retell can reach us.
#[async_trait]
pub trait WebhookProbe: Send + Sync + 'static {
    /// Posts `body` (JSON) to `url` with `headers`; answers the response's status code.
    ///
    /// # Errors
    /// [`ProbeError`] when no answer came (name resolution, connection, TLS, timeout).
    async fn post(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: Vec<u8>,
    ) -> Result<u16, ProbeError>;
}

/// Why a [`WebhookProbe`] got no answer.
#[derive(Debug, Clone, thiserror::Error)]
#[error("no answer from {url}: {reason}")]
pub struct ProbeError {
    /// The URL posted to.
    pub url: String,
    /// What failed, e.g. "connection refused".
    pub reason: String,
}

/// A [`WebhookProbe`] that reaches nothing: for cores and tests that never probe.
pub struct NoWebhookProbe;

#[async_trait]
impl WebhookProbe for NoWebhookProbe {
    async fn post(
        &self,
        url: &str,
        _: &[(&'static str, String)],
        _: Vec<u8>,
    ) -> Result<u16, ProbeError> {
        Err(ProbeError {
            url: url.to_owned(),
            reason: "this process sends no probes".into(),
        })
    }
}

/// The Retell REST API (reference/retell.md §4), with the API key of one company. The shell's
/// reqwest client implements it; errors are [`UpstreamError`]s with `service: "retell"`: a
/// missing agent, LLM, number or call is `NotFound` (Retell answers 422 or 404 for it),
/// a refused key `Unauthorized`, 429 `RateLimited` with its `Retry-After`.
#[async_trait]
pub trait RetellApi: Send + Sync + 'static {
    /// `POST /v2/list-agents`: one page of the key's agents (summaries).
    async fn list_agents(
        &self,
        key: &SecretString,
        page: &PageRequest,
    ) -> Result<Page<AgentSummary>, UpstreamError> {
        let _ = (key, page);
        Err(unsupported_retell("list_agents"))
    }
    /// `GET /get-agent/{agent_id}?version=`: one agent version (`None`: the latest).
    async fn get_agent(
        &self,
        key: &SecretString,
        agent_id: &str,
        version: Option<i64>,
    ) -> Result<Agent, UpstreamError> {
        let _ = (key, agent_id, version);
        Err(unsupported_retell("get_agent"))
    }
    /// `GET /list-agent-versions/{agent_id}`: one page of the agent's versions.
    async fn list_agent_versions(
        &self,
        key: &SecretString,
        agent_id: &str,
        page: &PageRequest,
    ) -> Result<Page<AgentVersion>, UpstreamError> {
        let _ = (key, agent_id, page);
        Err(unsupported_retell("list_agent_versions"))
    }
    /// `PATCH /update-agent/{agent_id}`: changes the latest draft; answers it.
    async fn update_agent(
        &self,
        key: &SecretString,
        agent_id: &str,
        update: &AgentUpdate,
    ) -> Result<Agent, UpstreamError> {
        let _ = (key, agent_id, update);
        Err(unsupported_retell("update_agent"))
    }
    /// `POST /publish-agent-version/{agent_id}` with `{"version": n}`: publishes a draft in place.
    async fn publish_agent_version(
        &self,
        key: &SecretString,
        agent_id: &str,
        version: i64,
    ) -> Result<(), UpstreamError> {
        let _ = (key, agent_id, version);
        Err(unsupported_retell("publish_agent_version"))
    }
    /// `GET /get-retell-llm/{llm_id}?version=`: one LLM version (`None`: the latest).
    async fn get_llm(
        &self,
        key: &SecretString,
        llm_id: &str,
        version: Option<i64>,
    ) -> Result<RetellLlm, UpstreamError> {
        let _ = (key, llm_id, version);
        Err(unsupported_retell("get_llm"))
    }
    /// `PATCH /update-retell-llm/{llm_id}`: changes the LLM; answers it.
    async fn update_llm(
        &self,
        key: &SecretString,
        llm_id: &str,
        update: &LlmUpdate,
    ) -> Result<RetellLlm, UpstreamError> {
        let _ = (key, llm_id, update);
        Err(unsupported_retell("update_llm"))
    }
    /// `GET /v2/list-phone-numbers`: one page of the account's numbers.
    async fn list_phone_numbers(
        &self,
        key: &SecretString,
        page: &PageRequest,
    ) -> Result<Page<RetellPhoneNumber>, UpstreamError> {
        let _ = (key, page);
        Err(unsupported_retell("list_phone_numbers"))
    }
    /// `PATCH /update-phone-number/{phone_number}` (E.164, `+` sent as `%2B`).
    async fn update_phone_number(
        &self,
        key: &SecretString,
        phone_number: &str,
        update: &PhoneNumberUpdate,
    ) -> Result<RetellPhoneNumber, UpstreamError> {
        let _ = (key, phone_number, update);
        Err(unsupported_retell("update_phone_number"))
    }
    /// `POST /v3/list-calls`: one page of calls, newest first.
    async fn list_calls(
        &self,
        key: &SecretString,
        query: &CallQuery,
    ) -> Result<Page<CallObject>, UpstreamError> {
        let _ = (key, query);
        Err(unsupported_retell("list_calls"))
    }
    /// `GET /v2/get-call/{call_id}`: one call with its transcripts.
    async fn get_call(
        &self,
        key: &SecretString,
        call_id: &str,
    ) -> Result<CallObject, UpstreamError> {
        let _ = (key, call_id);
        Err(unsupported_retell("get_call"))
    }
}

/// The refusal of a [`RetellApi`] method a fake does not implement.
fn unsupported_retell(method: &str) -> UpstreamError {
    UpstreamError::Rejected {
        service: "retell",
        answer: ErrorAnswer {
            status: 501,
            code: None,
            message: format!("{method} is not implemented by this Retell client"),
        },
    }
}

/// A [`RetellApi`] that refuses everything: for cores and tests that never call Retell.
pub struct NoRetellApi;

impl RetellApi for NoRetellApi {}

/// One text message to a caller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsMessage {
    /// Recipient, E.164 (a mobile number: see `domain::phone::is_mobile`).
    pub to: String,
    /// Text, at most 1600 characters (Twilio's limit for `Body`).
    pub body: String,
}

/// What the SMS provider answered for an accepted message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentSms {
    /// Provider's message id (Twilio `sid`, `SM…`).
    pub sid: String,
    /// Provider's status at acceptance (Twilio `queued`, `accepted`, `sent`, …).
    pub status: String,
}

/// Sends text messages for one tenant (its provider account). Implemented in the shell by the
/// Twilio Messages API client (`POST /2010-04-01/Accounts/{sid}/Messages.json`); `switchboard
/// sim sms` serves that API offline.
#[async_trait]
pub trait Notifier: Send + Sync + 'static {
    /// Sends `message`. Errors are classified like other upstreams (`service` = `sms`):
    /// transport, 5xx and 429 are transient and retried by the outbox; a refused number or
    /// credential is permanent.
    async fn send_sms(&self, message: &SmsMessage) -> Result<SentSms, UpstreamError>;
}

/// Which [`Notifier`] serves a tenant's SMS settings.
pub trait Notifiers: Send + Sync + 'static {
    /// The notifier for `settings` (same settings: same client and connection pool).
    ///
    /// # Errors
    /// Settings no client can be built for, as text naming the reason.
    fn for_settings(&self, settings: &SmsSettings) -> Result<Arc<dyn Notifier>, String>;
}

/// Short-lived shared cache of serialised JSON (moka in-process, or Redis shared by the
/// instances). Keys follow the documented scheme, e.g. `mcp:calcom:event_types:{company}`. A
/// cache failure is a miss. Values are kept as JSON text ([`SharedJson`]): a cached reply is
/// sent as those bytes, and a typed reader parses them straight into its type.
///
/// [`SharedJson`]: crate::jsonrpc::SharedJson
#[async_trait]
pub trait Cache: Send + Sync + 'static {
    /// The value under `key`; `None` when absent, expired, or the cache failed.
    async fn get(&self, key: &str) -> Option<crate::jsonrpc::SharedJson>;
    /// Stores `value` under `key` for `ttl`, replacing what was there. A failure is ignored: the
    /// next read is a miss.
    async fn set(&self, key: &str, value: crate::jsonrpc::SharedJson, ttl: Duration);
    /// Drops `key`, e.g. after our own booking changed the free slots it holds. An absent key is no
    /// error.
    async fn remove(&self, key: &str);
}

/// Wall clock, injectable for tests.
pub trait Clock: Send + Sync + 'static {
    /// The current instant, UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// [`Notifiers`] when no SMS client is wired (tests that send no text): every tenant's
/// settings are refused, so an `sms` job fails and is visible as a dead letter.
pub struct NoNotifiers;

impl Notifiers for NoNotifiers {
    fn for_settings(&self, _: &SmsSettings) -> Result<Arc<dyn Notifier>, String> {
        Err("no SMS client is configured in this process".to_owned())
    }
}

/// One phone number of a company's branches (E.164), as the `retell.*` methods compare it
/// with the Retell account's numbers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct BranchNumber {
    /// E.164, e.g. `+4930123456`.
    pub phone_number: String,
    /// The branch that owns it.
    pub branch_id: crate::domain::ids::BranchId,
    /// The branch's display name.
    pub branch_name: String,
}

/// A finished Retell call we never recorded, to be recorded as history by
/// `retell.importCalls` (fields from the call object, reference/retell.md §1.3).
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedCall {
    /// The company whose Retell agent took the call.
    pub company_id: CompanyId,
    /// Retell's call id.
    pub call_id: CallId,
    /// `ended`, `error` or `not_connected` (a `calls.status` value).
    pub status: String,
    /// The number of the business (`to_number` inbound, `from_number` outbound), E.164: the
    /// call's branch when it is one of the company's branch numbers.
    pub business_number: Option<String>,
    /// E.164.
    pub from_number: Option<String>,
    /// E.164.
    pub to_number: Option<String>,
    /// `inbound` or `outbound`.
    pub direction: Option<String>,
    /// Start, UTC.
    pub started_at: Option<DateTime<Utc>>,
    /// End, UTC.
    pub ended_at: Option<DateTime<Utc>>,
    /// Length, milliseconds (>= 0).
    pub duration_ms: Option<i64>,
    /// Retell's `disconnection_reason`.
    pub disconnection_reason: Option<String>,
    /// `call_analysis.call_summary`, when the call was analysed.
    pub summary: Option<String>,
    /// `call_analysis.user_sentiment`, when the call was analysed.
    pub sentiment: Option<String>,
    /// The call object as Retell listed it (JSON), stored as `calls.payload`.
    pub payload: String,
    /// When it was imported (UTC): `created_at` and `updated_at` of the row.
    pub imported_at: DateTime<Utc>,
}

/// What [`RetellRecordStore::import_calls`] did with one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportOutcome {
    /// Recorded now.
    Imported,
    /// Already recorded for the company (by its webhooks or an earlier import): left as is.
    AlreadyKnown,
    /// Recorded for another company: left as is, nothing written.
    Foreign,
}

/// What the `retell.*` methods read and write in our records: the branch numbers compared
/// with Retell's, which calls we know, and calls imported from Retell's history.
#[async_trait]
pub trait RetellRecordStore: Send + Sync + 'static {
    /// Every phone number of `company`'s branches, ordered by number.
    async fn branch_numbers(&self, company: CompanyId) -> Result<Vec<BranchNumber>, StoreError>;
    /// Which of `call_ids` are recorded for `company` (a call of another company is not
    /// among them), in no particular order.
    async fn known_calls(
        &self,
        company: CompanyId,
        call_ids: &[CallId],
    ) -> Result<Vec<CallId>, StoreError>;
    /// Records each call unless its call id is recorded already, in one transaction; the
    /// outcomes are in the order of `calls`. A known call is never changed, whoever owns
    /// it, and no job is enqueued: imported calls are history. Idempotent: importing the
    /// same calls again answers [`ImportOutcome::AlreadyKnown`] for each.
    async fn import_calls(&self, calls: &[ImportedCall]) -> Result<Vec<ImportOutcome>, StoreError>;
}

/// Sessions of the operators' dashboard (`/admin`, issue 15), keyed by the SHA-256 hex digest
/// of the session id the cookie carries; the id itself is never stored.
#[async_trait]
pub trait AdminSessionStore: Send + Sync + 'static {
    /// Stores `session`, in one transaction with the upkeep that bounds the table: every
    /// expired session (of any token) is purged, and the token's oldest sessions are dropped so
    /// that it keeps at most `max_per_token` (at least 1) with the new one.
    async fn create_admin_session(
        &self,
        session: &crate::records::NewAdminSession,
        max_per_token: u32,
    ) -> Result<(), StoreError>;
    /// The session of digest `session_sha256` if it has not expired at `now` and its token is
    /// still valid (not revoked, not expired, its company not disabled); its expiry moves to
    /// `now + idle` (sliding). `None` for an unknown, expired or orphaned session.
    async fn admin_session(
        &self,
        session_sha256: &str,
        now: DateTime<Utc>,
        idle: Duration,
    ) -> Result<Option<crate::records::AdminSession>, StoreError>;
    /// Deletes the session of digest `session_sha256` (sign-out); no error when it is gone.
    async fn delete_admin_session(&self, session_sha256: &str) -> Result<(), StoreError>;
}

/// Reports over the stored calls, jobs and appointments (`database.*`): counts, dead letters
/// with what led there, search, and client SQL checked by
/// [`sql_guard`](crate::domain::sql_guard). Every method reads only the companies it is given.
#[async_trait]
pub trait ReportStore: Send + Sync + 'static {
    /// The SQL dialect of the database: how `database.query` renders a checked query.
    fn sql_dialect(&self) -> crate::domain::sql_guard::SqlDialect;
    /// Calls of `company` (every company when `None`) that started in `[since, until)`
    /// (UTC), counted by booking state ([`crate::reports`]) per company and group; aggregated
    /// in the database, so the rows are bounded by companies × groups, never by calls.
    async fn call_stats(
        &self,
        company: Option<CompanyId>,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        grouping: crate::reports::StatsGrouping,
    ) -> Result<Vec<crate::reports::StatsRow>, StoreError>;
    /// Booking jobs of `company` (every company when `None`) that are dead letters, newest
    /// failure first, at most `limit`, each with its call's collected data and the end of
    /// its transcript.
    async fn failed_appointments(
        &self,
        company: Option<CompanyId>,
        limit: u32,
    ) -> Result<Vec<crate::reports::FailedAppointment>, StoreError>;
    /// Calls, customers and appointments of `company` (every company when `None`) matching
    /// `terms`: a name containing the text (case-insensitive, LIKE wildcards taken
    /// literally), the phone number, or the call id / booking uid exactly; at most `limit`
    /// per kind, newest first.
    async fn search(
        &self,
        company: Option<CompanyId>,
        terms: &crate::reports::SearchTerms,
        limit: u32,
    ) -> Result<crate::reports::SearchHits, StoreError>;
    /// Runs a query [`sql_guard`](crate::domain::sql_guard) checked and rewrote, read-only,
    /// with `params` bound as `$1…$n`, stopping after `limits.max_rows` rows (`truncated`
    /// says more were there) and after `limits.timeout`.
    ///
    /// # Errors
    /// [`crate::domain::sql_guard::QueryError::Timeout`] when the time limit stopped it,
    /// [`crate::domain::sql_guard::QueryError::Unsupported`] for a value it cannot return
    /// as JSON, [`crate::domain::sql_guard::QueryError::Store`] when the database refused it.
    async fn run_query(
        &self,
        query: &crate::domain::sql_guard::CheckedQuery,
        params: &[crate::domain::sql_guard::QueryParam],
        limits: crate::domain::sql_guard::RunLimits,
    ) -> Result<crate::domain::sql_guard::QueryOutput, crate::domain::sql_guard::QueryError>;
}
