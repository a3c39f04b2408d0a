//! The `collect_appointment_data` custom function's arguments (DESIGN §3, §6), read into a
//! patch for [`CollectedAppointment`] plus one spoken error per field that could not be read.
//!
//! A field that fails is left out of the patch, never stored half-read, so the agent can ask
//! again while everything else the caller said is kept.

use super::appointment::{CollectedAppointment, RequiredField, ServiceChoice};
use super::correction::{self, CorrectionError, MAX_CORRECTION_CHARS};
use super::date_window::DateWindow;
use super::datetime::{DateParseError, TimeParseError, parse_date, parse_time};
use super::phone::PhoneNumber;
use super::service_match::{ServiceMatchError, match_service};
use super::spoken_digits::MAX_SPOKEN_CHARS;
use super::tenant::{BusinessWindow, Locale, Service};
use super::text::{self, Limit, TextError};
use super::truthy::is_truthy;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Weekday};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;

/// One argument value as an LLM sends it: the same field arrives as `"14"`, `14` or `true`
/// depending on the model, so all three are accepted and read as text where text is needed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ArgValue {
    /// `true` / `false`.
    Bool(bool),
    /// Any JSON number; not `f64`, so a long digit string (a phone number) survives unchanged.
    Number(serde_json::Number),
    /// A string, untrimmed.
    Text(String),
}

// Tool schemas are read by LLMs: one inline `type` list says "any scalar" more plainly than
// a `$ref` to the `anyOf` an untagged enum derives.
impl JsonSchema for ArgValue {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "ArgValue".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": ["string", "number", "boolean"] })
    }
}

impl ArgValue {
    /// The value as text: strings as sent, numbers in JSON notation, booleans as
    /// `true`/`false`.
    pub fn text(&self) -> String {
        match self {
            Self::Bool(b) => b.to_string(),
            Self::Number(n) => n.to_string(),
            Self::Text(s) => s.clone(),
        }
    }

    /// The value as JSON, for [`is_truthy`].
    pub fn to_json(&self) -> Value {
        match self {
            Self::Bool(b) => Value::Bool(*b),
            Self::Number(n) => Value::Number(n.clone()),
            Self::Text(s) => Value::String(s.clone()),
        }
    }
}

/// Raw tool args as the LLM sends them: German names with English aliases (DESIGN §6). Every
/// field is optional because the agent collects piecemeal over several calls; a blank value
/// counts as not given. Unknown keys are ignored. Sending a German name and its English alias
/// together is a deserialisation error (duplicate field). The field docs are the descriptions
/// the agent's LLM sees in the tool schema.
#[derive(Debug, Default, Clone, PartialEq, Deserialize, JsonSchema)]
#[schemars(
    description = "Appointment details the caller has given so far; send only what is known."
)]
pub struct AppointmentArgs {
    /// Date as the caller said it: "morgen", "nächsten Dienstag", "15.07.", "2026-07-15".
    #[serde(alias = "date")]
    pub datum: Option<ArgValue>,
    /// Time as the caller said it: "14 Uhr", "halb drei", "14:30", "2:30 pm".
    #[serde(alias = "time")]
    pub uhrzeit: Option<ArgValue>,
    /// The caller's name.
    pub name: Option<ArgValue>,
    /// Phone number, national ("030 1234567") or international ("+49 30 1234567").
    #[serde(alias = "phone", alias = "phone_number")]
    pub telefonnummer: Option<ArgValue>,
    /// The service wanted, by name or a usual alias.
    #[serde(alias = "service")]
    pub dienstleistung: Option<ArgValue>,
    /// Email address, if the caller gave one.
    pub email: Option<ArgValue>,
    /// The staff member the caller prefers, if any.
    #[serde(alias = "staff")]
    pub mitarbeiter_wunsch: Option<ArgValue>,
    /// Anything else the caller wants noted.
    #[serde(alias = "notes")]
    pub notizen: Option<ArgValue>,
    /// The caller confirmed the booking: true, "true", 1, "1", "yes" or "ja".
    #[serde(alias = "bestätigt", alias = "confirmed")]
    pub bestaetigt: Option<ArgValue>,
}

