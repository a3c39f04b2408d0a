//! class-validator, as far as Cal.com's inputs need it: field checks with their default
//! messages, and the two ways Cal.com turns failures into a 400 (calcom.md §5).
//!
//! Body pipes (`CreateBookingInputPipe`, `GetSlotsInputPipe`, …) join the failures into one
//! string, `"<property> property is wrong,<constraints> <children>"`; the global
//! `ValidationPipe` on query DTOs passes the `ValidationError` objects as `details.errors`.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde_json::{Map, Value, json};
use switchboard_actors::domain::phone::PhoneNumber;

use super::errors::CalcomError;

/// One failed property, like class-validator's `ValidationError`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Violation {
    pub(super) property: String,
    /// `(constraint name, message)` in check order.
    pub(super) constraints: Vec<(&'static str, String)>,
    /// Failures inside a nested object (`@ValidateNested`).
    pub(super) children: Vec<Violation>,
}

impl Violation {
    /// A failure of `property` with one constraint.
    pub(super) fn new(
        property: &str,
        constraint: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            property: property.into(),
            constraints: vec![(constraint, message.into())],
            children: Vec::new(),
        }
    }

    /// `property X should not exist` (whitelist + forbidNonWhitelisted).
    pub(super) fn unknown(property: &str) -> Self {
        Self::new(
            property,
            "whitelistValidation",
            format!("property {property} should not exist"),
        )
    }

    /// A nested object whose own properties failed.
    pub(super) fn nested(property: &str, children: Vec<Violation>) -> Self {
        Self {
            property: property.into(),
            constraints: Vec::new(),
            children,
        }
    }
}

