//! # switchboard — the shell
//!
//! CLI, configuration, HTTP (actix-web), adapters for the core's ports, simulators and wiring.
//! The decisions live in the core crate `switchboard_actors`.
//!
//! ## Layout
//! - [`cli`], [`config`], [`telemetry`]: command line, layered settings, logs and metrics.
//! - [`startup`]: builds the application (store, simulator, actors, HTTP server).
//! - [`http`]: the HTTP surface (gateway, Retell webhook and custom functions, health, metrics).
//! - [`store`]: the SQLite implementation of the core's `Store` port.
//! - [`calcom`]: the reqwest Cal.com v2 client (the `CalendarApi` port).
//! - [`cache`]: the in-process (moka) cache (the `Cache` port).
//! - [`sim`]: simulators of external APIs (Cal.com).
//! - [`sandbox`]: the seeded demo tenant.
//! - [`replay`]: plays call scripts against a running service; [`circuit_status`]: prints the
//!   breakers of a running service.

#![warn(missing_docs)]

pub mod cache;
pub mod calcom;
pub mod cli;
pub mod config;
pub mod devtools;
pub mod http;
pub mod sandbox;
pub mod sim;
pub mod startup;
pub mod store;
pub mod telemetry;
