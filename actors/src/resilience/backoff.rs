//! Backoff: the one schedule of waits between attempts, built on backon's
//! `ExponentialBuilder`, and the loop that retries on it.
//!
//! Used by the upstream retries ([`retry()`](super::retry())), the outbox's retry delays
//! (`outbox::backoff_delay`, one step of the schedule per stored attempt) and the polling for
//! a company's booking lock (`tenant::TenantLock`). Waits run on tokio's clock, so tests use
//! `start_paused` and never sleep.

use backon::{BackoffBuilder as _, ExponentialBuilder, Retryable as _};
use std::future::Future;
use std::time::Duration;

/// Doublings after which a step stops growing: a million times the first step (about 12 days
/// for 1 s), and a short walk whatever attempt number a stored job carries.
const MAX_DOUBLINGS: u32 = 20;

/// A schedule of waits: `min_delay`, then each wait `factor` times the previous one, at most
/// `max_delay`; optionally jittered and bounded in retries and in time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    /// Wait before the first retry.
    pub min_delay: Duration,
    /// Each further wait is this times the previous one; 1.0 polls at a constant interval.
    pub factor: f32,
    /// Longest wait, before jitter.
    pub max_delay: Duration,
    /// Retries (waits) at most; `None`: no limit.
    pub max_retries: Option<usize>,
    /// No retry once this much time has passed since the first attempt, attempts included;
    /// `None`: no limit.
    pub give_up_after: Option<Duration>,
    /// Adds a random 0–100 % to each wait (backon's jitter), so callers that failed together
    /// do not retry together.
    pub jitter: bool,
}

impl Backoff {
    /// `min_delay`, doubling, at most `max_delay`; no jitter, no limit.
    pub const fn exponential(min_delay: Duration, max_delay: Duration) -> Self {
        Self {
            min_delay,
            factor: 2.0,
            max_delay,
            max_retries: None,
            give_up_after: None,
            jitter: false,
        }
    }

    /// The same wait every time; no jitter, no limit.
    pub const fn constant(delay: Duration) -> Self {
        Self {
            min_delay: delay,
            factor: 1.0,
            max_delay: delay,
            max_retries: None,
            give_up_after: None,
            jitter: false,
        }
    }

    /// At most `retries` retries (e.g. a store's retries of a busy or deadlocked transaction).
    pub const fn with_max_retries(self, retries: usize) -> Self {
        Self {
            max_retries: Some(retries),
            ..self
        }
    }

    /// No retry once `limit` has passed since the first attempt.
    pub const fn with_give_up_after(self, limit: Duration) -> Self {
        Self {
            give_up_after: Some(limit),
            ..self
        }
    }

    fn builder(&self) -> ExponentialBuilder {
        let builder = ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_factor(self.factor)
            .with_max_delay(self.max_delay);
        let builder = match self.max_retries {
            Some(retries) => builder.with_max_times(retries),
            None => builder.without_max_times(),
        };
        if self.jitter {
            builder.with_jitter()
        } else {
            builder
        }
    }

    /// The wait before retry number `retry` (1 = the first; 0 counts as 1), without jitter and
    /// regardless of the limits: for work whose attempts are counted elsewhere (a stored job).
    pub fn step(&self, retry: u32) -> Duration {
        let unjittered = Self {
            jitter: false,
            max_retries: None,
            ..*self
        };
        let index = retry.saturating_sub(1).min(MAX_DOUBLINGS) as usize;
        unjittered
            .builder()
            .build()
            .nth(index)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }
}

/// Runs `op` until it succeeds, fails with an error that is not `retryable`, or `backoff`
/// ends; returns its last result. Waits on tokio's clock.
///
/// # Errors
/// The last attempt's error.
pub async fn retry_while<T, E, F, Fut>(
    backoff: &Backoff,
    op: F,
    retryable: impl FnMut(&E) -> bool,
) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    retry_adjusted(backoff, op, retryable, |_, step| Some(step)).await
}

