//! Request bodies of the booking routes, checked the way Cal.com's pipes check them
//! (`whitelist` + `forbidNonWhitelisted`, class-validator messages) and then the way the
//! bookings service resolves them (calcom.md §4.1, §4.4, §4.5).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use std::sync::Arc;

use crate::sim::calcom::accounts::{Account, Accounts, EventType};
use crate::sim::calcom::errors::CalcomError;
use crate::sim::calcom::store::{Attendee, NewBooking, Reschedule};
use crate::sim::calcom::validate::{
    Violation, date_string_message, international_phone, is_email, is_time_zone, parse_instant,
    pipe_result, unknown_keys,
};

/// Properties of `CreateBookingInput_2024_08_13` (plus `recurrenceCount` of the recurring
/// variant, which the pipe picks when that key is present).
const CREATE_KEYS: &[&str] = &[
    "start",
    "attendee",
    "bookingFieldsResponses",
    "eventTypeId",
    "eventTypeSlug",
    "username",
    "teamSlug",
    "organizationSlug",
    "guests",
    "meetingUrl",
    "location",
    "metadata",
    "lengthInMinutes",
    "routing",
    "emailVerificationCode",
    "rrHostSubsetIds",
    "recurrenceCount",
    "reservedSlotUid",
];

const ATTENDEE_KEYS: &[&str] = &["name", "timeZone", "phoneNumber", "language", "email"];

/// Properties of `RescheduleBookingInput_2024_08_13`.
const RESCHEDULE_KEYS: &[&str] = &[
    "start",
    "reschedulingReason",
    "rescheduledBy",
    "emailVerificationCode",
    "reservedSlotUid",
];

/// Properties of `ReserveSlotInput_2024_09_04` (calcom/cal.com
/// `packages/platform/types/slots/slots-2024-09-04/inputs/reserve-slot.input.ts`), the body of
/// `POST /v2/slots/reservations` and `PATCH /v2/slots/reservations/{uid}`.
const RESERVE_KEYS: &[&str] = &[
    "eventTypeId",
    "slotStart",
    "slotDuration",
    "reservationDuration",
];

/// Properties of `CancelBookingInput_2024_08_13` and its seated variant.
const CANCEL_KEYS: &[&str] = &["cancellationReason", "cancelSubsequentBookings", "seatUid"];

/// Values of Cal.com's `BookingLanguage` enum (`attendee.language`).
const LANGUAGES: &[&str] = &[
    "ar", "ca", "de", "es", "eu", "he", "id", "ja", "lv", "pl", "ro", "sr", "th", "vi", "az", "cs",
    "el", "es-419", "fi", "hr", "it", "km", "nl", "pt", "ru", "sv", "tr", "zh-CN", "bg", "da",
    "en", "et", "fr", "hu", "iw", "ko", "no", "pt-BR", "sk", "ta", "uk", "zh-TW", "bn",
];

const NO_CONTACT: &str = "At least one contact method (email or phone number) must be provided";

const METADATA_RULES: &str = "Metadata must have at most 50 keys, each key up to 40 characters, and string values up to 500 characters.";

const NO_EVENT_TYPE: &str =
    "Either eventTypeId or eventTypeSlug + username or eventTypeSlug + teamSlug must be provided";

/// How the body names the event type, in the bookings service's order of preference.
#[derive(Debug, Clone, PartialEq)]
enum Selector {
    Id(i64),
    UserSlug {
        username: String,
        slug: String,
        organization: Option<String>,
    },
    TeamSlug {
        team: String,
    },
}

impl Selector {
    /// The event type, or the 404 `getBookedEventType`/`handleEventTypeToBeBookedNotFound` give.
    /// Also returns the account that owns it, whose host the booking goes to.
    fn find(&self, accounts: &Accounts) -> Result<(EventType, Arc<Account>), CalcomError> {
        match self {
            Self::Id(id) => accounts.event_type(*id).ok_or_else(|| {
                CalcomError::NotFound(format!("Event type with id {id} not found."))
            }),
            Self::UserSlug {
                username,
                slug,
                organization,
            } => {
                let Some(owner) = accounts.by_username(username) else {
                    return Err(CalcomError::NotFound(format!(
                        "User with username {username} not found"
                    )));
                };
                let found = owner.event_types.iter().find(|e| &e.slug == slug).cloned();
                found.map(|e| (e, owner)).ok_or_else(|| {
                    CalcomError::NotFound(match organization {
                        Some(org) => format!(
                            "Event type with slug {slug} belonging to user {username} within organization {org} not found."
                        ),
                        None => format!("Event type with slug {slug} belonging to user {username} not found."),
                    })
                })
            }
            Self::TeamSlug { team } => Err(CalcomError::NotFound(format!(
                "Team with slug {team} not found"
            ))),
        }
    }
}

