//! Bad webhooks get the right status and leave stored data intact.

use crate::helpers::{ADMIN_TOKEN, TestApp, call, ended, now_ms, spawn_app};
use serde_json::{Value, json};
use switchboard::sandbox::DEMO_RETELL_API_KEY;
use switchboard_actors::domain::ids::{CompanyId, EventTypeId};
use switchboard_actors::ports::Cache;
use switchboard_actors::servers::calcom::availability_key;

const PATH: &str = "/api/mcp/retell/webhook";

async fn nothing_stored(app: &TestApp, call_id: &str) {
    let res = app
        .rpc("webhook.getCall", json!({"call_id": call_id}))
        .await;
    assert_eq!(
        res["error"]["code"], -32602,
        "call {call_id} must not exist: {res}"
    );
    let stats = app.rpc("webhook.getWebhookStats", json!({})).await["result"]["data"].clone();
    assert_eq!(stats["calls"], 0, "{stats}");
}

/// Posts a `call_ended` event for `call`, signed now with `key` (unsigned when `None`).
async fn send_call_ended(app: &TestApp, call: Value, key: Option<&str>) -> reqwest::Response {
    let body = json!({"event": "call_ended", "call": call});
    app.post_signed(PATH, &body, key, now_ms()).await
}

/// Checks that `res` has `status` and an error message containing `part`; returns the body.
async fn assert_rejected(res: reqwest::Response, status: u16, part: &str) -> Value {
    assert_eq!(res.status().as_u16(), status);
    let body: Value = res.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(part), "{body}");
    body
}

#[actix_web::test]
async fn unsigned_webhook_is_401_and_stores_nothing() {
    let app = spawn_app().await;
    let res = send_call_ended(&app, ended("c_unsigned"), None).await;
    assert_rejected(res, 401, "missing X-Retell-Signature").await;
    nothing_stored(&app, "c_unsigned").await;
}

#[actix_web::test]
async fn signature_with_another_key_is_401() {
    let app = spawn_app().await;
    let res = send_call_ended(&app, ended("c_wrongkey"), Some("key_of_someone_else")).await;
    assert_eq!(res.status().as_u16(), 401);
    nothing_stored(&app, "c_wrongkey").await;
}

#[actix_web::test]
async fn stale_signature_is_401() {
    let app = spawn_app().await;
    let body = json!({"event": "call_ended", "call": ended("c_stale")});
    let six_minutes_ago = now_ms() - 6 * 60 * 1000;
    let res = app
        .post_signed(PATH, &body, Some(DEMO_RETELL_API_KEY), six_minutes_ago)
        .await;
    assert_eq!(res.status().as_u16(), 401);
    let text = res.text().await.unwrap();
    assert!(text.contains("away from our clock"), "{text}");
    nothing_stored(&app, "c_stale").await;
}

#[actix_web::test]
async fn tampered_body_is_401() {
    let app = spawn_app().await;
    let signed =
        serde_json::to_vec(&json!({"event": "call_started", "call": ended("c_tamper")})).unwrap();
    let header =
        switchboard_actors::retell::signature::sign(&signed, DEMO_RETELL_API_KEY, now_ms());
    let tampered =
        serde_json::to_vec(&json!({"event": "call_ended", "call": ended("c_tamper")})).unwrap();
    let res = app
        .client
        .post(format!("{}{PATH}", app.url))
        .header("X-Retell-Signature", header)
        .body(tampered)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    nothing_stored(&app, "c_tamper").await;
}

#[actix_web::test]
async fn malformed_json_is_400() {
    let app = spawn_app().await;
    let res = app
        .post_raw(
            PATH,
            b"{\"event\": \"call_ended\", \"call\": ".to_vec(),
            Some(DEMO_RETELL_API_KEY),
            now_ms(),
        )
        .await;
    assert_eq!(res.status().as_u16(), 400);
    let res = send_call_ended(&app, json!({"no_call_id": 1}), Some(DEMO_RETELL_API_KEY)).await;
    assert_eq!(res.status().as_u16(), 400);
}

