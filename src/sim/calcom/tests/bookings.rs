//! Create, get, reschedule and cancel (calcom.md §4.1, §4.2, §4.4, §4.5).

use super::*;
use futures_util::future::join_all;

const MONDAY_9: &str = "2050-09-05T07:00:00Z";

async fn create(sim: &CalcomSim, body: &Value) -> Reply {
    send(sim, post("/v2/bookings", BOOKINGS, body)).await
}

async fn cancel(sim: &CalcomSim, uid: &str, body: &Value) -> Reply {
    send(
        sim,
        post(&format!("/v2/bookings/{uid}/cancel"), BOOKINGS, body),
    )
    .await
}

async fn reschedule(sim: &CalcomSim, uid: &str, start: &str) -> Reply {
    send(
        sim,
        post(
            &format!("/v2/bookings/{uid}/reschedule"),
            BOOKINGS,
            &json!({ "start": start }),
        ),
    )
    .await
}

fn uid(booking: &Value) -> String {
    booking["uid"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn create_returns_201_with_the_full_booking_output() {
    let (sim, _) = sim();
    let mut body = booking_body(MONDAY_9);
    body["metadata"] = json!({ "switchboard_idempotency_key": "call-42" });
    body["location"] = json!({ "type": "attendeePhone", "phone": "+491711234567" });
    body["bookingFieldsResponses"] = json!({ "notes": "kurz", "dropped": null });
    let data = book(&sim, &body).await;

    assert_eq!(data["id"], 1);
    let uid = uid(&data);
    assert_eq!(uid.len(), 22);
    assert!(uid.bytes().all(|b| b.is_ascii_alphanumeric()), "{uid}");
    assert_eq!(data["status"], "accepted");
    assert_eq!(
        data["title"],
        "Herrenhaarschnitt between Demo Salon Berlin and Alice Müller"
    );
    assert_eq!(data["start"], "2050-09-05T07:00:00.000Z");
    assert_eq!(data["end"], "2050-09-05T07:30:00.000Z");
    assert_eq!(data["duration"], 30);
    assert_eq!(data["eventTypeId"], 1001);
    assert_eq!(
        data["eventType"],
        json!({"id":1001,"slug":"herrenhaarschnitt"})
    );
    assert_eq!(data["hosts"][0]["id"], 1);
    assert_eq!(data["hosts"][0]["username"], "demo-salon");
    assert_eq!(data["hosts"][0]["timeZone"], "Europe/Berlin");
    assert_eq!(
        data["attendees"],
        json!([{"name":"Alice Müller","email":"alice@example.com","displayEmail":"alice@example.com",
                "timeZone":"Europe/Berlin","language":"de","absent":false}])
    );
    assert_eq!(
        data["metadata"],
        json!({ "switchboard_idempotency_key": "call-42" })
    );
    assert_eq!(data["location"], "+491711234567");
    assert_eq!(data["meetingUrl"], "+491711234567");
    assert_eq!(data["createdAt"], "2050-09-01T08:00:00.000Z");
    assert_eq!(data["updatedAt"], "2050-09-01T08:00:00.000Z");
    assert_eq!(data["cancellationReason"], "");
    assert_eq!(data["cancelledByEmail"], "");
    assert_eq!(data["guests"], json!([]));
    assert_eq!(data["absentHost"], false);
    assert_eq!(data["icsUid"], format!("{uid}@Cal.com"));
    assert_eq!(data["bookingFieldsResponses"]["name"], "Alice Müller");
    assert_eq!(data["bookingFieldsResponses"]["email"], "alice@example.com");
    assert_eq!(data["bookingFieldsResponses"]["notes"], "kurz");
    assert_eq!(data["bookingFieldsResponses"]["dropped"], "");
    for absent in [
        "rescheduledFromUid",
        "rescheduledToUid",
        "reschedulingReason",
    ] {
        assert!(data.get(absent).is_none(), "{absent} should be omitted");
    }
    assert_eq!(
        book(&sim, &booking_body("2050-09-05T07:30:00Z")).await["id"],
        2
    );
}

#[actix_web::test]
async fn phone_only_attendee_gets_sms_email() {
    let (sim, _) = sim();
    let body = json!({
        "start": MONDAY_9, "eventTypeId": 1001,
        "attendee": { "name": "Bob", "phoneNumber": "+491711234567", "timeZone": "Europe/Berlin" },
    });
    let data = book(&sim, &body).await;
    let attendee = &data["attendees"][0];
    assert_eq!(attendee["email"], "491711234567@sms.cal.com");
    assert_eq!(attendee["displayEmail"], "491711234567@sms.cal.com");
    assert_eq!(attendee["phoneNumber"], "+491711234567");
    assert_eq!(attendee["language"], "en");
    assert_eq!(
        data["bookingFieldsResponses"]["attendeePhoneNumber"],
        "+491711234567"
    );
}

#[actix_web::test]
async fn booking_by_slug_and_username() {
    let (sim, _) = sim();
    let mut body = booking_body(MONDAY_9);
    body.as_object_mut().unwrap().remove("eventTypeId");
    body["eventTypeSlug"] = json!("faerben");
    body["username"] = json!("demo-salon");
    let data = book(&sim, &body).await;
    assert_eq!(data["eventTypeId"], 1003);
    assert_eq!(data["duration"], 90);
    body["eventTypeSlug"] = json!("nope");
    create(&sim, &body).await.assert_envelope(
        StatusCode::NOT_FOUND,
        "NotFoundException",
        "Event type with slug nope belonging to user demo-salon not found.",
    );
}

#[actix_web::test]
async fn unknown_booking_field_is_400() {
    let (sim, _) = sim();
    let mut body = booking_body(MONDAY_9);
    body["callerId"] = json!("x");
    create(&sim, &body).await.assert_envelope(
        StatusCode::BAD_REQUEST,
        "BadRequestException",
        "callerId property is wrong,property callerId should not exist ",
    );
    let mut nested = booking_body(MONDAY_9);
    nested["attendee"]["phone"] = json!("+491711234567");
    create(&sim, &nested).await.assert_envelope(
        StatusCode::BAD_REQUEST,
        "BadRequestException",
        "attendee property is wrong, phone property is wrong,property phone should not exist ",
    );
}

#[actix_web::test]
async fn attendee_without_contact_is_400() {
    let (sim, _) = sim();
    let body = json!({ "start": MONDAY_9, "eventTypeId": 1001, "attendee": { "name": "Eve", "timeZone": "Europe/Berlin" } });
    let reply = create(&sim, &body).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply
            .message()
            .contains("At least one contact method (email or phone number) must be provided"),
        "{}",
        reply.body
    );
}

#[actix_web::test]
async fn bad_attendee_fields_are_400() {
    let (sim, _) = sim();
    let cases = [
        (
            json!({"name":"A","timeZone":"Europe/Berlin","phoneNumber":"030 1234567"}),
            "Invalid phone number format",
        ),
        (
            json!({"name":"A","timeZone":"Europe/Berlin","phoneNumber":"+49 12"}),
            "Invalid phone number format",
        ),
        (
            json!({"name":"A","timeZone":"Berlin","email":"a@example.com"}),
            "timeZone must be a valid IANA time-zone",
        ),
        (
            json!({"timeZone":"Europe/Berlin","email":"a@example.com"}),
            "name must be a string",
        ),
        (
            json!({"name":"A","timeZone":"Europe/Berlin","email":"not-an-email"}),
            "Invalid email format",
        ),
        (
            json!({"name":"A","timeZone":"Europe/Berlin","email":"a@example.com","language":"xx"}),
            "language must be one of",
        ),
    ];
    for (attendee, expected) in cases {
        let body = json!({ "start": MONDAY_9, "eventTypeId": 1001, "attendee": attendee });
        let reply = create(&sim, &body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{attendee}");
        assert!(
            reply.message().starts_with("attendee property is wrong,"),
            "{}",
            reply.body
        );
        assert!(
            reply.message().contains(expected),
            "{expected}: {}",
            reply.body
        );
    }
    let missing = json!({ "start": MONDAY_9, "eventTypeId": 1001 });
    create(&sim, &missing).await.assert_envelope(
        StatusCode::BAD_REQUEST,
        "BadRequestException",
        "attendee property is wrong,attendee should not be null or undefined ",
    );
}

#[actix_web::test]
async fn missing_start_and_event_type_are_400() {
    let (sim, _) = sim();
    let mut body = booking_body(MONDAY_9);
    body.as_object_mut().unwrap().remove("start");
    body.as_object_mut().unwrap().remove("eventTypeId");
    create(&sim, &body).await.assert_envelope(
        StatusCode::BAD_REQUEST,
        "BadRequestException",
        "start property is wrong,start must be a valid ISO 8601 date string , eventTypeId or eventTypeSlug + username property is wrong,Either eventTypeId or eventTypeSlug + username or eventTypeSlug + teamSlug must be provided ",
    );
    let mut bad_id = booking_body(MONDAY_9);
    bad_id["eventTypeId"] = json!("1001");
    let reply = create(&sim, &bad_id).await;
    assert!(
        reply
            .message()
            .contains("eventTypeId must be an integer number"),
        "{}",
        reply.body
    );
}

#[actix_web::test]
async fn metadata_limits_are_400() {
    let (sim, _) = sim();
    let many: serde_json::Map<String, Value> =
        (0..51).map(|i| (format!("k{i}"), json!("v"))).collect();
    let cases = [
        json!(many),
        json!({ "k".repeat(41): "v" }),
        json!({ "k": "v".repeat(501) }),
        json!("text"),
    ];
    for metadata in cases {
        let mut body = booking_body(MONDAY_9);
        body["metadata"] = metadata;
        let reply = create(&sim, &body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert!(
            reply.message().starts_with("metadata property is wrong,")
                && reply
                    .message()
                    .contains("Metadata must have at most 50 keys"),
            "{}",
            reply.body
        );
    }
    let mut at_limits = booking_body(MONDAY_9);
    let fifty: serde_json::Map<String, Value> = (0..50)
        .map(|i| (format!("{i:040}"), json!("v".repeat(500))))
        .collect();
    at_limits["metadata"] = json!(fifty);
    assert_eq!(create(&sim, &at_limits).await.status, StatusCode::CREATED);
}

#[actix_web::test]
async fn unknown_event_type_is_404() {
    let (sim, _) = sim();
    let mut body = booking_body(MONDAY_9);
    body["eventTypeId"] = json!(4242);
    create(&sim, &body).await.assert_envelope(
        StatusCode::NOT_FOUND,
        "NotFoundException",
        "Event type with id 4242 not found.",
    );
}

#[actix_web::test]
async fn length_in_minutes_is_400_for_single_length_events() {
    let (sim, _) = sim();
    let mut body = booking_body(MONDAY_9);
    body["lengthInMinutes"] = json!(30);
    let reply = create(&sim, &body).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply
            .message()
            .starts_with("Can't specify 'lengthInMinutes'"),
        "{}",
        reply.body
    );
}

#[actix_web::test]
async fn location_type_not_offered_is_400() {
    let (sim, _) = sim();
    let mut body = booking_body(MONDAY_9);
    body["location"] = json!({ "type": "integration", "integration": "zoom" });
    create(&sim, &body).await.assert_envelope(
        StatusCode::BAD_REQUEST,
        "BadRequestException",
        "Booking location with type integration not valid for event type with id=1001. The event type has following location types: attendeePhone, and only these types are allowed for booking location.",
    );
}

#[actix_web::test]
async fn taken_slot_is_400_with_calcom_message() {
    let (sim, _) = sim();
    book(&sim, &booking_body(MONDAY_9)).await;
    let again = create(&sim, &booking_body(MONDAY_9)).await;
    again.assert_envelope(
        StatusCode::BAD_REQUEST,
        "BadRequestException",
        "User either already has booking at this time or is not available",
    );
    // A 90-minute colouring 10:30–12:00 Berlin blocks a haircut at 11:00 (other event type).
    let mut colouring = booking_body("2050-09-06T08:30:00Z");
    colouring["eventTypeId"] = json!(1003);
    book(&sim, &colouring).await;
    let overlap = create(&sim, &booking_body("2050-09-06T09:00:00Z")).await;
    assert_eq!(
        overlap.message(),
        "User either already has booking at this time or is not available"
    );
}

#[actix_web::test]
async fn start_outside_hours_or_off_grid_is_400() {
    let (sim, _) = sim();
    for start in [
        "2050-09-11T09:00:00Z",
        "2050-09-05T07:10:00Z",
        "2050-09-05T16:00:00Z",
        "2050-09-10T12:00:00Z",
    ] {
        let reply = create(&sim, &booking_body(start)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{start}");
        assert_eq!(
            reply.message(),
            "User either already has booking at this time or is not available",
            "{start}"
        );
    }
    // 17:30–18:00 Berlin ends exactly at closing time.
    assert_eq!(
        create(&sim, &booking_body("2050-09-05T15:30:00Z"))
            .await
            .status,
        StatusCode::CREATED
    );
}

#[actix_web::test]
async fn past_start_is_400() {
    let (sim, _) = sim();
    create(&sim, &booking_body("2050-08-29T07:00:00Z"))
        .await
        .assert_envelope(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            "Attempting to book a meeting in the past.",
        );
}

#[actix_web::test]
async fn start_with_offset_is_read_as_that_instant() {
    let (sim, _) = sim();
    let data = book(&sim, &booking_body("2050-09-05T09:00:00+02:00")).await;
    assert_eq!(data["start"], "2050-09-05T07:00:00.000Z");
}

#[actix_web::test]
async fn malformed_or_non_object_body_is_400() {
    let (sim, _) = sim();
    let broken = test::TestRequest::post()
        .uri("/v2/bookings")
        .insert_header(("cal-api-version", BOOKINGS))
        .insert_header(("content-type", "application/json"))
        .set_payload("{\"start\":");
    let reply = send(&sim, broken).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body["statusCode"], 400, "{}", reply.body);
    assert!(
        reply.body["message"].is_string() && reply.body.get("status").is_none(),
        "{}",
        reply.body
    );
    create(&sim, &json!([1])).await.assert_envelope(
        StatusCode::BAD_REQUEST,
        "BadRequestException",
        "Body should be an object",
    );
}

#[actix_web::test]
async fn concurrent_creates_of_one_slot_book_once() {
    let (sim, _) = sim();
    let body = booking_body(MONDAY_9);
    let replies = join_all((0..6).map(|_| create(&sim, &body))).await;
    let statuses: Vec<StatusCode> = replies.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::BAD_REQUEST)
            .count(),
        5,
        "{statuses:?}"
    );
}

