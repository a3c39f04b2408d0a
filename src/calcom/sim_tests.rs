//! [`CalcomClient`] against the Cal.com simulator: the reservation, reschedule, cancel and
//! webhook calls end to end, with the classification of each refusal.

use super::CalcomClient;
use crate::sim::calcom::CalcomSim;
use crate::sim::calcom::catalog::SANDBOX_CALCOM_API_KEY;
use chrono::{DateTime, TimeZone, Utc};
use secrecy::SecretString;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use switchboard_actors::domain::booking::{
    Attendee, BookingRequest, CancelRequest, RescheduleRequest, ReservationRequest, UpstreamError,
    WebhookSubscription,
};
use switchboard_actors::domain::ids::EventTypeId;
use switchboard_actors::ports::{CalendarApi, Clock};

/// "Now" of the simulator: Thursday 2050-09-01 08:00 UTC.
struct Fixed;

impl Clock for Fixed {
    fn now(&self) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2050, 9, 1, 8, 0, 0).unwrap()
    }
}

/// A demo simulator on an ephemeral port and a client of it.
fn client() -> CalcomClient {
    let sim = CalcomSim::demo().with_clock(Arc::new(Fixed));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    actix_rt::spawn(sim.serve(listener).unwrap());
    CalcomClient::new(&format!("http://{addr}"), Duration::from_secs(5)).unwrap()
}

fn key() -> SecretString {
    SecretString::from(SANDBOX_CALCOM_API_KEY)
}

/// Monday 2050-09-05 at `hour`:00 UTC, a free 30-minute slot of event type 1001.
fn at(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2050, 9, 5, hour, 0, 0).unwrap()
}

fn hold(start: DateTime<Utc>) -> ReservationRequest {
    ReservationRequest {
        event_type_id: EventTypeId(1001),
        slot_start: start,
        slot_duration_min: 30,
        reservation_duration_min: 10,
    }
}

fn booking(start: DateTime<Utc>, reserved: Option<String>) -> BookingRequest {
    BookingRequest {
        event_type_id: EventTypeId(1001),
        start,
        attendee: Attendee {
            name: "Alice".into(),
            time_zone: "Europe/Berlin".into(),
            email: None,
            phone_number: Some("+4915112345678".into()),
            language: Some("de".into()),
        },
        metadata: BTreeMap::new(),
        length_in_minutes: None,
        reserved_slot_uid: reserved,
    }
}

fn move_to(start: DateTime<Utc>) -> RescheduleRequest {
    RescheduleRequest {
        start,
        reason: Some("Caller asked by phone".into()),
        reserved_slot_uid: None,
    }
}

#[actix_web::test]
async fn reserve_then_book_with_the_reservation_succeeds() {
    let client = client();
    let held = client.reserve_slot(&key(), &hold(at(7))).await.unwrap();
    assert_eq!(held.slot_start, at(7));
    assert_eq!(held.slot_end, at(7) + chrono::Duration::minutes(30));
    assert_eq!(held.until, Fixed.now() + chrono::Duration::minutes(10));
    let booked = client
        .create_booking(&key(), &booking(at(7), Some(held.uid.clone())))
        .await
        .unwrap();
    assert_eq!(booked.start, at(7));
    let e = client.release_reservation(&key(), &held.uid).await;
    assert!(matches!(e, Err(UpstreamError::NotFound { .. })), "{e:?}");
}

#[actix_web::test]
async fn second_reservation_of_a_held_slot_is_slot_taken() {
    let client = client();
    client.reserve_slot(&key(), &hold(at(7))).await.unwrap();
    let e = client.reserve_slot(&key(), &hold(at(7))).await.unwrap_err();
    assert!(matches!(e, UpstreamError::SlotTaken { .. }), "{e:?}");
}

