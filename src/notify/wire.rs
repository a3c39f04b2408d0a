//! Twilio Messages API shapes (twilio-oai `spec/json/twilio_api_v2010.json`): what the client
//! sends and reads, and what the simulator answers.

use serde::{Deserialize, Serialize};

/// API version segment of every path: `/2010-04-01/Accounts/{AccountSid}/Messages.json`.
pub const API_VERSION: &str = "2010-04-01";

/// Longest `Body` Twilio accepts, in characters; longer is error 21617.
pub const MAX_BODY_CHARS: usize = 1600;

/// Form fields of `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`
/// (`application/x-www-form-urlencoded`; the spec names them `To`, `From`, `Body`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateMessage {
    /// Recipient, E.164.
    #[serde(rename = "To")]
    pub to: String,
    /// Sender, E.164 number of the account.
    #[serde(rename = "From")]
    pub from: String,
    /// Text, at most [`MAX_BODY_CHARS`] characters.
    #[serde(rename = "Body")]
    pub body: String,
}

/// The Message resource (`api.v2010.account.message`), as `POST` answers it with 201 and
/// `GET` lists it. Dates are RFC 2822 in GMT (`Tue, 24 Nov 2026 13:30:00 +0000`); counts are
/// strings, as Twilio sends them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageResource {
    /// `SM` + 32 hex digits.
    pub sid: String,
    /// `AC` + 32 hex digits.
    pub account_sid: String,
    /// Recipient, E.164.
    pub to: String,
    /// Sender, E.164.
    pub from: String,
    /// The text.
    pub body: String,
    /// `queued`, `sending`, `sent`, `delivered`, `undelivered`, `failed`, …
    pub status: String,
    /// `outbound-api` for messages created through this API.
    pub direction: String,
    /// SMS segments the body takes (GSM 7-bit: 160 characters, or 153 per part).
    pub num_segments: String,
    /// Media attached; always `"0"` for text.
    pub num_media: String,
    /// Price in `price_unit`; `None` until sent.
    pub price: Option<String>,
    /// ISO 4217 currency of `price`.
    pub price_unit: Option<String>,
    /// Delivery error code; `None` unless failed.
    pub error_code: Option<i64>,
    /// Delivery error text; `None` unless failed.
    pub error_message: Option<String>,
    /// RFC 2822, GMT.
    pub date_created: String,
    /// RFC 2822, GMT.
    pub date_updated: String,
    /// RFC 2822, GMT; `None` until sent.
    pub date_sent: Option<String>,
    /// `2010-04-01`.
    pub api_version: String,
    /// `None`: sent from `from`, not a Messaging Service.
    pub messaging_service_sid: Option<String>,
    /// This resource's path, `/2010-04-01/Accounts/{sid}/Messages/{sid}.json`.
    pub uri: String,
    /// Related resources (`media`, `feedback`) by path.
    pub subresource_uris: std::collections::BTreeMap<String, String>,
}

/// A page of `GET /2010-04-01/Accounts/{AccountSid}/Messages.json` (`ListMessageResponse`):
/// the messages, newest first, and the paging fields Twilio's helper libraries follow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagePage {
    /// The messages of this page.
    pub messages: Vec<MessageResource>,
    /// Index of the last message of this page.
    pub end: usize,
    /// Path of the first page.
    pub first_page_uri: String,
    /// Path of the next page; `None` on the last.
    pub next_page_uri: Option<String>,
    /// Page number, from 0.
    pub page: usize,
    /// Messages per page.
    pub page_size: usize,
    /// Path of the previous page; `None` on the first.
    pub previous_page_uri: Option<String>,
    /// Index of the first message of this page.
    pub start: usize,
    /// Path of this page.
    pub uri: String,
}

/// Twilio's error body (any 4xx/5xx): `{"code": 21211, "message": "...", "more_info":
/// "https://www.twilio.com/docs/errors/21211", "status": 400}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Twilio error code, e.g. 21211 (invalid `To`), 20003 (authentication), 21617 (body
    /// too long), 20429 (too many requests).
    pub code: i64,
    /// What was wrong, in words.
    pub message: String,
    /// `https://www.twilio.com/docs/errors/{code}`.
    pub more_info: String,
    /// The HTTP status again.
    pub status: u16,
}

impl ErrorBody {
    /// The body for `code` with `message`, answered with `status`.
    pub fn new(status: u16, code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            more_info: format!("https://www.twilio.com/docs/errors/{code}"),
            status,
        }
    }
}
