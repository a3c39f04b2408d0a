//! Existing appointments: the rules and operations that the custom functions
//! (`find_appointments`, `change_appointment`, `cancel_appointment`) and the JSON-RPC methods
//! (`appointments.*`, `calcom.updateBooking`, `calcom.cancelBooking`) share.
//!
//! ## Layout
//! - [`rules`]: who may see an appointment (the caller's number, or a number and a date),
//!   which one a caller means, and the change notice — pure functions.
//! - [`ops`]: moving and cancelling through the company's
//!   [`TenantSession`](crate::tenant::TenantSession) within a deadline, recording the result,
//!   forgetting the cached availability and enqueueing the SMS confirmation; the outbox
//!   fallback when Cal.com cannot answer in time.

pub mod ops;
pub mod rules;

#[cfg(test)]
pub(crate) mod testing;

pub use ops::{Changed, OpDeps, OpError};
pub use rules::{Caller, Selection, Which};
