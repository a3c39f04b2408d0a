//! `GET /v2/slots` (cal-api-version 2024-09-04, calcom.md §2): free slots of one event type
//! as `{"YYYY-MM-DD": [{"start"} | {"start","end"}]}`, keyed by date in the requested zone.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

use super::{query_map, reply};
use crate::sim::calcom::accounts::{Accounts, Schedule};
use crate::sim::calcom::auth::Public;
use crate::sim::calcom::context::Ctx;
use crate::sim::calcom::errors::{CalcomError, Rejection};
use crate::sim::calcom::output::OutputZone;
use crate::sim::calcom::slots::free_starts;
use crate::sim::calcom::validate::{
    Violation, date_string_message, is_time_zone, parse_instant, pipe_result, unknown_keys,
};

/// Query keys `GetSlotsInputPipe` lets through; any other is refused (forbidNonWhitelisted).
const KNOWN: &[&str] = &[
    "start",
    "end",
    "timeZone",
    "eventTypeId",
    "eventTypeSlug",
    "username",
    "teamSlug",
    "usernames",
    "organizationSlug",
    "duration",
    "format",
    "bookingUidToReschedule",
];

/// Longest slot worth computing: a day. Longer ones cannot fit and would overflow `Duration`.
const MAX_MINUTES: i64 = 24 * 60;

/// Length of a dynamic (`usernames`) event when no `duration` is given.
const DYNAMIC_EVENT_MINUTES: u32 = 30;

/// How each slot is written (`format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SlotFormat {
    /// `{"start"}` (the default).
    Time,
    /// `{"start","end"}`.
    Range,
}

/// Answers the slots query of `req`.
pub(super) async fn get(ctx: Ctx, _: Public, req: HttpRequest) -> Result<HttpResponse, Rejection> {
    answer(&ctx, &req).map_err(|e| ctx.reject(e))
}

fn answer(ctx: &Ctx, req: &HttpRequest) -> Result<HttpResponse, CalcomError> {
    let query = query_map(req)?;
    let text = |key: &str| query.get(key).and_then(Value::as_str);
    validate(&query)?;
    let (minutes, owner) = event_minutes(ctx.accounts(), &query)?;
    let start = text("start").and_then(parse_instant);
    let start = start.ok_or_else(|| CalcomError::BadRequest("Invalid start date".into()))?;
    let end = text("end").and_then(parse_instant);
    let end = end
        .map(end_of_day)
        .ok_or_else(|| CalcomError::BadRequest("Invalid end date".into()))?;
    let format = match text("format").map(str::to_ascii_lowercase).as_deref() {
        None | Some("time") => SlotFormat::Time,
        Some("range") => SlotFormat::Range,
        Some(_) => {
            return Err(CalcomError::BadRequest(
                "slotFormat must be either 'range' or 'time'".into(),
            ));
        }
    };
    let zone = text("timeZone")
        .and_then(OutputZone::parse)
        .unwrap_or(OutputZone::Utc);
    // `validate` let only durations >= 1 through.
    let minutes = js_parse_int(text("duration")).unwrap_or(i64::from(minutes));
    let length = Duration::minutes(minutes.min(MAX_MINUTES));

    let busy = ctx
        .store()
        .offered_busy(owner.0, text("bookingUidToReschedule"), ctx.now());
    let mut days: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for slot in free_starts(start, end, length, &busy, ctx.now(), &owner.1) {
        let entry = match format {
            SlotFormat::Time => json!({ "start": zone.format(slot) }),
            SlotFormat::Range => {
                json!({ "start": zone.format(slot), "end": zone.format(slot + length) })
            }
        };
        days.entry(zone.date(slot).to_string())
            .or_default()
            .push(entry);
    }
    Ok(reply(StatusCode::OK, json!(days)))
}

/// An `end` at exactly midnight means "the whole day": 23:59:59 of that date.
fn end_of_day(end: DateTime<Utc>) -> DateTime<Utc> {
    if end.time() == NaiveTime::MIN {
        end + Duration::seconds(24 * 3600 - 1)
    } else {
        end
    }
}

/// JS `parseInt` as the DTO transforms apply it: leading digits, `None` when there are none.
fn js_parse_int(value: Option<&str>) -> Option<i64> {
    let value = value?.trim_start();
    let (sign, digits) = match value.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, value.strip_prefix('+').unwrap_or(value)),
    };
    let digits: String = digits.chars().take_while(char::is_ascii_digit).collect();
    digits.parse::<i64>().ok().map(|n| sign * n)
}

