//! The `Breaker` actor: fronts Cal.com for one company credential, composed from the units in
//! [`crate::resilience`]: retries with backoff and a per-upstream retry budget **outside** the
//! circuit breaker, the per-call timeout **inside** it. Only upstream failures count
//! (timeouts, connection errors, 5xx, 429, slow calls), never a refusal of our input.
//! Creating a booking is not retried here: the booking job retries it with a look-up of its
//! own earlier booking first (see [`crate::tenant`]).

use crate::domain::booking::{
    Booking, BookingQuery, BookingRequest, EventType, Slot, SlotQuery, UpstreamError,
};
use crate::domain::ids::{BookingUid, CompanyId};
use crate::metric_names as m;
use crate::ports::CalendarApi;
use crate::resilience::{
    BreakerState, BudgetPolicy, CircuitBreaker, RetryBudget, RetryPolicy, StateKind,
    TransitionObserver, retry,
};
use crate::supervision::{RestartBudget, guard};
use actix::prelude::*;
use secrecy::SecretString;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Resilience settings of one upstream (`[resilience.<upstream>]` in config/default.toml).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UpstreamPolicy {
    /// Circuit breaker: thresholds, open time, half-open probes, slow-call rule.
    pub breaker: crate::resilience::BreakerPolicy,
    /// Retries outside the breaker.
    pub retry: RetryPolicy,
    /// Cap on retries relative to recent requests, shared by all companies of the upstream.
    pub budget: BudgetPolicy,
    /// Timeout of one call, inside the breaker.
    pub call_timeout: Duration,
}

impl Default for UpstreamPolicy {
    fn default() -> Self {
        Self {
            breaker: crate::resilience::BreakerPolicy::default(),
            retry: RetryPolicy::default(),
            budget: BudgetPolicy::default(),
            call_timeout: Duration::from_secs(5),
        }
    }
}

fn kind_label(kind: StateKind) -> &'static str {
    match kind {
        StateKind::Closed => "closed",
        StateKind::Open => "open",
        StateKind::HalfOpen => "half_open",
    }
}

/// The value of `mcp_circuit_breaker_state` (DESIGN §10): 0 closed, 1 open, 2 half-open.
pub fn state_value(kind: StateKind) -> f64 {
    match kind {
        StateKind::Closed => 0.0,
        StateKind::Open => 1.0,
        StateKind::HalfOpen => 2.0,
    }
}

/// Publishes transitions: `mcp_circuit_breaker_state{service,company}`,
/// `mcp_circuit_breaker_transitions_total{service,company,from,to}` and a log line.
#[derive(Clone, Debug)]
struct TransitionMetrics {
    service: &'static str,
    company: String,
}

impl TransitionObserver for TransitionMetrics {
    fn on_transition(&self, from: StateKind, to: StateKind) {
        let (service, company) = (self.service, self.company.clone());
        metrics::gauge!(m::CIRCUIT_BREAKER_STATE, "service" => service, "company" => company.clone())
            .set(state_value(to));
        metrics::counter!(m::CIRCUIT_BREAKER_TRANSITIONS_TOTAL, "service" => service, "company" => company.clone(),
            "from" => kind_label(from), "to" => kind_label(to))
        .increment(1);
        if to == StateKind::Open {
            tracing::warn!(service, %company, from = kind_label(from), "circuit breaker opened");
        } else {
            tracing::info!(service, %company, from = kind_label(from), to = kind_label(to), "circuit breaker transition");
        }
    }
}

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
}

/// Breaker for Cal.com with one company's API key.
pub struct Breaker {
    api: Arc<dyn CalendarApi>,
    key: SecretString,
    circuit: CircuitBreaker,
    policy: UpstreamPolicy,
    retries: RetryBudget,
    budget: RestartBudget,
}

impl Breaker {
    /// A closed breaker for `company` using `key`; `retries` is the upstream's shared budget.
    pub fn new(
        api: Arc<dyn CalendarApi>,
        key: SecretString,
        company: CompanyId,
        policy: UpstreamPolicy,
        retries: RetryBudget,
        budget: RestartBudget,
    ) -> Self {
        let observer = TransitionMetrics {
            service: "calcom",
            company: company.to_string(),
        };
        metrics::gauge!(m::CIRCUIT_BREAKER_STATE, "service" => "calcom", "company" => company.to_string())
            .set(state_value(StateKind::Closed));
        Self {
            api,
            key,
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
    })
}

/// One attempt: through the circuit, with the timeout inside it.
async fn attempt(
    circuit: CircuitBreaker,
    api: Arc<dyn CalendarApi>,
    key: SecretString,
    op: CalendarOp,
    timeout: Duration,
) -> Result<CalendarOut, UpstreamError> {
    circuit
        .call("calcom", async move {
            tokio::time::timeout(timeout, run(api, key, op))
                .await
                .unwrap_or_else(|_| {
                    Err(UpstreamError::Transport {
                        service: "calcom",
                        message: format!("no answer within {} ms", timeout.as_millis()),
                    })
                })
        })
        .await
}

impl Handler<CalendarCall> for Breaker {
    type Result = ResponseFuture<Result<CalendarOut, UpstreamError>>;

    fn handle(
        &mut self,
        CalendarCall {
            op,
            retry: retries_allowed,
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
                async move {
                    let name = op.name();
                    let started = Instant::now();
                    let once = || {
                        attempt(
                            circuit.clone(),
                            Arc::clone(&api),
                            key.clone(),
                            op.clone(),
                            policy.call_timeout,
                        )
                    };
                    let result = if !retries_allowed || matches!(op, CalendarOp::CreateBooking(_)) {
                        once().await
                    } else {
                        retry(&policy.retry, &retries, once).await
                    };
                    metrics::histogram!(m::API_DURATION_SECONDS, "service" => "calcom", "method" => name)
                        .record(started.elapsed().as_secs_f64());
                    result
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

/// Typed front of a [`Breaker`] address, with a read-only view of its circuit.
#[derive(Clone)]
pub struct CalendarHandle {
    addr: Addr<Breaker>,
    circuit: CircuitBreaker,
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
    pub fn new(addr: Addr<Breaker>, circuit: CircuitBreaker) -> Self {
        Self { addr, circuit }
    }

    /// The circuit breaker's current state (never changes it).
    pub fn state(&self) -> BreakerState {
        self.circuit.state()
    }

    async fn call(&self, op: CalendarOp) -> Result<CalendarOut, UpstreamError> {
        self.addr
            .send(CalendarCall { op, retry: true })
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
        };
        expect_out!(self.addr.send(call).await.map_err(closed)??, Bookings)
    }

    /// One booking.
    pub async fn get_booking(&self, uid: BookingUid) -> Result<Booking, UpstreamError> {
        expect_out!(self.call(CalendarOp::GetBooking(uid)).await?, Booking)
    }
}
