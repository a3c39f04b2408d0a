//! Sandbox mode's Retell simulator: started in-process (or taken from
//! `SWITCHBOARD__SANDBOX__RETELL_URL`), named by the detailed health, and told by `replay`
//! about the calls it plays.

use crate::helpers::{ADMIN_TOKEN, TestApp, spawn_app, spawn_app_with};
use serde_json::{Value, json};
use switchboard::devtools::replay;
use switchboard::sandbox::{DEMO_PHONE, DEMO_RETELL_API_KEY};

async fn health_retell_url(app: &TestApp) -> String {
    let body: Value = app
        .client
        .get(format!("{}/api/mcp/health", app.url))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["services"]["retell"]["base_url"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .trim_end_matches('/')
        .to_owned()
}

/// `POST /v3/list-calls` on the simulator with the demo key: the items.
async fn sim_calls(app: &TestApp) -> Vec<Value> {
    let body: Value = app
        .client
        .post(format!("{}/v3/list-calls", app.retell_url))
        .bearer_auth(DEMO_RETELL_API_KEY)
        .json(&json!({"limit": 1000}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["items"].as_array().unwrap().clone()
}

#[actix_web::test]
async fn sandbox_serves_the_retell_simulator_and_health_names_it() {
    let app = spawn_app().await;
    assert_eq!(health_retell_url(&app).await, app.retell_url);
    let agent: Value = app
        .client
        .get(format!(
            "{}/get-agent/agent_demo_salon_berlin",
            app.retell_url
        ))
        .bearer_auth(DEMO_RETELL_API_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(agent["agent_id"], "agent_demo_salon_berlin", "{agent}");
}

#[actix_web::test]
async fn sandbox_retell_url_selects_an_external_simulator() {
    let app = spawn_app_with(&[("SWITCHBOARD__SANDBOX__RETELL_URL", "http://127.0.0.1:9/")]).await;
    assert_eq!(app.retell_url, "http://127.0.0.1:9");
    assert_eq!(health_retell_url(&app).await, "http://127.0.0.1:9");
}

#[actix_web::test]
async fn replay_tells_the_sandbox_simulator_about_the_calls_it_played() {
    let app = spawn_app().await;
    let before = sim_calls(&app).await.len();
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/calls/de_booking.json");
    replay::run(&[script], &app.url, None, Some(ADMIN_TOKEN), 15, None)
        .await
        .expect("the script books");
    let calls = sim_calls(&app).await;
    assert_eq!(calls.len(), before + 1);
    let played = &calls[0];
    assert_eq!(played["to_number"], DEMO_PHONE, "{played}");
    assert_eq!(played["call_status"], "ended", "{played}");
    let id = played["call_id"].as_str().unwrap();
    let full: Value = app
        .client
        .get(format!("{}/v2/get-call/{id}", app.retell_url))
        .bearer_auth(DEMO_RETELL_API_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        full["transcript"]
            .as_str()
            .unwrap()
            .contains("Herrenschnitt"),
        "{full}"
    );
}
