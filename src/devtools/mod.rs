//! Developer tools: commands that drive a running service from outside, as a developer or an
//! operator would. They talk to it over HTTP only and are no part of the service itself.
//!
//! ## Layout
//! - [`replay`]: `switchboard replay`, plays call scripts (`examples/calls/*.json`) against a
//!   running service, signed like Retell.
//! - [`circuit_status`]: `switchboard circuit-status`, prints the circuit breakers of a running
//!   service.

pub mod circuit_status;
pub mod replay;