/// The body-pipe message (`formatErrors` of Cal.com's input pipes), trailing space included.
pub(super) fn pipe_message(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(|v| {
            let constraints: Vec<&str> = v.constraints.iter().map(|(_, m)| m.as_str()).collect();
            format!(
                "{} property is wrong,{} {}",
                v.property,
                constraints.join(", "),
                pipe_message(&v.children)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// 400 from a body pipe, or `Ok` when nothing failed.
pub(super) fn pipe_result(violations: &[Violation]) -> Result<(), CalcomError> {
    if violations.is_empty() {
        Ok(())
    } else {
        Err(CalcomError::BadRequest(pipe_message(violations)))
    }
}

/// 400 from the global `ValidationPipe` on a query DTO, or `Ok` when nothing failed.
pub(super) fn query_result(
    violations: &[Violation],
    query: &Map<String, Value>,
) -> Result<(), CalcomError> {
    if violations.is_empty() {
        Ok(())
    } else {
        Err(query_error(violations, query))
    }
}

/// The global `ValidationPipe`'s 400: `details.errors` lists one `ValidationError` per failed
/// property with the whole query as `target`.
pub(super) fn query_error(violations: &[Violation], query: &Map<String, Value>) -> CalcomError {
    let errors = violations
        .iter()
        .map(|v| {
            let constraints: Map<String, Value> = v
                .constraints
                .iter()
                .map(|(name, message)| ((*name).to_owned(), json!(message)))
                .collect();
            json!({
                "target": query,
                "value": query.get(&v.property).cloned().unwrap_or(Value::Null),
                "property": v.property,
                "children": [],
                "constraints": constraints,
            })
        })
        .collect();
    CalcomError::QueryValidation(errors)
}

/// Reports every key of `object` not in `allowed`.
pub(super) fn unknown_keys(
    object: &Map<String, Value>,
    allowed: &[&str],
    out: &mut Vec<Violation>,
) {
    out.extend(
        object
            .keys()
            .filter(|k| !allowed.contains(&k.as_str()))
            .map(|k| Violation::unknown(k)),
    );
}

/// `@IsDateString()` message.
pub(super) fn date_string_message(property: &str) -> String {
    format!("{property} must be a valid ISO 8601 date string")
}

/// An ISO 8601 instant read like Luxon's `DateTime.fromISO(s, {zone: "utc"})`: an explicit
/// offset (`Z`, `+02:00`, `+0200`) is honoured, none means UTC, a date alone is midnight UTC.
pub(super) fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(day) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(day.and_time(NaiveTime::MIN).and_utc());
    }
    let (date, time) = s.split_once('T')?;
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    let (clock, offset_seconds) = split_offset(time)?;
    let clock = ["%H:%M:%S%.f", "%H:%M:%S", "%H:%M"]
        .iter()
        .find_map(|format| NaiveTime::parse_from_str(clock, format).ok())?;
    Some(date.and_time(clock).and_utc() - chrono::Duration::seconds(offset_seconds))
}

/// Splits `09:00:00+02:00` into the clock part and the offset in seconds east of UTC.
fn split_offset(time: &str) -> Option<(&str, i64)> {
    if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        return Some((clock, 0));
    }
    let Some(at) = time.rfind(['+', '-']) else {
        return Some((time, 0));
    };
    let (clock, offset) = time.split_at(at);
    let sign = if offset.starts_with('-') { -1 } else { 1 };
    let digits: String = offset[1..].chars().filter(|c| *c != ':').collect();
    if !(digits.len() == 2 || digits.len() == 4) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i64 = digits[..2].parse().ok()?;
    let minutes: i64 = if digits.len() == 4 {
        digits[2..].parse().ok()?
    } else {
        0
    };
    Some((clock, sign * (hours * 3600 + minutes * 60)))
}

/// `@IsTimeZone()`: an IANA zone name.
pub(super) fn is_time_zone(s: &str) -> bool {
    s.parse::<chrono_tz::Tz>().is_ok()
}

/// libphonenumber-js `isValidPhoneNumber(value)` without a default country: international
/// form only, valid for its country. Returns the E.164 form.
pub(super) fn international_phone(s: &str) -> Option<String> {
    if !s.trim_start().starts_with('+') {
        return None;
    }
    PhoneNumber::parse_default(s)
        .ok()
        .map(|p| p.as_str().to_owned())
}

/// class-validator `isEmail`, reduced to the shape checks that matter for a simulator.
pub(super) fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.split('.').count() >= 2
        && domain.split('.').all(|label| !label.is_empty())
        && !s.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn instants_read_like_luxon_in_utc() {
        let nine_utc = Utc.with_ymd_and_hms(2050, 9, 5, 9, 0, 0).unwrap();
        assert_eq!(parse_instant("2050-09-05T09:00:00Z"), Some(nine_utc));
        assert_eq!(parse_instant("2050-09-05T09:00:00.000Z"), Some(nine_utc));
        assert_eq!(parse_instant("2050-09-05T09:00"), Some(nine_utc));
        assert_eq!(parse_instant("2050-09-05T11:00:00+02:00"), Some(nine_utc));
        assert_eq!(parse_instant("2050-09-05T11:00:00+0200"), Some(nine_utc));
        assert_eq!(
            parse_instant("2050-09-05"),
            Utc.with_ymd_and_hms(2050, 9, 5, 0, 0, 0).single()
        );
        for bad in [
            "",
            "tomorrow",
            "2050-13-01",
            "2050-09-05T25:00:00Z",
            "2050-09-05T09:00:00+2",
        ] {
            assert_eq!(parse_instant(bad), None, "{bad}");
        }
    }

    #[test]
    fn pipe_message_nests_like_cal_com() {
        let violations = [
            Violation::unknown("foo"),
            Violation::nested(
                "attendee",
                vec![Violation::new("name", "isString", "name must be a string")],
            ),
        ];
        assert_eq!(
            pipe_message(&violations),
            "foo property is wrong,property foo should not exist , attendee property is wrong, name property is wrong,name must be a string "
        );
    }

    #[test]
    fn phone_must_be_international_and_valid() {
        assert_eq!(
            international_phone("+49 30 1234567").as_deref(),
            Some("+49301234567")
        );
        assert_eq!(international_phone("030 1234567"), None);
        assert_eq!(international_phone("+49 12"), None);
    }
}
