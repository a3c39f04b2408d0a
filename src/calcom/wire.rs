//! Serde shapes of the Cal.com API v2 bodies we send and read, and their conversion to the
//! core's domain types. Only the fields we use are declared: serde ignores the rest, so new
//! upstream fields never break decoding.

use chrono::{
    DateTime, FixedOffset, NaiveDate, NaiveTime, SecondsFormat, TimeDelta, TimeZone, Utc,
};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, de};
use serde_json::Value;
use std::collections::BTreeMap;
use switchboard_actors::domain::booking::{
    Attendee, Booking, BookingQuery, BookingRequest, CalcomProfile, CancelRequest, EventType,
    RescheduleRequest, ReservationRequest, Slot, SlotQuery, SlotReservation, Webhook,
    WebhookSubscription,
};
use switchboard_actors::domain::ids::{BookingUid, EventTypeId};

/// Every 2xx body is `{"status":"success","data":…}` (reference/calcom.md §2–4).
#[derive(Debug, Deserialize)]
pub(crate) struct Envelope<T> {
    pub(crate) data: T,
}

/// `GET /v2/slots` with `format=range`: date → slots, days without slots omitted (§2).
/// The map key is a local date we do not need: each slot carries its own offset.
pub(crate) type SlotsData = BTreeMap<String, Vec<WireSlot>>;

/// One slot of `format=range`. Seated event types add seat counters, which we ignore.
#[derive(Debug, Deserialize)]
pub(crate) struct WireSlot {
    start: DateTime<FixedOffset>,
    end: DateTime<FixedOffset>,
}

/// Flattens the per-day map into one list in time order. Sorting by instant (not by the
/// map's date keys) keeps the order right even if two days' slots interleave across a DST
/// change.
pub(crate) fn flatten_slots(data: SlotsData) -> Vec<Slot> {
    let mut slots: Vec<Slot> = data
        .into_values()
        .flatten()
        .map(|s| Slot {
            start: s.start,
            end: s.end,
        })
        .collect();
    slots.sort_by_key(|s| (s.start, s.end));
    slots
}

/// The subset of `EventTypeOutput_2024_06_14` we read (§3).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireEventType {
    id: i64,
    title: String,
    slug: String,
    length_in_minutes: u32,
}

impl From<WireEventType> for EventType {
    fn from(w: WireEventType) -> Self {
        Self {
            id: EventTypeId(w.id),
            title: w.title,
            slug: w.slug,
            length_in_minutes: w.length_in_minutes,
        }
    }
}

/// `MeOutput` of `GET /v2/me` (calcom/cal.com `apps/api/v2/src/ee/me/outputs/me.output.ts`):
/// the fields we read.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireMe {
    id: i64,
    username: String,
    email: String,
    #[serde(default)]
    name: Option<String>,
    time_zone: String,
    #[serde(default)]
    organization_id: Option<i64>,
}

impl WireMe {
    /// The profile, stamped with the `cal-api-version` the request carried.
    pub(crate) fn into_profile(self, api_version: &str) -> CalcomProfile {
        CalcomProfile {
            id: self.id,
            username: self.username,
            email: self.email,
            name: self.name,
            time_zone: self.time_zone,
            organization_id: self.organization_id,
            api_version: api_version.to_owned(),
        }
    }
}

/// A booking decoded straight into the domain type, so a booking that cannot be one is a
/// decode error like any other malformed field.
#[derive(Debug, Deserialize)]
#[serde(try_from = "WireBooking")]
pub(crate) struct BookingData(pub(crate) Booking);

/// `data` of `GET /v2/bookings/{uid}` and `POST /v2/bookings`: an object for a single
/// booking, an array for a recurring series (§4.1, §4.2). The port returns one booking; for a
/// series that is the first occurrence, the one the caller booked or asked about.
#[derive(Debug)]
pub(crate) struct FirstOccurrence(pub(crate) Booking);

impl<'de> Deserialize<'de> for FirstOccurrence {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Dispatching on the JSON kind by hand (not `#[serde(untagged)]`) keeps serde's
        // message about the actual bad field instead of "did not match any variant".
        let value = Value::deserialize(d)?;
        let series = if value.is_array() {
            Vec::<BookingData>::deserialize(value)
        } else {
            BookingData::deserialize(value).map(|b| vec![b])
        }
        .map_err(de::Error::custom)?;
        series
            .into_iter()
            .map(|b| b.0)
            .min_by_key(|b| b.start)
            .map(Self)
            .ok_or_else(|| de::Error::custom("empty booking series"))
    }
}

