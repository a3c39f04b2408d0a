//! Retell wire formats: request signatures, the call object and the REST API's objects
//! (reference/retell.md).

pub mod api;
pub mod call;
pub mod deploy;
#[cfg(test)]
pub(crate) mod fake;
pub mod inbound;
pub mod prefetch;
pub mod signature;
