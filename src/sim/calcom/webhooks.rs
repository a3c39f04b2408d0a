//! Webhooks the simulator sends (calcom.md §6): the subscriptions of each account
//! (`/v2/webhooks`) and the signed delivery of `BOOKING_CREATED`, `BOOKING_RESCHEDULED` and
//! `BOOKING_CANCELLED` when a booking of the account changes through the API.
//!
//! Delivery never holds up the API call that caused it: each POST is spawned, at most
//! [`MAX_IN_FLIGHT`] at a time (more are dropped and logged), bounded by
//! [`DELIVERY_TIMEOUT`], never follows a redirect (`redirect: manual`), and its failure is
//! only logged — as Cal.com does.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::Semaphore;

use super::output::iso_ms_utc;
use super::store::{Booking, BookingStatus};

/// Subscriptions one account may have; more are refused (400).
pub const MAX_WEBHOOKS_PER_ACCOUNT: usize = 50;

/// Deliveries under way at once across the simulator; a booking change beyond that sends
/// nothing to the subscribers it would have reached (logged).
pub const MAX_IN_FLIGHT: usize = 256;

/// Bounds one delivery, connect to last byte.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// `X-Cal-Webhook-Version` of the default payload.
const WEBHOOK_VERSION: &str = "2021-10-20";

/// `X-Cal-Signature-256` when the subscription has no secret.
const NO_SECRET: &str = "no-secret-provided";

/// Values of Cal.com's `WebhookTriggerEvents` (calcom.md §6); `triggers` may name only these.
pub(super) const TRIGGERS: &[&str] = &[
    "BOOKING_CREATED",
    "BOOKING_RESCHEDULED",
    "BOOKING_CANCELLED",
    "BOOKING_REQUESTED",
    "BOOKING_REJECTED",
    "BOOKING_PAYMENT_INITIATED",
    "BOOKING_PAID",
    "BOOKING_NO_SHOW_UPDATED",
    "MEETING_STARTED",
    "MEETING_ENDED",
    "RECORDING_READY",
    "RECORDING_TRANSCRIPTION_GENERATED",
    "INSTANT_MEETING",
    "FORM_SUBMITTED",
    "FORM_SUBMITTED_NO_EVENT",
    "OOO_CREATED",
    "AFTER_HOSTS_CAL_VIDEO_NO_SHOW",
    "AFTER_GUESTS_CAL_VIDEO_NO_SHOW",
    "DELEGATION_CREDENTIAL_ERROR",
    "WRONG_ASSIGNMENT_REPORT",
];

/// The booking changes the simulator announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Trigger {
    Created,
    Rescheduled,
    Cancelled,
}

impl Trigger {
    fn as_str(self) -> &'static str {
        match self {
            Self::Created => "BOOKING_CREATED",
            Self::Rescheduled => "BOOKING_RESCHEDULED",
            Self::Cancelled => "BOOKING_CANCELLED",
        }
    }
}

/// One subscription, as `POST /v2/webhooks` made it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Subscription {
    /// A v4 UUID, as Prisma's `Webhook.id`.
    pub(super) id: String,
    /// The account's user id (`userId`).
    pub(super) user_id: i64,
    pub(super) subscriber_url: String,
    pub(super) triggers: Vec<String>,
    pub(super) active: bool,
    pub(super) secret: Option<String>,
    pub(super) payload_template: Option<String>,
}

/// Why a subscription was not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct TooManyWebhooks;

/// The subscriptions of every account and the delivery machinery.
pub(super) struct Webhooks {
    by_user: Mutex<HashMap<i64, Vec<Subscription>>>,
    /// Permits for deliveries under way: the bound on spawned tasks.
    in_flight: Arc<Semaphore>,
    /// `None` when reqwest could not start its TLS backend: deliveries are then logged and
    /// skipped rather than failing the simulator.
    http: Option<reqwest::Client>,
}

impl Default for Webhooks {
    fn default() -> Self {
        let http = reqwest::Client::builder()
            .timeout(DELIVERY_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| tracing::error!(error = %e, "calcom sim cannot send webhooks"))
            .ok();
        Self {
            by_user: Mutex::default(),
            in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
            http,
        }
    }
}

