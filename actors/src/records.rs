//! Records exchanged with the [`Store`](crate::ports::Store): what gets persisted and what
//! comes back for the gateway.

use crate::domain::appointment::CollectedAppointment;
use crate::domain::booking::Attendee;
pub use crate::domain::ids::CallId;
use crate::domain::ids::{BookingUid, BranchId, CompanyId, EventTypeId};
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The live data of a call, persisted on every `collect_appointment_data` so nothing a caller
/// said is lost when the process dies.
///
/// Versioned: the first save of a call's data is version 1 and every later one adds 1
/// (`calls.context_version`). A save is a compare-and-set: record `version` n is stored only
/// over the stored version n − 1 (none stored counts as 0), so an instance whose copy is
/// older than the stored one cannot overwrite it (see [`CallStore::save_call_context`]).
///
/// [`CallStore::save_call_context`]: crate::ports::CallStore::save_call_context
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallContextRecord {
    /// Retell call id; one record per call.
    pub call_id: CallId,
    /// Company that owns the dialled number.
    pub company_id: CompanyId,
    /// Branch that owns the dialled number.
    pub branch_id: BranchId,
    /// E.164 or whatever Retell sent.
    pub from_number: Option<String>,
    /// The dialled number as Retell sent it (E.164 expected, not validated).
    pub to_number: Option<String>,
    /// Everything collected so far, merged across the call's function calls.
    pub collected: CollectedAppointment,
    /// When the data was last saved, UTC (stored as `calls.collected_at`).
    pub updated_at: DateTime<Utc>,
    /// Version of this data: 1 for the call's first save, +1 for each later one. Loaded: the
    /// stored version; to save: the stored version it replaces plus 1.
    pub version: u64,
}

/// What [`CallStore::save_call_context`](crate::ports::CallStore::save_call_context) did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContextSave {
    /// Stored as the record's version.
    Saved,
    /// Nothing written: the stored version is not the one the record replaces (another
    /// instance saved the call's data since it was read). Reload, re-apply, save again.
    Stale,
}

/// Retell webhook events we act on (reference/retell.md §1.1); others are recorded as `Other`.
///
/// Deserialised through [`WebhookEvent::parse`], so no serde path can carry an unbounded name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookEvent {
    /// `call_started`: the call connected. Not sent for calls that never connected.
    CallStarted,
    /// `call_ended`: the call ended, was transferred or failed; the booking job is decided here.
    CallEnded,
    /// `call_analyzed`: the post-call analysis (summary, sentiment) is in `call.call_analysis`.
    CallAnalyzed,
    /// Any other event: recorded and deduplicated, not acted on. Holds the name of an event
    /// Retell documents (one of [`RECORDED_EVENTS`], e.g. `transcript_updated`), else `other`.
    #[serde(untagged)]
    Other(String),
}

/// Retell events we record under their own name without acting on them (reference/retell.md
/// §1.1). [`WebhookEvent::parse`] turns every other name into `other`: the name is stored, and a
/// client must not be able to store an unbounded string (500 KB names were stored before), nor
/// to make `webhook.getWebhookStats` list names without end. A fixed set rather than "the
/// first 64 characters" because a truncated name is still the client's choice: each distinct
/// one would be its own stats row. The store's `webhook_events.event` holds at most 64
/// characters (migration 0004).
pub const RECORDED_EVENTS: [&str; 9] = [
    "transcript_updated",
    "transfer_started",
    "transfer_bridged",
    "transfer_cancelled",
    "transfer_ended",
    "call_inbound",
    "chat_started",
    "chat_ended",
    "chat_analyzed",
];

impl<'de> Deserialize<'de> for WebhookEvent {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Ok(Self::parse(&name))
    }
}

impl WebhookEvent {
    /// Parses the `event` field; a name outside the events we act on and
    /// [`RECORDED_EVENTS`] becomes `Other("other")`.
    pub fn parse(name: &str) -> Self {
        match name {
            "call_started" => Self::CallStarted,
            "call_ended" => Self::CallEnded,
            "call_analyzed" => Self::CallAnalyzed,
            other => Self::Other(
                RECORDED_EVENTS
                    .into_iter()
                    .find(|known| *known == other)
                    .unwrap_or("other")
                    .to_owned(),
            ),
        }
    }

    /// The `event` label of `mcp_webhook_total`: the wire name of an event we act on, else
    /// `other`. Labels come from this fixed set, never from the request, so a client cannot
    /// grow the metrics registry.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Self::CallStarted => "call_started",
            Self::CallEnded => "call_ended",
            Self::CallAnalyzed => "call_analyzed",
            Self::Other(_) => "other",
        }
    }

    /// The name stored in `webhook_events.event`: the wire name, or `other` for an event
    /// Retell does not document.
    pub fn as_str(&self) -> &str {
        match self {
            Self::CallStarted => "call_started",
            Self::CallEnded => "call_ended",
            Self::CallAnalyzed => "call_analyzed",
            Self::Other(s) => s,
        }
    }
}

