//! In-process memo of the two lookups every request makes before any work: the gateway's
//! bearer token → [`TokenGrant`] and a Retell call's business number → [`TenantRoute`].
//!
//! Without it each gateway call and each custom function or webhook pays a database round trip
//! first (a quarter of the service's CPU in the gateway load phase, see benches/README.md).
//! Entries live `cache.lookups_ttl_s` seconds (default 10) in this process only, so a revoked
//! token or a number moved to another company takes effect within that time on every
//! instance; `0` turns the memo off. An unknown token always asks the database, so a new
//! token works at once and junk cannot fill the memo. Unknown business numbers are remembered
//! too, in a memo of their own (so junk evicts only junk): otherwise a known number would be
//! answered from memory and an unknown one after a database round trip, and the time of the
//! refusal would tell which numbers we serve (issue 10). A number configured just after it was
//! dialled therefore works within the same `cache.lookups_ttl_s`.
//!
//! Operator tokens (admin or `metrics` scope, for `/api/metrics` and the detailed health) are
//! always asked of the database; the ones it accepted are remembered for one hour
//! (`OPERATOR_FALLBACK_TTL`) only to answer while the database is down, so the health report
//! that says so can still be read.

use moka::future::Cache as Moka;
use std::time::Duration;
use switchboard_actors::domain::tenant::TenantRoute;
use switchboard_actors::ports::{Store, StoreError};
use switchboard_actors::records::TokenGrant;
use switchboard_actors::tenant::{RouteError, resolve_route};

/// Most entries of each memo (tokens, numbers); the least used leave first.
const MAX_ENTRIES: u64 = 10_000;

/// How long an operator token the database accepted keeps working while the database is down.
const OPERATOR_FALLBACK_TTL: Duration = Duration::from_secs(3600);
/// Most operator tokens remembered for a database outage.
const OPERATOR_FALLBACK_ENTRIES: u64 = 1_000;

/// The token and number memo shared by all workers (cheap to clone: the caches are `Arc`s).
#[derive(Clone)]
pub struct Lookups {
    /// SHA-256 hex digests of operator tokens the database accepted within the last hour; read
    /// only when the database does not answer.
    operators: Moka<String, ()>,
    /// SHA-256 hex digest of a token → its grant; `None` when the memo is off.
    tokens: Option<Moka<String, TokenGrant>>,
    /// Business number as sent (`to_number`) → route; `None` when the memo is off.
    routes: Option<Moka<String, TenantRoute>>,
    /// Business number as sent → its E.164 form, for numbers no branch owns; `None` when the
    /// memo is off.
    unknown_numbers: Option<Moka<String, String>>,
}

