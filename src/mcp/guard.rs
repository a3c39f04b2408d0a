//! The `/mcp` guard, in this order (MCP 2025-11-25 `basic/transports` "Security Warning" and
//! `basic/authorization`, reference/mcp.md §3.3–§3.4):
//!
//! 1. DNS-rebinding protection: a `Host` not in [`McpAccess::allowed_hosts`] → 403; an
//!    `Origin` that is present but not in [`McpAccess::allowed_origins`] (`null` included) →
//!    403. Checked before the token, so a hostile page learns nothing about tokens and costs
//!    no token lookup. A request without `Origin` (any non-browser client) passes. rmcp checks
//!    both again behind us, from the same lists.
//! 2. Bearer auth with the gateway's tokens and scopes: no token, or one that is unknown,
//!    revoked, expired or of a disabled company → 401 with `WWW-Authenticate: Bearer
//!    realm="switchboard", resource_metadata="…"` naming the RFC 9728 metadata, plus
//!    `error="invalid_token"` when a token was sent (RFC 6750 §3.1). A `metrics` token (the
//!    operators' scrape token) is not an access token for this resource — the gateway's lookup
//!    does not know it — so it gets the same 401 `invalid_token`, not 403 `insufficient_scope`:
//!    no scope a client could step up to would make it one, and the answer does not tell a
//!    live scrape token apart from a wrong one. A failed token lookup → 503.
//! 3. The admitted request carries its [`TokenGrant`] in the request extensions, which the
//!    rmcp bridge hands to the MCP server; each request is authorized by its own token, never
//!    by its session.
//! 4. An `initialize` refused because `mcp.max_sessions` sessions are live → 503 with
//!    `Retry-After` (rmcp answers 500 to a failing session manager); a body declared JSON
//!    that is not one JSON-RPC message (malformed, or a batch) → 400 -32700 (rmcp: 415).
//!
//! Refusals have a JSON-RPC error body without `id`, as the transport allows.
//!
//! [`TokenGrant`]: switchboard_actors::records::TokenGrant

use super::{McpAccess, metadata, sessions};
use crate::http::AppState;
use crate::http::auth::{AuthError, authenticate};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HOST, ORIGIN, RETRY_AFTER, WWW_AUTHENTICATE};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpRequest, HttpResponse, web};
use serde_json::json;

/// Seconds a client refused a session is told to wait: idle sessions end within
/// `mcp.session_idle_s`, but others end sooner; a short wait keeps the retry cheap.
const SESSION_RETRY_AFTER_S: u64 = 5;

