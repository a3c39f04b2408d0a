//! The Retell call object, typed for the fields we act on (reference/retell.md §1.3). The whole
//! object is kept as JSON alongside, so nothing Retell sends is lost.
//!
//! The typed fields are stored in columns, so they are made safe while parsing: text fields
//! lose control and bidi characters ([`text::is_hidden`]; PostgreSQL refuses NUL), and a
//! `duration_ms` below zero, which the `calls` table's CHECK refuses and which no real call
//! has, is read as unknown, and so is a timestamp outside 1970..=9999. Before, it reached the store and the webhook answered 503, which
//! Retell retries.

use crate::domain::ids::CallId;
use crate::domain::text;
use crate::domain::truthy::is_truthy;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// An optional string with hidden characters removed, line breaks and tabs kept.
fn visible<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(|s| {
        s.chars()
            .filter(|c| matches!(c, '\n' | '\t') || !text::is_hidden(*c))
            .collect()
    }))
}

/// Last millisecond of 9999-12-31 UTC since the Unix epoch: later (and negative) timestamps
/// are no call's, and PostgreSQL's `timestamptz` refuses years before 4713 BC that chrono
/// still reads.
const LAST_EPOCH_MS: i64 = 253_402_300_799_999;

/// An optional timestamp in milliseconds since the Unix epoch; one outside 1970..=9999 is
/// unknown.
fn epoch_ms<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(Option::<i64>::deserialize(d)?.filter(|ms| (0..=LAST_EPOCH_MS).contains(ms)))
}

/// An optional length in milliseconds; a negative one is unknown.
fn non_negative<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(Option::<i64>::deserialize(d)?.filter(|ms| *ms >= 0))
}

/// `call_analysis` of a `call_analyzed` webhook.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct CallAnalysis {
    /// Retell's summary of the call, free text.
    #[serde(default, deserialize_with = "visible")]
    pub call_summary: Option<String>,
    /// `Negative`, `Positive`, `Neutral` or `Unknown`.
    #[serde(default, deserialize_with = "visible")]
    pub user_sentiment: Option<String>,
    /// Whether Retell judged the call successful.
    pub call_successful: Option<bool>,
    /// Whether the call reached a voicemail.
    pub in_voicemail: Option<bool>,
}

/// A Retell call object. Unknown fields are ignored; enums such as `call_status` stay strings
/// because Retell adds values over time.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct RetellCall {
    /// Opaque Retell id, e.g. `call_8f2c1d0e…`.
    pub call_id: CallId,
    /// The Retell agent that took the call.
    #[serde(default, deserialize_with = "visible")]
    pub agent_id: Option<String>,
    /// `phone_call` or `web_call` (web calls have no numbers and no direction).
    #[serde(default, deserialize_with = "visible")]
    pub call_type: Option<String>,
    /// `registered`, `not_connected`, `ongoing`, `ended`, `error`.
    #[serde(default, deserialize_with = "visible")]
    pub call_status: Option<String>,
    /// `inbound` or `outbound`.
    #[serde(default, deserialize_with = "visible")]
    pub direction: Option<String>,
    /// E.164.
    #[serde(default, deserialize_with = "visible")]
    pub from_number: Option<String>,
    /// E.164.
    #[serde(default, deserialize_with = "visible")]
    pub to_number: Option<String>,
    /// Milliseconds since the Unix epoch; `None` outside 1970..=9999.
    #[serde(default, deserialize_with = "epoch_ms")]
    pub start_timestamp: Option<i64>,
    /// Milliseconds since the Unix epoch; `None` outside 1970..=9999.
    #[serde(default, deserialize_with = "epoch_ms")]
    pub end_timestamp: Option<i64>,
    /// Call length in milliseconds; set once the call ended. Negative values are read as
    /// `None`.
    #[serde(default, deserialize_with = "non_negative")]
    pub duration_ms: Option<i64>,
    /// Why the call ended, e.g. `user_hangup` or `dial_no_answer` (open enum, reference/retell.md
    /// §1.3).
    #[serde(default, deserialize_with = "visible")]
    pub disconnection_reason: Option<String>,
    /// `map<string,string>` per Retell; values are read leniently.
    pub retell_llm_dynamic_variables: Option<Map<String, Value>>,
    /// `map<string,string>`, "only available after the call ends".
    pub collected_dynamic_variables: Option<Map<String, Value>>,
    /// Post-call analysis; only in `call_analyzed`.
    pub call_analysis: Option<CallAnalysis>,
}

/// Dynamic variable that marks a confirmed booking (DESIGN §3).
pub const BOOKING_CONFIRMED_VARIABLE: &str = "booking_confirmed";

impl RetellCall {
    /// The number that belongs to the business: `to_number` for inbound calls, `from_number`
    /// for outbound ones.
    pub fn business_number(&self) -> Option<&str> {
        match self.direction.as_deref() {
            Some("outbound") => self.from_number.as_deref(),
            _ => self.to_number.as_deref(),
        }
    }