/// A customer to find (by company + phone) or create when a call ends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewCustomer {
    /// Name as collected; fills a missing stored name, never replaces one.
    pub name: Option<String>,
    /// E.164.
    pub phone: String,
    /// Email as collected; fills a missing stored email, never replaces one.
    pub email: Option<String>,
}

/// A job to put in the durable outbox.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewJob {
    /// Queue name, e.g. `bookings`.
    pub queue: String,
    /// Job kind, e.g. `book`.
    pub kind: String,
    /// Company whose credentials the job uses.
    pub company_id: CompanyId,
    /// The call the job comes from; `None` for jobs no call started.
    pub call_id: Option<CallId>,
    /// Unique per company; a second insert with the same company and key is ignored.
    pub idempotency_key: String,
    /// Kind-specific JSON; for `book` a [`BookingJobPayload`].
    pub payload: serde_json::Value,
    /// Attempts before the job becomes a dead letter (`failed`); 0 is stored as 1.
    pub max_attempts: u32,
    /// Earliest time to run it, UTC (usually now).
    pub run_at: DateTime<Utc>,
}

/// One verified webhook, ready to be stored in one transaction.
#[derive(Clone, Debug, PartialEq)]
pub struct CallEventRecord {
    /// The webhook's `event`.
    pub event: WebhookEvent,
    /// `call.call_id`; with `event`, the dedupe key.
    pub call_id: CallId,
    /// Company resolved from the call's business number.
    pub company_id: CompanyId,
    /// Branch resolved from the call's business number.
    pub branch_id: BranchId,
    /// The whole Retell call object as received (reference/retell.md §1.3).
    pub call: serde_json::Value,
    /// `registered`, `ongoing`, `ended`, `error`, … (Retell `call_status`).
    pub call_status: Option<String>,
    /// `inbound` or `outbound` (Retell `direction`); `None` for web calls.
    pub direction: Option<String>,
    /// Retell `from_number` as sent (E.164 expected, not validated).
    pub from_number: Option<String>,
    /// Retell `to_number` as sent (E.164 expected, not validated).
    pub to_number: Option<String>,
    /// Start/end of the call, from Retell's ms timestamps.
    pub started_at: Option<DateTime<Utc>>,
    /// End of the call, UTC, from Retell's `end_timestamp`; `None` before it ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// Call length in milliseconds (Retell `duration_ms`); `None` before it ended.
    pub duration_ms: Option<i64>,
    /// Why the call ended, e.g. `user_hangup` (Retell's open enum, reference/retell.md §1.3).
    pub disconnection_reason: Option<String>,
    /// `call_analysis.call_summary` / `user_sentiment` (only `call_analyzed`).
    pub summary: Option<String>,
    /// `call_analysis.user_sentiment`: `Negative`, `Positive`, `Neutral` or `Unknown` (only
    /// `call_analyzed`).
    pub sentiment: Option<String>,
    /// The collected data at the time of the event (call_ended), for the record.
    pub collected: Option<CollectedAppointment>,
    /// Customer to find or create (only `call_ended`, when a phone number was collected).
    pub customer: Option<NewCustomer>,
    /// The `book` job to enqueue in the same transaction (only `call_ended` with complete,
    /// confirmed data).
    pub booking_job: Option<NewJob>,
    /// When we received the webhook, UTC; the time stamp of every row it writes.
    pub received_at: DateTime<Utc>,
}

/// Most bytes of one event's stored details (their compact JSON); larger details are stored
/// as `{"omitted": "details larger than 32768 bytes", "bytes": n}`.
pub const MAX_EVENT_DETAILS_BYTES: usize = 32 * 1024;

/// What one Retell event adds to its call beyond the `calls` columns: the transfer fields of a
/// `transfer_*` event, the whole `call_analysis` of `call_analyzed` (reference/retell.md
/// §1.1–1.5). Stored once per (company, event, call), shown by `webhook.getCall`.
#[derive(Clone, Debug, PartialEq)]
pub struct CallDetailRecord {
    /// The company that recorded the call.
    pub company_id: CompanyId,
    /// Retell call id.
    pub call_id: CallId,
    /// The event it came with.
    pub event: WebhookEvent,
    /// When we received the event, UTC.
    pub received_at: DateTime<Utc>,
    /// A JSON object of at most [`MAX_EVENT_DETAILS_BYTES`] (see [`CallDetailRecord::bounded`]).
    pub details: serde_json::Value,
}

impl CallDetailRecord {
    /// `details` as stored: itself when its compact JSON fits in [`MAX_EVENT_DETAILS_BYTES`],
    /// else a note of its size, so a client cannot make one row hold more.
    pub fn bounded(details: serde_json::Value) -> serde_json::Value {
        let bytes = details.to_string().len();
        if bytes <= MAX_EVENT_DETAILS_BYTES {
            return details;
        }
        serde_json::json!({
            "omitted": format!("details larger than {MAX_EVENT_DETAILS_BYTES} bytes"),
            "bytes": bytes,
        })
    }
}

