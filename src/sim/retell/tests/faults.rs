//! The shared fault injection, rendered in Retell's shapes (reference/retell.md §4.2).

use super::*;
use crate::sim::faults::{Action, FAULTS_PATH, FailMode, FaultConfig, Faults, Rate, RequestKind};
use crate::sim::retell::RETRY_AFTER_S;
use serde_json::json;
use tokio::time::Instant;

async fn set_faults(sim: &RetellSim, faults: Value) {
    let reply = send(
        sim,
        test::TestRequest::post().uri(FAULTS_PATH).set_json(faults),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[actix_web::test]
async fn an_injected_500_is_retells_server_error() {
    let sim = sim();
    set_faults(&sim, json!({"error_rate": 1.0})).await;
    let reply = send(&sim, post("/v2/list-agents", &json!({}))).await;
    assert_eq!(
        reply.assert_error(StatusCode::INTERNAL_SERVER_ERROR),
        "An unexpected server error occurred."
    );
}

#[actix_web::test]
async fn an_injected_429_carries_retry_after() {
    let sim = sim();
    set_faults(&sim, json!({"error_rate": 1.0, "error_status": 429})).await;
    let reply = send(&sim, get(&format!("/get-agent/{DEMO_AGENT}"))).await;
    assert_eq!(
        reply.assert_error(StatusCode::TOO_MANY_REQUESTS),
        "Account rate limited, please throttle your requests."
    );
    assert_eq!(
        reply.headers.get("retry-after").unwrap().to_str().unwrap(),
        RETRY_AFTER_S.to_string()
    );
}

#[actix_web::test]
async fn an_outage_is_503_until_cleared() {
    let sim = sim();
    set_faults(&sim, json!({"outage_s": 60})).await;
    send(&sim, get("/v2/list-phone-numbers"))
        .await
        .assert_error(StatusCode::SERVICE_UNAVAILABLE);
    let cleared = send(&sim, test::TestRequest::delete().uri(FAULTS_PATH)).await;
    assert_eq!(cleared.status, StatusCode::OK);
    send(&sim, get("/v2/list-phone-numbers")).await.ok();
}

/// A seed whose first commit-then-fail draw answers `mode`.
fn seed_for(mode: FailMode) -> u64 {
    (0..100)
        .find(|&seed| {
            let faults = Faults::new(FaultConfig {
                commit_then_fail_rate: Some(Rate::new(1.0).unwrap()),
                seed: Some(seed),
                ..FaultConfig::default()
            });
            faults.decide(RequestKind::Commit, Instant::now()).action
                == Action::CommitThenFail(mode)
        })
        .unwrap()
}

#[actix_web::test]
async fn a_commit_then_500_still_changes_the_agent() {
    let sim = sim();
    let seed = seed_for(FailMode::Status500);
    set_faults(&sim, json!({"commit_then_fail_rate": 1.0, "seed": seed})).await;
    let reply = send(
        &sim,
        patch(
            &format!("/update-agent/{DEMO_AGENT}"),
            &json!({"agent_name": "Changed"}),
        ),
    )
    .await;
    reply.assert_error(StatusCode::INTERNAL_SERVER_ERROR);
    let agent = send(&sim, get(&format!("/get-agent/{DEMO_AGENT}"))).await;
    assert_eq!(agent.ok()["agent_name"], "Changed");
}

#[actix_web::test]
async fn reads_are_never_committed_then_failed() {
    let sim = sim();
    set_faults(&sim, json!({"commit_then_fail_rate": 1.0})).await;
    for _ in 0..10 {
        send(&sim, get(&format!("/get-retell-llm/{DEMO_LLM}")))
            .await
            .ok();
    }
}

#[actix_web::test]
async fn sim_endpoints_are_not_faulted() {
    let sim = sim();
    set_faults(&sim, json!({"error_rate": 1.0})).await;
    let state = send(&sim, test::TestRequest::get().uri(FAULTS_PATH)).await;
    assert_eq!(state.status, StatusCode::OK);
    let call = json!({"call_id": "call_faults", "to_number": DEMO_NUMBER, "agent_id": DEMO_AGENT});
    let recorded = send(
        &sim,
        test::TestRequest::post().uri("/__sim/calls").set_json(call),
    )
    .await;
    assert_eq!(recorded.status, StatusCode::CREATED, "{}", recorded.body);
}
