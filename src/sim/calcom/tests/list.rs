//! `GET /v2/bookings` (calcom.md §4.3).

use super::*;

fn list(query: &str) -> test::TestRequest {
    get(&format!("/v2/bookings?{query}"), BOOKINGS)
}

fn uids(reply: &Reply) -> Vec<String> {
    reply
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["uid"].as_str().unwrap().to_owned())
        .collect()
}

/// Books 1001 on Monday 09:00, Tuesday 09:00 (1002, phone-only Bob) and Wednesday 09:00
/// (cancelled); returns their uids in that order.
async fn three_bookings(sim: &CalcomSim) -> [String; 3] {
    let monday = book(sim, &booking_body("2050-09-05T07:00:00Z")).await;
    let tuesday = book(
        sim,
        &json!({ "start": "2050-09-06T07:00:00Z", "eventTypeId": 1002,
                 "attendee": { "name": "Bob", "phoneNumber": "+491711234567", "timeZone": "Europe/Berlin" } }),
    )
    .await;
    let wednesday = book(sim, &booking_body("2050-09-07T07:00:00Z")).await;
    let uid = |b: &Value| b["uid"].as_str().unwrap().to_owned();
    send(
        sim,
        post(
            &format!("/v2/bookings/{}/cancel", uid(&wednesday)),
            BOOKINGS,
            &json!({}),
        ),
    )
    .await;
    [uid(&monday), uid(&tuesday), uid(&wednesday)]
}

#[actix_web::test]
async fn list_returns_all_with_pagination() {
    let (sim, _) = sim();
    let [mon, tue, wed] = three_bookings(&sim).await;
    let reply = send(&sim, list("")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["status"], "success");
    assert_eq!(uids(&reply), [mon, tue, wed]);
    assert_eq!(
        reply.body["pagination"],
        json!({"totalItems":3,"remainingItems":0,"returnedItems":3,"itemsPerPage":100,
               "currentPage":1,"totalPages":1,"hasNextPage":false,"hasPreviousPage":false})
    );
}

#[actix_web::test]
async fn list_filters_by_status() {
    let (sim, clock) = sim();
    let [mon, tue, wed] = three_bookings(&sim).await;
    assert_eq!(
        uids(&send(&sim, list("status=upcoming")).await),
        [mon.as_str(), tue.as_str()]
    );
    assert_eq!(
        uids(&send(&sim, list("status=cancelled")).await),
        [wed.as_str()]
    );
    clock.set(utc(2050, 9, 6, 12, 0));
    assert_eq!(
        uids(&send(&sim, list("status=past")).await),
        [tue.as_str(), mon.as_str()],
        "newest first"
    );
    assert_eq!(
        uids(&send(&sim, list("status=upcoming,cancelled")).await),
        [wed]
    );
    let bad = send(&sim, list("status=soon")).await;
    bad.assert_envelope(
        StatusCode::BAD_REQUEST,
        "BadRequestException",
        "Bad Request Exception",
    );
    let error = &bad.body["error"]["details"]["errors"][0];
    assert_eq!(error["property"], "status");
    assert_eq!(error["value"], "soon");
    assert!(
        error["constraints"]["isEnum"]
            .as_str()
            .is_some_and(|m| m.starts_with("each value in status"))
    );
}

#[actix_web::test]
async fn list_filters_by_attendee_and_event_type() {
    let (sim, _) = sim();
    let [mon, tue, wed] = three_bookings(&sim).await;
    assert_eq!(
        uids(&send(&sim, list("attendeeEmail=ALICE@example.com")).await),
        [mon.as_str(), wed.as_str()]
    );
    // Phone-only callers are found through their deterministic sms address.
    assert_eq!(
        uids(&send(&sim, list("attendeeEmail=491711234567@sms.cal.com")).await),
        [tue.as_str()]
    );
    assert_eq!(
        uids(&send(&sim, list("attendeeName=bob")).await),
        [tue.as_str()]
    );
    assert_eq!(
        uids(&send(&sim, list("eventTypeId=1002")).await),
        [tue.as_str()]
    );
    assert_eq!(
        uids(&send(&sim, list("eventTypeIds=1001,1003")).await),
        [mon.as_str(), wed.as_str()]
    );
    assert_eq!(
        uids(&send(&sim, list(&format!("bookingUid={tue}"))).await),
        [tue]
    );
    assert!(uids(&send(&sim, list("teamId=5")).await).is_empty());
}

#[actix_web::test]
async fn list_filters_by_time_and_sorts() {
    let (sim, _) = sim();
    let [mon, tue, wed] = three_bookings(&sim).await;
    let window = send(
        &sim,
        list("afterStart=2050-09-06T00:00:00Z&beforeEnd=2050-09-06T23:59:59Z"),
    )
    .await;
    assert_eq!(uids(&window), [tue.as_str()]);
    assert_eq!(
        uids(&send(&sim, list("sortStart=desc")).await),
        [wed, tue, mon]
    );
}

#[actix_web::test]
async fn list_paginates_with_take_and_skip() {
    let (sim, _) = sim();
    let [_, tue, _] = three_bookings(&sim).await;
    let reply = send(&sim, list("take=1&skip=1")).await;
    assert_eq!(uids(&reply), [tue]);
    assert_eq!(
        reply.body["pagination"],
        json!({"totalItems":3,"remainingItems":1,"returnedItems":1,"itemsPerPage":1,
               "currentPage":2,"totalPages":3,"hasNextPage":true,"hasPreviousPage":true})
    );
}

#[actix_web::test]
async fn list_bad_query_values_are_400_with_validation_errors() {
    let (sim, _) = sim();
    for (query, property, constraint) in [
        ("take=500", "take", "max"),
        ("take=0", "take", "min"),
        ("take=many", "take", "isNumber"),
        ("skip=-1", "skip", "min"),
        ("afterStart=yesterday", "afterStart", "isDateString"),
        ("sortStart=up", "sortStart", "isEnum"),
        ("eventTypeId=x", "eventTypeId", "isNumber"),
    ] {
        let reply = send(&sim, list(query)).await;
        reply.assert_envelope(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            "Bad Request Exception",
        );
        let error = &reply.body["error"]["details"]["errors"][0];
        assert_eq!(error["property"], property, "{query}");
        assert!(
            error["constraints"][constraint].is_string(),
            "{query}: {error}"
        );
        assert!(error["target"].is_object(), "{query}");
    }
    let take = send(&sim, list("take=500")).await;
    assert_eq!(
        take.body["error"]["details"]["errors"][0]["constraints"]["max"],
        "take must not be greater than 250"
    );
}
