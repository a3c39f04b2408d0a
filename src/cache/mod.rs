//! The caches behind the core's [`Cache`] port.
//!
//! Keys follow the documented scheme: `mcp:calcom:event_types:{company}` and
//! `mcp:calcom:availability:{event}:{date}` (5 min each, the latter dropped by our own
//! bookings), under the namespaces `mcp:calcom:`, `mcp:retell:` and `mcp:phone:`. A cache failure
//! is a miss: callers fall back to the database or the upstream API.
//!
//! ## Layout
//! - this module: [`MokaCache`], the in-process cache used when no Redis is configured (one node;
//!   entries do not survive a restart), and [`CacheError`].
//! - `redis.rs`: [`RedisCache`], the cache shared by all instances (`redis.url`).
//! - `any.rs`: [`AnyCache`], the one chosen by configuration, with its health and `cache clear`.
//! - `replay.rs`: [`ReplayGuard`], which refuses a Retell signature replayed on another request.

mod any;
mod redis;
mod replay;
#[cfg(test)]
mod throwaway;

pub use self::any::{AnyCache, CacheHealth};
pub use self::redis::RedisCache;
pub use self::replay::{Delivery, ReplayGuard};

use async_trait::async_trait;
use moka::Expiry;
use moka::future::Cache as Moka;
use secrecy::ExposeSecret as _;
use std::time::{Duration, Instant};
use switchboard_actors::jsonrpc::SharedJson;
use switchboard_actors::ports::Cache;

/// Why a cache could not be built, probed or cleared. Reads and writes through the [`Cache`]
/// port never fail (a failure is a miss); this is for start-up, health and `cache clear`.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// `redis.url` is not a usable Redis URL (`redis://[user:password@]host[:port][/db]`). The
    /// message never contains the URL, which may hold a password.
    #[error("invalid redis.url")]
    BadUrl(#[source] ::redis::RedisError),
    /// Redis did not answer: refused, timed out, or the connection dropped.
    #[error("redis unavailable")]
    Unavailable(#[source] ::redis::RedisError),
    /// Redis failed less than a second ago and was not asked again yet (see
    /// [`RedisCache::insert_or_get`]): callers with a local fallback use it at once instead of
    /// waiting out another timeout.
    #[error("redis unavailable (resting after a failure)")]
    Resting,
    /// `cache clear --tag` named no known namespace (`calcom`, `retell`, `phone`).
    #[error("unknown cache tag {0:?} (known: calcom, retell, phone)")]
    UnknownTag(String),
}

#[derive(Clone)]
struct Entry {
    value: SharedJson,
    ttl: Duration,
}

struct PerEntryTtl;

impl Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(&self, _key: &String, entry: &Entry, _now: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }
}

/// moka-backed [`Cache`], local to this process.
#[derive(Clone)]
pub struct MokaCache {
    inner: Moka<String, Entry>,
}

impl MokaCache {
    /// A cache holding at most `max_entries` values.
    pub fn new(max_entries: u64) -> Self {
        Self {
            inner: Moka::builder()
                .max_capacity(max_entries)
                .expire_after(PerEntryTtl)
                .build(),
        }
    }

    /// Drops every live entry whose key starts with `prefix` (`""` drops all); returns how many.
    pub(crate) async fn clear_prefix(&self, prefix: &str) -> u64 {
        let keys: Vec<_> = self
            .inner
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k)
            .collect();
        for key in &keys {
            self.inner.invalidate(key.as_str()).await;
        }
        keys.len() as u64
    }
}

impl std::fmt::Debug for MokaCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MokaCache")
            .field("entries", &self.inner.entry_count())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Cache for MokaCache {
    async fn get(&self, key: &str) -> Option<SharedJson> {
        self.inner.get(key).await.map(|e| e.value)
    }

    async fn set(&self, key: &str, value: SharedJson, ttl: Duration) {
        self.inner
            .insert(key.to_owned(), Entry { value, ttl })
            .await;
    }

    async fn remove(&self, key: &str) {
        self.inner.invalidate(key).await;
    }
}

/// The cache `settings` configure: Redis at `redis.url` with every key under
/// `redis.key_prefix`, else (empty `redis.url`) the in-process cache of `cache.max_entries`.
///
/// # Errors
/// [`CacheError::BadUrl`] when `redis.url` does not parse (the message never holds the URL).
pub fn open(settings: &crate::config::Settings) -> Result<AnyCache, CacheError> {
    let url = settings.redis.url.expose_secret();
    Ok(
        match AnyCache::from_url(Some(url), settings.cache.max_entries)? {
            AnyCache::Redis(redis) => {
                AnyCache::Redis(redis.with_key_prefix(&settings.redis.key_prefix))
            }
            memory => memory,
        },
    )
}

/// `switchboard cache clear`: deletes the entries of `tag` (or all of ours) from the Redis
/// cache configured in `settings`, returning how many were removed.
///
/// # Errors
/// When no Redis is configured — the in-process cache lives inside the running service and
/// expires by itself — when the tag is unknown, or when Redis cannot be reached.
pub async fn clear(settings: &crate::config::Settings, tag: Option<&str>) -> anyhow::Result<u64> {
    anyhow::ensure!(
        !settings.redis.url.expose_secret().trim().is_empty(),
        "no redis.url configured: the in-process cache lives inside the running service and \
         expires by itself (at most [cache] *_ttl_s); configure redis.url to share and clear it"
    );
    let cache = open(settings)?;
    Ok(cache.clear(tag).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_entry_expires_after_its_own_ttl() {
        let entry = Entry {
            value: json!(1).into(),
            ttl: Duration::from_secs(7),
        };
        let ttl = PerEntryTtl.expire_after_create(&"k".to_owned(), &entry, Instant::now());
        assert_eq!(ttl, Some(Duration::from_secs(7)));
    }

    #[tokio::test]
    async fn set_get_and_remove() {
        let c = MokaCache::new(10);
        c.set("b", json!(2).into(), Duration::from_secs(60)).await;
        assert_eq!(c.get("b").await.map(|v| v.to_value()), Some(json!(2)));
        c.remove("b").await;
        assert_eq!(c.get("b").await, None);
    }
}
