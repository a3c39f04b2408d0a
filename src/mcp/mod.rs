//! `/mcp`: the Model Context Protocol over Streamable HTTP (DESIGN §4, §12; issue 14), with
//! rmcp (the official SDK) served from actix-web by [`bridge`], which leaves every wire
//! decision to rmcp: the 2025-11-25 handshake with sessions and `ping`, the stateless
//! 2026-07-28 era (`server/discover`, `_meta`, `Mcp-*` header checks), JSON responses or SSE,
//! no batches (reference/mcp.md §2–§4).
//!
//! - [`tools`]: the registry as MCP tools; [`handler`]: the rmcp server; [`resources`],
//!   [`prompts`]: what an assistant reads and the tasks it offers.
//! - [`guard`]: `Host` and `Origin` against [`McpAccess`] (403; rmcp checks them again), then
//!   bearer auth (401 + `WWW-Authenticate` naming the RFC 9728 metadata).
//! - [`metadata`]: `/.well-known/oauth-protected-resource[/mcp]` (RFC 9728).
//! - [`sessions`]: handshake-era sessions, bounded by `mcp.max_sessions` and shared across
//!   instances through Redis when configured.

pub mod bridge;
pub mod guard;
pub mod handler;
pub mod metadata;
pub mod prompts;
pub mod resources;
pub mod sessions;
pub mod stdio;
pub mod tools;

use crate::cache::RedisCache;
use crate::config::Settings;
use actix_web::middleware::from_fn;
use actix_web::web;
use rmcp::transport::streamable_http_server::session::SessionStore;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use std::sync::Arc;
use std::time::Duration;

/// The path the endpoint is served at.
pub const MCP_PATH: &str = "/mcp";

/// Who may reach `/mcp` and how sessions are kept, resolved from `[mcp]` and
/// `server.public_url` at start.
#[derive(Debug, Clone)]
pub struct McpAccess {
    /// `server.public_url` without a trailing slash, if known; the metadata's `resource` is
    /// `{public_url}/mcp`.
    pub public_url: Option<String>,
    /// `mcp.authorization_servers`.
    pub authorization_servers: Vec<String>,
    /// Accepted `Host` values (rmcp's allow-list; never empty).
    pub allowed_hosts: Vec<String>,
    /// Accepted `Origin` values (rmcp's allow-list; never empty, so validation is on).
    pub allowed_origins: Vec<String>,
    /// `mcp.max_sessions`.
    pub max_sessions: usize,
    /// `mcp.session_idle_s`.
    pub session_idle: Duration,
    /// Largest request body, bytes (`server.max_body_bytes`); larger → 413.
    pub max_body_bytes: usize,
}

const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

impl McpAccess {
    /// Resolves `[mcp]` with the public URL the service is reached at.
    pub fn new(settings: &Settings, public_url: Option<String>) -> Self {
        let mcp = &settings.mcp;
        let mut allowed_hosts: Vec<String> = mcp.allowed_hosts.clone();
        let mut allowed_origins: Vec<String> = mcp.allowed_origins.clone();
        if let Some(url) = public_url.as_deref().and_then(|u| url::Url::parse(u).ok()) {
            if let Some(host) = url.host_str() {
                allowed_hosts.push(host.trim_matches(['[', ']']).to_owned());
            }
            allowed_origins.push(url.origin().ascii_serialization());
        }
        let loopback = LOOPBACK_HOSTS.contains(&settings.server.host.as_str())
            || settings.server.host.starts_with("127.");
        if loopback || allowed_hosts.is_empty() {
            for host in LOOPBACK_HOSTS {
                allowed_hosts.push(host.to_owned());
                let host = if host.contains(':') {
                    format!("[{host}]")
                } else {
                    host.to_owned()
                };
                allowed_origins.push(format!("http://{host}:*"));
                allowed_origins.push(format!("https://{host}:*"));
            }
        }
        allowed_hosts.sort();
        allowed_hosts.dedup();
        allowed_origins.sort();
        allowed_origins.dedup();
        Self {
            public_url,
            authorization_servers: mcp.authorization_servers.clone(),
            allowed_hosts,
            allowed_origins,
            max_sessions: mcp.max_sessions,
            session_idle: Duration::from_secs(mcp.session_idle_s),
            max_body_bytes: settings.server.max_body_bytes,
        }
    }
}

/// What the HTTP workers share to serve `/mcp`: one rmcp service (one session manager).
#[derive(Clone)]
pub struct McpMount {
    service: web::Data<bridge::Service>,
    access: Arc<McpAccess>,
}

impl McpMount {
    /// The endpoint over `server`, admitting what `access` allows; with `redis` (the
    /// deployment's, `redis.key_prefix` applied) sessions survive a move to another instance.
    pub fn new(server: handler::McpServer, access: McpAccess, redis: Option<RedisCache>) -> Self {
        let mut local = LocalSessionManager::default();
        local.session_config.keep_alive = Some(access.session_idle);
        let store = redis.map(|r| sessions::RedisSessionStore::new(r, access.session_idle));
        let mut config = StreamableHttpServerConfig::default()
            .with_legacy_session_mode(true)
            .with_json_response(true)
            .with_max_request_body_bytes(access.max_body_bytes)
            .with_allowed_hosts(access.allowed_hosts.clone())
            .with_allowed_origins(access.allowed_origins.clone())
            .enforce_origin_validation();
        config.session_store = store.clone().map(|s| Arc::new(s) as Arc<dyn SessionStore>);
        let sessions = sessions::BoundedSessions::new(local, access.max_sessions, store);
        let service =
            StreamableHttpService::new(move || Ok(server.clone()), Arc::new(sessions), config);
        Self {
            service: web::Data::new(service),
            access: Arc::new(access),
        }
    }

    /// Mounts `/mcp` and the protected-resource metadata on one worker's app.
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        let access = web::Data::from(Arc::clone(&self.access));
        cfg.service(
            web::resource(MCP_PATH)
                .app_data(self.service.clone())
                .app_data(access.clone())
                .wrap(from_fn(guard::middleware))
                .route(web::route().to(bridge::handle)),
        );
        metadata::routes(cfg, access);
    }
}
