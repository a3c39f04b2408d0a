//! # switchboard — the shell
//!
//! CLI, configuration, HTTP (actix-web), adapters for the core's ports, simulators and wiring.
//! The decisions live in the core crate `switchboard_actors`.
//!
//! ## Layout
//! - [`cli`], [`config`], [`telemetry`]: command line, layered settings (database and Redis URLs
//!   kept secret), logs and metrics.
//! - [`startup`]: builds the application in named steps (upstream, store, demo tenant, cache,
//!   actors, HTTP server) and serves it.
//! - [`http`]: the HTTP surface (gateway, Retell webhook and custom functions, health, metrics).
//! - [`store`]: the core's `Store` port on SQLite (embedded default) or PostgreSQL (production).
//! - [`calcom`]: the reqwest Cal.com v2 client (the `CalendarApi` port).
//! - [`cache`]: the `Cache` port, in-process (moka) or shared (Redis).
//! - [`ratelimit`]: the core's `Limiter` port, in-process or shared through Redis.
//! - [`sim`]: simulators of external APIs (Cal.com, Retell, Twilio SMS).
//! - [`sandbox`]: the example tenants (`examples/tenants/`) applied at start.
//! - [`secrets`]: tenants' credentials encrypted at rest, the keys and their rotation.
//! - [`tenants`]: tenants as TOML files, `switchboard tenant apply|list|show|disable|enable`.
//! - [`devtools`]: commands that drive a running service from outside (`replay`,
//!   `circuit-status`); no part of the service.
//! - [`tokens_cli`]: `switchboard token create|list|revoke` on the configured database.
//! - [`notify`]: the Twilio Messages API client (the `Notifier` port): SMS confirmations.
//! - [`retell`]: the reqwest Retell API client (the `RetellApi` port): agents, LLMs, numbers,
//!   calls.
//! - `upstream`: what the reqwest adapters share (base URL check, exchange, `Retry-After`).
//! - [`webhook_probe`]: the `WebhookProbe` port: `retell.config.testWebhook`'s requests to
//!   our own public URL.
//! - [`retell_cli`]: `switchboard retell deploy SLUG` against a running instance.
//! - [`mcp`]: the Model Context Protocol endpoint `/mcp` (tools from the method registry,
//!   resources, prompts, sessions, the bearer guard) and `switchboard mcp` over stdio.
//! - [`admin`]: the operators' dashboard at `/admin` (server-rendered pages over the JSON-RPC
//!   methods, token sign-in, sessions, CSRF).
//! - [`traces`]: traces over OTLP/HTTP (the OpenTelemetry SDK pipeline behind the log
//!   subscriber's `tracing-opentelemetry` layer), on when `telemetry.otlp_endpoint` is set.

#![warn(missing_docs)]

pub mod admin;
pub mod cache;
pub mod calcom;
pub mod cli;
pub mod config;
pub mod devtools;
pub mod http;
pub mod mcp;
pub mod notify;
pub mod ratelimit;
pub mod retell;
pub mod retell_cli;
pub mod sandbox;
pub mod secrets;
pub mod sim;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod tenants;
pub mod tokens_cli;
pub mod traces;
mod upstream;
pub mod webhook_probe;
