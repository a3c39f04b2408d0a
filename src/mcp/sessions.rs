//! MCP sessions of the 2025-11-25 handshake era (the stateless 2026-07-28 era needs none):
//! bounded per process, and shared across instances through Redis when `redis.url` is set.
//!
//! - [`BoundedSessions`]: rmcp's in-memory [`LocalSessionManager`] with a ceiling
//!   (`mcp.max_sessions`): an `initialize` (or a restore from Redis) beyond it is refused, and
//!   the `/mcp` guard answers that refusal 503 with `Retry-After` (rmcp itself would answer
//!   500). Idle sessions end after `mcp.session_idle_s` (rmcp's `keep_alive`), which frees
//!   their slot.
//! - [`RedisSessionStore`]: rmcp's [`SessionStore`]: the client's `initialize` parameters under
//!   `{redis.key_prefix}mcp:session:{id}`, so another instance that gets a request for the
//!   session replays the handshake and serves it (rmcp `tower.rs`, `try_restore_from_store`).
//!   The entry lives `mcp.session_idle_s` after the session's last request on any instance.
//!
//! Redis failing never breaks a session on the instance that holds it: the entry is written
//! after the handshake and read only by an instance that does not know the session; a failed
//! write or read is logged (by [`RedisCache`]) and the other instance answers 404, on which the
//! client initializes again (MCP 2025-11-25 `basic/transports`, "Session Management").
//!
//! A session carries no grant and no tenant data: each request is authorized by its own
//! bearer token (see [`super::handler`]), so the stored state is only what the client said
//! about itself (`clientInfo`, capabilities, protocol version).

use crate::cache::RedisCache;
use async_trait::async_trait;
use futures_util::Stream;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::streamable_http_server::session::local::{
    LocalSessionManager, LocalSessionManagerError,
};
use rmcp::transport::streamable_http_server::session::{
    EventStore, RestoreOutcome, ServerSseMessage, SessionId, SessionManager, SessionState,
    SessionStore, SessionStoreError,
};
use std::cell::Cell;
use std::future::Future;
use std::sync::{Arc, LazyLock};
use std::time::Duration;
use switchboard_actors::ports::Cache;

/// Key of a session's state, after `redis.key_prefix`: `mcp:session:{id}`.
pub const KEY_PREFIX: &str = "mcp:session:";

/// Largest stored session state, bytes of JSON. A client's `initialize` parameters are a few
/// hundred bytes; a larger state is not stored (the session then lives on its instance only),
/// so what one client sends cannot fill Redis.
pub const MAX_STATE_BYTES: usize = 16 * 1024;

/// Longest session id looked up in Redis. rmcp mints UUIDs (36 characters); anything longer is
/// not one of ours and answers 404 without a Redis round trip.
const MAX_ID_CHARS: usize = 64;

/// Why a session state was not stored.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The state's JSON exceeds [`MAX_STATE_BYTES`].
    #[error("session state of {bytes} bytes exceeds the {max} bytes stored")]
    TooLarge {
        /// Size of the state's JSON, bytes.
        bytes: usize,
        /// [`MAX_STATE_BYTES`].
        max: usize,
    },
    /// The state did not serialize.
    #[error("session state not serializable")]
    Encode(#[source] serde_json::Error),
}

/// Session states in Redis, shared by every instance of a deployment. Cheap to clone.
#[derive(Clone)]
pub struct RedisSessionStore {
    redis: RedisCache,
    idle: Duration,
}

impl RedisSessionStore {
    /// States in `redis` (already carrying `redis.key_prefix`), each living `idle` after the
    /// session's last request.
    pub fn new(redis: RedisCache, idle: Duration) -> Self {
        Self { redis, idle }
    }

    /// The key of `id`, `None` for an id rmcp never mints (too long or not visible ASCII).
    fn key(id: &str) -> Option<String> {
        let ours =
            !id.is_empty() && id.len() <= MAX_ID_CHARS && id.bytes().all(|b| b.is_ascii_graphic());
        ours.then(|| format!("{KEY_PREFIX}{id}"))
    }

