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
    /// Cal.com event type id (`id`).
    pub id: EventTypeId,
    /// Display title (`title`), e.g. `Herrenhaarschnitt`.
    pub title: String,
    /// URL slug, unique per owner (`slug`).
    pub slug: String,
    /// Default length in minutes (`lengthInMinutes`).
    pub length_in_minutes: u32,
}

/// The owner of a Cal.com API key, as `GET /v2/me` answers (`MeOutput`, calcom/cal.com
/// `apps/api/v2/src/ee/me/outputs/me.output.ts`; the controller, `apps/api/v2/src/ee/me/
/// me.controller.ts`, takes every known `cal-api-version`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CalcomProfile {
    /// Cal.com user id (`id`).
    pub id: i64,
    /// Username (`username`), the first path segment of the user's booking pages.
    pub username: String,
    /// Email (`email`).
    pub email: String,
    /// Display name (`name`), when set.
    pub name: Option<String>,
    /// The user's IANA zone (`timeZone`).
    pub time_zone: String,
    /// The organization the user belongs to (`organizationId`), if any.
    pub organization_id: Option<i64>,
    /// The `cal-api-version` the request was sent with.
    pub api_version: String,
}

/// Query for free slots (`GET /v2/slots`, cal-api-version 2024-09-04).
#[derive(Clone, Debug, PartialEq)]
pub struct SlotQuery {
    /// Event type whose slots are wanted (`eventTypeId`).
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
    /// Slot start, with the UTC offset of the queried zone, e.g. `2050-09-05T09:00:00+02:00`.
    pub start: DateTime<FixedOffset>,
    /// Slot end: `start` plus the event type's length, or the query's `duration`.
    pub end: DateTime<FixedOffset>,
}

/// The person the booking is for (`attendee`, reference/calcom.md §4.1). Cal.com needs at
/// least one of email / phone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Attendee {
    /// Full name (`name`, required by Cal.com).
    pub name: String,
    /// IANA zone of the attendee.
    pub time_zone: String,
    /// Email (`email`). `None` in our requests for a phone-only caller; in Cal.com's answers such
    /// an attendee has the synthetic `<digits>@sms.cal.com` (reference/calcom.md §4.1).
    pub email: Option<String>,
    /// E.164.
    pub phone_number: Option<String>,
    /// `de` / `en`.
    pub language: Option<String>,
}

/// `POST /v2/bookings` (cal-api-version 2024-08-13).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BookingRequest {
    /// Event type to book (`eventTypeId`).
    pub event_type_id: EventTypeId,
    /// Start in UTC.
    pub start: DateTime<Utc>,
    /// Who the booking is for (`attendee`). When it has a phone number, the booking's location is
    /// `attendeePhone` with that number.
    pub attendee: Attendee,
    /// String values ≤ 500 chars, ≤ 50 keys; carries [`IDEMPOTENCY_METADATA_KEY`].
    pub metadata: BTreeMap<String, String>,
    /// Only for multi-length event types.
    pub length_in_minutes: Option<u32>,
    /// The slot reservation this booking redeems (`reservedSlotUid`, reference/calcom.md §2
    /// "Slot holds"): Cal.com refuses a booking of a held slot unless it names the first
    /// live reservation. `None`: no reservation.
    #[serde(default)]
    pub reserved_slot_uid: Option<String>,
}

/// `POST /v2/slots/reservations` (reference/calcom.md §2 "Slot holds"): hold a slot while the
/// caller decides, so nobody else can book it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReservationRequest {
    /// Event type of the slot (`eventTypeId`).
    pub event_type_id: EventTypeId,
    /// Slot start, UTC (`slotStart`).
    pub slot_start: DateTime<Utc>,
    /// Slot length in minutes (`slotDuration`); the event type's length.
    pub slot_duration_min: u32,
    /// How long the hold lasts, minutes (`reservationDuration`; Cal.com's default is 5, and it
    /// needs an authenticated request).
    pub reservation_duration_min: u32,
}

