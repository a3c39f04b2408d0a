//! Server actors ("MCP servers"): one per group of JSON-RPC methods `<server>.<method>`.
//!
//! A server is a folder (or, for one method, a file). Its `mod.rs` holds the actor, its
//! `Deps` (the narrowest store roles and actors its methods use, e.g.
//! `Arc<dyn QueueAdminStore>`) and [`method_list!`](crate::method_list), the one list of its
//! methods. Each method is a file with a unit struct implementing
//! [`Method`](crate::registry::Method): name, summary, scope, kind, typed params with their
//! bounds, typed output, `apply`. From that list come the specs the
//! [`Router`](crate::router::Router) routes and `rpc.discover` shows, and the
//! [`MethodTable`](crate::registry::MethodTable) the actor runs each
//! [`ServerCall`](crate::server::ServerCall) through ([`method_server!`](crate::method_server)):
//! params are validated against the generated JSON Schema before `apply` sees them.
//!
//! ## Adding a method
//! E.g. `queue.getWorkers`: add `queue/get_workers.rs` (copy a sibling: struct, `Params`,
//! `Output`, `impl Method`), its `pub mod get_workers;` line and the line
//! `get_workers::GetWorkers,` to the `method_list!` in `queue/mod.rs`. Nothing else changes: routing, validation, `rpc.discover` and the scope
//! check follow from the list.
//!
//! ## Layout
//! - `calcom/`: event types, availability, bookings (Cal.com through the tenant's breaker).
//! - `appointments/`: a caller's appointments for staff: find, change, cancel by the phone rules.
//! - `database/`: reports (call counts, dead-lettered bookings, search) and read-only,
//!   tenant-scoped SQL over documented views.
//! - `queue/`: the outbox as operators see it (overview, dead letters, retries).
//! - `webhook/`: verified Retell webhooks → durable records; call and webhook stats.
//! - `retell/`: the company's Retell agent, calls, numbers and connection (through its
//!   Retell breaker); `importCalls` backfills our call records.
//! - `retell_function.rs`: Retell custom functions, for the endpoint and the gateway.
//! - `retell_config/`: the tenant's Retell agent set up from here: webhook, deployed custom
//!   functions, reachability check.
//! - `fault.rs`: supervision test hooks (`fault-injection` builds only).
//! - `company/`, `branch/`, `service/`, `auth/`: tenant administration and tokens, one path
//!   for every change (validated as a tenant file, audited), run by one actor type.
//! - here: how upstream, tenant and store failures map to JSON-RPC errors (DESIGN §5).

pub mod appointments;
pub mod auth;
pub mod branch;
pub mod calcom;
pub mod company;
pub mod database;
#[cfg(feature = "fault-injection")]
pub mod fault;
pub mod queue;
pub mod retell;
pub mod retell_config;
pub mod retell_function;
pub mod service;
pub mod webhook;

use crate::domain::booking::UpstreamError;
use crate::jsonrpc::{AppError, ErrorCode, RpcError};
use crate::tenant::TenantError;

/// Maps an upstream failure to the JSON-RPC error of DESIGN §5. `fallback` is the code for a
/// refusal that has no more specific one (e.g. 2004 when creating a booking).
pub fn upstream_error(e: &UpstreamError, fallback: ErrorCode) -> RpcError {
    let code = match e {
        UpstreamError::SlotTaken { .. } | UpstreamError::SlotReserved { .. } => {
            ErrorCode::SlotNotAvailable
        }
        UpstreamError::Unauthorized { .. } => ErrorCode::InvalidCalcomKey,
        UpstreamError::Transport { .. }
        | UpstreamError::RateLimited { .. }
        | UpstreamError::ServerError { .. }
        | UpstreamError::CircuitOpen { .. } => ErrorCode::UpstreamUnavailable,
        UpstreamError::Throttled { .. } => ErrorCode::RateLimited,
        UpstreamError::NotFound { .. }
        | UpstreamError::Rejected { .. }
        | UpstreamError::Decode { .. } => fallback,
    };
    let mut err = AppError::new(code, e.to_string());
    if let Some(after) = e.retry_after() {
        err = err.with_retry_after(after.as_secs().max(1));
    }
    err.into()
}

/// Maps a tenant lookup failure.
pub fn tenant_error(e: &TenantError) -> RpcError {
    match e {
        TenantError::NotFound(_) => AppError::new(ErrorCode::CompanyNotFound, e.to_string()).into(),
        TenantError::Store(_) => AppError::new(ErrorCode::DatabaseError, e.to_string()).into(),
        TenantError::Calendar(..) => {
            AppError::new(ErrorCode::UpstreamUnavailable, e.to_string()).into()
        }
    }
}

/// Maps a storage failure (details stay in the logs).
pub fn store_error(e: &crate::ports::StoreError) -> RpcError {
    tracing::error!(error = %e, "store failure");
    AppError::new(ErrorCode::DatabaseError, "database error").into()
}
