//! The booking decision: how one slot is booked exactly once per idempotency key when an
//! answer from Cal.com may be lost. Pure; the tenant session
//! ([`TenantSession`](crate::tenant::TenantSession)) does the calls in this order:
//!
//! 1. On a retry, look for our own booking first ([`look_up_query`], [`own_booking`]): the
//!    first try may have succeeded at Cal.com without us hearing the answer.
//! 2. Create the booking.
//! 3. If the create failed in a way that may hide a success ([`look_up_after`]), look again,
//!    and let [`after_look_up`] say how the attempt ends.

use super::booking::{Booking, BookingQuery, BookingRequest, UpstreamError};
use chrono::Duration;

/// How a booking request ended.
#[derive(Debug, Clone, PartialEq)]
pub enum BookOutcome {
    /// Cal.com created it now.
    Created(Booking),
    /// An earlier attempt had already created it (found by our idempotency key).
    Found(Booking),
}

impl BookOutcome {
    /// The booking either way.
    pub fn booking(&self) -> &Booking {
        match self {
            Self::Created(b) | Self::Found(b) => b,
        }
    }
}

/// Bookings at Cal.com among which an earlier booking of `request` would be: its event type,
/// starting from a minute before `request.start` and ending up to a minute after its end
/// (`duration_min` minutes later); at most 100. A bound past chrono's range is left open
/// rather than overflowing.
pub fn look_up_query(request: &BookingRequest, duration_min: u32) -> BookingQuery {
    BookingQuery {
        event_type_id: Some(request.event_type_id),
        after_start: request.start.checked_sub_signed(Duration::minutes(1)),
        before_end: request
            .start
            .checked_add_signed(Duration::minutes(i64::from(duration_min) + 1)),
        take: Some(100),
        ..BookingQuery::default()
    }
}

/// Our live booking among `bookings`: the first that carries idempotency key `key` and is
/// not cancelled.
pub fn own_booking(bookings: Vec<Booking>, key: &str) -> Option<Booking> {
    bookings
        .into_iter()
        .find(|b| b.idempotency_key() == Some(key) && b.status != "cancelled")
}

/// Whether a failed create may hide our own booking, so it is worth looking for it: a
/// timeout, a dropped line or a 5xx may follow a success ("commit then fail"), and "slot
/// taken" may be our booking from an attempt whose answer we never got.
pub fn look_up_after(create_error: &UpstreamError) -> bool {
    create_error.is_slot_unavailable() || create_error.is_transient()
}

