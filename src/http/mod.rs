//! The HTTP surface (DESIGN §4): routes, shared state and middleware.

pub mod auth;
pub mod body_timeout;
pub mod calcom_webhook;
pub mod custom_function;
pub mod gateway;
pub mod health;
pub mod lookups;
pub mod metrics;
pub mod request_id;
pub mod retell;
pub mod webhook;

use crate::startup::Mode;
use actix_web::web;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;
use std::time::Duration;
use switchboard_actors::jsonrpc::Limits;
use switchboard_actors::ports::{Clock, Store};
use switchboard_actors::system::Core;

/// What every handler shares (cheap to clone: addresses and `Arc`s).
#[derive(Clone)]
pub struct AppState {
    /// Addresses of the core's actors.
    pub core: Core,
    /// Token lookups, tenant resolution of Retell calls, and the readiness probe.
    pub store: Arc<dyn Store>,
    /// Memo of the token and business-number lookups in front of `store`.
    pub lookups: lookups::Lookups,
    /// Wall clock; "now" for Retell signature timestamps.
    pub clock: Arc<dyn Clock>,
    /// Renders `GET /api/metrics` (Prometheus text format).
    pub prometheus: PrometheusHandle,
    /// JSON-RPC limits of the gateway (largest batch).
    pub rpc_limits: Limits,
    /// ± milliseconds accepted between a Retell signature timestamp and our clock.
    pub signature_tolerance_ms: i64,
    /// Deadline of one custom function.
    pub function_deadline: Duration,
    /// Sandbox or production; reported by `GET /api/mcp/health`.
    pub mode: Mode,
    /// Base URL of the Cal.com API in use (the simulator in sandbox mode), without password,
    /// query or fragment ([`crate::config::redact_url`], applied once at start-up): shown by
    /// the detailed health.
    pub calcom_base_url: String,
    /// Base URL of the Retell API in use (the simulator in sandbox mode), redacted like
    /// `calcom_base_url`: shown by the detailed health.
    pub retell_base_url: String,
    /// The cache in use (its health is reported; a Redis outage degrades, never fails).
    pub cache: crate::cache::AnyCache,
    /// Refuses a Retell signature seen before on another request.
    pub replay: crate::cache::ReplayGuard,
}

/// Mounts every route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/mcp/gateway", web::post().to(gateway::handle))
        .route("/api/mcp/retell/webhook", web::post().to(webhook::handle))
        .route(
            "/api/mcp/retell/custom-function",
            web::post().to(custom_function::handle),
        )
        .route(
            "/api/mcp/retell/custom-function/{name}",
            web::post().to(custom_function::handle_named),
        )
        .route("/api/mcp/health", web::get().to(health::health))
        .route("/livez", web::get().to(health::livez))
        .route("/readyz", web::get().to(health::readyz))
        .route("/api/metrics", web::get().to(metrics::render))
        .route(
            "/api/calcom/webhook/{company_slug}",
            web::post().to(calcom_webhook::handle),
        );
}
