//! Retell wire formats: request signatures and the call object (reference/retell.md).

pub mod call;
pub mod signature;
