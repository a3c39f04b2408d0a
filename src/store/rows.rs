//! Rows as both drivers decode them (JSON as TEXT, enums as their stored strings, times as
//! `DateTime<Utc>`) and their checked conversion into the core's records; plus the values a
//! webhook writes, derived once for both backends. Every conversion that can meet a bad
//! stored value returns [`StoreError::Corrupt`] naming the table, so an operator can find
//! the row instead of the process panicking or silently guessing.

use crate::secrets::{Column, Keyring};
use chrono::{DateTime, NaiveDateTime, NaiveTime, Utc};
use serde::de::DeserializeOwned;
use switchboard_actors::domain::appointment::CollectedAppointment;
use switchboard_actors::domain::ids::{BranchId, CallId, CompanyId, EventTypeId};
use switchboard_actors::domain::onboarding::{BookingPolicy, OpeningHours};
use switchboard_actors::domain::tenant::{
    BusinessWindow, CompanyProfile, Locale, Service, SmsSettings, TenantRoute,
};
use switchboard_actors::ports::StoreError;
use switchboard_actors::records::{
    AppointmentView, CallContextRecord, CallEventRecord, CallEventView, CallView, FailedJob,
    JOB_LATENCY_BUCKETS_MS, Job, JobCounts, JobStatus, JobSummary, JobView, MinuteCounts,
    QueueSummary, RecentJob, WebhookEvent, WorkerView,
};

/// `jobs.kind` of the outbox job that books a call's appointment (DESIGN §3 step 4).
pub(super) const BOOK_KIND: &str = "book";

/// Format of `branches.opens` / `closes` (local time of the company).
pub(super) const WINDOW_TIME_FORMAT: &str = "%H:%M";

pub(super) fn corrupt(table: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        table,
        message: message.into(),
    }
}

/// Parses a JSON column.
pub(super) fn json_column<T: DeserializeOwned>(
    table: &'static str,
    column: &str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| corrupt(table, format!("{column}: {e}")))
}

/// An integer column that the domain keeps as `u32` (counts, minutes).
fn u32_column(table: &'static str, column: &str, value: i64) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| corrupt(table, format!("{column} out of range: {value}")))
}

/// A count the domain keeps as `u64`.
fn u64_column(table: &'static str, column: &str, value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| corrupt(table, format!("{column} out of range: {value}")))
}

pub(super) fn call_id_column(table: &'static str, value: String) -> Result<CallId, StoreError> {
    CallId::parse(value).map_err(|e| corrupt(table, format!("call_id: {e}")))
}

/// `companies` row.
#[derive(sqlx::FromRow)]
pub(super) struct CompanyRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub locale: String,
    pub time_zone: String,
    pub retell_api_key: String,
    pub calcom_api_key: String,
    pub calcom_base_url: Option<String>,
    pub change_notice_h: i64,
    pub booking_horizon_days: i64,
    pub disabled_at: Option<DateTime<Utc>>,
    /// Sealed; `''` when not set.
    pub calcom_webhook_secret: String,
    pub sms_account_sid: Option<String>,
    pub sms_auth_token: Option<String>,
    pub sms_from: Option<String>,
    pub sms_base_url: Option<String>,
    pub retell_agent_id: Option<String>,
}

/// The columns of [`CompanyRow`], for `SELECT {COMPANY_COLUMNS} FROM companies c`.
pub(super) const COMPANY_COLUMNS: &str = "c.id, c.slug, c.name, c.locale, c.time_zone, \
     c.retell_api_key, c.calcom_api_key, c.calcom_base_url, c.change_notice_h, \
     c.booking_horizon_days, c.disabled_at, \
     COALESCE(c.calcom_webhook_secret, '') AS calcom_webhook_secret, c.sms_account_sid, \
     c.sms_auth_token, c.sms_from, c.sms_base_url, c.retell_agent_id";

