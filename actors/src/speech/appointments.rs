//! Finding, moving and cancelling an existing appointment by phone.