/// One stored event of a call, as `webhook.getCall` shows it.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct CallEventView {
    /// `transfer_started`, `transfer_bridged`, `transfer_cancelled`, `transfer_ended` or
    /// `call_analyzed`.
    pub event: String,
    /// When we received it, UTC.
    pub received_at: DateTime<Utc>,
    /// `transfer_destination` / `transfer_option` (the event's top-level fields),
    /// `call_transfer_destination`, `transfer_end_timestamp` (ms) and `disconnection_reason`
    /// of a transfer event; `call_analysis` (with `custom_analysis_data`) of `call_analyzed`.
    pub details: serde_json::Value,
}

/// Result of [`CallStore::record_call_event`](crate::ports::CallStore::record_call_event).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventOutcome {
    /// First time this (company, event, call_id) was seen; `job_id` when a booking job was
    /// enqueued.
    Recorded {
        /// Id of the booking job in `jobs`: the new row, or the one that already held its
        /// idempotency key; `None` when the event asked for no job.
        job_id: Option<i64>,
    },
    /// Seen before; nothing changed.
    Duplicate,
}

/// Status of an outbox job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting for `next_run_at`: new, or scheduled for a retry.
    Pending,
    /// Claimed by a worker until `locked_until`; after that another worker may take it.
    Running,
    /// Finished; for a `book` job the appointment is stored.
    Done,
    /// Dead letter: gave up after `max_attempts` or a permanent error.
    Failed,
}

impl JobStatus {
    /// The stored string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    /// Parses the stored string.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "running" => Self::Running,
            "done" => Self::Done,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

/// A claimed outbox job.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    /// Row id in `jobs`.
    pub id: i64,
    /// Queue name, e.g. `bookings`.
    pub queue: String,
    /// Job kind, e.g. `book`; an unknown kind is dead-lettered.
    pub kind: String,
    /// Company the job belongs to.
    pub company_id: CompanyId,
    /// The call the job comes from, if any.
    pub call_id: Option<CallId>,
    /// Unique key of the job within its company, e.g. `retell:<company>:<call_id>:book`; a
    /// `book` job's booking carries it in its Cal.com metadata.
    pub idempotency_key: String,
    /// Kind-specific JSON; for `book` a [`BookingJobPayload`].
    pub payload: serde_json::Value,
    /// Attempts including the one just claimed.
    pub attempts: u32,
    /// Attempts allowed; a transient failure on the last one makes the job a dead letter.
    pub max_attempts: u32,
    /// When the job was enqueued, UTC.
    pub created_at: DateTime<Utc>,
    /// W3C `traceparent` of the span that enqueued the job, when traces were exported then
    /// ([`crate::trace::trace_parent`]); the job's span links to it.
    pub trace_parent: Option<String>,
}

/// A failed attempt of a job.
#[derive(Clone, Debug, PartialEq)]
pub struct JobFailure {
    /// The attempt's error, stored as `last_error`.
    pub error: String,
    /// Next attempt; `None` makes the job a dead letter (`failed`).
    pub retry_at: Option<DateTime<Utc>>,
}

/// Payload of a `book` job: everything needed to create the Cal.com booking, frozen at
/// `call_ended` so later edits of services do not change a confirmed booking.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BookingJobPayload {
    /// Company whose Cal.com key books it.
    pub company_id: CompanyId,
    /// Branch that was called.
    pub branch_id: BranchId,
    /// Retell call that collected the data; sent to Cal.com as metadata `retell_call_id`.
    pub call_id: Option<CallId>,
    /// Our `services.id`.
    pub service_id: i64,
    /// Service name at `call_ended`; stored on the appointment.
    pub service_name: String,
    /// Cal.com event type to book.
    pub event_type_id: EventTypeId,
    /// Minutes.
    pub duration_min: u32,
    /// Start in UTC (converted from the caller's local date and time).
    pub start: DateTime<Utc>,
    /// The caller, with the company's time zone and language.
    pub attendee: Attendee,
    /// What the caller asked to note (`notizen`); kept in the job, not sent to Cal.com.
    pub notes: Option<String>,
    /// `retell:<company>:<call_id>:book`: the job's key, and the booking's metadata value under
    /// [`IDEMPOTENCY_METADATA_KEY`](crate::domain::booking::IDEMPOTENCY_METADATA_KEY) so a retry
    /// finds its own booking.
    pub idempotency_key: String,
    /// The call's hold of the slot (`reservationUid`), booked against as `reservedSlotUid`
    /// (reference/calcom.md §2 "Slot holds"); `None` when the call held none (and in jobs
    /// enqueued before holds existed).
    #[serde(default)]
    pub reserved_slot_uid: Option<String>,
}

