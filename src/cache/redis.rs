//! [`RedisCache`]: the [`Cache`] port on one Redis (not Cluster), shared by every instance.
//!
//! One multiplexed connection per process ([`ConnectionManager`]), opened on first use, so the
//! service starts and keeps serving while Redis is down: every failed read or write is a miss
//! and the caller goes to the database or Cal.com instead. Values are compact JSON strings
//! written with `SET key value EX seconds`.
//!
//! The manager reconnects by itself after I/O errors, but it keeps a failed handshake (e.g.
//! `AUTH` refused, a non-Redis server on the port) and a connection whose replies time out (a
//! host gone without a reset) for good. After those errors [`RedisCache`] swaps in a fresh
//! manager, at most once per [`REBUILD_EVERY`].

use super::CacheError;
use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, RedisError};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};
use switchboard_actors::jsonrpc::SharedJson;
use switchboard_actors::metric_names::CACHE_ERRORS_TOTAL;
use switchboard_actors::ports::Cache;

/// How long one command may wait for its reply. A live Redis answers in well under a
/// millisecond; a cache slower than this costs more than the lookup it saves.
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(250);
/// How long one connection attempt may take (matters for an unreachable host; a closed port
/// is refused at once).
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// At most one fresh connection manager per this interval, so a Redis that keeps answering
/// with errors is not hammered with handshakes.
const REBUILD_EVERY: Duration = Duration::from_secs(1);
/// After a failure, [`RedisCache::insert_or_get`] and `eval_i64` do not ask Redis again for this
/// long: their callers (replay guard, shared rate limits) decide locally at once, so an
/// unreachable Redis costs live calls one timeout per second rather than one per request.
const REST_AFTER_FAILURE: Duration = Duration::from_secs(1);
/// While Redis keeps failing, at most one warning per this interval; the rest go to debug.
const WARN_EVERY: Duration = Duration::from_secs(30);
/// Keys asked for per `SCAN` step of [`RedisCache::clear`].
const SCAN_BATCH: usize = 500;

/// Redis-backed [`Cache`]. Cheap to clone; clones share one connection.
///
/// Built without connecting ([`RedisCache::new`]); the first command connects. While Redis is
/// unreachable each command fails after at most one connection attempt (500 ms) or one reply
/// wait (250 ms), and a later command reconnects by itself.
#[derive(Clone)]
pub struct RedisCache {
    /// One per process: the connection, the warning rate and the recovery note are shared by
    /// all clones.
    shared: Arc<Shared>,
    /// Prepended to every key and pattern (`[redis] key_prefix`); empty by default.
    prefix: Arc<str>,
}

struct Shared {
    /// Kept to build a fresh manager when the current one cannot heal itself.
    client: redis::Client,
    /// The manager in use, cloned (an `Arc`) per command. Replaced, never awaited under the
    /// lock, so the lock is held only for a clone or a swap.
    conn: RwLock<ConnectionManager>,
    /// `host:port` for logs; never the URL, which may hold a password.
    addr: String,
    /// The last command failed; the next success logs the recovery.
    failing: AtomicBool,
    /// Set by a failure: until then the commands with a local fallback are not sent.
    resting_until: Mutex<Option<Instant>>,
    rebuild: Gate,
    warn: Gate,
}

/// Lets something happen at most once per interval.
struct Gate {
    every: Duration,
    last: Mutex<Option<Instant>>,
}

impl Gate {
    fn new(every: Duration) -> Self {
        Self {
            every,
            last: Mutex::new(None),
        }
    }

    /// Whether the interval has passed since the last time this returned true.
    fn pass(&self) -> bool {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let pass = last.is_none_or(|at| now.duration_since(at) >= self.every);
        if pass {
            *last = Some(now);
        }
        pass
    }
}

/// A manager that connects on first use.
fn lazy_manager(client: &redis::Client) -> Result<ConnectionManager, RedisError> {
    let config = ConnectionManagerConfig::new()
        // Commands wait for the connection attempt in progress, so a retry loop inside one
        // attempt would hold every request for the whole backoff. Without it a failed attempt
        // fails its waiters once, and the next command starts a fresh attempt.
        .set_number_of_retries(0)
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
        .set_connection_timeout(Some(CONNECT_TIMEOUT));
    client.get_connection_manager_lazy(config)
}

