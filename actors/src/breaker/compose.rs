//! How one upstream call is composed from the resilience units, the same for every upstream
//! (Cal.com, Retell): the timeout inside the circuit breaker, retries with backoff and the
//! shared retry budget outside it, and the call's duration in `mcp_api_duration_seconds`.

use super::UpstreamPolicy;
use crate::domain::booking::UpstreamError;
use crate::metric_names as m;
use crate::resilience::{CircuitBreaker, RetryBudget, retry};
use std::future::Future;
use std::time::{Duration, Instant};

/// One attempt through `circuit`, ended after `timeout` as a transport failure (which counts
/// against the circuit like any other).
pub(super) async fn through_circuit<T, Fut>(
    service: &'static str,
    circuit: &CircuitBreaker,
    timeout: Duration,
    call: Fut,
) -> Result<T, UpstreamError>
where
    Fut: Future<Output = Result<T, UpstreamError>>,
{
    circuit
        .call(service, async move {
            tokio::time::timeout(timeout, call)
                .await
                .unwrap_or_else(|_| {
                    Err(UpstreamError::Transport {
                        service,
                        message: format!("no answer within {} ms", timeout.as_millis()),
                    })
                })
        })
        .await
}

/// What [`run_with_retries`] needs to know about one operation.
pub(super) struct OpInfo {
    /// Upstream label, e.g. `retell`.
    pub service: &'static str,
    /// Method label of the duration histogram, e.g. `getAgent`.
    pub name: &'static str,
    /// Retry transient failures: false for state-changing operations (a lost answer may have
    /// done it) and for callers with their own retry.
    pub retry: bool,
}

/// Runs `once` (one attempt), again per `policy.retry` and `retries` when `op.retry`, and
/// records the whole duration.
pub(super) async fn run_with_retries<T, F, Fut>(
    op: OpInfo,
    policy: &UpstreamPolicy,
    retries: &RetryBudget,
    once: F,
) -> Result<T, UpstreamError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, UpstreamError>>,
{
    let started = Instant::now();
    let mut once = once;
    let result = if op.retry {
        retry(&policy.retry, retries, once).await
    } else {
        once().await
    };
    metrics::histogram!(m::API_DURATION_SECONDS, "service" => op.service, "method" => op.name)
        .record(started.elapsed().as_secs_f64());
    result
}
