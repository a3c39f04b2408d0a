//! Keys, Retell's error bodies and statuses (reference/retell.md §4.1, §4.2), body limits.

use super::*;
use serde_json::json;

#[actix_web::test]
async fn a_request_without_a_key_is_401_in_retells_words() {
    let sim = sim();
    let reply = send(
        &sim,
        test::TestRequest::get().uri("/get-agent/agent_demo_salon_berlin"),
    )
    .await;
    assert_eq!(
        reply.assert_error(StatusCode::UNAUTHORIZED),
        "API key is missing or invalid."
    );
}

#[actix_web::test]
async fn an_unknown_key_is_401_on_every_route() {
    let sim = sim();
    for req in [
        test::TestRequest::post().uri("/v2/list-agents"),
        test::TestRequest::get().uri("/v2/list-phone-numbers"),
        test::TestRequest::post()
            .uri("/v3/list-calls")
            .set_json(json!({})),
        test::TestRequest::patch()
            .uri(&format!("/update-retell-llm/{DEMO_LLM}"))
            .set_json(json!({"general_tools": []})),
    ] {
        let reply = send(&sim, auth(req, "key_wrong")).await;
        reply.assert_error(StatusCode::UNAUTHORIZED);
    }
    let llm = send(&sim, get(&format!("/get-retell-llm/{DEMO_LLM}"))).await;
    assert_eq!(llm.ok()["general_tools"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn another_accounts_agent_is_422_not_found_under_this_key() {
    let sim = sim();
    let reply = send(&sim, get(&format!("/get-agent/{THAMES_AGENT}"))).await;
    assert_eq!(
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY),
        "Cannot find requested asset under given api key."
    );
    let theirs = send(
        &sim,
        auth(
            test::TestRequest::get().uri(&format!("/get-agent/{THAMES_AGENT}")),
            THAMES_KEY,
        ),
    )
    .await;
    assert_eq!(theirs.ok()["agent_id"], THAMES_AGENT);
}

#[actix_web::test]
async fn every_missing_asset_is_422() {
    let sim = sim();
    for uri in [
        "/get-agent/agent_missing",
        "/list-agent-versions/agent_missing",
        "/get-retell-llm/llm_missing",
        "/get-phone-number/+15550000000",
        "/v2/get-call/call_missing",
        "/get-agent/agent_demo_salon_berlin?version=7",
    ] {
        send(&sim, get(uri))
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY);
    }
    let reply = send(
        &sim,
        patch("/update-agent/agent_missing", &json!({"agent_name": "x"})),
    )
    .await;
    reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
}

#[actix_web::test]
async fn an_unknown_route_is_retells_404() {
    let sim = sim();
    for req in [get("/v9/list-everything"), get("/v2/list-agents")] {
        let reply = send(&sim, req).await;
        assert_eq!(
            reply.assert_error(StatusCode::NOT_FOUND),
            "The requested resource was not found."
        );
    }
}

#[actix_web::test]
async fn malformed_json_is_400_and_changes_nothing() {
    let sim = sim();
    for body in ["{\"agent_name\": ", "[1, 2]", "\"text\""] {
        let req = auth(
            test::TestRequest::patch().uri(&format!("/update-agent/{DEMO_AGENT}")),
            DEMO_KEY,
        )
        .insert_header(("Content-Type", "application/json"))
        .set_payload(body);
        let reply = send(&sim, req).await;
        assert_eq!(
            reply.assert_error(StatusCode::BAD_REQUEST),
            "Invalid request format, please check API reference."
        );
    }
    let agent = send(&sim, get(&format!("/get-agent/{DEMO_AGENT}"))).await;
    assert_eq!(agent.ok()["agent_name"], "Demo Salon Berlin Reception");
}

#[actix_web::test]
async fn a_body_over_the_limit_is_413() {
    let sim = sim();
    let name = "x".repeat(crate::sim::retell::MAX_BODY_BYTES);
    let reply = send(
        &sim,
        patch(
            &format!("/update-agent/{DEMO_AGENT}"),
            &json!({"agent_name": name}),
        ),
    )
    .await;
    reply.assert_error(StatusCode::PAYLOAD_TOO_LARGE);
}