/// An appointment to store after Cal.com accepted the booking.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewAppointment {
    /// Company the booking belongs to.
    pub company_id: CompanyId,
    /// Branch that was called; `None` for gateway bookings.
    pub branch_id: Option<BranchId>,
    /// The call that asked for it, which gets linked to the appointment; `None` for gateway
    /// bookings.
    pub call_id: Option<CallId>,
    /// Cal.com booking uid.
    pub booking_uid: BookingUid,
    /// Cal.com's numeric booking id.
    pub calcom_booking_id: i64,
    /// Cal.com event type booked.
    pub event_type_id: EventTypeId,
    /// Our service, when the event type is mapped to one.
    pub service_id: Option<i64>,
    /// Service name; the Cal.com booking title when no service is mapped.
    pub service_name: String,
    /// Start as Cal.com booked it, UTC.
    pub start: DateTime<Utc>,
    /// End as Cal.com booked it, UTC.
    pub end: DateTime<Utc>,
    /// Attendee's name as sent to Cal.com.
    pub attendee_name: String,
    /// E.164; finds or creates the customer.
    pub attendee_phone: Option<String>,
    /// Attendee's email, if given.
    pub attendee_email: Option<String>,
    /// Unique per company: a second insert with the same company and key returns the first
    /// row.
    pub idempotency_key: String,
    /// `phone` (from a call) or `gateway`.
    pub source: String,
}

/// Booking job state as shown by `webhook.getCall`.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct JobView {
    /// Row id in `jobs`.
    pub id: i64,
    /// `pending`, `running`, `done` or `failed`.
    pub status: JobStatus,
    /// Attempts started so far.
    pub attempts: u32,
    /// Attempts allowed before the job becomes `failed`.
    pub max_attempts: u32,
    /// When the job is (or was last) due, UTC.
    pub next_run_at: DateTime<Utc>,
    /// Error of the last failed attempt; cleared when the job is done.
    pub last_error: Option<String>,
}

/// Appointment as shown by `webhook.getCall`.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct AppointmentView {
    /// Row id in `appointments`.
    pub id: i64,
    /// Cal.com booking uid.
    pub booking_uid: String,
    /// Service booked.
    pub service_name: String,
    /// Start, UTC.
    pub start: DateTime<Utc>,
    /// End, UTC.
    pub end: DateTime<Utc>,
    /// `scheduled`, `rescheduled` or `cancelled`.
    pub status: String,
}

/// The local record of a call (`webhook.getCall`).
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct CallView {
    /// Retell call id.
    pub call_id: String,
    /// Company the call belongs to.
    pub company_id: CompanyId,
    /// Branch that was called.
    pub branch_id: Option<BranchId>,
    /// `ongoing`, `ended`, `analyzed`, or Retell's status.
    pub status: String,
    /// Retell `from_number` (the caller on inbound calls), E.164 expected.
    pub from_number: Option<String>,
    /// Retell `to_number` (the dialled business on inbound calls), E.164 expected.
    pub to_number: Option<String>,
    /// `inbound` or `outbound`.
    pub direction: Option<String>,
    /// Start of the call, UTC.
    pub started_at: Option<DateTime<Utc>>,
    /// End of the call, UTC.
    pub ended_at: Option<DateTime<Utc>>,
    /// Call length in milliseconds.
    pub duration_ms: Option<i64>,
    /// Why the call ended, e.g. `user_hangup` (Retell).
    pub disconnection_reason: Option<String>,
    /// Retell's call summary (after `call_analyzed`).
    pub summary: Option<String>,
    /// Retell's `user_sentiment` (after `call_analyzed`).
    pub sentiment: Option<String>,
    /// Appointment data collected during the call; `None` when no function stored any.
    pub collected: Option<CollectedAppointment>,
    /// The latest booking job of the call; `None` when none was enqueued.
    pub booking_job: Option<JobView>,
    /// The appointment booked for the call; `None` until the booking is stored.
    pub appointment: Option<AppointmentView>,
    /// What transfer events and the post-call analysis added, in the order received.
    pub events: Vec<CallEventView>,
    /// What was said, as Retell's `transcript` of the last call object received (lines
    /// `Agent: …` / `User: …`, reference/retell.md §1.3), cut to its first
    /// [`MAX_TRANSCRIPT_BYTES`]; only `webhook.getCall` reads it (absent from lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcript: Option<String>,
}

/// Most bytes of a call's transcript `webhook.getCall` returns (a ten-minute call is ~10 KiB).
pub const MAX_TRANSCRIPT_BYTES: usize = 32 * 1024;

/// Webhook and booking counters (`webhook.getWebhookStats`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, JsonSchema)]
pub struct WebhookStats {
    /// Distinct webhooks received, by event name.
    pub events: BTreeMap<String, i64>,
    /// Repeated deliveries of a (company, event, call_id) already seen.
    pub duplicates: i64,
    /// Calls recorded, in any status.
    pub calls: i64,
    /// Booking jobs by status.
    pub jobs: BTreeMap<String, i64>,
    /// Appointments stored, from calls and from the gateway.
    pub appointments: i64,
}

/// Outbox jobs of one queue by status (part of [`QueueSummary`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct JobCounts {
    /// Waiting for their `next_run_at` or for a worker.
    pub pending: u64,
    /// Claimed by a worker (lease live or expired).
    pub running: u64,
    /// Finished successfully.
    pub done: u64,
    /// Dead letters.
    pub failed: u64,
}

