//! [`TokenStore`]: API tokens, stored as SHA-256 hex digests ([`super::token_digest`]).

use super::AnyStore;
use super::sql::{Sql, backend};
use async_trait::async_trait;
use chrono::Utc;
use switchboard_actors::domain::ids::CompanyId;
use switchboard_actors::ports::{StoreError, TokenStore};
use switchboard_actors::records::{TokenGrant, TokenScope as TokenScope_};

impl AnyStore {
    /// Makes the token of digest `token_sha256` the one admin token labelled `label`: in one
    /// transaction, deletes every other admin token with that label and inserts this one
    /// (kept when it exists). Sandbox seeding uses it, so changing the sandbox admin token
    /// revokes the old one.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when a statement fails.
    pub async fn replace_admin_token(
        &self,
        token_sha256: &str,
        label: &str,
    ) -> Result<(), StoreError> {
        let now = Utc::now();
        let digest = token_sha256.to_ascii_lowercase();
        self.db
            .retry(|| async {
                let mut tx = self.db.begin_write().await?;
                tx.execute(
                    Sql::new(
                        "DELETE FROM api_tokens \
                             WHERE company_id IS NULL AND scope = 'admin' \
                             AND label = $1 AND token_sha256 <> $2",
                    )
                    .bind(label)
                    .bind(&digest),
                )
                .await?;
                tx.execute(
                    Sql::new(
                        "INSERT INTO api_tokens (token_sha256, company_id, label, created_at, \
                                 scope) \
                             VALUES ($1, NULL, $2, $3, 'admin') \
                             ON CONFLICT (token_sha256) DO NOTHING",
                    )
                    .bind(&digest)
                    .bind(label)
                    .bind(now),
                )
                .await?;
                tx.commit().await
            })
            .await
            .map_err(backend)
    }

    /// Stores an API token by its SHA-256 hex digest ([`super::token_digest`]);
    /// `company: None` makes it an admin token. A digest that is already stored keeps its
    /// original grant and label.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the digest is not 64 hex digits or the company does not
    /// exist.
    pub async fn insert_api_token(
        &self,
        token_sha256: &str,
        company: Option<CompanyId>,
        label: &str,
    ) -> Result<(), StoreError> {
        self.insert_scoped_token(token_sha256, TokenScope::Gateway, company, label)
            .await
    }
}

/// What a token may do (`api_tokens.scope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TokenScope {
    /// The JSON-RPC gateway: one company's, or every company's for an admin token (and, as
    /// admin, the metrics and the detailed health).
    Gateway,
    /// Only `GET /api/metrics` and the detailed `GET /api/mcp/health` (Prometheus); no company.
    Metrics,
}

impl TokenScope {
    /// The stored name: `gateway` or `metrics`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gateway => "gateway",
            Self::Metrics => "metrics",
        }
    }
}

impl AnyStore {
    /// Makes a new random token of `scope` (for `company`, or none: admin or metrics), stores
    /// its digest and returns the token itself — the only time it is ever seen. The token is
    /// `sb_` and 64 hex digits from two v4 UUIDs (244 random bits from the OS generator).
    ///
    /// # Errors
    /// As [`Self::insert_scoped_token`].
    pub async fn create_token(
        &self,
        scope: TokenScope,
        company: Option<CompanyId>,
        label: &str,
    ) -> Result<String, StoreError> {
        let token = format!(
            "sb_{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        self.insert_scoped_token(&super::token_digest(&token), scope, company, label)
            .await?;
        Ok(token)
    }

    /// Stores a token of `scope` by its SHA-256 hex digest; a metrics token takes no company.
    /// A digest that is already stored keeps its original scope, grant and label.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the digest is not 64 hex digits, the company does not
    /// exist, or a metrics token is given a company.
    pub async fn insert_scoped_token(
        &self,
        token_sha256: &str,
        scope: TokenScope,
        company: Option<CompanyId>,
        label: &str,
    ) -> Result<(), StoreError> {
        let now = Utc::now();
        let digest = token_sha256.to_ascii_lowercase();
        self.db
            .retry(|| {
                self.db.execute(
                    Sql::new(
                        "INSERT INTO api_tokens (token_sha256, company_id, label, created_at, scope) \
                         VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (token_sha256) DO NOTHING",
                    )
                    .bind(&digest)
                    .bind(company.map(|c| c.0))
                    .bind(label)
                    .bind(now)
                    .bind(match (scope, company) {
                        (TokenScope::Metrics, _) => "metrics",
                        (TokenScope::Gateway, None) => "admin",
                        (TokenScope::Gateway, Some(_)) => "write",
                    }),
                )
            })
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl TokenStore for AnyStore {
    async fn api_token(&self, token_sha256: &str) -> Result<Option<TokenGrant>, StoreError> {
        let row: Option<(i64, Option<i64>, String, String)> = self
            .db
            .fetch_optional(
                Sql::new(
                    "SELECT t.id, t.company_id, t.label, t.scope FROM api_tokens t \
                     LEFT JOIN companies c ON c.id = t.company_id \
                     WHERE t.token_sha256 = $1 AND t.scope IN ('read', 'write', 'admin') \
                     AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2) \
                     AND c.disabled_at IS NULL",
                )
                .bind(token_sha256.to_ascii_lowercase())
                .bind(Utc::now()),
            )
            .await
            .map_err(backend)?;
        row.map(|(id, company_id, label, scope)| {
            let scope = TokenScope_::parse(&scope).ok_or_else(|| StoreError::Corrupt {
                table: "api_tokens",
                message: format!("unknown scope {scope:?}"),
            })?;
            Ok(TokenGrant {
                token_id: Some(id),
                company_id: company_id.map(CompanyId),
                label,
                scope,
            })
        })
        .transpose()
    }

    async fn metrics_access(&self, token_sha256: &str) -> Result<bool, StoreError> {
        let row: Option<(i64,)> = self
            .db
            .fetch_optional(
                Sql::new(
                    "SELECT id FROM api_tokens WHERE token_sha256 = $1 \
                     AND (scope = 'metrics' OR (scope = 'admin' AND company_id IS NULL)) \
                     AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)",
                )
                .bind(token_sha256.to_ascii_lowercase())
                .bind(Utc::now()),
            )
            .await
            .map_err(backend)?;
        Ok(row.is_some())
    }
}
