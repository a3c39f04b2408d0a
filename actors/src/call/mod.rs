//! Live calls: one [`CallContext`](context::CallContext) actor per call holds what the custom
//! functions collected until `call_ended`; the [`CallRegistry`](registry::CallRegistry) finds or
//! spawns them and expires idle ones; [`hold`] keeps the caller's slot reserved in Cal.com
//! while the caller decides.

pub mod context;
pub mod hold;
pub mod registry;

#[cfg(test)]
mod context_tests;
#[cfg(test)]
mod hold_tests;
#[cfg(test)]
pub(crate) mod memory;
