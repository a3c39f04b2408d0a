//! `GET /v2/bookings` query (`GetBookingsInput_2024_08_13`, calcom.md §4.3): parsing under the
//! global `ValidationPipe`, filtering, sorting and paging.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::sim::calcom::errors::CalcomError;
use crate::sim::calcom::store::{Booking, BookingStatus};
use crate::sim::calcom::validate::{Violation, date_string_message, parse_instant, query_result};

const STATUSES: &[&str] = &["upcoming", "recurring", "past", "cancelled", "unconfirmed"];

/// Default and maximum page size.
const DEFAULT_TAKE: usize = 100;
const MAX_TAKE: i64 = 250;

/// Which timestamp a sort parameter orders by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortKey {
    Start,
    End,
    Created,
    Updated,
}

/// A validated list query.
#[derive(Debug, Clone, Default)]
pub(super) struct ListQuery {
    statuses: Vec<String>,
    attendee_email: Option<String>,
    attendee_name: Option<String>,
    booking_uid: Option<String>,
    event_type_ids: Option<Vec<i64>>,
    /// Team filters match nothing: the demo host has no team bookings.
    team: bool,
    after_start: Option<DateTime<Utc>>,
    before_end: Option<DateTime<Utc>>,
    after_created: Option<DateTime<Utc>>,
    before_created: Option<DateTime<Utc>>,
    after_updated: Option<DateTime<Utc>>,
    before_updated: Option<DateTime<Utc>>,
    sort: Option<(SortKey, bool)>,
    take: usize,
    skip: usize,
}

/// Reads the query map, or the `ValidationPipe`'s 400 with every failed property.
pub(super) fn parse(query: &Map<String, Value>) -> Result<ListQuery, CalcomError> {
    let text = |key: &str| query.get(key).and_then(Value::as_str).map(str::to_owned);
    let mut violations = Vec::new();
    let mut out = ListQuery {
        take: DEFAULT_TAKE,
        ..ListQuery::default()
    };

    if let Some(status) = text("status") {
        out.statuses = status.split(',').map(|s| s.trim().to_owned()).collect();
        if out.statuses.iter().any(|s| !STATUSES.contains(&s.as_str())) {
            let message = format!(
                "each value in status must be one of the following values: {}",
                STATUSES.join(", ")
            );
            violations.push(Violation::new("status", "isEnum", message));
        }
    }
    out.attendee_email = text("attendeeEmail");
    out.attendee_name = text("attendeeName");
    out.booking_uid = text("bookingUid");
    out.team = query.contains_key("teamId") || query.contains_key("teamsIds");

    let mut ids = Vec::new();
    if let Some(id) = text("eventTypeId") {
        match id.parse::<i64>() {
            Ok(id) => ids.push(id),
            Err(_) => violations.push(number_violation("eventTypeId")),
        }
    }
    if let Some(list) = text("eventTypeIds") {
        match list.split(',').map(|id| id.trim().parse::<i64>()).collect::<Result<Vec<_>, _>>() {
            Ok(list) => ids.extend(list),
            Err(_) => violations.push(Violation::new(
                "eventTypeIds",
                "isNumber",
                "each value in eventTypeIds must be a number conforming to the specified constraints",
            )),
        }
    }
    out.event_type_ids =
        (query.contains_key("eventTypeId") || query.contains_key("eventTypeIds")).then_some(ids);

    let mut date = |key: &str| {
        let value = text(key)?;
        let parsed = parse_instant(&value);
        if parsed.is_none() {
            violations.push(Violation::new(
                key,
                "isDateString",
                date_string_message(key),
            ));
        }
        parsed
    };
    out.after_start = date("afterStart");
    out.before_end = date("beforeEnd");
    out.after_created = date("afterCreatedAt");
    out.before_created = date("beforeCreatedAt");
    out.after_updated = date("afterUpdatedAt");
    out.before_updated = date("beforeUpdatedAt");

    for (key, sort_key) in [
        ("sortStart", SortKey::Start),
        ("sortEnd", SortKey::End),
        ("sortCreated", SortKey::Created),
        ("sortUpdatedAt", SortKey::Updated),
    ] {
        match text(key).as_deref() {
            None => {}
            Some(dir @ ("asc" | "desc")) => {
                out.sort = out.sort.or(Some((sort_key, dir == "desc")));
            }
            Some(_) => violations.push(Violation::new(
                key,
                "isEnum",
                format!("{key} must be one of the following values: asc, desc"),
            )),
        }
    }

    if let Some(take) = text("take") {
        match take.parse::<i64>() {
            Err(_) => violations.push(number_violation("take")),
            Ok(n) if n < 1 => violations.push(Violation::new(
                "take",
                "min",
                "take must not be less than 1",
            )),
            Ok(n) if n > MAX_TAKE => {
                violations.push(Violation::new(
                    "take",
                    "max",
                    format!("take must not be greater than {MAX_TAKE}"),
                ));
            }
            Ok(n) => out.take = usize::try_from(n).unwrap_or(DEFAULT_TAKE),
        }
    }
    if let Some(skip) = text("skip") {
        match skip.parse::<i64>() {
            Err(_) => violations.push(number_violation("skip")),
            Ok(n) if n < 0 => violations.push(Violation::new(
                "skip",
                "min",
                "skip must not be less than 0",
            )),
            Ok(n) => out.skip = usize::try_from(n).unwrap_or(0),
        }
    }
    query_result(&violations, query)?;
    Ok(out)
}

