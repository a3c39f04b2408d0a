//! HTTP behaviour of [`CalcomClient`] against a throwaway actix-web stub on `127.0.0.1:0`.
//! The stub records every request and answers with canned bodies, so the assertions run in
//! the test, not in a server thread where a panic would only look like a dropped connection.

use super::{CalcomClient, CalcomClientError};
use crate::upstream::stub::{Histograms, Reply, Stub, break_after_head, reply};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{NaiveDate, TimeZone, Utc};
use secrecy::SecretString;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};
use switchboard_actors::domain::booking::{
    Attendee, BookingQuery, BookingRequest, CancelRequest, IDEMPOTENCY_METADATA_KEY,
    RescheduleRequest, ReservationRequest, SlotQuery, UpstreamError, WebhookSubscription,
};
use switchboard_actors::domain::ids::{BookingUid, EventTypeId};
use switchboard_actors::ports::CalendarApi;

const KEY: &str = "cal_test_0123456789";

/// §4.1 `data` (trimmed of fields we ignore).
fn booking_json(uid: &str) -> Value {
    json!({
        "id": 123, "uid": uid, "title": "Consultation between Jane and Alice", "status": "accepted",
        "start": "2030-01-08T15:00:00.000Z", "end": "2030-01-08T15:15:00.000Z", "duration": 15,
        "eventTypeId": 123, "eventType": {"id": 123, "slug": "consult"},
        "attendees": [{"name": "Alice", "email": "919876543210@sms.cal.com",
            "displayEmail": "919876543210@sms.cal.com", "phoneNumber": "+919876543210",
            "timeZone": "Europe/Madrid", "language": "es", "absent": false}],
        "metadata": {"callId": "c-42"}
    })
}

fn success(data: Value) -> String {
    json!({"status": "success", "data": data}).to_string()
}

/// A stub answering unknown routes as Cal.com does: its Nest 404 envelope.
fn calcom_stub(routes: Vec<(&'static str, &'static str, Reply)>) -> Stub {
    Stub::start(routes, |req: &HttpRequest| {
        HttpResponse::NotFound()
            .content_type("application/json")
            .body(
                json!({"status": "error", "error": {"code": "NotFoundException",
                "message": format!("Cannot {} {}", req.method(), req.path())}})
                .to_string(),
            )
    })
}

impl Stub {
    fn client(&self) -> CalcomClient {
        CalcomClient::new(&self.base(), Duration::from_secs(5)).unwrap()
    }
}

fn key() -> SecretString {
    SecretString::from(KEY)
}

fn booking_request(phone: Option<&str>, email: Option<&str>) -> BookingRequest {
    BookingRequest {
        event_type_id: EventTypeId(123),
        start: Utc.with_ymd_and_hms(2030, 1, 8, 15, 0, 0).unwrap(),
        attendee: Attendee {
            name: "Alice".into(),
            time_zone: "Europe/Madrid".into(),
            email: email.map(Into::into),
            phone_number: phone.map(Into::into),
            language: Some("es".into()),
        },
        metadata: BTreeMap::from([(IDEMPOTENCY_METADATA_KEY.to_owned(), "idem-1".to_owned())]),
        length_in_minutes: None,
        reserved_slot_uid: None,
    }
}

fn slot_query() -> SlotQuery {
    SlotQuery {
        event_type_id: EventTypeId(42),
        from: NaiveDate::from_ymd_opt(2050, 9, 5).unwrap(),
        to: NaiveDate::from_ymd_opt(2050, 9, 6).unwrap(),
        time_zone: chrono_tz::Europe::Rome,
        duration_min: Some(30),
    }
}

/// Status, Cal.com code, message and retry delay of an error that came from an answer.
pub(super) fn status_parts(e: &UpstreamError) -> (u16, Option<&str>, &str, Option<Duration>) {
    let answer = e
        .answer()
        .unwrap_or_else(|| panic!("expected a calcom error answer, got {e:?}"));
    assert!(e.to_string().starts_with("calcom answered "), "{e}");
    (
        answer.status,
        answer.code.as_deref(),
        answer.message.as_str(),
        e.retry_after(),
    )
}