/// The attendee as sent.
#[derive(Debug, Clone, PartialEq)]
struct AttendeeInput {
    name: String,
    time_zone: String,
    email: Option<String>,
    phone: Option<String>,
    language: Option<String>,
}

/// A create body that passed the pipe.
#[derive(Debug, Clone)]
pub(super) struct CreateInput {
    start: DateTime<Utc>,
    selector: Selector,
    attendee: AttendeeInput,
    guests: Vec<String>,
    /// `location || meetingUrl`, not yet checked against the event type.
    location: Option<Value>,
    metadata: Map<String, Value>,
    length_in_minutes: Option<i64>,
    responses: Map<String, Value>,
    recurring: bool,
    reserved_slot_uid: Option<String>,
}

impl CreateInput {
    /// What the bookings service does before the booking core: find the event type, refuse
    /// inputs it cannot take, and derive the stored booking.
    /// Returns the owner's account with the booking: its schedule decides the slot.
    pub(super) fn resolve(
        self,
        accounts: &Accounts,
    ) -> Result<(NewBooking, Arc<Account>), CalcomError> {
        let (event_type, owner) = self.selector.find(accounts)?;
        if self.recurring {
            return Err(CalcomError::NotFound(format!(
                "Event type with id={} is not a recurring event",
                event_type.id
            )));
        }
        if self.length_in_minutes.is_some() {
            return Err(CalcomError::BadRequest(
                "Can't specify 'lengthInMinutes' because event type does not have multiple possible lengths. Please, remove the 'lengthInMinutes' field from the request.".into(),
            ));
        }
        let location = location(self.location.as_ref(), &event_type)?;
        let AttendeeInput {
            name,
            time_zone,
            email,
            phone,
            language,
        } = self.attendee;
        // The core books phone-only attendees under a synthetic, deterministic address.
        let email = match (email, &phone) {
            (Some(email), _) => email,
            (None, Some(phone)) => sms_email(phone),
            (None, None) => String::new(),
        };
        let new = NewBooking {
            event_type,
            host: owner.host.clone(),
            start: self.start,
            attendee: Attendee {
                name,
                email,
                phone,
                time_zone,
                language: language.unwrap_or_else(|| "en".into()),
            },
            guests: self.guests,
            location,
            metadata: self.metadata,
            responses: self.responses,
            reserved_slot_uid: self.reserved_slot_uid,
        };
        Ok((new, owner))
    }
}

/// `<digits of the number>@sms.cal.com` (Cal.com `constructEmailFromPhoneNumber`).
fn sms_email(phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    format!("{digits}@sms.cal.com")
}

/// JS truthiness of a JSON value, as `a || b` and `!!x` in Cal.com's code see it.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// The stored location: strings pass as they are (backwards compatibility); objects must have
/// a type the event type offers — the simulated event types offer only `attendeePhone`, whose
/// `phone` becomes the location. The structural location validator is async and so never runs
/// under the pipe's `validateSync`; this service check is the only one.
fn location(input: Option<&Value>, event_type: &EventType) -> Result<Option<String>, CalcomError> {
    match input {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => {
            let kind = other
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("undefined");
            if kind != "attendeePhone" {
                return Err(CalcomError::BadRequest(format!(
                    "Booking location with type {kind} not valid for event type with id={}. The event type has following location types: attendeePhone, and only these types are allowed for booking location.",
                    event_type.id
                )));
            }
            Ok(other
                .get("phone")
                .and_then(Value::as_str)
                .map(str::to_owned))
        }
    }
}

/// class-validator checks over one JSON object, collecting [`Violation`]s.
struct Checks<'a> {
    object: &'a Map<String, Value>,
    violations: Vec<Violation>,
}