    /// The caller's number (the other side of [`Self::business_number`]).
    pub fn caller_number(&self) -> Option<&str> {
        match self.direction.as_deref() {
            Some("outbound") => self.to_number.as_deref(),
            _ => self.from_number.as_deref(),
        }
    }

    /// `booking_confirmed` is truthy in `collected_dynamic_variables` or
    /// `retell_llm_dynamic_variables`.
    pub fn booking_confirmed_variable(&self) -> bool {
        [
            &self.collected_dynamic_variables,
            &self.retell_llm_dynamic_variables,
        ]
        .into_iter()
        .flatten()
        .any(|vars| vars.get(BOOKING_CONFIRMED_VARIABLE).is_some_and(is_truthy))
    }

    /// `start_timestamp` as UTC.
    pub fn started_at(&self) -> Option<DateTime<Utc>> {
        self.start_timestamp
            .and_then(DateTime::from_timestamp_millis)
    }

    /// `end_timestamp` as UTC.
    pub fn ended_at(&self) -> Option<DateTime<Utc>> {
        self.end_timestamp.and_then(DateTime::from_timestamp_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(v: Value) -> RetellCall {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn outbound_call_belongs_to_from_number() {
        let c = call(
            json!({"call_id":"c1","direction":"outbound","from_number":"+4930","to_number":"+4917"}),
        );
        assert_eq!(c.business_number(), Some("+4930"));
        let c = call(
            json!({"call_id":"c1","direction":"inbound","from_number":"+4917","to_number":"+4930"}),
        );
        assert_eq!(c.business_number(), Some("+4930"));
    }

    #[test]
    fn booking_confirmed_in_either_variable_map() {
        let c =
            call(json!({"call_id":"c","collected_dynamic_variables":{"booking_confirmed":"ja"}}));
        assert!(c.booking_confirmed_variable());
        let c = call(
            json!({"call_id":"c","retell_llm_dynamic_variables":{"booking_confirmed":"true"}}),
        );
        assert!(c.booking_confirmed_variable());
        let c =
            call(json!({"call_id":"c","collected_dynamic_variables":{"booking_confirmed":"nein"}}));
        assert!(!c.booking_confirmed_variable());
    }

    #[test]
    fn negative_duration_is_read_as_unknown() {
        let c = call(json!({"call_id": "c", "duration_ms": -5}));
        assert_eq!(c.duration_ms, None);
        let c = call(json!({"call_id": "c", "duration_ms": 0}));
        assert_eq!(c.duration_ms, Some(0));
    }

    #[test]
    fn timestamps_outside_1970_to_9999_are_read_as_unknown() {
        let c = call(
            json!({"call_id": "c", "start_timestamp": -8_000_000_000_000_000_000i64,
            "end_timestamp": LAST_EPOCH_MS + 1}),
        );
        assert_eq!((c.started_at(), c.ended_at()), (None, None));
        let c = call(json!({"call_id": "c", "start_timestamp": 0, "end_timestamp": LAST_EPOCH_MS}));
        assert_eq!(
            c.ended_at().unwrap().to_rfc3339(),
            "9999-12-31T23:59:59.999+00:00"
        );
        assert!(c.started_at().is_some());
    }

    #[test]
    fn hidden_characters_never_reach_the_typed_fields() {
        let c = call(json!({"call_id": "c", "agent_id": "agent\u{0}_1\u{202E}",
            "disconnection_reason": "user\u{0}_hangup",
            "call_analysis": {"call_summary": "Zeile 1\nZeile\u{0} 2\u{2066}"}}));
        assert_eq!(c.agent_id.as_deref(), Some("agent_1"));
        assert_eq!(c.disconnection_reason.as_deref(), Some("user_hangup"));
        assert_eq!(
            c.call_analysis.unwrap().call_summary.as_deref(),
            Some("Zeile 1\nZeile 2")
        );
    }

    #[test]
    fn reference_call_ended_example_parses() {
        let v = json!({"call_id":"call_8f2c1d0e9b7a4c3e5d6f7a8b9c0","agent_id":"agent_3b","agent_version":4,
            "call_type":"phone_call","direction":"inbound","from_number":"+14155550123","to_number":"+14155559876",
            "call_status":"ended","start_timestamp":1767193200000i64,"end_timestamp":1767193347512i64,"duration_ms":147512,
            "disconnection_reason":"agent_hangup","telephony_identifier":{"twilio_call_sid":"CA5d"},
            "metadata":{"tenant_id":"clinic_42"},"latency":{"e2e":{"p50":820}}});
        let c = call(v);
        assert_eq!(c.ended_at().unwrap().timestamp_millis(), 1767193347512);
    }
}
