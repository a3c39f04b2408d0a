//! Starts every long-lived actor of the core and hands out their addresses. Called once in
//! `main` under the actix System, before the HTTP server, so HTTP workers share the actors.

use crate::breaker::BreakerPolicy;
use crate::call::registry::CallRegistry;
use crate::functions::FunctionDeps;
use crate::outbox::{OutboxConfig, OutboxWorker};
use crate::ports::{Cache, CalendarApi, Clock, Store};
use crate::router::{Router, RouterBuilder};
use crate::servers::calcom::{CacheTtl, CalcomServer};
use crate::servers::retell_function::RetellFunctionServer;
use crate::servers::webhook::{BookingPolicy, WebhookServer};
use crate::tenant::TenantDirectory;
use actix::prelude::*;
use std::sync::Arc;
use std::time::Duration;

/// The ports the core needs.
#[derive(Clone)]
pub struct CoreDeps {
    pub store: Arc<dyn Store>,
    pub calendar: Arc<dyn CalendarApi>,
    pub cache: Arc<dyn Cache>,
    pub clock: Arc<dyn Clock>,
}

/// Settings of the core (from config/default.toml).
#[derive(Clone, Debug)]
pub struct CoreConfig {
    pub breaker: BreakerPolicy,
    pub outbox: OutboxConfig,
    /// Attempts before a booking job is a dead letter.
    pub booking_max_attempts: u32,
    /// Deadline of one JSON-RPC call.
    pub rpc_deadline: Duration,
    /// Longest wait for Cal.com inside a custom function.
    pub function_calendar_timeout: Duration,
    /// Idle call contexts are stopped after this (their data stays in the store).
    pub call_idle_timeout: Duration,
    pub cache_ttl: CacheTtl,
}

/// Addresses of the running core.
#[derive(Clone)]
pub struct Core {
    pub router: Addr<Router>,
    pub webhooks: Addr<WebhookServer>,
    pub functions: Addr<RetellFunctionServer>,
    pub calls: Addr<CallRegistry>,
    pub tenants: Addr<TenantDirectory>,
    pub outbox: Addr<OutboxWorker>,
}

impl Core {
    /// Starts all actors on the current arbiter.
    pub fn start(deps: CoreDeps, cfg: CoreConfig) -> Self {
        let tenants = TenantDirectory::new(
            Arc::clone(&deps.store),
            Arc::clone(&deps.calendar),
            cfg.breaker,
        )
        .start();
        let calls = CallRegistry::new(
            Arc::clone(&deps.store),
            Arc::clone(&deps.clock),
            cfg.call_idle_timeout,
        )
        .start();
        let outbox = OutboxWorker::new(
            Arc::clone(&deps.store),
            tenants.clone(),
            Arc::clone(&deps.clock),
            cfg.outbox,
        )
        .start();
        let webhooks = WebhookServer::new(
            Arc::clone(&deps.store),
            calls.clone(),
            outbox.clone().recipient(),
            Arc::clone(&deps.clock),
            BookingPolicy {
                max_attempts: cfg.booking_max_attempts,
            },
        )
        .start();
        let functions = RetellFunctionServer::new(FunctionDeps {
            store: Arc::clone(&deps.store),
            calls: calls.clone(),
            tenants: tenants.clone(),
            clock: Arc::clone(&deps.clock),
            calendar_timeout: cfg.function_calendar_timeout,
        })
        .start();
        let calcom = CalcomServer::new(
            Arc::clone(&deps.store),
            tenants.clone(),
            Arc::clone(&deps.cache),
            Arc::clone(&deps.clock),
            cfg.cache_ttl,
        )
        .start();
        let router = RouterBuilder::default()
            .server(CalcomServer::methods(), calcom.recipient())
            .server(WebhookServer::methods(), webhooks.clone().recipient())
            .server(
                RetellFunctionServer::methods(),
                functions.clone().recipient(),
            )
            .build(cfg.rpc_deadline)
            .start();
        Self {
            router,
            webhooks,
            functions,
            calls,
            tenants,
            outbox,
        }
    }
}
