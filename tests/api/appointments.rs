//! Existing appointments by phone and by staff tools (issue 12, items 1–2): callers find,
//! move and cancel their own appointments during the call, nobody else's; the notice rule;
//! Cal.com, the local record and the cached availability follow each change at once.

use crate::helpers::{TestApp, now_ms, spawn_app, spawn_app_with};
use crate::isolation::{A_TOKEN, B_TOKEN, tenants};
use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde_json::{Value, json};
use switchboard::sandbox::DEMO_RETELL_API_KEY;

const ME: &str = "+4915112345678";
const OTHER: &str = "+4917612345678";

/// A Tuesday (the demo salon is open) at least three days ahead, in Berlin: outside the
/// default 24-hour notice whatever the weekday today.
fn tuesday() -> NaiveDate {
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Berlin)
        .date_naive();
    let mut d = today + Duration::days(3);
    while d.weekday() != Weekday::Tue {
        d += Duration::days(1);
    }
    d
}

/// Books a Herrenhaarschnitt for `phone` through the gateway; the booking uid.
async fn book(app: &TestApp, phone: &str, date: NaiveDate, time: &str) -> String {
    let created = app
        .rpc(
            "calcom.createBooking",
            json!({"company_id": 1, "service": "Herrenhaarschnitt", "date": date.to_string(),
                "time": time, "name": "Kunde", "phone": phone}),
        )
        .await;
    created["result"]["data"]["booking"]["uid"]
        .as_str()
        .unwrap_or_else(|| panic!("booked: {created}"))
        .to_owned()
}

