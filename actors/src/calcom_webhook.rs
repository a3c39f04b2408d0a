//! Cal.com's webhooks in (reference/calcom.md §6): the `X-Cal-Signature-256` check, the
//! dedupe key, and the booking payload read into a [`CalcomEventRecord`]. Pure functions; the
//! HTTP handler finds the tenant, stores the record and forgets the cached availability.

use crate::domain::ids::{BookingUid, CompanyId, EventTypeId};
use crate::domain::phone::PhoneNumber;
use crate::domain::tenant::Service;
use crate::records::{CalcomEventRecord, CalcomTrigger, NewAppointment};
use chrono::{DateTime, NaiveDate, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Header Cal.com signs its webhooks with: lower-case hex HMAC-SHA256 of the raw body with
/// the webhook's secret (`no-secret-provided` when the subscription has none).
pub const SIGNATURE_HEADER: &str = "x-cal-signature-256";

/// Longest cancellation reason kept, in characters (`appointments.cancellation_reason`).
const REASON_MAX_CHARS: usize = 500;

/// Domain of the synthetic attendee emails Cal.com makes for attendees who gave only a phone
/// number: `<digits>@sms.cal.com`.
const SMS_EMAIL_DOMAIN: &str = "@sms.cal.com";

/// Why a webhook's signature was refused. Every variant maps to HTTP 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The tenant has no webhook secret: nothing it receives can be verified.
    #[error("this tenant has no Cal.com webhook secret")]
    NoSecret,
    /// No `X-Cal-Signature-256` header.
    #[error("missing X-Cal-Signature-256 header")]
    Missing,
    /// The header is not 64 hex digits (e.g. `no-secret-provided`).
    #[error("malformed X-Cal-Signature-256 header (expected 64 hex digits)")]
    Malformed,
    /// The HMAC does not match: another secret signed it, or the body was changed.
    #[error("signature does not match the body and the tenant's webhook secret")]
    Mismatch,
}

fn mac(body: &[u8], secret: &str) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(body);
    mac
}

/// Signs `body` as Cal.com does: the `X-Cal-Signature-256` value, lower-case hex.
pub fn sign(body: &[u8], secret: &str) -> String {
    hex::encode(mac(body, secret).finalize().into_bytes())
}

/// Verifies an `X-Cal-Signature-256` value against the raw body, in constant time. Hex digits
/// are accepted in either case.
///
/// # Errors
/// [`SignatureError`]: no secret (an empty secret verifies nothing), no header, not 64 hex
/// digits, or no match.
pub fn verify(header: Option<&str>, body: &[u8], secret: &str) -> Result<(), SignatureError> {
    if secret.is_empty() {
        return Err(SignatureError::NoSecret);
    }
    let header = header.ok_or(SignatureError::Missing)?.trim();
    if header.len() != 64 {
        return Err(SignatureError::Malformed);
    }
    let expected = hex::decode(header).map_err(|_| SignatureError::Malformed)?;
    mac(body, secret)
        .verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// The dedupe key of a delivery: lower-case hex SHA-256 of the raw body (Cal.com retries by
/// sending the same body again).
pub fn dedupe_key(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// Why a verified body cannot be applied. Answered 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// Not JSON, or not `{"triggerEvent": "…", "payload": {…}}`.
    #[error("body is not a Cal.com webhook {{triggerEvent, payload}}: {0}")]
    NotWebhook(String),
    /// The booking payload lacks a field or has one of the wrong type.
    #[error("payload: {0}")]
    Booking(String),
}

/// The webhook body (reference/calcom.md §6 "Default body").
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    trigger_event: String,
    #[serde(default)]
    payload: Value,
}

/// The fields of a booking payload we read (reference/calcom.md §6); everything else is
/// ignored.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookingPayload {
    /// The booking (for a reschedule: the new one).
    pub uid: BookingUid,
    /// Cal.com's numeric booking id.
    pub booking_id: Option<i64>,
    /// Event type booked.
    pub event_type_id: Option<i64>,
    /// Booking title; the service name when the event type is not one of our services.
    pub title: Option<String>,
    /// Start, ISO 8601 with offset (stored UTC).
    pub start_time: Option<DateTime<Utc>>,
    /// End, ISO 8601 with offset.
    pub end_time: Option<DateTime<Utc>>,
    /// Attendees; the first is the one who booked.
    #[serde(default)]
    pub attendees: Vec<PayloadAttendee>,
    /// Booking form answers, `{name: {label, value}, attendeePhoneNumber: {label, value}, …}`.
    #[serde(default)]
    pub responses: Value,
    /// Number for SMS reminders, when the event type asks for one.
    pub sms_reminder_number: Option<String>,
    /// For a reschedule: the booking that was moved.
    pub reschedule_uid: Option<BookingUid>,
    /// For a reschedule: the moved booking's start.
    pub reschedule_start_time: Option<DateTime<Utc>>,
    /// For a cancellation: why.
    pub cancellation_reason: Option<String>,
}

