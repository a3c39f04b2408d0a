//! JSON-RPC 2.0 for the gateway endpoint (<https://www.jsonrpc.org/specification>; our summary
//! and conformance table: `reference/mcp.md` §1; our codes and envelope: DESIGN §5).
//!
//! The HTTP layer hands the raw body to [`process`] with a dispatcher (the Router) and sends
//! back what it returns; everything the spec says about ids, notifications and batches is
//! decided here, so the dispatcher only maps one [`Request`] to a result or an [`RpcError`].
//! MCP (`/mcp`) forbids batches and is served elsewhere.
//!
//! ## Layout
//! - `message`: [`Id`], [`Request`] (validated from JSON), [`Response`] (exactly one of
//!   result/error).
//! - `error`: [`RpcError`], the error object, with the five standard errors.
//! - `codes`: [`ErrorCode`] and [`AppError`], the application errors of DESIGN §5.
//! - `envelope`: [`success_envelope`], the `{"success", "data", "metadata"}` result shape.
//! - `process`: [`process`] and [`Limits`]: parse, validate, batch, dispatch, reply.

mod codes;
mod envelope;
mod error;
mod message;
mod process;

#[cfg(test)]
mod conformance_tests;

pub use codes::{AppError, ErrorCode};
pub use envelope::{RpcResult, SharedJson, Success, success_envelope};
pub use error::RpcError;
pub use message::{Id, Request, Response, kind as json_kind};
pub use process::{Limits, process};
