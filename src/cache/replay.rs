//! [`ReplayGuard`]: remembers which request each Retell signature was first seen on, so a
//! signature captured from one request cannot be replayed against another within its window.
//!
//! A Retell signature covers the raw body and its timestamp only (reference/retell.md §2.1),
//! not the path or the query. Whoever sees one signed request can send the same body and
//! header to another function's path, or with other query data, for as long as the timestamp
//! is within the tolerance. The guard records, per company and signature, a digest of what the
//! signature does not cover but what routes the request (method, path and query); a second
//! delivery with another digest is a replay and is refused, while Retell's own retries of the
//! identical request pass and get the usual idempotent answer.
//!
//! Entries live until the signature itself goes stale (its timestamp plus the tolerance), so
//! the guard needs no more memory than the signatures it could still accept. With `redis.url`
//! the record is Redis (`SET NX PX` in one script), shared by every instance; without it, and
//! while Redis does not answer, it is an in-process moka cache of at most `max_entries`
//! signatures (the least used leave first). A Redis outage therefore degrades the guard to
//! per-instance instead of refusing live calls; each such fallback is logged and counted in
//! `mcp_replay_guard_fallbacks_total`.

use super::{AnyCache, RedisCache};
use crate::store::lower_hex;
use moka::Expiry;
use moka::future::Cache as Moka;
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};
use switchboard_actors::domain::ids::CompanyId;
use switchboard_actors::metric_names::REPLAY_GUARD_FALLBACKS_TOTAL;

/// What a signed delivery is, compared with the first delivery of its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The signature has not been seen within its window.
    First,
    /// The same signature on the same request: a retry, to be answered as before.
    Retry,
    /// The same signature on another request (path, function or query): a replay.
    Replayed,
}

/// SHA-256 of a signature or of a request's routing data.
type Digest32 = [u8; 32];

/// In-process record of one signature: the routing digest of its first delivery and how long
/// the signature stays acceptable. Fixed-size, so a full record of 100,000 signatures costs a
/// few MiB, not the tens of MiB of text keys and JSON values.
#[derive(Clone, Copy)]
struct Seen {
    request: Digest32,
    ttl: Duration,
}

/// Each record lives until its signature goes stale.
struct UntilStale;

impl Expiry<(i64, Digest32), Seen> for UntilStale {
    fn expire_after_create(
        &self,
        _: &(i64, Digest32),
        seen: &Seen,
        _: Instant,
    ) -> Option<Duration> {
        Some(seen.ttl)
    }
}

/// The replay record shared by all HTTP workers (cheap to clone).
#[derive(Clone)]
pub struct ReplayGuard {
    /// The record without Redis, and the fallback while Redis does not answer: by company and
    /// signature digest, the routing digest of the first delivery, living until its signature
    /// goes stale.
    local: Moka<(i64, Digest32), Seen>,
    /// The record shared by all instances, when `redis.url` is set.
    redis: Option<RedisCache>,
}

impl ReplayGuard {
    /// A guard on `cache`'s Redis when it is one, else in this process; the in-process record
    /// holds at most `max_entries` signatures.
    pub fn new(cache: &AnyCache, max_entries: u64) -> Self {
        Self {
            local: Moka::builder()
                .max_capacity(max_entries)
                .expire_after(UntilStale)
                .build(),
            redis: match cache {
                AnyCache::Redis(redis) => Some(redis.clone()),
                AnyCache::Moka(_) => None,
            },
        }
    }

