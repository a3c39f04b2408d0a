//! Auth rules, `cal-api-version` routing, unknown routes and the headers of every reply
//! (calcom.md §1, §5).

use super::*;

const SLOTS_QUERY: &str = "/v2/slots?start=2050-09-05&end=2050-09-05&eventTypeId=1001";

#[actix_web::test]
async fn missing_version_header_is_404() {
    let (sim, _) = sim();
    let req = test::TestRequest::get()
        .uri(SLOTS_QUERY)
        .insert_header(bearer());
    let reply = send(&sim, req).await;
    // Nest reports Express's `req.url`, query string included.
    reply.assert_envelope(
        StatusCode::NOT_FOUND,
        "NotFoundException",
        &format!("Cannot GET {SLOTS_QUERY}"),
    );
    assert_eq!(reply.body["path"], SLOTS_QUERY);
    assert_eq!(
        reply.body["error"]["details"],
        json!({"message": format!("Cannot GET {SLOTS_QUERY}"), "error":"Not Found", "statusCode":404})
    );
}

#[actix_web::test]
async fn wrong_version_is_404_per_route_group() {
    let (sim, _) = sim();
    let slots_with_bookings_version = send(&sim, get(SLOTS_QUERY, BOOKINGS)).await;
    slots_with_bookings_version.assert_envelope(
        StatusCode::NOT_FOUND,
        "NotFoundException",
        &format!("Cannot GET {SLOTS_QUERY}"),
    );
    let bookings_with_slots_version = send(
        &sim,
        post("/v2/bookings", SLOTS, &booking_body("2050-09-05T07:00:00Z")),
    )
    .await;
    bookings_with_slots_version.assert_envelope(
        StatusCode::NOT_FOUND,
        "NotFoundException",
        "Cannot POST /v2/bookings",
    );
    let event_types_with_bookings_version = send(&sim, get("/v2/event-types", BOOKINGS)).await;
    assert_eq!(
        event_types_with_bookings_version.status,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn unknown_route_and_method_are_404_cannot_method_url() {
    let (sim, _) = sim();
    let unknown = send(&sim, get("/v2/nope", BOOKINGS)).await;
    unknown.assert_envelope(
        StatusCode::NOT_FOUND,
        "NotFoundException",
        "Cannot GET /v2/nope",
    );
    let delete = test::TestRequest::delete()
        .uri("/v2/bookings")
        .insert_header(("cal-api-version", BOOKINGS));
    send(&sim, delete).await.assert_envelope(
        StatusCode::NOT_FOUND,
        "NotFoundException",
        "Cannot DELETE /v2/bookings",
    );
}

#[actix_web::test]
async fn wrong_api_key_is_401_even_on_slots() {
    let (sim, _) = sim();
    let req = test::TestRequest::get()
        .uri(SLOTS_QUERY)
        .insert_header(("cal-api-version", SLOTS))
        .insert_header(("Authorization", "Bearer cal_0123wrong"));
    let reply = send(&sim, req).await;
    reply.assert_envelope(
        StatusCode::UNAUTHORIZED,
        "UnauthorizedException",
        "CustomThrottlerGuard - Invalid API Key",
    );
    assert_eq!(reply.body["error"]["details"]["error"], "Unauthorized");
}

#[actix_web::test]
async fn slots_are_public_without_a_key() {
    let (sim, _) = sim();
    let req = test::TestRequest::get()
        .uri(SLOTS_QUERY)
        .insert_header(("cal-api-version", SLOTS));
    assert_eq!(send(&sim, req).await.status, StatusCode::OK);
}

#[actix_web::test]
async fn other_tokens_pass_public_slots_but_fail_auth_strategy() {
    let (sim, _) = sim();
    let token = ("Authorization", "Bearer some-oauth-token");
    let slots = test::TestRequest::get()
        .uri(SLOTS_QUERY)
        .insert_header(("cal-api-version", SLOTS))
        .insert_header(token);
    assert_eq!(send(&sim, slots).await.status, StatusCode::OK);
    let create = test::TestRequest::post()
        .uri("/v2/bookings")
        .insert_header(("cal-api-version", BOOKINGS))
        .insert_header(token)
        .set_json(booking_body("2050-09-05T07:00:00Z"));
    send(&sim, create).await.assert_envelope(
        StatusCode::UNAUTHORIZED,
        "UnauthorizedException",
        "ApiAuthStrategy - api key - Your api key is not valid",
    );
}

#[actix_web::test]
async fn list_requires_auth() {
    let (sim, _) = sim();
    let req = test::TestRequest::get()
        .uri("/v2/bookings")
        .insert_header(("cal-api-version", BOOKINGS));
    let reply = send(&sim, req).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body["error"]["code"], "UnauthorizedException");
    assert!(
        reply
            .message()
            .starts_with("ApiAuthStrategy - No authentication method provided"),
        "{}",
        reply.body
    );
}

#[actix_web::test]
async fn booking_without_key_is_allowed() {
    let (sim, _) = sim();
    let req = test::TestRequest::post()
        .uri("/v2/bookings")
        .insert_header(("cal-api-version", BOOKINGS))
        .set_json(booking_body("2050-09-05T07:00:00Z"));
    assert_eq!(send(&sim, req).await.status, StatusCode::CREATED);
}

#[actix_web::test]
async fn every_reply_carries_request_id_and_rate_limit_headers() {
    let (sim, _) = sim();
    let ok = send(&sim, get(SLOTS_QUERY, SLOTS)).await;
    let not_found = send(&sim, get("/v2/nope", SLOTS)).await;
    let unauthorized = send(
        &sim,
        test::TestRequest::get()
            .uri("/v2/bookings")
            .insert_header(("cal-api-version", BOOKINGS)),
    )
    .await;
    for reply in [&ok, &not_found, &unauthorized] {
        let header = |name: &str| {
            reply
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let id = header("x-request-id").expect("X-Request-Id");
        assert_eq!(
            uuid::Uuid::parse_str(&id).map(|u| u.get_version_num()),
            Ok(4),
            "{id}"
        );
        assert_eq!(header("x-ratelimit-limit-default").as_deref(), Some("120"));
        assert!(header("x-ratelimit-remaining-default").is_some());
        assert!(header("x-ratelimit-reset-default").is_some());
    }
    let remaining = |reply: &Reply| reply.headers.get("x-ratelimit-remaining-default").cloned();
    assert_eq!(
        remaining(&ok).as_ref().and_then(|v| v.to_str().ok()),
        Some("119")
    );
    assert_eq!(
        remaining(&not_found).as_ref().and_then(|v| v.to_str().ok()),
        Some("118")
    );
    assert_ne!(
        ok.headers.get("x-request-id"),
        not_found.headers.get("x-request-id")
    );
}
