//! Text messages to callers: the Twilio Messages API adapter of the core's
//! [`Notifier`](switchboard_actors::ports::Notifier) /
//! [`Notifiers`](switchboard_actors::ports::Notifiers) ports. The wire format is
//! Twilio's published OpenAPI description (`twilio/twilio-oai`,
//! `spec/json/twilio_api_v2010.json`, path `/2010-04-01/Accounts/{AccountSid}/Messages.json`,
//! schema `api.v2010.account.message`); `switchboard sim sms` ([`crate::sim::sms`]) serves the
//! same API offline.
//!
//! # Layout
//! - `twilio` — [`TwilioClient`]: one connection pool per base URL, `POST …/Messages.json`
//!   with HTTP basic auth, answers and errors classified into
//!   [`UpstreamError`](switchboard_actors::domain::booking::UpstreamError);
//!   [`TwilioNotifier`]: a client with one tenant's account.
//! - `clients` — [`TwilioNotifiers`]: one client per base URL, bounded (the `Notifiers` port).
//! - [`wire`] — the request form, the message resource and the error body, shared with the
//!   simulator so both speak the same shapes.

mod clients;
mod twilio;
pub mod wire;

pub use clients::{MAX_BASE_URLS, TwilioNotifiers};
pub use twilio::{TwilioClient, TwilioClientError, TwilioNotifier};

/// `service` of every [`UpstreamError`](switchboard_actors::domain::booking::UpstreamError)
/// and metric label this adapter produces.
const SERVICE: &str = "sms";
