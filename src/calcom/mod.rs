//! Cal.com API v2 adapter: [`CalcomClient`] implements the core's
//! [`CalendarApi`](switchboard_actors::ports::CalendarApi) port over reqwest. The wire format
//! it follows is written up, with sources, in `reference/calcom.md`.
//!
//! # Layout
//! - `client` — [`CalcomClient`]: URLs, auth and `cal-api-version` per route, timing, and
//!   the mapping of transport failures.
//! - `clients` — [`CalcomClients`]: one client per tenant base URL (the core's
//!   [`CalendarApis`](switchboard_actors::ports::CalendarApis) port).
//! - `wire` — serde shapes of request and response bodies and their conversion to the core's
//!   domain types; the only place that knows Cal.com's field names.
//! - `error` — non-2xx answers (both error body shapes, rate-limit headers) classified into
//!   [`UpstreamError`](switchboard_actors::domain::booking::UpstreamError) variants: slot
//!   taken, unauthorized, not found, rate limited, rejected, server error.

mod client;
mod clients;
mod error;
mod wire;

#[cfg(test)]
mod sim_tests;
#[cfg(test)]
mod tests;

pub use client::{CalcomClient, CalcomClientError};
pub use clients::{CalcomClients, MAX_BASE_URLS};

/// `service` of every [`UpstreamError`](switchboard_actors::domain::booking::UpstreamError)
/// and metric label this adapter produces.
const SERVICE: &str = "calcom";
