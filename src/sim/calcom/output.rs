//! Response bodies: `BookingOutput_2024_08_13` (calcom.md §4.1), `EventTypeOutput_2024_06_14`
//! (§3), the list pagination object (§4.3) and Cal.com's timestamp formats.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value, json};

use super::accounts::{EventType, Host};
use super::holds::Hold;
use super::store::Booking;

/// JS `Date.toISOString()`: UTC, millisecond precision, `Z` (every booking timestamp).
pub(super) fn iso_ms_utc(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The zone slot times are reported in (`timeZone` of `GET /v2/slots`, calcom.md §2).
///
/// Luxon's `toISO()` writes `Z` only for its fixed UTC zone (no `timeZone`, or `UTC`/`GMT`);
/// an IANA zone writes its offset even when that offset is zero (`Etc/UTC` → `+00:00`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum OutputZone {
    /// Luxon's fixed UTC zone.
    Utc,
    /// An IANA zone.
    Iana(Tz),
}

impl OutputZone {
    /// Reads a `timeZone` parameter; `None` when it is not a zone.
    pub(super) fn parse(name: &str) -> Option<Self> {
        if name.eq_ignore_ascii_case("utc") || name.eq_ignore_ascii_case("gmt") {
            return Some(Self::Utc);
        }
        name.parse().ok().map(Self::Iana)
    }

    /// `2050-09-05T09:00:00.000+02:00` (or `…Z` in [`OutputZone::Utc`]).
    pub(super) fn format(self, at: DateTime<Utc>) -> String {
        match self {
            Self::Utc => iso_ms_utc(at),
            Self::Iana(tz) => at
                .with_timezone(&tz)
                .format("%Y-%m-%dT%H:%M:%S%.3f%:z")
                .to_string(),
        }
    }

    /// The calendar date of `at` in this zone (the key of the slots map).
    pub(super) fn date(self, at: DateTime<Utc>) -> NaiveDate {
        match self {
            Self::Utc => at.date_naive(),
            Self::Iana(tz) => at.with_timezone(&tz).date_naive(),
        }
    }
}

/// `{"status":"success","data":…}`, the wrapper of every successful reply.
pub(super) fn success(data: Value) -> Value {
    json!({ "status": "success", "data": data })
}

/// `hosts[0]`: the host as `getHost` renders a user.
fn host(h: &Host) -> Value {
    json!({
        "id": h.id,
        "name": h.name,
        "email": h.email,
        "displayEmail": h.email,
        "username": h.username,
        "timeZone": h.time_zone.name(),
    })
}

/// `BookingOutput_2024_08_13`. Keys Cal.com leaves `undefined` (and `JSON.stringify` drops)
/// are omitted rather than `null`: `rescheduledFromUid`, `rescheduledToUid`,
/// `reschedulingReason`, `rescheduledByEmail`, `attendees[].phoneNumber`.
pub(super) fn booking(b: &Booking) -> Value {
    let mut attendee = json!({
        "name": b.attendee.name,
        "email": b.attendee.email,
        "displayEmail": b.attendee.email,
        "timeZone": b.attendee.time_zone,
        "language": b.attendee.language,
        "absent": false,
    });
    if let Some(phone) = &b.attendee.phone {
        attendee["phoneNumber"] = json!(phone);
    }
    let mut out = json!({
        "id": b.id,
        "uid": b.uid,
        "title": format!("{} between {} and {}", b.event_type.title, b.host.name, b.attendee.name),
        "description": "",
        "hosts": [host(&b.host)],
        "status": b.status.as_str(),
        "cancellationReason": b.cancellation_reason.clone().unwrap_or_default(),
        "cancelledByEmail": b.cancelled_by.clone().unwrap_or_default(),
        "start": iso_ms_utc(b.start),
        "end": iso_ms_utc(b.end),
        "duration": (b.end - b.start).num_minutes(),
        "eventTypeId": b.event_type.id,
        "eventType": { "id": b.event_type.id, "slug": b.event_type.slug },
        "attendees": [attendee],
        "guests": b.guests,
        "location": b.location,
        "meetingUrl": b.location,
        "absentHost": false,
        "createdAt": iso_ms_utc(b.created_at),
        "updatedAt": iso_ms_utc(b.updated_at),
        "metadata": b.metadata,
        // Cal.com's iCalUID form.
        "icsUid": format!("{}@Cal.com", b.uid),
        "bookingFieldsResponses": responses(b),
    });
    let optional = [
        ("rescheduledFromUid", &b.rescheduled_from),
        ("rescheduledToUid", &b.rescheduled_to),
        ("reschedulingReason", &b.rescheduling_reason),
        ("rescheduledByEmail", &b.rescheduled_by),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            out[key] = json!(value);
        }
    }
    out
}