#[actix_web::test]
async fn sends_version_header_per_route() {
    let stub = calcom_stub(vec![
        ("GET", "/v2/event-types", reply(200, success(json!([])))),
        ("GET", "/v2/slots", reply(200, success(json!({})))),
        (
            "POST",
            "/v2/bookings",
            reply(201, success(booking_json("u1"))),
        ),
        ("GET", "/v2/bookings", reply(200, success(json!([])))),
        (
            "GET",
            "/v2/bookings/u1",
            reply(200, success(booking_json("u1"))),
        ),
    ]);
    let client = stub.client();
    let uid = BookingUid::parse("u1").unwrap();
    client.event_types(&key()).await.unwrap();
    client.slots(&key(), &slot_query()).await.unwrap();
    client
        .create_booking(&key(), &booking_request(None, Some("a@x.com")))
        .await
        .unwrap();
    client
        .list_bookings(&key(), &BookingQuery::default())
        .await
        .unwrap();
    client.get_booking(&key(), &uid).await.unwrap();

    let seen: Vec<(String, String, Option<String>)> = stub
        .seen()
        .into_iter()
        .map(|s| {
            assert_eq!(s.header("authorization"), Some(&*format!("Bearer {KEY}")));
            (
                s.method.clone(),
                s.path.clone(),
                s.header("cal-api-version").map(Into::into),
            )
        })
        .collect();
    let expected = [
        ("GET", "/v2/event-types", "2024-06-14"),
        ("GET", "/v2/slots", "2024-09-04"),
        ("POST", "/v2/bookings", "2024-08-13"),
        ("GET", "/v2/bookings", "2024-08-13"),
        ("GET", "/v2/bookings/u1", "2024-08-13"),
    ]
    .map(|(m, p, v)| (m.to_owned(), p.to_owned(), Some(v.to_owned())));
    assert_eq!(seen, expected);
}