#[actix_web::test]
async fn get_by_uid_and_unknown_uid_is_404() {
    let (sim, _) = sim();
    let created = book(&sim, &booking_body(MONDAY_9)).await;
    let anonymous = test::TestRequest::get()
        .uri(&format!("/v2/bookings/{}", uid(&created)))
        .insert_header(("cal-api-version", BOOKINGS));
    let fetched = send(&sim, anonymous).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.data(), &created);
    send(&sim, get("/v2/bookings/nope", BOOKINGS))
        .await
        .assert_envelope(
            StatusCode::NOT_FOUND,
            "NotFoundException",
            "Booking with uid=nope was not found in the database",
        );
}

#[actix_web::test]
async fn reschedule_cancels_old_and_links_new() {
    let (sim, clock) = sim();
    let mut body = booking_body(MONDAY_9);
    body["metadata"] = json!({ "k": "v" });
    let old = book(&sim, &body).await;
    clock.set(utc(2050, 9, 2, 10, 0));
    let req = post(
        &format!("/v2/bookings/{}/reschedule", uid(&old)),
        BOOKINGS,
        &json!({ "start": "2050-09-06T12:00:00Z", "reschedulingReason": "Kunde verhindert", "rescheduledBy": "alice@example.com" }),
    );
    let reply = send(&sim, req).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let new = reply.data();
    assert_ne!(new["uid"], old["uid"]);
    assert_eq!(new["id"], 2);
    assert_eq!(new["status"], "accepted");
    assert_eq!(new["rescheduledFromUid"], old["uid"]);
    assert_eq!(new["reschedulingReason"], "Kunde verhindert");
    assert_eq!(new["rescheduledByEmail"], "alice@example.com");
    assert_eq!(new["start"], "2050-09-06T12:00:00.000Z");
    assert_eq!(new["duration"], 30);
    assert_eq!(new["attendees"], old["attendees"]);
    assert_eq!(new["metadata"], json!({ "k": "v" }));
    assert_eq!(new["createdAt"], "2050-09-02T10:00:00.000Z");

    let old_now = send(&sim, get(&format!("/v2/bookings/{}", uid(&old)), BOOKINGS)).await;
    assert_eq!(old_now.data()["status"], "cancelled");
    assert_eq!(old_now.data()["rescheduledToUid"], new["uid"]);
    // The old time is free again.
    assert_eq!(
        create(&sim, &booking_body(MONDAY_9)).await.status,
        StatusCode::CREATED
    );
}

