//! Live calls: one [`CallContext`](context::CallContext) actor per call holds what the custom
//! functions collected until `call_ended`; the [`CallRegistry`](registry::CallRegistry) finds or
//! spawns them and expires idle ones.

pub mod context;
pub mod registry;
