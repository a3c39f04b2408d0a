//! A Retell call id belongs to the company that first recorded it (issue 10, finding 3):
//! another company's signed webhooks for it are refused with 403 and write nothing, the
//! owner's own webhooks still count, the call's booking key names its company, and webhook
//! event names are stored from a fixed set.

use crate::helpers::{ADMIN_TOKEN, ended, now_ms};
use crate::isolation::{A_TOKEN, B_NUMBER, Tenants, WEBHOOK, tenants};
use serde_json::json;
use switchboard::sandbox::DEMO_RETELL_API_KEY;

#[actix_web::test]
async fn foreign_call_ended_is_refused_and_writes_nothing() {
    let t = tenants().await;
    let call_id = "call_a_open";
    t.app.collect_complete(call_id, "14 Uhr", true).await;
    let before = t.a_state().await;

    let body = json!({"event": "call_ended", "call": Tenants::call_to(call_id, B_NUMBER, true)});
    let (status, text) = t.as_b(WEBHOOK, &body).await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("-32002"), "{text}");
    assert_eq!(t.a_state().await, before);

    let metrics = t
        .app
        .client
        .get(format!("{}/api/metrics", t.app.url))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The recorder is global to the test process: other tests may have counted too.
    let counted: f64 = metrics
        .lines()
        .find(|line| {
            line.starts_with("mcp_webhook_total")
                && line.contains("event=\"call_ended\"")
                && line.contains("status=\"foreign\"")
        })
        .and_then(|line| line.rsplit(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no foreign call_ended counted: {metrics}"));
    assert!(counted >= 1.0, "{counted}");
}

#[actix_web::test]
async fn owner_webhook_still_counts_after_foreign_attempt() {
    let t = tenants().await;
    let call_id = "call_a_contested";
    t.app.collect_complete(call_id, "15 Uhr", true).await;
    let body = json!({"event": "call_ended", "call": Tenants::call_to(call_id, B_NUMBER, true)});
    assert_eq!(t.as_b(WEBHOOK, &body).await.0, 403);

    // Before, B's delivery made A's own call_ended a duplicate: no booking was ever made.
    assert_eq!(t.app.webhook("call_ended", ended(call_id)).await, 204);
    let view = t.app.wait_for_booking(call_id).await;
    assert_eq!(view["company_id"], t.a.0, "{view}");
    assert_eq!(view["booking_job"]["status"], "done", "{view}");
    let stats = t
        .rpc_as(A_TOKEN, "webhook.getWebhookStats", json!({}))
        .await;
    assert_eq!(stats["result"]["data"]["duplicates"], 0, "{stats}");
}

#[actix_web::test]
async fn booking_key_carries_company() {
    let t = tenants().await;
    let view = t.app.get_call(t.a_booked).await;
    let booking = t.booking_of(&view).await;
    assert_eq!(
        booking["metadata"]["switchboard_idempotency_key"],
        format!("retell:{}:{}:book", t.a.0, t.a_booked),
        "{booking}"
    );
}

#[actix_web::test]
async fn stored_event_names_come_from_a_fixed_set() {
    let t = tenants().await;
    let long = "e".repeat(100_000);
    for event in [long.as_str(), "made_up", "transcript_updated"] {
        let body = json!({"event": event, "call": ended(t.a_booked)});
        let status = t
            .app
            .post_signed(WEBHOOK, &body, Some(DEMO_RETELL_API_KEY), now_ms())
            .await
            .status();
        assert_eq!(status, 204);
    }
    let stats = t
        .rpc_as(A_TOKEN, "webhook.getWebhookStats", json!({}))
        .await;
    let events = &stats["result"]["data"]["events"];
    assert_eq!(events["other"], 1, "{stats}");
    assert_eq!(events["transcript_updated"], 1, "{stats}");
    assert!(stats.to_string().len() < 2_000, "{stats}");
}

#[actix_web::test]
async fn foreign_transfer_event_is_refused_and_stores_nothing() {
    let t = tenants().await;
    let call_id = "call_a_transferred";
    t.app.collect_complete(call_id, "14 Uhr", true).await;

    let body = json!({"event": "transfer_started",
                      "call": Tenants::call_to(call_id, B_NUMBER, true),
                      "transfer_destination": {"number": "+4930999888777"}});
    let (status, text) = t.as_b(WEBHOOK, &body).await;
    assert_eq!(status, 403, "{text}");
    let view = t.app.get_call(call_id).await;
    assert_eq!(view["events"], json!([]), "{view}");
}
