//! Circuit breaker: stops calling an upstream that keeps failing, then lets a few probe calls
//! find out whether it is back.
//!
//! ```text
//!            failure_threshold consecutive failures
//!   Closed ───────────────────────────────────────────▶ Open(until)
//!     ▲                                                  │   ▲
//!     │ close_after probe successes     first acquire()  │   │ any probe
//!     │                                 after `until`    ▼   │ failure
//!     └──────────────────────────────────────────── HalfOpen(admitted, successes)
//! ```
//!
//! **What comes from failsafe and what is ours.** failsafe's [`ConsecutiveFailures`] failure
//! policy does the counting and decides how long to stay open (`record_success`,
//! `mark_dead_on_failure`, `revived`). The state machine around it is ours, because
//! failsafe's `StateMachine` cannot be used as is: it reads `std::time::Instant` through its
//! own clock, so tests cannot drive it with tokio's paused clock; in half-open it admits
//! every call and closes on the first success (we need "3 probes, 2 successes"); it has no
//! state getter; and its `Instrument` hooks do not say which state was left. Ours runs on
//! `tokio::time::Instant`.
//!
//! Usage: [`CircuitBreaker::acquire`] before the call, [`CircuitBreaker::classify`] its result,
//! [`CircuitBreaker::record`] the [`Outcome`] — or [`CircuitBreaker::call`], which does the
//! three. Put the call's timeout *inside* (a timeout is a failure) and retries *outside* (each
//! attempt counts).

use crate::domain::booking::UpstreamError;
use failsafe::FailurePolicy as _;
use failsafe::backoff::{self, Constant};
use failsafe::failure_policy::{ConsecutiveFailures, consecutive_failures};
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

/// Breaker policy of one upstream (`[resilience.calcom]`, `[resilience.retell]` in
/// config/default.toml).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakerPolicy {
    /// Consecutive failures (see [`CircuitBreaker::classify`]) that open the breaker. A
    /// success in between starts the count again.
    pub failure_threshold: u32,
    /// How long the breaker stays open before it lets probes through.
    pub open_for: Duration,
    /// Probe calls admitted per half-open period; further calls are rejected until the
    /// period ends. At least 1 (0 is treated as 1).
    pub half_open_probes: u32,
    /// Probe successes that close the breaker. Between 1 and `half_open_probes` (values
    /// outside are clamped, so the breaker can always close).
    pub close_after: u32,
    /// Calls that take longer than this count as failures, even when they succeed
    /// (`slow_call_ms`).
    pub slow_call: Duration,
}

impl Default for BreakerPolicy {
    /// 5 failures, open 60 s, 3 probes, 2 successes close, slow above 5 s.
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            open_for: Duration::from_secs(60),
            half_open_probes: 3,
            close_after: 2,
            slow_call: Duration::from_secs(5),
        }
    }
}

/// The breaker's state without its details, as reported to a [`TransitionObserver`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StateKind {
    /// Calls pass.
    Closed,
    /// Calls are rejected.
    Open,
    /// A limited number of probe calls pass.
    HalfOpen,
}

/// The breaker's state as [`CircuitBreaker::state`] sees it, without changing it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls pass.
    Closed,
    /// Calls are rejected for `retry_after` more. `Duration::ZERO`: the open time is over
    /// and the next [`CircuitBreaker::acquire`] turns it half-open.
    Open {
        /// Time left until probes are let through.
        retry_after: Duration,
    },
    /// Probes are being let through.
    HalfOpen,
}

impl BreakerState {
    /// The state without its details.
    pub fn kind(&self) -> StateKind {
        match self {
            Self::Closed => StateKind::Closed,
            Self::Open { .. } => StateKind::Open,
            Self::HalfOpen => StateKind::HalfOpen,
        }
    }
}