/// The subset of `BookingOutput_2024_08_13` we read (§4.1).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireBooking {
    id: i64,
    uid: BookingUid,
    title: String,
    status: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    /// Deprecated alias of `eventType.id`; older deployments may send only this one.
    event_type_id: Option<i64>,
    event_type: Option<WireEventTypeRef>,
    #[serde(default)]
    attendees: Vec<WireAttendee>,
    /// Free-form upstream: other clients of the same account may store numbers, booleans or
    /// `null` here, so it is read as raw JSON and normalised in the conversion.
    #[serde(default)]
    metadata: Option<BTreeMap<String, Value>>,
}

#[derive(Debug, Deserialize)]
struct WireEventTypeRef {
    id: i64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireAttendee {
    name: String,
    time_zone: String,
    email: Option<String>,
    phone_number: Option<String>,
    language: Option<String>,
}

impl TryFrom<WireBooking> for BookingData {
    type Error = String;

    fn try_from(w: WireBooking) -> Result<Self, Self::Error> {
        let event_type_id = w
            .event_type
            .map(|e| e.id)
            .or(w.event_type_id)
            .ok_or_else(|| format!("booking {} has neither eventType.id nor eventTypeId", w.uid))?;
        Ok(Self(Booking {
            id: w.id,
            uid: w.uid,
            title: w.title,
            status: w.status,
            start: w.start,
            end: w.end,
            event_type_id: EventTypeId(event_type_id),
            attendees: w
                .attendees
                .into_iter()
                .map(|a| Attendee {
                    name: a.name,
                    time_zone: a.time_zone,
                    email: a.email,
                    phone_number: a.phone_number,
                    language: a.language,
                })
                .collect(),
            metadata: w
                .metadata
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (k, v)
                })
                .collect(),
        }))
    }
}

/// `CreateBookingInput_2024_08_13` (§4.1). Upstream validates with `forbidNonWhitelisted`,
/// so every field here must exist there and absent options must be omitted, not `null`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateBookingBody<'a> {
    /// ISO 8601 in UTC with `Z`; upstream reads it as UTC whatever the attendee's zone.
    start: String,
    event_type_id: i64,
    attendee: AttendeeBody<'a>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    metadata: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    length_in_minutes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<LocationBody<'a>>,
    /// Newer upstream versions only (reference/calcom.md §2 "Slot holds"), so it is sent only
    /// when a reservation is redeemed.
    #[serde(skip_serializing_if = "Option::is_none")]
    reserved_slot_uid: Option<&'a str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AttendeeBody<'a> {
    name: &'a str,
    time_zone: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone_number: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<&'a str>,
}

/// `{"type":"attendeePhone","phone":…}`: a phone caller is called back on their own number.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename = "attendeePhone")]
struct LocationBody<'a> {
    phone: &'a str,
}

impl<'a> From<&'a BookingRequest> for CreateBookingBody<'a> {
    fn from(r: &'a BookingRequest) -> Self {
        let a = &r.attendee;
        Self {
            start: utc_iso(r.start),
            event_type_id: r.event_type_id.0,
            attendee: AttendeeBody {
                name: &a.name,
                time_zone: &a.time_zone,
                email: a.email.as_deref(),
                phone_number: a.phone_number.as_deref(),
                language: a.language.as_deref(),
            },
            metadata: &r.metadata,
            length_in_minutes: r.length_in_minutes,
            location: a
                .phone_number
                .as_deref()
                .map(|phone| LocationBody { phone }),
            reserved_slot_uid: r.reserved_slot_uid.as_deref(),
        }
    }
}

/// `ReserveSlotInput_2024_09_04` (calcom/cal.com
/// `packages/platform/types/slots/slots-2024-09-04/inputs/reserve-slot.input.ts`), the body
/// of `POST /v2/slots/reservations` and of `PATCH /v2/slots/reservations/{uid}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReserveSlotBody {
    event_type_id: i64,
    /// ISO 8601 UTC.
    slot_start: String,
    /// Minutes.
    slot_duration: u32,
    /// Minutes; upstream honours it only for authenticated requests (we always are).
    reservation_duration: u32,
}

