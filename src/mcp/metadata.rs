//! OAuth 2.0 Protected Resource Metadata (RFC 9728) for `/mcp`: where a client learns which
//! authorization servers issue tokens for it, how to present them and which scopes exist.
//! Served without authentication at `/.well-known/oauth-protected-resource/mcp` (RFC 9728
//! §3.1: the well-known path with the resource's path appended; the URL the 401 challenge
//! names) and at `/.well-known/oauth-protected-resource` (where MCP clients look next,
//! MCP 2025-11-25 `basic/authorization`, reference/mcp.md §3.4).
//!
//! `resource` is the identifier the metadata URL was formed from (RFC 9728 §3.3): `{base}/mcp`
//! for the first, `{base}` for the second, `base` being `server.public_url`, or when none is
//! configured the scheme and `Host` of the request (which the `/mcp` allow-list admitted).
//! Both are absolute URLs, as RFC 9728 §2 requires.

use super::{MCP_PATH, McpAccess, guard};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

/// The well-known path (RFC 9728 §3).
pub const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// Scopes a token may carry (`api_tokens.scope`), as `scopes_supported` names them. `metrics`
/// tokens are for the operator surfaces and are refused on `/mcp`.
pub const SCOPES: [&str; 3] = ["read", "write", "admin"];

/// The URL this deployment is reached at, without a trailing slash: `server.public_url`, or the
/// request's scheme and `Host`.
pub fn base_url(access: &McpAccess, req: &HttpRequest) -> String {
    access.public_url.clone().unwrap_or_else(|| {
        let host = guard::host_of(req).unwrap_or_default();
        format!("{}://{host}", req.connection_info().scheme())
    })
}

/// URL of the metadata of `/mcp` (RFC 9728 §3.1), for the 401 challenge.
pub fn metadata_url(base: &str) -> String {
    format!("{base}{WELL_KNOWN}{MCP_PATH}")
}

/// The metadata document of `resource` (RFC 9728 §2): `resource`, `authorization_servers`
/// (`mcp.authorization_servers`, left out when none is configured: tokens then come from
/// `switchboard token create`), `bearer_methods_supported` (`header`: never the query or the
/// body), `scopes_supported` and `resource_name`.
pub fn document(access: &McpAccess, resource: &str) -> Value {
    let mut doc = json!({
        "resource": resource,
        "bearer_methods_supported": ["header"],
        "scopes_supported": SCOPES,
        "resource_name": "switchboard",
    });
    if !access.authorization_servers.is_empty() {
        doc["authorization_servers"] = json!(access.authorization_servers);
    }
    doc
}

async fn serve(req: HttpRequest, access: web::Data<McpAccess>) -> HttpResponse {
    if let Err(forbidden) = guard::check_host(&access, &req) {
        return forbidden.response();
    }
    let base = base_url(&access, &req);
    let resource = if req.path().ends_with(MCP_PATH) {
        format!("{base}{MCP_PATH}")
    } else {
        base
    };
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "max-age=300"))
        .json(document(&access, &resource))
}

/// Mounts both metadata paths.
pub fn routes(cfg: &mut web::ServiceConfig, access: web::Data<McpAccess>) {
    cfg.service(
        web::resource([WELL_KNOWN.to_owned(), format!("{WELL_KNOWN}{MCP_PATH}")])
            .app_data(access)
            .route(web::get().to(serve)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(servers: &[&str]) -> McpAccess {
        let settings = crate::config::Settings::load_from(None, Vec::<(String, String)>::new())
            .expect("default settings");
        let mut access = McpAccess::new(&settings, Some("https://sb.example.com".to_owned()));
        access.authorization_servers = servers.iter().map(|s| (*s).to_owned()).collect();
        access
    }

    #[test]
    fn document_lists_the_configured_authorization_servers() {
        let doc = document(
            &access(&["https://auth.example.com"]),
            "https://sb.example.com/mcp",
        );
        assert_eq!(doc["resource"], "https://sb.example.com/mcp");
        assert_eq!(
            doc["authorization_servers"],
            json!(["https://auth.example.com"])
        );
        assert_eq!(doc["bearer_methods_supported"], json!(["header"]));
        assert_eq!(doc["scopes_supported"], json!(["read", "write", "admin"]));
    }

    #[test]
    fn metadata_url_inserts_the_well_known_path_before_the_resource_path() {
        assert_eq!(
            metadata_url("https://sb.example.com"),
            "https://sb.example.com/.well-known/oauth-protected-resource/mcp"
        );
    }
}
