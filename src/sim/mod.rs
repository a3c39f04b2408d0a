//! In-process simulators of the external services switchboard talks to
//! (DESIGN.md §9), so sandbox mode and tests never need the real vendors.
//!
//! ## Layout
//! - [`faults`]: fault injection every simulator shares (`--fault-*` flags and
//!   `/__sim/faults`).
//! - [`calcom`]: the Cal.com API v2 simulator.
//! - [`sms`]: the Twilio Messages API simulator (SMS confirmations).
//! - [`retell`]: the Retell REST API simulator (agents, LLMs, phone numbers, calls).

pub mod calcom;
pub mod faults;
pub mod retell;
pub mod sms;
