//! The breaker actors: [`Breaker`] fronts Cal.com and [`RetellBreaker`] Retell for one company
//! credential. Both are composed from the units in
//! [`crate::resilience`]: retries with backoff and a per-upstream retry budget **outside** the
//! circuit breaker, the per-call timeout **inside** it. Only upstream failures count
//! (timeouts, connection errors, 5xx, 429, slow calls), never a refusal of our input.
//! Creating a booking is not retried here: the booking job retries it with a look-up of its
//! own earlier booking first (see [`crate::tenant`]).
//!
//! ## Layout
//! - [`actor`]: the [`Breaker`] actor and its message, [`CalendarCall`] ([`CalendarOp`] in,
//!   [`CalendarOut`] out).
//! - [`handle`]: [`CalendarHandle`], the typed front of a breaker's address.
//! - [`retell`]: [`RetellBreaker`] and its front [`RetellHandle`], for the Retell API.
//! - `compose`: how one call is composed from the resilience units, shared by both.
//! - [`metrics`]: publishes the circuit's transitions (`mcp_circuit_breaker_state`, …).

pub mod actor;
mod compose;
pub mod handle;
pub mod metrics;
pub mod retell;

pub use actor::{Breaker, CalendarCall, CalendarOp, CalendarOut};
pub use handle::CalendarHandle;
pub use metrics::state_value;
pub use retell::{RetellBreaker, RetellHandle};

use crate::resilience::{BreakerPolicy, BudgetPolicy, RetryPolicy};
use std::time::Duration;

/// Resilience settings of one upstream (`[resilience.<upstream>]` in config/default.toml).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UpstreamPolicy {
    /// Circuit breaker: thresholds, open time, half-open probes, slow-call rule.
    pub breaker: BreakerPolicy,
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
            breaker: BreakerPolicy::default(),
            retry: RetryPolicy::default(),
            budget: BudgetPolicy::default(),
            call_timeout: Duration::from_secs(5),
        }
    }
}