#[actix_web::test]
async fn booking_a_slot_held_by_another_is_slot_reserved_until_the_hold_lapses() {
    let client = client();
    client.reserve_slot(&key(), &hold(at(7))).await.unwrap();
    let e = client
        .create_booking(&key(), &booking(at(7), None))
        .await
        .unwrap_err();
    assert!(e.is_slot_unavailable(), "{e:?}");
    // The simulator's clock stands still: the 10-minute hold lapses in 600 s.
    assert_eq!(
        e.reserved_for(),
        Some(Some(Duration::from_secs(600))),
        "{e:?}"
    );
}

#[actix_web::test]
async fn renewed_reservation_runs_on_and_a_released_one_is_not_found() {
    let client = client();
    let held = client.reserve_slot(&key(), &hold(at(7))).await.unwrap();
    let renewed = client
        .renew_reservation(&key(), &held.uid, &hold(at(7)))
        .await
        .unwrap();
    assert_eq!(renewed.uid, held.uid);
    client.release_reservation(&key(), &held.uid).await.unwrap();
    let e = client
        .renew_reservation(&key(), &held.uid, &hold(at(7)))
        .await
        .unwrap_err();
    assert!(matches!(e, UpstreamError::NotFound { .. }), "{e:?}");
    client
        .create_booking(&key(), &booking(at(7), None))
        .await
        .unwrap();
}

#[actix_web::test]
async fn reschedule_returns_the_new_booking_and_cancels_the_old() {
    let client = client();
    let old = client
        .create_booking(&key(), &booking(at(7), None))
        .await
        .unwrap();
    let new = client
        .reschedule_booking(&key(), &old.uid, &move_to(at(9)))
        .await
        .unwrap();
    assert_ne!(new.uid, old.uid);
    assert_eq!((new.start, new.status.as_str()), (at(9), "accepted"));
    let old = client.get_booking(&key(), &old.uid).await.unwrap();
    assert_eq!(old.status, "cancelled");
}

#[actix_web::test]
async fn reschedule_of_a_cancelled_booking_is_rejected() {
    let client = client();
    let booked = client
        .create_booking(&key(), &booking(at(7), None))
        .await
        .unwrap();
    client
        .cancel_booking(&key(), &booked.uid, &CancelRequest::default())
        .await
        .unwrap();
    let e = client
        .reschedule_booking(&key(), &booked.uid, &move_to(at(9)))
        .await
        .unwrap_err();
    assert!(matches!(e, UpstreamError::Rejected { .. }), "{e:?}");
}

#[actix_web::test]
async fn reschedule_into_a_taken_slot_is_slot_taken() {
    let client = client();
    let first = client
        .create_booking(&key(), &booking(at(7), None))
        .await
        .unwrap();
    client
        .create_booking(&key(), &booking(at(9), None))
        .await
        .unwrap();
    let e = client
        .reschedule_booking(&key(), &first.uid, &move_to(at(9)))
        .await
        .unwrap_err();
    assert!(matches!(e, UpstreamError::SlotTaken { .. }), "{e:?}");
}

#[actix_web::test]
async fn cancel_twice_is_rejected() {
    let client = client();
    let booked = client
        .create_booking(&key(), &booking(at(7), None))
        .await
        .unwrap();
    let cancelled = client
        .cancel_booking(
            &key(),
            &booked.uid,
            &CancelRequest {
                reason: Some("Caller cancelled".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(cancelled.status, "cancelled");
    let e = client
        .cancel_booking(&key(), &booked.uid, &CancelRequest::default())
        .await
        .unwrap_err();
    assert!(matches!(e, UpstreamError::Rejected { .. }), "{e:?}");
}

#[actix_web::test]
async fn created_webhook_is_listed() {
    let client = client();
    let subscription = WebhookSubscription {
        subscriber_url: "http://127.0.0.1:9/api/calcom/webhook/demo".into(),
        triggers: vec!["BOOKING_CREATED".into(), "BOOKING_CANCELLED".into()],
        secret: Some("whsec".into()),
        active: true,
    };
    let created = client.create_webhook(&key(), &subscription).await.unwrap();
    assert_eq!(created.subscriber_url, subscription.subscriber_url);
    assert_eq!(created.triggers, subscription.triggers);
    let listed = client.list_webhooks(&key()).await.unwrap();
    assert_eq!(listed, [created]);
}