/// A slot reservation as Cal.com answers it (`data` of the 201/200 reply).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SlotReservation {
    /// `reservationUid`: the handle to renew (PATCH), release (DELETE) or book against
    /// (`reservedSlotUid`).
    pub uid: String,
    /// `eventTypeId`.
    pub event_type_id: EventTypeId,
    /// `slotStart`, UTC.
    pub slot_start: DateTime<Utc>,
    /// `slotEnd`, UTC.
    pub slot_end: DateTime<Utc>,
    /// `reservationUntil`, UTC: the hold lapses at this instant unless renewed.
    pub until: DateTime<Utc>,
}

/// `POST /v2/bookings/{uid}/reschedule` (reference/calcom.md §4.4): Cal.com creates a new
/// booking with a new uid and cancels the old one (`rescheduledToUid`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RescheduleRequest {
    /// New start, UTC (`start`).
    pub start: DateTime<Utc>,
    /// Why (`reschedulingReason`), e.g. `Caller asked by phone`.
    pub reason: Option<String>,
    /// A reservation of the new slot to redeem (`reservedSlotUid`), if one is held.
    pub reserved_slot_uid: Option<String>,
}

/// `POST /v2/bookings/{uid}/cancel` (reference/calcom.md §4.5).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CancelRequest {
    /// Why (`cancellationReason`), as the caller or staff said it; ≤ 500 characters.
    pub reason: Option<String>,
}

/// `POST /v2/webhooks` (reference/calcom.md §6): a subscriber Cal.com posts booking events
/// to, signed with `secret`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WebhookSubscription {
    /// Where Cal.com posts (`subscriberUrl`), e.g.
    /// `https://sb.example/api/calcom/webhook/praxis-weber`.
    pub subscriber_url: String,
    /// `triggers`, e.g. `BOOKING_CREATED`, `BOOKING_RESCHEDULED`, `BOOKING_CANCELLED`.
    pub triggers: Vec<String>,
    /// HMAC-SHA256 key of `X-Cal-Signature-256` (`secret`). Never logged.
    #[serde(skip_serializing)]
    #[schemars(skip)]
    pub secret: Option<String>,
    /// `active`.
    pub active: bool,
}

/// A webhook subscription as Cal.com answers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Webhook {
    /// Cal.com's id of the subscription (`id`).
    pub id: String,
    /// `subscriberUrl`.
    pub subscriber_url: String,
    /// `triggers`.
    pub triggers: Vec<String>,
    /// `active`.
    pub active: bool,
}

/// A Cal.com booking (subset of `BookingOutput_2024_08_13`, reference/calcom.md §4.1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Booking {
    /// Cal.com's numeric booking id (`id`).
    pub id: i64,
    /// Cal.com booking uid (`uid`): the handle for get, reschedule and cancel.
    pub uid: BookingUid,
    /// Title Cal.com generated (`title`), e.g. `Consultation between Jane and Alice`.
    pub title: String,
    /// `accepted`, `pending`, `cancelled` or `rejected`.
    pub status: String,
    /// Start in UTC (`start`; millisecond ISO 8601 with `Z` on the wire).
    pub start: DateTime<Utc>,
    /// End in UTC (`end`).
    pub end: DateTime<Utc>,
    /// Event type booked (`eventType.id`, or the deprecated `eventTypeId` alias).
    pub event_type_id: EventTypeId,
    /// The attendees (`attendees`); for a collective team event the other hosts too.
    pub attendees: Vec<Attendee>,
    /// Free-form string map (`metadata`). Ours carry [`IDEMPOTENCY_METADATA_KEY`], `source` and,
    /// from a call, `retell_call_id`; values another client stored as non-strings are kept as their
    /// JSON text.
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
    /// Only bookings of this event type (`eventTypeId`).
    pub event_type_id: Option<EventTypeId>,
    /// Only bookings with this attendee email (`attendeeEmail`). Cal.com has no phone filter; a
    /// phone-only attendee is `<E.164 digits without +>@sms.cal.com`.
    pub attendee_email: Option<String>,
    /// Only bookings starting after this instant (`afterStart`, sent as UTC ISO 8601).
    pub after_start: Option<DateTime<Utc>>,
    /// Only bookings ending before this instant (`beforeEnd`, sent as UTC ISO 8601).
    pub before_end: Option<DateTime<Utc>>,
    /// 1–250.
    pub take: Option<u32>,
}