/// Issue 10, finding 7: an unknown number answered 404 "not configured" before the signature
/// was checked, so anyone could enumerate the numbers we serve. Now it is answered exactly like
/// a known number with a wrong signature.
#[actix_web::test]
async fn unknown_number_is_answered_like_a_bad_signature() {
    let app = spawn_app().await;
    let mut call = ended("c_unknown");
    call["to_number"] = json!("+4940123456789");
    let unknown = send_call_ended(&app, call.clone(), Some(DEMO_RETELL_API_KEY)).await;
    let wrong_key = send_call_ended(&app, ended("c_unknown"), Some("key_of_someone_else")).await;
    assert_eq!(unknown.status().as_u16(), 401);
    assert_eq!(wrong_key.status().as_u16(), 401);
    let unknown: Value = unknown.json().await.unwrap();
    let wrong_key: Value = wrong_key.json().await.unwrap();
    assert_eq!(unknown, wrong_key);
    assert!(!unknown.to_string().contains("+4940123456789"), "{unknown}");
    let unsigned = send_call_ended(&app, call, None).await;
    assert_rejected(unsigned, 401, "missing X-Retell-Signature").await;
    nothing_stored(&app, "c_unknown").await;
}

/// Issue 10, finding 6: a webhook's signature replayed on another request (here: the same
/// signed body sent to a custom-function path) is refused, while Retell's retry of the
/// identical webhook is accepted as a duplicate.
#[actix_web::test]
async fn webhook_signature_replayed_elsewhere_is_refused_and_its_retry_is_accepted() {
    let app = spawn_app().await;
    let body =
        serde_json::to_vec(&json!({"event": "call_started", "call": ended("c_replay")})).unwrap();
    let header = switchboard_actors::retell::signature::sign(&body, DEMO_RETELL_API_KEY, now_ms());
    let post = |path: &'static str| {
        app.client
            .post(format!("{}{path}", app.url))
            .header("X-Retell-Signature", header.clone())
            .body(body.clone())
            .send()
    };
    assert_eq!(post(PATH).await.unwrap().status().as_u16(), 204);
    assert_eq!(post(PATH).await.unwrap().status().as_u16(), 204, "a retry");
    let elsewhere = post("/api/mcp/retell/webhook?call_id=c_other")
        .await
        .unwrap();
    assert_rejected(elsewhere, 401, "already used on another request").await;
}

#[actix_web::test]
async fn oversized_body_is_413() {
    let app = spawn_app().await;
    let mut call = ended("c_big");
    call["transcript"] = json!("x".repeat(2 * 1024 * 1024));
    let res = send_call_ended(&app, call, Some(DEMO_RETELL_API_KEY)).await;
    assert_eq!(res.status().as_u16(), 413);
}

