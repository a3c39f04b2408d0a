//! The core's [`Limiter`] port as configured: in-process ([`LocalLimiter`]) without Redis, or
//! [`RedisLimiter`], whose counters every instance shares, with the in-process one as its
//! fallback.

use crate::cache::{AnyCache, RedisCache};
use crate::config::Settings;
use async_trait::async_trait;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use switchboard_actors::domain::ids::CompanyId;
use switchboard_actors::metric_names::RATE_LIMIT_FALLBACK_TOTAL;
use switchboard_actors::ratelimit::{Bucket, Denied, Limiter, LocalLimiter, Quotas};

/// GCRA over one Redis key, atomically (a script runs alone on the server).
///
/// `KEYS[1]` holds the bucket's theoretical arrival time (TAT, Unix milliseconds, a decimal
/// string); `ARGV[1]` is the quota in requests per minute, so the emission interval is
/// `60000 / n` ms and the burst a whole minute. Time is Redis's own `TIME`, one clock for
/// every instance, so instance clock skew cannot widen the limit. Returns 0 when the request
/// is admitted (TAT moved on by one interval, the key expiring when the bucket is full again)
/// or the milliseconds until it would be, writing nothing.
///
/// `TIME` before a write needs Redis ≥ 5 (scripts replicate their effects, not the script).
const GCRA: &str = r"
local period = 60000
local interval = period / tonumber(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new_tat = tat + interval
local wait = new_tat - period - now
if wait > 0 then return math.ceil(wait) end
redis.call('SET', KEYS[1], string.format('%.3f', new_tat), 'PX', math.ceil(new_tat - now))
return 0
";

/// The limiter of `settings`: shared through Redis when the cache is Redis, else this
/// process's own.
pub fn open(settings: &Settings, cache: &AnyCache) -> Arc<dyn Limiter> {
    let quotas = settings.rate_limit.quotas();
    match cache {
        AnyCache::Redis(redis) => Arc::new(RedisLimiter::new(redis.clone(), quotas)),
        AnyCache::Moka(_) => Arc::new(LocalLimiter::new(&quotas)),
    }
}

/// [`Limiter`] on Redis: one GCRA key per `(company, bucket)`, `ratelimit:{company}:{bucket}`
/// under the cache's key prefix, so the limits hold across every instance sharing the Redis.
///
/// When Redis fails (down, slow, refusing) the decision is taken by the in-process
/// [`LocalLimiter`] instead — for a second after each failure without asking Redis (the
/// cache's rest after a failure, [`RedisCache::insert_or_get`]) — counted in
/// `rate_limit_fallback_total` and logged once per outage. That degradation is deliberate: a
/// Redis outage must not stop live calls, and while it lasts each instance still enforces the
/// whole quota on its own, so N instances admit at most N times the limit — still bounded, and
/// Cal.com's own 429 stays behind it.
pub struct RedisLimiter {
    redis: RedisCache,
    quotas: Quotas,
    script: redis::Script,
    fallback: LocalLimiter,
    /// Redis failed and has not answered since: logs the outage once and the recovery once.
    degraded: AtomicBool,
}

impl RedisLimiter {
    /// Limits `quotas` in `redis`; never connects here (see [`RedisCache::new`]).
    pub fn new(redis: RedisCache, quotas: Quotas) -> Self {
        Self {
            redis,
            fallback: LocalLimiter::new(&quotas),
            quotas,
            script: redis::Script::new(GCRA),
            degraded: AtomicBool::new(false),
        }
    }
}

impl RedisLimiter {
    async fn fall_back(&self, company: CompanyId, bucket: Bucket) -> Result<(), Denied> {
        metrics::counter!(RATE_LIMIT_FALLBACK_TOTAL).increment(1);
        self.fallback.acquire(company, bucket).await
    }
}

#[async_trait]
impl Limiter for RedisLimiter {
    async fn acquire(&self, company: CompanyId, bucket: Bucket) -> Result<(), Denied> {
        let key = format!("ratelimit:{company}:{}", bucket.name());
        let per_minute = u64::from(self.quotas.per_minute(bucket).get());
        match self.redis.eval_i64(&self.script, &key, &[per_minute]).await {
            Ok(wait_ms) => {
                if self.degraded.swap(false, Ordering::Relaxed) {
                    tracing::info!("rate limits shared through redis again");
                }
                match u64::try_from(wait_ms) {
                    Ok(0) | Err(_) => Ok(()),
                    Ok(ms) => Err(Denied {
                        bucket,
                        retry_after: Duration::from_millis(ms),
                    }),
                }
            }
            Err(error) => {
                let was_degraded = self.degraded.swap(true, Ordering::Relaxed);
                if !was_degraded {
                    tracing::warn!(
                        %error,
                        "redis failed: rate limits are kept per instance until it is back"
                    );
                }
                self.fall_back(company, bucket).await
            }
        }
    }
}
