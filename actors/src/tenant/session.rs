//! The per-company booking session: serialises a company's slot-changing work under its
//! cross-instance lock, and books each slot once per idempotency key
//! ([`crate::domain::book_once`] decides; the session calls Cal.com).

use super::lock::TenantLock;
use crate::breaker::CalendarHandle;
use crate::domain::book_once::{self, BookOutcome};
use crate::domain::booking::{
    Booking, BookingRequest, CancelRequest, RescheduleRequest, UpstreamError,
};
use crate::domain::ids::BookingUid;
use crate::domain::ids::CompanyId;
use crate::supervision::{RestartBudget, catch, restart_after_panic};
use actix::prelude::*;
use std::future::Future;

/// Message: book one slot for this company, exactly once per idempotency key.
#[derive(Debug, Message)]
#[rtype(result = "Result<BookOutcome, UpstreamError>")]
pub struct Book {
    /// Must carry `idempotency_key` in its metadata.
    pub request: BookingRequest,
    /// Our key for this booking, e.g. `retell:<company>:<call_id>:book`; a booking with it in
    /// its metadata is ours.
    pub idempotency_key: String,
    /// Minutes; bounds the search for an earlier booking.
    pub duration_min: u32,
    /// Look for our own booking before creating (a retry, whose first try may have
    /// succeeded at Cal.com without us hearing the answer).
    pub look_up_first: bool,
}

/// The per-company booking session: one slot-changing operation at a time, so two calls of
/// one company cannot race for one slot inside this process.
pub struct TenantSession {
    company: CompanyId,
    calendar: CalendarHandle,
    /// Held around each booking, so other instances wait for this one.
    lock: TenantLock,
    budget: RestartBudget,
}

impl TenantSession {
    /// The session of `company`, booking through `calendar` under `lock`.
    pub(super) fn new(
        company: CompanyId,
        calendar: CalendarHandle,
        lock: TenantLock,
        budget: RestartBudget,
    ) -> Self {
        Self {
            company,
            calendar,
            lock,
            budget,
        }
    }
}

impl Actor for TenantSession {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(256);
    }
}

/// Finds a live booking of ours by idempotency key around `request.start`.
async fn find_own(
    calendar: &CalendarHandle,
    request: &BookingRequest,
    key: &str,
    duration_min: u32,
) -> Result<Option<Booking>, UpstreamError> {
    let bookings = calendar
        .list_bookings_once(book_once::look_up_query(request, duration_min))
        .await?;
    Ok(book_once::own_booking(bookings, key))
}

impl Supervised for TenantSession {}

crate::guarded_actor!(TenantSession, "tenant_session");

impl Handler<Book> for TenantSession {
    type Result = AtomicResponse<Self, Result<BookOutcome, UpstreamError>>;

    fn handle(&mut self, msg: Book, _ctx: &mut Self::Context) -> Self::Result {
        let calendar = self.calendar.clone();
        self.serialised(book(calendar, msg))
    }
}

impl TenantSession {
    /// Runs `work` under the company lock, one at a time in this session. A panic in `work`
    /// releases the lock, restarts the session and answers a transport error.
    fn serialised<T: 'static>(
        &mut self,
        work: impl Future<Output = Result<T, UpstreamError>> + 'static,
    ) -> AtomicResponse<Self, Result<T, UpstreamError>> {
        let lock = self.lock.clone();
        let company = self.company;
        let locked = async move {
            lock.acquire(company).await?;
            // A panic while booking must not keep the lock until its lease ends: every instance
            // would wait for it.
            let result = catch(work).await;
            lock.release(company).await;
            Ok(result)
        };
        AtomicResponse::new(Box::pin(catch(locked).into_actor(self).map(
            |result, act, ctx| match result {
                Ok(Err(lock_failed)) => Err(lock_failed),
                Ok(Ok(Ok(outcome))) => outcome,
                Ok(Ok(Err(panic))) | Err(panic) => {
                    let reply = restart_after_panic(act, ctx, &panic);
                    Err(UpstreamError::Transport {
                        service: "calcom",
                        message: format!("booking session failed: {reply}"),
                    })
                }
            },
        )))
    }
}

/// Message: move booking `uid` to `request.start` (Cal.com makes a new booking and cancels
/// the old one, reference/calcom.md §4.4), serialised with the company's other slot-changing
/// work. Answers the new booking; one attempt (the outbox retries a `reschedule` job).
#[derive(Debug, Message)]
#[rtype(result = "Result<Booking, UpstreamError>")]
pub struct Reschedule {
    /// The booking to move.
    pub uid: BookingUid,
    /// New start (UTC), reason, reservation.
    pub request: RescheduleRequest,
}

impl Handler<Reschedule> for TenantSession {
    type Result = AtomicResponse<Self, Result<Booking, UpstreamError>>;

    fn handle(&mut self, msg: Reschedule, _ctx: &mut Self::Context) -> Self::Result {
        let calendar = self.calendar.clone();
        self.serialised(async move { calendar.reschedule_booking(msg.uid, msg.request).await })
    }
}