impl CompanyRow {
    /// The profile, credentials opened with `keyring`; one that does not open (no key,
    /// wrong key, tampered, plaintext) is [`StoreError::Corrupt`] naming company and column.
    pub fn into_profile(self, keyring: &Keyring) -> Result<CompanyProfile, StoreError> {
        let id = CompanyId(self.id);
        // An empty value is a credential that was never set; it stays empty (and an empty
        // Retell key verifies no signature).
        let reveal = |column, stored: &str| {
            if stored.is_empty() {
                return Ok(secrecy::SecretString::from(""));
            }
            keyring
                .reveal(id, column, stored)
                .map_err(|e| corrupt("companies", e.to_string()))
        };
        let retell_api_key = reveal(Column::RetellApiKey, &self.retell_api_key)?;
        let calcom_api_key = reveal(Column::CalcomApiKey, &self.calcom_api_key)?;
        let calcom_webhook_secret =
            reveal(Column::CalcomWebhookSecret, &self.calcom_webhook_secret)?;
        // SMS settings count only when whole: an account without its token sends nothing.
        let sms = match (
            self.sms_account_sid,
            self.sms_from,
            self.sms_auth_token.filter(|t| !t.is_empty()),
        ) {
            (Some(account_sid), Some(from), Some(token)) => Some(SmsSettings {
                account_sid,
                auth_token: reveal(Column::SmsAuthToken, &token)?,
                from,
                base_url: self.sms_base_url,
            }),
            _ => None,
        };
        let locale = Locale::parse(&self.locale)
            .ok_or_else(|| corrupt("companies", format!("unknown locale {:?}", self.locale)))?;
        let time_zone = self.time_zone.parse::<chrono_tz::Tz>().map_err(|_| {
            corrupt(
                "companies",
                format!("unknown time zone {:?}", self.time_zone),
            )
        })?;
        Ok(CompanyProfile {
            id,
            slug: self.slug,
            name: self.name,
            locale,
            time_zone,
            retell_api_key,
            retell_agent_id: self.retell_agent_id,
            calcom_api_key,
            calcom_base_url: self.calcom_base_url,
            policy: BookingPolicy {
                change_notice_h: u32_column("companies", "change_notice_h", self.change_notice_h)?,
                booking_horizon_days: u32_column(
                    "companies",
                    "booking_horizon_days",
                    self.booking_horizon_days,
                )?,
            },
            disabled: self.disabled_at.is_some(),
            sms,
            calcom_webhook_secret,
        })
    }
}

/// `phone_numbers ⋈ branches ⋈ companies` row of a tenant lookup.
#[derive(sqlx::FromRow)]
pub(super) struct RouteRow {
    #[sqlx(flatten)]
    pub company: CompanyRow,
    pub branch_id: i64,
    pub branch_name: String,
    pub opens: String,
    pub closes: String,
    pub opening_hours: Option<String>,
}

impl RouteRow {
    pub fn into_route(self, keyring: &Keyring) -> Result<TenantRoute, StoreError> {
        let time = |column: &str, text: &str| {
            NaiveTime::parse_from_str(text, WINDOW_TIME_FORMAT)
                .map_err(|e| corrupt("branches", format!("{column} {text:?}: {e}")))
        };
        let window = BusinessWindow {
            opens: time("opens", &self.opens)?,
            closes: time("closes", &self.closes)?,
        };
        let opening_hours = self
            .opening_hours
            .as_deref()
            .map(|text| json_column::<OpeningHours>("branches", "opening_hours", text))
            .transpose()?;
        Ok(TenantRoute {
            company: self.company.into_profile(keyring)?,
            branch_id: BranchId(self.branch_id),
            branch_name: self.branch_name,
            window,
            opening_hours,
        })
    }
}

/// `services` row.
#[derive(sqlx::FromRow)]
pub(super) struct ServiceRow {
    pub id: i64,
    pub company_id: i64,
    pub name: String,
    pub aliases: String,
    pub duration_min: i64,
    pub event_type_id: i64,
    pub team_id: Option<i64>,
}

/// A [`ServiceRow`] with one branch that offers it (`None`: no branch is listed, so every
/// branch does).
#[derive(sqlx::FromRow)]
pub(super) struct OfferedServiceRow {
    #[sqlx(flatten)]
    pub service: ServiceRow,
    pub offered_at: Option<i64>,
}

impl ServiceRow {
    /// The service, offered at `branch_ids` (empty: every branch).
    pub fn into_service(self, branch_ids: Vec<BranchId>) -> Result<Service, StoreError> {
        Ok(Service {
            branch_ids,
            id: self.id,
            company_id: CompanyId(self.company_id),
            aliases: json_column("services", "aliases", &self.aliases)?,
            duration_min: u32_column("services", "duration_min", self.duration_min)?,
            name: self.name,
            event_type_id: EventTypeId(self.event_type_id),
            team_id: self.team_id,
        })
    }
}

