//! [`RetellClient`] against the Retell simulator (`sim retell`) over HTTP: every list to its
//! end, reads, updates read back, publishing, and the classification of each refusal and
//! injected fault.

use super::RetellClient;
use crate::sim::faults::FaultConfig;
use crate::sim::retell::{HISTORY_CALLS, RETRY_AFTER_S, RetellSim};
use secrecy::SecretString;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::future::Future;
use std::time::Duration;
use switchboard_actors::domain::booking::UpstreamError;
use switchboard_actors::ports::RetellApi;
use switchboard_actors::retell::api::{
    AgentBinding, AgentUpdate, AgentVersionRef, CallQuery, LlmUpdate, Page, PageRequest,
    PhoneNumberUpdate, ResponseEngine,
};

/// The demo salon's Retell account (examples/tenants/demo-salon-berlin.toml): its key, its
/// agent and the LLM the simulator seeds for it.
const DEMO_KEY: &str = "key_sandbox_0123456789abcdef";
const DEMO_AGENT: &str = "agent_demo_salon_berlin";
const DEMO_LLM: &str = "llm_demo_salon_berlin";
const DEMO_NUMBER: &str = "+493083793369";

fn key() -> SecretString {
    SecretString::from(DEMO_KEY)
}

/// `sim` served on an ephemeral port, and a client of it.
fn client_of(sim: &RetellSim) -> RetellClient {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    actix_rt::spawn(sim.serve(listener).unwrap());
    RetellClient::new(&format!("http://{addr}"), Duration::from_secs(5)).unwrap()
}

fn demo() -> (RetellSim, RetellClient) {
    let sim = RetellSim::demo().unwrap();
    let client = client_of(&sim);
    (sim, client)
}

/// Every item of a list, one `limit`-sized page at a time, following `next` to the end.
async fn all_pages<T, F, Fut>(limit: u32, mut read: F) -> Vec<T>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = Result<Page<T>, UpstreamError>>,
{
    let mut items = Vec::new();
    let mut page = PageRequest::first(limit);
    loop {
        let got = read(page.clone()).await.unwrap();
        assert!(got.items.len() <= limit as usize);
        items.extend(got.items);
        match got.next {
            Some(next) => page.pagination_key = Some(next),
            None => return items,
        }
    }
}

#[actix_web::test]
async fn lists_agents_numbers_and_calls_to_the_end_page_by_page() {
    let (_sim, client) = demo();
    let agents = all_pages(1, |p| {
        let client = client.clone();
        async move { client.list_agents(&key(), &p).await }
    })
    .await;
    assert_eq!(
        agents
            .iter()
            .map(|a| a.agent_id.as_str())
            .collect::<Vec<_>>(),
        [DEMO_AGENT]
    );

    let numbers = all_pages(1, |p| {
        let client = client.clone();
        async move { client.list_phone_numbers(&key(), &p).await }
    })
    .await;
    assert!(numbers.len() >= 2, "{numbers:?}");
    assert!(numbers.iter().any(|n| n.phone_number == DEMO_NUMBER));

    let calls = all_pages(5, |p| {
        let client = client.clone();
        async move {
            let query = CallQuery {
                agent_ids: vec![DEMO_AGENT.into()],
                page: Some(p),
                ..CallQuery::default()
            };
            client.list_calls(&key(), &query).await
        }
    })
    .await;
    assert_eq!(calls.len(), HISTORY_CALLS);
    let ids: HashSet<&str> = calls.iter().map(|c| c.call.call_id.as_str()).collect();
    assert_eq!(ids.len(), HISTORY_CALLS, "no call twice");
    let starts: Vec<i64> = calls
        .iter()
        .filter_map(|c| c.call.start_timestamp)
        .collect();
    assert!(starts.windows(2).all(|w| w[0] >= w[1]), "newest first");
    assert!(
        calls
            .iter()
            .all(|c| c.raw["call_id"] == c.call.call_id.as_str())
    );
}

#[actix_web::test]
async fn start_range_narrows_the_calls() {
    let (_sim, client) = demo();
    let all = client
        .list_calls(
            &key(),
            &CallQuery {
                page: Some(PageRequest::first(1000)),
                ..CallQuery::default()
            },
        )
        .await
        .unwrap()
        .items;
    let newest = all[0].call.start_timestamp.unwrap();
    let recent = client
        .list_calls(
            &key(),
            &CallQuery {
                start_after_ms: Some(newest),
                ..CallQuery::default()
            },
        )
        .await
        .unwrap()
        .items;
    assert!(!recent.is_empty() && recent.len() < all.len());
    assert!(
        recent
            .iter()
            .all(|c| c.call.start_timestamp.unwrap() >= newest)
    );
    let call = client
        .get_call(&key(), all[0].call.call_id.as_str())
        .await
        .unwrap();
    assert_eq!(call.call.call_id, all[0].call.call_id);
}