/// Message: cancel booking `uid` (reference/calcom.md §4.5), serialised with the company's
/// other slot-changing work. Answers the cancelled booking; an already cancelled one is
/// [`UpstreamError::Rejected`] (400), which callers count as done.
#[derive(Debug, Message)]
#[rtype(result = "Result<Booking, UpstreamError>")]
pub struct Cancel {
    /// The booking to cancel.
    pub uid: BookingUid,
    /// Why.
    pub request: CancelRequest,
}

impl Handler<Cancel> for TenantSession {
    type Result = AtomicResponse<Self, Result<Booking, UpstreamError>>;

    fn handle(&mut self, msg: Cancel, _ctx: &mut Self::Context) -> Self::Result {
        let calendar = self.calendar.clone();
        self.serialised(async move { calendar.cancel_booking(msg.uid, msg.request).await })
    }
}

/// Books once per idempotency key, in the order [`book_once`] describes.
async fn book(calendar: CalendarHandle, msg: Book) -> Result<BookOutcome, UpstreamError> {
    let Book {
        request,
        idempotency_key: key,
        duration_min,
        look_up_first,
    } = msg;
    if look_up_first && let Some(found) = find_own(&calendar, &request, &key, duration_min).await? {
        return Ok(BookOutcome::Found(found));
    }
    match calendar.create_booking(request.clone()).await {
        Ok(booking) => Ok(BookOutcome::Created(booking)),
        Err(e) if book_once::look_up_after(&e) => {
            let look_up = find_own(&calendar, &request, &key, duration_min).await;
            book_once::after_look_up(e, look_up)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::breaker::{Breaker, UpstreamPolicy};
    use crate::domain::book_once::tests::{slot_taken, status};
    use crate::domain::booking::{BookingQuery, CalcomProfile, EventType, Slot, SlotQuery};
    use crate::ports::CalendarApi;
    use crate::ratelimit::{LocalLimiter, Quotas};
    use crate::resilience::RetryBudget;
    use async_trait::async_trait;
    use secrecy::SecretString;
    use std::num::NonZeroU32;
    use std::sync::Arc;

    /// Cal.com whose create says "slot taken" and whose list answers `list_status`.
    struct Refusing {
        list_status: u16,
    }

    #[async_trait]
    impl CalendarApi for Refusing {
        async fn event_types(&self, _: &SecretString) -> Result<Vec<EventType>, UpstreamError> {
            unreachable!()
        }
        async fn slots(&self, _: &SecretString, _: &SlotQuery) -> Result<Vec<Slot>, UpstreamError> {
            unreachable!()
        }
        async fn create_booking(
            &self,
            _: &SecretString,
            _: &BookingRequest,
        ) -> Result<Booking, UpstreamError> {
            Err(slot_taken())
        }
        async fn list_bookings(
            &self,
            _: &SecretString,
            _: &BookingQuery,
        ) -> Result<Vec<Booking>, UpstreamError> {
            match self.list_status {
                200 => Ok(vec![]),
                s => Err(status(s, "unavailable")),
            }
        }
        async fn get_booking(
            &self,
            _: &SecretString,
            _: &BookingUid,
        ) -> Result<Booking, UpstreamError> {
            unreachable!()
        }
        async fn me(&self, _: &SecretString) -> Result<CalcomProfile, UpstreamError> {
            unreachable!()
        }
        async fn team_event_types(
            &self,
            _: &SecretString,
            _: i64,
        ) -> Result<Vec<EventType>, UpstreamError> {
            unreachable!()
        }
    }

    fn calendar(list_status: u16) -> CalendarHandle {
        let breaker = Breaker::new(
            Arc::new(Refusing { list_status }),
            SecretString::from("cal_test"),
            CompanyId(1),
            Arc::new(LocalLimiter::new(&Quotas::uniform(NonZeroU32::MAX))),
            UpstreamPolicy::default(),
            RetryBudget::default(),
            RestartBudget::new(10, std::time::Duration::from_secs(60)),
        );
        let circuit = breaker.circuit();
        CalendarHandle::new(breaker.start(), circuit)
    }

    fn request() -> Book {
        Book {
            request: book_once::tests::request(),
            idempotency_key: "k".into(),
            duration_min: 30,
            look_up_first: false,
        }
    }

    #[actix_rt::test]
    async fn slot_taken_with_a_failed_look_up_is_retryable_not_a_dead_letter() {
        let err = book(calendar(503), request()).await.unwrap_err();
        assert!(err.is_transient(), "must be retried, got {err}");
        assert!(!err.is_slot_unavailable());
    }

    #[actix_rt::test]
    async fn slot_taken_by_someone_else_stays_slot_taken() {
        let err = book(calendar(200), request()).await.unwrap_err();
        assert!(err.is_slot_unavailable(), "{err}");
    }
}