#[actix_web::test]
async fn reschedule_may_overlap_its_own_time_but_not_others() {
    let (sim, _) = sim();
    let mut long = booking_body(MONDAY_9);
    long["eventTypeId"] = json!(1002);
    let own = book(&sim, &long).await;
    book(&sim, &booking_body("2050-09-05T09:00:00Z")).await;
    // 60 minutes from 09:00 to 10:00 Berlin again: only its own time overlaps.
    assert_eq!(
        reschedule(&sim, &uid(&own), MONDAY_9).await.status,
        StatusCode::CREATED
    );
    let blocked = reschedule(
        &sim,
        &uid(&book(&sim, &booking_body("2050-09-05T08:00:00Z")).await),
        "2050-09-05T09:00:00Z",
    )
    .await;
    blocked.assert_envelope(
        StatusCode::BAD_REQUEST,
        "BadRequestException",
        "User either already has booking at this time or is not available",
    );
}

#[actix_web::test]
async fn reschedule_errors_follow_calcom() {
    let (sim, _) = sim();
    let booking = book(&sim, &booking_body(MONDAY_9)).await;
    let id = uid(&booking);
    reschedule(&sim, "nope", "2050-09-06T07:00:00Z")
        .await
        .assert_envelope(
            StatusCode::NOT_FOUND,
            "NotFoundException",
            "Booking with uid=nope was not found in the database",
        );
    reschedule(&sim, &id, "2050-08-30T07:00:00Z")
        .await
        .assert_envelope(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            "Attempting to book a meeting in the past.",
        );
    let unknown = send(
        &sim,
        post(
            &format!("/v2/bookings/{id}/reschedule"),
            BOOKINGS,
            &json!({"start": MONDAY_9, "when": 1}),
        ),
    )
    .await;
    unknown.assert_envelope(
        StatusCode::BAD_REQUEST,
        "BadRequestException",
        "when property is wrong,property when should not exist ",
    );

    let moved = reschedule(&sim, &id, "2050-09-06T07:00:00Z").await;
    let new_uid = uid(moved.data());
    let again = reschedule(&sim, &id, "2050-09-07T07:00:00Z").await;
    again.assert_envelope(
        StatusCode::BAD_REQUEST,
        "BadRequestException",
        &format!("Can't reschedule booking with uid={id} because it has been cancelled and rescheduled already to booking with uid={new_uid}. You probably want to reschedule {new_uid} instead by passing it within the request URL."),
    );
    cancel(&sim, &new_uid, &json!({})).await;
    reschedule(&sim, &new_uid, "2050-09-07T07:00:00Z").await.assert_envelope(
        StatusCode::BAD_REQUEST,
        "BadRequestException",
        &format!("Can't reschedule booking with uid={new_uid} because it has been cancelled. Please provide uid of a booking that is not cancelled."),
    );
}