/// The state of one outbox queue at [`QueueOverview::as_of`].
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct QueueSummary {
    /// Queue name, e.g. `bookings`.
    pub queue: String,
    /// Jobs by status.
    pub counts: JobCounts,
    /// Pending jobs whose `next_run_at` has come: they wait only for a worker.
    pub due: u64,
    /// Age in whole seconds (`as_of − created_at`) of the oldest pending job that is due;
    /// `None` when no pending job is due. A growing value means the workers fall behind.
    pub oldest_due_age_s: Option<u64>,
    /// Running jobs whose lease (`locked_until`) has passed: their worker died or hangs;
    /// the next claim takes them again.
    pub expired_leases: u64,
    /// Earliest `next_run_at` (UTC) of the pending jobs that are not due yet (retries waiting
    /// for their backoff); `None` when there are none.
    pub next_due_at: Option<DateTime<Utc>>,
}

/// Outbox state per queue (`queue.getOverview`). Queues without jobs (of the company asked
/// for) are absent.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct QueueOverview {
    /// The instant (UTC) "due", "expired" and ages were measured against.
    pub as_of: DateTime<Utc>,
    /// One entry per queue, ordered by queue name.
    pub queues: Vec<QueueSummary>,
}

/// What a job is about, read from its payload for operators. Holds no credentials and no
/// contact data (phone, e-mail) of the attendee; a field is `None` when the payload does not
/// carry it (another job kind, or an unreadable payload — often why the job failed).
#[derive(Clone, Debug, Default, PartialEq, Serialize, JsonSchema)]
pub struct JobSummary {
    /// `service_name` of a booking payload.
    pub service_name: Option<String>,
    /// `start` (UTC) of a booking payload.
    pub start: Option<DateTime<Utc>>,
    /// `attendee.name` of a booking payload.
    pub attendee_name: Option<String>,
}

/// A dead letter: an outbox job with status `failed` (`queue.getFailedJobs`).
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct FailedJob {
    /// Job id; also the paging cursor (`before_id`).
    pub id: i64,
    /// Queue name, e.g. `bookings`.
    pub queue: String,
    /// Job kind, e.g. `book`.
    pub kind: String,
    /// The company the job works for.
    pub company_id: CompanyId,
    /// Retell call id the job came from, as stored (shown even when it is malformed, which
    /// may be why the job failed).
    pub call_id: Option<String>,
    /// Attempts made since the job was created or last retried by an operator.
    pub attempts: u32,
    /// Attempts allowed before the job becomes a dead letter.
    pub max_attempts: u32,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When the job was enqueued (UTC).
    pub created_at: DateTime<Utc>,
    /// When the job last changed (UTC): for a dead letter, when it failed for good.
    pub updated_at: DateTime<Utc>,
    /// What the job is about.
    pub summary: JobSummary,
}

/// An outbox job in any status (`queue.getRecentJobs`).
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct RecentJob {
    /// Job id.
    pub id: i64,
    /// Queue name, e.g. `bookings`.
    pub queue: String,
    /// Job kind, e.g. `book`.
    pub kind: String,
    /// The company the job works for.
    pub company_id: CompanyId,
    /// Retell call id the job came from, as stored.
    pub call_id: Option<String>,
    /// Current status.
    pub status: JobStatus,
    /// Attempts made since the job was created or last retried by an operator.
    pub attempts: u32,
    /// Attempts allowed before the job becomes a dead letter.
    pub max_attempts: u32,
    /// When a pending job is due (UTC); for other statuses, when it was last due.
    pub next_run_at: DateTime<Utc>,
    /// End of the worker's lease (UTC) while `running`; `None` otherwise.
    pub locked_until: Option<DateTime<Utc>>,
    /// Why the last attempt failed; a retried job keeps it until its next attempt.
    pub last_error: Option<String>,
    /// When the job was enqueued (UTC).
    pub created_at: DateTime<Utc>,
    /// When the job last changed (UTC).
    pub updated_at: DateTime<Utc>,
    /// What the job is about.
    pub summary: JobSummary,
}

impl From<RecentJob> for FailedJob {
    /// The dead-letter view of a listed job whose status is `failed`: the same job without
    /// the status and the scheduling fields, which say nothing about a dead letter.
    fn from(job: RecentJob) -> Self {
        Self {
            id: job.id,
            queue: job.queue,
            kind: job.kind,
            company_id: job.company_id,
            call_id: job.call_id,
            attempts: job.attempts,
            max_attempts: job.max_attempts,
            last_error: job.last_error,
            created_at: job.created_at,
            updated_at: job.updated_at,
            summary: job.summary,
        }
    }
}

/// Result of [`QueueAdminStore::retry_job`](crate::ports::QueueAdminStore::retry_job).
#[derive(Clone, Debug, PartialEq)]
pub enum RetryOutcome {
    /// The dead letter is `pending` again, due at once, with `attempts = 0`. Its
    /// `last_error` is the error that made it a dead letter, kept until the next attempt.
    Requeued(JobView),
    /// No job with this id — or it belongs to another company than the one asked for,
    /// which is reported the same way so other tenants' jobs stay invisible.
    NotFound,
    /// The job exists but is not a dead letter; carries its current status.
    NotFailed(JobStatus),
}

