//! `calcom.createBooking`: books a slot through the company's booking session and records the
//! appointment; an idempotency key makes a repeat return the first booking.

use super::{CalcomDeps, date_out_of_range, date_window};
use crate::domain::booking::{Attendee, Booking, BookingRequest, IDEMPOTENCY_METADATA_KEY};
use crate::domain::ids::{CompanyId, EventTypeId};
use crate::domain::phone::PhoneNumber;
use crate::domain::text::{self, TextError};
use crate::jsonrpc::{AppError, ErrorCode, RpcError};
use crate::metric_names as m;
use crate::records::{NewAppointment, TokenGrant};
use crate::registry::{Kind, Method, Reply, Scope};
use crate::server::require_company;
use crate::servers::{store_error, upstream_error};
use crate::tenant::{Book, BookOutcome};
use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// `calcom.createBooking`.
pub struct CreateBooking;

/// Params of `calcom.createBooking`. Give `start` (UTC or with offset) or `date` + `time`
/// (local to the company); `service` or `event_type_id`; a phone or an email.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBookingParams {
    /// Defaults to the token's company; required with an admin token.
    pub company_id: Option<CompanyId>,
    /// Service name or alias, matched like a caller's words; wins over `event_type_id`.
    #[schemars(length(max = 100))]
    pub service: Option<String>,
    /// Cal.com event type id, used when no `service` is given.
    pub event_type_id: Option<EventTypeId>,
    /// Start, RFC 3339 with offset, e.g. `2030-01-08T15:00:00+01:00`; give this or `date` + `time`.
    /// Must lie in the future, at most five years ahead.
    pub start: Option<DateTime<chrono::FixedOffset>>,
    /// Day, `YYYY-MM-DD`, local to the company; with `time`, instead of `start`.
    pub date: Option<NaiveDate>,
    /// `HH:MM`, local.
    pub time: Option<NaiveTime>,
    /// Attendee's name, at most 100 characters; must not be blank. Control and bidi
    /// characters are removed and spaces collapsed, as for a caller's name.
    pub name: String,
    /// Any common form; stored as E.164 (default region DE).
    pub phone: Option<String>,
    /// Attendee's email (one `@`, a dotted domain, at most 254 bytes; checked like a caller's);
    /// give this or `phone`.
    pub email: Option<String>,
    /// Makes the call safe to repeat: the same key (1–128 characters, per company, no control
    /// or bidi characters) books at most once.
    #[schemars(length(min = 1, max = 128))]
    pub idempotency_key: Option<String>,
}

/// The attendee as given, read by the rules a caller's details are read by
/// ([`text::NAME`], [`text::email`], [`text::PHRASE`] then [`PhoneNumber`]).
struct Contact {
    name: String,
    phone: Option<PhoneNumber>,
    email: Option<String>,
}

impl Contact {
    /// # Errors
    /// -32602 for a name or email over its limit, an email that is not one, or an idempotency
    /// key with hidden characters; 4003 for a phone number that is not one; 4001 for a blank
    /// name, or neither phone nor email.
    fn read(p: &CreateBookingParams) -> Result<Self, RpcError> {
        let refused =
            |field: &str, e: TextError| RpcError::invalid_params(format!("{field} is {e}"));
        // A key is an identifier: removing characters could make two keys one.
        if p.idempotency_key
            .as_deref()
            .is_some_and(|k| k.chars().any(text::is_hidden))
        {
            return Err(RpcError::invalid_params(
                "idempotency_key must not contain control or bidi characters",
            ));
        }
        let name = text::NAME.clean(&p.name).map_err(|e| refused("name", e))?;
        if name.is_empty() {
            return Err(AppError::new(ErrorCode::MissingRequiredField, "name is empty").into());
        }
        let email = p
            .email
            .as_deref()
            .map(text::email)
            .transpose()
            .map_err(|e| refused("email", e))?;
        let phone = p
            .phone
            .as_deref()
            .map(|said| {
                let said = text::PHRASE.clean(said).map_err(|e| refused("phone", e))?;
                PhoneNumber::parse_default(&said).map_err(|e| {
                    RpcError::from(AppError::new(ErrorCode::InvalidPhoneNumber, e.to_string()))
                })
            })
            .transpose()?;
        if phone.is_none() && email.is_none() {
            return Err(
                AppError::new(ErrorCode::MissingRequiredField, "give phone or email").into(),
            );
        }
        Ok(Self { name, phone, email })
    }
}

/// `result.data` of `calcom.createBooking`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CreatedBooking {
    /// The Cal.com booking (reference/calcom.md §4.1).
    pub booking: Booking,
    /// Our appointment record of it.
    pub appointment_id: i64,
    /// `true` when an earlier call with the same idempotency key had made it.
    pub reused: bool,
}