impl RedisCache {
    /// A cache on the Redis at `url` (`redis://[user:password@]host[:port][/db]`).
    ///
    /// Never connects and never waits: a Redis that is down at start-up makes every command a
    /// miss until it is back. Must be called inside a Tokio runtime, which then runs the
    /// connection's background task.
    ///
    /// # Errors
    /// [`CacheError::BadUrl`] when `url` does not parse (also `rediss://`: this build has no TLS).
    pub fn new(url: &str) -> Result<Self, CacheError> {
        let client = redis::Client::open(url).map_err(CacheError::BadUrl)?;
        let conn = lazy_manager(&client).map_err(CacheError::Unavailable)?;
        Ok(Self {
            shared: Arc::new(Shared {
                addr: client.get_connection_info().addr().to_string(),
                client,
                conn: RwLock::new(conn),
                failing: AtomicBool::new(false),
                resting_until: Mutex::new(None),
                rebuild: Gate::new(REBUILD_EVERY),
                warn: Gate::new(WARN_EVERY),
            }),
            prefix: Arc::from(""),
        })
    }

    /// The same cache with every key (and `clear` pattern) prefixed by `prefix`, so several
    /// deployments — or parallel test runs — can share one Redis.
    pub fn with_key_prefix(mut self, prefix: &str) -> Self {
        self.prefix = Arc::from(prefix);
        self
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// One `PING` round trip, for `/readyz` and `/api/mcp/health`. A probe also starts a
    /// reconnect when the connection is down, so the cache recovers even without traffic.
    ///
    /// # Errors
    /// [`CacheError::Unavailable`] with the cause when Redis did not answer.
    pub async fn ping(&self) -> Result<(), CacheError> {
        let result = redis::cmd("PING")
            .query_async::<String>(&mut self.conn())
            .await;
        self.outcome(result).map_err(CacheError::Unavailable)?;
        Ok(())
    }

    /// Deletes every key matching the glob `pattern` (e.g. `mcp:calcom:*`) with `SCAN` and
    /// `UNLINK`, never `KEYS`, so Redis is not blocked. Returns how many keys were deleted.
    /// Keys written while it runs may survive.
    ///
    /// # Errors
    /// [`CacheError::Unavailable`] when Redis failed part-way; keys already unlinked stay gone.
    pub async fn clear(&self, pattern: &str) -> Result<u64, CacheError> {
        let pattern = self.key(pattern);
        let mut conn = self.conn();
        let mut cursor: u64 = 0;
        let mut removed = 0;
        loop {
            let scanned = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(SCAN_BATCH)
                .query_async::<(u64, Vec<Vec<u8>>)>(&mut conn)
                .await;
            let (next, keys) = self.outcome(scanned).map_err(CacheError::Unavailable)?;
            if !keys.is_empty() {
                let unlinked = conn.unlink::<_, u64>(&keys).await;
                removed += self.outcome(unlinked).map_err(CacheError::Unavailable)?;
            }
            if next == 0 {
                return Ok(removed);
            }
            cursor = next;
        }
    }

    /// Stores `value` at `key` for `ttl` (milliseconds, at least 1) unless the key is already
    /// there, in one atomic step (a Lua script, so any Redis version since 2.6 does it; `SET …
    /// NX GET` needs 7.0). Returns the value already stored, `None` when this call stored it.
    ///
    /// # Errors
    /// [`CacheError::Unavailable`] when Redis did not answer; nothing is known to be stored.
    /// [`CacheError::Resting`], without asking Redis, within a second of a failure.
    pub async fn insert_or_get(
        &self,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<Option<String>, CacheError> {
        static SCRIPT: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
            redis::Script::new(
                "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end \
                 return redis.call('GET', KEYS[1])",
            )
        });
        if self.resting() {
            return Err(CacheError::Resting);
        }
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let result = SCRIPT
            .key(self.key(key))
            .arg(value)
            .arg(ttl_ms)
            .invoke_async::<Option<String>>(&mut self.conn())
            .await;
        self.outcome(result)
            .inspect_err(|e| self.missed("insert_or_get", e))
            .map_err(CacheError::Unavailable)
    }

    /// Whether a failure happened less than [`REST_AFTER_FAILURE`] ago.
    fn resting(&self) -> bool {
        self.shared
            .resting_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some_and(|until| Instant::now() < until)
    }

    fn conn(&self) -> ConnectionManager {
        self.shared
            .conn
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Notes a command's outcome: logs a recovery, or heals the connection after an error the
    /// manager does not recover from by itself.
    fn outcome<T>(&self, result: Result<T, RedisError>) -> Result<T, RedisError> {
        let shared = &self.shared;
        match &result {
            Ok(_) => {
                if shared.failing.load(Ordering::Relaxed)
                    && shared.failing.swap(false, Ordering::Relaxed)
                {
                    tracing::info!(redis = %shared.addr, "redis cache reachable again");
                }
            }
            Err(error) => {
                shared.failing.store(true, Ordering::Relaxed);
                *shared
                    .resting_until
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) =
                    Some(Instant::now() + REST_AFTER_FAILURE);
                let self_healing = error.is_io_error() && !error.is_timeout();
                if !self_healing && shared.rebuild.pass() {
                    match lazy_manager(&shared.client) {
                        Ok(fresh) => {
                            *shared.conn.write().unwrap_or_else(PoisonError::into_inner) = fresh;
                        }
                        Err(e) => {
                            tracing::debug!(error = %e, "could not rebuild the redis manager")
                        }
                    }
                }
            }
        }
        result
    }

