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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallContextRecord {
    pub call_id: CallId,
    pub company_id: CompanyId,
    pub branch_id: BranchId,
    /// E.164 or whatever Retell sent.
    pub from_number: Option<String>,
    pub to_number: Option<String>,
    pub collected: CollectedAppointment,
    pub updated_at: DateTime<Utc>,
}

/// Retell webhook events we act on (reference/retell.md §1.1); others are recorded as `Other`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookEvent {
    CallStarted,
    CallEnded,
    CallAnalyzed,
    #[serde(untagged)]
    Other(String),
}

impl WebhookEvent {
    /// Parses the `event` field.
    pub fn parse(name: &str) -> Self {
        match name {
            "call_started" => Self::CallStarted,
            "call_ended" => Self::CallEnded,
            "call_analyzed" => Self::CallAnalyzed,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The wire name.
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
    pub name: Option<String>,
    /// E.164.
    pub phone: String,
    pub email: Option<String>,
}

/// A job to put in the durable outbox.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewJob {
    /// Queue name, e.g. `bookings`.
    pub queue: String,
    /// Job kind, e.g. `book`.
    pub kind: String,
    pub company_id: CompanyId,
    pub call_id: Option<CallId>,
    /// Unique across all jobs; a second insert with the same key is ignored.
    pub idempotency_key: String,
    pub payload: serde_json::Value,
    pub max_attempts: u32,
    pub run_at: DateTime<Utc>,
}

/// One verified webhook, ready to be stored in one transaction.
#[derive(Clone, Debug, PartialEq)]
pub struct CallEventRecord {
    pub event: WebhookEvent,
    pub call_id: CallId,
    pub company_id: CompanyId,
    pub branch_id: BranchId,
    /// The whole Retell call object as received (reference/retell.md §1.3).
    pub call: serde_json::Value,
    /// `registered`, `ongoing`, `ended`, `error`, … (Retell `call_status`).
    pub call_status: Option<String>,
    pub direction: Option<String>,
    pub from_number: Option<String>,
    pub to_number: Option<String>,
    /// Start/end of the call, from Retell's ms timestamps.
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub disconnection_reason: Option<String>,
    /// `call_analysis.call_summary` / `user_sentiment` (only `call_analyzed`).
    pub summary: Option<String>,
    pub sentiment: Option<String>,
    /// The collected data at the time of the event (call_ended), for the record.
    pub collected: Option<CollectedAppointment>,
    pub customer: Option<NewCustomer>,
    pub booking_job: Option<NewJob>,
    pub received_at: DateTime<Utc>,
}

/// Result of [`Store::record_call_event`](crate::ports::Store::record_call_event).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventOutcome {
    /// First time this (event, call_id) was seen; `job_id` when a booking job was enqueued.
    Recorded { job_id: Option<i64> },
    /// Seen before; nothing changed.
    Duplicate,
}

/// Status of an outbox job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Pending,
    Running,
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
    pub id: i64,
    pub queue: String,
    pub kind: String,
    pub company_id: CompanyId,
    pub call_id: Option<CallId>,
    pub idempotency_key: String,
    pub payload: serde_json::Value,
    /// Attempts including the one just claimed.
    pub attempts: u32,
    pub max_attempts: u32,
    pub created_at: DateTime<Utc>,
}

/// A failed attempt of a job.
#[derive(Clone, Debug, PartialEq)]
pub struct JobFailure {
    pub error: String,
    /// Next attempt; `None` makes the job a dead letter (`failed`).
    pub retry_at: Option<DateTime<Utc>>,
}

/// Payload of a `book` job: everything needed to create the Cal.com booking, frozen at
/// `call_ended` so later edits of services do not change a confirmed booking.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BookingJobPayload {
    pub company_id: CompanyId,
    pub branch_id: BranchId,
    pub call_id: Option<CallId>,
    pub service_id: i64,
    pub service_name: String,
    pub event_type_id: EventTypeId,
    /// Minutes.
    pub duration_min: u32,
    /// Start in UTC (converted from the caller's local date and time).
    pub start: DateTime<Utc>,
    pub attendee: Attendee,
    pub notes: Option<String>,
    pub idempotency_key: String,
}

/// An appointment to store after Cal.com accepted the booking.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewAppointment {
    pub company_id: CompanyId,
    pub branch_id: Option<BranchId>,
    pub call_id: Option<CallId>,
    pub booking_uid: BookingUid,
    pub calcom_booking_id: i64,
    pub event_type_id: EventTypeId,
    pub service_id: Option<i64>,
    pub service_name: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub attendee_name: String,
    /// E.164; finds or creates the customer.
    pub attendee_phone: Option<String>,
    pub attendee_email: Option<String>,
    /// Unique: a second insert with the same key returns the first row.
    pub idempotency_key: String,
    /// `phone` (from a call) or `gateway`.
    pub source: String,
}

/// Booking job state as shown by `webhook.getCall`.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct JobView {
    pub id: i64,
    pub status: JobStatus,
    pub attempts: u32,
    pub max_attempts: u32,
    pub next_run_at: DateTime<Utc>,
    pub last_error: Option<String>,
}

/// Appointment as shown by `webhook.getCall`.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct AppointmentView {
    pub id: i64,
    pub booking_uid: String,
    pub service_name: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// `scheduled`, `rescheduled` or `cancelled`.
    pub status: String,
}

/// The local record of a call (`webhook.getCall`).
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct CallView {
    pub call_id: String,
    pub company_id: CompanyId,
    pub branch_id: Option<BranchId>,
    /// `ongoing`, `ended`, `analyzed`, or Retell's status.
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
    pub collected: Option<CollectedAppointment>,
    pub booking_job: Option<JobView>,
    pub appointment: Option<AppointmentView>,
}

/// Webhook and booking counters (`webhook.getWebhookStats`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, JsonSchema)]
pub struct WebhookStats {
    /// Distinct webhooks received, by event name.
    pub events: BTreeMap<String, i64>,
    /// Repeated deliveries of an (event, call_id) already seen.
    pub duplicates: i64,
    pub calls: i64,
    /// Booking jobs by status.
    pub jobs: BTreeMap<String, i64>,
    pub appointments: i64,
}

/// What an API token may touch (`api_tokens` row). Tokens are stored as SHA-256 hex hashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenGrant {
    /// `None` for an admin token (every company); else the one company it belongs to.
    pub company_id: Option<CompanyId>,
    pub label: String,
}
