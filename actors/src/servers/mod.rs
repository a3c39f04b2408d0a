//! Server actors ("MCP servers"): one per group of JSON-RPC methods `<server>.<method>`.
//! Each declares its methods ([`MethodSpec`](crate::registry::MethodSpec)) and handles
//! [`ServerCall`](crate::server::ServerCall).

pub mod calcom;
#[cfg(feature = "fault-injection")]
pub mod fault;
pub mod queue;
pub mod retell_function;
pub mod webhook;

use crate::domain::booking::UpstreamError;
use crate::jsonrpc::{AppError, ErrorCode, RpcError};
use crate::tenant::TenantError;

/// Maps an upstream failure to the JSON-RPC error of DESIGN §5. `fallback` is the code for a
/// refusal that has no more specific one (e.g. 2004 when creating a booking).
pub fn upstream_error(e: &UpstreamError, fallback: ErrorCode) -> RpcError {
    let code = match e {
        UpstreamError::SlotTaken { .. } => ErrorCode::SlotNotAvailable,
        UpstreamError::Unauthorized { .. } => ErrorCode::InvalidCalcomKey,
        UpstreamError::Transport { .. }
        | UpstreamError::RateLimited { .. }
        | UpstreamError::ServerError { .. }
        | UpstreamError::CircuitOpen { .. } => ErrorCode::UpstreamUnavailable,
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
    }
}

/// Maps a storage failure (details stay in the logs).
pub fn store_error(e: &crate::ports::StoreError) -> RpcError {
    tracing::error!(error = %e, "store failure");
    AppError::new(ErrorCode::DatabaseError, "database error").into()
}