/// What an API token may touch (`api_tokens` row). Tokens are stored as SHA-256 hex hashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenGrant {
    /// `api_tokens.id`; `None` for grants made in code (tests, tools).
    pub token_id: Option<i64>,
    /// `None` for a token of every company (with [`TokenScope::Admin`]: an admin token);
    /// else the one company it belongs to.
    pub company_id: Option<CompanyId>,
    /// Name given when the token was created, e.g. `sandbox admin`; safe to log.
    pub label: String,
    /// What it may do.
    pub scope: TokenScope,
}

impl TokenGrant {
    /// A grant of every company with the admin scope (what the sandbox admin token gets).
    pub fn admin(label: impl Into<String>) -> Self {
        Self {
            token_id: None,
            company_id: None,
            label: label.into(),
            scope: TokenScope::Admin,
        }
    }

    /// A grant of one company with `scope`.
    pub fn company(company: CompanyId, scope: TokenScope, label: impl Into<String>) -> Self {
        Self {
            token_id: None,
            company_id: Some(company),
            label: label.into(),
            scope,
        }
    }

    /// Who, for the audit log: `token:<id> (<label>)`, or `token (<label>)` without an id.
    pub fn actor(&self) -> String {
        match self.token_id {
            Some(id) => format!("token:{id} ({})", self.label),
            None => format!("token ({})", self.label),
        }
    }
}

/// What a gateway token may do, each including the one before: `read` (methods that change
/// nothing), `write` (also book, move, cancel, retry jobs), `admin` (also administer the
/// tenant: settings, credentials, tokens). An `admin` token of no company is the operators'
/// admin token: every company, and the methods of no single tenant.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum TokenScope {
    /// Read-only.
    Read,
    /// Read and change bookings and jobs.
    Write,
    /// Everything of its company (or of all companies).
    Admin,
}

impl TokenScope {
    /// `read`, `write` or `admin`, as stored in `api_tokens.scope`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Admin => "admin",
        }
    }

    /// The scope stored as `s`; `None` for anything else (`metrics` included: metrics
    /// tokens never reach the gateway).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "read" => Some(Self::Read),
            "write" => Some(Self::Write),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

/// The kind of a token to create: a gateway scope, or `metrics` (only `GET /api/metrics` and
/// the detailed health; belongs to no company).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// Read-only gateway token.
    Read,
    /// Gateway token that may also book and retry.
    Write,
    /// Gateway token that may also administer.
    Admin,
    /// Prometheus' token.
    Metrics,
}

impl TokenKind {
    /// As stored in `api_tokens.scope`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Admin => "admin",
            Self::Metrics => "metrics",
        }
    }
}

/// A token to create ([`TokenAdminStore::create_token`](crate::ports::TokenAdminStore::create_token)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewToken {
    /// Its company; `None`: every company (never for `metrics`... which has none either).
    pub company_id: Option<CompanyId>,
    /// What it may do.
    pub kind: TokenKind,
    /// What it is for, 1–100 characters, shown to operators and in the audit log.
    pub name: String,
    /// When it stops working (UTC); `None`: never.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A token as listed (`switchboard token list`, `auth.listTokens`): never the token itself
/// nor its digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct TokenInfo {
    /// `api_tokens.id`, for `token revoke`.
    pub id: i64,
    /// Its company; `None`: every company.
    pub company_id: Option<CompanyId>,
    /// `read`, `write`, `admin` or `metrics`.
    pub scope: String,
    /// What it is for.
    pub name: String,
    /// When it was created (UTC).
    pub created_at: DateTime<Utc>,
    /// When it stops working (UTC); `None`: never.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked (UTC); `None`: not revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Outbox jobs that finished in one UTC minute (part of [`QueueMetricsRows`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct MinuteCounts {
    /// Start of the minute (UTC, seconds zero).
    pub minute: DateTime<Utc>,
    /// Jobs that became `done` in this minute (`updated_at`).
    pub processed: u64,
    /// Jobs that became dead letters (`failed`) in this minute (`updated_at`).
    pub failed: u64,
}

/// Upper bounds (ms, inclusive) of the job-latency histogram buckets of
/// [`QueueMetricsRows::latency_buckets`]; one more bucket counts everything slower.
pub const JOB_LATENCY_BUCKETS_MS: [u64; 14] = [
    10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000, 3_600_000,
];

/// What the store aggregates for `queue.getMetrics`: per-minute counts and a fixed-bucket
/// histogram of job latency, so the result stays small whatever the job volume.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueMetricsRows {
    /// Minutes that had at least one finished job, oldest first; empty minutes are absent.
    pub minutes: Vec<MinuteCounts>,
    /// Latency (`updated_at − created_at`) of the jobs that became `done` in the window,
    /// counted per bucket: `latency_buckets[i]` counts jobs with latency ≤
    /// [`JOB_LATENCY_BUCKETS_MS`]`[i]` and above the previous bound; the last element (index
    /// 14) counts the slower ones. Always 15 elements.
    pub latency_buckets: Vec<u64>,
}