    /// Records that `company`'s signature `signature` (the header's hex digest) arrived on
    /// `request` (method, path and query, as the client sent them), for `ttl` — the time until
    /// the signature goes stale — and says whether it was seen before on this or another
    /// request. Only verified signatures may be recorded, or anyone could block a genuine
    /// request by sending its signature first elsewhere.
    pub async fn check(
        &self,
        company: CompanyId,
        signature: &str,
        request: &str,
        ttl: Duration,
    ) -> Delivery {
        let signature = signature.to_ascii_lowercase();
        let request: Digest32 = Sha256::digest(request.as_bytes()).into();
        let local_key = || (company.0, Sha256::digest(signature.as_bytes()).into());
        let first = match &self.redis {
            Some(redis) => {
                let key = format!("mcp:replay:{}:{signature}", company.0);
                let request_hex = lower_hex(&request);
                match redis.insert_or_get(&key, &request_hex, ttl).await {
                    Ok(first) => first.map(|seen| seen == request_hex),
                    Err(error) => {
                        metrics::counter!(REPLAY_GUARD_FALLBACKS_TOTAL).increment(1);
                        tracing::debug!(%error, "replay guard: redis unavailable, checked in process");
                        self.local_insert_or_get(local_key(), request, ttl).await
                    }
                }
            }
            None => self.local_insert_or_get(local_key(), request, ttl).await,
        };
        match first {
            None => Delivery::First,
            Some(true) => Delivery::Retry,
            Some(false) => Delivery::Replayed,
        }
    }

    /// Records `request` for `key` unless a record exists; `None` when this is the first,
    /// else whether the recorded request is the same.
    async fn local_insert_or_get(
        &self,
        key: (i64, Digest32),
        request: Digest32,
        ttl: Duration,
    ) -> Option<bool> {
        let entry = self.local.entry(key).or_insert(Seen { request, ttl }).await;
        (!entry.is_fresh()).then(|| entry.into_value().request == request)
    }
}

#[cfg(test)]
mod tests {
    use super::super::throwaway::{ThrowawayRedis, free_port};
    use super::*;

    const TTL: Duration = Duration::from_secs(600);
    const SIG: &str = "5f0c";

    fn memory() -> ReplayGuard {
        ReplayGuard::new(&AnyCache::from_url(None, 100).unwrap(), 100)
    }

    async fn deliveries(guard: &ReplayGuard) -> [Delivery; 4] {
        let a = CompanyId(1);
        [
            guard.check(a, SIG, "POST /f/check_availability", TTL).await,
            guard.check(a, SIG, "POST /f/check_availability", TTL).await,
            guard.check(a, SIG, "POST /f/cancel_appointment", TTL).await,
            guard
                .check(CompanyId(2), SIG, "POST /f/cancel_appointment", TTL)
                .await,
        ]
    }

    const EXPECTED: [Delivery; 4] = [
        Delivery::First,
        Delivery::Retry,
        Delivery::Replayed,
        Delivery::First,
    ];

    #[tokio::test]
    async fn in_process_guard_tells_retries_from_replays_per_company() {
        assert_eq!(deliveries(&memory()).await, EXPECTED);
    }

    #[tokio::test]
    async fn redis_guard_tells_retries_from_replays_across_instances() {
        let port = free_port();
        let _server = ThrowawayRedis::start(port).await;
        let url = format!("redis://127.0.0.1:{port}");
        let one = ReplayGuard::new(&AnyCache::from_url(Some(&url), 0).unwrap(), 100);
        let other = ReplayGuard::new(&AnyCache::from_url(Some(&url), 0).unwrap(), 100);
        let a = CompanyId(1);
        assert_eq!(one.check(a, SIG, "POST /f/x", TTL).await, Delivery::First);
        assert_eq!(other.check(a, SIG, "POST /f/x", TTL).await, Delivery::Retry);
        assert_eq!(
            other.check(a, SIG, "POST /f/y", TTL).await,
            Delivery::Replayed
        );
    }

    #[tokio::test]
    async fn redis_down_falls_back_to_the_in_process_record() {
        let url = format!("redis://127.0.0.1:{}", free_port());
        let guard = ReplayGuard::new(&AnyCache::from_url(Some(&url), 0).unwrap(), 100);
        assert_eq!(deliveries(&guard).await, EXPECTED);
    }
}
