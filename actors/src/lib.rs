//! # switchboard-actors — the core
//!
//! Decides everything and talks to nothing directly: the shell (`switchboard` crate) gives it
//! ports ([`ports`]) for the database, the cache and Cal.com.
//!
//! ## Layout
//! - [`domain`]: ids, E.164 phone numbers, tenancy, appointment data, German/English date and
//!   time reading, Cal.com booking shapes — pure functions and types.
//! - [`records`]: what is persisted through the [`ports::Store`].
//! - [`ports`]: traits the shell implements (store, calendar API, cache, clock).
//! - [`jsonrpc`]: JSON-RPC 2.0 protocol (parse, batch, error objects, application codes).

pub mod domain;
pub mod jsonrpc;
pub mod ports;
pub mod records;
