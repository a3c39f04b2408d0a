//! Webhooks out (calcom.md §6): subscriptions, and the signed default payload posted to a
//! local receiver when a booking is created, rescheduled or cancelled through the API.

use super::*;
use crate::sim::calcom::webhooks::signature;
use actix_web::{HttpRequest, HttpServer, web};
use std::time::Duration;
use tokio::sync::mpsc;

/// One delivery as the receiver saw it.
struct Delivery {
    content_type: String,
    version: String,
    signature: String,
    raw: Vec<u8>,
    body: Value,
}

/// A receiver on an ephemeral port; returns its URL and the deliveries it gets.
fn receiver() -> (String, mpsc::UnboundedReceiver<Delivery>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let server = HttpServer::new(move || {
        let tx = tx.clone();
        App::new().default_service(web::to(move |req: HttpRequest, raw: web::Bytes| {
            let header = |name: &str| {
                req.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned()
            };
            let delivery = Delivery {
                content_type: header("content-type"),
                version: header("x-cal-webhook-version"),
                signature: header("x-cal-signature-256"),
                raw: raw.to_vec(),
                body: serde_json::from_slice(&raw).unwrap_or(Value::Null),
            };
            let _ = tx.send(delivery);
            async { actix_web::HttpResponse::Ok().finish() }
        }))
    })
    .workers(1)
    .disable_signals()
    .bind(("127.0.0.1", 0))
    .unwrap();
    let url = format!("http://{}/api/calcom/webhook/demo", server.addrs()[0]);
    actix_rt::spawn(server.run());
    (url, rx)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Delivery>) -> Delivery {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a delivery within 10 s")
        .expect("receiver open")
}

async fn subscribe(sim: &CalcomSim, body: &Value) -> Reply {
    send(sim, post("/v2/webhooks", BOOKINGS, body)).await
}

fn subscription(url: &str, triggers: &[&str], secret: Option<&str>) -> Value {
    json!({ "subscriberUrl": url, "triggers": triggers, "active": true, "secret": secret })
}

const ALL: &[&str] = &[
    "BOOKING_CREATED",
    "BOOKING_RESCHEDULED",
    "BOOKING_CANCELLED",
];

fn phone_booking(start: &str) -> Value {
    let mut body = booking_body(start);
    body["attendee"]["phoneNumber"] = json!("+4915112345678");
    body["metadata"] = json!({ "switchboard_idempotency_key": "k-1" });
    body
}

#[actix_web::test]
async fn created_booking_is_posted_signed_with_the_default_payload() {
    let (sim, _) = sim();
    let (url, mut rx) = receiver();
    let made = subscribe(&sim, &subscription(&url, ALL, Some("whsec-1"))).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let booked = book(&sim, &phone_booking("2050-09-05T07:00:00Z")).await;

    let got = next(&mut rx).await;
    assert_eq!(got.content_type, "application/json");
    assert_eq!(got.version, "2021-10-20");
    assert_eq!(got.signature, signature(Some("whsec-1"), &got.raw));
    assert_eq!(got.signature.len(), 64);
    assert!(!got.signature.bytes().any(|c| c.is_ascii_uppercase()));
    assert_eq!(got.body["triggerEvent"], "BOOKING_CREATED");
    assert_eq!(got.body["createdAt"], "2050-09-01T08:00:00.000Z");
    let p = &got.body["payload"];
    assert_eq!(p["uid"], booked["uid"]);
    assert_eq!(p["bookingId"], booked["id"]);
    assert_eq!(p["eventTypeId"], 1001);
    assert_eq!(p["type"], booked["eventType"]["slug"]);
    assert_eq!(p["title"], booked["title"]);
    assert_eq!(p["startTime"], "2050-09-05T07:00:00.000Z");
    assert_eq!(p["endTime"], "2050-09-05T07:30:00.000Z");
    assert_eq!(p["length"], 30);
    assert_eq!(p["status"], "ACCEPTED");
    assert_eq!(p["attendees"][0]["name"], "Alice Müller");
    assert_eq!(p["attendees"][0]["timeZone"], "Europe/Berlin");
    assert_eq!(p["attendees"][0]["language"]["locale"], "de");
    assert_eq!(p["attendees"][0]["email"], "alice@example.com");
    assert_eq!(
        p["responses"]["attendeePhoneNumber"]["value"],
        "+4915112345678"
    );
    assert_eq!(p["metadata"]["switchboard_idempotency_key"], "k-1");
    assert!(p["organizer"]["email"].is_string());
    assert!(p.get("rescheduleUid").is_none());
}

