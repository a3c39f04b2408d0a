//! In-process simulators of the external services switchboard talks to
//! (DESIGN.md §9), so sandbox mode and tests never need the real vendors.

pub mod calcom;