/// The live-data columns of a `calls` row.
#[derive(sqlx::FromRow)]
pub(super) struct CallContextRow {
    pub call_id: String,
    pub company_id: i64,
    pub branch_id: Option<i64>,
    pub from_number: Option<String>,
    pub to_number: Option<String>,
    pub collected: String,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl CallContextRow {
    pub fn into_record(self) -> Result<CallContextRecord, StoreError> {
        let branch_id = self
            .branch_id
            .ok_or_else(|| corrupt("calls", "call with collected data has no branch_id"))?;
        Ok(CallContextRecord {
            call_id: call_id_column("calls", self.call_id)?,
            company_id: CompanyId(self.company_id),
            branch_id: BranchId(branch_id),
            from_number: self.from_number,
            to_number: self.to_number,
            collected: json_column("calls", "collected", &self.collected)?,
            updated_at: self.updated_at,
            version: u64::try_from(self.version)
                .map_err(|_| corrupt("calls", "negative context_version"))?,
        })
    }
}

/// A `calls` row as shown by `webhook.getCall`.
#[derive(sqlx::FromRow)]
pub(super) struct CallRow {
    pub call_id: String,
    pub company_id: i64,
    pub branch_id: Option<i64>,
    pub status: String,
    pub from_number: Option<String>,
    pub to_number: Option<String>,
    pub direction: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub disconnection_reason: Option<String>,
    pub summary: Option<String>,
    pub sentiment: Option<String>,
    pub collected: Option<String>,
}

impl CallRow {
    pub fn into_view(
        self,
        booking_job: Option<JobView>,
        appointment: Option<AppointmentView>,
    ) -> Result<CallView, StoreError> {
        let collected = self
            .collected
            .map(|text| json_column::<CollectedAppointment>("calls", "collected", &text))
            .transpose()?;
        Ok(CallView {
            call_id: self.call_id,
            company_id: CompanyId(self.company_id),
            branch_id: self.branch_id.map(BranchId),
            status: self.status,
            from_number: self.from_number,
            to_number: self.to_number,
            direction: self.direction,
            started_at: self.started_at,
            ended_at: self.ended_at,
            duration_ms: self.duration_ms,
            disconnection_reason: self.disconnection_reason,
            summary: self.summary,
            sentiment: self.sentiment,
            collected,
            booking_job,
            appointment,
            events: Vec::new(),
            transcript: None,
        })
    }
}

/// A `call_events` row (migration 0010) as `webhook.getCall` shows it.
#[derive(sqlx::FromRow)]
pub(super) struct CallEventRow {
    pub event: String,
    pub received_at: DateTime<Utc>,
    pub details: String,
}

impl CallEventRow {
    pub fn into_view(self) -> Result<CallEventView, StoreError> {
        Ok(CallEventView {
            details: json_column("call_events", "details", &self.details)?,
            event: self.event,
            received_at: self.received_at,
        })
    }
}

/// The `jobs` columns shown by `webhook.getCall`.
#[derive(sqlx::FromRow)]
pub(super) struct JobViewRow {
    pub id: i64,
    pub status: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub next_run_at: DateTime<Utc>,
    pub last_error: Option<String>,
}

impl JobViewRow {
    pub fn into_view(self) -> Result<JobView, StoreError> {
        Ok(JobView {
            id: self.id,
            status: job_status(&self.status)?,
            attempts: u32_column("jobs", "attempts", self.attempts)?,
            max_attempts: u32_column("jobs", "max_attempts", self.max_attempts)?,
            next_run_at: self.next_run_at,
            last_error: self.last_error,
        })
    }
}

fn job_status(text: &str) -> Result<JobStatus, StoreError> {
    JobStatus::parse(text).ok_or_else(|| corrupt("jobs", format!("unknown status {text:?}")))
}

/// A claimed `jobs` row (the `RETURNING` of the claim).
#[derive(sqlx::FromRow)]
pub(super) struct JobRow {
    pub id: i64,
    pub queue: String,
    pub kind: String,
    pub company_id: i64,
    pub call_id: Option<String>,
    pub idempotency_key: String,
    pub payload: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub created_at: DateTime<Utc>,
    pub trace_parent: Option<String>,
}

impl JobRow {
    pub fn into_job(self) -> Result<Job, StoreError> {
        Ok(Job {
            id: self.id,
            call_id: self
                .call_id
                .map(|id| call_id_column("jobs", id))
                .transpose()?,
            payload: json_column("jobs", "payload", &self.payload)?,
            attempts: u32_column("jobs", "attempts", self.attempts)?,
            max_attempts: u32_column("jobs", "max_attempts", self.max_attempts)?,
            queue: self.queue,
            kind: self.kind,
            company_id: CompanyId(self.company_id),
            idempotency_key: self.idempotency_key,
            created_at: self.created_at,
            trace_parent: self.trace_parent,
        })
    }
}

/// The `appointments` columns shown by `webhook.getCall`.
#[derive(sqlx::FromRow)]
pub(super) struct AppointmentViewRow {
    pub id: i64,
    pub booking_uid: String,
    pub service_name: String,
    pub start_at: DateTime<Utc>,
    pub end_at: DateTime<Utc>,
    pub status: String,
}

impl AppointmentViewRow {
    pub fn into_view(self) -> AppointmentView {
        AppointmentView {
            id: self.id,
            booking_uid: self.booking_uid,
            service_name: self.service_name,
            start: self.start_at,
            end: self.end_at,
            status: self.status,
        }
    }
}

/// A `jobs` row as the queue listings show it (`Dialect::job_listing_from`).
#[derive(sqlx::FromRow)]
pub(super) struct JobListingRow {
    pub id: i64,
    pub queue: String,
    pub kind: String,
    pub company_id: i64,
    pub call_id: Option<String>,
    pub status: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub next_run_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub service_name: Option<String>,
    /// RFC 3339 as the core serialised it into the payload.
    pub start: Option<String>,
    pub attendee_name: Option<String>,
}

impl JobListingRow {
    /// The summary is best effort: a start that does not parse is left out rather than
    /// failing the listing, because unreadable payloads are among the dead letters an
    /// operator most needs to see.
    fn summary(&self) -> JobSummary {
        JobSummary {
            service_name: self.service_name.clone(),
            start: self
                .start
                .as_deref()
                .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
                .map(|start| start.with_timezone(&Utc)),
            attendee_name: self.attendee_name.clone(),
        }
    }