impl Webhooks {
    fn lock(&self) -> MutexGuard<'_, HashMap<i64, Vec<Subscription>>> {
        // Every critical section is a single push, retain or clone.
        self.by_user.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds `subscription` (its `id` and `user_id` already set).
    pub(super) fn add(&self, subscription: Subscription) -> Result<(), TooManyWebhooks> {
        let mut by_user = self.lock();
        let own = by_user.entry(subscription.user_id).or_default();
        if own.len() >= MAX_WEBHOOKS_PER_ACCOUNT {
            return Err(TooManyWebhooks);
        }
        own.push(subscription);
        Ok(())
    }

    /// The subscriptions of `user_id`, oldest first.
    pub(super) fn of(&self, user_id: i64) -> Vec<Subscription> {
        self.lock().get(&user_id).cloned().unwrap_or_default()
    }

    /// Removes subscription `id` of `user_id`; the removed one, if it was there.
    pub(super) fn remove(&self, user_id: i64, id: &str) -> Option<Subscription> {
        let mut by_user = self.lock();
        let own = by_user.get_mut(&user_id)?;
        let at = own.iter().position(|s| s.id == id)?;
        Some(own.remove(at))
    }

    /// Sends `trigger` for `booking` to every active subscriber of its host that asked for
    /// it. `extra` is merged into the payload (the reschedule and cancel fields of §6).
    /// Returns at once; must run inside a Tokio runtime (an actix handler).
    pub(super) fn emit(
        &self,
        trigger: Trigger,
        booking: &Booking,
        extra: Map<String, Value>,
        now: DateTime<Utc>,
    ) {
        let targets: Vec<Subscription> = self
            .of(booking.host.id)
            .into_iter()
            .filter(|s| s.active && s.triggers.iter().any(|t| t == trigger.as_str()))
            .collect();
        if targets.is_empty() {
            return;
        }
        let Some(http) = &self.http else {
            return;
        };
        let mut payload = payload(booking);
        payload.extend(extra);
        let body = json!({
            "triggerEvent": trigger.as_str(),
            "createdAt": iso_ms_utc(now),
            "payload": payload,
        })
        .to_string();
        for target in targets {
            let Ok(permit) = Arc::clone(&self.in_flight).try_acquire_owned() else {
                tracing::warn!(
                    trigger = trigger.as_str(),
                    "calcom sim drops a webhook: {MAX_IN_FLIGHT} deliveries under way"
                );
                continue;
            };
            let request = http
                .post(&target.subscriber_url)
                .header("content-type", "application/json")
                .header(
                    "x-cal-signature-256",
                    signature(target.secret.as_deref(), body.as_bytes()),
                )
                .header("x-cal-webhook-version", WEBHOOK_VERSION)
                .body(body.clone());
            tokio::spawn(async move {
                let _permit = permit;
                match request.send().await {
                    Ok(response) if response.status().is_success() => {}
                    Ok(response) => tracing::warn!(
                        trigger = trigger.as_str(),
                        status = response.status().as_u16(),
                        "calcom sim webhook refused"
                    ),
                    Err(e) => tracing::warn!(
                        trigger = trigger.as_str(),
                        error = %e.without_url(),
                        "calcom sim webhook not delivered"
                    ),
                }
            });
        }
    }
}

