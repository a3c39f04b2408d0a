//! # Resilience — small units the `Breaker` actor is assembled from
//!
//! Each mechanism is its own separately tested unit, on tokio's clock (so tests run with
//! `start_paused` and `advance`, never on the wall clock). One breaker and one retry budget
//! per upstream (Cal.com, Retell); their policies come from `[resilience.calcom]` /
//! `[resilience.retell]` in config/default.toml.
//!
//! How they compose, from the outside in:
//!
//! ```text
//! retry(policy, budget, || breaker.call(service, timeout(request)))
//! ```
//!
//! Retries sit outside the breaker, so each attempt counts towards opening it and an open
//! breaker stops the retrying; the timeout sits inside, so a timeout is a failure.
//!
//! ## Layout
//! - [`circuit`]: [`CircuitBreaker`] — closed / open / half-open with a probe limit, failure
//!   counting by failsafe's `ConsecutiveFailures`, the failure and slow-call rules
//!   ([`CircuitBreaker::classify`]), a state getter and a [`TransitionObserver`].
//! - [`retry`](mod@retry): [`retry()`] — exponential backoff with jitter, `Retry-After`, no
//!   retry of 4xx or of an open breaker.
//! - [`backoff`]: [`Backoff`] — the one schedule of waits (backon), and [`retry_while`], the
//!   loop on it; also used by the outbox's retry delays and the booking-lock polling.
//! - [`budget`]: [`RetryBudget`] — caps retries at a share of recent requests (tower's
//!   `TpsBudget`).

pub mod backoff;
pub mod budget;
pub mod circuit;
pub mod retry;

pub use backoff::{Backoff, retry_adjusted, retry_while};
pub use budget::{BudgetPolicy, InvalidBudgetPolicy, RetryBudget};
pub use circuit::{
    BreakerPolicy, BreakerState, CircuitBreaker, Outcome, Permit, Rejected, StateKind,
    TransitionObserver,
};
pub use retry::{RetryPolicy, retry};