impl From<&ReservationRequest> for ReserveSlotBody {
    fn from(r: &ReservationRequest) -> Self {
        Self {
            event_type_id: r.event_type_id.0,
            slot_start: utc_iso(r.slot_start),
            slot_duration: r.slot_duration_min,
            reservation_duration: r.reservation_duration_min,
        }
    }
}

/// `ReserveSlotOutput_2024_09_04` (calcom/cal.com
/// `packages/platform/types/slots/slots-2024-09-04/outputs/reserve-slot.output.ts`): the
/// fields we read.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireReservation {
    event_type_id: i64,
    slot_start: DateTime<Utc>,
    slot_end: DateTime<Utc>,
    reservation_uid: String,
    reservation_until: DateTime<Utc>,
}

impl From<WireReservation> for SlotReservation {
    fn from(w: WireReservation) -> Self {
        Self {
            uid: w.reservation_uid,
            event_type_id: EventTypeId(w.event_type_id),
            slot_start: w.slot_start,
            slot_end: w.slot_end,
            until: w.reservation_until,
        }
    }
}

/// `RescheduleBookingInput_2024_08_13` (calcom/cal.com
/// `packages/platform/types/bookings/2024-08-13/inputs/reschedule-booking.input.ts`), plus
/// `reservedSlotUid` of newer versions (reference/calcom.md §4.4), sent only when given.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RescheduleBody<'a> {
    start: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    rescheduling_reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reserved_slot_uid: Option<&'a str>,
}

impl<'a> From<&'a RescheduleRequest> for RescheduleBody<'a> {
    fn from(r: &'a RescheduleRequest) -> Self {
        Self {
            start: utc_iso(r.start),
            rescheduling_reason: r.reason.as_deref(),
            reserved_slot_uid: r.reserved_slot_uid.as_deref(),
        }
    }
}

/// `CancelBookingInput_2024_08_13` (calcom/cal.com
/// `packages/platform/types/bookings/2024-08-13/inputs/cancel-booking.input.ts`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CancelBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    cancellation_reason: Option<&'a str>,
}

impl<'a> From<&'a CancelRequest> for CancelBody<'a> {
    fn from(r: &'a CancelRequest) -> Self {
        Self {
            cancellation_reason: r.reason.as_deref(),
        }
    }
}

/// `CreateWebhookInputDto` (calcom/cal.com `apps/api/v2/src/modules/webhooks/inputs/webhook.input.ts`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateWebhookBody<'a> {
    subscriber_url: &'a str,
    triggers: &'a [String],
    active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<&'a str>,
}

impl<'a> From<&'a WebhookSubscription> for CreateWebhookBody<'a> {
    fn from(s: &'a WebhookSubscription) -> Self {
        Self {
            subscriber_url: &s.subscriber_url,
            triggers: &s.triggers,
            active: s.active,
            secret: s.secret.as_deref(),
        }
    }
}

/// `WebhookOutputDto` (calcom/cal.com `apps/api/v2/src/modules/webhooks/outputs/webhook.output.ts`):
/// the fields we read. The DTO declares `id` a number, but the Prisma `Webhook.id` it is filled
/// from is a UUID string; both are read.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireWebhook {
    id: Value,
    subscriber_url: String,
    #[serde(default)]
    triggers: Vec<String>,
    active: bool,
}

impl From<WireWebhook> for Webhook {
    fn from(w: WireWebhook) -> Self {
        Self {
            id: match w.id {
                Value::String(s) => s,
                other => other.to_string(),
            },
            subscriber_url: w.subscriber_url,
            triggers: w.triggers,
            active: w.active,
        }
    }
}

/// Query of `GET /v2/slots` (§2). Cal.com reads `start` and `end` as UTC whatever `timeZone`
/// says, so the local days `from..=to` become UTC instants here; `timeZone` only sets the
/// offset of the returned slots.
pub(crate) fn slots_query_params(q: &SlotQuery) -> Vec<(&'static str, String)> {
    let mut params = vec![
        ("eventTypeId", q.event_type_id.to_string()),
        ("start", utc_iso(day_start(q.time_zone, q.from))),
        ("end", utc_iso(day_end(q.time_zone, q.to))),
        ("timeZone", q.time_zone.name().to_owned()),
        ("format", "range".to_owned()),
    ];
    if let Some(duration) = q.duration_min {
        params.push(("duration", duration.to_string()));
    }
    params
}