    /// The row of a `status = 'failed'` listing as a dead letter; [`StoreError::Corrupt`]
    /// for an unknown status or out-of-range counts.
    pub fn into_failed(self) -> Result<FailedJob, StoreError> {
        self.into_recent().map(FailedJob::from)
    }

    /// The row as a listed job; [`StoreError::Corrupt`] for an unknown status or
    /// out-of-range counts.
    pub fn into_recent(self) -> Result<RecentJob, StoreError> {
        Ok(RecentJob {
            summary: self.summary(),
            status: job_status(&self.status)?,
            attempts: u32_column("jobs", "attempts", self.attempts)?,
            max_attempts: u32_column("jobs", "max_attempts", self.max_attempts)?,
            id: self.id,
            queue: self.queue,
            kind: self.kind,
            company_id: CompanyId(self.company_id),
            call_id: self.call_id,
            next_run_at: self.next_run_at,
            locked_until: self.locked_until,
            last_error: self.last_error,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// One queue's aggregates of the overview statement.
#[derive(sqlx::FromRow)]
pub(super) struct QueueOverviewRow {
    pub queue: String,
    pub pending: i64,
    pub running: i64,
    pub done: i64,
    pub failed: i64,
    pub due: i64,
    pub oldest_due_created_at: Option<DateTime<Utc>>,
    pub expired_leases: i64,
    pub next_due_at: Option<DateTime<Utc>>,
}

impl QueueOverviewRow {
    /// The summary with ages measured at `now`; a creation time after `now` (clock skew
    /// between instances) counts as age 0.
    pub fn into_summary(self, now: DateTime<Utc>) -> Result<QueueSummary, StoreError> {
        let count = |column: &str, value: i64| u64_column("jobs", column, value);
        Ok(QueueSummary {
            counts: JobCounts {
                pending: count("pending", self.pending)?,
                running: count("running", self.running)?,
                done: count("done", self.done)?,
                failed: count("failed", self.failed)?,
            },
            due: count("due", self.due)?,
            oldest_due_age_s: self
                .oldest_due_created_at
                .map(|created| u64::try_from((now - created).num_seconds()).unwrap_or(0)),
            expired_leases: count("expired_leases", self.expired_leases)?,
            next_due_at: self.next_due_at,
            queue: self.queue,
        })
    }
}

/// Jobs that finished in one UTC minute (`queue_metrics`).
#[derive(sqlx::FromRow)]
pub(super) struct MinuteRow {
    /// `YYYY-MM-DDTHH:MM` (`Dialect::updated_minute`).
    pub minute: String,
    pub processed: i64,
    pub failed: i64,
}

impl MinuteRow {
    pub fn into_counts(self) -> Result<MinuteCounts, StoreError> {
        let minute = NaiveDateTime::parse_from_str(&self.minute, "%Y-%m-%dT%H:%M")
            .map_err(|e| corrupt("jobs", format!("updated_at minute {:?}: {e}", self.minute)))?
            .and_utc();
        Ok(MinuteCounts {
            minute,
            processed: u64_column("jobs", "processed", self.processed)?,
            failed: u64_column("jobs", "failed", self.failed)?,
        })
    }
}

/// Done jobs in one latency bucket (`queue_metrics`): `bucket` indexes
/// [`JOB_LATENCY_BUCKETS_MS`], its length being the overflow bucket.
#[derive(sqlx::FromRow)]
pub(super) struct LatencyBucketRow {
    pub bucket: i64,
    pub jobs: i64,
}

/// The histogram of [`QueueMetricsRows::latency_buckets`](switchboard_actors::records::QueueMetricsRows):
/// always one count per bucket plus the overflow, zero where no row came back.
pub(super) fn latency_histogram(rows: Vec<LatencyBucketRow>) -> Result<Vec<u64>, StoreError> {
    let mut histogram = vec![0; JOB_LATENCY_BUCKETS_MS.len() + 1];
    for row in rows {
        let slot = usize::try_from(row.bucket)
            .ok()
            .and_then(|index| histogram.get_mut(index))
            .ok_or_else(|| {
                corrupt(
                    "jobs",
                    format!("latency bucket {} out of range", row.bucket),
                )
            })?;
        *slot = u64_column("jobs", "latency bucket count", row.jobs)?;
    }
    Ok(histogram)
}

/// An `outbox_workers` row.
#[derive(sqlx::FromRow)]
pub(super) struct WorkerRow {
    pub worker_id: String,
    pub host: String,
    pub pid: i64,
    pub started_at: DateTime<Utc>,
    pub last_heartbeat_at: DateTime<Utc>,
}

impl WorkerRow {
    pub fn into_view(self) -> Result<WorkerView, StoreError> {
        Ok(WorkerView {
            pid: u32_column("outbox_workers", "pid", self.pid)?,
            worker_id: self.worker_id,
            host: self.host,
            started_at: self.started_at,
            last_heartbeat_at: self.last_heartbeat_at,
        })
    }
}

/// Values of a [`CallEventRecord`] serialised before the transaction, so a retried
/// transaction does not serialise again and its body can only fail in the database.
pub(super) struct EventFields {
    /// The `calls.status` the event asks for ([`event_status`]).
    pub status: &'static str,
    /// The Retell call object as JSON text (`calls.payload`).
    pub payload: String,
    /// The collected data as JSON text (`calls.collected`), when the event carries it.
    pub collected: Option<String>,
}

impl EventFields {
    /// [`StoreError::Backend`] when the collected data does not serialise.
    pub fn of(event: &CallEventRecord) -> Result<Self, StoreError> {
        let collected = event
            .collected
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| StoreError::backend(format!("collected: {e}")))?;
        Ok(Self {
            status: event_status(event),
            payload: event.call.to_string(),
            collected,
        })
    }
}

/// The `calls.status` an event asks for. `call_ended` means `ended` unless Retell says the
/// call failed; its own `call_status` is not trusted beyond that because samples show stale
/// values such as `registered` (reference/retell.md §1.4). Unknown statuses map to
/// `registered`, the lowest rank, so they can never move a call backwards.
fn event_status(event: &CallEventRecord) -> &'static str {
    let retell = event.call_status.as_deref();
    match event.event {
        WebhookEvent::CallStarted => "ongoing",
        WebhookEvent::CallEnded => match retell {
            Some("error") => "error",
            Some("not_connected") => "not_connected",
            _ => "ended",
        },
        WebhookEvent::CallAnalyzed => "analyzed",
        WebhookEvent::Other(_) => match retell {
            Some("ongoing") => "ongoing",
            Some("ended") => "ended",
            Some("error") => "error",
            Some("not_connected") => "not_connected",
            _ => "registered",
        },
    }
}