/// The `WWW-Authenticate` value of a 401: the Bearer scheme, the metadata URL, and for a
/// token that was sent but not accepted, `error="invalid_token"` (RFC 6750 §3.1).
pub fn challenge(metadata_url: &str, token_sent: bool) -> String {
    let mut value = format!(r#"Bearer realm="switchboard", resource_metadata="{metadata_url}""#);
    if token_sent {
        value.push_str(r#", error="invalid_token", error_description="unknown or revoked token""#);
    }
    value
}

fn refusal(status: StatusCode, code: i64, message: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/json")
        .body(
            json!({"jsonrpc": "2.0", "id": null, "error": {"code": code, "message": message}})
                .to_string(),
        )
}

/// `host` (a `Host` value, `name[:port]`, IPv6 in brackets) split into its lower-case name
/// without brackets and its port; `None` when it is not an authority.
fn authority(host: &str) -> Option<(String, Option<u16>)> {
    let parsed = http::uri::Authority::try_from(host.trim()).ok()?;
    let name = parsed.host().trim_matches(['[', ']']).to_ascii_lowercase();
    Some((name, parsed.port_u16()))
}

/// Whether `host` is one of `allowed` (an entry without a port admits every port).
fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let Some((name, port)) = authority(host) else {
        return false;
    };
    let entry = |a: &String| {
        authority(a).unwrap_or_else(|| (a.trim_matches(['[', ']']).to_ascii_lowercase(), None))
    };
    allowed
        .iter()
        .map(entry)
        .any(|(a_name, a_port)| a_name == name && a_port.is_none_or(|a_port| port == Some(a_port)))
}

/// An origin's scheme, host and port (the scheme's default when none is written).
fn origin_parts(origin: &str) -> Option<(String, String, Option<u16>)> {
    let url = url::Url::parse(origin).ok()?;
    let host = url.host_str()?.trim_matches(['[', ']']).to_owned();
    Some((url.scheme().to_owned(), host, url.port_or_known_default()))
}

/// Whether `origin` is one of `allowed` (`scheme://host[:port]`, `:*` for any port; RFC 6454
/// §4: no port means the scheme's default). `null` and unparsable origins never are.
fn origin_allowed(origin: &str, allowed: &[String]) -> bool {
    let Some((scheme, host, port)) = origin_parts(origin.trim()) else {
        return false;
    };
    allowed.iter().any(|entry| {
        let (entry, any_port) = match entry.strip_suffix(":*") {
            Some(base) => (base, true),
            None => (entry.as_str(), false),
        };
        origin_parts(entry).is_some_and(|(e_scheme, e_host, e_port)| {
            e_scheme == scheme && e_host == host && (any_port || e_port == port)
        })
    })
}

/// The request's `Host` (HTTP/1.1), else the authority of its URI (HTTP/2).
pub fn host_of(req: &HttpRequest) -> Option<String> {
    match req.headers().get(HOST) {
        Some(value) => value.to_str().ok().map(str::to_owned),
        None => req.uri().authority().map(|a| a.as_str().to_owned()),
    }
}

/// Why a request was refused before its token was looked at (403 each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Forbidden {
    /// `Host` not in [`McpAccess::allowed_hosts`] (or missing): DNS rebinding, or a client
    /// pointed at the wrong name.
    #[error("Forbidden: Host header is not allowed")]
    Host,
    /// `Origin` present but not in [`McpAccess::allowed_origins`] (`null` included).
    #[error("Forbidden: Origin header is not allowed")]
    Origin,
}

impl Forbidden {
    /// The 403 with a JSON-RPC error body without `id`.
    pub fn response(self) -> HttpResponse {
        refusal(StatusCode::FORBIDDEN, -32001, &self.to_string())
    }
}

/// Checks the request's `Host`.
///
/// # Errors
/// [`Forbidden::Host`] unless it is allowed.
pub fn check_host(access: &McpAccess, req: &HttpRequest) -> Result<(), Forbidden> {
    let allowed = host_of(req).is_some_and(|host| host_allowed(&host, &access.allowed_hosts));
    if allowed {
        Ok(())
    } else {
        tracing::warn!("MCP request refused: Host not allowed (DNS rebinding?)");
        Err(Forbidden::Host)
    }
}

/// Checks the request's `Host`, and its `Origin` when present.
fn check_browser_headers(access: &McpAccess, req: &HttpRequest) -> Result<(), Forbidden> {
    check_host(access, req)?;
    let Some(origin) = req.headers().get(ORIGIN) else {
        return Ok(());
    };
    let allowed = origin
        .to_str()
        .is_ok_and(|origin| origin_allowed(origin, &access.allowed_origins));
    if allowed {
        Ok(())
    } else {
        tracing::warn!("MCP request refused: Origin not allowed");
        Err(Forbidden::Origin)
    }
}

/// Whether the request says its body is JSON (`Content-Type: application/json[; …]`).
fn declares_json(req: &ServiceRequest) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// 503 for an `initialize` refused by the session bound.
fn busy(max_sessions: usize) -> HttpResponse {
    let message = format!(
        "Too many MCP sessions open ({max_sessions} at most); retry later, or send stateless \
         2026-07-28 requests, which need no session"
    );
    let mut response = refusal(StatusCode::SERVICE_UNAVAILABLE, -32603, &message);
    response.headers_mut().insert(
        RETRY_AFTER,
        actix_web::http::header::HeaderValue::from(SESSION_RETRY_AFTER_S),
    );
    response
}