#[actix_web::test]
async fn slots_query_uses_utc_bounds_and_range_format() {
    let stub = calcom_stub(vec![(
        "GET",
        "/v2/slots",
        reply(
            200,
            success(json!({
                "2050-09-06": [{"start": "2050-09-06T09:00:00.000+02:00", "end": "2050-09-06T09:30:00.000+02:00"}],
                "2050-09-05": [{"start": "2050-09-05T14:00:00.000+02:00", "end": "2050-09-05T14:30:00.000+02:00"},
                               {"start": "2050-09-05T09:00:00.000+02:00", "end": "2050-09-05T09:30:00.000+02:00"}]
            })),
        ),
    )]);
    let slots = stub.client().slots(&key(), &slot_query()).await.unwrap();

    let expected: HashMap<String, String> = [
        ("eventTypeId", "42"),
        ("start", "2050-09-04T22:00:00Z"),
        ("end", "2050-09-06T21:59:59Z"),
        ("timeZone", "Europe/Rome"),
        ("format", "range"),
        ("duration", "30"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(stub.only_request().query, expected);

    let starts: Vec<String> = slots.iter().map(|s| s.start.to_rfc3339()).collect();
    assert_eq!(
        starts,
        [
            "2050-09-05T09:00:00+02:00",
            "2050-09-05T14:00:00+02:00",
            "2050-09-06T09:00:00+02:00"
        ]
    );
    assert_eq!(slots[0].end.to_rfc3339(), "2050-09-05T09:30:00+02:00");
}

#[actix_web::test]
async fn create_booking_sends_only_known_fields() {
    let stub = calcom_stub(vec![(
        "POST",
        "/v2/bookings",
        reply(201, success(booking_json("bFJeNb2uX8ANpT3JL5EfXw"))),
    )]);
    let mut request = booking_request(Some("+919876543210"), None);
    request.length_in_minutes = Some(15);
    let booking = stub
        .client()
        .create_booking(&key(), &request)
        .await
        .unwrap();

    let seen = stub.only_request();
    assert!(
        seen.header("content-type")
            .is_some_and(|c| c.starts_with("application/json"))
    );
    assert_eq!(
        seen.json(),
        json!({
            "start": "2030-01-08T15:00:00Z",
            "eventTypeId": 123,
            "attendee": {"name": "Alice", "timeZone": "Europe/Madrid",
                         "phoneNumber": "+919876543210", "language": "es"},
            "metadata": {IDEMPOTENCY_METADATA_KEY: "idem-1"},
            "lengthInMinutes": 15,
            "location": {"type": "attendeePhone", "phone": "+919876543210"}
        })
    );
    assert_eq!(booking.uid.as_str(), "bFJeNb2uX8ANpT3JL5EfXw");
    assert_eq!(booking.event_type_id, EventTypeId(123));
    assert_eq!(
        booking.attendees[0].phone_number.as_deref(),
        Some("+919876543210")
    );
}

#[actix_web::test]
async fn create_booking_without_phone_sends_no_location() {
    let stub = calcom_stub(vec![(
        "POST",
        "/v2/bookings",
        reply(201, success(booking_json("u1"))),
    )]);
    stub.client()
        .create_booking(&key(), &booking_request(None, Some("alice@x.com")))
        .await
        .unwrap();
    let body = stub.only_request().json();
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["attendee", "eventTypeId", "metadata", "start"]);
    assert_eq!(
        body["attendee"],
        json!({"name": "Alice", "timeZone": "Europe/Madrid", "email": "alice@x.com", "language": "es"})
    );
}

#[actix_web::test]
async fn list_bookings_sends_camel_case_filters() {
    let stub = calcom_stub(vec![(
        "GET",
        "/v2/bookings",
        reply(
            200,
            json!({"status": "success", "data": [booking_json("u1"), booking_json("u2")],
                   "pagination": {"totalItems": 2, "hasNextPage": false}})
            .to_string(),
        ),
    )]);
    let query = BookingQuery {
        status: Some("upcoming,unconfirmed".into()),
        event_type_id: Some(EventTypeId(123)),
        attendee_email: Some("919876543210@sms.cal.com".into()),
        after_start: Some(Utc.with_ymd_and_hms(2030, 1, 8, 0, 0, 0).unwrap()),
        before_end: Some(Utc.with_ymd_and_hms(2030, 1, 9, 0, 0, 0).unwrap()),
        take: Some(50),
    };
    let bookings = stub.client().list_bookings(&key(), &query).await.unwrap();

    let expected: HashMap<String, String> = [
        ("status", "upcoming,unconfirmed"),
        ("eventTypeId", "123"),
        ("attendeeEmail", "919876543210@sms.cal.com"),
        ("afterStart", "2030-01-08T00:00:00Z"),
        ("beforeEnd", "2030-01-09T00:00:00Z"),
        ("take", "50"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(stub.only_request().query, expected);
    let uids: Vec<&str> = bookings.iter().map(|b| b.uid.as_str()).collect();
    assert_eq!(uids, ["u1", "u2"]);
}

#[actix_web::test]
async fn get_booking_percent_encodes_the_uid() {
    let stub = calcom_stub(vec![(
        "GET",
        "/v2/bookings/a%2Fb%3Fc",
        reply(200, success(booking_json("a/b?c"))),
    )]);
    let uid = BookingUid::parse("a/b?c").unwrap();
    let booking = stub.client().get_booking(&key(), &uid).await.unwrap();
    assert_eq!(booking.uid, uid);
    assert!(stub.only_request().query.is_empty());
}

#[actix_web::test]
async fn event_types_map_to_domain() {
    let stub = calcom_stub(vec![(
        "GET",
        "/v2/event-types",
        reply(
            200,
            success(json!([
                {"id": 1, "lengthInMinutes": 30, "title": "Consultation", "slug": "consult",
                 "users": [{"id": 10, "name": "Jane", "username": "jane"}], "hidden": false},
                {"id": 2, "lengthInMinutes": 60, "lengthInMinutesOptions": [30, 60],
                 "title": "Treatment", "slug": "treat"}
            ])),
        ),
    )]);
    let types = stub.client().event_types(&key()).await.unwrap();
    let summary: Vec<(i64, &str, u32)> = types
        .iter()
        .map(|t| (t.id.0, t.slug.as_str(), t.length_in_minutes))
        .collect();
    assert_eq!(summary, [(1, "consult", 30), (2, "treat", 60)]);
}

#[actix_web::test]
async fn me_parses_the_calcom_shape() {
    // `MeOutput` as calcom/cal.com `apps/api/v2/src/ee/me/outputs/me.output.ts` declares it.
    let stub = calcom_stub(vec![(
        "GET",
        "/v2/me",
        reply(
            200,
            success(json!({
                "id": 42, "username": "praxis-weber", "email": "praxis@weber.example",
                "name": "Praxis Dr. Weber", "avatarUrl": null, "bio": null, "timeFormat": 24,
                "defaultScheduleId": 7, "weekStart": "Monday", "timeZone": "Europe/Berlin",
                "organizationId": null
            })),
        ),
    )]);
    let me = stub.client().me(&key()).await.unwrap();
    assert_eq!(
        (me.id, me.username.as_str(), me.email.as_str()),
        (42, "praxis-weber", "praxis@weber.example")
    );
    assert_eq!(me.name.as_deref(), Some("Praxis Dr. Weber"));
    assert_eq!(me.time_zone, "Europe/Berlin");
    assert_eq!(me.organization_id, None);
    let seen = stub.only_request();
    assert_eq!(
        seen.header("cal-api-version"),
        Some(me.api_version.as_str())
    );
    assert_eq!(
        seen.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
}

#[actix_web::test]
async fn me_with_a_refused_key_is_unauthorized() {
    let stub = calcom_stub(vec![(
        "GET",
        "/v2/me",
        reply(
            401,
            json!({"status": "error", "timestamp": "2050-01-01T00:00:00.000Z", "path": "/v2/me",
                   "error": {"code": "UnauthorizedException",
                             "message": "CustomThrottlerGuard - Invalid API Key"}})
            .to_string(),
        ),
    )]);
    let error = stub.client().me(&key()).await.unwrap_err();
    assert!(
        matches!(error, UpstreamError::Unauthorized { .. }),
        "{error:?}"
    );
}

#[actix_web::test]
async fn parses_both_error_shapes() {
    let stub = calcom_stub(vec![
        (
            "POST",
            "/v2/bookings",
            reply(
                400,
                json!({"status": "error", "timestamp": "2025-07-01T10:00:00.000Z", "path": "/v2/bookings",
                       "error": {"code": "BadRequestException",
                                 "message": "User either already has booking at this time or is not available",
                                 "details": {"statusCode": 400}}})
                .to_string(),
            ),
        ),
        (
            "GET",
            "/v2/bookings/u1",
            reply(409, r#"{"statusCode":409,"message":"booking_conflict_error"}"#),
        ),
        (
            "GET",
            "/v2/event-types",
            reply(502, "<html><body>Bad gateway</body></html>"),
        ),
    ]);
    let client = stub.client();

    let envelope = client
        .create_booking(&key(), &booking_request(None, Some("a@x.com")))
        .await
        .unwrap_err();
    assert_eq!(
        status_parts(&envelope),
        (
            400,
            Some("BadRequestException"),
            "User either already has booking at this time or is not available",
            None
        )
    );
    assert!(envelope.is_slot_unavailable() && !envelope.is_transient());

    let nest = client
        .get_booking(&key(), &BookingUid::parse("u1").unwrap())
        .await
        .unwrap_err();
    assert_eq!(
        status_parts(&nest),
        (409, None, "booking_conflict_error", None)
    );
    assert!(nest.is_slot_unavailable());

    let html = client.event_types(&key()).await.unwrap_err();
    assert_eq!(
        status_parts(&html),
        (502, None, "<html><body>Bad gateway</body></html>", None)
    );
    assert!(html.is_transient());
}

#[actix_web::test]
async fn wrong_route_404_keeps_nest_code() {
    let stub = calcom_stub(Vec::new());
    let e = stub.client().event_types(&key()).await.unwrap_err();
    assert_eq!(
        status_parts(&e),
        (
            404,
            Some("NotFoundException"),
            "Cannot GET /v2/event-types",
            None
        )
    );
}

#[actix_web::test]
async fn rate_limit_reset_becomes_retry_after() {
    let mut throttled = reply(
        429,
        json!({"status": "error", "timestamp": "2025-07-01T10:00:00.000Z", "path": "/v2/slots",
               "error": {"code": "ThrottlerException",
                         "message": "CustomThrottlerGuard - Too many requests. Please try again later.",
                         "details": "CustomThrottlerGuard - Too many requests. Please try again later."}})
        .to_string(),
    );
    throttled.headers = vec![
        ("X-RateLimit-Limit-Default", "120"),
        ("X-RateLimit-Remaining-Default", "0"),
        ("X-RateLimit-Reset-Default", "37"),
    ];
    let stub = calcom_stub(vec![("GET", "/v2/slots", throttled)]);
    let e = stub
        .client()
        .slots(&key(), &slot_query())
        .await
        .unwrap_err();
    assert_eq!(
        status_parts(&e),
        (
            429,
            Some("ThrottlerException"),
            "CustomThrottlerGuard - Too many requests. Please try again later.",
            Some(Duration::from_secs(37))
        )
    );
    assert!(e.is_transient());
    assert_eq!(e.retry_after(), Some(Duration::from_secs(37)));
}

#[actix_web::test]
async fn unreadable_success_body_is_decode_error() {
    let stub = calcom_stub(vec![
        (
            "GET",
            "/v2/event-types",
            reply(200, "<html>maintenance</html>"),
        ),
        (
            "GET",
            "/v2/slots",
            reply(
                200,
                success(json!({"2050-09-05": [{"start": "2050-09-05T09:00:00.000+02:00"}]})),
            ),
        ),
    ]);
    let client = stub.client();
    for e in [
        client.event_types(&key()).await.unwrap_err(),
        // `end` is missing although format=range was asked for.
        client.slots(&key(), &slot_query()).await.unwrap_err(),
    ] {
        assert!(
            matches!(
                &e,
                UpstreamError::Decode {
                    service: "calcom",
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(!e.is_transient());
    }
}

#[actix_web::test]
async fn connection_refused_is_transport_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client =
        CalcomClient::new(&format!("http://127.0.0.1:{port}"), Duration::from_secs(5)).unwrap();
    let e = client.event_types(&key()).await.unwrap_err();
    match &e {
        UpstreamError::Transport { service, message } => {
            assert_eq!(*service, "calcom");
            assert!(message.starts_with("GET /v2/event-types: "), "{message}");
            assert!(message.to_lowercase().contains("refused"), "{message}");
        }
        other => panic!("expected Transport, got {other:?}"),
    }
    assert!(e.is_transient());
}

#[actix_web::test]
async fn dropped_connection_mid_body_is_transport_error() {
    // The answer to a booking that was made: its head arrives, its body breaks off. Both
    // framings: a declared length (what a proxy sends) and chunked (what the simulator's
    // "drop" fault sends).
    let framings = [
        (
            "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: 400",
            r#"{"status":"success","data":{"id":123,"uid":"#,
        ),
        (
            "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ntransfer-encoding: chunked",
            "2b\r\n{\"status\":\"success\",\"data\":{\"id\":123,\"uid\":\r\n",
        ),
    ];
    for (head, partial) in framings {
        let base = break_after_head(head, partial).await;
        let client = CalcomClient::new(&base, Duration::from_secs(5)).unwrap();
        let e = client
            .create_booking(&key(), &booking_request(None, Some("a@example.com")))
            .await
            .unwrap_err();
        match &e {
            UpstreamError::Transport { service, message } => {
                assert_eq!(*service, "calcom");
                // reqwest files a body that breaks off under "decoding"; the message says
                // what happened, and it is no timeout.
                assert!(
                    message.starts_with(
                        "POST /v2/bookings: connection broke while reading the body: "
                    ),
                    "{message}"
                );
                assert!(
                    message.contains("error reading a body from connection"),
                    "{message}"
                );
                assert!(!message.contains("timed out"), "{message}");
            }
            other => panic!("expected Transport for {head:?}, got {other:?}"),
        }
        assert!(e.is_transient());
    }
}

#[actix_web::test]
async fn timeout_is_transport_error() {
    let mut slow = reply(200, success(json!({})));
    slow.delay = Duration::from_secs(3);
    let stub = calcom_stub(vec![("GET", "/v2/slots", slow)]);
    let client = CalcomClient::new(&stub.base(), Duration::from_millis(200)).unwrap();

    let started = Instant::now();
    let e = client.slots(&key(), &slot_query()).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    match &e {
        UpstreamError::Transport { message, .. } => {
            assert!(message.contains("timed out after 200ms"), "{message}");
            // The query (which may hold an attendee's email) stays out of the message.
            assert!(!message.contains("eventTypeId"), "{message}");
        }
        other => panic!("expected Transport, got {other:?}"),
    }
    assert!(e.is_transient());
}

#[actix_web::test]
async fn base_url_path_prefix_and_trailing_slash_are_kept() {
    let stub = calcom_stub(vec![(
        "GET",
        "/api/v2/event-types",
        reply(200, success(json!([]))),
    )]);
    for base in [
        format!("{}/api", stub.base()),
        format!("{}/api/", stub.base()),
    ] {
        let client = CalcomClient::new(&base, Duration::from_secs(5)).unwrap();
        client.event_types(&key()).await.unwrap();
    }
    assert_eq!(stub.seen().len(), 2);
}

#[test]
fn new_rejects_bad_base_urls() {
    for bad in [
        "not a url",
        "ftp://api.cal.com",
        "mailto:x@cal.com",
        "https://api.cal.com/v2",
        "https://api.cal.com/v2/",
        "https://api.cal.com?x=1",
    ] {
        assert!(
            matches!(
                CalcomClient::new(bad, Duration::from_secs(1)),
                Err(CalcomClientError::InvalidBaseUrl { .. })
            ),
            "{bad}"
        );
    }
    assert!(CalcomClient::new("https://api.cal.com", Duration::from_secs(1)).is_ok());
}

#[test]
fn invalid_base_url_error_never_shows_its_password() {
    let err = CalcomClient::new(
        "https://user:hunter2@api.cal.com/v2?token=abc",
        Duration::from_secs(1),
    )
    .unwrap_err()
    .to_string();
    assert!(!err.contains("hunter2") && !err.contains("abc"), "{err}");
    assert!(err.contains("api.cal.com"), "names the host: {err}");
}

#[actix_web::test]
async fn key_unfit_for_a_header_is_refused_without_a_request() {
    let stub = calcom_stub(Vec::new());
    let e = stub
        .client()
        .event_types(&SecretString::from("cal_bad\nkey"))
        .await
        .unwrap_err();
    assert!(e.is_unauthorized(), "{e:?}");
    assert!(!e.to_string().contains("cal_bad"));
    assert!(stub.seen().is_empty());
}

#[actix_web::test]
async fn records_duration_per_operation_even_on_failure() {
    let stub = calcom_stub(vec![("GET", "/v2/slots", reply(500, ""))]);
    let recorder = Histograms::default();
    let records = recorder.0.clone();
    {
        // actix tests run on one thread, so a thread-local recorder sees the client's calls.
        let _guard = metrics::set_default_local_recorder(&recorder);
        let client = stub.client();
        client.slots(&key(), &slot_query()).await.unwrap_err();
        client.event_types(&key()).await.unwrap_err();
    }
    assert_eq!(
        *records.lock().unwrap(),
        [
            "mcp_api_duration_seconds{service=calcom,method=slots}",
            "mcp_api_duration_seconds{service=calcom,method=event_types}"
        ]
    );
}

fn reservation_json() -> Value {
    json!({"eventTypeId": 123, "slotStart": "2030-01-08T15:00:00.000Z",
           "slotEnd": "2030-01-08T15:15:00.000Z", "slotDuration": 15,
           "reservationUid": "e84be5a3-4696-49e3-acc7-b2f3999c3b94", "reservationDuration": 10,
           "reservationUntil": "2030-01-07T10:10:00.000Z"})
}

fn reservation_request() -> ReservationRequest {
    ReservationRequest {
        event_type_id: EventTypeId(123),
        slot_start: Utc.with_ymd_and_hms(2030, 1, 8, 15, 0, 0).unwrap(),
        slot_duration_min: 15,
        reservation_duration_min: 10,
    }
}

#[actix_web::test]
async fn reservation_calls_follow_the_reserve_slot_dtos() {
    let uid = "e84be5a3-4696-49e3-acc7-b2f3999c3b94";
    let stub = calcom_stub(vec![
        (
            "POST",
            "/v2/slots/reservations",
            reply(201, success(reservation_json())),
        ),
        (
            "PATCH",
            "/v2/slots/reservations/e84be5a3-4696-49e3-acc7-b2f3999c3b94",
            reply(200, success(reservation_json())),
        ),
        (
            "DELETE",
            "/v2/slots/reservations/e84be5a3-4696-49e3-acc7-b2f3999c3b94",
            reply(200, json!({"status": "success"}).to_string()),
        ),
    ]);
    let client = stub.client();
    let held = client
        .reserve_slot(&key(), &reservation_request())
        .await
        .unwrap();
    assert_eq!(held.uid, uid);
    assert_eq!(held.event_type_id, EventTypeId(123));
    assert_eq!(
        held.slot_end,
        Utc.with_ymd_and_hms(2030, 1, 8, 15, 15, 0).unwrap()
    );
    assert_eq!(
        held.until,
        Utc.with_ymd_and_hms(2030, 1, 7, 10, 10, 0).unwrap()
    );
    client
        .renew_reservation(&key(), uid, &reservation_request())
        .await
        .unwrap();
    client.release_reservation(&key(), uid).await.unwrap();

    let seen = stub.seen();
    let body = json!({"eventTypeId": 123, "slotStart": "2030-01-08T15:00:00Z",
                      "slotDuration": 15, "reservationDuration": 10});
    assert_eq!(seen[0].json(), body);
    assert_eq!(seen[1].json(), body);
    for request in &seen {
        assert_eq!(request.header("cal-api-version"), Some("2024-09-04"));
    }
    assert_eq!(
        seen.iter().map(|s| s.method.as_str()).collect::<Vec<_>>(),
        ["POST", "PATCH", "DELETE"]
    );
}

#[actix_web::test]
async fn reservation_conflict_422_is_slot_taken_only_on_reservations() {
    let conflict = json!({"status": "error", "error": {"code": "UnprocessableEntityException",
        "message": "This time slot is already reserved by another user"}})
    .to_string();
    let stub = calcom_stub(vec![
        (
            "POST",
            "/v2/slots/reservations",
            reply(422, conflict.clone()),
        ),
        ("POST", "/v2/bookings", reply(422, conflict)),
    ]);
    let client = stub.client();
    let e = client
        .reserve_slot(&key(), &reservation_request())
        .await
        .unwrap_err();
    assert!(matches!(e, UpstreamError::SlotTaken { .. }), "{e:?}");
    let e = client
        .create_booking(&key(), &booking_request(Some("+919876543210"), None))
        .await
        .unwrap_err();
    assert!(matches!(e, UpstreamError::Rejected { .. }), "{e:?}");
}

#[actix_web::test]
async fn reschedule_cancel_and_webhook_bodies_follow_the_dtos() {
    let stub = calcom_stub(vec![
        (
            "POST",
            "/v2/bookings/old-uid/reschedule",
            reply(201, success(booking_json("new-uid"))),
        ),
        (
            "POST",
            "/v2/bookings/new-uid/cancel",
            reply(200, success(booking_json("new-uid"))),
        ),
        (
            "POST",
            "/v2/webhooks",
            reply(
                201,
                success(
                    json!({"id": "wh-1", "subscriberUrl": "https://sb.example/hook",
                    "triggers": ["BOOKING_CREATED"], "active": true, "payloadTemplate": null,
                    "userId": 10}),
                ),
            ),
        ),
        (
            "GET",
            "/v2/webhooks",
            reply(
                200,
                success(json!([{"id": 7, "subscriberUrl": "https://sb.example/hook",
                    "triggers": ["BOOKING_CANCELLED"], "active": false}])),
            ),
        ),
    ]);
    let client = stub.client();
    let moved = client
        .reschedule_booking(
            &key(),
            &BookingUid::parse("old-uid").unwrap(),
            &RescheduleRequest {
                start: Utc.with_ymd_and_hms(2030, 1, 9, 10, 0, 0).unwrap(),
                reason: Some("Caller asked by phone".into()),
                reserved_slot_uid: Some("r-1".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(moved.uid.as_str(), "new-uid");
    client
        .cancel_booking(
            &key(),
            &BookingUid::parse("new-uid").unwrap(),
            &CancelRequest { reason: None },
        )
        .await
        .unwrap();
    let created = client
        .create_webhook(
            &key(),
            &WebhookSubscription {
                subscriber_url: "https://sb.example/hook".into(),
                triggers: vec!["BOOKING_CREATED".into()],
                secret: Some("s3cret".into()),
                active: true,
            },
        )
        .await
        .unwrap();
    assert_eq!(created.id, "wh-1");
    let listed = client.list_webhooks(&key()).await.unwrap();
    assert_eq!(listed[0].id, "7");
    assert!(!listed[0].active);

    let seen = stub.seen();
    assert_eq!(
        seen[0].json(),
        json!({"start": "2030-01-09T10:00:00Z", "reschedulingReason": "Caller asked by phone",
               "reservedSlotUid": "r-1"})
    );
    assert_eq!(seen[0].header("cal-api-version"), Some("2024-08-13"));
    assert_eq!(seen[1].json(), json!({}));
    assert_eq!(
        seen[2].json(),
        json!({"subscriberUrl": "https://sb.example/hook", "triggers": ["BOOKING_CREATED"],
               "active": true, "secret": "s3cret"})
    );
}

#[actix_web::test]
async fn reserved_slot_uid_is_sent_only_when_given() {
    let stub = calcom_stub(vec![(
        "POST",
        "/v2/bookings",
        reply(201, success(booking_json("b1"))),
    )]);
    let mut request = booking_request(None, Some("alice@example.com"));
    request.reserved_slot_uid = Some("r-9".into());
    stub.client()
        .create_booking(&key(), &request)
        .await
        .unwrap();
    assert_eq!(stub.only_request().json()["reservedSlotUid"], "r-9");
}
