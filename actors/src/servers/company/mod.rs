//! Tenant administration over JSON-RPC (DESIGN §6 `company` / `branch` / `service` / `auth`).
//!
//! `company.*` (this folder) reads, creates, changes, disables and re-keys tenants and reads
//! their audit log; `branch.*`, `service.*` and `auth.*` are sibling folders run by the same
//! actor type, [`AdminServer`], one instance per server. Every change goes one path
//! ([`edit`]): load the stored tenant, edit its written form ([`RawTenant`]), validate it with
//! [`TenantSpec::from_raw`] exactly as a tenant file is validated, check numbers against other
//! tenants, plan, write with the plan's lines in the audit log, and make the core forget the
//! company's cached handles ([`ForgetTenant`]) and services.
//!
//! What the gateway remembers is not forgotten here: the HTTP layer's memo of tokens and
//! numbers (`cache.lookups_ttl_s`, 10 s by default) may route a moved number or accept a
//! revoked token for up to that long; that bound is documented with each method it affects.
//!
//! [`RawTenant`]: crate::domain::onboarding::RawTenant
//! [`TenantSpec::from_raw`]: crate::domain::onboarding::TenantSpec::from_raw
//! [`ForgetTenant`]: crate::tenant::ForgetTenant

pub mod create;
pub mod disable;
pub mod edit;
pub mod get;
pub mod get_audit_log;
pub mod list;
pub mod set_credentials;
pub mod update;

#[cfg(test)]
mod tests;

use crate::ports::{Cache, Clock, TenantAdminStore, TokenAdminStore};
use crate::registry::{MethodList, MethodSpec, MethodTable};
use crate::supervision::RestartBudget;
use crate::tenant::{ServicesCache, TenantDirectory};
use actix::prelude::*;
use std::sync::Arc;

/// What the administration methods need.
pub struct AdminDeps {
    /// Tenants as declared, credentials, the audit log.
    pub tenants: Arc<dyn TenantAdminStore>,
    /// API tokens.
    pub tokens: Arc<dyn TokenAdminStore>,
    /// Told to forget a changed company; its breakers resolve event type slugs.
    pub directory: Addr<TenantDirectory>,
    /// "Now" of token expiry and revocation.
    pub clock: Arc<dyn Clock>,
    /// The shared cache: a changed tenant's cached event types (which name its services)
    /// are dropped.
    pub cache: Arc<dyn Cache>,
    /// The companies' cached services: a changed tenant's are dropped.
    pub services: Arc<ServicesCache>,
}

crate::method_list!(AdminDeps:
    list::List,
    get::Get,
    create::Create,
    update::Update,
    disable::Disable,
    disable::Enable,
    set_credentials::SetCredentials,
    get_audit_log::GetAuditLog,
);

/// The JSON-RPC methods of `company`.
pub fn methods() -> Vec<MethodSpec> {
    list().specs()
}

/// The `company` server.
pub fn server(deps: Arc<AdminDeps>, budget: RestartBudget) -> AdminServer {
    AdminServer::new(list(), deps, budget)
}

/// The actor of one administration server (`company`, `branch`, `service` or `auth`): the
/// same deps, a different method list.
pub struct AdminServer {
    methods: MethodTable<AdminDeps>,
    deps: Arc<AdminDeps>,
    budget: RestartBudget,
}

impl AdminServer {
    /// A server running `methods` with `deps`.
    pub fn new(
        methods: MethodList<AdminDeps>,
        deps: Arc<AdminDeps>,
        budget: RestartBudget,
    ) -> Self {
        Self {
            methods: methods.compile(),
            deps,
            budget,
        }
    }
}

impl Actor for AdminServer {
    type Context = Context<Self>;
}

impl Supervised for AdminServer {}

crate::guarded_actor!(AdminServer, "admin");
crate::method_server!(AdminServer);