/// How an attempt ends after a failed create (`create_error`) and the look-up that followed
/// it: our booking found is a success; a look-up that failed transiently is its own error,
/// so the attempt is retried rather than a "maybe ours" turned into a permanent "slot taken";
/// otherwise the create's error stands.
///
/// # Errors
/// The look-up's error when it is transient, else `create_error`.
pub fn after_look_up(
    create_error: UpstreamError,
    look_up: Result<Option<Booking>, UpstreamError>,
) -> Result<BookOutcome, UpstreamError> {
    match look_up {
        Ok(Some(found)) => Ok(BookOutcome::Found(found)),
        Err(lookup) if lookup.is_transient() => Err(lookup),
        Ok(None) | Err(_) => Err(create_error),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::booking::{Attendee, ErrorAnswer, IDEMPOTENCY_METADATA_KEY};
    use crate::domain::ids::{BookingUid, EventTypeId};
    use chrono::{TimeZone, Utc};
    use std::collections::BTreeMap;

    /// A Cal.com error answer (shared with the session's tests).
    pub(crate) fn status(status: u16, message: &str) -> UpstreamError {
        let answer = ErrorAnswer {
            status,
            code: None,
            message: message.into(),
        };
        UpstreamError::from_status("calcom", answer, None)
    }

    /// Cal.com's refusal of a taken slot, as the adapter classifies it (shared with the
    /// session's tests).
    pub(crate) fn slot_taken() -> UpstreamError {
        UpstreamError::SlotTaken {
            service: "calcom",
            answer: ErrorAnswer {
                status: 400,
                code: None,
                message: "User either already has booking at this time or is not available".into(),
            },
        }
    }

    fn timeout() -> UpstreamError {
        UpstreamError::Transport {
            service: "calcom",
            message: "no answer within 5000 ms".into(),
        }
    }

    /// A request for 2030-07-16 12:00 UTC, event type 1001 (shared with the session's tests).
    pub(crate) fn request() -> BookingRequest {
        BookingRequest {
            event_type_id: EventTypeId(1001),
            start: Utc.with_ymd_and_hms(2030, 7, 16, 12, 0, 0).unwrap(),
            attendee: Attendee {
                name: "A".into(),
                time_zone: "Europe/Berlin".into(),
                email: None,
                phone_number: Some("+4915112345678".into()),
                language: None,
            },
            metadata: BTreeMap::new(),
            length_in_minutes: None,
            reserved_slot_uid: None,
        }
    }

    fn booking(uid: &str, key: &str, status: &str) -> Booking {
        let start = Utc.with_ymd_and_hms(2030, 7, 16, 12, 0, 0).unwrap();
        Booking {
            id: 1,
            uid: BookingUid::parse(uid).unwrap(),
            title: "Haircut".into(),
            status: status.into(),
            start,
            end: start + Duration::minutes(30),
            event_type_id: EventTypeId(1001),
            attendees: vec![],
            metadata: BTreeMap::from([(IDEMPOTENCY_METADATA_KEY.to_owned(), key.to_owned())]),
        }
    }

    #[test]
    fn look_up_covers_the_slot_with_a_minute_either_side() {
        let query = look_up_query(&request(), 30);
        assert_eq!(query.event_type_id, Some(EventTypeId(1001)));
        let start = request().start;
        assert_eq!(query.after_start, Some(start - Duration::minutes(1)));
        assert_eq!(query.before_end, Some(start + Duration::minutes(31)));
        assert_eq!(query.take, Some(100));
    }

    #[test]
    fn own_booking_is_the_live_one_with_our_key() {
        let bookings = vec![
            booking("other", "retell:call_b:book", "accepted"),
            booking("cancelled", "retell:call_a:book", "cancelled"),
            booking("ours", "retell:call_a:book", "accepted"),
        ];
        let found = own_booking(bookings, "retell:call_a:book").unwrap();
        assert_eq!(found.uid.as_str(), "ours");
        let none = own_booking(vec![booking("x", "k", "cancelled")], "k");
        assert_eq!(none, None);
    }

    #[test]
    fn slot_taken_and_transient_failures_are_looked_up_others_not() {
        assert!(look_up_after(&slot_taken()));
        assert!(look_up_after(&timeout()));
        assert!(look_up_after(&status(503, "unavailable")));
        assert!(!look_up_after(&status(400, "attendee property is wrong")));
        assert!(!look_up_after(&status(401, "invalid api key")));
    }

    #[test]
    fn our_booking_found_after_a_failed_create_is_a_success() {
        let ours = booking("ours", "k", "accepted");
        let outcome = after_look_up(timeout(), Ok(Some(ours.clone())));
        assert_eq!(outcome, Ok(BookOutcome::Found(ours)));
    }

    #[test]
    fn nothing_found_keeps_the_create_error() {
        assert_eq!(after_look_up(slot_taken(), Ok(None)), Err(slot_taken()));
        let refused = after_look_up(slot_taken(), Err(status(400, "bad query")));
        assert_eq!(refused, Err(slot_taken()), "a permanent look-up error");
    }

    #[test]
    fn transient_look_up_failure_is_returned_so_the_attempt_is_retried() {
        let down = status(503, "unavailable");
        assert_eq!(after_look_up(slot_taken(), Err(down.clone())), Err(down));
    }
}
