//! Cal.com's webhooks in (issue 12): `POST /api/calcom/webhook/{company_slug}` verifies
//! `X-Cal-Signature-256` with the tenant's webhook secret, stores each body once and keeps the
//! local appointments and the cached availability true when bookings change in Cal.com.

use crate::helpers::{ADMIN_TOKEN, TestApp, ended, spawn_app};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use switchboard_actors::calcom_webhook::sign;
use switchboard_actors::domain::ids::{BookingUid, CompanyId};
use switchboard_actors::ports::{AppointmentStore, TenancyStore};
use switchboard_actors::records::AppointmentStatus;

const DEMO_PATH: &str = "/api/calcom/webhook/demo-salon-berlin";
const DEMO_SECRET: &str = "whsec_demo_salon_test_0123456789";
/// The sandbox's second tenant, whose file sets this secret.
const THAMES_PATH: &str = "/api/calcom/webhook/thames-physio";
const THAMES_SECRET: &str = "whsec_sandbox_thames_2c8e41";
const DEMO: CompanyId = CompanyId(1);
const CALLER: &str = "+4915112345678";

/// The sandbox app with a webhook secret for the demo tenant.
async fn app_with_secret() -> TestApp {
    let app = spawn_app().await;
    set_demo_secret(&app).await;
    app
}

/// Gives the demo tenant its webhook secret, as an operator would.
async fn set_demo_secret(app: &TestApp) {
    let set = app
        .rpc(
            "company.setCredentials",
            json!({"company_id": DEMO.0, "calcom_webhook_secret": DEMO_SECRET}),
        )
        .await;
    assert_eq!(set["result"]["success"], true, "{set}");
}

