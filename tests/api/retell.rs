//! The `retell.*` methods black-box (issue 13): the real app in sandbox mode against the
//! in-process Retell simulator, seeded with the demo tenant's agent, its numbers plus one
//! Retell-only number, and a week of ended calls.

use crate::helpers::{ADMIN_TOKEN, TestApp, spawn_app, spawn_app_with};
use serde_json::{Value, json};
use switchboard::sandbox::DEMO_PHONE;

/// The demo tenant (`examples/tenants/demo-salon-berlin.toml`).
const COMPANY: i64 = 1;
/// Its agent (`retell.agent_id`).
const AGENT: &str = "agent_demo_salon_berlin";

/// `result.data` of a call that must succeed.
async fn data(app: &TestApp, method: &str, mut params: Value) -> Value {
    params["company_id"] = json!(COMPANY);
    let response = app.rpc(method, params).await;
    assert!(response.get("error").is_none(), "{method}: {response}");
    response["result"]["data"].clone()
}

/// The error of a call that must fail.
async fn error(app: &TestApp, method: &str) -> Value {
    let response = app.rpc(method, json!({"company_id": COMPANY})).await;
    assert!(response.get("result").is_none(), "{method}: {response}");
    response["error"].clone()
}

/// The detailed health (operator token).
async fn health(app: &TestApp) -> Value {
    app.client
        .get(format!("{}/api/mcp/health", app.url))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The state of the demo tenant's Retell breaker in the detailed health; `None` before the
/// tenant's breakers exist.
async fn retell_breaker(app: &TestApp) -> Option<String> {
    health(app).await["breakers"]
        .as_array()?
        .iter()
        .find(|b| b["service"] == "retell" && b["company_id"] == COMPANY)
        .and_then(|b| b["state"].as_str().map(str::to_owned))
}

#[actix_web::test]
async fn agents_read_from_the_simulator_parse() {
    let app = spawn_app().await;
    let agents = data(&app, "retell.listAgents", json!({})).await;
    assert!(
        agents["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["agent_id"] == AGENT),
        "{agents}"
    );
    let agent = data(&app, "retell.getAgent", json!({})).await;
    assert_eq!(agent["agent_id"], AGENT);
    assert_eq!(agent["response_engine"]["type"], "retell-llm");
    let versions = data(&app, "retell.getAgentVersions", json!({})).await;
    assert!(
        !versions["items"].as_array().unwrap().is_empty(),
        "{versions}"
    );
    let connection = data(&app, "retell.testConnection", json!({})).await;
    assert_eq!(connection["agent_found"], true, "{connection}");
}

#[actix_web::test]
async fn import_calls_twice_imports_once() {
    let app = spawn_app().await;
    let first = data(&app, "retell.importCalls", json!({})).await;
    let imported = first["imported"].as_u64().unwrap();
    assert!(imported > 0, "the simulator's history is imported: {first}");
    assert_eq!(first["skipped_foreign"], 0);
    let second = data(&app, "retell.importCalls", json!({})).await;
    assert_eq!(second["imported"], 0, "{second}");
    assert_eq!(
        second["already_known"].as_u64().unwrap(),
        imported + first["already_known"].as_u64().unwrap()
    );
    let stats = data(&app, "retell.getCallStats", json!({})).await;
    assert_eq!(stats["recorded_locally"].as_u64().unwrap(), imported);
    let recent = data(&app, "retell.getRecentCalls", json!({"limit": 1})).await;
    let call_id = recent["calls"][0]["call_id"].as_str().unwrap().to_owned();
    let view = app.get_call(&call_id).await;
    assert_eq!(
        view["call_id"],
        call_id.as_str(),
        "imported into our records"
    );
    assert!(
        view["booking_job"].is_null(),
        "an imported call books nothing"
    );
}

#[actix_web::test]
async fn sync_phone_numbers_reports_the_simulator_extra_number() {
    let app = spawn_app().await;
    let sync = data(&app, "retell.syncPhoneNumbers", json!({})).await;
    let only_in_retell = sync["only_in_retell"].as_array().unwrap();
    assert_eq!(only_in_retell.len(), 1, "{sync}");
    assert_ne!(only_in_retell[0], DEMO_PHONE);
    assert!(
        sync["in_both"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["phone_number"] == DEMO_PHONE && n["bound_to_agent"] == true),
        "{sync}"
    );
    assert_eq!(sync["only_ours"], json!([]));
}

#[actix_web::test]
async fn retell_outage_opens_the_breaker_and_live_calls_go_on() {
    // Short retry waits: the outage is reached in a few calls.
    let app = spawn_app_with(&[
        ("SWITCHBOARD__RESILIENCE__RETELL__RETRY_MIN_DELAY_MS", "10"),
        ("SWITCHBOARD__RESILIENCE__RETELL__RETRY_MAX_DELAY_MS", "20"),
    ])
    .await;
    data(&app, "retell.getAgent", json!({})).await;
    crate::common::set_faults(
        &app.client,
        &app.retell_url,
        json!({"error_rate": 1.0, "error_status": 500}),
    )
    .await;

    let mut failures = 0;
    while retell_breaker(&app).await.as_deref() != Some("open") {
        let e = error(&app, "retell.getAgent").await;
        assert_eq!(e["code"], -32004, "{e}");
        failures += 1;
        assert!(failures < 20, "the breaker never opened");
    }

    for method in [
        "retell.getAgent",
        "retell.listAgents",
        "retell.getRecentCalls",
        "retell.importCalls",
        "retell.syncPhoneNumbers",
    ] {
        let e = error(&app, method).await;
        assert_eq!(e["code"], -32004, "{method}: {e}");
        assert!(
            e["data"]["retry_after"].as_u64().is_some_and(|s| s >= 1),
            "{method}: {e}"
        );
    }
    let check = data(&app, "retell.healthCheck", json!({})).await;
    assert_eq!(check["breaker"], "open");
    assert!(check["probe"].is_null(), "nothing sent while open: {check}");

    // A live call meanwhile: the custom functions do not need Retell's API.
    let (status, reply) = app
        .function(
            "collect_appointment_data",
            "call_during_retell_outage",
            json!({"name": "Max Mustermann", "dienstleistung": "Herrenschnitt"}),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    assert!(
        reply["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{reply}"
    );
    assert_eq!(retell_breaker(&app).await.as_deref(), Some("open"));
}