    /// Gives the entry of `id` another `idle` to live (`EXPIRE`), after a request of the
    /// session on this instance. A failure is only logged: at worst the entry expires early
    /// and another instance answers 404, on which the client initializes again.
    pub async fn touch(&self, id: &str) {
        static EXPIRE: LazyLock<redis::Script> =
            LazyLock::new(|| redis::Script::new("return redis.call('EXPIRE', KEYS[1], ARGV[1])"));
        let Some(key) = Self::key(id) else {
            return;
        };
        let seconds = self.idle.as_secs().max(1);
        if let Err(error) = self.redis.eval_i64(&EXPIRE, &key, &[seconds]).await {
            tracing::debug!(%error, "could not refresh an MCP session's expiry in redis");
        }
    }
}

#[async_trait]
impl SessionStore for RedisSessionStore {
    async fn load(&self, session_id: &str) -> Result<Option<SessionState>, SessionStoreError> {
        let Some(key) = Self::key(session_id) else {
            return Ok(None);
        };
        let Some(value) = self.redis.get(&key).await else {
            return Ok(None);
        };
        match value.read() {
            Ok(state) => Ok(Some(state)),
            Err(error) => {
                tracing::warn!(%error, "an MCP session state in redis does not parse; unknown");
                Ok(None)
            }
        }
    }

    async fn store(&self, session_id: &str, state: &SessionState) -> Result<(), SessionStoreError> {
        let Some(key) = Self::key(session_id) else {
            return Ok(());
        };
        let value = serde_json::to_value(state).map_err(StateError::Encode)?;
        let bytes = value.to_string().len();
        if bytes > MAX_STATE_BYTES {
            return Err(StateError::TooLarge {
                bytes,
                max: MAX_STATE_BYTES,
            }
            .into());
        }
        self.redis.set(&key, value.into(), self.idle).await;
        Ok(())
    }

    async fn delete(&self, session_id: &str) -> Result<(), SessionStoreError> {
        if let Some(key) = Self::key(session_id) {
            self.redis.remove(&key).await;
        }
        Ok(())
    }
}

/// Why [`BoundedSessions`] failed a session operation.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// `mcp.max_sessions` sessions are live here; no new one until one ends or idles out.
    #[error("{max} MCP sessions are open, the most this instance keeps")]
    Full {
        /// `mcp.max_sessions`.
        max: usize,
    },
    /// What rmcp's session manager reported (unknown session, worker gone, …).
    #[error(transparent)]
    Local(#[from] LocalSessionManagerError),
}

tokio::task_local! {
    /// Set while the `/mcp` guard runs a request: whether [`BoundedSessions`] refused a
    /// session for it, so the guard can answer 503 instead of rmcp's 500.
    static REFUSED: Cell<bool>;
}

/// Runs `request` (the rest of the `/mcp` pipeline) and tells whether a session was refused
/// for the bound while it ran. rmcp calls the session manager inside the request's own task,
/// so the task-local flag reaches it.
pub async fn watching_refusals<F: Future>(request: F) -> (F::Output, bool) {
    REFUSED
        .scope(Cell::new(false), async {
            let output = request.await;
            (output, REFUSED.with(Cell::get))
        })
        .await
}

/// rmcp's [`LocalSessionManager`] with at most `max` live sessions, refreshing the Redis entry
/// of a session on each of its requests when a [`RedisSessionStore`] is configured.
pub struct BoundedSessions {
    local: LocalSessionManager,
    max: usize,
    /// Held from counting to inserting, so two concurrent handshakes cannot both take the last
    /// slot.
    admit: tokio::sync::Mutex<()>,
    store: Option<RedisSessionStore>,
}

impl BoundedSessions {
    /// `local` (with its `keep_alive` already set) bounded to `max` sessions; `store` is the
    /// shared state to keep fresh, if any.
    pub fn new(local: LocalSessionManager, max: usize, store: Option<RedisSessionStore>) -> Self {
        Self {
            local,
            max,
            admit: tokio::sync::Mutex::new(()),
            store,
        }
    }

    /// Live sessions in this process.
    async fn live(&self) -> usize {
        self.local.sessions.read().await.len()
    }

    /// Refuses when the bound is reached (and flags the refusal for the guard); else `Ok`.
    async fn room(&self) -> Result<(), SessionError> {
        if self.live().await < self.max {
            return Ok(());
        }
        let _ = REFUSED.try_with(|refused| refused.set(true));
        tracing::warn!(
            max = self.max,
            "MCP session refused: mcp.max_sessions reached"
        );
        Err(SessionError::Full { max: self.max })
    }