impl<'a> Checks<'a> {
    fn new(object: &'a Map<String, Value>, allowed: &[&str]) -> Self {
        let mut violations = Vec::new();
        unknown_keys(object, allowed, &mut violations);
        Self { object, violations }
    }

    /// The value of `key` unless absent or `null` (`@IsOptional()` skips both).
    fn present(&self, key: &str) -> Option<&'a Value> {
        self.object.get(key).filter(|v| !v.is_null())
    }

    fn fail(&mut self, key: &str, constraint: &'static str, message: String) {
        self.violations
            .push(Violation::new(key, constraint, message));
    }

    /// `@IsString()` (`required`) or `@IsOptional() @IsString()`.
    fn string(&mut self, key: &str, required: bool) -> Option<String> {
        match self.present(key) {
            Some(Value::String(s)) => Some(s.clone()),
            None if !required => None,
            _ => {
                self.fail(key, "isString", format!("{key} must be a string"));
                None
            }
        }
    }

    /// `@IsDateString()`, required.
    fn date(&mut self, key: &str) -> Option<DateTime<Utc>> {
        let parsed = self
            .present(key)
            .and_then(Value::as_str)
            .and_then(parse_instant);
        if parsed.is_none() {
            self.fail(key, "isDateString", date_string_message(key));
        }
        parsed
    }

    /// `@IsOptional() @IsInt()` with an optional `@Min(min)`.
    fn int(&mut self, key: &str, min: Option<i64>) -> Option<i64> {
        let value = self.present(key)?;
        let Some(n) = value.as_i64().or_else(|| {
            value
                .as_f64()
                .filter(|f| f.fract() == 0.0)
                .map(|f| f as i64)
        }) else {
            self.fail(key, "isInt", format!("{key} must be an integer number"));
            return None;
        };
        if let Some(min) = min.filter(|min| n < *min) {
            self.fail(key, "min", format!("{key} must not be less than {min}"));
        }
        Some(n)
    }

    /// `@IsOptional() @IsObject()`.
    fn object(&mut self, key: &str) -> Option<Map<String, Value>> {
        match self.present(key)? {
            Value::Object(map) => Some(map.clone()),
            _ => {
                self.fail(key, "isObject", format!("{key} must be an object"));
                None
            }
        }
    }

    /// `@IsOptional() @IsArray()` with `@IsString({each})` or `@IsInt({each})`.
    fn array(&mut self, key: &str, each_ok: fn(&Value) -> bool, each_message: &str) -> Vec<Value> {
        match self.present(key) {
            None => Vec::new(),
            Some(Value::Array(items)) => {
                if !items.iter().all(each_ok) {
                    self.fail(key, "each", format!("each value in {key} {each_message}"));
                }
                items.clone()
            }
            Some(_) => {
                self.fail(key, "isArray", format!("{key} must be an array"));
                Vec::new()
            }
        }
    }

    /// `@IsOptional() @IsBoolean()`.
    fn boolean(&mut self, key: &str) {
        if self.present(key).is_some_and(|v| !v.is_boolean()) {
            self.fail(key, "isBoolean", format!("{key} must be a boolean value"));
        }
    }

    /// `@IsOptional() @ValidateNested()` of an object we do not otherwise use.
    fn nested_object(&mut self, key: &str) {
        if self.present(key).is_some_and(|v| !v.is_object()) {
            self.fail(
                key,
                "nestedValidation",
                format!("nested property {key} must be either object or array"),
            );
        }
    }

    /// `@IsOptional() @IsObject() @ValidateMetadata()` (calcom.md §4.1 limits).
    fn metadata(&mut self) -> Map<String, Value> {
        let Some(value) = self.present("metadata") else {
            return Map::new();
        };
        let Value::Object(map) = value else {
            self.violations.push(Violation {
                property: "metadata".into(),
                constraints: vec![
                    ("isObject", "metadata must be an object".into()),
                    ("validateMetadata", METADATA_RULES.into()),
                ],
                children: Vec::new(),
            });
            return Map::new();
        };
        let too_long = |v: &Value| v.as_str().is_some_and(|s| s.chars().count() > 500);
        if map.len() > 50
            || map
                .iter()
                .any(|(k, v)| k.chars().count() > 40 || too_long(v))
        {
            self.fail("metadata", "validateMetadata", METADATA_RULES.into());
        }
        map.clone()
    }

    /// `attendee`: `@IsDefined() @ValidateNested()` of `CreateBookingAttendee`.
    fn attendee(&mut self) -> Option<AttendeeInput> {
        let map = match self.present("attendee") {
            None => {
                self.fail(
                    "attendee",
                    "isDefined",
                    "attendee should not be null or undefined".into(),
                );
                return None;
            }
            Some(Value::Object(map)) => map,
            Some(_) => {
                let message = "nested property attendee must be either object or array".into();
                self.fail("attendee", "nestedValidation", message);
                return None;
            }
        };
        let mut inner = Checks::new(map, ATTENDEE_KEYS);
        let name = inner.string("name", true);
        let time_zone = inner
            .present("timeZone")
            .and_then(Value::as_str)
            .filter(|z| is_time_zone(z));
        if time_zone.is_none() {
            inner.fail(
                "timeZone",
                "isTimeZone",
                "timeZone must be a valid IANA time-zone".into(),
            );
        }
        let phone = inner.present("phoneNumber").filter(|v| truthy(v));
        if phone.is_some_and(|p| p.as_str().and_then(international_phone).is_none()) {
            let message = "Invalid phone number format. Please use international format.".into();
            inner.fail("phoneNumber", "customValidation", message);
        }
        let language = inner.string("language", false);
        if language.as_deref().is_some_and(|l| !LANGUAGES.contains(&l)) {
            let message = format!(
                "language must be one of the following values: {}",
                LANGUAGES.join(", ")
            );
            inner.fail("language", "isEnum", message);
        }
        let email = inner.present("email").filter(|v| truthy(v));
        if email.is_some_and(|e| !e.as_str().is_some_and(is_email)) {
            inner.fail("email", "customValidation", "Invalid email format".into());
        }
        if phone.is_none() && email.is_none() {
            inner.fail(
                "attendee email or phone",
                "requireEmailOrPhone",
                NO_CONTACT.into(),
            );
        }
        if !inner.violations.is_empty() {
            self.violations
                .push(Violation::nested("attendee", inner.violations));
            return None;
        }
        Some(AttendeeInput {
            name: name?,
            time_zone: time_zone?.to_owned(),
            email: email.and_then(Value::as_str).map(str::to_owned),
            phone: phone.and_then(Value::as_str).map(str::to_owned),
            language,
        })
    }

    /// 400 with every violation, or the value the checks produced.
    fn finish<T>(self, value: Option<T>) -> Result<T, CalcomError> {
        pipe_result(&self.violations)?;
        // A value is missing only where a violation was recorded, so this cannot be reached
        // with an empty list; answer like the pipe would rather than panic.
        value.ok_or_else(|| CalcomError::BadRequest("Body is required".into()))
    }
}

