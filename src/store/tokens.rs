//! [`TokenStore`]: API tokens, stored as SHA-256 hex digests ([`super::token_digest`]).

use super::AnyStore;
use super::sql::{Sql, backend};
use async_trait::async_trait;
use chrono::Utc;
use switchboard_actors::domain::ids::CompanyId;
use switchboard_actors::ports::{StoreError, TokenStore};
use switchboard_actors::records::{TokenGrant, TokenScope};

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
            let scope = TokenScope::parse(&scope).ok_or_else(|| StoreError::Corrupt {
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
