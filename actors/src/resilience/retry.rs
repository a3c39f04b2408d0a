//! Retries of one upstream operation: exponential backoff with jitter ([`super::backoff`]), the
//! upstream's own `Retry-After`, and a [`RetryBudget`] so an outage does not multiply our
//! load. Runs *outside* the circuit breaker: every attempt counts there, and an open breaker
//! ends the retrying at once.

use super::backoff::{Backoff, retry_adjusted};
use super::budget::RetryBudget;
use crate::domain::booking::UpstreamError;
use std::future::Future;
use std::time::Duration;

/// When and how often to retry (`[resilience.<upstream>]` in config/default.toml).
///
/// With the defaults and jitter off, the attempts start at 0 s, 1 s and 3 s (waits of 1 s,
/// then 2 s). The "1 s, 2 s, 4 s" is the schedule of waits; "max 3 attempts" caps
/// it, and we read attempts as *calls*, so the 4 s step is not reached unless
/// `max_attempts` is 4. Counting calls keeps a failing operation at 3 calls (3 of the 5
/// failures that open the breaker) and its worst case at 3 timeouts + 3 s of waiting.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Wait before the first retry.
    pub min_delay: Duration,
    /// Each further wait is this times the previous one.
    pub factor: f32,
    /// Longest wait, also for a longer `Retry-After` and after jitter.
    pub max_delay: Duration,
    /// Calls in total, the first one included (3 = 1 try + 2 retries). 0 counts as 1.
    pub max_attempts: u32,
    /// Adds a random 0–100 % to each backoff step (backon's jitter), so callers that failed
    /// together do not retry together.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    /// 1 s, doubling, at most 10 s, 3 attempts, with jitter.
    fn default() -> Self {
        Self {
            min_delay: Duration::from_secs(1),
            factor: 2.0,
            max_delay: Duration::from_secs(10),
            max_attempts: 3,
            jitter: true,
        }
    }
}

impl RetryPolicy {
    fn backoff(&self) -> Backoff {
        let retries = self.max_attempts.max(1) - 1;
        Backoff {
            min_delay: self.min_delay,
            factor: self.factor,
            max_delay: self.max_delay,
            max_retries: Some(retries as usize),
            give_up_after: None,
            jitter: self.jitter,
        }
    }

    /// The wait before the next retry: the backoff step or the upstream's `Retry-After`
    /// (`Retry-After` / Cal.com's `X-RateLimit-Reset-*`, already in the error), whichever is
    /// longer, at most `max_delay`.
    fn delay(&self, step: Duration, error: &UpstreamError) -> Duration {
        step.max(error.retry_after().unwrap_or_default())
            .min(self.max_delay)
    }
}

/// Worth another attempt: transient (transport, 5xx, 429) and not refused by our own open
/// breaker or rate limiter, which would refuse again (the caller gets the limiter's wait at
/// once instead of holding its request through a backoff).
fn retryable(error: &UpstreamError) -> bool {
    error.is_transient()
        && !matches!(
            error,
            UpstreamError::CircuitOpen { .. } | UpstreamError::Throttled { .. }
        )
}

