//! The [`Breaker`] actor and the one message it handles, [`CalendarCall`].

use super::UpstreamPolicy;
use super::compose::{OpInfo, run_with_retries, through_circuit};
use super::metrics::TransitionMetrics;
use crate::domain::booking::{
    Booking, BookingQuery, BookingRequest, CancelRequest, EventType, RescheduleRequest,
    ReservationRequest, Slot, SlotQuery, SlotReservation, UpstreamError, Webhook,
    WebhookSubscription,
};
use crate::domain::ids::{BookingUid, CompanyId};
use crate::ports::CalendarApi;
use crate::ratelimit::{Lane, Limiter, admit_calcom};
use crate::resilience::{CircuitBreaker, RetryBudget};
use crate::supervision::{RestartBudget, guard};
use actix::prelude::*;
use secrecy::SecretString;
use std::sync::Arc;
use std::time::Duration;

/// One Cal.com operation.
#[derive(Debug, Clone)]
pub enum CalendarOp {
    /// `GET /v2/event-types`: the key owner's event types (reference/calcom.md §3).
    EventTypes,
    /// `GET /v2/slots?format=range` for the query's event type and local days (reference/calcom.md
    /// §2).
    Slots(SlotQuery),
    /// `POST /v2/bookings` (reference/calcom.md §4.1). Not serialised here: slot-changing work goes
    /// through the company's [`TenantSession`](crate::tenant::TenantSession).
    CreateBooking(BookingRequest),
    /// `GET /v2/bookings` with the query's filters (reference/calcom.md §4.3).
    ListBookings(BookingQuery),
    /// `GET /v2/bookings/{uid}` (reference/calcom.md §4.2).
    GetBooking(BookingUid),
    /// `POST /v2/slots/reservations` (reference/calcom.md §2 "Slot holds"). Never retried
    /// here: a lost answer may have made a hold.
    ReserveSlot(ReservationRequest),
    /// `PATCH /v2/slots/reservations/{uid}`: renew a hold.
    RenewReservation(String, ReservationRequest),
    /// `DELETE /v2/slots/reservations/{uid}`: release a hold.
    ReleaseReservation(String),
    /// `POST /v2/bookings/{uid}/reschedule` (reference/calcom.md §4.4). Never retried here.
    Reschedule(BookingUid, RescheduleRequest),
    /// `POST /v2/bookings/{uid}/cancel` (reference/calcom.md §4.5). Never retried here.
    Cancel(BookingUid, CancelRequest),
    /// `POST /v2/webhooks` (reference/calcom.md §6).
    CreateWebhook(WebhookSubscription),
    /// `GET /v2/webhooks`.
    ListWebhooks,
}

impl CalendarOp {
    fn name(&self) -> &'static str {
        match self {
            Self::EventTypes => "getEventTypes",
            Self::Slots(_) => "getSlots",
            Self::CreateBooking(_) => "createBooking",
            Self::ListBookings(_) => "getBookings",
            Self::GetBooking(_) => "getBooking",
            Self::ReserveSlot(_) => "reserveSlot",
            Self::RenewReservation(..) => "renewReservation",
            Self::ReleaseReservation(_) => "releaseReservation",
            Self::Reschedule(..) => "rescheduleBooking",
            Self::Cancel(..) => "cancelBooking",
            Self::CreateWebhook(_) => "createWebhook",
            Self::ListWebhooks => "listWebhooks",
        }
    }

    /// Whether repeating the operation after a lost answer could do it twice: such operations
    /// get one attempt here, and their callers look up what happened before trying again.
    fn changes_state(&self) -> bool {
        matches!(
            self,
            Self::CreateBooking(_)
                | Self::ReserveSlot(_)
                | Self::Reschedule(..)
                | Self::Cancel(..)
                | Self::CreateWebhook(_)
        )
    }
}

/// Result of a [`CalendarOp`].
#[derive(Debug, Clone)]
pub enum CalendarOut {
    /// Answer to [`CalendarOp::EventTypes`].
    EventTypes(Vec<EventType>),
    /// Answer to [`CalendarOp::Slots`]: free slots in time order, with the UTC offset of the
    /// queried zone.
    Slots(Vec<Slot>),
    /// Answer to [`CalendarOp::CreateBooking`] (the new booking) and [`CalendarOp::GetBooking`];
    /// for a recurring series, its first occurrence.
    Booking(Booking),
    /// Answer to [`CalendarOp::ListBookings`]: at most `take` bookings, in Cal.com's order.
    Bookings(Vec<Booking>),
    /// Answer to [`CalendarOp::ReserveSlot`] and [`CalendarOp::RenewReservation`].
    Reservation(SlotReservation),
    /// Answer to [`CalendarOp::ReleaseReservation`].
    Released(()),
    /// Answer to [`CalendarOp::CreateWebhook`].
    Webhook(Webhook),
    /// Answer to [`CalendarOp::ListWebhooks`].
    Webhooks(Vec<Webhook>),
}

/// Message: run one operation through the breaker.
#[derive(Debug, Message)]
#[rtype(result = "Result<CalendarOut, UpstreamError>")]
pub struct CalendarCall {
    /// What to do.
    pub op: CalendarOp,
    /// Retry transient failures here (outside the breaker). Off for work that has its own
    /// retry — booking jobs — so a failing upstream never holds a tenant session.
    pub retry: bool,
    /// Whose work this is: live calls may use the credential's whole request budget, gateway
    /// and outbox work all but the live reserve.
    pub lane: Lane,
}

