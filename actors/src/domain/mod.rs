//! Domain types and pure functions: ids, phone numbers, tenancy, appointment data, German and
//! English date/time reading, Cal.com booking shapes.

pub mod appointment;
pub mod booking;
pub mod collect;
pub mod datetime;
pub mod ids;
pub mod phone;
pub mod service_match;
pub mod tenant;
pub mod truthy;
