//! Issue 10, finding 8: slow and oversized input. Bodies that never arrive are cut off, text
//! fields are bounded and cleaned before they reach the store or Cal.com, bad custom-function
//! args get a spoken answer, and nonsense numbers in a call object are no 5xx.

use crate::gateway::next_weekday;
use crate::helpers::{ended, spawn_app, spawn_app_with};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Far longer than the configured timeout, so only a held connection fails the test.
const GENEROUS: Duration = Duration::from_secs(30);

#[actix_web::test]
async fn a_body_that_never_arrives_is_answered_408_not_held() {
    let app = spawn_app_with(&[("SWITCHBOARD__SERVER__BODY_READ_TIMEOUT_MS", "300")]).await;
    let addr = app.url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/mcp/retell/webhook HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: 1000\r\n\r\n{{\"event\":"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(GENEROUS, stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "connection still held after {GENEROUS:?}");
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
}

#[actix_web::test]
async fn a_complete_body_is_served_under_the_body_deadline() {
    let app = spawn_app_with(&[("SWITCHBOARD__SERVER__BODY_READ_TIMEOUT_MS", "300")]).await;
    assert_eq!(app.webhook("call_ended", ended("c_body_ok")).await, 204);
}

fn booking(extra: Value) -> Value {
    let mut params = json!({"company_id": 1, "service": "Färben",
        "date": next_weekday(), "time": "10:30", "name": "Erika Musterfrau", "phone": "030 1234567"});
    params
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    params
}

#[actix_web::test]
async fn gateway_booking_names_lose_control_and_bidi_characters() {
    let app = spawn_app().await;
    let res = app
        .rpc(
            "calcom.createBooking",
            booking(json!({"name": "Erika\u{0} Muster\u{202E}frau", "email": "e@example.de\u{7}"})),
        )
        .await;
    assert_eq!(res["result"]["success"], true, "{res}");
    let bookings = app.calcom_bookings().await;
    let text = serde_json::to_string(&bookings).unwrap();
    assert!(text.contains("Erika Musterfrau"), "{text}");
    assert!(
        !text.contains("\\u0000") && !text.contains('\u{202E}'),
        "{text}"
    );
}

#[actix_web::test]
async fn gateway_booking_validates_name_and_email_like_the_custom_functions() {
    let app = spawn_app().await;
    let refused = [
        (
            json!({"name": "a".repeat(101)}),
            "name is longer than 100 characters",
        ),
        (
            json!({"email": "not-an-address"}),
            "email is not an email address",
        ),
        (
            json!({"email": format!("{}@example.de", "a".repeat(250))}),
            "email is longer than 254 characters",
        ),
        (
            json!({"phone": "1".repeat(101)}),
            "phone is longer than 100 characters",
        ),
        (
            json!({"idempotency_key": "k\u{0}1"}),
            "idempotency_key must not contain control or bidi characters",
        ),
    ];
    for (params, details) in refused {
        let res = app.rpc("calcom.createBooking", booking(params)).await;
        assert_eq!(res["error"]["code"], -32602, "{res}");
        assert_eq!(res["error"]["data"]["details"], details, "{res}");
    }
    let blank = app
        .rpc(
            "calcom.createBooking",
            booking(json!({"name": "\u{0}\u{202E} "})),
        )
        .await;
    assert_eq!(blank["error"]["code"], 4001, "{blank}");
    assert!(app.calcom_bookings().await.is_empty());
}

#[actix_web::test]
async fn every_function_answers_garbage_args_with_200_and_words() {
    let app = spawn_app().await;
    // Five such fields stay under the 1 MiB body limit; notes get 900 KB on their own.
    let huge = "x".repeat(150_000);
    let garbage = [
        json!({"notizen": "x".repeat(900_000), "notes": 1}),
        json!({"datum": [1, 2], "uhrzeit": {"a": 1}, "name": null}),
        json!({"datum": huge, "uhrzeit": huge, "dienstleistung": huge, "services": huge}),
        json!({"notizen": huge, "name": huge, "email": huge, "telefonnummer": huge, "mitarbeiter_wunsch": huge}),
        json!({"datum": "9999-12-31", "date": "+262142-12-31", "dienstleistung": "Färben"}),
        json!({"datum": "\u{0}\u{202E}", "uhrzeit": -1e308, "bestaetigt": 1e308, "dienstleistungen": [null, {}, huge]}),
    ];
    for name in switchboard_actors::functions::NAMES {
        for (i, args) in garbage.iter().enumerate() {
            let (status, reply) = app
                .function(name, &format!("c_garbage_{i}"), args.clone())
                .await;
            assert_eq!(status, 200, "{name} {i}: {reply}");
            assert!(reply["message"].is_string(), "{name} {i}: {reply}");
            assert!(reply.get("fallback").is_none(), "{name} {i}: {reply}");
            assert!(
                reply.to_string().len() < 10_000,
                "{name} {i}: reply echoes the input"
            );
        }
    }
}

#[actix_web::test]
async fn args_that_are_not_an_object_are_answered_with_200_and_words() {
    let app = spawn_app().await;
    for name in switchboard_actors::functions::NAMES {
        for (i, args) in [json!("10 Uhr"), json!([1, 2]), json!(null), json!(7)]
            .into_iter()
            .enumerate()
        {
            let (status, reply) = app
                .function(name, &format!("c_not_object_{i}"), args.clone())
                .await;
            assert_eq!(status, 200, "{name} {args}: {reply}");
            assert!(reply["message"].is_string(), "{name} {args}: {reply}");
        }
    }
}

#[actix_web::test]
async fn functions_refuse_dates_after_the_booking_window_in_words() {
    let app = spawn_app().await;
    let (status, reply) = app
        .function(
            "collect_appointment_data",
            "c_far",
            json!({"datum": "31.12.9999", "uhrzeit": "10:00", "dienstleistung": "Färben",
                   "name": "Max", "telefonnummer": "0151 12345678", "bestaetigt": "ja"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(reply["status"], "invalid", "{reply}");
    assert_eq!(reply["collected"]["datum"], Value::Null, "{reply}");
    assert!(
        reply["message"]
            .as_str()
            .unwrap()
            .contains("zu weit in der Zukunft")
    );
    for name in ["check_availability", "find_next_slot"] {
        let (status, reply) = app
            .function(
                name,
                "c_far",
                json!({"datum": "9999-12-31", "dienstleistung": "Färben"}),
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(reply["success"], false, "{name}: {reply}");
        assert!(
            reply["message"]
                .as_str()
                .unwrap()
                .contains("zu weit in der Zukunft"),
            "{name}: {reply}"
        );
    }
}

#[actix_web::test]
async fn notes_with_nul_are_stored_clean_on_every_backend() {
    let app = spawn_app().await;
    let (status, reply) = app
        .function(
            "collect_appointment_data",
            "c_nul",
            json!({"notizen": "Allergie\u{0}: \u{202E}keine", "name": "Max\u{0}"}),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["collected"]["notizen"], "Allergie: keine", "{reply}");
    assert_eq!(reply["collected"]["name"], "Max", "{reply}");
}

#[actix_web::test]
async fn negative_duration_or_absurd_timestamps_in_a_call_object_are_no_5xx() {
    let app = spawn_app().await;
    let mut call = ended("c_negative");
    call["duration_ms"] = json!(-5);
    // Year -251,000: chrono reads it, PostgreSQL's timestamptz does not.
    call["start_timestamp"] = json!(-8_000_000_000_000_000_000i64);
    call["disconnection_reason"] = json!("user\u{0}_hangup");
    assert_eq!(app.webhook("call_ended", call).await, 204);
    let view = app.get_call("c_negative").await;
    assert!(view.get("started_at").is_some_and(Value::is_null), "{view}");
    assert!(
        view.get("duration_ms").is_some_and(Value::is_null),
        "{view}"
    );
}