/// What [`normalize`] needs to know about the company and the moment of the call.
#[derive(Debug, Clone, Copy)]
pub struct CollectContext<'a> {
    /// The company's local date: "morgen" and past dates are relative to it.
    pub today: NaiveDate,
    /// The company's local date and time: a date and time said together must not be before it.
    pub now_local: NaiveDateTime,
    /// Settles 12-hour readings ("halb drei" → 14:30).
    pub window: BusinessWindow,
    /// The services of the branch called; what the caller says must match one.
    pub services: &'a [Service],
    /// Country for phone numbers said without a country code: the country of the dialled
    /// business number ([`caller_region`](super::phone::caller_region)).
    pub region: phonenumber::country::Id,
    /// Days ahead callers may book (the tenant's `policy.booking_horizon_days`).
    pub horizon_days: u32,
}

/// Why one argument could not be read; [`FieldError::message`] says it to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldErrorKind {
    /// No date form matches.
    #[error("not a date we can read")]
    UnknownDate,
    /// A day that no calendar has ("31.02.").
    #[error("no such day in the calendar")]
    NoSuchDate,
    /// A weekday and a date that disagree.
    #[error("{date} is not a {said}")]
    WeekdayMismatch {
        /// The date read.
        date: NaiveDate,
        /// The weekday the caller named.
        said: Weekday,
    },
    /// The date may mean more than one day ("nächsten Freitag" on a Thursday); the reply asks
    /// which, naming `candidates`, and no date is stored.
    #[error("may mean any of {candidates:?}")]
    AmbiguousDate {
        /// The days meant, earliest first.
        candidates: Vec<NaiveDate>,
    },
    /// No time form matches, or it names no time of day.
    #[error("not a time we can read")]
    UnknownTime,
    /// More than one time was named ("um acht oder neun"): the reply asks which one, and no
    /// time is stored.
    #[error("names more than one time")]
    AmbiguousTime,
    /// The date is before today, or (on `uhrzeit`) date and time are before now.
    #[error("in the past")]
    InPast,
    /// The date lies after the last bookable day ([`DateWindow`]).
    #[error("after the last bookable day {latest}")]
    TooFarAhead {
        /// The last bookable day.
        latest: NaiveDate,
    },
    /// Not a valid phone number in its country.
    #[error("not a valid phone number")]
    InvalidPhone,
    /// No service, or more than one, matches; `offered` are the names of all services.
    #[error("no single service matches")]
    UnknownService {
        /// Names of the branch's services, in the order configured, for the agent to offer.
        offered: Vec<String>,
    },
    /// Several services match equally well: the caller is asked which one.
    #[error("several services match")]
    AmbiguousService {
        /// Names of the services that match, in the order configured.
        candidates: Vec<String>,
    },
    /// Not shaped like an email address (one `@`, a dot in the domain).
    #[error("not an email address")]
    InvalidEmail,
    /// Longer than `max` characters after cleaning ([`text::Limit`]).
    #[error("longer than {max} characters")]
    TooLong {
        /// The limit of the field.
        max: usize,
    },
}

/// One argument that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {input:?}: {kind}")]
pub struct FieldError {
    /// German argument name (`datum`, `uhrzeit`, `telefonnummer`, …), whichever alias was sent.
    pub field: &'static str,
    /// What was wrong with it.
    pub kind: FieldErrorKind,
    /// The value as sent, trimmed.
    pub input: String,
}

impl FieldError {
    /// One short sentence the agent can speak to the caller, in `locale` (worded in the
    /// message catalog, [`crate::speech::general`]).
    pub fn message(&self, locale: Locale) -> String {
        use crate::speech::Catalog;
        self.say(locale)
    }
}

/// The result of [`normalize`]: the fields read, and an error for each one that was not.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Normalized {
    /// Only the fields given and readable in this call; merge with
    /// [`CollectedAppointment::merge`].
    pub patch: CollectedAppointment,
    /// In argument order (`datum`, `uhrzeit`, `name`, `telefonnummer`, `dienstleistung`,
    /// `email`).
    pub errors: Vec<FieldError>,
    /// The caller corrected the date, time or service in this call ("nein, nicht Dienstag,
    /// Mittwoch", [`correction::current`]): the reply repeats what is now understood.
    pub corrected: bool,
}