#[actix_web::test]
async fn reads_the_agent_its_versions_and_its_llm() {
    let (_sim, client) = demo();
    let agent = client.get_agent(&key(), DEMO_AGENT, None).await.unwrap();
    assert_eq!(agent.agent_id, DEMO_AGENT);
    let ResponseEngine::RetellLlm { llm_id, .. } = &agent.response_engine else {
        panic!("expected a retell-llm agent: {agent:?}");
    };
    assert_eq!(llm_id, DEMO_LLM);
    assert!(agent.extra.contains_key("voice_id"), "{:?}", agent.extra);

    let versions = client
        .list_agent_versions(&key(), DEMO_AGENT, &PageRequest::first(100))
        .await
        .unwrap();
    assert!(versions.items.iter().any(|v| v.is_published));
    assert!(versions.items.iter().any(|v| !v.is_published));

    let llm = client.get_llm(&key(), DEMO_LLM, None).await.unwrap();
    assert_eq!(llm.llm_id, DEMO_LLM);
    assert!(!llm.general_tools.is_empty());
}

fn custom_tool(name: &str) -> Value {
    json!({
        "type": "custom", "name": name, "description": "Prüft freie Termine.",
        "url": format!("https://switchboard.example.com/api/mcp/retell/custom-function/{name}"),
        "method": "POST",
        "parameters": {"type": "object", "properties": {"datum": {"type": "string"}},
                       "required": ["datum"]},
        "speak_during_execution": true, "speak_after_execution": true, "timeout_ms": 8000
    })
}

#[actix_web::test]
async fn updated_llm_tools_read_back() {
    let (_sim, client) = demo();
    let tools = vec![
        custom_tool("check_availability"),
        custom_tool("book_appointment"),
    ];
    let update = LlmUpdate {
        general_tools: Some(tools.clone()),
    };
    let updated = client.update_llm(&key(), DEMO_LLM, &update).await.unwrap();
    assert_eq!(updated.general_tools, tools);
    let read = client.get_llm(&key(), DEMO_LLM, None).await.unwrap();
    assert_eq!(read.general_tools, tools);
}

#[actix_web::test]
async fn agent_webhook_update_reads_back_and_publishes() {
    let (_sim, client) = demo();
    let update = AgentUpdate {
        webhook_url: Some("https://switchboard.example.com/api/mcp/retell/webhook".into()),
        webhook_events: Some(vec!["call_ended".into(), "call_analyzed".into()]),
        ..AgentUpdate::default()
    };
    let draft = client
        .update_agent(&key(), DEMO_AGENT, &update)
        .await
        .unwrap();
    assert!(!draft.is_published);
    assert_eq!(draft.webhook_url, update.webhook_url);
    client
        .publish_agent_version(&key(), DEMO_AGENT, draft.version)
        .await
        .unwrap();
    let published = client
        .get_agent(&key(), DEMO_AGENT, Some(draft.version))
        .await
        .unwrap();
    assert!(published.is_published);
    assert_eq!(published.webhook_events, update.webhook_events);
}

#[actix_web::test]
async fn binds_a_number_addressed_with_its_plus() {
    let (_sim, client) = demo();
    let update = PhoneNumberUpdate {
        inbound_agents: Some(vec![AgentBinding {
            agent_id: DEMO_AGENT.into(),
            agent_version: Some(AgentVersionRef::Number(0)),
            weight: 1.0,
        }]),
        inbound_webhook_url: Some("https://switchboard.example.com/api/mcp/retell/inbound".into()),
    };
    let number = client
        .update_phone_number(&key(), DEMO_NUMBER, &update)
        .await
        .unwrap();
    assert_eq!(number.phone_number, DEMO_NUMBER);
    assert_eq!(Some(number.inbound_agents), update.inbound_agents);
    assert_eq!(number.inbound_webhook_url, update.inbound_webhook_url);
}

#[actix_web::test]
async fn unknown_agent_is_not_found() {
    let (_sim, client) = demo();
    let e = client
        .get_agent(&key(), "agent_nobody", None)
        .await
        .unwrap_err();
    assert!(matches!(e, UpstreamError::NotFound { .. }), "{e:?}");
    assert_eq!(e.answer().unwrap().status, 422);
}

#[actix_web::test]
async fn wrong_key_is_unauthorized() {
    let (_sim, client) = demo();
    let e = client
        .list_agents(&SecretString::from("key_wrong"), &PageRequest::first(10))
        .await
        .unwrap_err();
    assert!(e.is_unauthorized(), "{e:?}");
    assert!(!format!("{e} {e:?}").contains("key_wrong"));
}

fn faults(config: Value) -> FaultConfig {
    serde_json::from_value(config).unwrap()
}

#[actix_web::test]
async fn injected_429_is_rate_limited_with_its_retry_after() {
    let (sim, client) = demo();
    sim.faults()
        .set(faults(json!({"error_rate": 1.0, "error_status": 429})));
    let e = client
        .get_agent(&key(), DEMO_AGENT, None)
        .await
        .unwrap_err();
    assert!(matches!(e, UpstreamError::RateLimited { .. }), "{e:?}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(RETRY_AFTER_S)));
}

#[actix_web::test]
async fn injected_500_is_a_server_error() {
    let (sim, client) = demo();
    sim.faults().set(faults(json!({"error_rate": 1.0})));
    let e = client
        .list_phone_numbers(&key(), &PageRequest::first(10))
        .await
        .unwrap_err();
    assert!(matches!(e, UpstreamError::ServerError { .. }), "{e:?}");
    assert!(e.is_breaker_failure());
}
