//! [`CalendarHandle`]: typed calls to a [`Breaker`], one method per Cal.com operation.

use super::actor::{Breaker, CalendarCall, CalendarOp, CalendarOut};
use crate::domain::booking::{
    Booking, BookingQuery, BookingRequest, CancelRequest, EventType, RescheduleRequest,
    ReservationRequest, Slot, SlotQuery, SlotReservation, UpstreamError, Webhook,
    WebhookSubscription,
};
use crate::domain::ids::BookingUid;
use crate::ratelimit::Lane;
use crate::resilience::{BreakerState, CircuitBreaker};
use actix::prelude::*;

/// Typed front of a [`Breaker`] address, with a read-only view of its circuit. Its calls are
/// counted in the [`Lane::Background`] share of the credential's request budget unless the
/// handle came from [`CalendarHandle::live`].
#[derive(Clone)]
pub struct CalendarHandle {
    addr: Addr<Breaker>,
    circuit: CircuitBreaker,
    lane: Lane,
}

fn closed(e: MailboxError) -> UpstreamError {
    UpstreamError::Transport {
        service: "calcom",
        message: format!("breaker actor unavailable: {e}"),
    }
}

macro_rules! expect_out {
    ($out:expr, $variant:ident) => {
        match $out {
            CalendarOut::$variant(v) => Ok(v),
            other => unreachable!(
                "breaker answered {other:?} to a {} call",
                stringify!($variant)
            ),
        }
    };
}

impl CalendarHandle {
    /// Wraps the address of a running breaker, for background work.
    pub fn new(addr: Addr<Breaker>, circuit: CircuitBreaker) -> Self {
        Self {
            addr,
            circuit,
            lane: Lane::Background,
        }
    }

    /// The same breaker for a live call: its requests may use the live reserve of the
    /// credential's budget, which gateway and outbox work cannot.
    pub fn live(&self) -> Self {
        self.in_lane(Lane::Live)
    }

    /// The same breaker, its requests counted in `lane`.
    pub fn in_lane(&self, lane: Lane) -> Self {
        Self {
            lane,
            ..self.clone()
        }
    }

    /// The circuit breaker's current state (never changes it).
    pub fn state(&self) -> BreakerState {
        self.circuit.state()
    }

    async fn call(&self, op: CalendarOp) -> Result<CalendarOut, UpstreamError> {
        self.addr
            .send(CalendarCall {
                op,
                retry: true,
                lane: self.lane,
            })
            .await
            .map_err(closed)?
    }

    /// The company's Cal.com event types.
    pub async fn event_types(&self) -> Result<Vec<EventType>, UpstreamError> {
        expect_out!(self.call(CalendarOp::EventTypes).await?, EventTypes)
    }

    /// Free slots, in time order.
    pub async fn slots(&self, query: SlotQuery) -> Result<Vec<Slot>, UpstreamError> {
        expect_out!(self.call(CalendarOp::Slots(query)).await?, Slots)
    }

    /// Creates a booking (not serialised; use the tenant session for that).
    pub async fn create_booking(&self, request: BookingRequest) -> Result<Booking, UpstreamError> {
        expect_out!(
            self.call(CalendarOp::CreateBooking(request)).await?,
            Booking
        )
    }

    /// Lists bookings.
    pub async fn list_bookings(&self, query: BookingQuery) -> Result<Vec<Booking>, UpstreamError> {
        expect_out!(self.call(CalendarOp::ListBookings(query)).await?, Bookings)
    }

    /// Lists bookings with a single attempt (no retry here; the caller has its own).
    pub async fn list_bookings_once(
        &self,
        query: BookingQuery,
    ) -> Result<Vec<Booking>, UpstreamError> {
        let call = CalendarCall {
            op: CalendarOp::ListBookings(query),
            retry: false,
            lane: self.lane,
        };
        expect_out!(self.addr.send(call).await.map_err(closed)??, Bookings)
    }

    /// One booking.
    pub async fn get_booking(&self, uid: BookingUid) -> Result<Booking, UpstreamError> {
        expect_out!(self.call(CalendarOp::GetBooking(uid)).await?, Booking)
    }

    /// Holds a slot (one attempt; see [`CalendarOp::ReserveSlot`]). Not serialised: Cal.com
    /// decides between two holders of one slot.
    pub async fn reserve_slot(
        &self,
        request: ReservationRequest,
    ) -> Result<SlotReservation, UpstreamError> {
        expect_out!(
            self.call(CalendarOp::ReserveSlot(request)).await?,
            Reservation
        )
    }

    /// Renews hold `uid` for `request.reservation_duration_min` from now.
    pub async fn renew_reservation(
        &self,
        uid: String,
        request: ReservationRequest,
    ) -> Result<SlotReservation, UpstreamError> {
        expect_out!(
            self.call(CalendarOp::RenewReservation(uid, request))
                .await?,
            Reservation
        )
    }

    /// Releases hold `uid`.
    pub async fn release_reservation(&self, uid: String) -> Result<(), UpstreamError> {
        expect_out!(
            self.call(CalendarOp::ReleaseReservation(uid)).await?,
            Released
        )
    }

    /// Moves booking `uid` (one attempt; use the tenant session for slot-changing work).
    pub async fn reschedule_booking(
        &self,
        uid: BookingUid,
        request: RescheduleRequest,
    ) -> Result<Booking, UpstreamError> {
        expect_out!(
            self.call(CalendarOp::Reschedule(uid, request)).await?,
            Booking
        )
    }

    /// Cancels booking `uid` (one attempt; use the tenant session for slot-changing work).
    pub async fn cancel_booking(
        &self,
        uid: BookingUid,
        request: CancelRequest,
    ) -> Result<Booking, UpstreamError> {
        expect_out!(self.call(CalendarOp::Cancel(uid, request)).await?, Booking)
    }

    /// Subscribes a webhook (one attempt).
    pub async fn create_webhook(
        &self,
        subscription: WebhookSubscription,
    ) -> Result<Webhook, UpstreamError> {
        expect_out!(
            self.call(CalendarOp::CreateWebhook(subscription)).await?,
            Webhook
        )
    }

    /// The key owner's webhook subscriptions.
    pub async fn list_webhooks(&self) -> Result<Vec<Webhook>, UpstreamError> {
        expect_out!(self.call(CalendarOp::ListWebhooks).await?, Webhooks)
    }
}