/// POSTs `body` to `path` with `signature` as `X-Cal-Signature-256`; (status, JSON answer).
async fn post(app: &TestApp, path: &str, body: &[u8], signature: Option<&str>) -> (u16, Value) {
    let mut req = app
        .client
        .post(format!("{}{path}", app.url))
        .header("content-type", "application/json");
    if let Some(signature) = signature {
        req = req.header("X-Cal-Signature-256", signature);
    }
    let res = req.body(body.to_vec()).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// POSTs `webhook` signed with `secret`.
async fn deliver(app: &TestApp, path: &str, webhook: &Value, secret: &str) -> (u16, Value) {
    let body = serde_json::to_vec(webhook).unwrap();
    post(app, path, &body, Some(&sign(&body, secret))).await
}

/// A `BOOKING_CANCELLED` of `uid` as Cal.com sends it (reference/calcom.md §6).
fn cancelled(uid: &str, start: &str) -> Value {
    json!({
        "triggerEvent": "BOOKING_CANCELLED",
        "createdAt": "2026-03-01T08:00:00.000Z",
        "payload": {
            "uid": uid, "bookingId": 7, "eventTypeId": 1001, "type": "herrenhaarschnitt",
            "title": "Herrenhaarschnitt between Demo Host and Max Mustermann",
            "startTime": start,
            "endTime": start,
            "attendees": [{"name": "Max Mustermann", "email": "max@example.org",
                "timeZone": "Europe/Berlin"}],
            "status": "CANCELLED",
            "cancellationReason": "Staff cancelled in Cal.com",
        },
    })
}

/// A `BOOKING_CREATED` of a booking made in Cal.com for [`CALLER`] at `start` (30 min).
fn created(uid: &str, start: DateTime<Utc>) -> Value {
    json!({
        "triggerEvent": "BOOKING_CREATED",
        "createdAt": "2026-03-01T08:00:00.000Z",
        "payload": {
            "uid": uid, "bookingId": 99, "eventTypeId": 1001,
            "title": "Herrenhaarschnitt between Demo Host and Erika",
            "startTime": start.to_rfc3339(),
            "endTime": (start + Duration::minutes(30)).to_rfc3339(),
            "attendees": [{"name": "Erika", "email": "erika@example.org",
                "timeZone": "Europe/Berlin"}],
            "responses": {"attendeePhoneNumber": {"label": "Phone", "value": CALLER}},
            "status": "ACCEPTED",
        },
    })
}

/// Books next Tuesday at `time` through the Retell flow; (booking uid, start as sent).
async fn book(app: &TestApp, call_id: &str, time: &str) -> (String, String) {
    app.collect_complete(call_id, time, true).await;
    assert_eq!(app.webhook("call_ended", ended(call_id)).await, 204);
    let view = app.wait_for_booking(call_id).await;
    assert_eq!(view["appointment"]["status"], "scheduled", "{view}");
    (
        view["appointment"]["booking_uid"]
            .as_str()
            .unwrap()
            .to_owned(),
        view["appointment"]["start"].as_str().unwrap().to_owned(),
    )
}

async fn status_of(app: &TestApp, company: CompanyId, uid: &str) -> Option<AppointmentStatus> {
    app.store
        .appointment(company, &BookingUid::parse(uid).unwrap())
        .await
        .unwrap()
        .map(|a| a.status)
}

#[actix_web::test]
async fn calcom_webhook_with_a_bad_signature_is_401_and_changes_nothing() {
    let app = spawn_app().await;
    let (uid, start) = book(&app, "call_bad_sig", "10 Uhr").await;
    let body = serde_json::to_vec(&cancelled(&uid, &start)).unwrap();

    // The demo tenant has no secret yet: nothing it receives can be verified.
    let no_secret = post(&app, DEMO_PATH, &body, Some(&sign(&body, ""))).await;
    set_demo_secret(&app).await;
    let unsigned = post(&app, DEMO_PATH, &body, None).await;
    let wrong_secret = post(&app, DEMO_PATH, &body, Some(&sign(&body, "whsec_guess"))).await;
    let no_secret_provided = post(&app, DEMO_PATH, &body, Some("no-secret-provided")).await;
    let mut changed = body.clone();
    changed.push(b' ');
    let other_body = post(&app, DEMO_PATH, &changed, Some(&sign(&body, DEMO_SECRET))).await;

    for (status, answer) in [
        no_secret,
        unsigned,
        wrong_secret,
        no_secret_provided,
        other_body,
    ] {
        assert_eq!(status, 401, "{answer}");
        assert_eq!(answer["error"]["code"], "unauthorized");
    }
    assert_eq!(
        app.get_call("call_bad_sig").await["appointment"]["status"],
        "scheduled"
    );
    assert_eq!(
        status_of(&app, DEMO, &uid).await,
        Some(AppointmentStatus::Scheduled)
    );
}

#[actix_web::test]
async fn calcom_cancellation_shows_in_appointments_and_get_call() {
    let app = app_with_secret().await;
    let (uid, start) = book(&app, "call_cancelled_in_calcom", "11 Uhr").await;
    assert_eq!(listed(&app).await, std::slice::from_ref(&uid));

    let (status, answer) = deliver(&app, DEMO_PATH, &cancelled(&uid, &start), DEMO_SECRET).await;

    assert_eq!(
        (status, &answer["status"]),
        (200, &json!("recorded")),
        "{answer}"
    );
    let view = app.get_call("call_cancelled_in_calcom").await;
    assert_eq!(view["appointment"]["status"], "cancelled", "{view}");
    assert_eq!(view["appointment"]["booking_uid"], uid.as_str());
    let stored = app
        .store
        .appointment(DEMO, &BookingUid::parse(&uid).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, AppointmentStatus::Cancelled);
    assert_eq!(
        stored.cancellation_reason.as_deref(),
        Some("Staff cancelled in Cal.com")
    );
    let upcoming = app
        .store
        .upcoming_appointments(DEMO, CALLER, Utc::now(), 10)
        .await
        .unwrap();
    assert!(upcoming.is_empty(), "{upcoming:?}");
    assert!(
        listed(&app).await.is_empty(),
        "appointments.find still lists {uid}"
    );
}

/// The booking uids `appointments.find` lists for the caller.
async fn listed(app: &TestApp) -> Vec<String> {
    let answer = app
        .rpc(
            "appointments.find",
            json!({"company_id": 1, "phone": CALLER}),
        )
        .await;
    answer["result"]["data"]["appointments"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .map(|a| a["booking_uid"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[actix_web::test]
async fn calcom_reschedule_moves_the_appointment_booked_by_phone() {
    let app = app_with_secret().await;
    let (uid, start) = book(&app, "call_moved_in_calcom", "13 Uhr").await;
    let new_start = start.parse::<DateTime<Utc>>().unwrap() + Duration::days(1);
    let mut moved = created("uid_moved_by_staff", new_start);
    moved["triggerEvent"] = json!("BOOKING_RESCHEDULED");
    moved["payload"]["rescheduleUid"] = json!(uid);
    moved["payload"]["rescheduleStartTime"] = json!(start);

    let (status, answer) = deliver(&app, DEMO_PATH, &moved, DEMO_SECRET).await;

    assert_eq!(
        (status, &answer["status"]),
        (200, &json!("recorded")),
        "{answer}"
    );
    let view = app.get_call("call_moved_in_calcom").await;
    assert_eq!(view["appointment"]["status"], "rescheduled", "{view}");
    let old = app
        .store
        .appointment(DEMO, &BookingUid::parse(&uid).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        old.rescheduled_to_uid.unwrap().as_str(),
        "uid_moved_by_staff"
    );
    let found = app
        .store
        .upcoming_appointments(DEMO, CALLER, Utc::now(), 10)
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].booking_uid.as_str(), "uid_moved_by_staff");
    assert_eq!(found[0].start, new_start);
}

#[actix_web::test]
async fn duplicate_calcom_webhook_is_applied_once() {
    let app = app_with_secret().await;
    let start = Utc::now() + Duration::days(3);
    let webhook = created("uid_made_in_calcom", start);

    let first = deliver(&app, DEMO_PATH, &webhook, DEMO_SECRET).await;
    let again = deliver(&app, DEMO_PATH, &webhook, DEMO_SECRET).await;

    assert_eq!((first.0, &first.1["status"]), (200, &json!("recorded")));
    assert_eq!((again.0, &again.1["status"]), (200, &json!("duplicate")));
    let found = app
        .store
        .upcoming_appointments(DEMO, CALLER, Utc::now(), 10)
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].booking_uid.as_str(), "uid_made_in_calcom");
    assert_eq!(found[0].source, "calcom");
    assert_eq!(found[0].service_name, "Herrenhaarschnitt");
    assert_eq!(found[0].attendee_name, "Erika");
    assert_eq!(stored_webhooks(&app).await, 1);
}

#[actix_web::test]
async fn other_tenants_uid_in_a_signed_webhook_changes_nothing() {
    let app = app_with_secret().await;
    let (uid, start) = book(&app, "call_not_theirs", "12 Uhr").await;

    let (status, answer) =
        deliver(&app, THAMES_PATH, &cancelled(&uid, &start), THAMES_SECRET).await;
    // The demo tenant's secret does not sign for Thames either.
    let (forged, _) = deliver(&app, THAMES_PATH, &cancelled(&uid, &start), DEMO_SECRET).await;

    assert_eq!(status, 200, "{answer}");
    assert_eq!(forged, 401);
    assert_eq!(
        app.get_call("call_not_theirs").await["appointment"]["status"],
        "scheduled"
    );
    assert_eq!(
        status_of(&app, DEMO, &uid).await,
        Some(AppointmentStatus::Scheduled)
    );
    let thames = app
        .store
        .company_by_slug("thames-physio")
        .await
        .unwrap()
        .unwrap()
        .id;
    assert_eq!(status_of(&app, thames, &uid).await, None);
}

#[actix_web::test]
async fn unknown_trigger_is_200_and_stored_nothing() {
    let app = app_with_secret().await;
    let webhook = json!({
        "triggerEvent": "MEETING_ENDED",
        "createdAt": "2026-03-01T08:00:00.000Z",
        "payload": {"uid": "uid_meeting", "bookingId": 5},
    });

    let (status, answer) = deliver(&app, DEMO_PATH, &webhook, DEMO_SECRET).await;

    assert_eq!(
        (status, &answer["status"]),
        (200, &json!("ignored")),
        "{answer}"
    );
    assert_eq!(stored_webhooks(&app).await, 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM appointments").await, 0);
}

#[actix_web::test]
async fn calcom_webhooks_are_counted_with_labels_from_fixed_sets() {
    let app = app_with_secret().await;
    let hostile = json!({"triggerEvent": format!("EVIL_{}", "X".repeat(2_000)), "payload": {}});
    deliver(&app, DEMO_PATH, &hostile, DEMO_SECRET).await;
    let (uid, start) = ("uid_counted", "2026-03-10T10:00:00Z");
    deliver(&app, DEMO_PATH, &cancelled(uid, start), DEMO_SECRET).await;
    deliver(&app, DEMO_PATH, &cancelled(uid, start), "whsec_guess").await;

    let text = crate::common::metrics_text(&app.client, &app.url, ADMIN_TOKEN).await;
    let counted = |event: &str, status: &str| {
        text.lines().any(|line| {
            line.starts_with("mcp_webhook_total")
                && line.contains(&format!(r#"event="{event}""#))
                && line.contains(&format!(r#"status="{status}""#))
        })
    };

    assert!(!text.contains("EVIL_"), "the trigger is not a label");
    assert!(counted("calcom_other", "ignored"), "{text}");
    assert!(counted("BOOKING_CANCELLED", "recorded"), "{text}");
    assert!(counted("calcom_other", "unauthorized"), "{text}");
}

#[actix_web::test]
async fn disabled_tenants_webhook_is_200_and_stored_nothing() {
    let app = app_with_secret().await;
    let disabled = app
        .rpc("company.disable", json!({"company_id": DEMO.0}))
        .await;
    assert_eq!(disabled["result"]["success"], true, "{disabled}");

    let webhook = created("uid_while_disabled", Utc::now() + Duration::days(2));
    let (status, answer) = deliver(&app, DEMO_PATH, &webhook, DEMO_SECRET).await;

    assert_eq!(
        (status, &answer["status"]),
        (200, &json!("disabled")),
        "{answer}"
    );
    assert_eq!(stored_webhooks(&app).await, 0);
    assert_eq!(status_of(&app, DEMO, "uid_while_disabled").await, None);
}

#[actix_web::test]
async fn unknown_slug_is_404_and_malformed_signed_body_is_400() {
    let app = app_with_secret().await;
    let body = serde_json::to_vec(&cancelled("uid_x", "2026-03-10T10:00:00Z")).unwrap();

    let (unknown, _) = post(
        &app,
        "/api/calcom/webhook/no-such-tenant",
        &body,
        Some(&sign(&body, DEMO_SECRET)),
    )
    .await;
    let (not_a_slug, _) = post(&app, "/api/calcom/webhook/Not%20A%20Slug", &body, None).await;
    let garbage = b"{\"triggerEvent\": ";
    let (malformed, answer) =
        post(&app, DEMO_PATH, garbage, Some(&sign(garbage, DEMO_SECRET))).await;
    let no_uid = json!({"triggerEvent": "BOOKING_CREATED", "payload": {"bookingId": 1}});
    let (incomplete, _) = deliver(&app, DEMO_PATH, &no_uid, DEMO_SECRET).await;

    assert_eq!((unknown, not_a_slug), (404, 404));
    assert_eq!(
        (malformed, &answer["error"]["code"]),
        (400, &json!("bad_request"))
    );
    assert_eq!(incomplete, 400);
    assert_eq!(stored_webhooks(&app).await, 0);
}

#[actix_web::test]
async fn calcom_webhook_body_above_the_limit_is_413() {
    let app = app_with_secret().await;
    let mut webhook = cancelled("uid_big", "2026-03-10T10:00:00Z");
    webhook["payload"]["description"] = json!("x".repeat(2 * 1024 * 1024));

    let (status, _) = deliver(&app, DEMO_PATH, &webhook, DEMO_SECRET).await;

    assert_eq!(status, 413);
    assert_eq!(stored_webhooks(&app).await, 0);
}

#[actix_web::test]
async fn calcom_booking_webhook_forgets_the_cached_availability_of_its_day() {
    let app = app_with_secret().await;
    let (first_slot, date) = first_free_slot(&app).await;
    let cached = availability(&app, &date).await;
    assert_eq!(cached["metadata"]["cached"], true, "{cached}");

    // Staff book the slot in Cal.com; until Cal.com tells us, the cache still offers it. The
    // sandbox's own subscription (provisioned within 5 s of the secret) may tell us first, in
    // which case the slot is already gone from a fresh read.
    book_in_simulator(&app, &first_slot).await;
    let stale = availability(&app, &date).await;
    if stale["metadata"]["cached"] == true {
        assert!(slots(&stale).contains(&first_slot), "{stale}");
    } else {
        assert!(!slots(&stale).contains(&first_slot), "{stale}");
    }
    let start: DateTime<Utc> = first_slot.parse().unwrap();
    let (status, _) = deliver(
        &app,
        DEMO_PATH,
        &created("uid_staff_slot", start),
        DEMO_SECRET,
    )
    .await;
    assert_eq!(status, 200);

    // The webhook dropped the day and started its refetch: the next read is that fresh answer,
    // from Cal.com or (if the refetch landed first) from the cache it filled after the
    // webhook; either way the staff's booking is no longer offered.
    let fresh = availability(&app, &date).await;
    assert!(!slots(&fresh).contains(&first_slot), "{fresh}");
}

/// `calcom.checkAvailability` of the demo Herrenhaarschnitt on `date`: the whole `result`.
async fn availability(app: &TestApp, date: &str) -> Value {
    let res = app
        .rpc(
            "calcom.checkAvailability",
            json!({"company_id": DEMO.0, "service": "Herrenhaarschnitt", "date": date}),
        )
        .await;
    assert_eq!(res["result"]["success"], true, "{res}");
    res["result"].clone()
}

fn slots(result: &Value) -> Vec<String> {
    result["data"]["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|slot| slot["start"].as_str().unwrap().to_owned())
        .collect()
}

/// The first free slot in the next week (its start as listed) and its local date; the day's
/// availability is cached after this.
async fn first_free_slot(app: &TestApp) -> (String, String) {
    for ahead in 2..9 {
        let date = (Utc::now() + Duration::days(ahead))
            .date_naive()
            .to_string();
        if let Some(slot) = slots(&availability(app, &date).await).into_iter().next() {
            return (slot, date);
        }
    }
    panic!("no free slot in the next week");
}

/// Books `start` for event type 1001 directly in the simulator, as staff would in Cal.com.
async fn book_in_simulator(app: &TestApp, start: &str) {
    let start: DateTime<Utc> = start.parse().unwrap();
    let res = app
        .client
        .post(format!("{}/v2/bookings", app.calcom_url))
        .bearer_auth("cal_sandbox_0123456789abcdef")
        .header("cal-api-version", "2024-08-13")
        .json(&json!({
            "start": start.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "eventTypeId": 1001,
            "attendee": {"name": "Erika", "timeZone": "Europe/Berlin",
                "email": "erika@example.org"},
        }))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    assert_eq!(status, 201, "{}", res.text().await.unwrap_or_default());
}

/// Rows of `calcom_webhook_events`: the webhooks stored.
async fn stored_webhooks(app: &TestApp) -> i64 {
    count(app, "SELECT COUNT(*) FROM calcom_webhook_events").await
}

/// `SELECT COUNT(*) …` on the app's database.
async fn count(app: &TestApp, sql: &str) -> i64 {
    if app.db_url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&app.db_url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap()
    } else {
        let pool = sqlx::PgPool::connect(&app.db_url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap()
    }
}
