//! One file per page; here what several pages share: the booking state of a call and how
//! values of a method's JSON result are read and shown.

pub mod appointments;
pub mod call;
pub mod dead_letters;
pub mod health;
pub mod stats;
pub mod tenants;
pub mod today;

use super::i18n::{Lang, Texts};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// What became of a call's booking, from its `webhook.getCall` record. The fixed set the
/// markup carries in `data-state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookingState {
    /// An appointment is stored for the call.
    Booked,
    /// The booking job waits or runs.
    Pending,
    /// The booking job is a dead letter.
    Failed,
    /// Complete appointment data, but the caller did not confirm.
    Unconfirmed,
    /// Some appointment data, not all of it.
    Incomplete,
    /// No appointment data.
    None,
}

impl BookingState {
    /// The state of `call` (a `CallView` as JSON).
    pub fn of(call: &Value) -> Self {
        if call.get("appointment").is_some_and(|a| !a.is_null()) {
            return Self::Booked;
        }
        match text(call, &["booking_job", "status"]) {
            Some("failed") => return Self::Failed,
            Some("pending" | "running") => return Self::Pending,
            Some("done") => return Self::Booked,
            _ => {}
        }
        let Some(collected) = call.get("collected").filter(|c| c.is_object()) else {
            return Self::None;
        };
        let complete = ["date", "time", "name", "phone", "service"]
            .iter()
            .all(|field| collected.get(field).is_some_and(|v| !v.is_null()));
        match (
            complete,
            collected.get("confirmed") == Some(&Value::Bool(true)),
        ) {
            (true, true) => Self::Pending,
            (true, false) => Self::Unconfirmed,
            (false, _) => Self::Incomplete,
        }
    }

    /// The `data-state` value.
    pub fn code(self) -> &'static str {
        match self {
            Self::Booked => "booked",
            Self::Pending => "pending",
            Self::Failed => "failed",
            Self::Unconfirmed => "unconfirmed",
            Self::Incomplete => "incomplete",
            Self::None => "none",
        }
    }

    /// The word shown, in `t`'s language.
    pub fn word(self, t: &Texts) -> &'static str {
        match self {
            Self::Booked => t.state_booked,
            Self::Pending => t.state_pending,
            Self::Failed => t.state_failed,
            Self::Unconfirmed => t.state_unconfirmed,
            Self::Incomplete => t.state_incomplete,
            Self::None => t.state_none,
        }
    }
}

/// The string at `path` in `v`, if there is one.
pub fn text<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(v, |v, key| v.get(key))
        .and_then(Value::as_str)
}

/// The UTC time at `path` in `v` (RFC 3339), if there is one.
pub fn time(v: &Value, path: &[&str]) -> Option<DateTime<Utc>> {
    text(v, path)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// A call's status as the page's language says it: live or ended; Retell's own word for the
/// rest (`error`, `not_connected`, `registered`).
pub fn call_status(status: &str, lang: Lang) -> String {
    let t = lang.texts();
    match status {
        "ongoing" => t.status_live.to_owned(),
        "ended" | "analyzed" => t.status_ended.to_owned(),
        other => other.to_owned(),
    }
}

/// Whether `id` may be a path segment we look up (a Retell call id, a slug): 1–128 ASCII
/// letters, digits, `-` and `_`. Anything else is 404 before any lookup.
pub fn plausible_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_booking_state_follows_appointment_job_and_collected_data() {
        let cases = [
            (json!({"appointment": {"booking_uid": "b"}}), "booked"),
            (json!({"booking_job": {"status": "failed"}}), "failed"),
            (json!({"booking_job": {"status": "running"}}), "pending"),
            (
                json!({"collected": {"date": "2026-12-03", "time": "10:00:00", "name": "A",
                    "phone": "+4930123456", "service": {"name": "x"}, "confirmed": false}}),
                "unconfirmed",
            ),
            (
                json!({"collected": {"name": "A", "confirmed": true}}),
                "incomplete",
            ),
            (json!({"collected": null}), "none"),
        ];
        for (call, state) in cases {
            assert_eq!(BookingState::of(&call).code(), state, "{call}");
        }
    }

    #[test]
    fn only_plain_ids_are_looked_up() {
        assert!(plausible_id("call_0123-abc"));
        for bad in ["", "../x", "a b", "ü", "a%2F", &"a".repeat(129)] {
            assert!(!plausible_id(bad), "{bad:?}");
        }
    }
}