#[actix_web::test]
async fn cancel_returns_200_with_reason_and_canceller() {
    let (sim, clock) = sim();
    let booking = book(&sim, &booking_body(MONDAY_9)).await;
    clock.set(utc(2050, 9, 3, 12, 0));
    let reply = cancel(
        &sim,
        &uid(&booking),
        &json!({ "cancellationReason": "Kunde hat abgesagt" }),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.data()["status"], "cancelled");
    assert_eq!(reply.data()["cancellationReason"], "Kunde hat abgesagt");
    assert_eq!(reply.data()["cancelledByEmail"], "demo-salon@example.com");
    assert_eq!(reply.data()["updatedAt"], "2050-09-03T12:00:00.000Z");
}

#[actix_web::test]
async fn cancel_twice_is_400_httperror_shape() {
    let (sim, _) = sim();
    let id = uid(&book(&sim, &booking_body(MONDAY_9)).await);
    assert_eq!(cancel(&sim, &id, &json!({})).await.status, StatusCode::OK);
    let again = cancel(&sim, &id, &json!({})).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        again.body,
        json!({"statusCode":400,"message":"This booking has already been cancelled."})
    );
}

#[actix_web::test]
async fn cancel_unknown_uid_is_404_httperror_shape() {
    let (sim, _) = sim();
    let reply = cancel(&sim, "nope", &json!({})).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        reply.body,
        json!({"statusCode":404,"message":"Booking not found."})
    );
}

