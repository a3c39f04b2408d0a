//! [`TenantAdminStore`] and [`TokenAdminStore`]: tenants written whole, credentials, the
//! audit log, tokens as operators manage them.
//!
//! - `tenants.rs` — a tenant read back as its spec, the list, number owners; writing a
//!   spec in one transaction, disabling, credentials.
//! - `tokens.rs` — creating, listing and revoking tokens.
//! - `audit.rs` — the audit row every write adds in its own transaction, and the log.
//!
//! Every write runs as one transaction in the store's retry loop. A refusal decided inside
//! it (a number of another tenant, a branch with history) rolls it back: nothing is written.

mod audit;
mod tenants;
mod tokens;

use super::AnyStore;
use super::sql::{Tx, backend};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use std::future::Future;
use switchboard_actors::domain::ids::CompanyId;
use switchboard_actors::domain::onboarding::{
    AuditEntry, AuditRecord, CredentialUpdate, Slug, TenantRef, TenantSpec, TenantState,
    TenantSummary,
};
use switchboard_actors::domain::phone::PhoneNumber;
use switchboard_actors::ports::{StoreError, TenantAdminStore, TokenAdminStore};
use switchboard_actors::records::{NewToken, TokenInfo};

/// How a transaction body fails: the driver (retried when transient), or a refusal the
/// body decided, which rolls the transaction back and is returned as it is.
enum TxError {
    Db(sqlx::Error),
    Refused(StoreError),
}

impl From<sqlx::Error> for TxError {
    fn from(error: sqlx::Error) -> Self {
        Self::Db(error)
    }
}

impl From<StoreError> for TxError {
    fn from(error: StoreError) -> Self {
        Self::Refused(error)
    }
}

impl AnyStore {
    /// Runs `body` in a write transaction, again while the database fails transiently, and
    /// commits what it did unless it refused.
    async fn write<T, F, Fut>(&self, body: F) -> Result<T, StoreError>
    where
        F: Fn(Tx) -> Fut,
        Fut: Future<Output = (Tx, Result<T, TxError>)>,
    {
        let body = &body;
        self.db
            .retry(|| async move {
                let (tx, result) = body(self.db.begin_write().await?).await;
                match result {
                    Ok(value) => {
                        tx.commit().await?;
                        Ok(Ok(value))
                    }
                    Err(TxError::Refused(refusal)) => Ok(Err(refusal)),
                    Err(TxError::Db(error)) => Err(error),
                }
            })
            .await
            .map_err(backend)?
    }
}

#[async_trait]
impl TenantAdminStore for AnyStore {
    async fn list_tenants(&self) -> Result<Vec<TenantSummary>, StoreError> {
        tenants::list(self).await
    }

    async fn tenant(&self, tenant: &TenantRef) -> Result<Option<TenantState>, StoreError> {
        tenants::read(self, tenant).await
    }

    async fn phone_owners(
        &self,
        numbers: &[PhoneNumber],
    ) -> Result<Vec<(PhoneNumber, Slug)>, StoreError> {
        tenants::phone_owners(self, numbers).await
    }

    async fn write_tenant(
        &self,
        spec: &TenantSpec,
        audit: &AuditRecord,
    ) -> Result<CompanyId, StoreError> {
        tenants::write(self, spec, audit).await
    }

    async fn set_disabled(
        &self,
        company: CompanyId,
        disabled: bool,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        tenants::set_disabled(self, company, disabled, audit).await
    }

    async fn set_credentials(
        &self,
        company: CompanyId,
        credentials: &CredentialUpdate,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        tenants::set_credentials(self, company, credentials, audit).await
    }

    async fn audit_log(
        &self,
        company: Option<CompanyId>,
        limit: u32,
        before_id: Option<i64>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        audit::log(self, company, limit, before_id).await
    }
}

#[async_trait]
impl TokenAdminStore for AnyStore {
    async fn create_token(
        &self,
        new: &NewToken,
        audit: &AuditRecord,
    ) -> Result<(TokenInfo, SecretString), StoreError> {
        tokens::create(self, new, audit).await
    }

    async fn list_tokens(&self, company: Option<CompanyId>) -> Result<Vec<TokenInfo>, StoreError> {
        tokens::list(self, company).await
    }

    async fn revoke_token(
        &self,
        id: i64,
        company: Option<CompanyId>,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<TokenInfo>, StoreError> {
        tokens::revoke(self, id, company, now, audit).await
    }
}
