//! Several accounts: `/__sim/accounts`, per-key views, `GET /v2/me`, per-account schedules.

use super::*;

const LONDON_KEY: &str = "cal_london_clinic_0001";

/// A London clinic: event type 2001 (45 min) and team event type 2002, open Mon 10–12 and
/// Tue 14–16 London time.
fn london() -> Value {
    json!({
        "api_key": LONDON_KEY,
        "user": { "username": "london-clinic", "name": "London Clinic", "email": "desk@clinic.example", "time_zone": "Europe/London" },
        "event_types": [
            { "id": 2001, "title": "First consultation", "slug": "first-consultation", "length_min": 45 },
            { "id": 2002, "title": "Check-up", "slug": "check-up", "length_min": 30, "team_id": 77 }
        ],
        "working_hours": { "mon": "10:00-12:00", "tue": "14:00-16:00" },
        "team": { "id": 77, "slug": "clinic-team", "name": "Clinic Team" }
    })
}

fn add_account(body: &Value) -> test::TestRequest {
    test::TestRequest::post()
        .uri("/__sim/accounts")
        .set_json(body)
}

/// A GET with `cal-api-version: version` and the London key.
fn london_get(uri: &str, version: &str) -> test::TestRequest {
    test::TestRequest::get()
        .uri(uri)
        .insert_header(("cal-api-version", version))
        .insert_header(("Authorization", format!("Bearer {LONDON_KEY}")))
}

/// `field` of every item of the reply's `data` array.
fn column(reply: &Reply, field: &str) -> Vec<i64> {
    reply
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item[field].as_i64().unwrap())
        .collect()
}

#[actix_web::test]
async fn each_key_sees_only_its_own_event_types_and_bookings() {
    let (sim, _) = sim();
    let added = send(&sim, add_account(&london())).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);

    let theirs = send(&sim, london_get("/v2/event-types", EVENT_TYPES)).await;
    let ids = column(&theirs, "id");
    assert_eq!(ids, [2001, 2002]);
    let demo = send(&sim, get("/v2/event-types", EVENT_TYPES)).await;
    let ids = column(&demo, "id");
    assert_eq!(ids, [1001, 1002, 1003]);

    // Public booking of 2001 (no key) lands in the clinic's calendar, Monday 10:00 London.
    let mut body = booking_body("2050-09-05T09:00:00Z");
    body["eventTypeId"] = json!(2001);
    let made = send(
        &sim,
        test::TestRequest::post()
            .uri("/v2/bookings")
            .insert_header(("cal-api-version", BOOKINGS))
            .set_json(&body),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert_eq!(made.data()["hosts"][0]["username"], "london-clinic");
    book(&sim, &booking_body("2050-09-05T07:00:00Z")).await;

    let theirs = send(&sim, london_get("/v2/bookings", BOOKINGS)).await;
    let event_types = column(&theirs, "eventTypeId");
    assert_eq!(event_types, [2001]);
    let demo = send(&sim, get("/v2/bookings", BOOKINGS)).await;
    let event_types = column(&demo, "eventTypeId");
    assert_eq!(event_types, [1001]);

    let team = send(
        &sim,
        test::TestRequest::get().uri("/v2/teams/77/event-types"),
    )
    .await;
    assert_eq!(team.status, StatusCode::OK, "{}", team.body);
    let team_ids = column(&team, "id");
    assert_eq!(team_ids, [2002]);
}

