//! MCP resources: what an assistant reads to know a company before it acts
//! (`switchboard://companies/{slug}/…`), read through the same methods the tools call, so a
//! company token reads only its own company.
//!
//! STUB: the resources helper fills this in (configuration, today's calls, dead letters).

use super::handler::Dispatcher;
use rmcp::model::{ReadResourceResult, Resource, ResourceTemplate};
use switchboard_actors::jsonrpc::RpcError;

/// Why a resource could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    /// No such resource, or one of a company this token may not see (one answer for both,
    /// so another company's slugs cannot be probed). MCP `-32002`-style "resource not found".
    #[error("resource not found: {0}")]
    NotFound(String),
    /// The method behind the resource refused or failed.
    #[error(transparent)]
    Method(#[from] RpcError),
}

/// The resources `d`'s grant may read (concrete URIs of its companies).
///
/// # Errors
/// [`ResourceError::Method`] when listing the companies failed.
pub async fn list(_d: &Dispatcher) -> Result<Vec<Resource>, ResourceError> {
    Ok(Vec::new())
}

/// The URI templates (`resources/templates/list`).
pub fn templates() -> Vec<ResourceTemplate> {
    Vec::new()
}

/// Reads `uri` for `d`'s grant.
///
/// # Errors
/// [`ResourceError::NotFound`] for an unknown URI or another company's; `Method` otherwise.
pub async fn read(_d: &Dispatcher, uri: &str) -> Result<ReadResourceResult, ResourceError> {
    Err(ResourceError::NotFound(uri.to_owned()))
}
