//! Retell LLMs: the stale seeded tools, tool lists read back, Retell's tool checks.

use super::*;
use crate::sim::retell::MAX_TOOLS;
use serde_json::json;

fn llm_uri(path: &str) -> String {
    format!("/{path}/{DEMO_LLM}")
}

fn custom(name: &str) -> Value {
    json!({
        "type": "custom",
        "name": name,
        "description": "Prüft freie Termine.",
        "url": format!("https://switchboard.example.com/api/mcp/retell/custom-function/{name}"),
        "method": "POST",
        "parameters": {"type": "object", "properties": {"datum": {"type": "string"}}, "required": ["datum"]},
        "speak_during_execution": true,
        "speak_after_execution": true,
        "timeout_ms": 8000,
    })
}

async fn tools(sim: &RetellSim) -> Value {
    send(sim, get(&llm_uri("get-retell-llm"))).await.ok()["general_tools"].clone()
}

#[actix_web::test]
async fn the_seeded_llm_has_stale_tools_that_are_not_ours() {
    let sim = sim();
    let llm = send(&sim, get(&llm_uri("get-retell-llm"))).await;
    let llm = llm.ok();
    assert_eq!(llm["llm_id"], DEMO_LLM);
    assert!(llm["last_modification_timestamp"].is_i64());
    let tools = llm["general_tools"].as_array().unwrap();
    let kinds: Vec<&str> = tools.iter().map(|t| t["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["custom", "end_call"]);
    assert!(
        !tools[0]["url"].as_str().unwrap().contains("switchboard"),
        "{}",
        tools[0]
    );
}

#[actix_web::test]
async fn an_update_replaces_the_tool_list_and_reads_back() {
    let sim = sim();
    let list = json!([
        custom("check_availability"),
        custom("collect_appointment_data")
    ]);
    let updated = send(
        &sim,
        patch(
            &llm_uri("update-retell-llm"),
            &json!({"general_tools": list}),
        ),
    )
    .await;
    assert_eq!(updated.ok()["general_tools"], list);
    assert_eq!(tools(&sim).await, list);
    assert_eq!(
        send(&sim, get(&llm_uri("get-retell-llm"))).await.body["last_modification_timestamp"],
        now_ms()
    );
}

#[actix_web::test]
async fn a_bad_tool_is_400_and_the_tools_stay_as_they_were() {
    let sim = sim();
    let before = tools(&sim).await;
    let mut no_url = custom("a");
    no_url.as_object_mut().unwrap().remove("url");
    let mut array_params = custom("b");
    array_params["parameters"] = json!({"type": "array", "items": {}});
    let mut no_properties = custom("c");
    no_properties["parameters"] = json!({"type": "object"});
    let mut fast = custom("d");
    fast["timeout_ms"] = json!(10);
    let mut verb = custom("e");
    verb["method"] = json!("FETCH");
    let bad_lists = [
        json!([custom("has space")]),
        json!([custom(&"x".repeat(65))]),
        json!([custom("")]),
        json!([custom("same"), custom("same")]),
        json!([custom("f"), {"type": "end_call", "name": "f"}]),
        json!([no_url]),
        json!([array_params]),
        json!([no_properties]),
        json!([fast]),
        json!([verb]),
        json!([{"name": "untyped"}]),
        json!(["not an object"]),
        json!({"not": "a list"}),
    ];
    for list in bad_lists {
        let reply = send(
            &sim,
            patch(
                &llm_uri("update-retell-llm"),
                &json!({"general_tools": list}),
            ),
        )
        .await;
        reply.assert_error(StatusCode::BAD_REQUEST);
    }
    assert_eq!(tools(&sim).await, before);
}

#[actix_web::test]
async fn a_64_character_name_with_dashes_and_underscores_is_accepted() {
    let sim = sim();
    let name = format!("a-b_{}", "c".repeat(60));
    let list = json!([custom(&name)]);
    let reply = send(
        &sim,
        patch(
            &llm_uri("update-retell-llm"),
            &json!({"general_tools": list}),
        ),
    )
    .await;
    assert_eq!(reply.ok()["general_tools"], list);
}

#[actix_web::test]
async fn more_than_max_tools_is_400() {
    let sim = sim();
    let list: Vec<Value> = (0..=MAX_TOOLS)
        .map(|i| custom(&format!("tool_{i}")))
        .collect();
    let reply = send(
        &sim,
        patch(
            &llm_uri("update-retell-llm"),
            &json!({"general_tools": list}),
        ),
    )
    .await;
    reply.assert_error(StatusCode::BAD_REQUEST);
}
