//! SMS confirmations (issue 12, item 5): after a booking, a mobile caller of a tenant with SMS
//! settings gets one text through the tenant's Twilio account (the in-process simulator);
//! a landline caller or a tenant without settings gets none; refusals are visible dead
//! letters, outages are retried.

use crate::helpers::{TestApp, ended, spawn_app};
use serde_json::{Value, json};
use std::time::Duration;

/// The demo tenant's sender (examples/tenants/demo-salon-berlin.toml).
const DEMO_SMS_FROM: &str = "+4915735998877";

/// Collects a confirmed Herrenschnitt next Tuesday at `time` for the caller `phone`.
async fn collect(app: &TestApp, call_id: &str, time: &str, phone: &str) {
    let (status, reply) = app
        .function(
            "collect_appointment_data",
            call_id,
            json!({
                "dienstleistung": "Herrenschnitt",
                "datum": "kommenden Dienstag",
                "uhrzeit": time,
                "name": "Max Mustermann",
                "telefonnummer": phone,
                "bestaetigt": "ja",
            }),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["confirmed"], true, "{reply}");
}

/// Books `call_id` to the end (job done) and returns its call view.
async fn book(app: &TestApp, call_id: &str, time: &str, phone: &str) -> Value {
    collect(app, call_id, time, phone).await;
    assert_eq!(app.webhook("call_ended", ended(call_id)).await, 204);
    let view = app.wait_for_booking(call_id).await;
    assert_eq!(view["booking_job"]["status"], "done", "{view}");
    view
}