/// [`retry_while`] whose every wait passes through `adjust` first: it gets the failed
/// attempt's error and the schedule's next step, and returns the wait to use, or `None` to
/// stop retrying (e.g. an upstream's `Retry-After`, a spent retry budget).
///
/// # Errors
/// The last attempt's error.
pub async fn retry_adjusted<T, E, F, Fut>(
    backoff: &Backoff,
    op: F,
    retryable: impl FnMut(&E) -> bool,
    mut adjust: impl FnMut(&E, Duration) -> Option<Duration>,
) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let started = tokio::time::Instant::now();
    let limit = backoff.give_up_after;
    op.retry(backoff.builder())
        .when(retryable)
        .adjust(|error, step| {
            if limit.is_some_and(|limit| started.elapsed() >= limit) {
                return None;
            }
            adjust(error, step?)
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use tokio::time::Instant;

    /// Runs [`retry_while`] with an `op` that fails `failures` times (`Err(true)`: retryable),
    /// then succeeds; returns the result and the offsets (ms) at which `op` was called.
    async fn run(backoff: Backoff, failures: usize, error: bool) -> (Result<(), bool>, Vec<u64>) {
        let start = Instant::now();
        let calls = Mutex::new(Vec::new());
        let result = retry_while(
            &backoff,
            || {
                let mut calls = calls.lock().unwrap();
                calls.push(start.elapsed().as_millis() as u64);
                let answer = if calls.len() > failures {
                    Ok(())
                } else {
                    Err(error)
                };
                async move { answer }
            },
            |retryable| *retryable,
        )
        .await;
        (result, calls.into_inner().unwrap())
    }

    #[test]
    fn step_doubles_and_caps() {
        let backoff = Backoff::exponential(Duration::from_secs(1), Duration::from_secs(10));
        let steps: Vec<u64> = (0..=7).map(|n| backoff.step(n).as_secs()).collect();
        assert_eq!(steps, [1, 1, 2, 4, 8, 10, 10, 10]);
    }

    #[test]
    fn step_never_exceeds_the_cap_even_from_a_larger_first_wait() {
        let backoff = Backoff::exponential(Duration::from_secs(9), Duration::from_secs(5));
        assert_eq!(backoff.step(1), Duration::from_secs(5));
        assert_eq!(backoff.step(u32::MAX), Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn retry_while_waits_the_growing_steps_until_success() {
        let backoff = Backoff::exponential(Duration::from_millis(40), Duration::from_secs(1));
        let (result, calls) = run(backoff, 3, true).await;
        assert_eq!(result, Ok(()));
        assert_eq!(calls, [0, 40, 120, 280]);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_while_stops_after_max_retries_with_the_last_error() {
        let backoff = Backoff::constant(Duration::from_millis(10)).with_max_retries(2);
        let (result, calls) = run(backoff, 10, true).await;
        assert_eq!(result, Err(true));
        assert_eq!(calls, [0, 10, 20]);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_while_returns_a_non_retryable_error_at_once() {
        let backoff = Backoff::constant(Duration::from_millis(10));
        let (result, calls) = run(backoff, 10, false).await;
        assert_eq!(result, Err(false));
        assert_eq!(calls, [0]);
    }

    #[tokio::test(start_paused = true)]
    async fn give_up_after_bounds_polling_in_time() {
        let backoff = Backoff::constant(Duration::from_millis(25))
            .with_give_up_after(Duration::from_millis(100));
        let (result, calls) = run(backoff, usize::MAX, true).await;
        assert_eq!(result, Err(true));
        assert_eq!(calls, [0, 25, 50, 75, 100]);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_adjusted_uses_the_adjusted_wait_and_may_stop() {
        let backoff = Backoff::constant(Duration::from_millis(10));
        let start = Instant::now();
        let calls = Mutex::new(Vec::new());
        let mut waits = 0;
        let result: Result<(), ()> = retry_adjusted(
            &backoff,
            || {
                calls
                    .lock()
                    .unwrap()
                    .push(start.elapsed().as_millis() as u64);
                async { Err(()) }
            },
            |_| true,
            |_, step| {
                waits += 1;
                (waits <= 2).then_some(step * 3)
            },
        )
        .await;
        assert_eq!(result, Err(()));
        assert_eq!(calls.into_inner().unwrap(), [0, 30, 60]);
    }
}
