//! What the `database.*` reports read through the
//! [`ReportStore`](crate::ports::ReportStore): call counts by booking state, dead-lettered
//! bookings with what led there, search hits, and the result of a read-only SQL query.
//!
//! A call's **booking state** (one per call, the counters of `database.getCallStats`):
//! - `booked`: an appointment is linked to the call, or its latest booking job is `done`;
//! - `failed`: its latest booking job is a dead letter (`failed`);
//! - `pending`: its latest booking job waits or runs;
//! - `unconfirmed`: the call ended without a job, with complete appointment data the caller
//!   never confirmed;
//! - `missing_data`: the call ended without a job, with appointment data that lacks a
//!   required field (service, date, time, name or phone);
//! - none of these: the call is live, collected nothing, or ended for another reason; it
//!   counts only in `calls`.

use crate::domain::ids::CompanyId;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Calls by booking state (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CallCounts {
    /// Calls that started in the group.
    pub calls: u64,
    /// Calls with an appointment.
    pub booked: u64,
    /// Ended calls with complete data that the caller never confirmed.
    pub unconfirmed: u64,
    /// Ended calls whose data lacked a required field (incomplete).
    pub missing_data: u64,
    /// Calls whose booking is a dead letter.
    pub failed: u64,
    /// Calls whose booking job waits or runs.
    pub pending: u64,
}

impl CallCounts {
    /// Adds `other`'s counters to these.
    pub fn add(&mut self, other: &CallCounts) {
        self.calls += other.calls;
        self.booked += other.booked;
        self.unconfirmed += other.unconfirmed;
        self.missing_data += other.missing_data;
        self.failed += other.failed;
        self.pending += other.pending;
    }
}

/// How [`ReportStore::call_stats`](crate::ports::ReportStore::call_stats) groups calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatsGrouping {
    /// By the UTC quarter hour the call started in ([`StatsKey::QuarterHour`]): every real
    /// time-zone offset is a multiple of 15 minutes, so each quarter hour lies in one local
    /// day of any zone and the caller folds them into local days.
    QuarterHour,
    /// By the branch that was called ([`StatsKey::Label`] = the branch's name).
    Branch,
    /// By the service the caller chose ([`StatsKey::Label`] = the service's name as
    /// collected).
    Service,
}

/// The group of a [`StatsRow`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StatsKey {
    /// Quarter hours since the Unix epoch (UTC): the call started in
    /// `[q × 900 s, (q + 1) × 900 s)`.
    QuarterHour(i64),
    /// A branch or service name; `None` for calls without one.
    Label(Option<String>),
}

/// The counters of one group of one company.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatsRow {
    /// The company whose calls these are.
    pub company_id: CompanyId,
    /// The group.
    pub key: StatsKey,
    /// Its calls by booking state.
    pub counts: CallCounts,
}

/// A dead-lettered booking and what led there (`database.getFailedAppointments`).
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct FailedAppointment {
    /// The outbox job (`queue.retryJob` takes it).
    pub job_id: i64,
    /// Its company.
    pub company_id: CompanyId,
    /// `book`, `reschedule`, `cancel`, …
    pub kind: String,
    /// The call the booking came from; `None` for bookings made through the gateway.
    pub call_id: Option<String>,
    /// Attempts made.
    pub attempts: i64,
    /// The error of the last attempt, as the worker recorded it.
    pub last_error: Option<String>,
    /// When the job was enqueued (UTC).
    pub created_at: DateTime<Utc>,
    /// When it failed for the last time (UTC).
    pub failed_at: DateTime<Utc>,
    /// What the booking asked for: service, start (UTC), attendee name.
    pub service_name: Option<String>,
    /// Start of the wanted slot (UTC, RFC 3339 as stored in the job).
    pub start: Option<String>,
    /// The attendee's name.
    pub attendee_name: Option<String>,
    /// The appointment data collected during the call (`webhook.getCall`'s `collected`);
    /// `None` without a call.
    pub collected: Option<serde_json::Value>,
    /// The caller's last words in the call's transcript (Retell's `transcript`), at most
    /// 600 characters, control characters removed; `None` when none is stored.
    pub transcript_excerpt: Option<String>,
}

/// One hit of `database.search`.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct SearchHit {
    /// What was found: a call id, a customer's id or an appointment's booking uid.
    pub id: String,
    /// Its company.
    pub company_id: CompanyId,
    /// The name found with it (caller, customer or attendee), if any.
    pub name: Option<String>,
    /// The phone number found with it (E.164), if any.
    pub phone: Option<String>,
    /// When it happened or was stored (UTC): call start, customer creation, appointment start.
    pub at: Option<DateTime<Utc>>,
    /// Call status or appointment status; `None` for customers.
    pub status: Option<String>,
}

/// What `database.search` looks for (already normalised).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchTerms {
    /// The text as given, matched case-insensitively as a substring of names.
    pub text: String,
    /// The text read as a phone number (E.164), matched exactly against numbers.
    pub phone: Option<String>,
}

/// Hits of `database.search` by kind, each newest first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, JsonSchema)]
pub struct SearchHits {
    /// Calls by caller name (collected), caller number or call id.
    pub calls: Vec<SearchHit>,
    /// Customers by name or number.
    pub customers: Vec<SearchHit>,
    /// Appointments by attendee name, attendee number or booking uid.
    pub appointments: Vec<SearchHit>,
}