/// `CreateBookingInputPipe` over a `POST /v2/bookings` body.
pub(super) fn create(body: &Map<String, Value>) -> Result<CreateInput, CalcomError> {
    let mut checks = Checks::new(body, CREATE_KEYS);
    let start = checks.date("start");
    let attendee = checks.attendee();
    let responses = checks.object("bookingFieldsResponses").unwrap_or_default();
    let event_type_id = checks.int("eventTypeId", None);
    let slug = checks.string("eventTypeSlug", false);
    let username = checks.string("username", false);
    let team = checks.string("teamSlug", false);
    let organization = checks.string("organizationSlug", false);
    let guests = checks.array("guests", Value::is_string, "must be a string");
    let meeting_url = checks.string("meetingUrl", false);
    let metadata = checks.metadata();
    let length_in_minutes = checks.int("lengthInMinutes", Some(1));
    checks.nested_object("routing");
    checks.string("emailVerificationCode", false);
    checks.array(
        "rrHostSubsetIds",
        |v| v.is_i64(),
        "must be an integer number",
    );
    let recurring = checks.int("recurrenceCount", Some(1)).is_some();
    let reserved_slot_uid = checks.string("reservedSlotUid", false);

    let non_empty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
    let selector = match (
        event_type_id.filter(|id| *id != 0),
        non_empty(&slug),
        non_empty(&username),
        non_empty(&team),
    ) {
        (Some(id), ..) => Some(Selector::Id(id)),
        (None, Some(slug), Some(username), _) => Some(Selector::UserSlug {
            username,
            slug,
            organization,
        }),
        (None, Some(_), None, Some(team)) => Some(Selector::TeamSlug { team }),
        _ => {
            let property = "eventTypeId or eventTypeSlug + username";
            checks.fail(
                property,
                "requireEventTypeIdentification",
                NO_EVENT_TYPE.into(),
            );
            None
        }
    };
    // `null` booking-field responses are stored as empty strings.
    let responses = responses
        .into_iter()
        .map(|(k, v)| {
            (
                k,
                if v.is_null() {
                    Value::String(String::new())
                } else {
                    v
                },
            )
        })
        .collect();
    let location = body
        .get("location")
        .filter(|v| truthy(v))
        .cloned()
        .or_else(|| meeting_url.filter(|u| !u.is_empty()).map(Value::String));
    let value = match (start, attendee, selector) {
        (Some(start), Some(attendee), Some(selector)) => Some(CreateInput {
            start,
            selector,
            attendee,
            guests: guests
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            location,
            metadata,
            length_in_minutes,
            responses,
            recurring,
            reserved_slot_uid,
        }),
        _ => None,
    };
    checks.finish(value)
}