    async fn touch(&self, id: &SessionId) {
        if let Some(store) = &self.store {
            store.touch(id).await;
        }
    }
}

impl SessionManager for BoundedSessions {
    type Error = SessionError;
    type Transport = <LocalSessionManager as SessionManager>::Transport;

    async fn create_session(&self) -> Result<(SessionId, Self::Transport), Self::Error> {
        let _admit = self.admit.lock().await;
        self.room().await?;
        Ok(self.local.create_session().await?)
    }

    async fn initialize_session(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<ServerJsonRpcMessage, Self::Error> {
        Ok(self.local.initialize_session(id, message).await?)
    }

    async fn has_session(&self, id: &SessionId) -> Result<bool, Self::Error> {
        Ok(self.local.has_session(id).await?)
    }

    async fn close_session(&self, id: &SessionId) -> Result<(), Self::Error> {
        Ok(self.local.close_session(id).await?)
    }

    async fn create_stream(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.touch(id).await;
        Ok(self.local.create_stream(id, message).await?)
    }

    async fn accept_message(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<(), Self::Error> {
        self.touch(id).await;
        Ok(self.local.accept_message(id, message).await?)
    }

    async fn create_standalone_stream(
        &self,
        id: &SessionId,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        Ok(self.local.create_standalone_stream(id).await?)
    }

    async fn resume(
        &self,
        id: &SessionId,
        last_event_id: String,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        Ok(self.local.resume(id, last_event_id).await?)
    }

    async fn restore_session(
        &self,
        id: SessionId,
    ) -> Result<RestoreOutcome<Self::Transport>, Self::Error> {
        let _admit = self.admit.lock().await;
        if self.local.has_session(&id).await? {
            return Ok(RestoreOutcome::AlreadyPresent);
        }
        self.room().await?;
        Ok(self.local.restore_session(id).await?)
    }

    fn event_store(&self) -> Option<Arc<dyn EventStore>> {
        self.local.event_store()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::{ClientCapabilities, Implementation, InitializeRequestParams};

    /// A store on a port nothing listens on: every Redis command fails at once.
    fn unreachable_store() -> RedisSessionStore {
        let redis = RedisCache::new("redis://127.0.0.1:1").unwrap();
        RedisSessionStore::new(redis, Duration::from_secs(300))
    }

    fn state(client_name: &str) -> SessionState {
        SessionState::new(InitializeRequestParams::new(
            ClientCapabilities::default(),
            Implementation::new(client_name, "1"),
        ))
    }

    #[test]
    fn keys_carry_the_session_namespace_and_refuse_ids_rmcp_never_mints() {
        let id = "0b7f6a8e-4d6c-4f0e-9a55-3c2d1e0f9a8b";
        assert_eq!(
            RedisSessionStore::key(id),
            Some(format!("mcp:session:{id}"))
        );
        for foreign in ["", "a b", "x\u{e9}", &"x".repeat(65), "id\r\nDEL *"] {
            assert_eq!(RedisSessionStore::key(foreign), None, "{foreign:?}");
        }
    }

    #[tokio::test]
    async fn oversized_state_is_refused_before_redis_is_asked() {
        let store = unreachable_store();
        let error = store
            .store("abc", &state(&"n".repeat(MAX_STATE_BYTES)))
            .await
            .unwrap_err();
        assert!(
            matches!(
                error.downcast_ref::<StateError>(),
                Some(StateError::TooLarge {
                    max: MAX_STATE_BYTES,
                    ..
                })
            ),
            "{error}"
        );
    }

    #[tokio::test]
    async fn with_redis_down_a_session_is_unknown_and_nothing_fails() {
        let store = unreachable_store();
        assert!(store.store("abc", &state("client")).await.is_ok());
        assert!(store.load("abc").await.unwrap().is_none());
        assert!(store.delete("abc").await.is_ok());
        store.touch("abc").await;
    }

    #[tokio::test]
    async fn refusals_are_seen_only_inside_the_watched_request() {
        let sessions = BoundedSessions::new(LocalSessionManager::default(), 0, None);
        let (outcome, refused) = watching_refusals(sessions.create_session()).await;
        assert!(matches!(outcome, Err(SessionError::Full { max: 0 })));
        assert!(refused);
        let (_, refused) = watching_refusals(async {}).await;
        assert!(!refused);
        assert!(sessions.create_session().await.is_err());
    }
}