/// Told about every state change of a breaker (metrics, logs).
///
/// Called while the breaker's lock is held, so that observers see the changes in order:
/// keep it quick and never call back into the breaker from it (that would deadlock).
pub trait TransitionObserver: Send + Sync {
    /// The breaker went from `from` to `to` (never equal).
    fn on_transition(&self, from: StateKind, to: StateKind);
}

impl<F> TransitionObserver for F
where
    F: Fn(StateKind, StateKind) + Send + Sync,
{
    fn on_transition(&self, from: StateKind, to: StateKind) {
        self(from, to)
    }
}

/// What a call tells the breaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The upstream worked (this includes answers refusing our input, e.g. 4xx).
    Success,
    /// The upstream failed or was too slow.
    Failure,
}

/// The breaker refused the call; nothing was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("circuit breaker is open; retry in {retry_after:?}")]
pub struct Rejected {
    /// When open: the time left until probes are let through. When half-open with all probe
    /// slots taken: the policy's `slow_call`, by which the probes in flight have normally
    /// answered.
    pub retry_after: Duration,
}

impl Rejected {
    /// The rejection as the error callers of `service` get.
    pub fn into_upstream_error(self, service: &'static str) -> UpstreamError {
        UpstreamError::CircuitOpen {
            service,
            retry_after: Some(self.retry_after),
        }
    }
}

/// Leave to make one call through the breaker; give it back with
/// [`CircuitBreaker::record`].
///
/// Dropping it unrecorded (the caller's future was cancelled) counts as neither success nor
/// failure, and gives a half-open probe slot back.
#[must_use = "record the call's outcome with CircuitBreaker::record"]
pub struct Permit {
    shared: Arc<Shared>,
    /// The state period the call was admitted in; results from an earlier one are ignored.
    epoch: u64,
    /// Holds one of the half-open probe slots.
    probe: bool,
    recorded: bool,
}

impl fmt::Debug for Permit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit")
            .field("epoch", &self.epoch)
            .field("probe", &self.probe)
            .finish()
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if self.recorded || !self.probe {
            return;
        }
        let mut machine = self.shared.lock();
        if machine.epoch == self.epoch
            && let Phase::HalfOpen { admitted, .. } = &mut machine.phase
        {
            *admitted = admitted.saturating_sub(1);
        }
    }
}

/// A circuit breaker for one upstream. Cheap to clone; clones share the state, so
/// concurrent calls (and the actor owning it) see one breaker.
#[derive(Clone)]
pub struct CircuitBreaker {
    shared: Arc<Shared>,
}

struct Shared {
    /// Normalised (see [`BreakerPolicy`] fields).
    policy: BreakerPolicy,
    observer: Option<Arc<dyn TransitionObserver>>,
    /// A plain mutex: it is never held across an await, only for a few comparisons.
    machine: Mutex<Machine>,
}

struct Machine {
    phase: Phase,
    /// Bumped on every transition; a permit only counts in the epoch it was issued in.
    epoch: u64,
    /// failsafe's counter of consecutive failures; its backoff is the open duration.
    failures: ConsecutiveFailures<Constant>,
}

#[derive(Clone, Copy, Debug)]
enum Phase {
    Closed,
    Open {
        until: Instant,
        /// Reused for a failed probe when the failure policy names no duration.
        open_for: Duration,
    },
    HalfOpen {
        /// Probe permits handed out and not dropped unrecorded.
        admitted: u32,
        successes: u32,
        open_for: Duration,
    },
}

