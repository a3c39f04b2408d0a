//! `branch.*`: a tenant's branches, their phone numbers and opening hours. Every change goes
//! the one path of [`edit`](crate::servers::company::edit): validated as a tenant file,
//! checked against other tenants' numbers, planned, written with the plan in the audit log.
//! A number moved or removed keeps routing from the HTTP layer's memo for up to
//! `cache.lookups_ttl_s` (10 s by default) on every instance.

pub mod create;
pub mod delete;
pub mod list;
pub mod phone_number;
pub mod update;

use crate::domain::onboarding::{RawBranch, RawTenant};
use crate::jsonrpc::RpcError;
use crate::registry::MethodSpec;
use crate::servers::company::edit::not_found;
use crate::servers::company::{AdminDeps, AdminServer};
use crate::supervision::RestartBudget;
use std::sync::Arc;

crate::method_list!(AdminDeps:
    list::List,
    create::Create,
    update::Update,
    delete::Delete,
    phone_number::AddPhoneNumber,
    phone_number::RemovePhoneNumber,
);

/// The JSON-RPC methods of `branch`.
pub fn methods() -> Vec<MethodSpec> {
    list().specs()
}

/// The `branch` server.
pub fn server(deps: Arc<AdminDeps>, budget: RestartBudget) -> AdminServer {
    AdminServer::new(list(), deps, budget)
}

/// The branch `slug` of `raw`.
///
/// # Errors
/// -32602 `not_found` naming the slug.
fn branch_mut<'a>(raw: &'a mut RawTenant, slug: &str) -> Result<&'a mut RawBranch, RpcError> {
    raw.branches
        .iter_mut()
        .find(|b| b.slug == slug)
        .ok_or_else(|| not_found(format!("no branch with slug {slug:?}")))
}
