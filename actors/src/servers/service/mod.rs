//! `service.*`: what callers can book, with aliases and the Cal.com event type behind each.
//! Every change goes the one path of [`edit`](crate::servers::company::edit); an
//! `event_type_slug` without id is resolved against the tenant's Cal.com event types through
//! the company's breaker.

pub mod create;
pub mod delete;
pub mod list;
pub mod update;

use crate::domain::onboarding::{RawService, RawTenant};
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
);

/// The JSON-RPC methods of `service`.
pub fn methods() -> Vec<MethodSpec> {
    list().specs()
}

/// The `service` server.
pub fn server(deps: Arc<AdminDeps>, budget: RestartBudget) -> AdminServer {
    AdminServer::new(list(), deps, budget)
}

/// The service `name` of `raw` (names are unique without regard to case).
///
/// # Errors
/// -32602 `not_found` naming the service.
fn service_mut<'a>(raw: &'a mut RawTenant, name: &str) -> Result<&'a mut RawService, RpcError> {
    raw.services
        .iter_mut()
        .find(|s| s.name.to_lowercase() == name.to_lowercase())
        .ok_or_else(|| not_found(format!("no service {name:?}")))
}