fn number_violation(key: &str) -> Violation {
    Violation::new(
        key,
        "isNumber",
        format!("{key} must be a number conforming to the specified constraints"),
    )
}

impl ListQuery {
    /// Whether `b` is in one of the requested status groups (any booking when none is given).
    fn status_matches(&self, b: &Booking, now: DateTime<Utc>) -> bool {
        let active = b.status == BookingStatus::Accepted;
        self.statuses.is_empty()
            || self.statuses.iter().any(|s| match s.as_str() {
                "upcoming" => active && b.end >= now,
                "past" => active && b.end <= now,
                "cancelled" => !active,
                // Demo bookings are never recurring nor waiting for confirmation.
                _ => false,
            })
    }

    fn matches(&self, b: &Booking, now: DateTime<Utc>) -> bool {
        let within =
            |t: DateTime<Utc>, after: Option<DateTime<Utc>>, before: Option<DateTime<Utc>>| {
                after.is_none_or(|a| t >= a) && before.is_none_or(|e| t <= e)
            };
        !self.team
            && self.status_matches(b, now)
            && self
                .attendee_email
                .as_ref()
                .is_none_or(|e| b.attendee.email.eq_ignore_ascii_case(e))
            && self
                .attendee_name
                .as_ref()
                .is_none_or(|n| b.attendee.name.eq_ignore_ascii_case(n))
            && self.booking_uid.as_ref().is_none_or(|u| &b.uid == u)
            && self
                .event_type_ids
                .as_ref()
                .is_none_or(|ids| ids.contains(&b.event_type.id))
            && within(b.start, self.after_start, None)
            && within(b.end, None, self.before_end)
            && within(b.created_at, self.after_created, self.before_created)
            && within(b.updated_at, self.after_updated, self.before_updated)
    }

    /// The default order when no sort is given: newest first for a `past` or `cancelled`
    /// listing, soonest first otherwise (Cal.com's per-status `orderBy`).
    fn order(&self) -> (SortKey, bool) {
        self.sort.unwrap_or_else(|| {
            let newest_first = !self.statuses.is_empty()
                && self
                    .statuses
                    .iter()
                    .all(|s| s == "past" || s == "cancelled");
            (SortKey::Start, newest_first)
        })
    }

    /// The requested page of `bookings` and the total number that matched.
    pub(super) fn apply(
        &self,
        bookings: Vec<Booking>,
        now: DateTime<Utc>,
    ) -> (Vec<Booking>, usize) {
        let mut matched: Vec<Booking> = bookings
            .into_iter()
            .filter(|b| self.matches(b, now))
            .collect();
        let (key, descending) = self.order();
        let at = |b: &Booking| match key {
            SortKey::Start => b.start,
            SortKey::End => b.end,
            SortKey::Created => b.created_at,
            SortKey::Updated => b.updated_at,
        };
        matched.sort_by(|a, b| {
            let order = at(a).cmp(&at(b)).then(a.id.cmp(&b.id));
            if descending { order.reverse() } else { order }
        });
        let total = matched.len();
        let page = matched
            .into_iter()
            .skip(self.skip)
            .take(self.take)
            .collect();
        (page, total)
    }

    /// Page size (`take`).
    pub(super) fn take(&self) -> usize {
        self.take
    }

    /// Offset (`skip`).
    pub(super) fn skip(&self) -> usize {
        self.skip
    }
}