#[actix_web::test]
async fn reschedule_is_posted_with_the_old_booking_and_cancel_with_its_reason() {
    let (sim, _) = sim();
    let (url, mut rx) = receiver();
    subscribe(&sim, &subscription(&url, ALL, Some("whsec-2"))).await;
    let old = book(&sim, &phone_booking("2050-09-05T07:00:00Z")).await;
    next(&mut rx).await;
    let old_uid = old["uid"].as_str().unwrap();
    let moved = send(
        &sim,
        post(
            &format!("/v2/bookings/{old_uid}/reschedule"),
            BOOKINGS,
            &json!({ "start": "2050-09-05T09:00:00Z", "reschedulingReason": "by phone" }),
        ),
    )
    .await;
    assert_eq!(moved.status, StatusCode::CREATED, "{}", moved.body);

    let got = next(&mut rx).await;
    assert_eq!(got.signature, signature(Some("whsec-2"), &got.raw));
    assert_eq!(got.body["triggerEvent"], "BOOKING_RESCHEDULED");
    let p = &got.body["payload"];
    assert_eq!(p["uid"], moved.data()["uid"]);
    assert_eq!(p["rescheduleUid"], old_uid);
    assert_eq!(p["rescheduleId"], old["id"]);
    assert_eq!(p["rescheduleStartTime"], "2050-09-05T07:00:00.000Z");
    assert_eq!(p["rescheduleEndTime"], "2050-09-05T07:30:00.000Z");
    assert_eq!(p["startTime"], "2050-09-05T09:00:00.000Z");
    assert_eq!(p["status"], "ACCEPTED");
    assert!(p["rescheduledBy"].is_string(), "{p}");

    let new_uid = moved.data()["uid"].as_str().unwrap();
    let cancelled = send(
        &sim,
        post(
            &format!("/v2/bookings/{new_uid}/cancel"),
            BOOKINGS,
            &json!({ "cancellationReason": "Caller cancelled" }),
        ),
    )
    .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    let got = next(&mut rx).await;
    assert_eq!(got.body["triggerEvent"], "BOOKING_CANCELLED");
    let p = &got.body["payload"];
    assert_eq!(p["uid"], new_uid);
    assert_eq!(p["status"], "CANCELLED");
    assert_eq!(p["cancellationReason"], "Caller cancelled");
    assert!(p["cancelledBy"].is_string(), "{p}");
}

#[actix_web::test]
async fn only_active_subscribers_of_the_trigger_get_it_and_no_secret_is_marked() {
    let (sim, _) = sim();
    let (url, mut rx) = receiver();
    subscribe(&sim, &subscription(&url, &["BOOKING_CANCELLED"], None)).await;
    let mut inactive = subscription(&url, ALL, Some("x"));
    inactive["active"] = json!(false);
    subscribe(&sim, &inactive).await;
    let booked = book(&sim, &phone_booking("2050-09-05T07:00:00Z")).await;
    let uid = booked["uid"].as_str().unwrap();
    let cancel = post(&format!("/v2/bookings/{uid}/cancel"), BOOKINGS, &json!({}));
    assert_eq!(send(&sim, cancel).await.status, StatusCode::OK);
    let got = next(&mut rx).await;
    assert_eq!(got.body["triggerEvent"], "BOOKING_CANCELLED");
    assert_eq!(got.signature, "no-secret-provided");
    // The creation was filtered out before anything was spawned: the first delivery is the
    // cancellation, and the inactive subscription got nothing.
    assert!(rx.try_recv().is_err(), "one delivery only");
}

#[actix_web::test]
async fn unreachable_subscriber_does_not_fail_the_booking() {
    let (sim, _) = sim();
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", dead.local_addr().unwrap());
    drop(dead);
    subscribe(&sim, &subscription(&url, ALL, Some("s"))).await;
    book(&sim, &phone_booking("2050-09-05T07:00:00Z")).await;
}

#[actix_web::test]
async fn webhooks_are_listed_read_and_deleted_per_account() {
    let (sim, _) = sim();
    let made = subscribe(
        &sim,
        &subscription("https://sb.example/hook", ALL, Some("s")),
    )
    .await;
    let id = made.data()["id"].as_str().unwrap().to_owned();
    assert_eq!(made.data()["active"], true);
    assert_eq!(made.data()["triggers"], json!(ALL));
    let listed = send(&sim, get("/v2/webhooks", BOOKINGS)).await;
    assert_eq!(listed.data(), &json!([made.data()]));
    let one = send(&sim, get(&format!("/v2/webhooks/{id}"), SLOTS)).await;
    assert_eq!(one.data(), made.data());
    let delete = || {
        test::TestRequest::delete()
            .uri(&format!("/v2/webhooks/{id}"))
            .insert_header(bearer())
    };
    assert_eq!(send(&sim, delete()).await.status, StatusCode::OK);
    assert_eq!(send(&sim, delete()).await.status, StatusCode::NOT_FOUND);
    let listed = send(&sim, get("/v2/webhooks", BOOKINGS)).await;
    assert_eq!(listed.data(), &json!([]));
}

#[actix_web::test]
async fn bad_webhook_requests_are_refused_and_store_nothing() {
    let (sim, _) = sim();
    let anonymous = test::TestRequest::post()
        .uri("/v2/webhooks")
        .set_json(subscription("https://sb.example/hook", ALL, None));
    assert_eq!(send(&sim, anonymous).await.status, StatusCode::UNAUTHORIZED);
    let bad = [
        json!({ "subscriberUrl": "https://sb.example/hook", "triggers": ["BOOKING_EATEN"], "active": true }),
        json!({ "subscriberUrl": "not a url", "triggers": ALL, "active": true }),
        json!({ "subscriberUrl": "https://sb.example/hook", "triggers": ALL }),
        json!({ "subscriberUrl": "https://sb.example/hook", "triggers": ALL, "active": true, "colour": 1 }),
        json!({ "subscriberUrl": "https://sb.example/hook", "triggers": ALL, "active": true, "secret": "x".repeat(5000) }),
    ];
    for body in bad {
        let reply = subscribe(&sim, &body).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.body
        );
    }
    let listed = send(&sim, get("/v2/webhooks", BOOKINGS)).await;
    assert_eq!(listed.data(), &json!([]));
}

#[actix_web::test]
async fn subscriptions_per_account_are_bounded() {
    let (sim, _) = sim();
    let body = subscription("https://sb.example/hook", ALL, None);
    for _ in 0..crate::sim::calcom::webhooks::MAX_WEBHOOKS_PER_ACCOUNT {
        assert_eq!(subscribe(&sim, &body).await.status, StatusCode::CREATED);
    }
    assert_eq!(subscribe(&sim, &body).await.status, StatusCode::BAD_REQUEST);
}
