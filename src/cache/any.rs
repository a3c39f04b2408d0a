//! [`AnyCache`]: the cache chosen by `redis.url`, its health for `/readyz` and
//! `/api/mcp/health`, and `switchboard cache clear [--tag …]`.

use super::{CacheError, MokaCache, RedisCache};
use async_trait::async_trait;
use serde::Serialize;
use std::time::Duration;
use switchboard_actors::jsonrpc::SharedJson;
use switchboard_actors::ports::Cache;

/// The configured cache: in-process moka, or Redis shared by all instances.
#[derive(Clone, Debug)]
pub enum AnyCache {
    /// No `redis.url`: per process, lost on restart.
    Moka(MokaCache),
    /// `redis.url = "redis://…"`.
    Redis(RedisCache),
}

/// What `/readyz` and `/api/mcp/health` say about the cache. A cache that is down degrades the
/// service (slower, served from the database) but does not stop it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CacheHealth {
    /// `"memory"` or `"redis"`.
    pub backend: &'static str,
    /// Whether the cache answered just now (always true for memory).
    pub up: bool,
    /// Why it is down, with the cause chain; `None` when up.
    pub error: Option<String>,
}

impl AnyCache {
    /// Redis when `url` is given and not blank, else moka holding at most `max_entries`
    /// values. Never connects (see [`RedisCache::new`]); must be called inside a Tokio runtime.
    ///
    /// # Errors
    /// [`CacheError::BadUrl`] when `url` is not a Redis URL.
    pub fn from_url(url: Option<&str>, max_entries: u64) -> Result<Self, CacheError> {
        match url.map(str::trim).filter(|u| !u.is_empty()) {
            None => Ok(Self::Moka(MokaCache::new(max_entries))),
            Some(url) => RedisCache::new(url).map(Self::Redis),
        }
    }

    /// Probes the cache (one `PING` for Redis, bounded by its timeouts).
    pub async fn health(&self) -> CacheHealth {
        match self {
            Self::Moka(_) => CacheHealth {
                backend: "memory",
                up: true,
                error: None,
            },
            Self::Redis(redis) => {
                let error = redis.ping().await.err().map(|e| error_chain(&e));
                CacheHealth {
                    backend: "redis",
                    up: error.is_none(),
                    error,
                }
            }
        }
    }

    /// Deletes the entries of one namespace — `calcom` (`mcp:calcom:*`), `retell`
    /// (`mcp:retell:*`), `phone` (`mcp:phone:*`) — or, without a tag, all of ours (`mcp:*`).
    /// Returns how many were deleted. The memory cache belongs to this process, so clearing it
    /// from another process (the CLI) does not touch a running service's entries.
    ///
    /// # Errors
    /// [`CacheError::UnknownTag`] for another tag; [`CacheError::Unavailable`] when Redis failed.
    pub async fn clear(&self, tag: Option<&str>) -> Result<u64, CacheError> {
        let pattern = tag_pattern(tag)?;
        match self {
            Self::Moka(moka) => Ok(moka.clear_prefix(pattern.trim_end_matches('*')).await),
            Self::Redis(redis) => redis.clear(pattern).await,
        }
    }
}

/// The key glob of a `cache clear` tag.
fn tag_pattern(tag: Option<&str>) -> Result<&'static str, CacheError> {
    match tag {
        None => Ok("mcp:*"),
        Some("calcom") => Ok("mcp:calcom:*"),
        Some("retell") => Ok("mcp:retell:*"),
        Some("phone") => Ok("mcp:phone:*"),
        Some(other) => Err(CacheError::UnknownTag(other.to_owned())),
    }
}

/// `error: cause: cause …`, for a health report that has no log's cause chain. A cause that
/// repeats the text before it (redis wraps an I/O error and shows it) is written once.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[async_trait]
impl Cache for AnyCache {
    async fn get(&self, key: &str) -> Option<SharedJson> {
        match self {
            Self::Moka(c) => c.get(key).await,
            Self::Redis(c) => c.get(key).await,
        }
    }

    async fn set(&self, key: &str, value: SharedJson, ttl: Duration) {
        match self {
            Self::Moka(c) => c.set(key, value, ttl).await,
            Self::Redis(c) => c.set(key, value, ttl).await,
        }
    }