/// One attendee of a [`BookingPayload`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PayloadAttendee {
    /// Name as entered.
    #[serde(default)]
    pub name: String,
    /// Email; `<digits>@sms.cal.com` for attendees who gave only a phone number.
    pub email: Option<String>,
}

/// A verified body read.
#[derive(Debug, Clone, PartialEq)]
pub enum Webhook {
    /// A trigger we act on, with its booking payload.
    Booking(CalcomTrigger, Box<BookingPayload>),
    /// Any other trigger (its name as sent): answered 200 and not recorded.
    Ignored(String),
}

/// Reads a verified body.
///
/// # Errors
/// [`PayloadError`] when the body is not a webhook, or a trigger we act on comes without a
/// booking payload (its `uid` at least).
pub fn read(body: &[u8]) -> Result<Webhook, PayloadError> {
    let envelope: Envelope =
        serde_json::from_slice(body).map_err(|e| PayloadError::NotWebhook(e.to_string()))?;
    let Some(trigger) = CalcomTrigger::parse(&envelope.trigger_event) else {
        return Ok(Webhook::Ignored(envelope.trigger_event));
    };
    let payload = BookingPayload::deserialize(&envelope.payload)
        .map_err(|e| PayloadError::Booking(e.to_string()))?;
    Ok(Webhook::Booking(trigger, Box::new(payload)))
}

impl BookingPayload {
    /// The attendee's phone, E.164: `responses.attendeePhoneNumber.value`, else
    /// `smsReminderNumber`, else the digits of a synthetic `<digits>@sms.cal.com` email. A
    /// value that is not a valid international number is skipped.
    pub fn attendee_phone(&self) -> Option<String> {
        let from_email = self
            .attendees
            .first()
            .and_then(|a| a.email.as_deref())
            .and_then(|email| email.strip_suffix(SMS_EMAIL_DOMAIN))
            .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .map(|digits| format!("+{digits}"));
        [
            self.responses["attendeePhoneNumber"]["value"]
                .as_str()
                .map(str::to_owned),
            self.sms_reminder_number.clone(),
            from_email,
        ]
        .into_iter()
        .flatten()
        .find_map(|candidate| e164(&candidate))
    }

    /// The days whose cached availability this event changes, local dates in `tz`: the
    /// booking's start (and end) day and, for a move, the old start day.
    pub fn days(&self, tz: chrono_tz::Tz) -> Vec<NaiveDate> {
        let mut days: Vec<NaiveDate> = [self.start_time, self.end_time, self.reschedule_start_time]
            .into_iter()
            .flatten()
            .map(|at| at.with_timezone(&tz).date_naive())
            .collect();
        days.sort_unstable();
        days.dedup();
        days
    }

    fn required<T>(value: Option<T>, field: &str) -> Result<T, PayloadError> {
        value.ok_or_else(|| PayloadError::Booking(format!("missing field `{field}`")))
    }

    /// The booking as an appointment of `company` (source `calcom`, key `calcom:<uid>`), its
    /// service found among `services` by event type; the booking title names it otherwise.
    fn appointment(
        &self,
        company: CompanyId,
        services: &[Service],
    ) -> Result<NewAppointment, PayloadError> {
        let event_type_id = EventTypeId(Self::required(self.event_type_id, "eventTypeId")?);
        let service = services.iter().find(|s| s.event_type_id == event_type_id);
        let attendee = self.attendees.first();
        Ok(NewAppointment {
            company_id: company,
            branch_id: None,
            call_id: None,
            booking_uid: self.uid.clone(),
            calcom_booking_id: Self::required(self.booking_id, "bookingId")?,
            event_type_id,
            service_id: service.map(|s| s.id),
            service_name: service
                .map(|s| s.name.clone())
                .or_else(|| self.title.clone())
                .unwrap_or_else(|| format!("Cal.com event type {event_type_id}")),
            start: Self::required(self.start_time, "startTime")?,
            end: Self::required(self.end_time, "endTime")?,
            attendee_name: attendee.map(|a| a.name.clone()).unwrap_or_default(),
            attendee_phone: self.attendee_phone(),
            attendee_email: attendee
                .and_then(|a| a.email.clone())
                .filter(|email| !email.ends_with(SMS_EMAIL_DOMAIN)),
            idempotency_key: format!("calcom:{}", self.uid),
            source: "calcom".to_owned(),
        })
    }
}

