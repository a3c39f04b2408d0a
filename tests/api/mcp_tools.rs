//! `/mcp` tools are the registry: `tools/list` mirrors `rpc.discover` (so a new JSON-RPC
//! method is a tool with no MCP-specific code), filtered by the token's scope, and a tool call
//! answers what the gateway answers. Spoken over the stateless 2026-07-28 wire.

use crate::helpers::{ADMIN_TOKEN, TestApp, spawn_app};
use serde_json::{Value, json};
use std::collections::BTreeMap;

const VERSION: &str = "2026-07-28";

/// One stateless MCP request (2026-07-28: `_meta`, `MCP-Protocol-Version`, `Mcp-Method`,
/// `Mcp-Name`); (HTTP status, JSON body).
async fn mcp(app: &TestApp, token: &str, method: &str, mut params: Value) -> (u16, Value) {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": VERSION,
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    let mut req = app
        .client
        .post(format!("{}/mcp", app.url))
        .bearer_auth(token)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", VERSION)
        .header("mcp-method", method)
        .json(&json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params}));
    if let Some(name) = params.get("name").and_then(Value::as_str) {
        req = req.header("mcp-name", name);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn tools(app: &TestApp, token: &str) -> BTreeMap<String, Value> {
    let (status, body) = mcp(app, token, "tools/list", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["result"]["nextCursor"].is_null(), "one page");
    body["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap().to_owned(), t.clone()))
        .collect()
}

async fn discover(app: &TestApp) -> Vec<Value> {
    let doc = app.rpc("rpc.discover", json!({})).await;
    doc["result"]["methods"].as_array().unwrap().clone()
}

async fn company_token(app: &TestApp, scope: &str) -> String {
    let res = app
        .rpc(
            "auth.createToken",
            json!({"company_id": 1, "scope": scope, "name": format!("mcp {scope}")}),
        )
        .await;
    res["result"]["data"]["token"].as_str().unwrap().to_owned()
}

fn allowed(scope: &str, token_scope: &str) -> bool {
    let rank = |s: &str| match s {
        "read" => 0,
        "write" => 1,
        _ => 2,
    };
    scope != "platform" && rank(scope) <= rank(token_scope)
}

#[actix_rt::test]
async fn tools_list_mirrors_rpc_discover_for_the_admin_token() {
    let app = spawn_app().await;
    let tools = tools(&app, ADMIN_TOKEN).await;
    let methods = discover(&app).await;
    assert_eq!(tools.len(), methods.len(), "one tool per method");
    for m in &methods {
        let name = m["name"].as_str().unwrap();
        let tool = &tools[&name.replace('.', "_")];
        let tool_name = tool["name"].as_str().unwrap();
        assert!(
            (1..=64).contains(&tool_name.len())
                && tool_name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
            "{tool_name} breaks ^[a-zA-Z0-9_-]{{1,64}}$"
        );
        assert_eq!(tool["title"], name);
        assert_eq!(tool["_meta"]["dev.switchboard/jsonrpcMethod"], name);
        assert_eq!(
            tool["inputSchema"], m["params"][0]["schema"],
            "{name}: inputSchema is the params schema"
        );
        let result = &m["result"]["schema"];
        if result["type"] == "object" {
            assert_eq!(tool["outputSchema"], *result, "{name}");
        } else {
            assert_eq!(
                tool["outputSchema"]["required"],
                json!(["result"]),
                "{name}"
            );
        }
        let hints = &tool["annotations"];
        let kind = m["x-kind"].as_str().unwrap();
        assert_eq!(hints["readOnlyHint"], kind == "read", "{name}");
        assert_eq!(hints["destructiveHint"], kind == "destructive", "{name}");
        assert!(
            tool["description"]
                .as_str()
                .unwrap()
                .starts_with(m["summary"].as_str().unwrap().trim_end()),
            "{name}: the description starts with the method's summary"
        );
    }
}

#[actix_rt::test]
async fn a_company_token_lists_exactly_the_methods_its_scope_allows() {
    let app = spawn_app().await;
    let methods = discover(&app).await;
    for scope in ["read", "write", "admin"] {
        let token = company_token(&app, scope).await;
        let listed: Vec<String> = tools(&app, &token).await.into_keys().collect();
        let mut expected: Vec<String> = methods
            .iter()
            .filter(|m| allowed(m["x-scope"].as_str().unwrap(), scope))
            .map(|m| m["name"].as_str().unwrap().replace('.', "_"))
            .collect();
        expected.sort();
        assert_eq!(listed, expected, "{scope} token");
    }
}

#[actix_rt::test]
async fn a_tool_call_answers_what_the_gateway_answers() {
    let app = spawn_app().await;
    let gateway = app.rpc("company.get", json!({"company_id": 1})).await;
    let (status, body) = mcp(
        &app,
        ADMIN_TOKEN,
        "tools/call",
        json!({"name": "company_get", "arguments": {"company_id": 1}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let result = &body["result"];
    assert_ne!(result["isError"], true, "{result}");
    assert_eq!(result["structuredContent"], gateway["result"]["data"]);
    let text = result["content"][0]["text"].as_str().unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(text).unwrap(),
        result["structuredContent"],
        "the text block carries the same JSON"
    );
}

#[actix_rt::test]
async fn structured_content_matches_the_declared_output_schema() {
    let app = spawn_app().await;
    let tools = tools(&app, ADMIN_TOKEN).await;
    for (name, arguments) in [
        ("company_get", json!({"company_id": 1})),
        ("company_list", json!({})),
        ("queue_getOverview", json!({})),
        ("queue_getFailedJobs", json!({"company_id": 1})),
        ("calcom_getEventTypes", json!({"company_id": 1})),
        ("branch_list", json!({"company_id": 1})),
    ] {
        let (_, body) = mcp(
            &app,
            ADMIN_TOKEN,
            "tools/call",
            json!({"name": name, "arguments": arguments}),
        )
        .await;
        let result = &body["result"];
        assert_ne!(result["isError"], true, "{name}: {result}");
        let schema = &tools[name]["outputSchema"];
        let validator = jsonschema::validator_for(schema).expect("schema compiles");
        let errors: Vec<String> = validator
            .iter_errors(&result["structuredContent"])
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
    }
}

#[actix_rt::test]
async fn invalid_arguments_are_a_tool_error_the_model_can_correct() {
    let app = spawn_app().await;
    let (status, body) = mcp(
        &app,
        ADMIN_TOKEN,
        "tools/call",
        json!({"name": "queue_getFailedJobs", "arguments": {"limit": "many"}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let result = &body["result"];
    assert_eq!(result["isError"], true, "{body}");
    let text = result["content"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("-32602") && text.contains("Fix the arguments"),
        "{text}"
    );
    assert_eq!(result["_meta"]["dev.switchboard/error"]["code"], -32602);
}

#[actix_rt::test]
async fn an_unknown_tool_is_a_protocol_error() {
    let app = spawn_app().await;
    let (_, body) = mcp(
        &app,
        ADMIN_TOKEN,
        "tools/call",
        json!({"name": "calcom.getBookings", "arguments": {}}),
    )
    .await;
    assert_eq!(body["error"]["code"], -32602, "{body}");
    assert!(body["result"].is_null());
}

#[actix_rt::test]
async fn a_tool_beyond_the_tokens_scope_is_unknown_to_it() {
    let app = spawn_app().await;
    let read = company_token(&app, "read").await;
    let (_, body) = mcp(
        &app,
        &read,
        "tools/call",
        json!({"name": "company_create", "arguments": {}}),
    )
    .await;
    assert_eq!(body["error"]["code"], -32602, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Unknown tool"),
        "{body}"
    );
}

#[actix_rt::test]
async fn instructions_say_whose_token_it_is_and_the_companys_time_zone() {
    let app = spawn_app().await;
    let read = company_token(&app, "read").await;
    let (status, body) = mcp(&app, &read, "server/discover", json!({})).await;
    assert_eq!(status, 200, "{body}");
    let text = body["result"]["instructions"].as_str().unwrap();
    assert!(
        text.contains("Demo Salon Berlin") && text.contains("Europe/Berlin"),
        "{text}"
    );
    assert_eq!(body["result"]["cacheScope"], "private");
    let (_, body) = mcp(&app, ADMIN_TOKEN, "server/discover", json!({})).await;
    let text = body["result"]["instructions"].as_str().unwrap();
    assert!(text.contains("of no company"), "{text}");
    assert!(!text.contains("Demo Salon Berlin"), "{text}");
}