#[actix_web::test]
async fn cancel_after_the_end_is_400_httperror_shape() {
    let (sim, clock) = sim();
    let id = uid(&book(&sim, &booking_body(MONDAY_9)).await);
    clock.set(utc(2050, 9, 5, 8, 0));
    let reply = cancel(&sim, &id, &json!({})).await;
    assert_eq!(
        reply.body,
        json!({"statusCode":400,"message":"Cannot cancel a booking that has already ended"})
    );
}

#[actix_web::test]
async fn cancel_body_is_validated() {
    let (sim, _) = sim();
    let id = uid(&book(&sim, &booking_body(MONDAY_9)).await);
    let reply = cancel(&sim, &id, &json!({ "reason": "x" })).await;
    reply.assert_envelope(
        StatusCode::BAD_REQUEST,
        "BadRequestException",
        "reason property is wrong,property reason should not exist ",
    );
    let seat = cancel(&sim, &id, &json!({ "seatUid": "s-1" })).await;
    seat.assert_envelope(
        StatusCode::BAD_REQUEST,
        "BadRequestException",
        "Invalid seatUid: this seat does not exist or has already been cancelled.",
    );
    let anonymous = test::TestRequest::post()
        .uri(&format!("/v2/bookings/{id}/cancel"))
        .insert_header(("cal-api-version", BOOKINGS));
    let reply = send(&sim, anonymous).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.data()["cancelledByEmail"], "");
}