/// 400 -32700 for a body declared JSON that is not one JSON-RPC message: rmcp answers those
/// 415 ("unsupported media type"), which misleads a client that did send `application/json`.
/// A batch (a JSON array) lands here too: MCP has had no batches since 2025-06-18.
fn not_one_message() -> HttpResponse {
    refusal(
        StatusCode::BAD_REQUEST,
        -32700,
        "Parse error: the body must be one JSON-RPC message (no batches on /mcp)",
    )
}

/// Middleware on `/mcp`: checks `Host` and `Origin`, authenticates, runs the request, and
/// turns a session refused for the bound into 503; answers every refusal itself.
///
/// # Errors
/// Only what the inner service returns.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let (Some(state), Some(access)) = (
        req.app_data::<web::Data<AppState>>().cloned(),
        req.app_data::<web::Data<McpAccess>>().cloned(),
    ) else {
        let response = HttpResponse::InternalServerError().finish();
        return Ok(req.into_response(response));
    };
    if let Err(forbidden) = check_browser_headers(&access, req.request()) {
        return Ok(req.into_response(forbidden.response()));
    }
    match authenticate(req.request(), state.store.as_ref(), &state.lookups).await {
        Ok(grant) => {
            req.extensions_mut().insert(grant);
            let declared_json = declares_json(&req);
            let (response, refused) = sessions::watching_refusals(next.call(req)).await;
            let response = response?;
            let replacement = if refused {
                Some(busy(access.max_sessions))
            } else if declared_json && response.status() == StatusCode::UNSUPPORTED_MEDIA_TYPE {
                Some(not_one_message())
            } else {
                None
            };
            Ok(match replacement {
                Some(replacement) => ServiceResponse::new(response.into_parts().0, replacement),
                None => response.map_into_boxed_body(),
            })
        }
        Err(AuthError::Store(e)) => {
            tracing::error!(error = %e, "token lookup failed");
            let response = refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                -32603,
                "token lookup unavailable",
            );
            Ok(req.into_response(response))
        }
        Err(e) => {
            let sent = matches!(e, AuthError::Unknown);
            let url = metadata::metadata_url(&metadata::base_url(&access, req.request()));
            let mut response = refusal(StatusCode::UNAUTHORIZED, -32001, &e.to_string());
            if let Ok(value) = challenge(&url, sent).parse() {
                response.headers_mut().insert(WWW_AUTHENTICATE, value);
            }
            Ok(req.into_response(response))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn origin_with_any_port_entry_matches_every_port_of_that_host_only() {
        let allowed = list(&["http://localhost:*", "http://[::1]:*"]);
        assert!(origin_allowed("http://localhost:5173", &allowed));
        assert!(origin_allowed("http://localhost", &allowed));
        assert!(origin_allowed("http://[::1]:8080", &allowed));
        assert!(!origin_allowed("https://localhost:5173", &allowed));
        assert!(!origin_allowed("http://localhost.evil.example", &allowed));
    }

    #[test]
    fn origin_without_port_means_the_default_port() {
        let allowed = list(&["https://admin.example.com"]);
        assert!(origin_allowed("https://admin.example.com", &allowed));
        assert!(origin_allowed("https://admin.example.com:443", &allowed));
        assert!(!origin_allowed("https://admin.example.com:8443", &allowed));
    }

    #[test]
    fn null_and_garbage_origins_are_never_allowed() {
        let allowed = list(&["http://localhost:*", "null"]);
        for origin in ["null", "", "localhost", "http://", "file:///etc/passwd"] {
            assert!(!origin_allowed(origin, &allowed), "{origin}");
        }
    }

    #[test]
    fn host_entry_without_port_admits_every_port_and_names_are_case_insensitive() {
        let allowed = list(&["localhost", "::1", "sb.example.com:8443"]);
        assert!(host_allowed("LocalHost:8080", &allowed));
        assert!(host_allowed("[::1]:9", &allowed));
        assert!(host_allowed("sb.example.com:8443", &allowed));
        assert!(!host_allowed("sb.example.com", &allowed));
        assert!(!host_allowed("evil.example", &allowed));
        assert!(!host_allowed("", &allowed));
    }
}
