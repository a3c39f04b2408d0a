//! Black-box tests: each starts the real application on an ephemeral port, with a fresh SQLite
//! file and the in-process Cal.com simulator (sandbox mode), and talks HTTP to it.

mod admin;
mod appointments;
mod calcom_onboarding;
mod calcom_webhooks;
mod call_ownership;
#[path = "../common/mod.rs"]
mod common;
mod custom_functions;
mod dashboard;
mod database;
mod flow;
mod gateway;
mod health;
mod helpers;
mod inbound;
mod isolation;
mod limits;
mod mcp_resources;
mod mcp_security;
mod mcp_stdio;
mod mcp_tools;
mod metrics;
mod onboarding;
mod queue;
mod rate_limits;
mod resilience;
mod retell;
mod retell_config;
mod retell_sim;
mod sms;
mod supervision;
mod tokens;
mod webhooks;
