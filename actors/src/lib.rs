//! # switchboard-actors — the core
//!
//! Decides everything and talks to nothing directly: the shell (`switchboard` crate) gives it
//! ports ([`ports`]) for the database, the cache and Cal.com.
//!
//! ## Layout
//! - [`domain`]: ids, E.164 phone numbers, tenancy, appointment data, German/English date and
//!   time reading, Cal.com booking shapes, the exactly-once booking decision — pure functions
//!   and types.
//! - [`records`]: what is persisted through the [`ports::Store`].
//! - [`appointments`]: existing appointments — who may see one, the change notice, moving and
//!   cancelling through the tenant session (shared by the custom functions, the JSON-RPC
//!   methods and the outbox jobs).
//! - [`ports`]: traits the shell implements (the store's roles, calendar API, cache, clock).
//! - [`jsonrpc`]: JSON-RPC 2.0 protocol (parse, batch, error objects, application codes).
//! - [`registry`] + [`router`]: the method registry (routing, param schemas, `rpc.discover`) and
//!   the `Router` actor; [`server`]: the message every server actor handles.
//! - [`retell`]: Retell signatures and the call object.
//! - [`calcom_webhook`]: Cal.com's webhook signatures and booking payloads.
//! - [`call`]: `CallRegistry` and one `CallContext` actor per live call.
//! - [`tenant`]: number → tenant route, `TenantDirectory`, per-company `TenantSession`, and
//!   the cross-instance booking lock.
//! - [`breaker`]: the `Breaker` actor fronting Cal.com per company credential, its handle and
//!   its metrics.
//! - [`resilience`]: the units the breaker is made of (circuit breaker, retry, backoff, retry
//!   budget).
//! - [`outbox`]: the `OutboxWorker` running durable booking jobs.
//! - [`servers`]: the server actors (`calcom`, `queue`, `webhook`, `retell.function`);
//!   [`functions`]: the Retell custom functions.
//! - [`ratelimit`]: per company and server, per live-call and per Cal.com credential rate
//!   limits (the limiter port and governor's in-process GCRA).
//! - [`supervision`]: restarts after panics and the restart budget.
//! - [`system`]: starts every actor; [`metric_names`]: every Prometheus name in one place.
//! - [`queue_depth`]: the sampler of `queue_depth{queue,status}` from the shared database.
//! - [`trace`]: one OpenTelemetry trace per call (the trace id derived from company and call
//!   id) and the links from outbox jobs to the spans that enqueued them.

#![warn(missing_docs)]

pub mod appointments;
pub mod breaker;
pub mod calcom_webhook;
pub mod call;
pub mod domain;
pub mod functions;
pub mod jsonrpc;
pub mod metric_names;
pub mod notify;
pub mod outbox;
pub mod plane;
pub mod ports;
pub mod queue_depth;
pub mod ratelimit;
pub mod records;
pub mod registry;
pub mod reports;
pub mod resilience;
pub mod retell;
pub mod router;
pub mod server;
pub mod servers;
pub mod speech;
pub mod supervision;
pub mod system;
pub mod tenant;
#[cfg(test)]
mod test_clock;
pub mod trace;