impl Method for CreateBooking {
    const NAME: &'static str = "calcom.createBooking";
    const SUMMARY: &'static str = "Books an appointment in Cal.com for a service (name or \
        alias, or event type id) at `start` (RFC 3339 with offset) or at `date` (YYYY-MM-DD) + \
        `time` (HH:MM) in the company's local time zone, for an attendee `name` with a `phone` \
        (any common form, stored as E.164) or an `email`. The start must lie in the future. \
        With `idempotency_key`, repeating the call returns the first booking (`reused: true`) \
        instead of booking twice. A taken slot is error 2003.";
    const SCOPE: Scope = Scope::Write;
    const KIND: Kind = Kind::Write;
    type Deps = CalcomDeps;
    type Params = CreateBookingParams;
    type Output = CreatedBooking;

    async fn apply(
        p: CreateBookingParams,
        grant: TokenGrant,
        deps: Arc<CalcomDeps>,
    ) -> Result<Reply<CreatedBooking>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        let contact = Contact::read(&p)?;
        let (event_type_id, service) = deps
            .event_type_of(company, p.service.as_deref(), p.event_type_id)
            .await?;
        let tenant = deps.tenant(company).await?;
        let tz = tenant.profile.time_zone;
        let window = date_window(&deps, tz);
        let start: DateTime<Utc> = match (p.start, p.date, p.time) {
            // The UTC date is within a day of the local one; the window has a day's slack
            // before today and is far from chrono's limits after its end.
            (Some(start), None, None) => {
                window
                    .check(start.with_timezone(&Utc).date_naive())
                    .map_err(date_out_of_range)?;
                start.with_timezone(&Utc)
            }
            (None, Some(date), Some(time)) => tz
                .from_local_datetime(
                    &window
                        .check(date)
                        .map_err(date_out_of_range)?
                        .and_time(time),
                )
                .earliest()
                .ok_or_else(|| {
                    AppError::new(
                        ErrorCode::InvalidDateFormat,
                        format!("{date} {time} does not exist in {}", tz.name()),
                    )
                })?
                .with_timezone(&Utc),
            _ => {
                return Err(RpcError::invalid_params(
                    "give either start, or date and time",
                ));
            }
        };
        if start <= deps.clock.now() {
            return Err(
                AppError::new(ErrorCode::InvalidDateFormat, "start lies in the past").into(),
            );
        }
        let Contact { name, phone, email } = contact;
        let given_key = p.idempotency_key.clone();
        // Keys are unique across companies (appointments, Cal.com metadata) and the call
        // bookings use `retell:{company}:{call_id}:book`: the company and the gateway prefix keep one
        // tenant's key from ever naming another tenant's (or a call's) booking.
        let key = format!(
            "gateway:{company}:{}",
            given_key
                .clone()
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
        );
        let attendee = Attendee {
            name: name.clone(),
            time_zone: tz.name().to_owned(),
            email: email.clone(),
            phone_number: phone.as_ref().map(|p| p.to_string()),
            language: Some(tenant.profile.locale.as_str().to_owned()),
        };
        let duration_min = service.as_ref().map_or(60, |s| s.duration_min);
        let request = BookingRequest {
            event_type_id,
            start,
            attendee,
            metadata: BTreeMap::from([
                (IDEMPOTENCY_METADATA_KEY.to_owned(), key.clone()),
                ("source".to_owned(), "switchboard-gateway".to_owned()),
            ]),
            length_in_minutes: None,
            reserved_slot_uid: None,
        };
        let outcome = tenant
            .session
            .send(Book {
                request,
                idempotency_key: key.clone(),
                duration_min,
                look_up_first: given_key.is_some(),
            })
            .await
            .map_err(|e| RpcError::internal(e.to_string()))?
            .map_err(|e| upstream_error(&e, ErrorCode::BookingCreationFailed))?;
        let booking = outcome.booking().clone();
        let appointment_id = deps
            .appointments
            .insert_appointment(&NewAppointment {
                company_id: company,
                branch_id: None,
                call_id: None,
                booking_uid: booking.uid.clone(),
                calcom_booking_id: booking.id,
                event_type_id,
                service_id: service.as_ref().map(|s| s.id),
                service_name: service
                    .as_ref()
                    .map_or_else(|| booking.title.clone(), |s| s.name.clone()),
                start: booking.start,
                end: booking.end,
                attendee_name: name,
                attendee_phone: phone.map(|p| p.to_string()),
                attendee_email: email,
                idempotency_key: key,
                source: "gateway".to_owned(),
            })
            .await
            .map_err(|e| store_error(&e))?;
        // The slot is taken now: the day's cached free slots lose it and stay warm.
        deps.flights
            .booked(
                &tenant.calendar,
                company,
                event_type_id,
                tz,
                booking.start,
                booking.end,
            )
            .await;
        let reused = matches!(outcome, BookOutcome::Found(_));
        if !reused {
            metrics::counter!(m::APPOINTMENTS_CREATED_TOTAL, "source" => "gateway").increment(1);
        }
        Reply::fresh(CreatedBooking {
            booking,
            appointment_id,
            reused,
        })
    }
}
