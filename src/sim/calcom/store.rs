//! The bookings of every account, in memory, and the state changes Cal.com allows on them
//! (create §4.1, reschedule §4.4, cancel §4.5).
//!
//! Every change that depends on availability checks and writes under one mutex, so two
//! concurrent requests for one slot cannot both succeed — the guarantee Cal.com gets from its
//! availability check plus the unique idempotency key on accepted bookings (§4.6).

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::accounts::{Accounts, EventType, Host, Schedule};
use super::errors::CalcomError;
use super::holds::{Hold, HoldRefusal, HoldRequest, Holds};
use super::slots::{self, Busy};
use actix_web::http::StatusCode;

/// Lifecycle of a booking; rendered lowercase like API v2 does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BookingStatus {
    Accepted,
    Cancelled,
}

impl BookingStatus {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Cancelled => "cancelled",
        }
    }
}

/// The booker as stored: `email` is the synthetic `<digits>@sms.cal.com` for phone-only
/// bookers (calcom.md §4.1).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Attendee {
    pub(super) name: String,
    pub(super) email: String,
    /// E.164.
    pub(super) phone: Option<String>,
    /// IANA zone.
    pub(super) time_zone: String,
    pub(super) language: String,
}

/// One stored booking; [`super::output::booking`] renders it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Booking {
    pub(super) id: i64,
    pub(super) uid: String,
    pub(super) event_type: EventType,
    /// The owner of the event type's account, whose calendar the booking blocks.
    pub(super) host: Host,
    pub(super) start: DateTime<Utc>,
    pub(super) end: DateTime<Utc>,
    pub(super) status: BookingStatus,
    pub(super) attendee: Attendee,
    pub(super) guests: Vec<String>,
    pub(super) location: Option<String>,
    pub(super) metadata: Map<String, Value>,
    /// Custom `bookingFieldsResponses` as sent (system fields are added on output).
    pub(super) responses: Map<String, Value>,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: DateTime<Utc>,
    pub(super) cancellation_reason: Option<String>,
    pub(super) cancelled_by: Option<String>,
    pub(super) rescheduled_from: Option<String>,
    pub(super) rescheduled_to: Option<String>,
    pub(super) rescheduling_reason: Option<String>,
    pub(super) rescheduled_by: Option<String>,
}

/// A validated create request, ready to be checked against availability.
#[derive(Debug, Clone)]
pub(super) struct NewBooking {
    pub(super) event_type: EventType,
    pub(super) host: Host,
    pub(super) start: DateTime<Utc>,
    pub(super) attendee: Attendee,
    pub(super) guests: Vec<String>,
    pub(super) location: Option<String>,
    pub(super) metadata: Map<String, Value>,
    pub(super) responses: Map<String, Value>,
    /// `reservedSlotUid`: the hold this booking redeems.
    pub(super) reserved_slot_uid: Option<String>,
}

/// A validated reschedule request (`POST /v2/bookings/{uid}/reschedule`).
#[derive(Debug, Clone)]
pub(super) struct Reschedule {
    pub(super) start: DateTime<Utc>,
    pub(super) reason: Option<String>,
    pub(super) by: Option<String>,
    /// `reservedSlotUid`: the hold of the new slot this reschedule redeems.
    pub(super) reserved_slot_uid: Option<String>,
}

/// Cal.com's messages for a start that cannot be booked (errors.service, calcom.md §4.6).
const PAST: &str = "Attempting to book a meeting in the past.";
const UNAVAILABLE: &str = "User either already has booking at this time or is not available";

/// All bookings of all hosts.
#[derive(Debug, Default)]
pub(super) struct Store {
    /// One lock over every read-check-write, so a slot check and the insert it allows are one
    /// step for concurrent requests.
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    last_id: i64,
    bookings: Vec<Booking>,
    holds: Holds,
}

impl Inner {
    /// Accepted bookings block their host whatever their event type.
    fn busy(&self, host_id: i64, except_uid: Option<&str>) -> Vec<Busy> {
        self.bookings
            .iter()
            .filter(|b| {
                b.host.id == host_id
                    && b.status == BookingStatus::Accepted
                    && Some(b.uid.as_str()) != except_uid
            })
            .map(|b| (b.start, b.end))
            .collect()
    }

    fn check_start(
        &self,
        host_id: i64,
        start: DateTime<Utc>,
        length: Duration,
        except_uid: Option<&str>,
        now: DateTime<Utc>,
        schedule: &Schedule,
    ) -> Result<(), CalcomError> {
        if start < now {
            return Err(CalcomError::BadRequest(PAST.into()));
        }
        if !slots::is_bookable(
            start,
            length,
            &self.busy(host_id, except_uid),
            now,
            schedule,
        ) {
            return Err(CalcomError::BadRequest(UNAVAILABLE.into()));
        }
        Ok(())
    }