/// What the simulator received, oldest first.
async fn messages(app: &TestApp) -> Vec<Value> {
    app.client
        .get(format!("{}/__sim/messages", app.sms_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The `sms` jobs of the demo company (newest first).
async fn sms_jobs(app: &TestApp) -> Vec<Value> {
    let page = app
        .rpc(
            "queue.getRecentJobs",
            json!({"company_id": 1, "limit": 100}),
        )
        .await;
    page["result"]["data"]["jobs"]
        .as_array()
        .unwrap_or_else(|| panic!("{page}"))
        .iter()
        .filter(|j| j["kind"] == "sms")
        .cloned()
        .collect()
}

/// Starts (every send answered 503) or ends an outage of the SMS simulator.
async fn sms_outage(app: &TestApp, on: bool) {
    let url = format!("{}/__sim/faults", app.sms_url);
    let request = if on {
        app.client
            .post(url)
            .json(&json!({"error_rate": 1.0, "error_status": 503}))
    } else {
        app.client.delete(url)
    };
    assert!(request.send().await.unwrap().status().is_success());
}

/// Waits (bounded) until the only `sms` job is `done` or `failed`; returns it.
async fn wait_for_sms_job(app: &TestApp) -> Value {
    for _ in 0..400 {
        let jobs = sms_jobs(app).await;
        if let [job] = &jobs[..]
            && matches!(job["status"].as_str(), Some("done" | "failed"))
        {
            return job.clone();
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the sms job did not finish: {:?}", sms_jobs(app).await);
}

#[actix_web::test]
async fn booking_by_phone_sends_one_sms_to_a_mobile_caller() {
    let app = spawn_app().await;
    let view = book(&app, "call_sms_mobile", "14 Uhr", "0151 12345678").await;
    let job = wait_for_sms_job(&app).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["queue"], "notifications");
    let sent = messages(&app).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["to"], "+4915112345678");
    assert_eq!(sent[0]["from"], DEMO_SMS_FROM);
    let body = sent[0]["body"].as_str().unwrap();
    assert!(
        body.starts_with("Demo Salon Berlin: Ihr Termin (Herrenhaarschnitt) am ")
            && body.ends_with("um 14 Uhr ist gebucht. Bis bald!"),
        "{body}"
    );
    assert!(view["appointment"]["booking_uid"].is_string());

    // Retell retries call_ended: still one booking and one text.
    assert_eq!(
        app.webhook("call_ended", ended("call_sms_mobile")).await,
        204
    );
    app.wait_for_booking("call_sms_mobile").await;
    assert_eq!(sms_jobs(&app).await.len(), 1);
    assert_eq!(messages(&app).await.len(), 1);
}

#[actix_web::test]
async fn no_sms_for_a_landline_caller() {
    let app = spawn_app().await;
    book(&app, "call_sms_landline", "15 Uhr", "030 12345678").await;
    // The text would have been enqueued with the appointment, in the same transaction.
    assert!(sms_jobs(&app).await.is_empty());
    assert!(messages(&app).await.is_empty());
}

#[actix_web::test]
async fn no_sms_without_tenant_settings() {
    let app = spawn_app().await;
    let cleared = app
        .rpc("company.update", json!({"company_id": 1, "clear": ["sms"]}))
        .await;
    let changes = cleared["result"]["data"]["changes"].to_string();
    assert!(changes.contains("- sms.auth_token"), "{cleared}");
    book(&app, "call_sms_no_settings", "16 Uhr", "0151 12345678").await;
    assert!(sms_jobs(&app).await.is_empty());
    assert!(messages(&app).await.is_empty());
}

#[actix_web::test]
async fn sms_refused_by_twilio_is_a_visible_dead_letter() {
    let app = spawn_app().await;
    // A token the account does not have: Twilio answers 401 (20003), which no retry fixes.
    let updated = app
        .rpc(
            "company.update",
            json!({"company_id": 1, "sms": {
                "account_sid": "AC00000000000000000000000000000001",
                "auth_token": "not_the_accounts_token",
                "from": DEMO_SMS_FROM,
            }}),
        )
        .await;
    let changes = updated["result"]["data"]["changes"].to_string();
    assert!(changes.contains("sms.auth_token: replaced"), "{updated}");
    assert!(!changes.contains("not_the_accounts_token"), "{updated}");
    book(&app, "call_sms_refused", "11 Uhr", "0151 12345678").await;
    let job = wait_for_sms_job(&app).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(job["attempts"], 1, "a refusal is not retried: {job}");
    let failed = app
        .rpc("queue.getFailedJobs", json!({"company_id": 1}))
        .await;
    let jobs = failed["result"]["data"]["jobs"].as_array().unwrap().clone();
    let dead = jobs.iter().find(|j| j["kind"] == "sms").expect("listed");
    let error = dead["last_error"].as_str().unwrap();
    assert!(
        error.contains("401") && error.contains("Authenticate"),
        "{error}"
    );
    assert!(messages(&app).await.is_empty());
}

#[actix_web::test]
async fn sms_outage_is_retried_then_sent() {
    let app = spawn_app().await;
    sms_outage(&app, true).await;
    book(&app, "call_sms_outage", "10 Uhr", "0151 12345678").await;
    // Wait until the outage has been met at least twice.
    let mut retried = false;
    for _ in 0..400 {
        let jobs = sms_jobs(&app).await;
        if jobs
            .first()
            .is_some_and(|j| j["attempts"].as_u64() >= Some(2) && j["status"] == "pending")
        {
            assert!(
                jobs[0]["last_error"].as_str().unwrap().contains("503"),
                "{jobs:?}"
            );
            retried = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(retried, "{:?}", sms_jobs(&app).await);
    assert!(messages(&app).await.is_empty());
    sms_outage(&app, false).await;
    let job = wait_for_sms_job(&app).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(messages(&app).await.len(), 1);
}

#[actix_web::test]
async fn sms_of_a_tenant_whose_settings_were_removed_meanwhile_is_a_dead_letter_saying_so() {
    let app = spawn_app().await;
    sms_outage(&app, true).await;
    book(&app, "call_sms_removed", "9 Uhr", "0151 12345678").await;
    assert_eq!(
        sms_jobs(&app).await.len(),
        1,
        "enqueued while settings existed"
    );
    let cleared = app
        .rpc("company.update", json!({"company_id": 1, "clear": ["sms"]}))
        .await;
    assert!(cleared["result"]["success"] == true, "{cleared}");
    sms_outage(&app, false).await;
    let job = wait_for_sms_job(&app).await;
    assert_eq!(job["status"], "failed", "{job}");
    let error = job["last_error"].as_str().unwrap();
    assert!(error.contains("has no SMS settings any more"), "{error}");
    assert!(messages(&app).await.is_empty());
}