/// A signed custom-function call from `from` (`None`: a withheld number) to the demo number.
async fn say(app: &TestApp, name: &str, call_id: &str, from: Option<&str>, args: Value) -> Value {
    let mut call = crate::helpers::call(call_id);
    match from {
        Some(number) => call["from_number"] = json!(number),
        None => {
            call.as_object_mut().unwrap().remove("from_number");
        }
    }
    let body = json!({"name": name, "call": call, "args": args});
    let res = app
        .post_signed(
            "/api/mcp/retell/custom-function",
            &body,
            Some(DEMO_RETELL_API_KEY),
            now_ms(),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    res.json().await.unwrap()
}

/// The simulator's booking `uid`.
async fn at_calcom(app: &TestApp, uid: &str) -> Value {
    app.calcom_bookings()
        .await
        .into_iter()
        .find(|b| b["uid"] == uid)
        .unwrap_or_else(|| panic!("{uid} not at Cal.com"))
}

fn message(reply: &Value) -> &str {
    reply["message"].as_str().unwrap_or_default()
}

#[actix_web::test]
async fn find_lists_only_the_callers_appointments() {
    let app = spawn_app().await;
    let day = tuesday();
    book(&app, ME, day, "10:00").await;
    book(&app, OTHER, day, "11:00").await;
    let reply = say(&app, "find_appointments", "call_find", Some(ME), json!({})).await;
    assert_eq!(reply["status"], "found", "{reply}");
    assert_eq!(
        reply["appointments"],
        json!([{"index": 1, "date": day.to_string(), "time": "10:00",
            "service": "Herrenhaarschnitt", "can_modify": true}])
    );
    assert!(message(&reply).contains("um 10 Uhr"), "{reply}");
    assert!(!reply.to_string().contains("11:00") && !message(&reply).contains("11 Uhr"));
}

#[actix_web::test]
async fn a_stranger_cannot_find_or_cancel_someone_elses_appointment() {
    let app = spawn_app().await;
    let day = tuesday();
    let uid = book(&app, ME, day, "10:00").await;
    let nobody = say(
        &app,
        "find_appointments",
        "call_x",
        Some("+4917099999999"),
        json!({}),
    )
    .await;
    assert_eq!(nobody["status"], "none_found", "{nobody}");
    // Another number names mine and guesses a wrong date: the same answer as nothing at all.
    let wrong_day = (day + Duration::days(1)).format("%d.%m.%Y").to_string();
    let guess = json!({"telefonnummer": "0151 12345678", "termin": wrong_day});
    let guessed = say(
        &app,
        "find_appointments",
        "call_y",
        Some("+4917099999999"),
        guess.clone(),
    )
    .await;
    assert_eq!(guessed["message"], nobody["message"], "{guessed}");
    assert_eq!(guessed["status"], nobody["status"]);
    let mut cancel = guess;
    cancel["bestaetigt"] = json!(true);
    let refused = say(
        &app,
        "cancel_appointment",
        "call_y",
        Some("+4917099999999"),
        cancel,
    )
    .await;
    assert_eq!(refused["message"], nobody["message"], "{refused}");
    assert_eq!(at_calcom(&app, &uid).await["status"], "accepted");
}

#[actix_web::test]
async fn withheld_caller_is_asked_for_number_and_date_then_finds_it() {
    let app = spawn_app().await;
    let day = tuesday();
    book(&app, ME, day, "10:00").await;
    let asked = say(
        &app,
        "find_appointments",
        "call_w",
        None,
        json!({"telefonnummer": "0151 12345678"}),
    )
    .await;
    assert_eq!(asked["status"], "need_identity", "{asked}");
    assert!(message(&asked).contains("das Datum des Termins"), "{asked}");
    let found = say(
        &app,
        "find_appointments",
        "call_w",
        None,
        json!({"telefonnummer": "0151 12345678", "termin": day.format("%d.%m.%Y").to_string()}),
    )
    .await;
    assert_eq!(found["status"], "found", "{found}");
    assert_eq!(found["appointments"][0]["time"], "10:00");
}

#[actix_web::test]
async fn change_inside_the_notice_window_is_refused_through_the_endpoint() {
    let app = spawn_app().await;
    let updated = app
        .rpc(
            "company.update",
            json!({"company_id": 1, "policy": {"change_notice_h": 8760}}),
        )
        .await;
    assert!(updated.get("result").is_some(), "{updated}");
    let day = tuesday();
    let uid = book(&app, ME, day, "10:00").await;
    let args = json!({"datum": day.to_string(), "uhrzeit": "15 Uhr", "bestaetigt": true});
    let reply = say(&app, "change_appointment", "call_n", Some(ME), args).await;
    assert_eq!(reply["status"], "notice", "{reply}");
    assert!(
        message(&reply).contains("bis 8760 Stunden vor dem Termin"),
        "{reply}"
    );
    assert_eq!(
        at_calcom(&app, &uid).await["status"],
        "accepted",
        "unchanged"
    );
    let staff = app
        .rpc(
            "appointments.cancel",
            json!({"company_id": 1, "booking_uid": uid}),
        )
        .await;
    assert_eq!(staff["error"]["data"]["type"], "change_notice", "{staff}");
}

#[actix_web::test]
async fn change_to_an_ambiguous_date_asks_which_day() {
    let app = spawn_app().await;
    let day = tuesday();
    let uid = book(&app, ME, day, "10:00").await;
    let args = json!({"datum": "05/06", "uhrzeit": "15 Uhr", "bestaetigt": true});
    let reply = say(&app, "change_appointment", "call_a", Some(ME), args).await;
    assert_eq!(reply["status"], "date_ambiguous", "{reply}");
    for part in ["Meinen Sie", "den 6. Mai, oder", "den 5. Juni?"] {
        assert!(message(&reply).contains(part), "{part}: {reply}");
    }
    assert_eq!(
        at_calcom(&app, &uid).await["status"],
        "accepted",
        "unchanged"
    );
}

#[actix_web::test]
async fn change_to_a_taken_slot_offers_free_times() {
    let app = spawn_app().await;
    let day = tuesday();
    book(&app, ME, day, "10:00").await;
    book(&app, OTHER, day, "14:00").await;
    let args = json!({"datum": day.to_string(), "uhrzeit": "14 Uhr", "bestaetigt": true});
    let reply = say(&app, "change_appointment", "call_t", Some(ME), args).await;
    assert_eq!(reply["status"], "slot_taken", "{reply}");
    let alternatives = reply["alternatives"].as_array().unwrap();
    assert!(alternatives.contains(&json!("14:30")), "{reply}");
    assert!(message(&reply).contains("Frei wäre um"), "{reply}");
}

#[actix_web::test]
async fn confirmed_change_moves_the_booking_in_calcom_and_locally() {
    let app = spawn_app().await;
    let day = tuesday();
    let old = book(&app, ME, day, "10:00").await;
    let args = json!({"date": day.to_string(), "time": "15:00"});
    let asked = say(&app, "change_appointment", "call_m", Some(ME), args.clone()).await;
    assert_eq!(asked["status"], "confirm", "{asked}");
    assert_eq!(
        at_calcom(&app, &old).await["status"],
        "accepted",
        "nothing before yes"
    );
    let mut confirmed = args;
    confirmed["confirmed"] = json!("ja");
    let moved = say(&app, "change_appointment", "call_m", Some(ME), confirmed).await;
    assert_eq!(moved["status"], "moved", "{moved}");
    assert!(message(&moved).contains("ist jetzt am"), "{moved}");
    assert_eq!(at_calcom(&app, &old).await["status"], "cancelled");
    let found = app
        .rpc("appointments.find", json!({"company_id": 1, "phone": ME}))
        .await;
    let list = found["result"]["data"]["appointments"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(list.len(), 1, "{found}");
    assert_eq!(list[0]["time"], "15:00");
    let new_uid = list[0]["booking_uid"].as_str().unwrap();
    assert_ne!(new_uid, old);
    assert_eq!(at_calcom(&app, new_uid).await["status"], "accepted");
}

#[actix_web::test]
async fn cancel_frees_the_slot_at_once() {
    let app = spawn_app().await;
    let day = tuesday();
    let uid = book(&app, ME, day, "10:00").await;
    let check = || async {
        let r = app
            .rpc(
                "calcom.checkAvailability",
                json!({"company_id": 1, "service": "Herrenhaarschnitt", "date": day.to_string()}),
            )
            .await;
        r["result"]["data"].to_string()
    };
    // Slots are listed in the company's zone, with its offset.
    let ten = format!("\"start\":\"{day}T10:00:00");
    let before = check().await;
    assert!(!before.contains(&ten), "10:00 is taken: {ten} in {before}");
    let reply = say(
        &app,
        "cancel_appointment",
        "call_c",
        Some(ME),
        json!({"bestaetigt": true, "grund": "krank"}),
    )
    .await;
    assert_eq!(reply["status"], "cancelled", "{reply}");
    assert!(message(&reply).contains("ist abgesagt"), "{reply}");
    assert_eq!(at_calcom(&app, &uid).await["status"], "cancelled");
    assert!(
        check().await.contains(&ten),
        "freed slot offered at once, not after the cache expires"
    );
}

#[actix_web::test]
async fn appointments_change_of_another_tenant_is_forbidden() {
    let t = tenants().await;
    let a_uid = t.a_booking_uid.clone();
    let start = format!("{}T15:00:00+01:00", tuesday());
    let named = t
        .rpc_as(
            B_TOKEN,
            "appointments.change",
            json!({"company_id": t.a.0, "booking_uid": a_uid, "start": start}),
        )
        .await;
    assert_eq!(named["error"]["code"], -32002, "{named}");
    for method in ["appointments.change", "calcom.updateBooking"] {
        let theirs = t
            .rpc_as(
                B_TOKEN,
                method,
                json!({"booking_uid": a_uid, "start": start}),
            )
            .await;
        assert_eq!(
            theirs["error"]["data"]["type"], "not_found",
            "{method}: {theirs}"
        );
    }
    for method in ["appointments.cancel", "calcom.cancelBooking"] {
        let theirs = t
            .rpc_as(B_TOKEN, method, json!({"booking_uid": a_uid}))
            .await;
        assert_eq!(
            theirs["error"]["data"]["type"], "not_found",
            "{method}: {theirs}"
        );
    }
    let mine = t
        .rpc_as(
            A_TOKEN,
            "appointments.find",
            json!({"phone": "+4915112345678"}),
        )
        .await;
    assert_eq!(
        mine["result"]["data"]["appointments"][0]["booking_uid"], a_uid,
        "{mine}"
    );
}

/// Sets the simulator's faults (`/__sim/faults`).
async fn faults(app: &TestApp, body: Value) {
    let res = app
        .client
        .post(format!("{}/__sim/faults", app.calcom_url))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
}

#[actix_web::test]
async fn staff_change_calcom_cannot_answer_in_time_is_queued_and_done_by_the_outbox() {
    let app = spawn_app().await;
    let day = tuesday();
    let old = book(&app, ME, day, "10:00").await;
    let start = chrono::TimeZone::from_local_datetime(
        &chrono_tz::Europe::Berlin,
        &day.and_hms_opt(15, 0, 0).unwrap(),
    )
    .unwrap()
    .to_rfc3339();
    faults(&app, json!({"timeout_rate": 1.0})).await;
    let changed = app
        .rpc(
            "appointments.change",
            json!({"company_id": 1, "booking_uid": old, "start": start}),
        )
        .await;
    assert_eq!(changed["result"]["data"]["status"], "queued", "{changed}");
    assert!(changed["result"]["data"]["job_id"].is_i64(), "{changed}");
    faults(&app, json!({})).await;
    let mut list = Vec::new();
    for _ in 0..600 {
        let found = app
            .rpc("appointments.find", json!({"company_id": 1, "phone": ME}))
            .await;
        list = found["result"]["data"]["appointments"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if list.first().is_some_and(|a| a["time"] == "15:00") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["time"], "15:00", "moved by the outbox: {list:?}");
    assert_eq!(at_calcom(&app, &old).await["status"], "cancelled");
    let accepted: Vec<Value> = app
        .calcom_bookings()
        .await
        .into_iter()
        .filter(|b| b["status"] == "accepted")
        .collect();
    assert_eq!(accepted.len(), 1, "moved once: {accepted:?}");
}

#[actix_web::test]
async fn a_booked_call_is_found_moved_and_cancelled_by_later_calls() {
    let app = spawn_app().await;
    // "Nächsten Dienstag" can be tomorrow: no notice, so the test does not depend on the day.
    let updated = app
        .rpc(
            "company.update",
            json!({"company_id": 1, "policy": {"change_notice_h": 0}}),
        )
        .await;
    assert!(updated.get("result").is_some(), "{updated}");
    app.collect_complete("call_book", "10 Uhr", true).await;
    assert_eq!(
        app.webhook("call_ended", crate::helpers::ended("call_book"))
            .await,
        204
    );
    let view = app.wait_for_booking("call_book").await;
    let booked = view["appointment"]["booking_uid"]
        .as_str()
        .unwrap()
        .to_owned();
    let day = view["collected"]["date"].as_str().unwrap().to_owned();

    let found = say(&app, "find_appointments", "call_2", Some(ME), json!({})).await;
    assert_eq!(found["appointments"][0]["time"], "10:00", "{found}");
    let move_to = json!({"termin": "1", "datum": day, "uhrzeit": "12 Uhr", "bestaetigt": "ja"});
    let moved = say(&app, "change_appointment", "call_2", Some(ME), move_to).await;
    assert_eq!(moved["status"], "moved", "{moved}");
    assert_eq!(at_calcom(&app, &booked).await["status"], "cancelled");

    let cancelled = say(
        &app,
        "cancel_appointment",
        "call_3",
        Some(ME),
        json!({"termin": day, "bestaetigt": true}),
    )
    .await;
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    assert!(
        app.calcom_bookings()
            .await
            .iter()
            .all(|b| b["status"] == "cancelled"),
        "nothing left booked"
    );
    let after = say(&app, "find_appointments", "call_4", Some(ME), json!({})).await;
    assert_eq!(after["status"], "none_found", "{after}");
}

#[actix_web::test]
async fn slow_calcom_move_is_queued_said_honestly_and_recorded_once() {
    // Without the prefetch the booking drops the day's cached free times instead of
    // re-warming them, so the move below reads them from Cal.com.
    let app = spawn_app_with(&[("SWITCHBOARD__CACHE__PREFETCH_DAYS", "0")]).await;
    let day = tuesday();
    let old = book(&app, ME, day, "10:00").await;
    // Reading the free times takes most of the function's calendar budget (1.5 s); the move
    // gets too little of it, is queued, and still reaches Cal.com after the reply: a lost
    // answer the outbox job must recognise rather than move twice.
    faults(&app, json!({"latency_ms": 1000})).await;
    let args = json!({"datum": day.to_string(), "uhrzeit": "15 Uhr", "bestaetigt": true});
    let reply = say(&app, "change_appointment", "call_slow", Some(ME), args).await;
    assert_eq!(reply["status"], "queued", "{reply}");
    let said = message(&reply);
    assert!(
        said.contains("notiert") && !said.contains("Erledigt"),
        "{reply}"
    );
    let mut list = Vec::new();
    for _ in 0..600 {
        let found = app
            .rpc("appointments.find", json!({"company_id": 1, "phone": ME}))
            .await;
        list = found["result"]["data"]["appointments"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if list.first().is_some_and(|a| a["time"] == "15:00") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["time"], "15:00", "moved after the call: {list:?}");
    faults(&app, json!({})).await;
    assert_eq!(at_calcom(&app, &old).await["status"], "cancelled");
    let accepted: Vec<Value> = app
        .calcom_bookings()
        .await
        .into_iter()
        .filter(|b| b["status"] == "accepted")
        .collect();
    assert_eq!(accepted.len(), 1, "moved once: {accepted:?}");
}

#[actix_web::test]
async fn bad_input_is_refused_and_leaves_the_appointment_intact() {
    let app = spawn_app().await;
    let day = tuesday();
    let uid = book(&app, ME, day, "10:00").await;
    let change = |start: &str| json!({"company_id": 1, "booking_uid": uid, "start": start});
    let code = |r: &Value| r["error"]["code"].as_i64().unwrap_or_else(|| panic!("{r}"));
    let r = app.rpc("appointments.change", change("next tuesday")).await;
    assert_eq!(code(&r), -32602, "{r}");
    let r = app
        .rpc("appointments.change", change("2020-01-07T10:00:00+01:00"))
        .await;
    assert_eq!(code(&r), 4002, "past: {r}");
    let r = app
        .rpc(
            "appointments.find",
            json!({"company_id": 1, "phone": "not a number"}),
        )
        .await;
    assert_eq!(code(&r), 4003, "{r}");
    let r = app
        .rpc(
            "appointments.cancel",
            json!({"company_id": 1, "booking_uid": "nope"}),
        )
        .await;
    assert_eq!(r["error"]["data"]["type"], "not_found", "{r}");
    let r = app
        .rpc(
            "appointments.cancel",
            json!({"company_id": 1, "booking_uid": uid, "force": true}),
        )
        .await;
    assert_eq!(code(&r), -32602, "unknown param: {r}");
    let r = app
        .rpc(
            "appointments.cancel",
            json!({"company_id": 1, "booking_uid": uid, "reason": "x".repeat(501)}),
        )
        .await;
    assert_eq!(code(&r), -32602, "oversized reason: {r}");

    let overlong = json!({"termin": "x".repeat(5000), "bestaetigt": true});
    let r = say(&app, "cancel_appointment", "call_bad", Some(ME), overlong).await;
    assert_eq!(r["status"], "date_not_understood", "{r}");
    assert!(message(&r).len() < 300, "not echoed whole: {r}");
    for unconfirmed in [
        json!({}),
        json!({"bestaetigt": "nein"}),
        json!({"bestaetigt": "vielleicht"}),
    ] {
        let r = say(
            &app,
            "cancel_appointment",
            "call_bad",
            Some(ME),
            unconfirmed,
        )
        .await;
        assert_eq!(r["status"], "confirm", "{r}");
    }
    assert_eq!(at_calcom(&app, &uid).await["status"], "accepted", "intact");

    let done = app
        .rpc(
            "appointments.cancel",
            json!({"company_id": 1, "booking_uid": uid}),
        )
        .await;
    assert_eq!(done["result"]["data"]["status"], "done", "{done}");
    let again = app
        .rpc(
            "appointments.cancel",
            json!({"company_id": 1, "booking_uid": uid}),
        )
        .await;
    assert_eq!(again["error"]["data"]["type"], "not_scheduled", "{again}");
}