/// Breaker for Cal.com with one company's API key.
pub struct Breaker {
    api: Arc<dyn CalendarApi>,
    key: SecretString,
    /// The credential's owner: the rate limit is kept per company, never per raw key, so the
    /// key never becomes a map key, a Redis key or a log field.
    company: CompanyId,
    /// Per-credential request budget, checked before every attempt.
    limiter: Arc<dyn Limiter>,
    circuit: CircuitBreaker,
    policy: UpstreamPolicy,
    retries: RetryBudget,
    budget: RestartBudget,
}

impl Breaker {
    /// A closed breaker for `company` using `key`; `retries` is the upstream's shared budget,
    /// `limiter` holds the credential's request budget.
    pub fn new(
        api: Arc<dyn CalendarApi>,
        key: SecretString,
        company: CompanyId,
        limiter: Arc<dyn Limiter>,
        policy: UpstreamPolicy,
        retries: RetryBudget,
        budget: RestartBudget,
    ) -> Self {
        let observer = TransitionMetrics::closed("calcom", company);
        Self {
            api,
            key,
            company,
            limiter,
            circuit: CircuitBreaker::with_observer(policy.breaker, Arc::new(observer)),
            policy,
            retries,
            budget,
        }
    }

    /// The circuit, for reading its state (health, `circuit-status`).
    pub fn circuit(&self) -> CircuitBreaker {
        self.circuit.clone()
    }
}

impl Actor for Breaker {
    type Context = Context<Self>;
}

impl Supervised for Breaker {}

crate::guarded_actor!(Breaker, "breaker");

async fn run(
    api: Arc<dyn CalendarApi>,
    key: SecretString,
    op: CalendarOp,
) -> Result<CalendarOut, UpstreamError> {
    Ok(match op {
        CalendarOp::EventTypes => CalendarOut::EventTypes(api.event_types(&key).await?),
        CalendarOp::Slots(q) => CalendarOut::Slots(api.slots(&key, &q).await?),
        CalendarOp::CreateBooking(r) => CalendarOut::Booking(api.create_booking(&key, &r).await?),
        CalendarOp::ListBookings(q) => CalendarOut::Bookings(api.list_bookings(&key, &q).await?),
        CalendarOp::GetBooking(uid) => CalendarOut::Booking(api.get_booking(&key, &uid).await?),
        CalendarOp::ReserveSlot(r) => CalendarOut::Reservation(api.reserve_slot(&key, &r).await?),
        CalendarOp::RenewReservation(uid, r) => {
            CalendarOut::Reservation(api.renew_reservation(&key, &uid, &r).await?)
        }
        CalendarOp::ReleaseReservation(uid) => {
            CalendarOut::Released(api.release_reservation(&key, &uid).await?)
        }
        CalendarOp::Reschedule(uid, r) => {
            CalendarOut::Booking(api.reschedule_booking(&key, &uid, &r).await?)
        }
        CalendarOp::Cancel(uid, r) => {
            CalendarOut::Booking(api.cancel_booking(&key, &uid, &r).await?)
        }
        CalendarOp::CreateWebhook(w) => CalendarOut::Webhook(api.create_webhook(&key, &w).await?),
        CalendarOp::ListWebhooks => CalendarOut::Webhooks(api.list_webhooks(&key).await?),
    })
}

/// The credential's owner, its request budget and the lane a call is counted in.
#[derive(Clone)]
struct Credential {
    company: CompanyId,
    limiter: Arc<dyn Limiter>,
    lane: Lane,
}

/// One attempt: admitted by the credential's rate limit (a refusal sends nothing and does not
/// count against the circuit), then through the circuit, with the timeout inside it.
async fn attempt(
    circuit: CircuitBreaker,
    api: Arc<dyn CalendarApi>,
    key: SecretString,
    op: CalendarOp,
    timeout: Duration,
    credential: Credential,
) -> Result<CalendarOut, UpstreamError> {
    admit_calcom(
        credential.limiter.as_ref(),
        credential.company,
        credential.lane,
    )
    .await
    .map_err(|denied| UpstreamError::Throttled {
        service: "calcom",
        retry_after: denied.retry_after,
    })?;
    through_circuit("calcom", &circuit, timeout, run(api, key, op)).await
}

impl Handler<CalendarCall> for Breaker {
    type Result = ResponseFuture<Result<CalendarOut, UpstreamError>>;

    fn handle(
        &mut self,
        CalendarCall {
            op,
            retry: retries_allowed,
            lane,
        }: CalendarCall,
        ctx: &mut Self::Context,
    ) -> Self::Result {
        guard(
            self,
            ctx,
            |this, _| {
                let api = Arc::clone(&this.api);
                let key = this.key.clone();
                let circuit = this.circuit.clone();
                let policy = this.policy;
                let retries = this.retries.clone();
                let credential = Credential {
                    company: this.company,
                    limiter: Arc::clone(&this.limiter),
                    lane,
                };
                async move {
                    let info = OpInfo {
                        service: "calcom",
                        name: op.name(),
                        retry: retries_allowed && !op.changes_state(),
                    };
                    run_with_retries(info, &policy, &retries, || {
                        attempt(
                            circuit.clone(),
                            Arc::clone(&api),
                            key.clone(),
                            op.clone(),
                            policy.call_timeout,
                            credential.clone(),
                        )
                    })
                    .await
                }
            },
            |m| {
                Err(UpstreamError::Transport {
                    service: "calcom",
                    message: format!("breaker failed: {m}"),
                })
            },
        )
    }
}
