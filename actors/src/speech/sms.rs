//! The text messages callers get after a booking, move or cancellation.
