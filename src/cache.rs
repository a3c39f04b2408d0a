//! The in-process cache (moka) behind the core's [`Cache`] port. Per-entry lifetimes; bounded
//! size. Redis replaces it in production (a later release).

use async_trait::async_trait;
use moka::Expiry;
use moka::future::Cache as Moka;
use serde_json::Value;
use std::time::{Duration, Instant};
use switchboard_actors::ports::Cache;

#[derive(Clone)]
struct Entry {
    value: Value,
    ttl: Duration,
}

struct PerEntryTtl;

impl Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(&self, _key: &String, entry: &Entry, _now: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }
}

/// moka-backed [`Cache`].
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
}

#[async_trait]
impl Cache for MokaCache {
    async fn get(&self, key: &str) -> Option<Value> {
        self.inner.get(key).await.map(|e| e.value)
    }

    async fn set(&self, key: &str, value: Value, ttl: Duration) {
        self.inner
            .insert(key.to_owned(), Entry { value, ttl })
            .await;
    }

    async fn remove(&self, key: &str) {
        self.inner.invalidate(key).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_entry_expires_after_its_own_ttl() {
        let entry = Entry {
            value: json!(1),
            ttl: Duration::from_secs(7),
        };
        let ttl = PerEntryTtl.expire_after_create(&"k".to_owned(), &entry, Instant::now());
        assert_eq!(ttl, Some(Duration::from_secs(7)));
    }

    #[tokio::test]
    async fn set_get_and_remove() {
        let c = MokaCache::new(10);
        c.set("b", json!(2), Duration::from_secs(60)).await;
        assert_eq!(c.get("b").await, Some(json!(2)));
        c.remove("b").await;
        assert_eq!(c.get("b").await, None);
    }
}
