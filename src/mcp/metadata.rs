//! OAuth 2.0 Protected Resource Metadata (RFC 9728) for `/mcp`: where a client learns which
//! authorization servers issue tokens for it, how to present them and which scopes exist.
//! Served at `/.well-known/oauth-protected-resource` and, per RFC 9728 §3.1, with the
//! resource's path appended (`…/mcp`), without authentication.

use super::{MCP_PATH, McpAccess};
use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

/// The well-known path (RFC 9728 §3).
pub const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// The metadata document.
pub fn document(access: &McpAccess) -> Value {
    let resource = format!("{}{MCP_PATH}", access.public_url.as_deref().unwrap_or(""));
    let mut doc = json!({
        "resource": resource,
        "bearer_methods_supported": ["header"],
        "scopes_supported": ["read", "write", "admin"],
        "resource_name": "switchboard",
    });
    if !access.authorization_servers.is_empty() {
        doc["authorization_servers"] = json!(access.authorization_servers);
    }
    doc
}

async fn serve(access: web::Data<McpAccess>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "max-age=300"))
        .json(document(&access))
}

/// Mounts both metadata paths.
pub fn routes(cfg: &mut web::ServiceConfig, access: web::Data<McpAccess>) {
    cfg.service(
        web::resource([WELL_KNOWN.to_owned(), format!("{WELL_KNOWN}{MCP_PATH}")])
            .app_data(access)
            .route(web::get().to(serve)),
    );
}
