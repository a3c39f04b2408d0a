//! [`TokenStore`]: API tokens, stored as SHA-256 hex digests ([`super::token_digest`]).

use super::AnyStore;
use super::sql::{Sql, backend};
use async_trait::async_trait;
use chrono::Utc;
use switchboard_actors::domain::ids::CompanyId;
use switchboard_actors::ports::{StoreError, TokenStore};
use switchboard_actors::records::TokenGrant;

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
                             WHERE company_id IS NULL AND label = $1 AND token_sha256 <> $2",
                    )
                    .bind(label)
                    .bind(&digest),
                )
                .await?;
                tx.execute(
                    Sql::new(
                        "INSERT INTO api_tokens (token_sha256, company_id, label, created_at) \
                             VALUES ($1, NULL, $2, $3) \
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
        let now = Utc::now();
        let digest = token_sha256.to_ascii_lowercase();
        self.db
            .retry(|| {
                self.db.execute(
                    Sql::new(
                        "INSERT INTO api_tokens (token_sha256, company_id, label, created_at) \
                         VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (token_sha256) DO NOTHING",
                    )
                    .bind(&digest)
                    .bind(company.map(|c| c.0))
                    .bind(label)
                    .bind(now),
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
        let row: Option<(Option<i64>, String)> = self
            .db
            .fetch_optional(
                Sql::new("SELECT company_id, label FROM api_tokens WHERE token_sha256 = $1")
                    .bind(token_sha256.to_ascii_lowercase()),
            )
            .await
            .map_err(backend)?;
        Ok(row.map(|(company_id, label)| TokenGrant {
            company_id: company_id.map(CompanyId),
            label,
        }))
    }
}