/// `X-Cal-Signature-256`: lowercase hex HMAC-SHA256 of the raw body with the subscription's
/// secret, or `no-secret-provided` (calcom.md §6).
pub(super) fn signature(secret: Option<&str>, body: &[u8]) -> String {
    let Some(secret) = secret else {
        return NO_SECRET.to_owned();
    };
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Minutes east of UTC of `zone` at `at` (Cal.com's `utcOffset`); 0 for an unknown zone.
fn utc_offset(zone: &str, at: DateTime<Utc>) -> i32 {
    use chrono::Offset;
    zone.parse::<Tz>().map_or(0, |tz| {
        at.with_timezone(&tz).offset().fix().local_minus_utc() / 60
    })
}

/// The booking part of the default body: Cal.com's `CalendarEvent` plus the extras
/// `sendPayload.ts` adds (calcom.md §6). `status` is UPPERCASE, unlike API v2 replies.
fn payload(b: &Booking) -> Map<String, Value> {
    let a = &b.attendee;
    let host = &b.host;
    let mut responses = Map::new();
    responses.insert(
        "name".into(),
        json!({ "label": "your_name", "value": a.name }),
    );
    responses.insert(
        "email".into(),
        json!({ "label": "email_address", "value": a.email }),
    );
    if let Some(phone) = &a.phone {
        responses.insert(
            "attendeePhoneNumber".into(),
            json!({ "label": "phone_number", "value": phone }),
        );
    }
    if let Some(location) = &b.location {
        responses.insert(
            "location".into(),
            json!({ "label": "location", "value": { "value": "phone", "optionValue": location } }),
        );
    }
    let status = match b.status {
        BookingStatus::Accepted => "ACCEPTED",
        BookingStatus::Cancelled => "CANCELLED",
    };
    let title = format!(
        "{} between {} and {}",
        b.event_type.title, host.name, a.name
    );
    let mut out = Map::new();
    let fields = [
        ("type", json!(b.event_type.slug)),
        ("title", json!(title)),
        ("description", json!("")),
        ("additionalNotes", json!("")),
        ("customInputs", json!({})),
        ("startTime", json!(iso_ms_utc(b.start))),
        ("endTime", json!(iso_ms_utc(b.end))),
        (
            "organizer",
            json!({
                "id": host.id,
                "name": host.name,
                "email": host.email,
                "username": host.username,
                "timeZone": host.time_zone.name(),
                "language": { "locale": "en" },
                "timeFormat": "h:mma",
                "utcOffset": utc_offset(host.time_zone.name(), b.start),
            }),
        ),
        ("responses", Value::Object(responses)),
        ("userFieldsResponses", json!({})),
        (
            "attendees",
            json!([{
                "email": a.email,
                "name": a.name,
                "timeZone": a.time_zone,
                "language": { "locale": a.language },
                "utcOffset": utc_offset(&a.time_zone, b.start),
            }]),
        ),
        ("location", json!(b.location)),
        ("destinationCalendar", Value::Null),
        ("eventTypeId", json!(b.event_type.id)),
        ("uid", json!(b.uid)),
        ("bookingId", json!(b.id)),
        ("eventTitle", json!(b.event_type.title)),
        ("eventDescription", json!("")),
        ("price", json!(0)),
        ("currency", json!("usd")),
        ("length", json!((b.end - b.start).num_minutes())),
        ("metadata", Value::Object(b.metadata.clone())),
        ("status", json!(status)),
        ("smsReminderNumber", json!(a.phone)),
    ];
    for (key, value) in fields {
        out.insert(key.into(), value);
    }
    out
}

/// The fields `BOOKING_RESCHEDULED` adds: the booking it replaced (`rescheduleUid` is the
/// old uid; the payload's `uid` is the new booking's).
pub(super) fn rescheduled_fields(old: &Booking, by: Option<&str>) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("rescheduleId".into(), json!(old.id));
    out.insert("rescheduleUid".into(), json!(old.uid));
    out.insert("rescheduleStartTime".into(), json!(iso_ms_utc(old.start)));
    out.insert("rescheduleEndTime".into(), json!(iso_ms_utc(old.end)));
    out.insert("rescheduledBy".into(), json!(by));
    out
}

/// The fields `BOOKING_CANCELLED` adds.
pub(super) fn cancelled_fields(b: &Booking) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert(
        "cancellationReason".into(),
        json!(b.cancellation_reason.clone().unwrap_or_default()),
    );
    out.insert("cancelledBy".into(), json!(b.cancelled_by));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_lowercase_hex_hmac_or_the_no_secret_marker() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature(Some("Jefe"), b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(signature(None, b"{}"), "no-secret-provided");
    }
}
