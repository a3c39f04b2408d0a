//! The phone-to-booking flow: custom functions during the call, `call_ended`, durable booking.

use crate::helpers::{TestApp, call, ended, spawn_app};
use serde_json::{Value, json};

/// Collects a confirmed Herrenschnitt at 13 Uhr for `call_id`, then sends `change`; the
/// reply must take the confirmation back. Returns that reply.
async fn confirm_then_change(app: &TestApp, call_id: &str, change: Value) -> Value {
    app.collect_complete(call_id, "13 Uhr", true).await;
    let (_, reply) = app
        .function("collect_appointment_data", call_id, change)
        .await;
    assert_eq!(reply["confirmed"], false, "{reply}");
    reply
}

/// Checks that the reply's message asks the caller to confirm the appointment.
fn assert_asks_to_confirm(reply: &Value) {
    let message = reply["message"].as_str().unwrap();
    assert!(message.contains("Soll ich den Termin"), "{reply}");
}

/// Ends `call_id` and checks that no booking job was queued for it.
async fn end_without_booking(app: &TestApp, call_id: &str) {
    assert_eq!(app.webhook("call_ended", ended(call_id)).await, 204);
    assert!(app.get_call(call_id).await["booking_job"].is_null());
}

#[actix_web::test]
async fn confirmed_call_is_booked_end_to_end() {
    let app = spawn_app().await;
    let reply = app.collect_complete("call_flow_1", "14 Uhr", true).await;
    assert_eq!(reply["status"], "booked_pending", "{reply}");
    assert_eq!(reply["available"], true);
    assert_eq!(app.webhook("call_started", call("call_flow_1")).await, 204);
    assert_eq!(app.webhook("call_ended", ended("call_flow_1")).await, 204);

    let view = app.wait_for_booking("call_flow_1").await;
    assert_eq!(view["booking_job"]["status"], "done", "{view}");
    let uid = view["appointment"]["booking_uid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(view["status"], "ended");
    assert_eq!(view["collected"]["phone"], "+4915112345678");

    let bookings = app.calcom_bookings().await;
    assert_eq!(bookings.len(), 1);
    assert_eq!(bookings[0]["uid"], uid.as_str());
    assert_eq!(bookings[0]["event_type_id"], 1001);
    assert_eq!(
        bookings[0]["attendees"][0]["phone_number"],
        "+4915112345678"
    );
    assert_eq!(bookings[0]["attendees"][0]["time_zone"], "Europe/Berlin");
    // 14:00 in Berlin is 13:00 UTC in winter and 12:00 UTC in summer.
    let start = bookings[0]["start"].as_str().unwrap();
    assert!(
        start.contains("T13:00:00") || start.contains("T12:00:00"),
        "{start}"
    );
}

#[actix_web::test]
async fn duplicate_call_ended_books_once() {
    let app = spawn_app().await;
    app.collect_complete("call_dup", "15 Uhr", true).await;
    let body = ended("call_dup");
    let sends = (0..4).map(|_| app.webhook("call_ended", body.clone()));
    let statuses = futures_util::future::join_all(sends).await;
    assert_eq!(statuses, vec![204; 4]);
    let view = app.wait_for_booking("call_dup").await;
    assert_eq!(view["booking_job"]["status"], "done");
    assert_eq!(view["booking_job"]["attempts"], 1);
    assert_eq!(app.calcom_bookings().await.len(), 1);
    let stats = app.rpc("webhook.getWebhookStats", json!({})).await["result"]["data"].clone();
    assert_eq!(stats["duplicates"], 3, "{stats}");
    assert_eq!(stats["events"]["call_ended"], 1);
    assert_eq!(stats["appointments"], 1);
}

#[actix_web::test]
async fn unconfirmed_call_is_not_booked() {
    let app = spawn_app().await;
    let reply = app.collect_complete("call_unconf", "10 Uhr", false).await;
    assert_asks_to_confirm(&reply);
    assert_eq!(app.webhook("call_ended", ended("call_unconf")).await, 204);
    let view = app.get_call("call_unconf").await;
    assert_eq!(view["status"], "ended");
    assert!(view["booking_job"].is_null(), "{view}");
    assert!(app.calcom_bookings().await.is_empty());
}

#[actix_web::test]
async fn withdrawn_confirmation_is_not_booked() {
    let app = spawn_app().await;
    confirm_then_change(&app, "call_withdrawn", json!({"bestaetigt": "nein"})).await;
    end_without_booking(&app, "call_withdrawn").await;
    assert!(app.calcom_bookings().await.is_empty());
}

#[actix_web::test]
async fn moved_appointment_needs_a_new_confirmation() {
    let app = spawn_app().await;
    let reply = confirm_then_change(&app, "call_moved", json!({"uhrzeit": "14 Uhr"})).await;
    assert_asks_to_confirm(&reply);
    end_without_booking(&app, "call_moved").await;
}

#[actix_web::test]
async fn booking_confirmed_dynamic_variable_confirms_the_booking() {
    let app = spawn_app().await;
    app.collect_complete("call_dynvar", "11 Uhr", false).await;
    let mut body = ended("call_dynvar");
    body["collected_dynamic_variables"] = json!({"booking_confirmed": "true"});
    assert_eq!(app.webhook("call_ended", body).await, 204);
    let view = app.wait_for_booking("call_dynvar").await;
    assert_eq!(view["booking_job"]["status"], "done", "{view}");
}

#[actix_web::test]
async fn incomplete_call_is_not_booked_and_lists_missing_fields() {
    let app = spawn_app().await;
    let (status, reply) = app
        .function(
            "collect_appointment_data",
            "call_incomplete",
            json!({"dienstleistung": "Färben", "datum": "morgen", "bestaetigt": true}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(reply["status"], "incomplete");
    assert_eq!(
        reply["missing_fields"],
        json!(["uhrzeit", "name", "telefonnummer"])
    );
    assert_eq!(
        reply["message"],
        "Bitte nennen Sie mir noch die Uhrzeit, Ihren Namen und Ihre Telefonnummer."
    );
    end_without_booking(&app, "call_incomplete").await;
    assert!(app.calcom_bookings().await.is_empty());
}

#[actix_web::test]
async fn taken_slot_becomes_dead_letter_with_clear_error() {
    let app = spawn_app().await;
    app.collect_complete("call_taken", "16 Uhr", true).await;
    let date = app.get_call("call_taken").await["collected"]["date"]
        .as_str()
        .unwrap()
        .to_owned();
    let walk_in = json!({"company_id": 1, "service": "Herrenhaarschnitt", "date": date, "time": "16:00", "name": "Erika", "phone": "+4917612345678"});
    // While the call holds the slot, nobody else can book it.
    let refused = app.rpc("calcom.createBooking", walk_in.clone()).await;
    assert!(refused["result"].is_null(), "{refused}");
    assert_eq!(refused["error"]["code"], 2003, "{refused}");
    // The caller was quiet past the hold, and someone booked the slot meanwhile.
    app.lapse_hold("call_taken").await;
    let created = app.rpc("calcom.createBooking", walk_in).await;
    assert_eq!(created["result"]["success"], true, "{created}");
    assert_eq!(app.webhook("call_ended", ended("call_taken")).await, 204);
    let view = app.wait_for_booking("call_taken").await;
    assert_eq!(view["booking_job"]["status"], "failed", "{view}");
    let error = view["booking_job"]["last_error"].as_str().unwrap();
    assert!(error.contains("time slot not available"), "{error}");
    assert!(view["appointment"].is_null());
    assert_eq!(app.calcom_bookings().await.len(), 1, "no double booking");
}

#[actix_web::test]
async fn collect_reports_a_taken_slot_with_alternatives() {
    let app = spawn_app().await;
    app.collect_complete("call_first", "9 Uhr", true).await;
    app.webhook("call_ended", ended("call_first")).await;
    app.wait_for_booking("call_first").await;
    let reply = app.collect_complete("call_second", "9 Uhr", false).await;
    assert_eq!(reply["status"], "unavailable", "{reply}");
    assert_eq!(reply["available"], false);
    assert!(
        reply["message"]
            .as_str()
            .unwrap()
            .contains(" um 9 Uhr ist leider nicht frei"),
        "{reply}"
    );
    assert!(
        reply["alternatives"]
            .as_array()
            .unwrap()
            .contains(&json!("09:30")),
        "{reply}"
    );
}

#[actix_web::test]
async fn call_analyzed_adds_summary_and_sentiment() {
    let app = spawn_app().await;
    app.webhook("call_ended", ended("call_an")).await;
    let mut body = ended("call_an");
    body["call_analysis"] = json!({"call_summary": "Kunde wollte nur Öffnungszeiten.", "user_sentiment": "Positive", "call_successful": true});
    assert_eq!(app.webhook("call_analyzed", body).await, 204);
    let view = app.get_call("call_an").await;
    assert_eq!(view["summary"], "Kunde wollte nur Öffnungszeiten.");
    assert_eq!(view["sentiment"], "Positive");
}

#[actix_web::test]
async fn collected_data_survives_between_function_calls_piecemeal() {
    let app = spawn_app().await;
    app.function(
        "collect_appointment_data",
        "call_piece",
        json!({"service": "women's haircut"}),
    )
    .await;
    app.function(
        "collect_appointment_data",
        "call_piece",
        json!({"date": "day after tomorrow", "time": "2 pm"}),
    )
    .await;
    let (_, reply) = app
        .function(
            "collect_appointment_data",
            "call_piece",
            json!({"name": "Jane Doe", "phone": "+1 415 555 0123"}),
        )
        .await;
    assert_eq!(
        reply["collected"]["dienstleistung"], "Damenhaarschnitt",
        "{reply}"
    );
    assert_eq!(reply["collected"]["uhrzeit"], "14:00");
    assert_eq!(reply["collected"]["telefonnummer"], "+14155550123");
    assert_eq!(reply["missing_fields"], json!([]));
}

/// The free slots of the demo's Herrenhaarschnitt on the booked call's day (gateway, cached
/// for 5 minutes), as their local start times `HH:MM`.
async fn free_times(app: &TestApp, date: &str) -> Vec<String> {
    let res = app
        .rpc(
            "calcom.checkAvailability",
            json!({"company_id": 1, "service": "Herrenhaarschnitt", "date": date}),
        )
        .await;
    res["result"]["data"]["slots"]
        .as_array()
        .unwrap_or_else(|| panic!("{res}"))
        .iter()
        .filter_map(|s| s["start"].as_str())
        .map(|start| start[11..16].to_owned())
        .collect()
}

#[actix_web::test]
async fn a_slot_booked_after_the_call_is_at_once_no_longer_offered_from_the_cache() {
    let app = spawn_app().await;
    // The day's free times are cached before the caller holds (and then books) 14:00.
    let asked = app
        .function(
            "collect_appointment_data",
            "call_cache_1",
            json!({"dienstleistung": "Herrenschnitt", "datum": "kommenden Dienstag"}),
        )
        .await
        .1;
    let date = asked["collected"]["datum"].as_str().unwrap().to_owned();
    assert!(free_times(&app, &date).await.contains(&"14:00".to_owned()));
    let reply = app.collect_complete("call_cache_1", "14 Uhr", true).await;
    assert_eq!(reply["status"], "booked_pending", "{reply}");
    assert_eq!(app.webhook("call_ended", ended("call_cache_1")).await, 204);
    let view = app.wait_for_booking("call_cache_1").await;
    assert_eq!(view["booking_job"]["status"], "done", "{view}");
    let free = free_times(&app, &date).await;
    assert!(
        !free.contains(&"14:00".to_owned()),
        "the outbox's booking left a stale cached slot: {free:?}"
    );
}
