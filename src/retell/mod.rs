//! Retell REST API adapter: [`RetellClient`] implements the core's
//! [`RetellApi`](switchboard_actors::ports::RetellApi) port over reqwest, on the current
//! generation of Retell's endpoints (`/v2/list-agents`, `/list-agent-versions`,
//! `/v2/list-phone-numbers`, `/v3/list-calls`, `/v2/get-call`, …). The wire format it follows
//! is written up, with sources, in `reference/retell.md` §4.
//!
//! # Layout
//! - `client` — [`RetellClient`]: URLs (every id one percent-encoded path segment), Bearer
//!   auth, timing, and the mapping of transport failures.
//! - `wire` — the page envelope, the list-calls filter body and call objects; the only place
//!   that knows Retell's list and filter shapes (single objects deserialize straight into the
//!   core's `retell::api` types, which use Retell's field names).
//! - `error` — non-2xx answers (`{"status":"error","message":…}`, `Retry-After`) classified
//!   into [`UpstreamError`](switchboard_actors::domain::booking::UpstreamError) variants.

mod client;
mod error;
mod wire;

#[cfg(test)]
mod sim_tests;
#[cfg(test)]
mod tests;

pub use client::{RetellClient, RetellClientError};

/// `service` of every [`UpstreamError`](switchboard_actors::domain::booking::UpstreamError)
/// and metric label this adapter produces.
const SERVICE: &str = "retell";