/// Issue 10, finding 4: the `event` label came from the request, so distinct event names grew
/// the metrics registry (and `/api/metrics`) without bound.
#[actix_web::test]
async fn unknown_event_names_are_counted_as_other() {
    let app = spawn_app().await;
    let hostile = format!("evil_{}", "x".repeat(2_000));
    assert_eq!(app.webhook(&hostile, ended("c_hostile_event")).await, 204);
    let text = crate::common::metrics_text(&app.client, &app.url, ADMIN_TOKEN).await;
    assert!(!text.contains("evil_"), "the event name is not a label");
    assert!(
        text.lines()
            .any(|line| line.starts_with("mcp_webhook_total") && line.contains(r#"event="other""#)),
        "counted as other"
    );
}

/// A transfer event as Retell posts it: the call object plus the top-level transfer fields
/// (reference/retell.md §1.2).
fn transfer(event: &str, call_id: &str) -> Value {
    let mut call = ended(call_id);
    call["transfer_destination"] = json!("+4930111222333");
    call["disconnection_reason"] = json!("call_transfer");
    json!({"event": event, "call": call,
           "transfer_destination": {"number": "+4930111222333", "extension": "12"},
           "transfer_option": {"type": "cold_transfer"}})
}

async fn send(app: &TestApp, body: &Value) -> u16 {
    app.post_signed(PATH, body, Some(DEMO_RETELL_API_KEY), now_ms())
        .await
        .status()
        .as_u16()
}

#[actix_web::test]
async fn transfer_events_are_stored_on_the_call() {
    let app = spawn_app().await;
    for event in ["transfer_started", "transfer_bridged", "transfer_ended"] {
        assert_eq!(send(&app, &transfer(event, "c_transfer")).await, 204);
    }
    let events = app.get_call("c_transfer").await["events"].clone();
    let names: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["transfer_started", "transfer_bridged", "transfer_ended"]
    );
    assert_eq!(
        events[0]["details"],
        json!({
            "transfer_destination": {"number": "+4930111222333", "extension": "12"},
            "transfer_option": {"type": "cold_transfer"},
            "call_transfer_destination": "+4930111222333",
            "disconnection_reason": "call_transfer",
        })
    );
}

#[actix_web::test]
async fn custom_analysis_data_is_kept() {
    let app = spawn_app().await;
    let mut call = ended("c_analysis");
    call["call_analysis"] = json!({
        "call_summary": "Booked a colouring.",
        "user_sentiment": "Positive",
        "call_successful": true,
        "custom_analysis_data": {"appointment_booked": true, "service": "Färben"},
    });
    assert_eq!(app.webhook("call_analyzed", call).await, 204);
    let view = app.get_call("c_analysis").await;
    assert_eq!(view["summary"], "Booked a colouring.");
    assert_eq!(view["events"][0]["event"], "call_analyzed");
    assert_eq!(
        view["events"][0]["details"]["call_analysis"]["custom_analysis_data"],
        json!({"appointment_booked": true, "service": "Färben"})
    );
}

#[actix_web::test]
async fn a_duplicate_transfer_event_is_stored_once() {
    let app = spawn_app().await;
    let body = transfer("transfer_started", "c_transfer_twice");
    assert_eq!(send(&app, &body).await, 204);
    assert_eq!(send(&app, &body).await, 204);
    let view = app.get_call("c_transfer_twice").await;
    assert_eq!(view["events"].as_array().unwrap().len(), 1, "{view}");
    let stats = app.rpc("webhook.getWebhookStats", json!({})).await["result"]["data"].clone();
    assert_eq!(stats["events"]["transfer_started"], 1, "{stats}");
    assert!(stats["duplicates"].as_i64().unwrap() >= 1, "{stats}");
}

#[actix_web::test]
async fn oversized_event_details_are_replaced_by_their_size() {
    let app = spawn_app().await;
    let mut call = ended("c_big_analysis");
    call["call_analysis"] = json!({"custom_analysis_data": {"notes": "x".repeat(40_000)}});
    assert_eq!(app.webhook("call_analyzed", call).await, 204);
    let details = app.get_call("c_big_analysis").await["events"][0]["details"].clone();
    assert!(details.get("call_analysis").is_none(), "{details}");
    assert!(details["bytes"].as_u64().unwrap() > 40_000, "{details}");
}

#[actix_web::test]
async fn call_started_prefetches_the_branch_services_availability() {
    let app = spawn_app().await;
    let status = send(
        &app,
        &json!({"event": "call_started", "call": call("c_warm")}),
    )
    .await;
    assert_eq!(status, 204);
    // Demo company (1), its Berlin branch offers "Färben" (event type 1003).
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Berlin)
        .date_naive();
    let key = availability_key(CompanyId(1), EventTypeId(1003), today);
    let mut warmed = false;
    for _ in 0..100 {
        if app.cache.get(&key).await.is_some() {
            warmed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(warmed, "{key} was not warmed after call_started");
}