impl Phase {
    fn kind(&self) -> StateKind {
        match self {
            Self::Closed => StateKind::Closed,
            Self::Open { .. } => StateKind::Open,
            Self::HalfOpen { .. } => StateKind::HalfOpen,
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Machine> {
        // The machine is consistent after every statement that can panic (none should).
        self.machine.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn transit(&self, machine: &mut Machine, to: Phase) {
        let from = machine.phase.kind();
        machine.phase = to;
        machine.epoch += 1;
        if let Some(observer) = &self.observer {
            observer.on_transition(from, to.kind());
        }
    }

    fn open(&self, machine: &mut Machine, open_for: Duration) {
        let until = Instant::now() + open_for;
        self.transit(machine, Phase::Open { until, open_for });
    }
}

impl CircuitBreaker {
    /// A closed breaker. No transition is reported for the initial state.
    pub fn new(policy: BreakerPolicy) -> Self {
        Self::build(policy, None)
    }

    /// A closed breaker reporting every transition to `observer`.
    pub fn with_observer(policy: BreakerPolicy, observer: Arc<dyn TransitionObserver>) -> Self {
        Self::build(policy, Some(observer))
    }

    fn build(policy: BreakerPolicy, observer: Option<Arc<dyn TransitionObserver>>) -> Self {
        let half_open_probes = policy.half_open_probes.max(1);
        let policy = BreakerPolicy {
            half_open_probes,
            close_after: policy.close_after.clamp(1, half_open_probes),
            ..policy
        };
        let failures =
            consecutive_failures(policy.failure_threshold, backoff::constant(policy.open_for));
        Self {
            shared: Arc::new(Shared {
                policy,
                observer,
                machine: Mutex::new(Machine {
                    phase: Phase::Closed,
                    epoch: 0,
                    failures,
                }),
            }),
        }
    }

    /// The policy in force (after clamping, see [`BreakerPolicy`]).
    pub fn policy(&self) -> BreakerPolicy {
        self.shared.policy
    }

    /// Asks to make one call. Open past its time: turns half-open and admits this call as
    /// the first probe.
    ///
    /// # Errors
    /// [`Rejected`] while open, or half-open with every probe slot taken.
    pub fn acquire(&self) -> Result<Permit, Rejected> {
        let shared = &self.shared;
        let mut machine = shared.lock();
        let now = Instant::now();
        let probe = match &mut machine.phase {
            Phase::Closed => false,
            Phase::Open { until, .. } if now < *until => {
                return Err(Rejected {
                    retry_after: *until - now,
                });
            }
            Phase::Open { open_for, .. } => {
                let open_for = *open_for;
                shared.transit(
                    &mut machine,
                    Phase::HalfOpen {
                        admitted: 1,
                        successes: 0,
                        open_for,
                    },
                );
                true
            }
            Phase::HalfOpen { admitted, .. } if *admitted < shared.policy.half_open_probes => {
                *admitted += 1;
                true
            }
            Phase::HalfOpen { .. } => {
                return Err(Rejected {
                    retry_after: shared.policy.slow_call,
                });
            }
        };
        Ok(Permit {
            shared: Arc::clone(shared),
            epoch: machine.epoch,
            probe,
            recorded: false,
        })
    }

    /// Reports how the call made under `permit` went. Results of calls admitted before the
    /// last transition are ignored (a late answer cannot reopen or close the breaker).
    pub fn record(&self, mut permit: Permit, outcome: Outcome) {
        debug_assert!(
            Arc::ptr_eq(&self.shared, &permit.shared),
            "permit of another breaker"
        );
        permit.recorded = true;
        let shared = &self.shared;
        let mut machine = shared.lock();
        if machine.epoch != permit.epoch {
            return;
        }
        match (machine.phase, outcome) {
            (Phase::Closed, Outcome::Success) => machine.failures.record_success(),
            (Phase::Closed, Outcome::Failure) => {
                if let Some(open_for) = machine.failures.mark_dead_on_failure() {
                    shared.open(&mut machine, open_for);
                }
            }
            (Phase::HalfOpen { successes, .. }, Outcome::Success) => {
                if successes + 1 >= shared.policy.close_after {
                    machine.failures.revived();
                    shared.transit(&mut machine, Phase::Closed);
                } else if let Phase::HalfOpen { successes, .. } = &mut machine.phase {
                    *successes += 1;
                }
            }
            (Phase::HalfOpen { open_for, .. }, Outcome::Failure) => {
                let open_for = machine.failures.mark_dead_on_failure().unwrap_or(open_for);
                shared.open(&mut machine, open_for);
            }
            // No permit is issued while open, so its epoch never matches.
            (Phase::Open { .. }, _) => {}
        }
    }

    /// The breaker's view of a finished call that took `elapsed`: a failure when the error
    /// counts against the upstream ([`UpstreamError::is_breaker_failure`]: transport errors
    /// and timeouts, 5xx, 429 — not 4xx) or when the call took longer than `slow_call`, even
    /// if it succeeded (the caller still gets its result).
    pub fn classify<T>(&self, elapsed: Duration, result: &Result<T, UpstreamError>) -> Outcome {
        let failed = match result {
            Ok(_) => false,
            Err(error) => error.is_breaker_failure(),
        };
        if failed || elapsed > self.shared.policy.slow_call {
            Outcome::Failure
        } else {
            Outcome::Success
        }
    }

    /// Runs `call` through the breaker: acquire, time it on tokio's clock, classify, record.
    /// Put the call's timeout inside `call`. Dropping the returned future before it finishes
    /// records nothing (see [`Permit`]).
    ///
    /// # Errors
    /// [`UpstreamError::CircuitOpen`] for `service` when rejected (`call` is not polled), or
    /// the error of `call`.
    pub async fn call<T, Fut>(&self, service: &'static str, call: Fut) -> Result<T, UpstreamError>
    where
        Fut: Future<Output = Result<T, UpstreamError>>,
    {
        let permit = self
            .acquire()
            .map_err(|rejected| rejected.into_upstream_error(service))?;
        let started = Instant::now();
        let result = call.await;
        self.record(permit, self.classify(started.elapsed(), &result));
        result
    }

    /// The current state. Unlike [`acquire`](Self::acquire) it never changes it, so health
    /// checks and metrics may call it freely.
    pub fn state(&self) -> BreakerState {
        match self.shared.lock().phase {
            Phase::Closed => BreakerState::Closed,
            Phase::Open { until, .. } => BreakerState::Open {
                retry_after: until.saturating_duration_since(Instant::now()),
            },
            Phase::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }
}

impl fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("policy", &self.shared.policy)
            .field("state", &self.state())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::booking::ErrorAnswer;
    use std::sync::Mutex;

    fn status(status: u16) -> UpstreamError {
        let answer = ErrorAnswer {
            status,
            code: None,
            message: format!("status {status}"),
        };
        UpstreamError::from_status("calcom", answer, None)
    }

    fn timeout() -> UpstreamError {
        UpstreamError::Transport {
            service: "calcom",
            message: "no answer within 5000 ms".into(),
        }
    }

    async fn fail(breaker: &CircuitBreaker) -> Result<(), UpstreamError> {
        breaker.call("calcom", async { Err(timeout()) }).await
    }

    async fn succeed(breaker: &CircuitBreaker) -> Result<(), UpstreamError> {
        breaker.call("calcom", async { Ok(()) }).await
    }

    /// A breaker that has just opened (at the paused clock's now).
    async fn opened() -> CircuitBreaker {
        let breaker = CircuitBreaker::new(BreakerPolicy::default());
        for _ in 0..5 {
            let _ = fail(&breaker).await;
        }
        assert_eq!(breaker.state().kind(), StateKind::Open);
        breaker
    }

    async fn half_opened() -> (CircuitBreaker, Permit) {
        let breaker = opened().await;
        tokio::time::advance(Duration::from_secs(60)).await;
        let probe = breaker.acquire().expect("first probe");
        (breaker, probe)
    }

    fn is_open(result: Result<(), UpstreamError>) -> bool {
        matches!(result, Err(UpstreamError::CircuitOpen { .. }))
    }

    #[tokio::test(start_paused = true)]
    async fn breaker_opens_after_five_consecutive_failures() {
        let breaker = CircuitBreaker::new(BreakerPolicy::default());
        for attempt in 1..=4 {
            assert_eq!(fail(&breaker).await, Err(timeout()), "attempt {attempt}");
            assert_eq!(breaker.state(), BreakerState::Closed);
        }
        assert_eq!(fail(&breaker).await, Err(timeout()));
        assert_eq!(
            breaker.state(),
            BreakerState::Open {
                retry_after: Duration::from_secs(60)
            }
        );

        let mut sent = false;
        let result = breaker
            .call("calcom", async {
                sent = true;
                Ok(())
            })
            .await;
        assert!(is_open(result));
        assert!(!sent, "an open breaker sends nothing");
    }

    #[tokio::test(start_paused = true)]
    async fn four_failures_then_success_keeps_it_closed() {
        let breaker = CircuitBreaker::new(BreakerPolicy::default());
        for _ in 0..4 {
            let _ = fail(&breaker).await;
        }
        assert_eq!(succeed(&breaker).await, Ok(()));
        for _ in 0..4 {
            let _ = fail(&breaker).await;
        }
        assert_eq!(breaker.state(), BreakerState::Closed, "the count restarted");
        let _ = fail(&breaker).await;
        assert_eq!(breaker.state().kind(), StateKind::Open);
    }

    #[tokio::test(start_paused = true)]
    async fn four_hundreds_do_not_count_as_failures() {
        let breaker = CircuitBreaker::new(BreakerPolicy::default());
        for code in [400, 401, 403, 404, 409, 422, 400, 400, 400, 400] {
            let result: Result<(), _> = breaker.call("calcom", async { Err(status(code)) }).await;
            assert_eq!(result, Err(status(code)));
        }
        assert_eq!(breaker.state(), BreakerState::Closed);

        for code in [500, 502, 503, 429, 504] {
            let _ = breaker
                .call("calcom", async { Err::<(), _>(status(code)) })
                .await;
        }
        assert_eq!(
            breaker.state().kind(),
            StateKind::Open,
            "5xx and 429 do count"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn slow_success_counts_as_failure() {
        let breaker = CircuitBreaker::new(BreakerPolicy::default());
        let slow = Duration::from_millis(5001);
        assert_eq!(breaker.classify(slow, &Ok(())), Outcome::Failure);
        assert_eq!(
            breaker.classify(Duration::from_secs(5), &Ok(())),
            Outcome::Success,
            "only calls over slow_call count"
        );

        for _ in 0..5 {
            let result = breaker
                .call("calcom", async {
                    tokio::time::sleep(slow).await;
                    Ok("booked")
                })
                .await;
            assert_eq!(result, Ok("booked"), "the caller still gets its result");
        }
        assert_eq!(breaker.state().kind(), StateKind::Open);
    }

    #[tokio::test(start_paused = true)]
    async fn open_breaker_rejects_with_remaining_retry_after() {
        let breaker = opened().await;
        tokio::time::advance(Duration::from_secs(20)).await;
        assert_eq!(
            breaker.acquire().unwrap_err(),
            Rejected {
                retry_after: Duration::from_secs(40)
            }
        );
        assert_eq!(
            succeed(&breaker).await,
            Err(UpstreamError::CircuitOpen {
                service: "calcom",
                retry_after: Some(Duration::from_secs(40))
            })
        );
    }

    #[tokio::test(start_paused = true)]
    async fn breaker_half_opens_after_open_duration() {
        let breaker = opened().await;
        tokio::time::advance(Duration::from_millis(59_999)).await;
        assert!(breaker.acquire().is_err(), "still open 1 ms before the end");

        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(
            breaker.state(),
            BreakerState::Open {
                retry_after: Duration::ZERO
            },
            "reading the state does not half-open it"
        );
        let probe = breaker
            .acquire()
            .expect("the first call after the open time probes");
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        drop(probe);
    }

    #[tokio::test(start_paused = true)]
    async fn half_open_admits_three_probes_only() {
        let (breaker, first) = half_opened().await;
        let second = breaker.acquire().expect("second probe");
        let third = breaker.acquire().expect("third probe");
        let rejected = breaker.acquire().expect_err("a fourth call is rejected");
        assert_eq!(rejected.retry_after, Duration::from_secs(5));

        breaker.record(first, Outcome::Success);
        assert!(
            breaker.acquire().is_err(),
            "a finished probe does not free its slot"
        );
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        drop((second, third));
    }

    #[tokio::test(start_paused = true)]
    async fn two_probe_successes_close_it() {
        let (breaker, first) = half_opened().await;
        let second = breaker.acquire().expect("second probe");
        breaker.record(first, Outcome::Success);
        assert_eq!(
            breaker.state(),
            BreakerState::HalfOpen,
            "one success is not enough"
        );
        breaker.record(second, Outcome::Success);
        assert_eq!(breaker.state(), BreakerState::Closed);

        for _ in 0..4 {
            let _ = fail(&breaker).await;
        }
        assert_eq!(
            breaker.state(),
            BreakerState::Closed,
            "closing resets the failure count"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn probe_failure_reopens_it() {
        let (breaker, first) = half_opened().await;
        let second = breaker.acquire().expect("second probe");
        breaker.record(first, Outcome::Success);
        breaker.record(second, Outcome::Failure);
        assert_eq!(
            breaker.state(),
            BreakerState::Open {
                retry_after: Duration::from_secs(60)
            }
        );
        assert!(breaker.acquire().is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn dropped_permit_frees_the_probe_slot() {
        let (breaker, first) = half_opened().await;
        let second = breaker.acquire().expect("second probe");
        let third = breaker.acquire().expect("third probe");
        assert!(breaker.acquire().is_err());

        drop(third);
        let replacement = breaker.acquire().expect("the dropped probe's slot is free");
        assert!(breaker.acquire().is_err(), "only that one slot");

        // The same through `call`: a caller cancelled mid-probe gives its slot back.
        drop(replacement);
        let cancelled = breaker.call("calcom", async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            Ok(())
        });
        let gave_up = tokio::time::timeout(Duration::from_millis(10), cancelled).await;
        assert!(gave_up.is_err(), "the caller gave up");
        let last = breaker
            .acquire()
            .expect("the cancelled probe's slot is free");
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        drop((first, second, last));
    }

    #[tokio::test(start_paused = true)]
    async fn observer_sees_every_transition() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let breaker = CircuitBreaker::with_observer(
            BreakerPolicy::default(),
            Arc::new(move |from: StateKind, to: StateKind| log.lock().unwrap().push((from, to))),
        );
        for _ in 0..5 {
            let _ = fail(&breaker).await;
        }
        tokio::time::advance(Duration::from_secs(60)).await;
        let _ = fail(&breaker).await;
        tokio::time::advance(Duration::from_secs(60)).await;
        let _ = succeed(&breaker).await;
        let _ = succeed(&breaker).await;

        use StateKind::{Closed, HalfOpen, Open};
        assert_eq!(
            *seen.lock().unwrap(),
            [
                (Closed, Open),
                (Open, HalfOpen),
                (HalfOpen, Open),
                (Open, HalfOpen),
                (HalfOpen, Closed),
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn late_result_from_before_a_transition_is_ignored() {
        let breaker = CircuitBreaker::new(BreakerPolicy::default());
        let late = breaker.acquire().expect("closed");
        for _ in 0..5 {
            let _ = fail(&breaker).await;
        }
        tokio::time::advance(Duration::from_secs(60)).await;
        let probe = breaker.acquire().expect("probe");

        breaker.record(late, Outcome::Failure);
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        drop(probe);
    }
}