    /// Refuses `[start, end)` of `host` when a live hold is first in line for it and
    /// `reserved` does not name that hold (calcom.md §2: "Someone else reserved this slot
    /// before you…", a booking-core `HttpError`, hence the bare shape).
    fn check_holds(
        &mut self,
        host: i64,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        reserved: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), CalcomError> {
        match self.holds.first_over(host, start, end, now) {
            Some(first) if Some(first.uid.as_str()) != reserved => Err(CalcomError::Core {
                status: StatusCode::BAD_REQUEST,
                message: format!(
                    "Someone else reserved this slot before you. This slot will be freed up in {} seconds.",
                    (first.until - now).num_seconds().max(0)
                ),
            }),
            _ => Ok(()),
        }
    }

    fn find_mut(&mut self, uid: &str) -> Option<&mut Booking> {
        self.bookings.iter_mut().find(|b| b.uid == uid)
    }

    fn next_id(&mut self) -> i64 {
        self.last_id += 1;
        self.last_id
    }
}

impl Store {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every critical section finishes its checks before it writes, so a panic cannot
        // leave a half-made change behind: the data is still consistent.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Busy times `GET /v2/slots` leaves out: accepted bookings of host `host_id` but
    /// `except_uid` (the one being rescheduled, whose own time counts as free), plus every
    /// live hold, since Cal.com hides reserved slots from availability.
    pub(super) fn offered_busy(
        &self,
        host_id: i64,
        except_uid: Option<&str>,
        now: DateTime<Utc>,
    ) -> Vec<Busy> {
        let mut inner = self.lock();
        let mut busy = inner.busy(host_id, except_uid);
        busy.extend(inner.holds.busy(host_id, now));
        busy
    }

    /// Holds `request` for the account of `host_id` (calcom.md §2 "Slot holds"), or moves and
    /// renews hold `existing`: 422 when the slot is not bookable or another live hold covers
    /// it, 429 when the account has too many live holds.
    pub(super) fn hold(
        &self,
        host_id: i64,
        request: HoldRequest,
        existing: Option<&str>,
        schedule: &Schedule,
        now: DateTime<Utc>,
    ) -> Result<Hold, CalcomError> {
        let mut inner = self.lock();
        let length = request.end - request.start;
        if request.start < now
            || !slots::is_bookable(
                request.start,
                length,
                &inner.busy(host_id, None),
                now,
                schedule,
            )
        {
            return Err(CalcomError::Unprocessable(UNAVAILABLE.into()));
        }
        inner
            .holds
            .hold(host_id, request, existing, now)
            .map_err(|refusal| match refusal {
                HoldRefusal::Held => CalcomError::Unprocessable(
                    "This time slot is already reserved by another user".into(),
                ),
                HoldRefusal::Full => CalcomError::Throttled,
            })
    }

    /// The live hold `uid` and the user id of its account.
    pub(super) fn live_hold(&self, uid: &str, now: DateTime<Utc>) -> Option<(i64, Hold)> {
        self.lock().holds.get(uid, now)
    }

    /// Releases hold `uid`; whether a live one was there.
    pub(super) fn release(&self, uid: &str, now: DateTime<Utc>) -> bool {
        self.lock().holds.remove(uid, now)
    }

    /// The booking with this uid.
    pub(super) fn get(&self, uid: &str) -> Option<Booking> {
        self.lock().bookings.iter().find(|b| b.uid == uid).cloned()
    }

    /// Every booking, in creation order.
    pub(super) fn all(&self) -> Vec<Booking> {
        self.lock().bookings.clone()
    }

    /// Books `new` if its start is a free slot of its host on `schedule`: 400 for the past or
    /// a taken/off-grid start.
    pub(super) fn create(
        &self,
        new: NewBooking,
        schedule: &Schedule,
        now: DateTime<Utc>,
    ) -> Result<Booking, CalcomError> {
        let length = Duration::minutes(i64::from(new.event_type.minutes));
        let mut inner = self.lock();
        inner.check_start(new.host.id, new.start, length, None, now, schedule)?;
        let reserved = new.reserved_slot_uid.as_deref();
        inner.check_holds(new.host.id, new.start, new.start + length, reserved, now)?;
        if let Some(uid) = reserved {
            inner.holds.remove(uid, now);
        }
        let booking = Booking {
            id: inner.next_id(),
            uid: new_uid(),
            event_type: new.event_type,
            host: new.host,
            start: new.start,
            end: new.start + length,
            status: BookingStatus::Accepted,
            attendee: new.attendee,
            guests: new.guests,
            location: new.location,
            metadata: new.metadata,
            responses: new.responses,
            created_at: now,
            updated_at: now,
            cancellation_reason: None,
            cancelled_by: None,
            rescheduled_from: None,
            rescheduled_to: None,
            rescheduling_reason: None,
            rescheduled_by: None,
        };
        inner.bookings.push(booking.clone());
        Ok(booking)
    }