/// Reads `args` into a patch. Values are cleaned by their [`text::Limit`] (hidden characters
/// removed, trimmed; over-long ones are a `TooLong` error) and blank ones ignored; a date
/// before `ctx.today` is an `InPast` error on `datum`, one after the [`DateWindow`] around it
/// `TooFarAhead`, and a date and time given together that lie before `ctx.now_local` an
/// `InPast` error on `uhrzeit` (the date is kept). `confirmed` is [`is_truthy`] of
/// `bestaetigt`.
pub fn normalize(args: &AppointmentArgs, ctx: &CollectContext<'_>) -> Normalized {
    use RequiredField::{Datum, Dienstleistung, Name, Telefonnummer, Uhrzeit};
    let mut errors = Vec::new();
    let mut corrected = false;
    let e = &mut errors;
    let date = read(e, Datum.arg_name(), &args.datum, text::PHRASE, |s| {
        let s = now_meant(s, &mut corrected, FieldErrorKind::UnknownDate)?;
        read_date(s, ctx.today, ctx.horizon_days)
    });
    let time = read(e, Uhrzeit.arg_name(), &args.uhrzeit, text::PHRASE, |s| {
        let s = now_meant(s, &mut corrected, FieldErrorKind::UnknownTime)?;
        read_time(s, date, ctx)
    });
    let name = read(e, Name.arg_name(), &args.name, text::NAME, |s| {
        Ok(s.to_owned())
    });
    let phone = read(
        e,
        Telefonnummer.arg_name(),
        &args.telefonnummer,
        // Digits said as words take more room than a written number.
        Limit::line(MAX_SPOKEN_CHARS),
        |s| PhoneNumber::from_speech(s, ctx.region).map_err(|_| FieldErrorKind::InvalidPhone),
    );
    let service = read(
        e,
        Dienstleistung.arg_name(),
        &args.dienstleistung,
        text::PHRASE,
        |s| {
            let unknown = FieldErrorKind::UnknownService {
                offered: ctx.services.iter().map(|s| s.name.clone()).collect(),
            };
            read_service(now_meant(s, &mut corrected, unknown)?, ctx.services)
        },
    );
    let email = read(e, "email", &args.email, text::EMAIL, read_email);
    let staff = read(
        e,
        "mitarbeiter_wunsch",
        &args.mitarbeiter_wunsch,
        text::STAFF,
        |s| Ok(s.to_owned()),
    );
    let notes = read(e, "notizen", &args.notizen, text::NOTES, |s| {
        Ok(s.to_owned())
    });
    let patch = CollectedAppointment {
        date,
        time,
        name,
        phone,
        email,
        service,
        staff,
        notes,
        confirmed: args
            .bestaetigt
            .as_ref()
            .is_some_and(|v| is_truthy(&v.to_json())),
        hold: None,
    };
    Normalized {
        patch,
        errors,
        corrected,
    }
}

/// The part of a date, time or service text the caller now means ([`correction::current`]),
/// noting in `corrected` when they corrected themselves; `rejected_only` is the error when
/// they only said what they do not want ("nicht Dienstag"), so the agent asks again.
fn now_meant<'a>(
    input: &'a str,
    corrected: &mut bool,
    rejected_only: FieldErrorKind,
) -> Result<&'a str, FieldErrorKind> {
    match correction::current(input) {
        Ok(reading) => {
            *corrected |= reading.corrected;
            Ok(reading.value)
        }
        Err(CorrectionError::TooLong) => Err(FieldErrorKind::TooLong {
            max: MAX_CORRECTION_CHARS,
        }),
        Err(CorrectionError::OnlyRejected) => Err(rejected_only),
    }
}

