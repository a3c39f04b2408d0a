//! Resilience through the simulator's fault injection (`/__sim/faults`): the breaker opens on
//! upstream failures only, open means -32004 with `retry_after` and a degraded health, custom
//! functions still answer in words, and a booking survives Cal.com errors exactly once.

use crate::helpers::{TestApp, ended, spawn_app_with};
use serde_json::{Value, json};

async fn faults(app: &TestApp, body: Value) {
    let res = app
        .client
        .post(format!("{}/__sim/faults", app.calcom_url))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        res.status().is_success(),
        "faults refused: {}",
        res.text().await.unwrap()
    );
}

async fn health(app: &TestApp) -> Value {
    app.client
        .get(format!("{}/api/mcp/health", app.url))
        .bearer_auth(crate::helpers::ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Fast policies so tests need no long waits: 2 failures open the breaker, no retries.
const FAST: &[(&str, &str)] = &[
    ("SWITCHBOARD__RESILIENCE__CALCOM__FAILURE_THRESHOLD", "2"),
    ("SWITCHBOARD__RESILIENCE__CALCOM__HALF_OPEN_PROBES", "2"),
    ("SWITCHBOARD__RESILIENCE__CALCOM__OPEN_S", "30"),
    ("SWITCHBOARD__RESILIENCE__CALCOM__RETRY_MAX_ATTEMPTS", "1"),
    ("SWITCHBOARD__FUNCTIONS__CALENDAR_TIMEOUT_MS", "300"),
    ("SWITCHBOARD__OUTBOX__MAX_ATTEMPTS", "50"),
    ("SWITCHBOARD__OUTBOX__BACKOFF_MAX_MS", "100"),
];

#[actix_web::test]
async fn breaker_opens_after_upstream_failures_answers_32004_and_degrades_health() {
    let app = spawn_app_with(FAST).await;
    faults(&app, json!({"error_rate": 1.0, "error_status": 503})).await;
    for _ in 0..2 {
        let res = app
            .rpc("calcom.getEventTypes", json!({"company_id": 1}))
            .await;
        assert_eq!(
            res["error"]["code"], -32004,
            "503 is an upstream failure: {res}"
        );
    }
    let res = app
        .rpc("calcom.getEventTypes", json!({"company_id": 1}))
        .await;
    assert_eq!(res["error"]["code"], -32004, "{res}");
    assert!(
        res["error"]["message"]
            .as_str()
            .unwrap()
            .contains("circuit breaker is open"),
        "{res}"
    );
    let retry_after = res["error"]["data"]["retry_after"].as_u64().unwrap();
    assert!((1..=30).contains(&retry_after), "{res}");
    let h = health(&app).await;
    assert_eq!(h["status"], "degraded", "{h}");
    assert_eq!(h["breakers"][0]["state"], "open", "{h}");
    assert_eq!(h["breakers"][0]["company_id"], 1);
}

#[actix_web::test]
async fn refusals_of_our_input_do_not_open_the_breaker() {
    let app = spawn_app_with(FAST).await;
    let params = json!({"company_id": 1, "service": "Herrenhaarschnitt", "date": "2030-07-16", "time": "12:00", "name": "A", "phone": "030 1234567"});
    assert_eq!(
        app.rpc("calcom.createBooking", params.clone()).await["result"]["success"],
        true
    );
    for _ in 0..4 {
        let res = app.rpc("calcom.createBooking", params.clone()).await;
        assert_eq!(res["error"]["code"], 2003, "{res}");
    }
    let h = health(&app).await;
    assert_eq!(h["breakers"][0]["state"], "closed", "{h}");
    assert_eq!(h["status"], "healthy");
}

#[actix_web::test]
async fn custom_function_speaks_a_fallback_when_the_calendar_is_down() {
    let app = spawn_app_with(FAST).await;
    faults(&app, json!({"error_rate": 1.0, "error_status": 500})).await;
    let (status, reply) = app
        .function(
            "check_availability",
            "c_down",
            json!({"dienstleistung": "Färben", "datum": "morgen"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(reply["calendar_unreachable"], true, "{reply}");
    assert!(
        reply["message"]
            .as_str()
            .unwrap()
            .starts_with("Ich kann den Kalender gerade nicht erreichen"),
        "{reply}"
    );
}

#[actix_web::test]
async fn custom_function_answers_in_words_when_cal_com_never_answers() {
    let app = spawn_app_with(FAST).await;
    faults(&app, json!({"timeout_rate": 1.0})).await;
    let (status, reply) = app
        .function(
            "find_next_slot",
            "c_hang",
            json!({"dienstleistung": "Färben"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(reply["calendar_unreachable"], true, "{reply}");
}

#[actix_web::test]
async fn webhook_is_acked_while_cal_com_fails_and_the_booking_follows() {
    // The breaker must half-open soon after Cal.com recovers.
    let app =
        spawn_app_with(&[FAST, &[("SWITCHBOARD__RESILIENCE__CALCOM__OPEN_S", "1")]].concat()).await;
    app.collect_complete("c_later", "10 Uhr", true).await;
    faults(&app, json!({"error_rate": 1.0, "error_status": 503})).await;
    assert_eq!(app.webhook("call_ended", ended("c_later")).await, 204);
    // Wait (bounded) until the job has failed at least twice, then let Cal.com recover.
    for _ in 0..200 {
        if app.get_call("c_later").await["booking_job"]["attempts"]
            .as_u64()
            .unwrap_or(0)
            >= 2
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    faults(&app, json!({})).await;
    let view = app.wait_for_booking("c_later").await;
    assert_eq!(view["booking_job"]["status"], "done", "{view}");
    assert_eq!(app.calcom_bookings().await.len(), 1);
}

#[actix_web::test]
async fn booking_whose_answer_was_lost_is_found_not_duplicated() {
    let app = spawn_app_with(FAST).await;
    app.collect_complete("c_lost", "11 Uhr", true).await;
    // Cal.com stores every booking but the answer is replaced by an error (or a dropped line).
    faults(&app, json!({"commit_then_fail_rate": 1.0, "seed": 7})).await;
    assert_eq!(app.webhook("call_ended", ended("c_lost")).await, 204);
    let view = app.wait_for_booking("c_lost").await;
    assert_eq!(view["booking_job"]["status"], "done", "{view}");
    faults(&app, json!({})).await;
    let bookings = app.calcom_bookings().await;
    assert_eq!(bookings.len(), 1, "exactly one booking: {bookings:?}");
    assert_eq!(view["appointment"]["booking_uid"], bookings[0]["uid"]);
}

#[actix_web::test]
async fn repeated_custom_function_call_is_idempotent() {
    let app = spawn_app_with(FAST).await;
    let first = app.collect_complete("c_twice", "13 Uhr", true).await;
    let second = app.collect_complete("c_twice", "13 Uhr", true).await;
    assert_eq!(first["collected"], second["collected"]);
    assert_eq!(second["confirmed"], true);
    app.webhook("call_ended", ended("c_twice")).await;
    assert_eq!(
        app.wait_for_booking("c_twice").await["booking_job"]["status"],
        "done"
    );
    assert_eq!(app.calcom_bookings().await.len(), 1);
}