    async fn remove(&self, key: &str) {
        match self {
            Self::Moka(c) => c.remove(key).await,
            Self::Redis(c) => c.remove(key).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::throwaway::{ThrowawayRedis, free_port};
    use super::*;
    use serde_json::json;

    const TTL: Duration = Duration::from_secs(300);
    const KEYS: [&str; 5] = [
        "mcp:calcom:event_types:1",
        "mcp:calcom:availability:7:2026-01-05",
        "mcp:retell:agent:1",
        "mcp:phone:+4930123456",
        "other:app:key",
    ];

    async fn filled(cache: &AnyCache) {
        for key in KEYS {
            cache.set(key, json!(key).into(), TTL).await;
        }
    }

    async fn present(cache: &AnyCache) -> Vec<&'static str> {
        let mut left = Vec::new();
        for key in KEYS {
            if cache.get(key).await.is_some() {
                left.push(key);
            }
        }
        left
    }

    /// A Redis of its own: `clear` acts on the whole keyspace, which the shared Redis is not.
    async fn private_redis() -> (ThrowawayRedis, AnyCache) {
        let port = free_port();
        let server = ThrowawayRedis::start(port).await;
        let cache = AnyCache::from_url(Some(&format!("redis://127.0.0.1:{port}")), 0).unwrap();
        (server, cache)
    }

    #[tokio::test]
    async fn empty_url_selects_memory() {
        for url in [None, Some(""), Some("  ")] {
            let cache = AnyCache::from_url(url, 10).unwrap();
            assert!(matches!(cache, AnyCache::Moka(_)), "{url:?}");
            cache.set("k", json!(1).into(), TTL).await;
            assert_eq!(cache.get("k").await.map(|v| v.to_value()), Some(json!(1)));
            let health = cache.health().await;
            assert_eq!(
                (health.backend, health.up, health.error),
                ("memory", true, None)
            );
        }
    }

    #[tokio::test]
    async fn redis_url_selects_redis_without_connecting() {
        let url = format!("redis://127.0.0.1:{}", free_port());

        let cache = AnyCache::from_url(Some(&url), 10).unwrap();

        assert!(matches!(cache, AnyCache::Redis(_)));
    }

    #[tokio::test]
    async fn health_reports_redis_down_with_cause() {
        let url = format!("redis://127.0.0.1:{}", free_port());
        let cache = AnyCache::from_url(Some(&url), 10).unwrap();

        let health = cache.health().await;

        assert_eq!((health.backend, health.up), ("redis", false));
        let error = health.error.unwrap();
        assert!(error.starts_with("redis unavailable: "), "{error}");
        assert!(error.len() > "redis unavailable: ".len(), "{error}");
    }

    #[tokio::test]
    async fn health_reports_redis_up() {
        let (_server, cache) = private_redis().await;

        let health = cache.health().await;

        assert_eq!(
            serde_json::to_value(&health).unwrap(),
            json!({"backend": "redis", "up": true, "error": null})
        );
    }

    #[tokio::test]
    async fn clear_by_tag_deletes_only_that_namespace() {
        let (_server, cache) = private_redis().await;
        filled(&cache).await;

        assert_eq!(cache.clear(Some("calcom")).await.unwrap(), 2);

        assert_eq!(
            present(&cache).await,
            [
                "mcp:retell:agent:1",
                "mcp:phone:+4930123456",
                "other:app:key"
            ]
        );
    }

    #[tokio::test]
    async fn clear_without_tag_deletes_only_our_keys() {
        let (_server, cache) = private_redis().await;
        filled(&cache).await;

        assert_eq!(cache.clear(None).await.unwrap(), 4);

        assert_eq!(present(&cache).await, ["other:app:key"]);
    }

    #[tokio::test]
    async fn clear_walks_more_keys_than_one_scan_step() {
        let (_server, cache) = private_redis().await;
        for i in 0..1_200 {
            cache
                .set(&format!("mcp:phone:{i}"), json!(i).into(), TTL)
                .await;
        }

        assert_eq!(cache.clear(Some("phone")).await.unwrap(), 1_200);
        assert_eq!(cache.clear(Some("phone")).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn memory_clear_by_tag_deletes_only_that_namespace() {
        let cache = AnyCache::from_url(None, 100).unwrap();
        filled(&cache).await;

        assert_eq!(cache.clear(Some("retell")).await.unwrap(), 1);
        assert_eq!(cache.clear(None).await.unwrap(), 3);

        assert_eq!(present(&cache).await, ["other:app:key"]);
    }

    #[tokio::test]
    async fn unknown_tag_is_rejected() {
        let cache = AnyCache::from_url(None, 10).unwrap();

        assert!(matches!(
            cache.clear(Some("stripe")).await,
            Err(CacheError::UnknownTag(t)) if t == "stripe"
        ));
    }
}