/// The trimmed text of a value, `None` when absent or blank: LLMs fill fields they don't
/// know yet with `""`, which is not an answer.
fn given(value: &Option<ArgValue>) -> Option<String> {
    let text = value.as_ref()?.text();
    let trimmed = text.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// Runs `parse` on the [`given`] text of `value` cleaned by `limit`; on failure records the
/// error and yields `None`. A value that is blank once cleaned counts as not given.
fn read<T>(
    errors: &mut Vec<FieldError>,
    field: &'static str,
    value: &Option<ArgValue>,
    limit: Limit,
    parse: impl FnOnce(&str) -> Result<T, FieldErrorKind>,
) -> Option<T> {
    let raw = given(value)?;
    let input = match limit.clean(&raw) {
        Ok(input) if input.is_empty() => return None,
        Ok(input) => input,
        Err(e) => {
            errors.push(FieldError {
                field,
                kind: text_error(e),
                input: text::excerpt(&raw, text::QUOTE_CHARS),
            });
            return None;
        }
    };
    match parse(&input) {
        Ok(value) => Some(value),
        Err(kind) => {
            errors.push(FieldError { field, kind, input });
            None
        }
    }
}

fn text_error(e: TextError) -> FieldErrorKind {
    match e {
        TextError::TooLong { max } => FieldErrorKind::TooLong { max },
        TextError::NotAnEmail => FieldErrorKind::InvalidEmail,
    }
}

fn read_date(
    input: &str,
    today: NaiveDate,
    horizon_days: u32,
) -> Result<NaiveDate, FieldErrorKind> {
    let latest = DateWindow::within(today, horizon_days).latest;
    match parse_date(input, today) {
        Ok(date) if date < today => Err(FieldErrorKind::InPast),
        Ok(date) if date > latest => Err(FieldErrorKind::TooFarAhead { latest }),
        Ok(date) => Ok(date),
        Err(DateParseError::Impossible(_)) => Err(FieldErrorKind::NoSuchDate),
        Err(DateParseError::WeekdayMismatch { date, said, .. }) => {
            Err(FieldErrorKind::WeekdayMismatch { date, said })
        }
        Err(DateParseError::Ambiguous { candidates, .. }) => {
            Err(FieldErrorKind::AmbiguousDate { candidates })
        }
        Err(DateParseError::TooLong { max }) => Err(FieldErrorKind::TooLong { max }),
        Err(DateParseError::Empty | DateParseError::Unrecognized(_)) => {
            Err(FieldErrorKind::UnknownDate)
        }
    }
}

/// `date` is the date read in the same call, if any: only then can "past" be decided here.
fn read_time(
    input: &str,
    date: Option<NaiveDate>,
    ctx: &CollectContext<'_>,
) -> Result<NaiveTime, FieldErrorKind> {
    let time = parse_time(input, ctx.window).map_err(|e| match e {
        TimeParseError::Ambiguous(_) => FieldErrorKind::AmbiguousTime,
        TimeParseError::TooLong { max } => FieldErrorKind::TooLong { max },
        _ => FieldErrorKind::UnknownTime,
    })?;
    match date {
        Some(date) if date.and_time(time) < ctx.now_local => Err(FieldErrorKind::InPast),
        _ => Ok(time),
    }
}

fn read_service(input: &str, services: &[Service]) -> Result<ServiceChoice, FieldErrorKind> {
    let service = match_service(input, services).map_err(|e| match e {
        ServiceMatchError::Ambiguous { candidates } => {
            FieldErrorKind::AmbiguousService { candidates }
        }
        ServiceMatchError::NoMatch | ServiceMatchError::TooLong => FieldErrorKind::UnknownService {
            offered: services.iter().map(|s| s.name.clone()).collect(),
        },
    })?;
    Ok(ServiceChoice {
        service_id: service.id,
        name: service.name.clone(),
        duration_min: service.duration_min,
        event_type_id: service.event_type_id,
    })
}

/// [`text::email`]: the same rule the gateway applies.
fn read_email(input: &str) -> Result<String, FieldErrorKind> {
    text::email(input).map_err(text_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{CompanyId, EventTypeId};
    use crate::domain::phone::DEFAULT_REGION;
    use serde_json::json;

    fn services() -> Vec<Service> {
        ["Herrenhaarschnitt", "Damenhaarschnitt", "Färben"]
            .iter()
            .zip(1..)
            .map(|(name, id)| Service {
                id,
                company_id: CompanyId(1),
                name: (*name).to_owned(),
                aliases: if id == 1 {
                    vec!["Herrenschnitt".into()]
                } else {
                    vec![]
                },
                duration_min: 30,
                event_type_id: EventTypeId(100 + id),
                team_id: None,
                branch_ids: Vec::new(),
            })
            .collect()
    }

    /// Wednesday 2026-07-01, 10:00 in the company's zone; open 09:00–18:00.
    fn ctx(services: &[Service]) -> CollectContext<'_> {
        let today = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        CollectContext {
            today,
            now_local: today.and_hms_opt(10, 0, 0).unwrap(),
            window: BusinessWindow {
                opens: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
                closes: NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
            },
            services,
            region: DEFAULT_REGION,
            horizon_days: 1826,
        }
    }

    fn run(args: Value) -> Normalized {
        let args: AppointmentArgs = serde_json::from_value(args).unwrap();
        normalize(&args, &ctx(&services()))
    }

    /// Checks what `error` tells the caller in German (`de`) and in English (`en`).
    fn assert_says(error: &FieldError, de: &str, en: &str) {
        assert_eq!(error.message(Locale::De), de);
        assert_eq!(error.message(Locale::En), en);
    }

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn german_args_fill_the_patch() {
        let out = run(json!({
            "datum": "morgen",
            "uhrzeit": "halb drei",
            "name": "  Max   Mustermann ",
            "telefonnummer": "030 1234567",
            "dienstleistung": "Herrenschnitt",
            "email": "max@example.de",
            "mitarbeiter_wunsch": "Anna",
            "notizen": " erster Besuch ",
            "bestaetigt": "ja",
        }));
        assert_eq!(out.errors, vec![]);
        let p = out.patch;
        assert_eq!(p.date, NaiveDate::from_ymd_opt(2026, 7, 2));
        assert_eq!(p.time, Some(t(14, 30)));
        assert_eq!(p.name.as_deref(), Some("Max Mustermann"));
        assert_eq!(p.phone.unwrap().as_str(), "+49301234567");
        let service = p.service.unwrap();
        assert_eq!(
            (service.service_id, service.name.as_str()),
            (1, "Herrenhaarschnitt")
        );
        assert_eq!(service.event_type_id, EventTypeId(101));
        assert_eq!(p.email.as_deref(), Some("max@example.de"));
        assert_eq!(p.staff.as_deref(), Some("Anna"));
        assert_eq!(p.notes.as_deref(), Some("erster Besuch"));
        assert!(p.confirmed);
    }

    #[test]
    fn english_aliases_are_accepted() {
        let out = run(json!({
            "date": "July 15",
            "time": "2:30 pm",
            "name": "Jane Doe",
            "phone": "+1 415 555 0123",
            "service": "färben",
            "staff": "Anna",
            "notes": "first visit",
            "confirmed": "yes",
        }));
        assert_eq!(out.errors, vec![]);
        let p = out.patch;
        assert_eq!(p.date, NaiveDate::from_ymd_opt(2026, 7, 15));
        assert_eq!(p.time, Some(t(14, 30)));
        assert_eq!(p.phone.unwrap().as_str(), "+14155550123");
        assert_eq!(p.service.unwrap().service_id, 3);
        assert_eq!(p.staff.as_deref(), Some("Anna"));
        assert_eq!(p.notes.as_deref(), Some("first visit"));
        assert!(p.confirmed);
        let p = run(json!({"phone_number": "0171 1234567"})).patch;
        assert_eq!(p.phone.unwrap().as_str(), "+491711234567");
    }

    #[test]
    fn bestaetigt_with_umlaut_is_accepted() {
        assert!(run(json!({"bestätigt": true})).patch.confirmed);
        assert!(run(json!({"bestaetigt": 1})).patch.confirmed);
        assert!(!run(json!({"bestätigt": "nein"})).patch.confirmed);
        assert!(!run(json!({})).patch.confirmed);
    }

    #[test]
    fn numbers_and_booleans_are_read_as_text() {
        let out = run(json!({"uhrzeit": 14, "name": 42, "bestaetigt": true}));
        assert_eq!(out.patch.time, Some(t(14, 0)));
        assert_eq!(out.patch.name.as_deref(), Some("42"));
    }

    #[test]
    fn unknown_keys_are_ignored_and_blank_values_are_not_given() {
        let out = run(json!({
            "wetter": "sonnig",
            "datum": "",
            "uhrzeit": "   ",
            "name": null,
            "email": "",
        }));
        assert_eq!(out, Normalized::default());
    }

    #[test]
    fn past_date_is_reported_not_stored() {
        let out = run(json!({"datum": "30.06.2026", "uhrzeit": "15 Uhr"}));
        assert_eq!(out.patch.date, None);
        assert_eq!(out.patch.time, Some(t(15, 0)));
        assert_eq!(
            out.errors,
            vec![FieldError {
                field: "datum",
                kind: FieldErrorKind::InPast,
                input: "30.06.2026".into(),
            }]
        );
    }

    #[test]
    fn past_time_today_is_reported_on_uhrzeit_and_the_date_kept() {
        let out = run(json!({"datum": "heute", "uhrzeit": "9 Uhr"}));
        assert_eq!(out.patch.date, NaiveDate::from_ymd_opt(2026, 7, 1));
        assert_eq!(out.patch.time, None);
        assert_eq!(out.errors.len(), 1);
        assert_eq!(
            (out.errors[0].field, &out.errors[0].kind),
            ("uhrzeit", &FieldErrorKind::InPast)
        );
        let out = run(json!({"datum": "heute", "uhrzeit": "11 Uhr"}));
        assert_eq!((out.patch.time, out.errors), (Some(t(11, 0)), vec![]));
    }

    #[test]
    fn time_alone_is_not_compared_with_now() {
        let out = run(json!({"uhrzeit": "9 Uhr"}));
        assert_eq!((out.patch.time, out.errors), (Some(t(9, 0)), vec![]));
    }

    #[test]
    fn unreadable_fields_are_reported_and_the_rest_kept() {
        let out = run(json!({
            "datum": "31.02.",
            "uhrzeit": "irgendwann",
            "name": "Max",
            "telefonnummer": "12345",
            "dienstleistung": "Dauerwelle",
            "email": "max.example.de",
        }));
        let kinds: Vec<(&str, FieldErrorKind)> = out
            .errors
            .iter()
            .map(|e| (e.field, e.kind.clone()))
            .collect();
        let offered = vec![
            "Herrenhaarschnitt".to_owned(),
            "Damenhaarschnitt".to_owned(),
            "Färben".to_owned(),
        ];
        assert_eq!(
            kinds,
            vec![
                ("datum", FieldErrorKind::NoSuchDate),
                ("uhrzeit", FieldErrorKind::UnknownTime),
                ("telefonnummer", FieldErrorKind::InvalidPhone),
                ("dienstleistung", FieldErrorKind::UnknownService { offered }),
                ("email", FieldErrorKind::InvalidEmail),
            ]
        );
        assert_eq!(out.patch.name.as_deref(), Some("Max"));
    }

    #[test]
    fn ambiguous_service_is_not_guessed() {
        let out = run(json!({"dienstleistung": "Haarschnitt"}));
        assert_eq!(out.patch.service, None);
        assert!(matches!(
            out.errors[0].kind,
            FieldErrorKind::AmbiguousService { .. }
        ));
    }

    #[test]
    fn name_is_collapsed_and_limited_to_100_chars() {
        let hundred = "a".repeat(100);
        assert_eq!(run(json!({"name": &hundred})).patch.name, Some(hundred));
        let out = run(json!({"name": "ä".repeat(101)}));
        assert_eq!(out.patch.name, None);
        assert_eq!(out.errors[0].kind, FieldErrorKind::TooLong { max: 100 });
    }

    #[test]
    fn control_and_bidi_characters_never_reach_the_patch() {
        let out = run(json!({
            "name": "Max\u{0000} Mu\u{202E}stermann",
            "email": "max@example.de\u{0000}",
            "mitarbeiter_wunsch": "An\u{2066}na\u{0007}",
            "notizen": "erster\u{0000} Besuch\nbitte\u{202E} klingeln",
        }));
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        let p = out.patch;
        assert_eq!(p.name.as_deref(), Some("Max Mustermann"));
        assert_eq!(p.email.as_deref(), Some("max@example.de"));
        assert_eq!(p.staff.as_deref(), Some("Anna"));
        assert_eq!(p.notes.as_deref(), Some("erster Besuch\nbitte klingeln"));
    }

    #[test]
    fn notes_of_900_kb_are_refused_not_stored() {
        let out = run(json!({"notizen": "x".repeat(900_000), "name": "Max"}));
        assert_eq!(out.patch.notes, None);
        assert_eq!(out.patch.name.as_deref(), Some("Max"));
        assert_eq!(out.errors[0].kind, FieldErrorKind::TooLong { max: 1000 });
        assert_says(
            &out.errors[0],
            "Die Notiz ist zu lang, höchstens 1000 Zeichen.",
            "The note is too long, at most 1000 characters.",
        );
    }

    #[test]
    fn an_oversized_value_is_quoted_back_shortened() {
        let out = run(json!({"datum": "morgen ".repeat(10_000)}));
        assert_eq!(out.patch.date, None);
        assert_eq!(out.errors[0].kind, FieldErrorKind::TooLong { max: 100 });
        assert!(out.errors[0].input.chars().count() <= 41);
        assert!(out.errors[0].message(Locale::De).len() < 200);
    }

    #[test]
    fn a_value_of_hidden_characters_only_counts_as_not_given() {
        let out = run(json!({"name": "\u{0000}\u{202E}", "notizen": "\u{0000}"}));
        assert!(out.errors.is_empty());
        assert_eq!(out.patch.name, None);
        assert_eq!(out.patch.notes, None);
    }

    #[test]
    fn a_date_after_the_booking_window_is_refused() {
        for far in ["9999-12-31", "31.12.9999", "2031-07-02"] {
            let out = run(json!({"datum": far}));
            assert_eq!(out.patch.date, None, "{far}");
            let latest = NaiveDate::from_ymd_opt(2031, 7, 1).unwrap();
            assert_eq!(out.errors[0].kind, FieldErrorKind::TooFarAhead { latest });
        }
        assert_says(
            &run(json!({"datum": "9999-12-31"})).errors[0],
            "Das Datum „9999-12-31“ liegt zu weit in der Zukunft; Termine gibt es bis zum 01.07.2031.",
            "The date “9999-12-31” is too far ahead; appointments can be made until July 1, 2031.",
        );
        let last = run(json!({"datum": "2031-07-01"}));
        assert!(last.errors.is_empty(), "{:?}", last.errors);
    }

    #[test]
    fn a_date_after_the_tenants_booking_horizon_is_refused() {
        let services = services();
        let ninety_days = CollectContext {
            horizon_days: 90,
            ..ctx(&services)
        };
        let read = |datum: &str| {
            let args: AppointmentArgs = serde_json::from_value(json!({ "datum": datum })).unwrap();
            normalize(&args, &ninety_days)
        };
        let latest = NaiveDate::from_ymd_opt(2026, 9, 29).unwrap();
        assert_eq!(
            read("2026-09-30").errors[0].kind,
            FieldErrorKind::TooFarAhead { latest }
        );
        assert!(read("2026-09-29").errors.is_empty());
    }

    #[test]
    fn email_gets_a_light_syntactic_check() {
        for ok in ["a@b.de", "max.muster+tag@mail.example.com"] {
            assert_eq!(read_email(ok), Ok(ok.to_owned()), "{ok}");
        }
        for bad in [
            "max", "@b.de", "a@b", "a@@b.de", "a@b@c.de", "a@.de", "a@b.", "a b@c.de",
        ] {
            assert_eq!(read_email(bad), Err(FieldErrorKind::InvalidEmail), "{bad}");
        }
    }

    #[test]
    fn ambiguous_date_asks_which_day_and_stores_none() {
        // Today is Wednesday 1 July: "nächsten Freitag" is the 3rd or the 10th.
        let out = run(json!({"datum": "nächsten Freitag", "uhrzeit": "10 Uhr"}));
        assert_eq!((out.patch.date, out.patch.time), (None, Some(t(10, 0))));
        assert_eq!(
            out.errors[0].kind,
            FieldErrorKind::AmbiguousDate {
                candidates: vec![
                    NaiveDate::from_ymd_opt(2026, 7, 3).unwrap(),
                    NaiveDate::from_ymd_opt(2026, 7, 10).unwrap(),
                ]
            }
        );
        assert_says(
            &out.errors[0],
            "Meinen Sie Freitag, den 3. Juli, oder Freitag, den 10. Juli?",
            "Do you mean Friday, July 3, or Friday, July 10?",
        );
    }

    #[test]
    fn two_times_named_ask_which_and_store_none() {
        let out = run(json!({"datum": "morgen", "uhrzeit": "um acht oder neun"}));
        assert_eq!(out.patch.time, None);
        assert_eq!(out.errors[0].kind, FieldErrorKind::AmbiguousTime);
        assert_says(
            &out.errors[0],
            "Sie haben mehr als eine Zeit genannt („um acht oder neun“). Welche soll ich nehmen?",
            "You mentioned more than one time (“um acht oder neun”). Which one should I take?",
        );
    }

    #[test]
    fn weekday_mismatch_is_reported() {
        let out = run(json!({"datum": "Dienstag, 15.07."}));
        assert_eq!(out.patch.date, None);
        assert_says(
            &out.errors[0],
            "Der 15.07.2026 ist ein Mittwoch, kein Dienstag.",
            "July 15, 2026 is a Wednesday, not a Tuesday.",
        );
    }

    #[test]
    fn messages_are_short_spoken_sentences_in_both_locales() {
        let error = |field, kind, input: &str| FieldError {
            field,
            kind,
            input: input.into(),
        };
        let date = error("datum", FieldErrorKind::UnknownDate, "32.13.");
        assert_says(
            &date,
            "Das Datum „32.13.“ habe ich nicht verstanden.",
            "I didn't understand the date “32.13.”.",
        );
        let offered = vec![
            "Herrenhaarschnitt".into(),
            "Damenhaarschnitt".into(),
            "Färben".into(),
        ];
        let service = error(
            "dienstleistung",
            FieldErrorKind::UnknownService { offered },
            "Dauerwelle",
        );
        assert_eq!(
            service.message(Locale::De),
            "Diese Dienstleistung bieten wir nicht an. Wir bieten: Herrenhaarschnitt, Damenhaarschnitt, Färben."
        );
        let late = error("uhrzeit", FieldErrorKind::InPast, "9 Uhr");
        assert_says(
            &late,
            "Die Uhrzeit „9 Uhr“ ist heute schon vorbei.",
            "The time “9 Uhr” has already passed today.",
        );
    }

    #[test]
    fn schema_names_the_german_args_as_nullable_scalars() {
        let schema = serde_json::to_value(schemars::schema_for!(AppointmentArgs)).unwrap();
        let props = schema["properties"].as_object().unwrap();
        let mut names: Vec<&str> = props.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "bestaetigt",
                "datum",
                "dienstleistung",
                "email",
                "mitarbeiter_wunsch",
                "name",
                "notizen",
                "telefonnummer",
                "uhrzeit"
            ]
        );
        assert_eq!(
            props["uhrzeit"]["type"],
            json!(["string", "number", "boolean", "null"])
        );
        assert!(schema.get("required").is_none());
    }

    #[test]
    fn corrected_date_time_and_service_are_read_as_now_meant() {
        let n = run(json!({"datum": "nein, nicht Donnerstag, Freitag",
                           "uhrzeit": "doch lieber um vier",
                           "dienstleistung": "nicht Herrenhaarschnitt, sondern Färben"}));
        assert!(n.errors.is_empty(), "{:?}", n.errors);
        assert!(n.corrected);
        assert_eq!(n.patch.date, NaiveDate::from_ymd_opt(2026, 7, 3));
        assert_eq!(n.patch.time, Some(t(16, 0)));
        assert_eq!(n.patch.service.unwrap().name, "Färben");
    }

    #[test]
    fn plain_values_are_not_corrections() {
        let n = run(json!({"datum": "Freitag", "uhrzeit": "16 Uhr"}));
        assert!(!n.corrected);
    }

    #[test]
    fn only_a_rejected_date_is_asked_again() {
        let n = run(json!({"datum": "nicht Donnerstag"}));
        assert_eq!(n.patch.date, None);
        assert_eq!(n.errors[0].kind, FieldErrorKind::UnknownDate);
    }

    #[test]
    fn ambiguous_service_asks_which_naming_the_candidates() {
        let n = run(json!({"dienstleistung": "Haarschnitt"}));
        assert_eq!(
            n.errors[0].kind,
            FieldErrorKind::AmbiguousService {
                candidates: vec!["Herrenhaarschnitt".into(), "Damenhaarschnitt".into()]
            }
        );
        assert_says(
            &n.errors[0],
            "Meinen Sie Herrenhaarschnitt oder Damenhaarschnitt?",
            "Do you mean Herrenhaarschnitt or Damenhaarschnitt?",
        );
    }

    #[test]
    fn phone_number_said_in_words_is_read() {
        let n = run(
            json!({"telefonnummer": "null eins fünf eins, eins zwei drei vier, fünf sechs sieben acht"}),
        );
        assert!(n.errors.is_empty(), "{:?}", n.errors);
        assert_eq!(n.patch.phone.unwrap().as_str(), "+4915112345678");
    }
}
