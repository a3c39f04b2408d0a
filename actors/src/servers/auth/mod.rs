//! `auth.*`: API tokens as operators and company admins manage them. A company admin token
//! manages only its own company's tokens, up to its own scope; tokens of no company and
//! `metrics` tokens need the operators' token. A revoked token may still be accepted from the
//! HTTP layer's memo for up to `cache.lookups_ttl_s` (10 s by default) on every instance.

pub mod create_token;
pub mod list_tokens;
pub mod revoke_token;

use crate::registry::MethodSpec;
use crate::servers::company::{AdminDeps, AdminServer};
use crate::supervision::RestartBudget;
use std::sync::Arc;

crate::method_list!(AdminDeps:
    create_token::CreateToken,
    list_tokens::ListTokens,
    revoke_token::RevokeToken,
);

/// The JSON-RPC methods of `auth`.
pub fn methods() -> Vec<MethodSpec> {
    list().specs()
}

/// The `auth` server.
pub fn server(deps: Arc<AdminDeps>, budget: RestartBudget) -> AdminServer {
    AdminServer::new(list(), deps, budget)
}
