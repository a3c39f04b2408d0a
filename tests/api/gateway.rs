//! The JSON-RPC 2.0 gateway over HTTP: auth, spec errors, batches, methods.

use crate::helpers::{ADMIN_TOKEN, spawn_app};
use serde_json::{Value, json};

#[actix_web::test]
async fn missing_or_unknown_token_is_401_with_jsonrpc_error() {
    let app = spawn_app().await;
    let body =
        r#"{"jsonrpc":"2.0","id":1,"method":"calcom.getEventTypes","params":{"company_id":1}}"#;
    let (status, reply) = app.gateway_raw(body, None).await;
    assert_eq!(status, 401);
    assert_eq!(reply["error"]["code"], -32001);
    assert_eq!(reply["id"], Value::Null);
    let (status, reply) = app.gateway_raw(body, Some("not-a-token")).await;
    assert_eq!(status, 401);
    assert_eq!(reply["error"]["code"], -32001);
}

#[actix_web::test]
async fn parse_error_is_32700_with_null_id() {
    let app = spawn_app().await;
    let (status, reply) = app
        .gateway_raw(
            r#"{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]"#,
            Some(ADMIN_TOKEN),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(reply["error"]["code"], -32700);
    assert_eq!(reply["id"], Value::Null);
}

#[actix_web::test]
async fn empty_batch_is_one_invalid_request() {
    let app = spawn_app().await;
    let (_, reply) = app.gateway_raw("[]", Some(ADMIN_TOKEN)).await;
    assert!(reply.is_object(), "{reply}");
    assert_eq!(reply["error"]["code"], -32600);
}

#[actix_web::test]
async fn all_notification_batch_answers_204_without_body() {
    let app = spawn_app().await;
    let body = r#"[{"jsonrpc":"2.0","method":"calcom.getEventTypes","params":{"company_id":1}},{"jsonrpc":"2.0","method":"nope"}]"#;
    let (status, reply) = app.gateway_raw(body, Some(ADMIN_TOKEN)).await;
    assert_eq!(status, 204);
    assert_eq!(reply, Value::Null);
}

#[actix_web::test]
async fn unknown_method_and_invalid_params_have_spec_codes() {
    let app = spawn_app().await;
    let res = app.rpc("calcom.noSuchMethod", json!({})).await;
    assert_eq!(res["error"]["code"], -32601);
    assert_eq!(res["id"], 1);
    let res = app
        .rpc(
            "calcom.getEventTypes",
            json!({"company_id": 1, "surprise": true}),
        )
        .await;
    assert_eq!(res["error"]["code"], -32602);
    let res = app.rpc("calcom.getEventTypes", json!({})).await;
    assert_eq!(
        res["error"]["code"], -32602,
        "admin token must name the company: {res}"
    );
    let res = app
        .rpc(
            "calcom.checkAvailability",
            json!({"company_id": 1, "service": "Herrenhaarschnitt", "date": "24.11.2026"}),
        )
        .await;
    assert_eq!(res["error"]["code"], -32602);
}

#[actix_web::test]
async fn batch_answers_each_call_by_id() {
    let app = spawn_app().await;
    let body = json!([
        {"jsonrpc": "2.0", "id": "a", "method": "calcom.getEventTypes", "params": {"company_id": 1}},
        {"jsonrpc": "2.0", "method": "calcom.getEventTypes", "params": {"company_id": 1}},
        {"jsonrpc": "2.0", "id": 7, "method": "nope.nope"},
        {"foo": "bar"}
    ]);
    let (status, reply) = app.gateway_raw(&body.to_string(), Some(ADMIN_TOKEN)).await;
    assert_eq!(status, 200);
    let replies = reply.as_array().expect("array");
    assert_eq!(replies.len(), 3, "{reply}");
    let by_id = |id: Value| replies.iter().find(|r| r["id"] == id).cloned().unwrap();
    assert_eq!(by_id(json!("a"))["result"]["success"], true);
    assert_eq!(by_id(json!(7))["error"]["code"], -32601);
    assert_eq!(by_id(Value::Null)["error"]["code"], -32600);
}

#[actix_web::test]
async fn rpc_discover_lists_every_registered_method_with_schemas() {
    let app = spawn_app().await;
    let doc = app.rpc("rpc.discover", json!({})).await["result"].clone();
    assert_eq!(doc["openrpc"], "1.3.2");
    let names: Vec<&str> = doc["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    for expected in [
        "calcom.getEventTypes",
        "calcom.checkAvailability",
        "calcom.getBookings",
        "calcom.createBooking",
        "webhook.getCall",
        "webhook.getWebhookStats",
        "retell.function.execute",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let create = doc["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "calcom.createBooking")
        .unwrap();
    assert!(create["params"][0]["schema"]["properties"]["idempotency_key"].is_object());
}

#[actix_web::test]
async fn discover_shows_param_bounds() {
    let app = spawn_app().await;
    let doc = app.rpc("rpc.discover", json!({})).await["result"].clone();
    let param = |method: &str, name: &str| {
        let m = doc["methods"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == method)
            .unwrap_or_else(|| panic!("{method} missing"));
        m["params"][0]["schema"]["properties"][name].clone()
    };
    for (method, name, min, max) in [
        ("calcom.checkAvailability", "days", 1, 31),
        ("calcom.getBookings", "take", 1, 250),
        ("queue.getFailedJobs", "limit", 1, 500),
        ("queue.getRecentJobs", "limit", 1, 500),
    ] {
        let p = param(method, name);
        assert_eq!(p["minimum"], min, "{method}.{name}: {p}");
        assert_eq!(p["maximum"], max, "{method}.{name}: {p}");
    }
}

#[actix_web::test]
async fn discover_shows_result_schema_and_kind() {
    let app = spawn_app().await;
    let doc = app.rpc("rpc.discover", json!({})).await["result"].clone();
    let method = |name: &str| {
        doc["methods"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .cloned()
            .unwrap()
    };
    let availability = method("calcom.checkAvailability");
    assert!(
        availability["result"]["schema"]["properties"]["slots"].is_object(),
        "{availability}"
    );
    assert_eq!(availability["x-kind"], "read");
    assert_eq!(method("calcom.createBooking")["x-kind"], "write");
}

#[actix_web::test]
async fn out_of_range_param_is_invalid_params_naming_the_field_and_bound() {
    let app = spawn_app().await;
    for (method, params, expected) in [
        (
            "calcom.checkAvailability",
            json!({"company_id": 1, "service": "Färben", "date": "2030-01-08", "days": 32}),
            "days must be between 1 and 31, got 32",
        ),
        (
            "calcom.checkAvailability",
            json!({"company_id": 1, "service": "Färben", "date": "2030-01-08", "days": 0}),
            "days must be between 1 and 31, got 0",
        ),
        (
            "calcom.getBookings",
            json!({"company_id": 1, "take": 251}),
            "take must be between 1 and 250, got 251",
        ),
        (
            "queue.getFailedJobs",
            json!({"limit": 501}),
            "limit must be between 1 and 500, got 501",
        ),
        (
            "queue.getRecentJobs",
            json!({"limit": 0}),
            "limit must be between 1 and 500, got 0",
        ),
    ] {
        let res = app.rpc(method, params).await;
        assert_eq!(res["error"]["code"], -32602, "{method}: {res}");
        assert_eq!(res["error"]["data"]["details"], expected, "{method}: {res}");
    }
}

#[actix_web::test]
async fn event_types_are_cached_on_the_second_call() {
    let app = spawn_app().await;
    let first = app
        .rpc("calcom.getEventTypes", json!({"company_id": 1}))
        .await;
    assert_eq!(first["result"]["metadata"]["cached"], false);
    assert_eq!(
        first["result"]["data"]["event_types"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let second = app
        .rpc("calcom.getEventTypes", json!({"company_id": 1}))
        .await;
    assert_eq!(second["result"]["metadata"]["cached"], true);
    assert_eq!(first["result"]["data"], second["result"]["data"]);
}

#[actix_web::test]
async fn create_booking_with_one_idempotency_key_books_once() {
    let app = spawn_app().await;
    let params = json!({"company_id": 1, "service": "Färben", "date": next_weekday(), "time": "10:30",
                        "name": "Erika Musterfrau", "phone": "030 1234567", "idempotency_key": "admin-ui-42"});
    let first = app.rpc("calcom.createBooking", params.clone()).await;
    assert_eq!(first["result"]["data"]["reused"], false, "{first}");
    let second = app.rpc("calcom.createBooking", params).await;
    assert_eq!(second["result"]["data"]["reused"], true, "{second}");
    assert_eq!(
        first["result"]["data"]["booking"]["uid"],
        second["result"]["data"]["booking"]["uid"]
    );
    assert_eq!(app.calcom_bookings().await.len(), 1);
}

#[actix_web::test]
async fn taken_slot_via_gateway_is_2003() {
    let app = spawn_app().await;
    let params = json!({"company_id": 1, "service": "Herrenhaarschnitt", "date": next_weekday(), "time": "12:00", "name": "A", "phone": "030 1234567"});
    assert_eq!(
        app.rpc("calcom.createBooking", params.clone()).await["result"]["success"],
        true
    );
    let res = app.rpc("calcom.createBooking", params).await;
    assert_eq!(res["error"]["code"], 2003, "{res}");
    assert_eq!(res["error"]["data"]["type"], "slot_not_available");
}

#[actix_web::test]
async fn booking_in_the_past_or_without_contact_is_refused() {
    let app = spawn_app().await;
    let res = app
        .rpc("calcom.createBooking", json!({"company_id": 1, "service": "Färben", "start": "2020-01-07T10:00:00Z", "name": "A", "phone": "030 1234567"}))
        .await;
    assert_eq!(res["error"]["code"], 4002, "{res}");
    let res = app
        .rpc("calcom.createBooking", json!({"company_id": 1, "service": "Färben", "date": next_weekday(), "time": "10:00", "name": "A"}))
        .await;
    assert_eq!(res["error"]["code"], 4001, "{res}");
    let res = app
        .rpc("calcom.createBooking", json!({"company_id": 1, "service": "Massage", "date": next_weekday(), "time": "10:00", "name": "A", "phone": "030 1234567"}))
        .await;
    assert_eq!(res["error"]["code"], 3003, "{res}");
}

#[actix_web::test]
async fn unknown_company_is_3001() {
    let app = spawn_app().await;
    let res = app
        .rpc("calcom.getEventTypes", json!({"company_id": 999}))
        .await;
    assert_eq!(res["error"]["code"], 3001, "{res}");
}

#[actix_web::test]
async fn retell_function_execute_runs_the_custom_function() {
    let app = spawn_app().await;
    let res = app
        .rpc(
            "retell.function.execute",
            json!({"name": "calculate_duration", "call": crate::helpers::call("c_exec"), "args": {"dienstleistung": "Färben"}}),
        )
        .await;
    assert_eq!(res["result"]["data"]["dauer_minuten"], 90, "{res}");
    assert_eq!(
        res["result"]["data"]["message"],
        "Färben dauert 90 Minuten."
    );
}

/// The next Tuesday in Berlin as `YYYY-MM-DD` (always open, always in the future).
pub(crate) fn next_weekday() -> String {
    use chrono::{Datelike, Duration, Weekday};
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Berlin)
        .date_naive();
    let mut d = today + Duration::days(1);
    while d.weekday() != Weekday::Tue {
        d += Duration::days(1);
    }
    d.to_string()
}

/// Issue 10, finding 1: a date near chrono's limit made the date arithmetic panic; twelve
/// such calls in one batch exhausted the restart budget and stopped the process.
#[actix_web::test]
async fn far_future_dates_are_4002_and_cannot_stop_the_service() {
    let app = spawn_app().await;
    let calls: Vec<Value> = (0..12)
        .map(|id| {
            json!({"jsonrpc": "2.0", "id": id, "method": "calcom.checkAvailability",
                   "params": {"company_id": 1, "service": "Herrenhaarschnitt",
                              "date": "+262142-12-31", "days": 31}})
        })
        .collect();
    let (status, replies) = app
        .gateway_raw(&Value::Array(calls).to_string(), Some(ADMIN_TOKEN))
        .await;
    assert_eq!(status, 200);
    let replies = replies.as_array().unwrap();
    assert_eq!(replies.len(), 12);
    for reply in replies {
        assert_eq!(reply["error"]["code"], 4002, "{reply}");
        assert!(!reply.to_string().contains("overflow"), "{reply}");
    }
    for params in [
        json!({"company_id": 1, "service": "Herrenhaarschnitt", "start": "+262142-12-31T10:00:00Z",
               "name": "Max", "phone": "+4917612345678"}),
        json!({"company_id": 1, "service": "Herrenhaarschnitt", "date": "+262142-12-31",
               "time": "10:00", "name": "Max", "phone": "+4917612345678"}),
        json!({"company_id": 1, "service": "Herrenhaarschnitt", "date": "9999-12-31",
               "time": "10:00", "name": "Max", "phone": "+4917612345678"}),
    ] {
        let reply = app.rpc("calcom.createBooking", params).await;
        assert_eq!(reply["error"]["code"], 4002, "{reply}");
    }
    assert!(app.calcom_bookings().await.is_empty(), "nothing was booked");
    let next = app
        .rpc("calcom.getEventTypes", json!({"company_id": 1}))
        .await;
    assert_eq!(next["result"]["success"], true, "{next}");
}

#[actix_web::test]
async fn availability_span_must_end_within_five_years() {
    let app = spawn_app().await;
    let today = chrono::Utc::now().date_naive();
    let far = today + chrono::Days::new(1821);
    let reply = app
        .rpc(
            "calcom.checkAvailability",
            json!({"company_id": 1, "service": "Herrenhaarschnitt",
                   "date": far.to_string(), "days": 31}),
        )
        .await;
    assert_eq!(reply["error"]["code"], 4002, "{reply}");
    let details = reply["error"]["message"].to_string() + &reply["error"]["data"].to_string();
    assert!(details.contains("outside the bookable dates"), "{reply}");
}

/// Issue 10, finding 3 (the gateway half): an idempotency key given to `createBooking` was
/// stored as is, so a gateway booking with a call's key `retell:{call_id}:book` was taken for
/// that call's booking, and the caller's own slot was never booked.
#[actix_web::test]
async fn gateway_idempotency_key_cannot_pre_empt_a_calls_booking() {
    let app = spawn_app().await;
    let hostile = app
        .rpc(
            "calcom.createBooking",
            json!({"company_id": 1, "service": "Färben", "date": next_weekday(), "time": "15:00",
                   "name": "Mallory", "phone": "030 1234567",
                   "idempotency_key": "retell:call_pre_empted:book"}),
        )
        .await;
    assert_eq!(hostile["result"]["success"], true, "{hostile}");
    app.collect_complete("call_pre_empted", "10 Uhr", true)
        .await;
    assert_eq!(
        app.webhook("call_ended", crate::helpers::ended("call_pre_empted"))
            .await,
        204
    );
    let view = app.wait_for_booking("call_pre_empted").await;
    assert_eq!(view["booking_job"]["status"], "done", "{view}");
    assert_eq!(
        app.calcom_bookings().await.len(),
        2,
        "the caller got a booking of their own"
    );
    assert_ne!(
        view["appointment"]["booking_uid"], hostile["result"]["data"]["booking"]["uid"],
        "{view}"
    );
}

#[actix_web::test]
async fn idempotency_key_longer_than_128_is_invalid_params() {
    let app = spawn_app().await;
    let res = app
        .rpc(
            "calcom.createBooking",
            json!({"company_id": 1, "service": "Färben", "date": next_weekday(), "time": "10:30",
                   "name": "A", "phone": "030 1234567", "idempotency_key": "k".repeat(129)}),
        )
        .await;
    assert_eq!(res["error"]["code"], -32602, "{res}");
}