#[actix_web::test]
async fn accounts_endpoint_validates_and_refuses_taken_event_type_ids() {
    let (sim, _) = sim();
    let mut bad_key = london();
    bad_key["api_key"] = json!("london");
    let reply = send(&sim, add_account(&bad_key)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(
        reply.body["error"].as_str().unwrap().contains("cal_"),
        "{}",
        reply.body
    );

    let mut bad_hours = london();
    bad_hours["working_hours"] = json!({ "mon": "12:00-10:00" });
    let reply = send(&sim, add_account(&bad_hours)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);

    let mut unknown_field = london();
    unknown_field["colour"] = json!("red");
    let reply = send(&sim, add_account(&unknown_field)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);

    let mut taken = london();
    taken["event_types"][0]["id"] = json!(1002);
    let reply = send(&sim, add_account(&taken)).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert!(
        reply.body["error"].as_str().unwrap().contains("1002"),
        "{}",
        reply.body
    );

    // Nothing was added by the refusals; the same key twice updates, ids and bookings kept.
    let listed = send(&sim, test::TestRequest::get().uri("/__sim/accounts")).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    assert!(
        !listed
            .body
            .to_string()
            .contains(super::SANDBOX_CALCOM_API_KEY)
    );
    let first = send(&sim, add_account(&london())).await;
    let mut renamed = london();
    renamed["event_types"] =
        json!([{ "title": "Consultation", "slug": "first-consultation", "length_min": 30 }]);
    let second = send(&sim, add_account(&renamed)).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.body);
    assert_eq!(second.body["user"]["id"], first.body["user"]["id"]);
    assert_eq!(second.body["event_types"][0]["id"], 2001);
    let listed = send(&sim, test::TestRequest::get().uri("/__sim/accounts")).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn me_returns_the_key_owner() {
    let (sim, _) = sim();
    send(&sim, add_account(&london())).await;
    // `/v2/me` answers under every version.
    let me = send(&sim, london_get("/v2/me", BOOKINGS)).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["status"], "success");
    assert_eq!(me.data()["username"], "london-clinic");
    assert_eq!(me.data()["email"], "desk@clinic.example");
    assert_eq!(me.data()["timeZone"], "Europe/London");
    let demo = send(&sim, get("/v2/me", EVENT_TYPES)).await;
    assert_eq!(demo.data()["username"], "demo-salon");

    let wrong = send(
        &sim,
        test::TestRequest::get()
            .uri("/v2/me")
            .insert_header(("Authorization", "Bearer cal_nobody")),
    )
    .await;
    wrong.assert_envelope(
        StatusCode::UNAUTHORIZED,
        "UnauthorizedException",
        "CustomThrottlerGuard - Invalid API Key",
    );
    let anonymous = send(&sim, test::TestRequest::get().uri("/v2/me")).await;
    assert_eq!(
        anonymous.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        anonymous.body
    );
}

#[actix_web::test]
async fn slots_follow_the_accounts_working_hours() {
    let (sim, _) = sim();
    send(&sim, add_account(&london())).await;
    let reply = send(
        &sim,
        get(
            "/v2/slots?start=2050-09-05&end=2050-09-07&eventTypeId=2001&timeZone=Europe/London",
            SLOTS,
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let at = |d: &str, t: &str| format!("2050-09-{d}T{t}:00.000+01:00");
    assert_eq!(
        starts(&reply, "2050-09-05"),
        [at("05", "10:00"), at("05", "10:45")]
    );
    assert_eq!(
        starts(&reply, "2050-09-06"),
        [at("06", "14:00"), at("06", "14:45")]
    );
    assert!(starts(&reply, "2050-09-07").is_empty(), "{}", reply.body);
    // A demo booking at the same instant does not block the clinic: each host has its own calendar.
    book(&sim, &booking_body("2050-09-05T09:00:00Z")).await;
    let again = send(
        &sim,
        get(
            "/v2/slots?start=2050-09-05&end=2050-09-05&eventTypeId=2001&timeZone=Europe/London",
            SLOTS,
        ),
    )
    .await;
    assert_eq!(
        starts(&again, "2050-09-05"),
        [at("05", "10:00"), at("05", "10:45")]
    );
}

/// Vendor check by hand: `MeOutput` of calcom/cal.com `apps/api/v2/src/ee/me/outputs/
/// me.output.ts` (commit 5b6d63e6) declares these properties, all required (no
/// `@IsOptional`) but `organization`; `name`, `avatarUrl`, `bio`, `defaultScheduleId` and
/// `organizationId` are nullable.
#[actix_web::test]
async fn me_reply_has_every_field_of_me_output() {
    let (sim, _) = sim();
    let me = send(&sim, get("/v2/me", EVENT_TYPES)).await;
    let data = me.data().as_object().unwrap();
    /// Whether a value has the declared type.
    type Check = fn(&Value) -> bool;
    let int: Check = Value::is_i64;
    let text: Check = Value::is_string;
    let text_or_null: Check = |v| v.is_string() || v.is_null();
    let int_or_null: Check = |v| v.is_i64() || v.is_null();
    let fields = [
        ("id", int),
        ("username", text),
        ("email", text),
        ("name", text_or_null),
        ("avatarUrl", text_or_null),
        ("bio", text_or_null),
        ("timeFormat", int),
        ("defaultScheduleId", int_or_null),
        ("weekStart", text),
        ("timeZone", text),
        ("organizationId", int_or_null),
    ];
    for (key, valid) in fields {
        assert!(data.get(key).is_some_and(valid), "{key} in {}", me.body);
    }
    assert_eq!(data.len(), fields.len(), "no other fields: {}", me.body);
}
