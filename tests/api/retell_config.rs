//! `retell.config.deployCustomFunctions` on the sandbox's demo tenant, against the in-process
//! Retell simulator (seeded like a hand-made set-up: a stale `check_availability` at another
//! host and an `end_call` tool): the LLM read back from the simulator has exactly our tools,
//! URLs and schemas plus the kept foreign tool; a second deploy changes nothing; a dry run
//! shows the diff and writes nothing.

use crate::helpers::{TestApp, spawn_app};
use serde_json::{Value, json};
use switchboard_actors::functions::registry;

const SLUG: &str = "demo-salon-berlin";
/// The demo tenant's Retell key (examples/tenants/demo-salon-berlin.toml), the simulator
/// account's key.
const KEY: &str = "key_sandbox_0123456789abcdef";
const LLM: &str = "llm_demo_salon_berlin";

async fn company_id(app: &TestApp) -> Value {
    let list = app.rpc("company.list", json!({})).await;
    list["result"]["data"]["companies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["slug"] == SLUG)
        .map(|c| c["id"].clone())
        .expect("the demo tenant")
}

/// The demo LLM's tools, read from the simulator with the tenant's key.
async fn tools(app: &TestApp) -> Vec<Value> {
    let url = format!("{}/get-retell-llm/{LLM}", app.retell_url);
    let llm: Value = app
        .client
        .get(&url)
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    match llm["general_tools"].as_array() {
        Some(tools) => tools.clone(),
        None => panic!("no LLM from the simulator at {url}: {llm}"),
    }
}

async fn deploy(app: &TestApp, dry_run: bool) -> Value {
    let company = company_id(app).await;
    let answer = app
        .rpc(
            "retell.config.deployCustomFunctions",
            json!({"company_id": company, "dry_run": dry_run}),
        )
        .await;
    answer["result"]["data"].clone()
}

#[actix_rt::test]
async fn deploy_writes_exactly_our_tools_into_the_simulators_llm_and_keeps_the_foreign_one() {
    let app = spawn_app().await;
    let report = deploy(&app, false).await;
    assert_eq!(report["applied"], true, "{report}");
    let tools = tools(&app).await;
    let ours: Vec<&Value> = tools.iter().filter(|t| t["type"] == "custom").collect();
    let names: Vec<&str> = ours.iter().map(|t| t["name"].as_str().unwrap()).collect();
    let mut expected: Vec<&str> = registry::NAMES.to_vec();
    let mut got = names.clone();
    expected.sort_unstable();
    got.sort_unstable();
    assert_eq!(
        got, expected,
        "exactly our custom tools, the stale one replaced"
    );
    for definition in registry::definitions() {
        let tool = ours.iter().find(|t| t["name"] == definition.name).unwrap();
        assert_eq!(
            tool["url"],
            format!("{}/api/mcp/retell/custom-function", app.url)
        );
        assert_eq!(
            tool["parameters"], definition.parameters,
            "{}",
            definition.name
        );
    }
    assert!(
        tools.iter().any(|t| t["type"] == "end_call"),
        "the foreign tool is kept: {tools:?}"
    );
}

#[actix_rt::test]
async fn second_deploy_on_the_sandbox_tenant_changes_nothing() {
    let app = spawn_app().await;
    deploy(&app, false).await;
    let before = tools(&app).await;
    let again = deploy(&app, false).await;
    assert_eq!(again["applied"], false, "{again}");
    assert_eq!(again["steps"], json!([]));
    for tool in again["diff"]["tools"].as_array().unwrap() {
        assert_eq!(tool["status"], "unchanged", "{tool}");
    }
    assert_eq!(tools(&app).await, before);
}

#[actix_rt::test]
async fn dry_run_on_the_sandbox_tenant_shows_the_diff_and_changes_nothing() {
    let app = spawn_app().await;
    let before = tools(&app).await;
    let report = deploy(&app, true).await;
    assert_eq!(report["applied"], false, "{report}");
    let stale = report["diff"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "check_availability")
        .unwrap();
    assert_eq!(stale["status"], "changed");
    assert!(
        stale["fields"].as_array().unwrap().contains(&json!("url")),
        "{stale}"
    );
    assert_eq!(report["diff"]["agent"][0]["field"], "webhook_url");
    assert_eq!(tools(&app).await, before);
}
