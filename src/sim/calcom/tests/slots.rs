//! `GET /v2/slots` (calcom.md §2).

use super::*;

fn slots(query: &str) -> test::TestRequest {
    get(&format!("/v2/slots?{query}"), SLOTS)
}

#[actix_web::test]
async fn slots_follow_working_hours_in_berlin() {
    let (sim, _) = sim();
    let reply = send(
        &sim,
        slots("start=2050-09-05&end=2050-09-05&eventTypeId=1003&timeZone=Europe/Berlin"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["status"], "success");
    // 90-minute grid from 09:00; 16:30 is the last start that ends by 18:00.
    let expected: Vec<String> = ["09:00", "10:30", "12:00", "13:30", "15:00", "16:30"]
        .iter()
        .map(|t| format!("2050-09-05T{t}:00.000+02:00"))
        .collect();
    assert_eq!(starts(&reply, "2050-09-05"), expected);
}

#[actix_web::test]
async fn slots_without_time_zone_are_utc_with_z() {
    let (sim, _) = sim();
    let reply = send(
        &sim,
        slots("start=2050-09-05&end=2050-09-05&eventTypeId=1002"),
    )
    .await;
    let day = starts(&reply, "2050-09-05");
    assert_eq!(
        day.first().map(String::as_str),
        Some("2050-09-05T07:00:00.000Z")
    );
    assert_eq!(
        day.last().map(String::as_str),
        Some("2050-09-05T15:00:00.000Z")
    );
    assert_eq!(day.len(), 9);
}

#[actix_web::test]
async fn date_only_end_covers_the_whole_day() {
    let (sim, _) = sim();
    let reply = send(
        &sim,
        slots("start=2050-09-05T00:00:00Z&end=2050-09-05T00:00:00Z&eventTypeId=1001"),
    )
    .await;
    assert_eq!(starts(&reply, "2050-09-05").len(), 18, "{}", reply.body);
    let exact = send(
        &sim,
        slots("start=2050-09-05T07:00:00Z&end=2050-09-05T07:30:00Z&eventTypeId=1001"),
    )
    .await;
    assert_eq!(
        starts(&exact, "2050-09-05"),
        ["2050-09-05T07:00:00.000Z", "2050-09-05T07:30:00.000Z"]
    );
}

#[actix_web::test]
async fn saturday_is_short_sunday_is_omitted() {
    let (sim, _) = sim();
    let reply = send(
        &sim,
        slots("start=2050-09-10&end=2050-09-11&eventTypeId=1002&timeZone=Europe/Berlin"),
    )
    .await;
    let days: Vec<&String> = reply.data().as_object().unwrap().keys().collect();
    assert_eq!(days, ["2050-09-10"]);
    assert_eq!(
        starts(&reply, "2050-09-10"),
        ["10:00", "11:00", "12:00", "13:00"].map(|t| format!("2050-09-10T{t}:00.000+02:00"))
    );
}

#[actix_web::test]
async fn nothing_free_is_an_empty_object() {
    let (sim, _) = sim();
    let reply = send(
        &sim,
        slots("start=2050-09-11&end=2050-09-11&eventTypeId=1001"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, json!({"status":"success","data":{}}));
}

#[actix_web::test]
async fn days_are_keyed_in_the_requested_zone() {
    let (sim, _) = sim();
    // Friday 16:00 and 17:00 Berlin are 23:00 Friday and 00:00 Saturday in Tokyo (UTC+9).
    let reply = send(&sim, slots("start=2050-09-09T14:00:00Z&end=2050-09-09T15:30:00Z&eventTypeId=1002&timeZone=Asia/Tokyo")).await;
    assert_eq!(
        starts(&reply, "2050-09-09"),
        ["2050-09-09T23:00:00.000+09:00"]
    );
    assert_eq!(
        starts(&reply, "2050-09-10"),
        ["2050-09-10T00:00:00.000+09:00"]
    );
}

#[actix_web::test]
async fn slots_exclude_taken_time() {
    let (sim, _) = sim();
    // A 60-minute booking 10:00–11:00 Berlin blocks the 30-minute slots 10:00 and 10:30.
    let mut body = booking_body("2050-09-05T08:00:00Z");
    body["eventTypeId"] = json!(1002);
    book(&sim, &body).await;
    let reply = send(
        &sim,
        slots("start=2050-09-05T07:00:00Z&end=2050-09-05T09:30:00Z&eventTypeId=1001"),
    )
    .await;
    assert_eq!(
        starts(&reply, "2050-09-05"),
        [
            "2050-09-05T07:00:00.000Z",
            "2050-09-05T07:30:00.000Z",
            "2050-09-05T09:00:00.000Z",
            "2050-09-05T09:30:00.000Z"
        ]
    );
}

#[actix_web::test]
async fn cancelled_booking_frees_its_slot() {
    let (sim, _) = sim();
    let uid = book(&sim, &booking_body("2050-09-05T07:00:00Z")).await["uid"]
        .as_str()
        .unwrap()
        .to_owned();
    send(
        &sim,
        post(&format!("/v2/bookings/{uid}/cancel"), BOOKINGS, &json!({})),
    )
    .await;
    let reply = send(
        &sim,
        slots("start=2050-09-05T07:00:00Z&end=2050-09-05T07:00:00Z&eventTypeId=1001"),
    )
    .await;
    assert_eq!(starts(&reply, "2050-09-05"), ["2050-09-05T07:00:00.000Z"]);
}

#[actix_web::test]
async fn slots_exclude_the_past() {
    let (sim, clock) = sim();
    clock.set(utc(2050, 9, 5, 9, 10));
    let reply = send(
        &sim,
        slots("start=2050-09-05&end=2050-09-05&eventTypeId=1001&timeZone=Europe/Berlin"),
    )
    .await;
    assert_eq!(
        starts(&reply, "2050-09-05").first().map(String::as_str),
        Some("2050-09-05T11:30:00.000+02:00")
    );
}

#[actix_web::test]
async fn range_format_has_end() {
    let (sim, _) = sim();
    let reply = send(
        &sim,
        slots("start=2050-09-05&end=2050-09-05&eventTypeId=1001&format=RANGE"),
    )
    .await;
    let first = &reply.data()["2050-09-05"][0];
    assert_eq!(
        first,
        &json!({"start":"2050-09-05T07:00:00.000Z","end":"2050-09-05T07:30:00.000Z"})
    );
    let time = send(
        &sim,
        slots("start=2050-09-05&end=2050-09-05&eventTypeId=1001&format=time"),
    )
    .await;
    assert_eq!(
        time.data()["2050-09-05"][0],
        json!({"start":"2050-09-05T07:00:00.000Z"})
    );
}

#[actix_web::test]
async fn duration_sets_length_and_step() {
    let (sim, _) = sim();
    let reply = send(
        &sim,
        slots("start=2050-09-05&end=2050-09-05&eventTypeId=1001&duration=45&format=range"),
    )
    .await;
    let first_two = &reply.data()["2050-09-05"].as_array().unwrap()[..2];
    assert_eq!(
        first_two,
        [
            json!({"start":"2050-09-05T07:00:00.000Z","end":"2050-09-05T07:45:00.000Z"}),
            json!({"start":"2050-09-05T07:45:00.000Z","end":"2050-09-05T08:30:00.000Z"}),
        ]
    );
}

#[actix_web::test]
async fn booking_uid_to_reschedule_frees_its_own_time() {
    let (sim, _) = sim();
    let uid = book(&sim, &booking_body("2050-09-05T07:00:00Z")).await["uid"]
        .as_str()
        .unwrap()
        .to_owned();
    let query = format!(
        "start=2050-09-05T07:00:00Z&end=2050-09-05T07:00:00Z&eventTypeId=1001&bookingUidToReschedule={uid}"
    );
    assert_eq!(
        starts(&send(&sim, slots(&query)).await, "2050-09-05"),
        ["2050-09-05T07:00:00.000Z"]
    );
}

#[actix_web::test]
async fn slug_and_username_select_the_event_type() {
    let (sim, _) = sim();
    let reply = send(
        &sim,
        slots("start=2050-09-05&end=2050-09-05&eventTypeSlug=faerben&username=demo-salon"),
    )
    .await;
    assert_eq!(starts(&reply, "2050-09-05").len(), 6, "{}", reply.body);
    let unknown_user = send(
        &sim,
        slots("start=2050-09-05&end=2050-09-05&eventTypeSlug=faerben&username=bob"),
    )
    .await;
    unknown_user.assert_envelope(
        StatusCode::NOT_FOUND,
        "NotFoundException",
        "User with username bob not found",
    );
}

#[actix_web::test]
async fn bad_format_is_400() {
    let (sim, _) = sim();
    let reply = send(
        &sim,
        slots("start=2050-09-05&end=2050-09-05&eventTypeId=1001&format=list"),
    )
    .await;
    reply.assert_envelope(
        StatusCode::BAD_REQUEST,
        "BadRequestException",
        "slotFormat must be either 'range' or 'time'",
    );
    assert_eq!(
        reply.body["error"]["details"],
        json!({"message":"slotFormat must be either 'range' or 'time'","error":"Bad Request","statusCode":400})
    );
}

#[actix_web::test]
async fn invalid_dates_are_400() {
    let (sim, _) = sim();
    let start = send(
        &sim,
        slots("start=2050-02-30&end=2050-09-05&eventTypeId=1001"),
    )
    .await;
    start.assert_envelope(
        StatusCode::BAD_REQUEST,
        "BadRequestException",
        "Invalid start date",
    );
    let end = send(&sim, slots("start=2050-09-05&end=soon&eventTypeId=1001")).await;
    end.assert_envelope(
        StatusCode::BAD_REQUEST,
        "BadRequestException",
        "Invalid end date",
    );
    let missing = send(&sim, slots("end=2050-09-05&eventTypeId=1001")).await;
    missing.assert_envelope(
        StatusCode::BAD_REQUEST,
        "BadRequestException",
        "start property is wrong,start must be a valid ISO 8601 date string ",
    );
}

#[actix_web::test]
async fn unknown_event_type_is_404() {
    let (sim, _) = sim();
    let reply = send(
        &sim,
        slots("start=2050-09-05&end=2050-09-05&eventTypeId=9999"),
    )
    .await;
    reply.assert_envelope(
        StatusCode::NOT_FOUND,
        "NotFoundException",
        "Event Type with ID=9999 not found",
    );
}

#[actix_web::test]
async fn missing_event_type_id_is_400_in_pipe_style() {
    let (sim, _) = sim();
    let reply = send(&sim, slots("start=2050-09-05&end=2050-09-05")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.message().starts_with("usernames property is wrong,"),
        "{}",
        reply.body
    );
    assert!(
        reply
            .message()
            .contains("organizationSlug property is wrong,"),
        "{}",
        reply.body
    );
}

#[actix_web::test]
async fn unknown_query_parameter_and_bad_zone_are_400() {
    let (sim, _) = sim();
    let reply = send(
        &sim,
        slots("start=2050-09-05&end=2050-09-05&eventTypeId=1001&startTime=x"),
    )
    .await;
    reply.assert_envelope(
        StatusCode::BAD_REQUEST,
        "BadRequestException",
        "startTime property is wrong,property startTime should not exist ",
    );
    let zone = send(
        &sim,
        slots("start=2050-09-05&end=2050-09-05&eventTypeId=1001&timeZone=Berlin"),
    )
    .await;
    zone.assert_envelope(
        StatusCode::BAD_REQUEST,
        "BadRequestException",
        "timeZone property is wrong,timeZone must be a valid IANA time-zone ",
    );
}

#[actix_web::test]
async fn non_numeric_event_type_id_is_400() {
    let (sim, _) = sim();
    let reply = send(
        &sim,
        slots("start=2050-09-05&end=2050-09-05&eventTypeId=abc"),
    )
    .await;
    reply.assert_envelope(
        StatusCode::BAD_REQUEST,
        "BadRequestException",
        "eventTypeId property is wrong,eventTypeId must be a number conforming to the specified constraints ",
    );
}
