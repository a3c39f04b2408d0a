//! The text messages callers get after a booking, move or cancellation.

use super::Catalog;

/// A confirmation by text message; dates and times are local to the company.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmsText {
    /// A booking Cal.com accepted.
    Booked {
        /// Company name, e.g. `Demo Salon Berlin`.
        company: String,
        /// Service name.
        service: String,
        /// Local start.
        start: chrono::NaiveDateTime,
    },
    /// A move Cal.com confirmed.
    Moved {
        /// Company name.
        company: String,
        /// Service name.
        service: String,
        /// Local start of the new slot.
        start: chrono::NaiveDateTime,
    },
    /// A cancellation Cal.com confirmed.
    Cancelled {
        /// Company name.
        company: String,
        /// Service name.
        service: String,
        /// Local start of the cancelled appointment.
        start: chrono::NaiveDateTime,
    },
}

impl Catalog for SmsText {
    fn de(&self) -> String {
        format!("{self:?}")
    }

    fn en(&self) -> String {
        format!("{self:?}")
    }
}