/// `bookingFieldsResponses`: what the booker sent as custom responses, overlaid with the
/// system fields the input service writes (`name`, `email`, `attendeePhoneNumber`, `guests`,
/// `location`), plus the `displayEmail` the output service adds.
fn responses(b: &Booking) -> Value {
    let mut out: Map<String, Value> = b.responses.clone();
    out.insert("name".into(), json!(b.attendee.name));
    out.insert("email".into(), json!(b.attendee.email));
    out.insert("displayEmail".into(), json!(b.attendee.email));
    if let Some(phone) = &b.attendee.phone {
        out.insert("attendeePhoneNumber".into(), json!(phone));
    }
    if !b.guests.is_empty() {
        out.insert("guests".into(), json!(b.guests));
        out.insert("displayGuests".into(), json!(b.guests));
    }
    if let Some(reason) = &b.rescheduling_reason {
        out.insert("rescheduledReason".into(), json!(reason));
    }
    Value::Object(out)
}

/// Default booking fields of an event type whose booker may give email, phone or both.
fn booking_fields() -> Value {
    let field = |kind: &str, slug: &str, required: bool| json!({ "isDefault": true, "type": kind, "slug": slug, "required": required, "hidden": false });
    json!([
        field("name", "name", true),
        field("email", "email", false),
        field("phone", "attendeePhoneNumber", false),
        field("textarea", "notes", false),
        field("multiemail", "guests", false),
        field("textarea", "rescheduleReason", false),
    ])
}

/// `ReserveSlotOutput_2024_09_04` (calcom/cal.com
/// `packages/platform/types/slots/slots-2024-09-04/outputs/reserve-slot.output.ts`).
pub(super) fn reservation(h: &Hold) -> Value {
    json!({
        "eventTypeId": h.event_type_id,
        "slotStart": iso_ms_utc(h.start),
        "slotEnd": iso_ms_utc(h.end),
        "slotDuration": (h.end - h.start).num_minutes(),
        "reservationUid": h.uid,
        "reservationDuration": h.hold_minutes,
        "reservationUntil": iso_ms_utc(h.until),
    })
}

/// `EventTypeOutput_2024_06_14` of a demo event type. `users` holds objects, as the code
/// returns them (the OpenAPI document says `string[]`, calcom.md §3).
pub(super) fn event_type(e: &EventType, h: &Host) -> Value {
    json!({
        "id": e.id,
        "lengthInMinutes": e.minutes,
        "title": e.title,
        "slug": e.slug,
        "description": "",
        "locations": [{ "type": "attendeePhone" }],
        "bookingFields": booking_fields(),
        "disableGuests": false,
        "slotInterval": null,
        "minimumBookingNotice": 0,
        "beforeEventBuffer": 0,
        "afterEventBuffer": 0,
        "recurrence": null,
        "metadata": {},
        "price": 0,
        "currency": "usd",
        "lockTimeZoneToggleOnBookingPage": false,
        "seatsPerTimeSlot": null,
        "forwardParamsSuccessRedirect": true,
        "successRedirectUrl": null,
        "isInstantEvent": false,
        "seatsShowAvailabilityCount": true,
        "scheduleId": null,
        "bookingRequiresAuthentication": false,
        "hidden": false,
        "ownerId": h.id,
        "users": [{
            "id": h.id,
            "name": h.name,
            "username": h.username,
            "avatarUrl": null,
            "weekStart": "Monday",
            "brandColor": null,
            "darkBrandColor": null,
            "metadata": {},
        }],
        "bookingUrl": format!("https://cal.com/{}/{}", h.username, e.slug),
    })
}

/// The `pagination` object of `GET /v2/bookings` (Cal.com `getPagination`).
pub(super) fn pagination(skip: usize, take: usize, returned: usize, total: usize) -> Value {
    json!({
        "totalItems": total,
        "remainingItems": total.saturating_sub(skip + returned),
        "returnedItems": returned,
        "itemsPerPage": take,
        "currentPage": skip / take + 1,
        "totalPages": total.div_ceil(take),
        "hasNextPage": skip + take < total,
        "hasPreviousPage": skip > 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn luxon_writes_z_only_for_its_fixed_utc_zone() {
        let at = Utc.with_ymd_and_hms(2050, 9, 5, 7, 0, 0).unwrap();
        assert_eq!(
            OutputZone::parse("UTC").unwrap().format(at),
            "2050-09-05T07:00:00.000Z"
        );
        assert_eq!(
            OutputZone::parse("Etc/UTC").unwrap().format(at),
            "2050-09-05T07:00:00.000+00:00"
        );
        assert_eq!(
            OutputZone::parse("Europe/Berlin").unwrap().format(at),
            "2050-09-05T09:00:00.000+02:00"
        );
        assert!(OutputZone::parse("Mars/Olympus").is_none());
    }

    #[test]
    fn pagination_matches_the_reference_example() {
        assert_eq!(
            pagination(10, 10, 10, 123),
            json!({"totalItems":123,"remainingItems":103,"returnedItems":10,"itemsPerPage":10,
                   "currentPage":2,"totalPages":13,"hasNextPage":true,"hasPreviousPage":true})
        );
    }
}
