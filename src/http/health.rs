//! `GET /api/mcp/health` (detailed, behind an admin or `metrics`-scope bearer token),
//! `GET /livez` and `GET /readyz` (open, minimal). None of them shows error text or
//! credentials: a dependency that fails is `unavailable`, and the cause goes to the log.

use super::AppState;
use super::auth::{OperatorAuthError, authorize_operator};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use std::time::Instant;
use switchboard_actors::resilience::BreakerState;
use switchboard_actors::tenant::ListBreakers;

/// Liveness: the process answers.
pub async fn livez() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// The error text a health answer shows for a dependency that failed; the cause is logged.
const UNAVAILABLE: &str = "unavailable";

/// The cache's health without its error text: `{"backend": "memory|redis", "up": bool}`.
async fn cache_health(state: &AppState) -> serde_json::Value {
    let cache = state.cache.health().await;
    if let Some(error) = &cache.error {
        tracing::warn!(backend = cache.backend, %error, "cache health probe failed");
    }
    json!({"backend": cache.backend, "up": cache.up})
}

/// Readiness: the database answers (migrations ran at start, before we listened).
/// `{"status": "ready|degraded|not_ready", "cache"|"database": …}`; open, so it names no
/// URL, company or error text.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match state.store.ping().await {
        // A cache outage degrades (reads go to the database) but does not make us unready.
        Ok(()) => {
            let cache = cache_health(&state).await;
            let status = if cache["up"] == true {
                "ready"
            } else {
                "degraded"
            };
            HttpResponse::Ok().json(json!({"status": status, "cache": cache}))
        }
        Err(e) => {
            tracing::error!(error = %e, "readiness: database unavailable");
            HttpResponse::ServiceUnavailable()
                .json(json!({"status": "not_ready", "database": UNAVAILABLE}))
        }
    }
}

/// `{"status": "healthy|degraded|unhealthy", "services": {…}}` per dependency and server actor,
/// for a caller with an admin or `metrics`-scope token.
///
/// # Errors
/// [`OperatorAuthError`]: 401 with `WWW-Authenticate: Bearer` without such a token.
pub async fn health(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OperatorAuthError> {
    authorize_operator(&req, state.store.as_ref(), &state.lookups).await?;
    let started = Instant::now();
    let db = state.store.ping().await;
    let db_ms = started.elapsed().as_secs_f64() * 1000.0;
    let core = &state.core;
    let actors = [
        ("router", core.router.connected()),
        ("webhook", core.webhooks.connected()),
        ("retell.function", core.functions.connected()),
        ("call_registry", core.calls.connected()),
        ("tenant_directory", core.tenants.connected()),
        ("outbox_worker", core.outbox.connected()),
    ];
    let all_actors = actors.iter().all(|(_, up)| *up);
    let status = match (db.is_ok(), all_actors) {
        (true, true) => "healthy",
        (false, _) => "unhealthy",
        (true, false) => "degraded",
    };
    let mut services = serde_json::Map::new();
    services.insert(
        "database".into(),
        match &db {
            Ok(()) => json!({"status": "up", "latency_ms": db_ms}),
            Err(e) => {
                tracing::error!(error = %e, "health: database unavailable");
                json!({"status": "down", "error": UNAVAILABLE})
            }
        },
    );
    for (name, up) in actors {
        services.insert(
            name.into(),
            json!({"status": if up { "up" } else { "down" }}),
        );
    }
    services.insert("calcom".into(), json!({"base_url": state.calcom_base_url}));
    services.insert("retell".into(), json!({"base_url": state.retell_base_url}));
    let cache = cache_health(&state).await;
    let cache_down = cache["up"] != true;
    services.insert("cache".into(), cache);
    let breakers: Vec<serde_json::Value> = state
        .core
        .tenants
        .send(ListBreakers)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|b| {
            let (name, retry_after) = match b.state {
                BreakerState::Closed => ("closed", None),
                BreakerState::Open { retry_after } => ("open", Some(retry_after.as_secs_f64())),
                BreakerState::HalfOpen => ("half_open", None),
            };
            json!({"service": b.service, "company_id": b.company, "state": name, "retry_after_s": retry_after})
        })
        .collect();
    let any_open = breakers.iter().any(|b| b["state"] != "closed");
    let mut body = json!({
        "status": status,
        "version": env!("CARGO_PKG_VERSION"),
        "mode": state.mode.as_str(),
        "services": services,
        "breakers": breakers,
    });
    // An open breaker degrades the service: callers get spoken fallbacks meanwhile.
    let status = if status == "healthy" && (any_open || cache_down) {
        "degraded"
    } else {
        status
    };
    body["status"] = json!(status);
    Ok(if status == "unhealthy" {
        HttpResponse::ServiceUnavailable().json(body)
    } else {
        HttpResponse::Ok().json(body)
    })
}
