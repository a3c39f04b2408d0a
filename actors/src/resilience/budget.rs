//! Retry budget: caps retries at a share of recent requests to one upstream, so an outage
//! does not multiply the load we send it.
//!
//! A thin, shareable wrapper around tower's [`TpsBudget`] (a token bucket over a sliding
//! window of 10 slots). tower reads `tokio::time::Instant`, so the budget follows tokio's
//! paused clock in tests.

use std::sync::Arc;
use std::time::Duration;
use tower::retry::budget::{Budget as _, TpsBudget};

/// How much retrying one upstream may do (`[resilience.<upstream>]` in config/default.toml).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BudgetPolicy {
    /// How long a request or a retry is remembered: deposits and withdrawals older than this
    /// no longer count. 1–60 s.
    pub ttl: Duration,
    /// Retries always allowed, per second of `ttl`, however few requests there were: the
    /// budget starts with `min_per_sec × ttl` retries in reserve (30 with the defaults), and
    /// spent ones come back once they are older than `ttl`.
    pub min_per_sec: u32,
    /// Retries allowed per first attempt on top of the reserve, as a ratio (0.2 = one retry
    /// for every five requests). 0–1000.
    pub retry_ratio: f32,
}

impl Default for BudgetPolicy {
    /// 10 s window, 3 retries per second in reserve, 20 % of requests.
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(10),
            min_per_sec: 3,
            retry_ratio: 0.2,
        }
    }
}

/// A [`BudgetPolicy`] value outside what tower's budget accepts.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum InvalidBudgetPolicy {
    /// `ttl` must be between 1 and 60 seconds.
    #[error("retry budget ttl must be 1–60 s, got {0:?}")]
    Ttl(Duration),
    /// `retry_ratio` must be between 0 and 1000.
    #[error("retry budget ratio must be 0–1000, got {0}")]
    Ratio(f32),
    /// `min_per_sec` must be below `i32::MAX`.
    #[error("retry budget minimum per second is too large: {0}")]
    MinPerSec(u32),
}

/// The retry budget of one upstream. Cheap to clone; clones share one bucket, so keep one
/// per upstream (Cal.com, Retell) and hand clones to every caller.
///
/// Every first attempt calls [`deposit`](Self::deposit); every retry must first get a token
/// from [`withdraw`](Self::withdraw). [`retry`](super::retry::retry) does both.
#[derive(Clone, Debug)]
pub struct RetryBudget {
    /// Shared so concurrent operations against one upstream draw from the same bucket.
    inner: Arc<TpsBudget>,
}

impl RetryBudget {
    /// A full budget (its reserve available) following `policy`.
    ///
    /// # Errors
    /// [`InvalidBudgetPolicy`] when a value is out of range (tower would panic on it).
    pub fn new(policy: BudgetPolicy) -> Result<Self, InvalidBudgetPolicy> {
        if !(Duration::from_secs(1)..=Duration::from_secs(60)).contains(&policy.ttl) {
            return Err(InvalidBudgetPolicy::Ttl(policy.ttl));
        }
        if !(0.0..=1000.0).contains(&policy.retry_ratio) {
            return Err(InvalidBudgetPolicy::Ratio(policy.retry_ratio));
        }
        if policy.min_per_sec >= i32::MAX as u32 {
            return Err(InvalidBudgetPolicy::MinPerSec(policy.min_per_sec));
        }
        Ok(Self {
            inner: Arc::new(TpsBudget::new(
                policy.ttl,
                policy.min_per_sec,
                policy.retry_ratio,
            )),
        })
    }

    /// Records a first attempt; it earns `retry_ratio` retries for the next `ttl`.
    pub fn deposit(&self) {
        self.inner.deposit();
    }

    /// Takes the token for one retry. `false`: the budget is spent, do not retry.
    pub fn withdraw(&self) -> bool {
        self.inner.withdraw()
    }
}

impl Default for RetryBudget {
    /// A budget with [`BudgetPolicy::default`].
    fn default() -> Self {
        Self::new(BudgetPolicy::default()).expect("the default budget policy is valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spend_all(budget: &RetryBudget) -> usize {
        let mut spent = 0;
        while budget.withdraw() {
            spent += 1;
            assert!(spent <= 10_000, "the budget never runs out");
        }
        spent
    }

    #[tokio::test(start_paused = true)]
    async fn reserve_is_min_per_sec_times_ttl() {
        let budget = RetryBudget::default();
        assert_eq!(spend_all(&budget), 30);
    }

    #[tokio::test(start_paused = true)]
    async fn every_five_deposits_earn_one_retry() {
        let budget = RetryBudget::default();
        spend_all(&budget);
        for _ in 0..10 {
            budget.deposit();
        }
        assert_eq!(spend_all(&budget), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn budget_refills_over_time() {
        let budget = RetryBudget::default();
        spend_all(&budget);

        tokio::time::advance(Duration::from_secs(5)).await;
        assert!(
            !budget.withdraw(),
            "retries spent within the ttl still count"
        );

        tokio::time::advance(Duration::from_secs(6)).await;
        assert_eq!(
            spend_all(&budget),
            30,
            "retries older than the ttl are forgotten"
        );
    }

    #[test]
    fn out_of_range_policy_is_refused() {
        let policy = BudgetPolicy {
            ttl: Duration::from_millis(500),
            ..BudgetPolicy::default()
        };
        assert_eq!(
            RetryBudget::new(policy).unwrap_err(),
            InvalidBudgetPolicy::Ttl(Duration::from_millis(500))
        );
        let policy = BudgetPolicy {
            retry_ratio: -0.1,
            ..BudgetPolicy::default()
        };
        assert_eq!(
            RetryBudget::new(policy).unwrap_err(),
            InvalidBudgetPolicy::Ratio(-0.1)
        );
    }
}