/// Every DST gap in the tz database is a whole number of quarter hours, so stepping by one
/// finds the first (or last) local time that exists.
const GAP_STEP: TimeDelta = TimeDelta::minutes(15);
/// Covers even a whole skipped day (Pacific/Apia, 2011-12-30) plus one hour.
const GAP_STEPS: i32 = 100;

/// First instant of `date` in `tz`: local 00:00, or the end of a DST gap that swallows
/// midnight (America/Santiago springs forward from 00:00 to 01:00).
fn day_start(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_time(NaiveTime::MIN);
    (0..GAP_STEPS)
        .find_map(|i| {
            tz.from_local_datetime(&(midnight + GAP_STEP * i))
                .earliest()
        })
        .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))
}

/// Last whole second of `date` in `tz`: local 23:59:59 (its later occurrence when clocks
/// fall back), or the last second before a DST gap that swallows it.
fn day_end(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let last = date
        .and_hms_opt(23, 59, 59)
        .expect("23:59:59 is a valid time");
    (0..GAP_STEPS)
        .find_map(|i| tz.from_local_datetime(&(last - GAP_STEP * i)).latest())
        .map_or_else(|| last.and_utc(), |t| t.with_timezone(&Utc))
}

/// Query of `GET /v2/bookings` (§4.3), camelCase names, absent filters omitted.
pub(crate) fn booking_query_params(q: &BookingQuery) -> Vec<(&'static str, String)> {
    let mut params = Vec::new();
    if let Some(status) = &q.status {
        params.push(("status", status.clone()));
    }
    if let Some(id) = q.event_type_id {
        params.push(("eventTypeId", id.to_string()));
    }
    if let Some(email) = &q.attendee_email {
        params.push(("attendeeEmail", email.clone()));
    }
    if let Some(t) = q.after_start {
        params.push(("afterStart", utc_iso(t)));
    }
    if let Some(t) = q.before_end {
        params.push(("beforeEnd", utc_iso(t)));
    }
    if let Some(take) = q.take {
        params.push(("take", take.to_string()));
    }
    params
}