/// `GetSlotsInputPipe`: picks the input class by which selector keys are present and
/// validates the query against it.
fn validate(query: &Map<String, Value>) -> Result<(), CalcomError> {
    let has = |key: &str| query.contains_key(key);
    let text = |key: &str| query.get(key).and_then(Value::as_str);
    let mut violations = Vec::new();
    unknown_keys(query, KNOWN, &mut violations);
    for key in ["start", "end"] {
        if !has(key) {
            violations.push(Violation::new(
                key,
                "isDateString",
                date_string_message(key),
            ));
        }
    }
    if text("timeZone").is_some_and(|zone| !is_time_zone(zone)) {
        violations.push(Violation::new(
            "timeZone",
            "isTimeZone",
            "timeZone must be a valid IANA time-zone",
        ));
    }
    if has("duration") {
        match js_parse_int(text("duration")) {
            None => violations.push(Violation::new(
                "duration",
                "isNumber",
                "duration must be a number conforming to the specified constraints",
            )),
            Some(d) if d < 1 => violations.push(Violation::new(
                "duration",
                "min",
                "duration must not be less than 1",
            )),
            Some(_) => {}
        }
    }
    if has("eventTypeId") {
        if js_parse_int(text("eventTypeId")).is_none() {
            violations.push(Violation::new(
                "eventTypeId",
                "isNumber",
                "eventTypeId must be a number conforming to the specified constraints",
            ));
        }
    } else if !(has("eventTypeSlug") && (has("username") || has("teamSlug"))) {
        let usernames = text("usernames").map(split_list).unwrap_or_default();
        if usernames.len() < 2 {
            violations.push(Violation {
                property: "usernames".into(),
                constraints: vec![
                    (
                        "isString",
                        "each value in usernames must be a string".into(),
                    ),
                    (
                        "arrayMinSize",
                        "The array must contain at least 2 elements.".into(),
                    ),
                    ("isArray", "usernames must be an array".into()),
                ],
                children: Vec::new(),
            });
        }
        if !has("organizationSlug") {
            violations.push(Violation::new(
                "organizationSlug",
                "isString",
                "organizationSlug must be a string",
            ));
        }
    }
    pipe_result(&violations)
}

fn split_list(list: &str) -> Vec<String> {
    list.split(',').map(|s| s.trim().to_owned()).collect()
}

/// The default slot length of the queried event and its host (user id and schedule), or the
/// 404 Cal.com gives for it.
fn event_minutes(
    accounts: &Accounts,
    query: &Map<String, Value>,
) -> Result<(u32, (i64, Schedule)), CalcomError> {
    let text = |key: &str| query.get(key).and_then(Value::as_str);
    if let Some(id) = js_parse_int(text("eventTypeId")) {
        return accounts
            .event_type(id)
            .map(|(e, owner)| (e.minutes, (owner.host.id, owner.schedule.clone())))
            .ok_or_else(|| CalcomError::NotFound(format!("Event Type with ID={id} not found")));
    }
    if let (Some(slug), Some(username)) = (text("eventTypeSlug"), text("username")) {
        let Some(owner) = accounts.by_username(username) else {
            return Err(CalcomError::NotFound(format!(
                "User with username {username} not found"
            )));
        };
        return owner
            .event_types
            .iter()
            .find(|e| e.slug == slug)
            .map(|e| (e.minutes, (owner.host.id, owner.schedule.clone())))
            .ok_or_else(|| CalcomError::NotFound("Event Type not found".into()));
    }
    if let Some(team) = text("teamSlug") {
        return Err(CalcomError::NotFound(format!(
            "Team with slug {team} not found"
        )));
    }
    // A dynamic group event: only simulated when every username is one host.
    let usernames = text("usernames").map(split_list).unwrap_or_default();
    let mut owners = usernames.iter().map(|u| (u, accounts.by_username(u)));
    let Some((_, Some(first))) = owners.next() else {
        let unknown = usernames.first().cloned().unwrap_or_default();
        return Err(CalcomError::NotFound(format!(
            "User with username {unknown} not found"
        )));
    };
    match owners.find(|(_, o)| o.as_ref().is_none_or(|o| o.host.id != first.host.id)) {
        Some((unknown, _)) => Err(CalcomError::NotFound(format!(
            "User with username {unknown} not found"
        ))),
        None => Ok((
            DYNAMIC_EVENT_MINUTES,
            (first.host.id, first.schedule.clone()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_int_reads_leading_digits_like_js() {
        assert_eq!(js_parse_int(Some("1001")), Some(1001));
        assert_eq!(js_parse_int(Some("30min")), Some(30));
        assert_eq!(js_parse_int(Some("abc")), None);
        assert_eq!(js_parse_int(None), None);
    }
}