impl Lookups {
    /// A memo whose entries live `ttl`; a zero `ttl` keeps nothing.
    pub fn new(ttl: Duration) -> Self {
        fn memo<V: Clone + Send + Sync + 'static>(ttl: Duration) -> Option<Moka<String, V>> {
            (!ttl.is_zero()).then(|| {
                Moka::builder()
                    .max_capacity(MAX_ENTRIES)
                    .time_to_live(ttl)
                    .build()
            })
        }
        Self {
            operators: Moka::builder()
                .max_capacity(OPERATOR_FALLBACK_ENTRIES)
                .time_to_live(OPERATOR_FALLBACK_TTL)
                .build(),
            tokens: memo(ttl),
            routes: memo(ttl),
            unknown_numbers: memo(ttl),
        }
    }

    /// [`TokenStore::metrics_access`](switchboard_actors::ports::TokenStore::metrics_access),
    /// always asked of the database (a revoked operator token stops at once); when the
    /// database fails, a token it accepted within the last hour (`OPERATOR_FALLBACK_TTL`)
    /// still passes.
    ///
    /// # Errors
    /// The store's error when it failed and the token was not accepted recently.
    pub async fn operator_access(
        &self,
        store: &dyn Store,
        token_sha256: &str,
    ) -> Result<bool, StoreError> {
        match store.metrics_access(token_sha256).await {
            Ok(true) => {
                self.operators.insert(token_sha256.to_owned(), ()).await;
                Ok(true)
            }
            Ok(false) => {
                self.operators.invalidate(token_sha256).await;
                Ok(false)
            }
            Err(e) if self.operators.contains_key(token_sha256) => {
                tracing::warn!(error = %e, "token store unavailable; operator token accepted from memory");
                Ok(true)
            }
            Err(e) => Err(e),
        }
    }

    /// [`TokenStore::api_token`](switchboard_actors::ports::TokenStore::api_token) through the
    /// memo.
    pub async fn grant(
        &self,
        store: &dyn Store,
        token_sha256: &str,
    ) -> Result<Option<TokenGrant>, StoreError> {
        let Some(tokens) = &self.tokens else {
            return store.api_token(token_sha256).await;
        };
        if let Some(grant) = tokens.get(token_sha256).await {
            return Ok(Some(grant));
        }
        let found = store.api_token(token_sha256).await?;
        if let Some(grant) = &found {
            tokens.insert(token_sha256.to_owned(), grant.clone()).await;
        }
        Ok(found)
    }

    /// [`resolve_route`] through the memo, keyed by the number as the call object spells it
    /// (a hit skips parsing it too). Known and unknown numbers are both remembered.
    pub async fn route(
        &self,
        store: &dyn Store,
        number: Option<&str>,
    ) -> Result<TenantRoute, RouteError> {
        let memo = self
            .routes
            .as_ref()
            .zip(self.unknown_numbers.as_ref())
            .zip(number);
        if let Some(((routes, unknown), raw)) = memo {
            if let Some(route) = routes.get(raw).await {
                return Ok(route);
            }
            if let Some(e164) = unknown.get(raw).await {
                return Err(RouteError::NotConfigured(e164));
            }
        }
        let resolved = resolve_route(store, number).await;
        if let Some(((routes, unknown), raw)) = memo {
            match &resolved {
                Ok(route) => routes.insert(raw.to_owned(), route.clone()).await,
                Err(RouteError::NotConfigured(e164)) => {
                    unknown.insert(raw.to_owned(), e164.clone()).await;
                }
                Err(_) => {}
            }
        }
        resolved
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::{DEMO_PHONE, seed};
    use crate::store::{AnyStore, token_digest};
    use sqlx::SqlitePool;

    const TOKEN: &str = "lookup-test-token";

    /// A seeded SQLite store (demo tenant, admin token [`TOKEN`]) and a raw pool to change
    /// rows behind the store's back.
    async fn store() -> (AnyStore, SqlitePool, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("lookups.db").display());
        let store = AnyStore::connect(&url, 2)
            .await
            .unwrap()
            .with_keyring(crate::secrets::test_keyring());
        seed(&store, TOKEN).await.unwrap();
        let raw = SqlitePool::connect(&url).await.unwrap();
        (store, raw, dir)
    }

    async fn exec(raw: &SqlitePool, sql: &str) {
        sqlx::query(sql).execute(raw).await.unwrap();
    }

    #[tokio::test]
    async fn a_known_token_is_remembered_within_the_ttl() {
        let (store, raw, _dir) = store().await;
        let lookups = Lookups::new(Duration::from_secs(3600));
        let digest = token_digest(TOKEN);
        assert!(lookups.grant(&store, &digest).await.unwrap().is_some());
        exec(&raw, "DELETE FROM api_tokens").await;
        assert!(
            lookups.grant(&store, &digest).await.unwrap().is_some(),
            "the second lookup must come from the memo"
        );
    }

    #[tokio::test]
    async fn a_zero_ttl_asks_the_store_every_time() {
        let (store, raw, _dir) = store().await;
        let lookups = Lookups::new(Duration::ZERO);
        let digest = token_digest(TOKEN);
        assert!(lookups.grant(&store, &digest).await.unwrap().is_some());
        exec(&raw, "DELETE FROM api_tokens").await;
        assert_eq!(lookups.grant(&store, &digest).await.unwrap(), None);
    }

    #[tokio::test]
    async fn an_unknown_token_is_not_remembered() {
        let (store, _raw, _dir) = store().await;
        let lookups = Lookups::new(Duration::from_secs(3600));
        let digest = token_digest("created-later");
        assert_eq!(lookups.grant(&store, &digest).await.unwrap(), None);
        store
            .replace_admin_token(&digest, "created later")
            .await
            .unwrap();
        assert!(
            lookups.grant(&store, &digest).await.unwrap().is_some(),
            "a token created after a miss works at once"
        );
    }

    #[tokio::test]
    async fn a_revoked_operator_token_stops_at_once() {
        let (store, raw, _dir) = store().await;
        let lookups = Lookups::new(Duration::from_secs(3600));
        let digest = token_digest(TOKEN);
        assert!(lookups.operator_access(&store, &digest).await.unwrap());
        exec(&raw, "DELETE FROM api_tokens").await;
        assert!(!lookups.operator_access(&store, &digest).await.unwrap());
    }

    #[tokio::test]
    async fn an_operator_token_accepted_before_passes_while_the_database_fails() {
        let (store, raw, _dir) = store().await;
        let lookups = Lookups::new(Duration::ZERO);
        let digest = token_digest(TOKEN);
        assert!(lookups.operator_access(&store, &digest).await.unwrap());
        exec(&raw, "DROP TABLE api_tokens").await;
        assert!(lookups.operator_access(&store, &digest).await.unwrap());
        assert!(
            lookups
                .operator_access(&store, &token_digest("never-seen"))
                .await
                .is_err(),
            "a token not accepted before is not let in blind"
        );
    }

    #[tokio::test]
    async fn a_dialled_number_is_remembered_within_the_ttl() {
        let (store, raw, _dir) = store().await;
        let lookups = Lookups::new(Duration::from_secs(3600));
        let first = lookups.route(&store, Some(DEMO_PHONE)).await.unwrap();
        exec(&raw, "DELETE FROM phone_numbers").await;
        let again = lookups.route(&store, Some(DEMO_PHONE)).await.unwrap();
        assert_eq!(again.company.id, first.company.id);
    }

    /// Issue 10, finding 7: an unknown number always cost a database round trip while a known
    /// one was answered from memory, so the time of the refusal told them apart.
    #[tokio::test]
    async fn an_unknown_number_is_remembered_like_a_known_one() {
        let (store, raw, _dir) = store().await;
        let lookups = Lookups::new(Duration::from_secs(3600));
        let unknown = "+4930999999";
        assert!(matches!(
            lookups.route(&store, Some(unknown)).await,
            Err(RouteError::NotConfigured(_))
        ));
        exec(
            &raw,
            &format!("UPDATE phone_numbers SET number = '{unknown}' WHERE number = '{DEMO_PHONE}'"),
        )
        .await;
        assert!(
            matches!(
                lookups.route(&store, Some(unknown)).await,
                Err(RouteError::NotConfigured(n)) if n == unknown
            ),
            "the second lookup must come from the memo"
        );
    }

    #[tokio::test]
    async fn unknown_and_invalid_numbers_keep_their_errors() {
        let (store, _raw, _dir) = store().await;
        let lookups = Lookups::new(Duration::from_secs(3600));
        for _ in 0..2 {
            assert!(matches!(
                lookups.route(&store, Some("+4930999999")).await,
                Err(RouteError::NotConfigured(_))
            ));
            assert!(matches!(
                lookups.route(&store, Some("not a number")).await,
                Err(RouteError::InvalidNumber(_))
            ));
            assert!(matches!(
                lookups.route(&store, None).await,
                Err(RouteError::NoNumber)
            ));
        }
    }
}