/// `2030-01-08T15:00:00Z`: whole seconds unless the instant has a fraction, always `Z`.
pub(crate) fn utc_iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// §4.1 sample, verbatim.
    const BOOKING_OUTPUT: &str = r#"{"status":"success","data":{
 "id":123,"uid":"bFJeNb2uX8ANpT3JL5EfXw","title":"Consultation between Jane and Alice","description":"",
 "hosts":[{"id":1,"name":"Jane","email":"jane@x.com","displayEmail":"jane@x.com","username":"jane","timeZone":"Europe/Rome"}],
 "status":"accepted","cancellationReason":"","cancelledByEmail":"",
 "start":"2030-01-08T15:00:00.000Z","end":"2030-01-08T15:15:00.000Z","duration":15,
 "eventTypeId":123,"eventType":{"id":123,"slug":"consult"},
 "attendees":[{"name":"Alice","email":"919876543210@sms.cal.com","displayEmail":"919876543210@sms.cal.com",
   "phoneNumber":"+919876543210","timeZone":"Europe/Madrid","language":"es","absent":false}],
 "guests":[],"location":"+919876543210","meetingUrl":"+919876543210","absentHost":false,
 "createdAt":"2029-12-01T10:00:00.000Z","updatedAt":"2029-12-01T10:00:00.000Z",
 "metadata":{"callId":"c-42"},"icsUid":"…","bookingFieldsResponses":{"name":"Alice","attendeePhoneNumber":"+919876543210"}}}"#;

    #[test]
    fn slots_sample_with_offsets_flattens_in_time_order() {
        let body = r#"{"status":"success","data":{
            "2050-09-06":[{"start":"2050-09-06T09:00:00.000+02:00","end":"2050-09-06T09:30:00.000+02:00"}],
            "2050-09-05":[{"start":"2050-09-05T10:00:00.000+02:00","end":"2050-09-05T10:30:00.000+02:00"},
                          {"start":"2050-09-05T09:00:00.000+02:00","end":"2050-09-05T09:30:00.000+02:00",
                           "seatsBooked":0,"seatsRemaining":4,"seatsTotal":4}]}}"#;
        let env: Envelope<SlotsData> = serde_json::from_str(body).unwrap();
        let slots = flatten_slots(env.data);
        let starts: Vec<String> = slots.iter().map(|s| s.start.to_rfc3339()).collect();
        assert_eq!(
            starts,
            [
                "2050-09-05T09:00:00+02:00",
                "2050-09-05T10:00:00+02:00",
                "2050-09-06T09:00:00+02:00"
            ]
        );
        assert_eq!(slots[0].end.offset().local_minus_utc(), 2 * 3600);
        assert_eq!(
            slots[0].start,
            Utc.with_ymd_and_hms(2050, 9, 5, 7, 0, 0).unwrap()
        );
    }

    #[test]
    fn empty_slots_map_is_no_slots() {
        let env: Envelope<SlotsData> =
            serde_json::from_str(r#"{"status":"success","data":{}}"#).unwrap();
        assert!(flatten_slots(env.data).is_empty());
    }

    #[test]
    fn booking_output_sample_maps_to_domain() {
        let env: Envelope<FirstOccurrence> = serde_json::from_str(BOOKING_OUTPUT).unwrap();
        let b = env.data.0;
        assert_eq!(b.id, 123);
        assert_eq!(b.uid.as_str(), "bFJeNb2uX8ANpT3JL5EfXw");
        assert_eq!(b.status, "accepted");
        assert_eq!(b.start, Utc.with_ymd_and_hms(2030, 1, 8, 15, 0, 0).unwrap());
        assert_eq!(b.end, Utc.with_ymd_and_hms(2030, 1, 8, 15, 15, 0).unwrap());
        assert_eq!(b.event_type_id, EventTypeId(123));
        assert_eq!(
            b.attendees,
            [Attendee {
                name: "Alice".into(),
                time_zone: "Europe/Madrid".into(),
                email: Some("919876543210@sms.cal.com".into()),
                phone_number: Some("+919876543210".into()),
                language: Some("es".into()),
            }]
        );
        assert_eq!(b.metadata.get("callId").map(String::as_str), Some("c-42"));
    }

    #[test]
    fn booking_tolerates_missing_phone_and_non_string_metadata() {
        let body = r#"{"id":7,"uid":"u7","title":"t","status":"pending",
            "start":"2030-01-08T15:00:00.000Z","end":"2030-01-08T15:30:00.000Z",
            "eventType":{"id":9,"slug":"s"},
            "attendees":[{"name":"Bob","email":"bob@x.com","timeZone":"Europe/Berlin","language":null}],
            "metadata":{"switchboard_idempotency_key":"k1","attempt":2,"vip":true,"note":null,"tags":["a"]}}"#;
        let b = serde_json::from_str::<BookingData>(body).unwrap().0;
        assert_eq!(b.event_type_id, EventTypeId(9));
        assert_eq!(b.attendees[0].phone_number, None);
        assert_eq!(b.attendees[0].language, None);
        assert_eq!(b.idempotency_key(), Some("k1"));
        assert_eq!(b.metadata["attempt"], "2");
        assert_eq!(b.metadata["vip"], "true");
        assert_eq!(b.metadata["note"], "null");
        assert_eq!(b.metadata["tags"], r#"["a"]"#);
    }

    #[test]
    fn booking_with_null_metadata_and_only_deprecated_event_type_id() {
        let body = r#"{"id":7,"uid":"u7","title":"t","status":"cancelled",
            "start":"2030-01-08T15:00:00Z","end":"2030-01-08T15:30:00Z",
            "eventTypeId":4,"attendees":[],"metadata":null}"#;
        let b = serde_json::from_str::<BookingData>(body).unwrap().0;
        assert_eq!(b.event_type_id, EventTypeId(4));
        assert!(b.metadata.is_empty());
    }

    #[test]
    fn recurring_series_yields_first_occurrence() {
        let one = |id: i64, day: u32| {
            format!(
                r#"{{"id":{id},"uid":"u{id}","title":"t","status":"accepted",
                "start":"2030-01-{day:02}T15:00:00.000Z","end":"2030-01-{day:02}T15:30:00.000Z",
                "eventTypeId":4,"attendees":[]}}"#
            )
        };
        let body = format!(r#"{{"data":[{},{}]}}"#, one(2, 15), one(1, 8));
        let env: Envelope<FirstOccurrence> = serde_json::from_str(&body).unwrap();
        assert_eq!(env.data.0.id, 1);
    }

    #[test]
    fn booking_without_any_event_type_id_is_a_decode_error() {
        let body = r#"{"id":7,"uid":"u7","title":"t","status":"accepted",
            "start":"2030-01-08T15:00:00Z","end":"2030-01-08T15:30:00Z"}"#;
        let e = serde_json::from_str::<FirstOccurrence>(body).unwrap_err();
        assert!(
            e.to_string()
                .contains("neither eventType.id nor eventTypeId"),
            "{e}"
        );
        let e = serde_json::from_str::<FirstOccurrence>(r#"[{"id":7}]"#).unwrap_err();
        assert!(e.to_string().contains("missing field `uid`"), "{e}");
        let e = serde_json::from_str::<FirstOccurrence>("[]").unwrap_err();
        assert!(e.to_string().contains("empty booking series"), "{e}");
    }

    #[test]
    fn event_type_output_maps_to_domain() {
        let body = r#"{"status":"success","data":[{"id":1,"lengthInMinutes":30,"title":"Consultation",
            "slug":"consult","description":"","hidden":false,"ownerId":10,
            "users":[{"id":10,"name":"Jane","username":"jane"}],"bookingUrl":"https://cal.com/jane/consult",
            "locations":[{"type":"attendeePhone"}],"bookingFields":[],"minimumBookingNotice":120}]}"#;
        let env: Envelope<Vec<WireEventType>> = serde_json::from_str(body).unwrap();
        let types: Vec<EventType> = env.data.into_iter().map(Into::into).collect();
        assert_eq!(
            types,
            [EventType {
                id: EventTypeId(1),
                title: "Consultation".into(),
                slug: "consult".into(),
                length_in_minutes: 30,
            }]
        );
    }

    fn query(tz: Tz, from: (i32, u32, u32), to: (i32, u32, u32)) -> SlotQuery {
        SlotQuery {
            event_type_id: EventTypeId(1),
            from: NaiveDate::from_ymd_opt(from.0, from.1, from.2).unwrap(),
            to: NaiveDate::from_ymd_opt(to.0, to.1, to.2).unwrap(),
            time_zone: tz,
            duration_min: None,
        }
    }

    fn bounds(q: &SlotQuery) -> (String, String) {
        let params = slots_query_params(q);
        let get = |name| params.iter().find(|(k, _)| *k == name).unwrap().1.clone();
        (get("start"), get("end"))
    }

    #[test]
    fn slot_window_is_local_days_in_utc() {
        let q = query(chrono_tz::Europe::Rome, (2050, 9, 5), (2050, 9, 6));
        assert_eq!(
            bounds(&q),
            ("2050-09-04T22:00:00Z".into(), "2050-09-06T21:59:59Z".into())
        );
        let q = query(chrono_tz::America::New_York, (2050, 1, 5), (2050, 1, 5));
        assert_eq!(
            bounds(&q),
            ("2050-01-05T05:00:00Z".into(), "2050-01-06T04:59:59Z".into())
        );
    }

    #[test]
    fn slot_window_spans_dst_change_inside_the_range() {
        // Rome falls back on 2050-10-30: the window is 25 hours longer than 2 × 24 h.
        let q = query(chrono_tz::Europe::Rome, (2050, 10, 29), (2050, 10, 30));
        assert_eq!(
            bounds(&q),
            ("2050-10-28T22:00:00Z".into(), "2050-10-30T22:59:59Z".into())
        );
    }

    #[test]
    fn slot_window_starts_after_a_midnight_dst_gap() {
        // America/Santiago: 2024-09-08 00:00 -04 jumps to 01:00 -03.
        let q = query(chrono_tz::America::Santiago, (2024, 9, 8), (2024, 9, 8));
        assert_eq!(
            bounds(&q),
            ("2024-09-08T04:00:00Z".into(), "2024-09-09T02:59:59Z".into())
        );
    }

    #[test]
    fn create_body_omits_absent_fields() {
        let request = BookingRequest {
            event_type_id: EventTypeId(5),
            start: Utc.with_ymd_and_hms(2030, 1, 8, 15, 0, 0).unwrap(),
            attendee: Attendee {
                name: "Eve".into(),
                time_zone: "Europe/Berlin".into(),
                email: Some("eve@x.com".into()),
                phone_number: None,
                language: None,
            },
            metadata: BTreeMap::new(),
            length_in_minutes: None,
            reserved_slot_uid: None,
        };
        let body = serde_json::to_value(CreateBookingBody::from(&request)).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "start": "2030-01-08T15:00:00Z",
                "eventTypeId": 5,
                "attendee": {"name": "Eve", "timeZone": "Europe/Berlin", "email": "eve@x.com"}
            })
        );
    }
}
