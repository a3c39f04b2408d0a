//! `GET /v2/event-types` (calcom.md §3).

use super::*;

#[actix_web::test]
async fn key_owner_gets_the_demo_catalog() {
    let (sim, _) = sim();
    let reply = send(&sim, get("/v2/event-types", EVENT_TYPES)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let types = reply.data().as_array().unwrap();
    let summary: Vec<(i64, &str, &str, i64)> = types
        .iter()
        .map(|t| {
            (
                t["id"].as_i64().unwrap(),
                t["title"].as_str().unwrap(),
                t["slug"].as_str().unwrap(),
                t["lengthInMinutes"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (1001, "Herrenhaarschnitt", "herrenhaarschnitt", 30),
            (1002, "Damenhaarschnitt", "damenhaarschnitt", 60),
            (1003, "Färben", "faerben", 90),
        ]
    );
    let first = &types[0];
    assert_eq!(first["locations"], json!([{"type":"attendeePhone"}]));
    assert_eq!(first["hidden"], false);
    assert_eq!(first["ownerId"], 1);
    assert_eq!(first["minimumBookingNotice"], 0);
    assert_eq!(
        first["bookingUrl"],
        "https://cal.com/demo-salon/herrenhaarschnitt"
    );
    assert_eq!(first["users"][0]["username"], "demo-salon");
    assert_eq!(first["users"][0]["name"], "Demo Salon Berlin");
    assert!(
        first["bookingFields"]
            .as_array()
            .is_some_and(|f| !f.is_empty())
    );
}

#[actix_web::test]
async fn anonymous_without_filter_gets_empty_list() {
    let (sim, _) = sim();
    let req = test::TestRequest::get()
        .uri("/v2/event-types")
        .insert_header(("cal-api-version", EVENT_TYPES));
    let reply = send(&sim, req).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, json!({"status":"success","data":[]}));
}

#[actix_web::test]
async fn username_and_slug_filters_work_anonymously() {
    let (sim, _) = sim();
    let anonymous = |uri: &str| {
        test::TestRequest::get()
            .uri(uri)
            .insert_header(("cal-api-version", EVENT_TYPES))
    };
    let by_user = send(&sim, anonymous("/v2/event-types?username=demo-salon")).await;
    assert_eq!(by_user.data().as_array().map(Vec::len), Some(3));
    let one = send(
        &sim,
        anonymous("/v2/event-types?username=demo-salon&eventSlug=faerben"),
    )
    .await;
    assert_eq!(one.data()[0]["id"], 1003);
    assert_eq!(one.data().as_array().map(Vec::len), Some(1));
    let none = send(
        &sim,
        anonymous("/v2/event-types?username=demo-salon&eventSlug=nope"),
    )
    .await;
    assert_eq!(none.data(), &json!([]));
}

#[actix_web::test]
async fn sort_created_at_desc_reverses_and_bad_value_is_400() {
    let (sim, _) = sim();
    let desc = send(&sim, get("/v2/event-types?sortCreatedAt=desc", EVENT_TYPES)).await;
    assert_eq!(desc.data()[0]["id"], 1003);
    let bad = send(&sim, get("/v2/event-types?sortCreatedAt=up", EVENT_TYPES)).await;
    bad.assert_envelope(
        StatusCode::BAD_REQUEST,
        "BadRequestException",
        "Bad Request Exception",
    );
    assert_eq!(
        bad.body["error"]["details"]["errors"][0]["property"],
        "sortCreatedAt"
    );
}
