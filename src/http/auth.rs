//! Bearer-token auth of the gateway and of the operator surfaces (`GET /api/metrics`, the
//! detailed `GET /api/mcp/health`): `Authorization: Bearer <token>` or `X-MCP-Token`.
//! Tokens are stored as SHA-256 hex digests, never in clear.

use super::lookups::Lookups;
use crate::store::token_digest;
use actix_web::http::StatusCode;
use actix_web::http::header::WWW_AUTHENTICATE;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
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

/// Why a request for the metrics or the detailed health was refused.
#[derive(Debug, thiserror::Error)]
pub enum OperatorAuthError {
    /// No token, an unknown one, or one that is neither admin nor `metrics`-scoped (HTTP 401
    /// with `WWW-Authenticate: Bearer`). One answer for all, so a company token is not told
    /// apart from a wrong one.
    #[error("an admin or metrics-scope bearer token is required")]
    Unauthorized,
    /// The token lookup failed (HTTP 503); the cause goes to the log only.
    #[error("token lookup unavailable")]
    Store(#[source] StoreError),
}

impl ResponseError for OperatorAuthError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        match self {
            Self::Unauthorized => {
                response.insert_header((WWW_AUTHENTICATE, r#"Bearer realm="switchboard""#));
            }
            Self::Store(e) => tracing::error!(error = %e, "token lookup failed"),
        }
        response.content_type("text/plain").body(self.to_string())
    }
}

/// Lets the request through when its token is an admin token or a `metrics`-scope token
/// ([`Lookups::operator_access`]).
///
/// # Errors
/// [`OperatorAuthError`]: 401 for a missing or insufficient token, 503 when the lookup failed.
pub async fn authorize_operator(
    req: &HttpRequest,
    store: &dyn Store,
    lookups: &Lookups,
) -> Result<(), OperatorAuthError> {
    let token = presented(req).ok_or(OperatorAuthError::Unauthorized)?;
    match lookups.operator_access(store, &token_digest(token)).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(OperatorAuthError::Unauthorized),
        Err(e) => Err(OperatorAuthError::Store(e)),
    }
}
