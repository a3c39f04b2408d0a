//! Slot reservations (calcom.md §2 "Slot holds") and how they bind slots and bookings.

use super::*;

const SLOT: &str = "2050-09-05T07:00:00Z";

fn reserve_body(start: &str) -> Value {
    json!({ "eventTypeId": 1001, "slotStart": start, "slotDuration": 30, "reservationDuration": 10 })
}

/// Reserves `start` for 10 minutes with the demo key, asserting 201; returns `data`.
async fn reserve(sim: &CalcomSim, start: &str) -> Value {
    let reply = send(
        sim,
        post("/v2/slots/reservations", SLOTS, &reserve_body(start)),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.data().clone()
}

async fn free_starts(sim: &CalcomSim) -> Vec<String> {
    let reply = send(
        sim,
        get(
            "/v2/slots?start=2050-09-05T07:00:00Z&end=2050-09-05T08:00:00Z&eventTypeId=1001",
            SLOTS,
        ),
    )
    .await;
    starts(&reply, "2050-09-05")
}

fn with_reservation(mut body: Value, uid: &Value) -> Value {
    body["reservedSlotUid"] = uid.clone();
    body
}

#[actix_web::test]
async fn reservation_answers_the_reserve_slot_output_and_hides_the_slot() {
    let (sim, _) = sim();
    let held = reserve(&sim, SLOT).await;
    assert_eq!(held["eventTypeId"], 1001);
    assert_eq!(held["slotStart"], "2050-09-05T07:00:00.000Z");
    assert_eq!(held["slotEnd"], "2050-09-05T07:30:00.000Z");
    assert_eq!(held["slotDuration"], 30);
    assert_eq!(held["reservationDuration"], 10);
    assert_eq!(held["reservationUntil"], "2050-09-01T08:10:00.000Z");
    assert_eq!(held["reservationUid"].as_str().map(str::len), Some(36));
    assert_eq!(
        free_starts(&sim).await,
        ["2050-09-05T07:30:00.000Z", "2050-09-05T08:00:00.000Z"]
    );
}

#[actix_web::test]
async fn second_reservation_of_a_held_slot_is_422() {
    let (sim, _) = sim();
    reserve(&sim, SLOT).await;
    let reply = send(
        &sim,
        post("/v2/slots/reservations", SLOTS, &reserve_body(SLOT)),
    )
    .await;
    reply.assert_envelope(
        StatusCode::UNPROCESSABLE_ENTITY,
        "UnprocessableEntityException",
        "This time slot is already reserved by another user",
    );
}

#[actix_web::test]
async fn booking_a_held_slot_without_its_reservation_is_refused_in_the_bare_shape() {
    let (sim, _) = sim();
    let held = reserve(&sim, SLOT).await;
    for body in [
        booking_body(SLOT),
        with_reservation(booking_body(SLOT), &json!("someone-elses")),
    ] {
        let reply = send(&sim, post("/v2/bookings", BOOKINGS, &body)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
        assert_eq!(
            reply.body,
            json!({"statusCode": 400,
                   "message": "Someone else reserved this slot before you. This slot will be freed up in 600 seconds."})
        );
    }
    let uid = held["reservationUid"].as_str().unwrap();
    let still = send(&sim, get(&format!("/v2/slots/reservations/{uid}"), SLOTS)).await;
    assert_eq!(still.status, StatusCode::OK, "{}", still.body);
}

#[actix_web::test]
async fn booking_with_the_reservation_redeems_it() {
    let (sim, _) = sim();
    let held = reserve(&sim, SLOT).await;
    let booked = book(
        &sim,
        &with_reservation(booking_body(SLOT), &held["reservationUid"]),
    )
    .await;
    assert_eq!(booked["start"], "2050-09-05T07:00:00.000Z");
    let uid = held["reservationUid"].as_str().unwrap();
    let gone = send(&sim, get(&format!("/v2/slots/reservations/{uid}"), SLOTS)).await;
    gone.assert_envelope(
        StatusCode::NOT_FOUND,
        "NotFoundException",
        &format!("Reserved slot with uid={uid} not found"),
    );
}

#[actix_web::test]
async fn lapsed_hold_frees_the_slot_for_everyone() {
    let (sim, clock) = sim();
    let held = reserve(&sim, SLOT).await;
    clock.set(utc(2050, 9, 1, 8, 10));
    assert_eq!(free_starts(&sim).await[0], "2050-09-05T07:00:00.000Z");
    let uid = held["reservationUid"].as_str().unwrap();
    let renew = send(
        &sim,
        test::TestRequest::patch()
            .uri(&format!("/v2/slots/reservations/{uid}"))
            .insert_header(("cal-api-version", SLOTS))
            .insert_header(bearer())
            .set_json(reserve_body(SLOT)),
    )
    .await;
    assert_eq!(renew.status, StatusCode::NOT_FOUND, "{}", renew.body);
    book(&sim, &booking_body(SLOT)).await;
}

#[actix_web::test]
async fn renewal_runs_the_hold_from_now_again() {
    let (sim, clock) = sim();
    let held = reserve(&sim, SLOT).await;
    clock.set(utc(2050, 9, 1, 8, 9));
    let uid = held["reservationUid"].as_str().unwrap();
    let renew = send(
        &sim,
        test::TestRequest::patch()
            .uri(&format!("/v2/slots/reservations/{uid}"))
            .insert_header(("cal-api-version", SLOTS))
            .insert_header(bearer())
            .set_json(reserve_body(SLOT)),
    )
    .await;
    assert_eq!(renew.status, StatusCode::OK, "{}", renew.body);
    assert_eq!(renew.data()["reservationUid"], uid);
    assert_eq!(renew.data()["reservationUntil"], "2050-09-01T08:19:00.000Z");
    clock.set(utc(2050, 9, 1, 8, 15));
    let other = send(&sim, post("/v2/bookings", BOOKINGS, &booking_body(SLOT))).await;
    assert_eq!(other.status, StatusCode::BAD_REQUEST, "{}", other.body);
}

#[actix_web::test]
async fn release_frees_the_slot_and_a_second_release_is_404() {
    let (sim, _) = sim();
    let held = reserve(&sim, SLOT).await;
    let uid = held["reservationUid"].as_str().unwrap();
    let delete = || {
        test::TestRequest::delete()
            .uri(&format!("/v2/slots/reservations/{uid}"))
            .insert_header(("cal-api-version", SLOTS))
            .insert_header(bearer())
    };
    let released = send(&sim, delete()).await;
    assert_eq!(released.status, StatusCode::OK, "{}", released.body);
    assert_eq!(released.body, json!({"status": "success"}));
    assert_eq!(free_starts(&sim).await[0], "2050-09-05T07:00:00.000Z");
    assert_eq!(send(&sim, delete()).await.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn reschedule_into_a_held_slot_needs_its_reservation() {
    let (sim, _) = sim();
    let booked = book(&sim, &booking_body("2050-09-05T09:00:00Z")).await;
    let held = reserve(&sim, SLOT).await;
    let uri = format!(
        "/v2/bookings/{}/reschedule",
        booked["uid"].as_str().unwrap()
    );
    let refused = send(&sim, post(&uri, BOOKINGS, &json!({ "start": SLOT }))).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(
        refused.body["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Someone else reserved this slot before you")),
        "{}",
        refused.body
    );
    let body = json!({ "start": SLOT, "reservedSlotUid": held["reservationUid"] });
    let moved = send(&sim, post(&uri, BOOKINGS, &body)).await;
    assert_eq!(moved.status, StatusCode::CREATED, "{}", moved.body);
    assert_eq!(moved.data()["start"], "2050-09-05T07:00:00.000Z");
}

#[actix_web::test]
async fn reservation_duration_needs_an_api_key() {
    let (sim, _) = sim();
    let anonymous = |body: &Value| {
        test::TestRequest::post()
            .uri("/v2/slots/reservations")
            .insert_header(("cal-api-version", SLOTS))
            .set_json(body)
    };
    let refused = send(&sim, anonymous(&reserve_body(SLOT))).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    let held = send(
        &sim,
        anonymous(&json!({ "eventTypeId": 1001, "slotStart": SLOT })),
    )
    .await;
    assert_eq!(held.status, StatusCode::CREATED, "{}", held.body);
    assert_eq!(held.data()["reservationDuration"], 5);
    assert_eq!(held.data()["reservationUntil"], "2050-09-01T08:05:00.000Z");
}

#[actix_web::test]
async fn malformed_reservations_are_refused_and_hold_nothing() {
    let (sim, _) = sim();
    let cases = [
        (
            json!({ "eventTypeId": 1001, "slotStart": SLOT, "colour": "red" }),
            StatusCode::BAD_REQUEST,
        ),
        (json!({ "slotStart": SLOT }), StatusCode::BAD_REQUEST),
        (
            json!({ "eventTypeId": 1001, "slotStart": "tomorrow" }),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({ "eventTypeId": 9999, "slotStart": SLOT }),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({ "eventTypeId": 1001, "slotStart": "2050-09-05T07:10:00Z" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({ "eventTypeId": 1001, "slotStart": "2050-08-05T07:00:00Z" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (body, status) in cases {
        let reply = send(&sim, post("/v2/slots/reservations", SLOTS, &body)).await;
        assert_eq!(reply.status, status, "{body}: {}", reply.body);
    }
    assert_eq!(free_starts(&sim).await[0], "2050-09-05T07:00:00.000Z");
}

#[actix_web::test]
async fn reservations_answer_only_under_their_api_version() {
    let (sim, _) = sim();
    let reply = send(
        &sim,
        post("/v2/slots/reservations", BOOKINGS, &reserve_body(SLOT)),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
}