    /// Runs `script` on the prefixed `key` with integer `args` (`EVALSHA`, loading the script
    /// when Redis does not know it yet) and reads an integer reply. For callers that need an
    /// answer rather than a miss, such as the shared rate limiter; the connection heals as for
    /// every other command.
    ///
    /// # Errors
    /// [`CacheError::Unavailable`] when Redis did not answer or the script failed;
    /// [`CacheError::Resting`], without asking Redis, within a second of a failure.
    pub(crate) async fn eval_i64(
        &self,
        script: &redis::Script,
        key: &str,
        args: &[u64],
    ) -> Result<i64, CacheError> {
        if self.resting() {
            return Err(CacheError::Resting);
        }
        let mut invocation = script.key(self.key(key));
        for arg in args {
            invocation.arg(*arg);
        }
        let result = invocation.invoke_async(&mut self.conn()).await;
        self.outcome(result).map_err(CacheError::Unavailable)
    }

    /// Turns a failed cache read or write into a miss: counted, logged (rate-limited).
    fn missed(&self, op: &'static str, error: &RedisError) {
        metrics::counter!(CACHE_ERRORS_TOTAL, "cache" => "redis").increment(1);
        let addr = &self.shared.addr;
        if self.shared.warn.pass() {
            tracing::warn!(
                redis = %addr, op, %error,
                "redis cache failed; serving a miss (further failures at debug for {}s)",
                WARN_EVERY.as_secs()
            );
        } else {
            tracing::debug!(redis = %addr, op, %error, "redis cache failed; serving a miss");
        }
    }
}

impl fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisCache")
            .field("addr", &self.shared.addr)
            .finish_non_exhaustive()
    }
}

/// Redis expiry in whole seconds: `EX 0` is an error, so anything shorter than a second
/// lives one second.
fn expiry_secs(ttl: Duration) -> u64 {
    ttl.as_secs().max(1)
}