/// The reschedule pipe over a `POST /v2/bookings/{uid}/reschedule` body.
pub(super) fn reschedule(body: &Map<String, Value>) -> Result<Reschedule, CalcomError> {
    let mut checks = Checks::new(body, RESCHEDULE_KEYS);
    let start = checks.date("start");
    let reason = checks.string("reschedulingReason", false);
    let by = checks.string("rescheduledBy", false);
    if by.as_deref().is_some_and(|b| !is_email(b)) {
        checks.fail(
            "rescheduledBy",
            "isEmail",
            "rescheduledBy must be an email".into(),
        );
    }
    checks.string("emailVerificationCode", false);
    let reserved_slot_uid = checks.string("reservedSlotUid", false);
    let value = start.map(|start| Reschedule {
        start,
        reason,
        by,
        reserved_slot_uid,
    });
    checks.finish(value)
}

/// The cancel pipe over a `POST /v2/bookings/{uid}/cancel` body: the cancellation reason.
///
/// A `seatUid` selects the seated variant; the demo event types have no seats, so the
/// bookings service's answer for an unknown seat follows.
pub(super) fn cancel(body: &Map<String, Value>) -> Result<Option<String>, CalcomError> {
    let mut checks = Checks::new(body, CANCEL_KEYS);
    let reason = checks.string("cancellationReason", false);
    checks.boolean("cancelSubsequentBookings");
    let seat = checks.string("seatUid", false);
    let reason = checks.finish(Some(reason))?;
    if seat.is_some() {
        return Err(CalcomError::BadRequest(
            "Invalid seatUid: this seat does not exist or has already been cancelled.".into(),
        ));
    }
    Ok(reason)
}

/// A reservation body that passed the pipe.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ReservationInput {
    pub(super) event_type_id: i64,
    pub(super) slot_start: DateTime<Utc>,
    /// `slotDuration`, minutes; the event type's length when absent.
    pub(super) slot_minutes: Option<i64>,
    /// `reservationDuration`, minutes; only authenticated callers may set it.
    pub(super) hold_minutes: Option<i64>,
}

/// The reserve pipe over a `POST`/`PATCH /v2/slots/reservations` body.
pub(super) fn reservation(body: &Map<String, Value>) -> Result<ReservationInput, CalcomError> {
    let mut checks = Checks::new(body, RESERVE_KEYS);
    let event_type_id = checks.int("eventTypeId", None);
    if event_type_id.is_none() && checks.present("eventTypeId").is_none() {
        checks.fail(
            "eventTypeId",
            "isInt",
            "eventTypeId must be an integer number".into(),
        );
    }
    let slot_start = checks.date("slotStart");
    let slot_minutes = checks.int("slotDuration", Some(1));
    let hold_minutes = checks.int("reservationDuration", Some(1));
    let value = event_type_id
        .zip(slot_start)
        .map(|(event_type_id, slot_start)| ReservationInput {
            event_type_id,
            slot_start,
            slot_minutes,
            hold_minutes,
        });
    checks.finish(value)
}