/// Runs `op` until it succeeds, fails for good, or `policy` or `budget` says stop; returns
/// its last result.
///
/// `op` makes one attempt (through the circuit breaker, with its timeout inside). The first
/// attempt deposits into `budget`; each retry needs a token from it. Retried: errors that
/// are transient ([`UpstreamError::is_transient`]) except
/// [`CircuitOpen`](UpstreamError::CircuitOpen) and [`Throttled`](UpstreamError::Throttled). Not
/// retried: 4xx other than 429, unreadable answers, an open breaker, our own rate limit. Waits on tokio's clock.
///
/// # Errors
/// The last attempt's [`UpstreamError`].
pub async fn retry<T, F, Fut>(
    policy: &RetryPolicy,
    budget: &RetryBudget,
    op: F,
) -> Result<T, UpstreamError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, UpstreamError>>,
{
    budget.deposit();
    retry_adjusted(&policy.backoff(), op, retryable, |error, step| {
        if !budget.withdraw() {
            tracing::debug!(%error, "retry budget spent; not retrying");
            return None;
        }
        let delay = policy.delay(step, error);
        tracing::debug!(%error, delay_ms = delay.as_millis() as u64, "retrying");
        Some(delay)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::booking::ErrorAnswer;
    use crate::resilience::budget::BudgetPolicy;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::time::Instant;

    fn status(status: u16, retry_after: Option<Duration>) -> UpstreamError {
        let answer = ErrorAnswer {
            status,
            code: None,
            message: format!("status {status}"),
        };
        UpstreamError::from_status("calcom", answer, retry_after)
    }

    fn no_jitter() -> RetryPolicy {
        RetryPolicy {
            jitter: false,
            ..RetryPolicy::default()
        }
    }

    /// Runs `retry` with `answers` (repeating the last one) and returns the result and the
    /// offsets from the start at which `op` was called.
    async fn run(
        policy: RetryPolicy,
        answers: Vec<Result<u32, UpstreamError>>,
    ) -> (Result<u32, UpstreamError>, Vec<Duration>) {
        let start = Instant::now();
        let calls = Mutex::new(Vec::new());
        let result = retry(&policy, &RetryBudget::default(), || {
            let mut calls = calls.lock().unwrap();
            calls.push(start.elapsed());
            let answer = answers[(calls.len() - 1).min(answers.len() - 1)].clone();
            async move { answer }
        })
        .await;
        (result, calls.into_inner().unwrap())
    }

    fn secs(offsets: &[u64]) -> Vec<Duration> {
        offsets.iter().copied().map(Duration::from_secs).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn retry_backs_off_1s_then_2s() {
        let (result, calls) = run(no_jitter(), vec![Err(status(503, None))]).await;
        assert_eq!(result, Err(status(503, None)), "the last error is returned");
        assert_eq!(calls, secs(&[0, 1, 3]), "3 attempts in total");
    }

    #[tokio::test(start_paused = true)]
    async fn retry_returns_the_first_success() {
        let answers = vec![Err(status(502, None)), Ok(7)];
        let (result, calls) = run(no_jitter(), answers).await;
        assert_eq!(result, Ok(7));
        assert_eq!(calls, secs(&[0, 1]));
    }

    #[tokio::test(start_paused = true)]
    async fn jitter_adds_at_most_one_step() {
        let (_, calls) = run(RetryPolicy::default(), vec![Err(status(503, None))]).await;
        assert_eq!(calls.len(), 3);
        let first = calls[1] - calls[0];
        let second = calls[2] - calls[1];
        assert!((Duration::from_secs(1)..Duration::from_secs(2)).contains(&first));
        assert!((Duration::from_secs(2)..Duration::from_secs(4)).contains(&second));
    }

    #[tokio::test(start_paused = true)]
    async fn retry_honours_retry_after() {
        let answers = vec![
            Err(status(429, Some(Duration::from_secs(7)))),
            Err(status(503, Some(Duration::from_millis(500)))),
            Ok(1),
        ];
        let (result, calls) = run(no_jitter(), answers).await;
        assert_eq!(result, Ok(1));
        assert_eq!(
            calls,
            secs(&[0, 7, 9]),
            "Retry-After when longer, else the backoff step"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn retry_caps_delay_at_max() {
        let policy = RetryPolicy {
            max_attempts: 6,
            ..no_jitter()
        };
        let answers = vec![
            Err(status(429, Some(Duration::from_secs(3600)))),
            Err(status(503, None)),
        ];
        let (_, calls) = run(policy, answers).await;
        // Waits: Retry-After 1 h capped to 10 s, then 2 s, 4 s, 8 s, 16 s capped to 10 s.
        assert_eq!(calls, secs(&[0, 10, 12, 16, 24, 34]));

        let jittered = RetryPolicy {
            max_attempts: 6,
            ..RetryPolicy::default()
        };
        let (_, calls) = run(jittered, vec![Err(status(503, None))]).await;
        for pair in calls.windows(2) {
            assert!(pair[1] - pair[0] <= Duration::from_secs(10), "{calls:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn no_retry_on_open_breaker() {
        let open = UpstreamError::CircuitOpen {
            service: "calcom",
            retry_after: Some(Duration::from_secs(1)),
        };
        let (result, calls) = run(no_jitter(), vec![Err(open.clone())]).await;
        assert_eq!(result, Err(open));
        assert_eq!(calls, secs(&[0]));
    }

    #[tokio::test(start_paused = true)]
    async fn no_retry_on_4xx() {
        for code in [400, 401, 403, 404, 409, 422] {
            let (result, calls) = run(no_jitter(), vec![Err(status(code, None)), Ok(1)]).await;
            assert_eq!(result, Err(status(code, None)));
            assert_eq!(calls, secs(&[0]), "status {code}");
        }
        let unreadable = UpstreamError::Decode {
            service: "calcom",
            message: "expected value".into(),
        };
        let (_, calls) = run(no_jitter(), vec![Err(unreadable), Ok(1)]).await;
        assert_eq!(calls, secs(&[0]));
    }

    #[tokio::test(start_paused = true)]
    async fn retry_budget_caps_retries_at_twenty_percent() {
        let budget = RetryBudget::new(BudgetPolicy::default()).unwrap();
        let policy = no_jitter();
        let calls = AtomicUsize::new(0);
        let operations = 100;
        let burst = (0..operations).map(|_| {
            retry(&policy, &budget, || {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Err::<(), _>(status(503, None)) }
            })
        });
        futures_util::future::join_all(burst).await;

        let retries = calls.into_inner() - operations;
        // 20 % of the 100 requests, plus the reserve of 3 per second over the 10 s window.
        let allowed = operations / 5 + 3 * 10;
        assert_eq!(retries, allowed, "without a budget: {}", 2 * operations);
    }
}
