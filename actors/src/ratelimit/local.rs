//! [`LocalLimiter`]: the [`Limiter`] port on governor's keyed GCRA, in this process.

use super::{Bucket, Denied, Limiter, Quotas};
use crate::domain::ids::CompanyId;
use async_trait::async_trait;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};
use std::collections::HashMap;

/// Key of one GCRA state: the company and the bucket's name, so the limiter shared by every
/// unlisted server still counts each server apart.
type Key = (CompanyId, &'static str);

type Keyed<C> = RateLimiter<Key, DashMapStateStore<Key>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// In-process limits: one governor keyed limiter per quota (governor keeps one quota per
/// limiter), each holding a few bytes of state per `(company, bucket)` it has seen. The keys
/// come from fixed sets (company ids of our database, bucket names of [`Bucket`]), so memory is
/// bounded by companies × buckets and never by what a request contains.
///
/// A check is lock-free apart from the map shard (governor's `DashMap` store), so every HTTP
/// worker may call it directly, without an actor in between. Generic over the clock so tests
/// can drive time with governor's `FakeRelativeClock`.
pub struct LocalLimiter<C: Clock = DefaultClock> {
    /// Limiters of the buckets with a quota of their own, by bucket name.
    named: HashMap<String, Keyed<C>>,
    /// Servers without a listed quota ([`Quotas::default_server`]).
    default: Keyed<C>,
    clock: C,
}

impl LocalLimiter {
    /// Limits `quotas` on the monotonic system clock.
    pub fn new(quotas: &Quotas) -> Self {
        Self::with_clock(quotas, DefaultClock::default())
    }
}

impl<C: Clock + Clone> LocalLimiter<C> {
    /// Limits `quotas` on `clock`.
    pub fn with_clock(quotas: &Quotas, clock: C) -> Self {
        let keyed = |per_minute| {
            RateLimiter::new(
                Quota::per_minute(per_minute),
                DashMapStateStore::default(),
                clock.clone(),
            )
        };
        let mut named: HashMap<String, Keyed<C>> = [
            Bucket::CustomFunction,
            Bucket::CalcomCredential,
            Bucket::CalcomBackground,
        ]
        .into_iter()
        .map(|b| (b.name().to_owned(), keyed(quotas.per_minute(b))))
        .collect();
        for (server, per_minute) in &quotas.servers {
            named.insert(server.clone(), keyed(*per_minute));
        }
        Self {
            named,
            default: keyed(quotas.default_server),
            clock,
        }
    }

    /// Non-async core of [`Limiter::acquire`], for callers that hold no runtime (benches).
    ///
    /// # Errors
    /// [`Denied`] when the bucket is empty.
    pub fn check(&self, company: CompanyId, bucket: Bucket) -> Result<(), Denied> {
        let name = bucket.name();
        let limiter = self.named.get(name).unwrap_or(&self.default);
        limiter
            .check_key(&(company, name))
            .map_err(|not_until| Denied {
                bucket,
                retry_after: not_until.wait_time_from(self.clock.now()),
            })
    }
}

#[async_trait]
impl<C: Clock + Clone + Send + Sync + 'static> Limiter for LocalLimiter<C>
where
    C::Instant: Send + Sync,
{
    async fn acquire(&self, company: CompanyId, bucket: Bucket) -> Result<(), Denied> {
        self.check(company, bucket)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Lane, admit_calcom};
    use super::*;
    use governor::clock::FakeRelativeClock;
    use std::num::NonZeroU32;
    use std::time::Duration;

    const A: CompanyId = CompanyId(1);
    const B: CompanyId = CompanyId(2);

    fn n(v: u32) -> NonZeroU32 {
        NonZeroU32::new(v).unwrap()
    }

    fn limiter(clock: &FakeRelativeClock) -> LocalLimiter<FakeRelativeClock> {
        let quotas = Quotas {
            servers: HashMap::from([("retell.config".to_owned(), n(60))]),
            default_server: n(2),
            custom_function: n(3),
            calcom_credential: n(10),
            calcom_live_reserve_percent: 20,
        };
        LocalLimiter::with_clock(&quotas, clock.clone())
    }

    #[test]
    fn a_minute_allowance_passes_at_once_then_one_per_interval() {
        let clock = FakeRelativeClock::default();
        let l = limiter(&clock);
        let config = Bucket::Server("retell.config");
        for _ in 0..60 {
            l.check(A, config).unwrap();
        }
        let denied = l.check(A, config).unwrap_err();
        assert_eq!(denied.retry_after, Duration::from_secs(1));
        assert_eq!(denied.bucket, config);
        clock.advance(Duration::from_millis(999));
        assert!(l.check(A, config).is_err());
        clock.advance(Duration::from_millis(1));
        l.check(A, config).unwrap();
    }

    #[test]
    fn unlisted_servers_share_the_default_quota_but_not_their_counts() {
        let clock = FakeRelativeClock::default();
        let l = limiter(&clock);
        for server in ["queue", "webhook"] {
            l.check(A, Bucket::Server(server)).unwrap();
            l.check(A, Bucket::Server(server)).unwrap();
            let denied = l.check(A, Bucket::Server(server)).unwrap_err();
            assert_eq!(denied.retry_after, Duration::from_secs(30));
        }
    }

    #[test]
    fn companies_have_separate_buckets() {
        let clock = FakeRelativeClock::default();
        let l = limiter(&clock);
        for _ in 0..3 {
            l.check(A, Bucket::CustomFunction).unwrap();
        }
        assert!(l.check(A, Bucket::CustomFunction).is_err());
        l.check(B, Bucket::CustomFunction).unwrap();
    }

    #[tokio::test]
    async fn background_traffic_cannot_take_the_live_reserve() {
        let clock = FakeRelativeClock::default();
        let l = limiter(&clock);
        // 10 per minute, 20 % reserved: 8 background requests, then only live ones.
        for _ in 0..8 {
            admit_calcom(&l, A, Lane::Background).await.unwrap();
        }
        let refused = admit_calcom(&l, A, Lane::Background).await.unwrap_err();
        assert_eq!(refused.bucket, Bucket::CalcomBackground);
        admit_calcom(&l, A, Lane::Live).await.unwrap();
        admit_calcom(&l, A, Lane::Live).await.unwrap();
        let refused = admit_calcom(&l, A, Lane::Live).await.unwrap_err();
        assert_eq!(refused.bucket, Bucket::CalcomCredential);
        assert_eq!(refused.retry_after, Duration::from_secs(6));
    }
}