/// `candidate` as E.164 when it is written internationally (`+…`) and valid.
fn e164(candidate: &str) -> Option<String> {
    let candidate = candidate.trim();
    if !candidate.starts_with('+') {
        return None;
    }
    PhoneNumber::parse_default(candidate)
        .ok()
        .map(|number| number.as_str().to_owned())
}

/// The record of a verified `trigger` with `payload` for `company`, ready to be stored;
/// `services` are the company's, to name the booked service.
///
/// # Errors
/// [`PayloadError::Booking`] when a created or rescheduled booking lacks `eventTypeId`,
/// `bookingId`, `startTime` or `endTime`.
pub fn record(
    company: CompanyId,
    services: &[Service],
    trigger: CalcomTrigger,
    payload: &BookingPayload,
    dedupe_key: String,
    received_at: DateTime<Utc>,
) -> Result<CalcomEventRecord, PayloadError> {
    let (appointment, from_uid, cancellation_reason) = match trigger {
        CalcomTrigger::BookingCreated => {
            (Some(payload.appointment(company, services)?), None, None)
        }
        CalcomTrigger::BookingRescheduled => (
            Some(payload.appointment(company, services)?),
            payload.reschedule_uid.clone(),
            None,
        ),
        CalcomTrigger::BookingCancelled => (
            None,
            None,
            payload
                .cancellation_reason
                .as_deref()
                .map(|reason| reason.chars().take(REASON_MAX_CHARS).collect()),
        ),
    };
    Ok(CalcomEventRecord {
        company_id: company,
        trigger,
        dedupe_key,
        booking_uid: payload.uid.clone(),
        from_uid,
        appointment,
        cancellation_reason,
        received_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    const SECRET: &str = "whsec_test_0123";

    fn payload(extra: Value) -> BookingPayload {
        let mut body = json!({
            "uid": "uid_new",
            "bookingId": 42,
            "eventTypeId": 1001,
            "title": "Herrenhaarschnitt between Salon and Max",
            "startTime": "2026-03-10T13:30:00Z",
            "endTime": "2026-03-10T14:00:00Z",
            "attendees": [{"name": "Max", "email": "max@example.org"}],
        });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        BookingPayload::deserialize(&body).unwrap()
    }

    #[test]
    fn signature_is_lowercase_hex_hmac_of_the_raw_body() {
        let body = br#"{"triggerEvent":"BOOKING_CREATED"}"#;
        let signature = sign(body, SECRET);
        assert_eq!(signature.len(), 64);
        assert_eq!(signature, signature.to_lowercase());
        assert_eq!(verify(Some(&signature), body, SECRET), Ok(()));
        assert_eq!(
            verify(Some(&signature.to_uppercase()), body, SECRET),
            Ok(())
        );
    }

    #[test]
    fn changed_body_wrong_secret_and_bad_headers_are_refused() {
        let body = br#"{"triggerEvent":"BOOKING_CREATED"}"#;
        let signature = sign(body, SECRET);
        assert_eq!(
            verify(Some(&signature), b"{}", SECRET),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(Some(&signature), body, "whsec_other"),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(verify(None, body, SECRET), Err(SignatureError::Missing));
        assert_eq!(
            verify(Some("no-secret-provided"), body, SECRET),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(Some(&"z".repeat(64)), body, SECRET),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn an_empty_secret_verifies_nothing() {
        let body = b"{}";
        assert_eq!(
            verify(Some(&sign(body, "")), body, ""),
            Err(SignatureError::NoSecret)
        );
    }

    #[test]
    fn other_triggers_are_ignored_and_non_webhooks_refused() {
        let ignored = read(br#"{"triggerEvent":"MEETING_ENDED","payload":{}}"#).unwrap();
        assert_eq!(ignored, Webhook::Ignored("MEETING_ENDED".into()));
        assert!(matches!(
            read(b"not json"),
            Err(PayloadError::NotWebhook(_))
        ));
        assert!(matches!(
            read(br#"{"payload":{}}"#),
            Err(PayloadError::NotWebhook(_))
        ));
        assert!(matches!(
            read(br#"{"triggerEvent":"BOOKING_CANCELLED","payload":{"uid":""}}"#),
            Err(PayloadError::Booking(_))
        ));
    }

    #[test]
    fn attendee_phone_prefers_the_form_then_the_reminder_then_the_sms_email() {
        let form = payload(json!({
            "responses": {"attendeePhoneNumber": {"label": "Phone", "value": "+49 151 12345678"}},
            "smsReminderNumber": "+4915199999999",
        }));
        assert_eq!(form.attendee_phone().as_deref(), Some("+4915112345678"));
        let reminder = payload(json!({"smsReminderNumber": "+4915199999999"}));
        assert_eq!(reminder.attendee_phone().as_deref(), Some("+4915199999999"));
        let email = payload(json!({
            "attendees": [{"name": "Max", "email": "4915112345678@sms.cal.com"}],
        }));
        assert_eq!(email.attendee_phone().as_deref(), Some("+4915112345678"));
        let national = payload(json!({"smsReminderNumber": "0151 12345678"}));
        assert_eq!(national.attendee_phone(), None);
    }

    #[test]
    fn moved_booking_changes_its_old_and_new_local_days() {
        let moved = payload(json!({
            "startTime": "2026-03-10T23:30:00Z",
            "endTime": "2026-03-11T00:00:00Z",
            "rescheduleStartTime": "2026-03-09T09:00:00Z",
        }));
        let day = |d| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
        assert_eq!(
            moved.days(chrono_tz::Europe::Berlin),
            [day(9), day(11)],
            "23:30 UTC is already the 11th in Berlin"
        );
    }

    #[test]
    fn created_booking_maps_service_by_event_type_and_keys_by_uid() {
        let services = [Service {
            id: 3,
            company_id: CompanyId(7),
            name: "Herrenhaarschnitt".into(),
            aliases: vec![],
            duration_min: 30,
            event_type_id: EventTypeId(1001),
            team_id: None,
            branch_ids: vec![],
        }];
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap();
        let record = record(
            CompanyId(7),
            &services,
            CalcomTrigger::BookingCreated,
            &payload(json!({})),
            "k".repeat(64),
            at,
        )
        .unwrap();
        let appointment = record.appointment.unwrap();
        assert_eq!(appointment.company_id, CompanyId(7));
        assert_eq!(appointment.service_id, Some(3));
        assert_eq!(appointment.service_name, "Herrenhaarschnitt");
        assert_eq!(appointment.idempotency_key, "calcom:uid_new");
        assert_eq!(appointment.source, "calcom");
        assert_eq!(appointment.calcom_booking_id, 42);
        assert_eq!(
            appointment.start,
            Utc.with_ymd_and_hms(2026, 3, 10, 13, 30, 0).unwrap()
        );
        assert_eq!(
            appointment.attendee_email.as_deref(),
            Some("max@example.org")
        );
        assert_eq!((record.from_uid, record.received_at), (None, at));
    }

    #[test]
    fn created_booking_without_its_times_is_refused() {
        let mut incomplete = payload(json!({}));
        incomplete.start_time = None;
        let refused = record(
            CompanyId(7),
            &[],
            CalcomTrigger::BookingCreated,
            &incomplete,
            String::new(),
            Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap(),
        )
        .unwrap_err();
        assert_eq!(
            refused,
            PayloadError::Booking("missing field `startTime`".into())
        );
    }

    #[test]
    fn cancellation_reason_is_cut_to_500_characters() {
        let long = payload(json!({"cancellationReason": "x".repeat(501)}));
        let record = record(
            CompanyId(7),
            &[],
            CalcomTrigger::BookingCancelled,
            &long,
            String::new(),
            Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap(),
        )
        .unwrap();
        assert_eq!(record.cancellation_reason.unwrap().len(), 500);
        assert_eq!(record.appointment, None);
    }
}