/// What an upstream answered when it did not do what we asked: kept whole in every
/// [`UpstreamError`] that comes from an answer, for logs and error messages.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct ErrorAnswer {
    /// HTTP status code.
    pub status: u16,
    /// Upstream error code, e.g. Cal.com `BadRequestException` (reference/calcom.md §5).
    pub code: Option<String>,
    /// The upstream's error message (reference/calcom.md §5: `error.message` plus validation
    /// details, or Nest's `message`), else the first 200 characters of the body.
    pub message: String,
}

/// Why a call to an upstream API (Cal.com, Retell) failed, classified by cause where the cause
/// is known: by the adapter, from the status, headers and body of the answer. The core decides
/// by variant (through the predicates below), never by message text.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum UpstreamError {
    /// No answer: connect error, reset, or our timeout.
    #[error("{service} unreachable: {message}")]
    Transport {
        /// Upstream name as used in metric labels, e.g. `calcom`.
        service: &'static str,
        /// The cause, e.g. reqwest's error chain (never the URL, whose query may hold an email) or
        /// `no answer within N ms` from the breaker's timeout.
        message: String,
    },
    /// The time asked for is taken or not bookable (Cal.com: 400 "already has booking", 409
    /// `booking_conflict_error`; reference/calcom.md §4.6).
    #[error("{service} answered {answer}")]
    SlotTaken {
        /// Upstream name as used in metric labels, e.g. `calcom`.
        service: &'static str,
        /// The refusal as answered.
        answer: ErrorAnswer,
    },
    /// The time is held by a reservation that is not ours (Cal.com 400 "Someone else reserved
    /// this slot before you. This slot will be freed up in N seconds.", reference/calcom.md §2
    /// "Slot holds"): taken for now, free again once that reservation lapses unless its
    /// holder books it.
    #[error("{service} answered {answer}")]
    SlotReserved {
        /// Upstream name as used in metric labels, e.g. `calcom`.
        service: &'static str,
        /// The refusal as answered.
        answer: ErrorAnswer,
        /// When the reservation lapses, from the answer's "freed up in N seconds"; `None` when
        /// the answer does not say.
        freed_in: Option<Duration>,
    },
    /// The credential was refused (401, 403).
    #[error("{service} answered {answer}")]
    Unauthorized {
        /// Upstream name as used in metric labels, e.g. `calcom`.
        service: &'static str,
        /// The refusal as answered.
        answer: ErrorAnswer,
    },
    /// What we asked for does not exist (404): unknown booking uid, event type or route.
    #[error("{service} answered {answer}")]
    NotFound {
        /// Upstream name as used in metric labels, e.g. `calcom`.
        service: &'static str,
        /// The refusal as answered.
        answer: ErrorAnswer,
    },
    /// We are over the upstream's rate limit (429).
    #[error("{service} answered {answer}")]
    RateLimited {
        /// Upstream name as used in metric labels, e.g. `calcom`.
        service: &'static str,
        /// The refusal as answered.
        answer: ErrorAnswer,
        /// From `Retry-After` or Cal.com's `X-RateLimit-Reset-*`.
        retry_after: Option<Duration>,
    },
    /// Any other refusal of our request (4xx, or a status outside 4xx/5xx such as a redirect):
    /// repeating it unchanged would be refused again.
    #[error("{service} answered {answer}")]
    Rejected {
        /// Upstream name as used in metric labels, e.g. `calcom`.
        service: &'static str,
        /// The refusal as answered.
        answer: ErrorAnswer,
    },
    /// The upstream failed (5xx).
    #[error("{service} answered {answer}")]
    ServerError {
        /// Upstream name as used in metric labels, e.g. `calcom`.
        service: &'static str,
        /// The failure as answered.
        answer: ErrorAnswer,
        /// From `Retry-After`, if sent.
        retry_after: Option<Duration>,
    },
    /// A 2xx whose body we could not read.
    #[error("{service} sent an unreadable answer: {message}")]
    Decode {
        /// Upstream name as used in metric labels, e.g. `calcom`.
        service: &'static str,
        /// The serde error, naming the method, path and bad field.
        message: String,
    },
    /// The circuit breaker is open; nothing was sent.
    #[error("{service} circuit breaker is open")]
    CircuitOpen {
        /// Upstream name as used in metric labels, e.g. `calcom`.
        service: &'static str,
        /// The breaker's whole open period (not the time left of it).
        retry_after: Option<Duration>,
    },
    /// Our own rate limit of the credential refused the request; nothing was sent, so the
    /// upstream never answers 429 and the breaker is not charged (see [`crate::ratelimit`]).
    #[error("{service} request budget of this credential is used up")]
    Throttled {
        /// Upstream name as used in metric labels, e.g. `calcom`.
        service: &'static str,
        /// When the limiter will admit the next request.
        retry_after: Duration,
    },
}