#[async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> Option<SharedJson> {
        let key = self.key(key);
        let key = key.as_str();
        let raw = match self.outcome(self.conn().get::<_, Option<String>>(key).await) {
            Ok(raw) => raw?,
            Err(e) => {
                self.missed("get", &e);
                return None;
            }
        };
        match SharedJson::parse(raw) {
            Ok(value) => Some(value),
            Err(error) => {
                metrics::counter!(CACHE_ERRORS_TOTAL, "cache" => "redis").increment(1);
                tracing::warn!(key, %error, "redis cache holds a value that is not JSON; a miss");
                None
            }
        }
    }

    async fn set(&self, key: &str, value: SharedJson, ttl: Duration) {
        let result = self
            .conn()
            .set_ex::<_, _, ()>(self.key(key), value.get(), expiry_secs(ttl))
            .await;
        if let Err(e) = self.outcome(result) {
            self.missed("set", &e);
        }
    }

    async fn remove(&self, key: &str) {
        let result = self.conn().del::<_, u64>(self.key(key)).await;
        if let Err(e) = self.outcome(result) {
            self.missed("remove", &e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::throwaway::{ThrowawayRedis, free_port};
    use super::*;
    use serde_json::Value;
    use serde_json::json;

    #[tokio::test]
    async fn after_a_failure_redis_is_not_asked_again_for_a_second() {
        let cache = RedisCache::new(&format!("redis://127.0.0.1:{}", free_port())).unwrap();
        let ttl = Duration::from_secs(60);
        assert!(matches!(
            cache.insert_or_get("k", "v", ttl).await,
            Err(CacheError::Unavailable(_))
        ));
        assert!(matches!(
            cache.insert_or_get("k", "v", ttl).await,
            Err(CacheError::Resting)
        ));
    }

    /// The Redis shared by everyone on this machine; tests touch only their own uuid keys.
    /// A private `redis-server` on a free port (stopped when dropped), so no test depends on
    /// a server someone else started.
    async fn private_redis() -> (ThrowawayRedis, String) {
        let port = free_port();
        (
            ThrowawayRedis::start(port).await,
            format!("redis://127.0.0.1:{port}"),
        )
    }
    const FIVE_MIN: Duration = Duration::from_secs(300);

    fn unique_key(what: &str) -> String {
        format!("test:switchboard:{}:{what}", uuid::Uuid::new_v4())
    }

    async fn raw_conn(url: &str) -> redis::aio::MultiplexedConnection {
        redis::Client::open(url)
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }

    /// Sets and reads back `value` until it works; the first command after Redis returns may
    /// still see the failed connection and only start the reconnect.
    async fn eventually_roundtrips(cache: &RedisCache, key: &str, value: Value) -> bool {
        for _ in 0..100 {
            cache.set(key, value.clone().into(), FIVE_MIN).await;
            if cache.get(key).await.map(|v| v.to_value()).as_ref() == Some(&value) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    #[tokio::test]
    async fn redis_roundtrips_json_with_ttl() {
        let (_server, url) = private_redis().await;
        let cache = RedisCache::new(&url).unwrap();
        let key = unique_key("roundtrip");
        let value = json!({"slots": ["2026-01-05T09:00:00Z"], "n": 2});

        cache.set(&key, value.clone().into(), FIVE_MIN).await;

        assert_eq!(
            cache.get(&key).await.map(|v| v.to_value()),
            Some(value.clone())
        );
        let mut raw = raw_conn(&url).await;
        let stored: String = raw.get(&key).await.unwrap();
        assert_eq!(serde_json::from_str::<Value>(&stored).unwrap(), value);
        let ttl: i64 = redis::cmd("TTL")
            .arg(&key)
            .query_async(&mut raw)
            .await
            .unwrap();
        assert!(0 < ttl && ttl <= 300, "TTL {ttl}");
        cache.remove(&key).await;
    }

    #[tokio::test]
    async fn sub_second_ttl_is_stored_as_one_second() {
        let (_server, url) = private_redis().await;
        let cache = RedisCache::new(&url).unwrap();
        let key = unique_key("short");

        cache
            .set(&key, json!(1).into(), Duration::from_millis(10))
            .await;

        let mut raw = raw_conn(&url).await;
        let pttl: i64 = redis::cmd("PTTL")
            .arg(&key)
            .query_async(&mut raw)
            .await
            .unwrap();
        assert!(0 < pttl && pttl <= 1000, "PTTL {pttl}");
        cache.remove(&key).await;
    }

    #[tokio::test]
    async fn redis_remove_deletes() {
        let (_server, url) = private_redis().await;
        let cache = RedisCache::new(&url).unwrap();
        let key = unique_key("remove");
        cache.set(&key, json!("x").into(), FIVE_MIN).await;

        cache.remove(&key).await;
        cache.remove(&key).await;

        assert_eq!(cache.get(&key).await, None);
        let exists: u64 = raw_conn(&url).await.exists(&key).await.unwrap();
        assert_eq!(exists, 0);
    }

    #[tokio::test]
    async fn non_json_value_is_a_miss() {
        let (_server, url) = private_redis().await;
        let cache = RedisCache::new(&url).unwrap();
        let key = unique_key("garbage");
        let mut raw = raw_conn(&url).await;
        raw.set_ex::<_, _, ()>(&key, "{not json", 300)
            .await
            .unwrap();

        assert_eq!(cache.get(&key).await, None);
        cache.remove(&key).await;
    }

    #[tokio::test]
    async fn unreachable_redis_is_a_miss_not_an_error() {
        let cache = RedisCache::new(&format!("redis://127.0.0.1:{}", free_port())).unwrap();

        cache.set("k", json!(1).into(), FIVE_MIN).await;
        cache.remove("k").await;

        assert_eq!(cache.get("k").await, None);
        assert!(matches!(
            cache.ping().await,
            Err(CacheError::Unavailable(_))
        ));
    }

    #[tokio::test]
    async fn cache_recovers_when_redis_comes_back() {
        let port = free_port();
        let cache = RedisCache::new(&format!("redis://127.0.0.1:{port}")).unwrap();
        assert!(cache.ping().await.is_err(), "nothing listens yet");

        let server = ThrowawayRedis::start(port).await;
        assert!(eventually_roundtrips(&cache, "k", json!(1)).await);

        server.stop();
        assert_eq!(cache.get("k").await, None);
        assert!(cache.ping().await.is_err());

        let _server = ThrowawayRedis::start(port).await;
        assert!(eventually_roundtrips(&cache, "k", json!(2)).await);
        cache.ping().await.unwrap();
    }

    #[tokio::test]
    async fn cache_recovers_after_a_refused_handshake() {
        let port = free_port();
        let _server = ThrowawayRedis::start_with(port, &["--requirepass", "old"]).await;
        let cache = RedisCache::new(&format!("redis://:new@127.0.0.1:{port}")).unwrap();
        assert!(cache.ping().await.is_err(), "AUTH refused");

        let mut admin = redis::Client::open(format!("redis://:old@127.0.0.1:{port}"))
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        redis::cmd("CONFIG")
            .arg(&["SET", "requirepass", "new"][..])
            .query_async::<()>(&mut admin)
            .await
            .unwrap();

        assert!(eventually_roundtrips(&cache, "k", json!(1)).await);
    }

    #[test]
    fn bad_url_is_rejected() {
        assert!(matches!(
            RedisCache::new("http://127.0.0.1:6379"),
            Err(CacheError::BadUrl(_))
        ));
    }
}
