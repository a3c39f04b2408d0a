//! Bearer-token auth of the gateway: `Authorization: Bearer <token>` or `X-MCP-Token`.
//! Tokens are stored as SHA-256 hex digests, never in clear.

use super::lookups::Lookups;
use crate::store::token_digest;
use actix_web::HttpRequest;
use switchboard_actors::ports::{Store, StoreError};
use switchboard_actors::records::TokenGrant;

/// Why a request is not authorised.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No bearer token in `Authorization` and, when that header is absent, none in `X-MCP-Token`
    /// (HTTP 401, -32001).
    #[error("missing token: send Authorization: Bearer <token> or X-MCP-Token")]
    Missing,
    /// No stored token has this SHA-256 digest (HTTP 401, -32001).
    #[error("unknown or revoked token")]
    Unknown,
    /// The token lookup failed (HTTP 503, 3004).
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn presented(req: &HttpRequest) -> Option<&str> {
    if let Some(v) = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
    {
        let (scheme, token) = v.trim().split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim())
            .filter(|t| !t.is_empty());
    }
    req.headers()
        .get("x-mcp-token")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// The grant of the request's token, through the [`Lookups`] memo. The lookup is by hash, so
/// comparing secrets in non-constant time never happens.
pub async fn authenticate(
    req: &HttpRequest,
    store: &dyn Store,
    lookups: &Lookups,
) -> Result<TokenGrant, AuthError> {
    let token = presented(req).ok_or(AuthError::Missing)?;
    lookups
        .grant(store, &token_digest(token))
        .await?
        .ok_or(AuthError::Unknown)
}