/// One outbox worker's liveness, written by the worker every
/// [`HEARTBEAT_INTERVAL`](crate::outbox::HEARTBEAT_INTERVAL) (`outbox_workers`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerHeartbeat {
    /// The instance id of the process (also the booking-lock holder name); the row key.
    pub worker_id: String,
    /// Host name of the machine, for operators; free text.
    pub host: String,
    /// OS process id.
    pub pid: u32,
    /// When the worker started (UTC).
    pub started_at: DateTime<Utc>,
    /// This heartbeat (UTC).
    pub at: DateTime<Utc>,
}

/// A worker as `queue.getWorkers` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct WorkerView {
    /// The instance id of the process.
    pub worker_id: String,
    /// Host name of the machine.
    pub host: String,
    /// OS process id.
    pub pid: u32,
    /// When the worker started (UTC).
    pub started_at: DateTime<Utc>,
    /// Its last heartbeat (UTC).
    pub last_heartbeat_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_event_names_are_stored_as_other() {
        let long = "x".repeat(500_000);
        for name in [long.as_str(), "", "Call_Ended", "transcript_updated2"] {
            assert_eq!(WebhookEvent::parse(name).as_str(), "other", "{:.20}", name);
        }
    }

    #[test]
    fn deserialised_event_names_go_through_parse() {
        let long = serde_json::Value::String("y".repeat(100_000));
        let event: WebhookEvent = serde_json::from_value(long).unwrap();
        assert_eq!(event.as_str(), "other");
        let event: WebhookEvent = serde_json::from_str("\"call_ended\"").unwrap();
        assert_eq!(event, WebhookEvent::CallEnded);
    }

    #[test]
    fn documented_events_keep_their_name() {
        for name in RECORDED_EVENTS {
            assert_eq!(WebhookEvent::parse(name).as_str(), name);
        }
        assert_eq!(WebhookEvent::parse("call_ended"), WebhookEvent::CallEnded);
    }
}

/// Status of a stored appointment (`appointments.status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AppointmentStatus {
    /// Booked and standing.
    Scheduled,
    /// Moved: Cal.com cancelled this booking and made a new one (`rescheduled_to_uid`).
    Rescheduled,
    /// Cancelled by the caller, by staff or in Cal.com.
    Cancelled,
}

impl AppointmentStatus {
    /// The stored string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Rescheduled => "rescheduled",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses the stored string.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "scheduled" => Self::Scheduled,
            "rescheduled" => Self::Rescheduled,
            "cancelled" => Self::Cancelled,
            _ => return None,
        })
    }
}

/// A stored appointment (`appointments` row), as find / change / cancel read it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AppointmentRecord {
    /// Row id in `appointments`.
    pub id: i64,
    /// Company the booking belongs to.
    pub company_id: CompanyId,
    /// Branch that was called; `None` for gateway bookings and bookings made in Cal.com.
    pub branch_id: Option<BranchId>,
    /// Retell call that booked it, if any.
    pub call_id: Option<CallId>,
    /// Cal.com booking uid.
    pub booking_uid: BookingUid,
    /// Cal.com's numeric booking id.
    pub calcom_booking_id: i64,
    /// Cal.com event type booked.
    pub event_type_id: EventTypeId,
    /// Our service, when the event type is mapped to one.
    pub service_id: Option<i64>,
    /// Service name as booked.
    pub service_name: String,
    /// Start, UTC.
    pub start: DateTime<Utc>,
    /// End, UTC.
    pub end: DateTime<Utc>,
    /// Attendee's name.
    pub attendee_name: String,
    /// Attendee's phone, E.164; what callers are matched by.
    pub attendee_phone: Option<String>,
    /// Attendee's email, if given.
    pub attendee_email: Option<String>,
    /// `scheduled`, `rescheduled` or `cancelled`.
    pub status: AppointmentStatus,
    /// `phone`, `gateway` or `calcom` (made in Cal.com, learned from its webhook).
    pub source: String,
    /// The booking that replaced this one, when `rescheduled`.
    pub rescheduled_to_uid: Option<BookingUid>,
    /// Why it was cancelled, when `cancelled` and a reason was given.
    pub cancellation_reason: Option<String>,
    /// Last change, UTC.
    pub updated_at: DateTime<Utc>,
}

/// Cal.com webhook triggers we act on (reference/calcom.md §6); every other trigger is
/// answered 200 and not recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CalcomTrigger {
    /// `BOOKING_CREATED`: a booking made anywhere (ours, the booking page, staff).
    BookingCreated,
    /// `BOOKING_RESCHEDULED`: `payload.uid` is the new booking, `payload.rescheduleUid` the old.
    BookingRescheduled,
    /// `BOOKING_CANCELLED`.
    BookingCancelled,
}

impl CalcomTrigger {
    /// Parses `triggerEvent`; `None` for triggers we ignore.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "BOOKING_CREATED" => Self::BookingCreated,
            "BOOKING_RESCHEDULED" => Self::BookingRescheduled,
            "BOOKING_CANCELLED" => Self::BookingCancelled,
            _ => return None,
        })
    }

    /// The wire name, also the `event` label of metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BookingCreated => "BOOKING_CREATED",
            Self::BookingRescheduled => "BOOKING_RESCHEDULED",
            Self::BookingCancelled => "BOOKING_CANCELLED",
        }
    }
}

