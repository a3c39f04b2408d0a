//! Cal.com-facing booking types, independent of the HTTP client (reference/calcom.md §2–4).

use super::ids::{BookingUid, EventTypeId};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Metadata key under which we store our idempotency key on every Cal.com booking we create,
/// so a retry can find its own earlier booking (reference/calcom.md §4.6).
pub const IDEMPOTENCY_METADATA_KEY: &str = "switchboard_idempotency_key";

/// A Cal.com event type (subset of `EventTypeOutput_2024_06_14`, reference/calcom.md §3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EventType {
    pub id: EventTypeId,
    pub title: String,
    pub slug: String,
    /// Default length in minutes (`lengthInMinutes`).
    pub length_in_minutes: u32,
}

/// Query for free slots (`GET /v2/slots`, cal-api-version 2024-09-04).
#[derive(Clone, Debug, PartialEq)]
pub struct SlotQuery {
    pub event_type_id: EventTypeId,
    /// First day (inclusive), in `time_zone`.
    pub from: NaiveDate,
    /// Last day (inclusive), in `time_zone`.
    pub to: NaiveDate,
    /// Zone the slots are reported in (`timeZone`).
    pub time_zone: chrono_tz::Tz,
    /// Override of the event type's length, minutes (`duration`).
    pub duration_min: Option<u32>,
}

/// One free slot (`format=range`): start and end with the offset of the queried zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Slot {
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
}

/// The person the booking is for (`attendee`, reference/calcom.md §4.1). Cal.com needs at
/// least one of email / phone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Attendee {
    pub name: String,
    /// IANA zone of the attendee.
    pub time_zone: String,
    pub email: Option<String>,
    /// E.164.
    pub phone_number: Option<String>,
    /// `de` / `en`.
    pub language: Option<String>,
}

/// `POST /v2/bookings` (cal-api-version 2024-08-13).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BookingRequest {
    pub event_type_id: EventTypeId,
    /// Start in UTC.
    pub start: DateTime<Utc>,
    pub attendee: Attendee,
    /// String values ≤ 500 chars, ≤ 50 keys; carries [`IDEMPOTENCY_METADATA_KEY`].
    pub metadata: BTreeMap<String, String>,
    /// Only for multi-length event types.
    pub length_in_minutes: Option<u32>,
}

/// A Cal.com booking (subset of `BookingOutput_2024_08_13`, reference/calcom.md §4.1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Booking {
    pub id: i64,
    pub uid: BookingUid,
    pub title: String,
    /// `accepted`, `pending`, `cancelled` or `rejected`.
    pub status: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub event_type_id: EventTypeId,
    pub attendees: Vec<Attendee>,
    pub metadata: BTreeMap<String, String>,
}

impl Booking {
    /// Our idempotency key, when this booking was made by switchboard.
    pub fn idempotency_key(&self) -> Option<&str> {
        self.metadata
            .get(IDEMPOTENCY_METADATA_KEY)
            .map(String::as_str)
    }
}

/// Filters of `GET /v2/bookings` that we use.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BookingQuery {
    /// Comma list of `upcoming,recurring,past,cancelled,unconfirmed`.
    pub status: Option<String>,
    pub event_type_id: Option<EventTypeId>,
    pub attendee_email: Option<String>,
    pub after_start: Option<DateTime<Utc>>,
    pub before_end: Option<DateTime<Utc>>,
    /// 1–250.
    pub take: Option<u32>,
}

/// Why a call to an upstream API (Cal.com, Retell) failed, classified by cause.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum UpstreamError {
    /// No answer: connect error, reset, or our timeout.
    #[error("{service} unreachable: {message}")]
    Transport {
        service: &'static str,
        message: String,
    },
    /// The upstream answered with an error status.
    #[error("{service} answered {status}: {message}")]
    Status {
        service: &'static str,
        status: u16,
        /// Upstream error code, e.g. Cal.com `BadRequestException`.
        code: Option<String>,
        message: String,
        /// From `Retry-After` or Cal.com's `X-RateLimit-Reset-*` (seconds).
        retry_after: Option<Duration>,
    },
    /// A 2xx whose body we could not read.
    #[error("{service} sent an unreadable answer: {message}")]
    Decode {
        service: &'static str,
        message: String,
    },
    /// The circuit breaker is open; nothing was sent.
    #[error("{service} circuit breaker is open")]
    CircuitOpen {
        service: &'static str,
        retry_after: Option<Duration>,
    },
}

impl UpstreamError {
    /// Worth retrying later: transport errors, 5xx, 429 and an open breaker.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transport { .. } | Self::CircuitOpen { .. } => true,
            Self::Status { status, .. } => *status >= 500 || *status == 429,
            Self::Decode { .. } => false,
        }
    }

    /// Counts against the circuit breaker (an upstream failure, not a rejection of our input).
    pub fn is_breaker_failure(&self) -> bool {
        match self {
            Self::Transport { .. } => true,
            Self::Status { status, .. } => *status >= 500 || *status == 429,
            Self::Decode { .. } | Self::CircuitOpen { .. } => false,
        }
    }

    /// Cal.com refused because the time is taken or not bookable (400 "already has booking",
    /// 409 `booking_conflict_error`; reference/calcom.md §4.6).
    pub fn is_slot_unavailable(&self) -> bool {
        match self {
            Self::Status {
                status, message, ..
            } => {
                *status == 409
                    || (*status == 400
                        && (message.contains("already has booking")
                            || message.contains("not available")
                            || message.contains("can't be booked")))
            }
            _ => false,
        }
    }

    /// The credential was refused (401/403).
    pub fn is_unauthorized(&self) -> bool {
        matches!(
            self,
            Self::Status {
                status: 401 | 403,
                ..
            }
        )
    }

    /// Delay the upstream asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. } | Self::CircuitOpen { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }
}
