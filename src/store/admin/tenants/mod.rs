//! Tenants as operators declare them: read back as a [`TenantSpec`], listed, and written
//! whole ([`write`]) so that reading back what was written plans no changes.
//!
//! - `read`: a stored tenant as a [`TenantSpec`](switchboard_actors::domain::onboarding::TenantSpec)
//!   with its credentials' fingerprints, the list, the owners of numbers.
//! - `write`: a spec written whole in one transaction, disabling, credentials.

mod read;
mod write;

pub(super) use read::{list, phone_owners, read};
pub(super) use write::{set_credentials, set_disabled, write};

use switchboard_actors::ports::StoreError;

/// A stored value that cannot be read back.
fn corrupt(table: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        table,
        message: message.into(),
    }
}
