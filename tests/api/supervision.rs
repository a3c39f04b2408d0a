//! Supervision, through the test-only fault hook `fault.panic` (feature `fault-injection`):
//! a panicking handler answers -32603, its actor restarts and serves the next message without
//! losing queued ones, restarts are counted, and a restart loop ends the process cleanly.

use crate::helpers::{ended, spawn_app, spawn_app_with};
use serde_json::{Value, json};

/// `actor_restarts_total` is process-wide (one metrics recorder per test binary), so the tests
/// that panic the calcom server take turns: otherwise one test's restart shows up in another's
/// exact count.
static CALCOM_FAULTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The actors a fault may hit that a call needs on its way to a booking.
const CORE_ACTORS: [&str; 6] = [
    "calcom",
    "webhook",
    "retell.function",
    "call_registry",
    "tenant_directory",
    "outbox",
];

async fn panic_actor(app: &crate::helpers::TestApp, actor: &str) -> Value {
    app.rpc("fault.panic", json!({ "actor": actor })).await
}

async fn restarts(app: &crate::helpers::TestApp, actor: &str) -> u64 {
    crate::common::scrape(
        &app.client,
        &app.url,
        crate::helpers::ADMIN_TOKEN,
        "actor_restarts_total",
        &[("actor", actor)],
    )
    .await as u64
}

#[actix_web::test]
async fn panicking_handler_answers_32603_and_the_actor_serves_the_next_call() {
    let _turn = CALCOM_FAULTS.lock().await;
    let app = spawn_app().await;
    let before = restarts(&app, "calcom").await;
    let res = panic_actor(&app, "calcom").await;
    assert_eq!(res["error"]["code"], -32603, "{res}");
    // The panic text stays in the service log: it may hold internals or request data.
    assert!(!res.to_string().contains("injected fault"), "{res}");
    assert!(
        res["error"]["data"]["details"]
            .as_str()
            .unwrap_or_default()
            .contains("internal error (see the service log)"),
        "{res}"
    );
    let next = app
        .rpc("calcom.getEventTypes", json!({"company_id": 1}))
        .await;
    assert_eq!(next["result"]["success"], true, "{next}");
    assert_eq!(restarts(&app, "calcom").await, before + 1);
}

#[actix_web::test]
async fn restart_keeps_the_queued_messages() {
    let _turn = CALCOM_FAULTS.lock().await;
    let app = spawn_app().await;
    let mut batch = vec![
        json!({"jsonrpc": "2.0", "id": "panic", "method": "fault.panic", "params": {"actor": "calcom"}}),
    ];
    for i in 0..10 {
        batch.push(json!({"jsonrpc": "2.0", "id": i, "method": "calcom.getEventTypes", "params": {"company_id": 1}}));
    }
    let (status, reply) = app
        .gateway_raw(
            &Value::Array(batch).to_string(),
            Some(crate::helpers::ADMIN_TOKEN),
        )
        .await;
    assert_eq!(status, 200);
    let replies = reply.as_array().unwrap();
    assert_eq!(replies.len(), 11);
    for r in replies {
        if r["id"] == "panic" {
            assert_eq!(r["error"]["code"], -32603);
        } else {
            assert_eq!(r["result"]["success"], true, "{r}");
        }
    }
}

#[actix_web::test]
async fn every_core_actor_recovers_and_a_call_still_books() {
    let _turn = CALCOM_FAULTS.lock().await;
    let app = spawn_app().await;
    for actor in CORE_ACTORS {
        let res = panic_actor(&app, actor).await;
        assert_eq!(res["error"]["code"], -32603, "{actor}: {res}");
    }
    let reply = app
        .collect_complete("call_after_panics", "12 Uhr", true)
        .await;
    assert_eq!(reply["status"], "booked_pending", "{reply}");
    assert_eq!(
        app.webhook("call_ended", ended("call_after_panics")).await,
        204
    );
    let view = app.wait_for_booking("call_after_panics").await;
    assert_eq!(view["booking_job"]["status"], "done", "{view}");
    for actor in CORE_ACTORS {
        assert!(
            restarts(&app, actor).await >= 1,
            "{actor} restart not counted"
        );
    }
}

#[actix_web::test]
async fn unknown_fault_target_is_invalid_params() {
    let app = spawn_app().await;
    assert_eq!(panic_actor(&app, "nobody").await["error"]["code"], -32602);
}

#[actix_web::test]
async fn request_handler_panics_restart_the_actor_but_never_stop_the_process() {
    let _turn = CALCOM_FAULTS.lock().await;
    let mut app = spawn_app_with(&[("SWITCHBOARD__SUPERVISION__MAX_RESTARTS", "2")]).await;
    for actor in ["webhook", "calcom", "call_registry", "tenant_directory"] {
        for _ in 0..3 {
            let res = panic_actor(&app, actor).await;
            assert_eq!(res["error"]["code"], -32603, "{res}");
        }
    }
    let res = app
        .rpc("calcom.getEventTypes", json!({ "company_id": 1 }))
        .await;
    assert!(res.get("result").is_some(), "still serving: {res}");
    let stopped = app.stopped.take().unwrap();
    assert!(
        !stopped.is_finished(),
        "request panics must not spend the exit budget"
    );
}

#[actix_web::test]
async fn exhausted_restart_budget_stops_the_server_with_exit_code_70() {
    let mut app = spawn_app_with(&[("SWITCHBOARD__SUPERVISION__MAX_RESTARTS", "2")]).await;
    // Only a self-driven actor (the outbox worker) spends the budget.
    for _ in 0..3 {
        let res = panic_actor(&app, "outbox").await;
        assert_eq!(res["error"]["code"], -32603, "{res}");
    }
    let code = app.stopped.take().unwrap().await.unwrap().unwrap();
    assert_eq!(code, switchboard_actors::supervision::EXIT_RESTART_BUDGET);
    assert!(
        app.client
            .get(format!("{}/livez", app.url))
            .send()
            .await
            .is_err(),
        "server must stop accepting"
    );
}