    /// Moves booking `uid` to a new start: a new booking (new uid, same length, attendee and
    /// data) links back with `rescheduledFromUid`; the old one becomes cancelled with
    /// `rescheduledToUid`. The old booking's own time counts as free.
    pub(super) fn reschedule(
        &self,
        uid: &str,
        change: Reschedule,
        accounts: &Accounts,
        now: DateTime<Utc>,
    ) -> Result<Booking, CalcomError> {
        let mut inner = self.lock();
        let Some(old) = inner.bookings.iter().find(|b| b.uid == uid).cloned() else {
            return Err(CalcomError::NotFound(format!(
                "Booking with uid={uid} was not found in the database"
            )));
        };
        if old.status == BookingStatus::Cancelled {
            return Err(CalcomError::BadRequest(match &old.rescheduled_to {
                Some(to) => format!(
                    "Can't reschedule booking with uid={uid} because it has been cancelled and rescheduled already to booking with uid={to}. You probably want to reschedule {to} instead by passing it within the request URL."
                ),
                None => format!(
                    "Can't reschedule booking with uid={uid} because it has been cancelled. Please provide uid of a booking that is not cancelled."
                ),
            }));
        }
        let length = old.end - old.start;
        // The host's hours as they are now: an account update replaces them.
        let Some(owner) = accounts.by_user_id(old.host.id) else {
            return Err(CalcomError::BadRequest(UNAVAILABLE.into()));
        };
        inner.check_start(
            old.host.id,
            change.start,
            length,
            Some(uid),
            now,
            &owner.schedule,
        )?;
        let reserved = change.reserved_slot_uid.as_deref();
        inner.check_holds(
            old.host.id,
            change.start,
            change.start + length,
            reserved,
            now,
        )?;
        if let Some(held) = reserved {
            inner.holds.remove(held, now);
        }
        let new = Booking {
            id: inner.next_id(),
            uid: new_uid(),
            start: change.start,
            end: change.start + length,
            status: BookingStatus::Accepted,
            created_at: now,
            updated_at: now,
            rescheduled_from: Some(old.uid.clone()),
            rescheduling_reason: change.reason,
            rescheduled_by: change.by.clone(),
            ..old
        };
        if let Some(previous) = inner.find_mut(uid) {
            previous.status = BookingStatus::Cancelled;
            previous.rescheduled_to = Some(new.uid.clone());
            previous.rescheduled_by = change.by;
            previous.updated_at = now;
        }
        inner.bookings.push(new.clone());
        Ok(new)
    }

    /// Cancels booking `uid`. Failures are booking-core `HttpError`s (calcom.md §4.5), hence
    /// [`CalcomError::Core`].
    pub(super) fn cancel(
        &self,
        uid: &str,
        reason: Option<String>,
        by: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Booking, CalcomError> {
        let core = |status, message: &str| CalcomError::Core {
            status,
            message: message.into(),
        };
        let mut inner = self.lock();
        let Some(booking) = inner.find_mut(uid) else {
            return Err(core(StatusCode::NOT_FOUND, "Booking not found."));
        };
        if booking.status == BookingStatus::Cancelled {
            return Err(core(
                StatusCode::BAD_REQUEST,
                "This booking has already been cancelled.",
            ));
        }
        if booking.end < now {
            return Err(core(
                StatusCode::BAD_REQUEST,
                "Cannot cancel a booking that has already ended",
            ));
        }
        booking.status = BookingStatus::Cancelled;
        booking.cancellation_reason = reason;
        booking.cancelled_by = by;
        booking.updated_at = now;
        Ok(booking.clone())
    }
}

/// A booking uid like Cal.com's: a random v4 UUID in short-uuid's flickrBase58 alphabet,
/// left-padded to 22 characters (e.g. `bFJeNb2uX8ANpT3JL5EfXw`). URL-safe by construction.
fn new_uid() -> String {
    const ALPHABET: &[u8; 58] = b"123456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";
    const LEN: usize = 22;
    let mut n = uuid::Uuid::new_v4().as_u128();
    let mut digits = Vec::with_capacity(LEN);
    while n > 0 {
        digits.push(ALPHABET[(n % 58) as usize]);
        n /= 58;
    }
    digits.resize(LEN.max(digits.len()), ALPHABET[0]);
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::calcom::catalog;
    use chrono::TimeZone;
    use std::sync::Arc;

    fn new_booking(start: DateTime<Utc>) -> NewBooking {
        let demo = catalog::demo_account();
        NewBooking {
            event_type: demo.event_types[0].clone(),
            host: demo.host,
            start,
            attendee: Attendee {
                name: "Alice".into(),
                email: "alice@example.com".into(),
                phone: None,
                time_zone: "Europe/Berlin".into(),
                language: "de".into(),
            },
            guests: Vec::new(),
            location: None,
            metadata: Map::new(),
            responses: Map::new(),
            reserved_slot_uid: None,
        }
    }

    #[test]
    fn uids_are_22_url_safe_chars_and_differ() {
        let (a, b) = (new_uid(), new_uid());
        assert_eq!(a.len(), 22);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn parallel_store_creates_hold_one_lock() {
        let store = Arc::new(Store::default());
        let now = Utc.with_ymd_and_hms(2050, 9, 1, 8, 0, 0).unwrap();
        let start = Utc.with_ymd_and_hms(2050, 9, 5, 7, 0, 0).unwrap();
        let outcomes: Vec<bool> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    let store = Arc::clone(&store);
                    scope.spawn(move || {
                        let schedule = catalog::demo_account().schedule;
                        store.create(new_booking(start), &schedule, now).is_ok()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1);
        assert_eq!(store.all().len(), 1);
    }
}
