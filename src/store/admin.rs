//! [`TenantAdminStore`] and [`TokenAdminStore`]: tenants written whole, credentials, the
//! audit log, tokens as operators manage them.

use super::AnyStore;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use switchboard_actors::domain::ids::CompanyId;
use switchboard_actors::domain::onboarding::{
    AuditEntry, AuditRecord, CredentialUpdate, Slug, TenantRef, TenantSpec, TenantState,
    TenantSummary,
};
use switchboard_actors::domain::phone::PhoneNumber;
use switchboard_actors::ports::{StoreError, TenantAdminStore, TokenAdminStore};
use switchboard_actors::records::{NewToken, TokenInfo};

fn todo() -> StoreError {
    StoreError::backend("not implemented yet")
}

#[async_trait]
impl TenantAdminStore for AnyStore {
    async fn list_tenants(&self) -> Result<Vec<TenantSummary>, StoreError> {
        Err(todo())
    }
    async fn tenant(&self, _tenant: &TenantRef) -> Result<Option<TenantState>, StoreError> {
        Err(todo())
    }
    async fn phone_owners(
        &self,
        _numbers: &[PhoneNumber],
    ) -> Result<Vec<(PhoneNumber, Slug)>, StoreError> {
        Err(todo())
    }
    async fn write_tenant(
        &self,
        _spec: &TenantSpec,
        _audit: &AuditRecord,
    ) -> Result<CompanyId, StoreError> {
        Err(todo())
    }
    async fn set_disabled(
        &self,
        _company: CompanyId,
        _disabled: bool,
        _audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        Err(todo())
    }
    async fn set_credentials(
        &self,
        _company: CompanyId,
        _credentials: &CredentialUpdate,
        _audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        Err(todo())
    }
    async fn audit_log(
        &self,
        _company: Option<CompanyId>,
        _limit: u32,
        _before_id: Option<i64>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        Err(todo())
    }
}

#[async_trait]
impl TokenAdminStore for AnyStore {
    async fn create_token(
        &self,
        _new: &NewToken,
        _audit: &AuditRecord,
    ) -> Result<(TokenInfo, SecretString), StoreError> {
        Err(todo())
    }
    async fn list_tokens(&self, _company: Option<CompanyId>) -> Result<Vec<TokenInfo>, StoreError> {
        Err(todo())
    }
    async fn revoke_token(
        &self,
        _id: i64,
        _company: Option<CompanyId>,
        _now: DateTime<Utc>,
        _audit: &AuditRecord,
    ) -> Result<Option<TokenInfo>, StoreError> {
        Err(todo())
    }
}