impl UpstreamError {
    /// The error for an error `answer` by the generic meaning of its status (RFC 9110 §15):
    /// 401/403 [`Unauthorized`](Self::Unauthorized), 404 [`NotFound`](Self::NotFound), 429
    /// [`RateLimited`](Self::RateLimited), 5xx and above [`ServerError`](Self::ServerError),
    /// anything else [`Rejected`](Self::Rejected). `retry_after` is kept for 429 and 5xx only.
    /// An adapter first applies what only its upstream's answers tell (Cal.com's "slot taken").
    pub fn from_status(
        service: &'static str,
        answer: ErrorAnswer,
        retry_after: Option<Duration>,
    ) -> Self {
        match answer.status {
            401 | 403 => Self::Unauthorized { service, answer },
            404 => Self::NotFound { service, answer },
            429 => Self::RateLimited {
                service,
                answer,
                retry_after,
            },
            500.. => Self::ServerError {
                service,
                answer,
                retry_after,
            },
            _ => Self::Rejected { service, answer },
        }
    }

    /// What the upstream answered, for the variants that come from an error answer.
    pub fn answer(&self) -> Option<&ErrorAnswer> {
        match self {
            Self::SlotTaken { answer, .. }
            | Self::SlotReserved { answer, .. }
            | Self::Unauthorized { answer, .. }
            | Self::NotFound { answer, .. }
            | Self::RateLimited { answer, .. }
            | Self::Rejected { answer, .. }
            | Self::ServerError { answer, .. } => Some(answer),
            Self::Transport { .. }
            | Self::Decode { .. }
            | Self::CircuitOpen { .. }
            | Self::Throttled { .. } => None,
        }
    }

    /// Worth retrying later: transport errors, 5xx, 429, an open breaker and our own rate
    /// limit.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Transport { .. }
                | Self::RateLimited { .. }
                | Self::ServerError { .. }
                | Self::CircuitOpen { .. }
                | Self::Throttled { .. }
        )
    }

    /// Counts against the circuit breaker (an upstream failure, not a rejection of our input).
    pub fn is_breaker_failure(&self) -> bool {
        matches!(
            self,
            Self::Transport { .. } | Self::RateLimited { .. } | Self::ServerError { .. }
        )
    }

    /// The upstream refused because the time is taken or not bookable, also for now only
    /// ([`UpstreamError::SlotReserved`]).
    pub fn is_slot_unavailable(&self) -> bool {
        matches!(self, Self::SlotTaken { .. } | Self::SlotReserved { .. })
    }

    /// Refused only while another holder's reservation lasts ([`UpstreamError::SlotReserved`]):
    /// `Some(freed_in)`, where `freed_in` is `None` when the answer does not say when.
    pub fn reserved_for(&self) -> Option<Option<Duration>> {
        match self {
            Self::SlotReserved { freed_in, .. } => Some(*freed_in),
            _ => None,
        }
    }

    /// The credential was refused (401/403).
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Self::Unauthorized { .. })
    }

    /// Delay the upstream asked for, the open period of our breaker, or the wait of our rate
    /// limiter, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. }
            | Self::ServerError { retry_after, .. }
            | Self::CircuitOpen { retry_after, .. } => *retry_after,
            Self::Throttled { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }
}
