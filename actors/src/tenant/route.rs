//! Route resolution: the business number of a call (E.164) to its company and branch.

use crate::domain::phone::PhoneNumber;
use crate::domain::tenant::TenantRoute;
use crate::ports::{StoreError, TenancyStore};

/// Why a dialled number does not lead to a tenant.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RouteError {
    /// The call object has no business number (`to_number`, or `from_number` on outbound calls),
    /// e.g. a web call.
    #[error("the call object has no business phone number (to_number / from_number)")]
    NoNumber,
    /// The business number is not a valid phone number.
    #[error("{0:?} is not a valid E.164 phone number")]
    InvalidNumber(String),
    /// No branch owns the number (DESIGN §5 code 1003); carries its E.164 form.
    #[error("phone number {0} is not configured for any company")]
    NotConfigured(String),
    /// The lookup in the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Resolves the business number of a call to its company and branch.
pub async fn resolve_route(
    store: &dyn TenancyStore,
    number: Option<&str>,
) -> Result<TenantRoute, RouteError> {
    let raw = number.ok_or(RouteError::NoNumber)?;
    let phone =
        PhoneNumber::parse_default(raw).map_err(|_| RouteError::InvalidNumber(raw.to_owned()))?;
    store
        .tenant_by_phone(&phone)
        .await?
        .ok_or_else(|| RouteError::NotConfigured(phone.to_string()))
}
