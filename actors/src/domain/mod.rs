//! Domain types and pure functions: ids, phone numbers, tenancy, appointment data, German and
//! English date/time reading, the time windows callers offer (`time_window`), Cal.com booking shapes, and the decision that books a slot exactly
//! once per idempotency key; the window of dates a request may name (`date_window`); the one sanitiser of free text
//! (`text`); the checker and rewriter of client SQL (`sql_guard`); phone numbers said in words
//! (`spoken_digits`) and corrections inside a call (`correction`).

pub mod appointment;
pub mod book_once;
pub mod booking;
pub mod collect;
pub mod correction;
pub mod date_phrase;
pub mod date_window;
pub mod datetime;
pub mod ids;
pub mod onboarding;
pub mod phone;
pub mod service_match;
pub mod spoken_digits;
pub mod sql_guard;
pub mod tenant;
pub mod text;
pub mod time_window;
pub mod truthy;