/// One verified Cal.com webhook, ready to be stored and applied in one transaction
/// ([`AppointmentStore::record_calcom_event`](crate::ports::AppointmentStore::record_calcom_event)).
///
/// Applying it: `BookingCreated` inserts `appointment` unless its booking uid is already
/// stored (our own bookings come back this way); `BookingRescheduled` marks `from_uid`
/// `rescheduled` → `booking_uid` and inserts `appointment`; `BookingCancelled` marks
/// `booking_uid` `cancelled` with `cancellation_reason`. Rows of other companies are never
/// touched; a uid stored for another company is ignored (reported as not changed).
#[derive(Clone, Debug, PartialEq)]
pub struct CalcomEventRecord {
    /// Company whose webhook URL (slug) and secret the request came with.
    pub company_id: CompanyId,
    /// What happened.
    pub trigger: CalcomTrigger,
    /// Dedupe key: the SHA-256 hex of the raw body (Cal.com sends the same body again on
    /// retries); unique per company.
    pub dedupe_key: String,
    /// The booking the event is about (`payload.uid`; for a reschedule the new booking).
    pub booking_uid: BookingUid,
    /// For `BookingRescheduled`: the booking that was moved (`payload.rescheduleUid`).
    pub from_uid: Option<BookingUid>,
    /// For `BookingCreated` / `BookingRescheduled`: the booking as an appointment (source
    /// `calcom`, idempotency key `calcom:<uid>`), service mapped by event type when known.
    pub appointment: Option<NewAppointment>,
    /// For `BookingCancelled`: `payload.cancellationReason`, at most 500 characters.
    pub cancellation_reason: Option<String>,
    /// When we received it, UTC.
    pub received_at: DateTime<Utc>,
}

/// Result of [`AppointmentStore::record_calcom_event`](crate::ports::AppointmentStore::record_calcom_event).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CalcomEventOutcome {
    /// First time this body was seen; `changed`: whether an appointment row was inserted or
    /// updated.
    Applied {
        /// Whether an appointment row changed.
        changed: bool,
    },
    /// Seen before; nothing changed.
    Duplicate,
}

/// Payload of a `reschedule` job: a move promised to a caller (or asked by staff) that could
/// not be confirmed at once. Runs through the company's tenant session; idempotent: a booking
/// already moved to `start` counts as done.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RescheduleJobPayload {
    /// Company whose Cal.com key moves it.
    pub company_id: CompanyId,
    /// The booking to move.
    pub booking_uid: BookingUid,
    /// New start, UTC.
    pub start: DateTime<Utc>,
    /// Why, sent as `reschedulingReason`.
    pub reason: Option<String>,
    /// SMS to send when it is done (to a mobile number of a tenant with a notifier).
    pub confirmation: Option<crate::ports::SmsMessage>,
}

/// Payload of a `cancel` job (see [`RescheduleJobPayload`]); an already cancelled booking
/// counts as done.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CancelJobPayload {
    /// Company whose Cal.com key cancels it.
    pub company_id: CompanyId,
    /// The booking to cancel.
    pub booking_uid: BookingUid,
    /// Why, sent as `cancellationReason`.
    pub reason: Option<String>,
    /// SMS to send when it is done.
    pub confirmation: Option<crate::ports::SmsMessage>,
}

/// Payload of an `sms` job: one text message of a company to a caller.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SmsJobPayload {
    /// Company whose SMS settings send it.
    pub company_id: CompanyId,
    /// The message.
    pub message: crate::ports::SmsMessage,
}

/// A dashboard session to store ([`AdminSessionStore::create_admin_session`](crate::ports::AdminSessionStore::create_admin_session)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAdminSession {
    /// Lower-case hex SHA-256 of the session id the `sb_admin` cookie carries (64 digits).
    pub session_sha256: String,
    /// `api_tokens.id` of the token signed in with.
    pub token_id: i64,
    /// The token's company; `None` for the operators' admin token.
    pub company_id: Option<CompanyId>,
    /// The session's CSRF synchronizer token, 64 hex digits.
    pub csrf: String,
    /// When it was signed in, UTC; also its first `last_seen_at`.
    pub created_at: DateTime<Utc>,
    /// When it ends unless used again, UTC.
    pub expires_at: DateTime<Utc>,
}

/// A live dashboard session and the grant of the token behind it
/// ([`AdminSessionStore::admin_session`](crate::ports::AdminSessionStore::admin_session)).
#[derive(Clone, Debug, PartialEq)]
pub struct AdminSession {
    /// What the token signed in with may do now (re-read on every request).
    pub grant: TokenGrant,
    /// The session's CSRF synchronizer token, 64 hex digits.
    pub csrf: String,
    /// When it ends unless used again, UTC (already moved on by this lookup).
    pub expires_at: DateTime<Utc>,
}
