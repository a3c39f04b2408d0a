//! The `Breaker` actor: fronts one upstream (Cal.com) for one company credential. The timeout
//! runs inside the circuit breaker (failsafe: 5 consecutive failures open it for a fixed time);
//! only upstream failures count (transport, 5xx, 429), never a refusal of our input.

use crate::domain::booking::{
    Booking, BookingQuery, BookingRequest, EventType, Slot, SlotQuery, UpstreamError,
};
use crate::domain::ids::{BookingUid, CompanyId};
use crate::metric_names as m;
use crate::ports::CalendarApi;
use actix::prelude::*;
use failsafe::futures::CircuitBreaker as _;
use failsafe::{Config, StateMachine, backoff, failure_policy};
use secrecy::SecretString;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Breaker policy (`[breaker.calcom]` in config/default.toml).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BreakerPolicy {
    /// Consecutive failures that open the circuit.
    pub failure_threshold: u32,
    /// How long the circuit stays open before a trial call.
    pub open_for: Duration,
    /// Per-call timeout, inside the breaker.
    pub call_timeout: Duration,
}

impl Default for BreakerPolicy {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            open_for: Duration::from_secs(60),
            call_timeout: Duration::from_secs(5),
        }
    }
}

/// Publishes breaker transitions as `mcp_circuit_breaker_state{service,company}`.
#[derive(Clone, Debug)]
struct StateGauge {
    service: &'static str,
    company: String,
}

impl StateGauge {
    fn set(&self, state: f64) {
        metrics::gauge!(m::CIRCUIT_BREAKER_STATE, "service" => self.service, "company" => self.company.clone())
            .set(state);
    }
}

impl failsafe::Instrument for StateGauge {
    fn on_call_rejected(&self) {}
    fn on_open(&self) {
        tracing::warn!(service = self.service, company = %self.company, "circuit breaker opened");
        self.set(1.0);
    }
    fn on_half_open(&self) {
        self.set(2.0);
    }
    fn on_closed(&self) {
        self.set(0.0);
    }
}

type Machine = StateMachine<failure_policy::ConsecutiveFailures<backoff::Constant>, StateGauge>;

/// One Cal.com operation.
#[derive(Debug, Clone)]
pub enum CalendarOp {
    EventTypes,
    Slots(SlotQuery),
    CreateBooking(BookingRequest),
    ListBookings(BookingQuery),
    GetBooking(BookingUid),
}

impl CalendarOp {
    fn name(&self) -> &'static str {
        match self {
            Self::EventTypes => "getEventTypes",
            Self::Slots(_) => "getSlots",
            Self::CreateBooking(_) => "createBooking",
            Self::ListBookings(_) => "getBookings",
            Self::GetBooking(_) => "getBooking",
        }
    }
}

/// Result of a [`CalendarOp`].
#[derive(Debug, Clone)]
pub enum CalendarOut {
    EventTypes(Vec<EventType>),
    Slots(Vec<Slot>),
    Booking(Booking),
    Bookings(Vec<Booking>),
}

/// Message: run one operation through the breaker.
#[derive(Debug, Message)]
#[rtype(result = "Result<CalendarOut, UpstreamError>")]
pub struct CalendarCall(pub CalendarOp);

/// Breaker for Cal.com with one company's API key.
pub struct Breaker {
    api: Arc<dyn CalendarApi>,
    key: SecretString,
    machine: Machine,
    policy: BreakerPolicy,
}

impl Breaker {
    /// A closed breaker for `company` using `key`.
    pub fn new(
        api: Arc<dyn CalendarApi>,
        key: SecretString,
        company: CompanyId,
        policy: BreakerPolicy,
    ) -> Self {
        let gauge = StateGauge {
            service: "calcom",
            company: company.to_string(),
        };
        gauge.set(0.0);
        let machine = Config::new()
            .failure_policy(failure_policy::consecutive_failures(
                policy.failure_threshold,
                backoff::constant(policy.open_for),
            ))
            .instrument(gauge)
            .build();
        Self {
            api,
            key,
            machine,
            policy,
        }
    }
}

impl Actor for Breaker {
    type Context = Context<Self>;
}

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
    })
}

impl Handler<CalendarCall> for Breaker {
    type Result = ResponseFuture<Result<CalendarOut, UpstreamError>>;

    fn handle(&mut self, CalendarCall(op): CalendarCall, _ctx: &mut Self::Context) -> Self::Result {
        let api = Arc::clone(&self.api);
        let key = self.key.clone();
        let machine = self.machine.clone();
        let timeout = self.policy.call_timeout;
        let retry_after = Some(self.policy.open_for);
        Box::pin(async move {
            let name = op.name();
            let started = Instant::now();
            let attempt = async move {
                match tokio::time::timeout(timeout, run(api, key, op)).await {
                    Ok(result) => result,
                    Err(_) => Err(UpstreamError::Transport {
                        service: "calcom",
                        message: format!("no answer within {} ms", timeout.as_millis()),
                    }),
                }
            };
            let result = machine
                .call_with(UpstreamError::is_breaker_failure, attempt)
                .await
                .map_err(|e| match e {
                    failsafe::Error::Rejected => UpstreamError::CircuitOpen {
                        service: "calcom",
                        retry_after,
                    },
                    failsafe::Error::Inner(inner) => inner,
                });
            metrics::histogram!(m::API_DURATION_SECONDS, "service" => "calcom", "method" => name)
                .record(started.elapsed().as_secs_f64());
            result
        })
    }
}

/// Typed front of a [`Breaker`] address.
#[derive(Clone)]
pub struct CalendarHandle {
    addr: Addr<Breaker>,
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
    /// Wraps the address of a running breaker.
    pub fn new(addr: Addr<Breaker>) -> Self {
        Self { addr }
    }

    async fn call(&self, op: CalendarOp) -> Result<CalendarOut, UpstreamError> {
        self.addr.send(CalendarCall(op)).await.map_err(closed)?
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

    /// One booking.
    pub async fn get_booking(&self, uid: BookingUid) -> Result<Booking, UpstreamError> {
        expect_out!(self.call(CalendarOp::GetBooking(uid)).await?, Booking)
    }
}
