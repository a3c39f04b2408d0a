//! HTTP behaviour of [`RetellClient`] against the upstream stub on `127.0.0.1:0`
//! ([`crate::upstream::stub`]), answering bodies shaped like reference/retell.md §4.

use super::{RetellClient, RetellClientError};
use crate::upstream::stub::{Histograms, Reply, Stub, break_after_head, reply};
use actix_web::{HttpRequest, HttpResponse};
use secrecy::SecretString;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;
use switchboard_actors::domain::booking::UpstreamError;
use switchboard_actors::ports::RetellApi;
use switchboard_actors::retell::api::{
    AgentBinding, AgentUpdate, AgentVersionRef, CallQuery, LlmUpdate, PageRequest,
    PhoneNumberUpdate, ResponseEngine,
};

const KEY: &str = "key_retell_0123456789abcdef";

fn key() -> SecretString {
    SecretString::from(KEY)
}

/// A stub answering unknown routes as Retell does (§4.2 `404`).
fn retell_stub(routes: Vec<(&'static str, &'static str, Reply)>) -> Stub {
    Stub::start(routes, |_: &HttpRequest| {
        HttpResponse::NotFound()
            .content_type("application/json")
            .body(error_body("The requested resource was not found."))
    })
}

fn client(stub: &Stub) -> RetellClient {
    RetellClient::new(&stub.base(), Duration::from_secs(5)).unwrap()
}

fn error_body(message: &str) -> String {
    json!({"status": "error", "message": message}).to_string()
}

/// `AgentResponse` (§4.4) with fields we do not type (`voice_id`, `post_call_analysis_data`).
fn agent_json() -> Value {
    json!({
        "agent_id": "agent_demo", "version": 3, "is_published": false,
        "agent_name": "Front desk", "voice_id": "11labs-Adrian", "language": "de-DE",
        "response_engine": {"type": "retell-llm", "llm_id": "llm_demo", "version": 2},
        "webhook_url": "https://sb.example/api/mcp/retell/webhook",
        "webhook_events": ["call_started", "call_ended", "call_analyzed"],
        "post_call_analysis_data": [{"type": "string", "name": "reason"}],
        "last_modification_timestamp": 1_764_000_000_000_i64
    })
}

fn llm_json() -> Value {
    json!({
        "llm_id": "llm_demo", "version": 2, "is_published": false, "model": "gpt-4.1",
        "general_prompt": "You are the front desk.",
        "general_tools": [{"type": "custom", "name": "check_availability",
            "url": "https://sb.example/api/mcp/retell/custom-function/check_availability"}],
        "last_modification_timestamp": 1_764_000_000_000_i64
    })
}

fn number_json(number: &str) -> Value {
    json!({
        "phone_number": number, "phone_number_type": "retell-twilio",
        "phone_number_pretty": "+49 30 1234567", "nickname": "Mitte",
        "inbound_agents": [{"agent_id": "agent_demo", "agent_version": 3, "weight": 1.0}],
        "inbound_webhook_url": "https://sb.example/api/mcp/retell/inbound",
        "last_modification_timestamp": 1_764_000_000_000_i64
    })
}

fn call_json(call_id: &str) -> Value {
    json!({
        "call_id": call_id, "agent_id": "agent_demo", "agent_version": 3,
        "call_type": "phone_call", "call_status": "ended", "direction": "inbound",
        "from_number": "+4915112345678", "to_number": "+49301234567",
        "start_timestamp": 1_764_000_000_000_i64, "end_timestamp": 1_764_000_060_000_i64,
        "duration_ms": 60000, "disconnection_reason": "user_hangup",
        "call_cost": {"combined_cost": 7.5}
    })
}

fn page(items: Vec<Value>, next: Option<&str>) -> String {
    let mut body = json!({"items": items, "has_more": next.is_some()});
    if let Some(key) = next {
        body["pagination_key"] = json!(key);
    }
    body.to_string()
}

fn ok(body: Value) -> Reply {
    reply(200, body.to_string())
}

fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn first_page(limit: u32) -> PageRequest {
    PageRequest::first(limit)
}

#[actix_web::test]
async fn every_request_carries_the_bearer_key_and_accepts_json() {
    let stub = retell_stub(vec![
        ("GET", "/get-agent/agent_demo", ok(agent_json())),
        ("POST", "/v3/list-calls", reply(200, page(vec![], None))),
    ]);
    let client = client(&stub);
    client.get_agent(&key(), "agent_demo", None).await.unwrap();
    client
        .list_calls(&key(), &CallQuery::default())
        .await
        .unwrap();
    let seen = stub.seen();
    assert_eq!(seen.len(), 2);
    for request in seen {
        assert_eq!(
            request.header("authorization"),
            Some(&*format!("Bearer {KEY}"))
        );
        assert_eq!(request.header("accept"), Some("application/json"));
    }
}

#[actix_web::test]
async fn agent_routes_follow_the_current_endpoints() {
    let stub = retell_stub(vec![
        (
            "POST",
            "/v2/list-agents",
            reply(
                200,
                page(
                    vec![json!({"agent_id": "agent_demo", "agent_name": "Front desk",
                        "channel": "voice", "is_suspended": false, "tags": [],
                        "user_modified_timestamp": 1_764_000_000_000_i64})],
                    None,
                ),
            ),
        ),
        ("GET", "/get-agent/agent_demo", ok(agent_json())),
        (
            "GET",
            "/list-agent-versions/agent_demo",
            reply(
                200,
                page(
                    vec![json!({"version": 3, "is_published": false,
                        "last_modification_timestamp": 1_764_000_000_000_i64, "base_version": 2})],
                    Some("v-next"),
                ),
            ),
        ),
        ("PATCH", "/update-agent/agent_demo", ok(agent_json())),
        ("POST", "/publish-agent-version/agent_demo", reply(200, "")),
    ]);
    let client = client(&stub);

    let agents = client.list_agents(&key(), &first_page(50)).await.unwrap();
    assert_eq!(agents.items[0].agent_id, "agent_demo");
    assert_eq!(agents.items[0].channel.as_deref(), Some("voice"));
    let agent = client
        .get_agent(&key(), "agent_demo", Some(3))
        .await
        .unwrap();
    assert_eq!(agent.version, 3);
    assert_eq!(
        agent.response_engine,
        ResponseEngine::RetellLlm {
            llm_id: "llm_demo".into(),
            version: Some(2)
        }
    );
    let versions = client
        .list_agent_versions(
            &key(),
            "agent_demo",
            &PageRequest {
                limit: 10,
                pagination_key: Some("v-1".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(versions.items[0].base_version, Some(2));
    assert_eq!(versions.next.as_deref(), Some("v-next"));
    let update = AgentUpdate {
        webhook_url: Some("https://sb.example/api/mcp/retell/webhook".into()),
        webhook_events: Some(vec!["call_ended".into(), "call_analyzed".into()]),
        ..AgentUpdate::default()
    };
    client
        .update_agent(&key(), "agent_demo", &update)
        .await
        .unwrap();
    client
        .publish_agent_version(&key(), "agent_demo", 3)
        .await
        .unwrap();

    let seen = stub.seen();
    let routes: Vec<(&str, &str)> = seen
        .iter()
        .map(|s| (s.method.as_str(), s.path.as_str()))
        .collect();
    assert_eq!(
        routes,
        [
            ("POST", "/v2/list-agents"),
            ("GET", "/get-agent/agent_demo"),
            ("GET", "/list-agent-versions/agent_demo"),
            ("PATCH", "/update-agent/agent_demo"),
            ("POST", "/publish-agent-version/agent_demo"),
        ]
    );
    assert_eq!(seen[0].query, query(&[("limit", "50")]));
    assert_eq!(seen[0].json(), json!({}));
    assert_eq!(seen[1].query, query(&[("version", "3")]));
    assert_eq!(
        seen[2].query,
        query(&[("limit", "10"), ("pagination_key", "v-1")])
    );
    assert_eq!(
        seen[3].json(),
        json!({"webhook_url": "https://sb.example/api/mcp/retell/webhook",
               "webhook_events": ["call_ended", "call_analyzed"]})
    );
    assert_eq!(seen[4].json(), json!({"version": 3}));
}

#[actix_web::test]
async fn latest_version_is_asked_without_a_version_parameter() {
    let stub = retell_stub(vec![
        ("GET", "/get-agent/agent_demo", ok(agent_json())),
        ("GET", "/get-retell-llm/llm_demo", ok(llm_json())),
    ]);
    let client = client(&stub);
    client.get_agent(&key(), "agent_demo", None).await.unwrap();
    client.get_llm(&key(), "llm_demo", None).await.unwrap();
    assert!(stub.seen().iter().all(|s| s.query.is_empty()));
}

#[actix_web::test]
async fn llm_routes_read_and_replace_the_general_tools() {
    let stub = retell_stub(vec![
        ("GET", "/get-retell-llm/llm_demo", ok(llm_json())),
        ("PATCH", "/update-retell-llm/llm_demo", ok(llm_json())),
    ]);
    let client = client(&stub);
    let llm = client.get_llm(&key(), "llm_demo", Some(2)).await.unwrap();
    assert_eq!(llm.general_tools[0]["name"], "check_availability");
    assert_eq!(llm.extra["model"], "gpt-4.1");
    let tools = vec![json!({"type": "custom", "name": "book_appointment"})];
    client
        .update_llm(
            &key(),
            "llm_demo",
            &LlmUpdate {
                general_tools: Some(tools.clone()),
            },
        )
        .await
        .unwrap();
    let seen = stub.seen();
    assert_eq!(seen[0].query, query(&[("version", "2")]));
    assert_eq!(seen[1].method, "PATCH");
    assert_eq!(seen[1].json(), json!({ "general_tools": tools }));
}

#[actix_web::test]
async fn phone_number_routes_send_plus_as_percent_2b() {
    let stub = retell_stub(vec![
        (
            "GET",
            "/v2/list-phone-numbers",
            reply(200, page(vec![number_json("+49301234567")], None)),
        ),
        (
            "PATCH",
            "/update-phone-number/%2B49301234567",
            ok(number_json("+49301234567")),
        ),
    ]);
    let client = client(&stub);
    let numbers = client
        .list_phone_numbers(&key(), &first_page(1000))
        .await
        .unwrap();
    assert_eq!(numbers.items[0].inbound_agents[0].agent_id, "agent_demo");
    let update = PhoneNumberUpdate {
        inbound_agents: Some(vec![AgentBinding {
            agent_id: "agent_demo".into(),
            agent_version: Some(AgentVersionRef::Number(3)),
            weight: 1.0,
        }]),
        inbound_webhook_url: None,
    };
    let updated = client
        .update_phone_number(&key(), "+49301234567", &update)
        .await
        .unwrap();
    assert_eq!(updated.phone_number, "+49301234567");
    let seen = stub.seen();
    assert_eq!(seen[0].query, query(&[("limit", "1000")]));
    assert_eq!(seen[1].path, "/update-phone-number/%2B49301234567");
    assert_eq!(
        seen[1].json(),
        json!({"inbound_agents": [{"agent_id": "agent_demo", "agent_version": 3, "weight": 1.0}]})
    );
}

#[actix_web::test]
async fn call_routes_follow_v3_list_and_v2_get() {
    let stub = retell_stub(vec![
        (
            "POST",
            "/v3/list-calls",
            reply(
                200,
                page(
                    vec![call_json("call_2"), call_json("call_1")],
                    Some("call_1"),
                ),
            ),
        ),
        ("GET", "/v2/get-call/call_1", ok(call_json("call_1"))),
    ]);
    let client = client(&stub);
    let calls = client
        .list_calls(
            &key(),
            &CallQuery {
                agent_ids: vec!["agent_demo".into()],
                start_after_ms: Some(1_763_000_000_000),
                start_before_ms: Some(1_765_000_000_000),
                page: Some(first_page(2)),
            },
        )
        .await
        .unwrap();
    assert_eq!(calls.next.as_deref(), Some("call_1"));
    assert_eq!(calls.items[0].call.call_id.as_str(), "call_2");
    let call = client.get_call(&key(), "call_1").await.unwrap();
    assert_eq!(call.call.duration_ms, Some(60000));
    assert_eq!(call.call.to_number.as_deref(), Some("+49301234567"));
    assert_eq!(call.raw, call_json("call_1"));
    let seen = stub.seen();
    assert_eq!(
        seen[0].json(),
        json!({
            "filter_criteria": {
                "agent": [{"agent_id": "agent_demo"}],
                "start_timestamp": {"op": "bt", "type": "range",
                                    "value": [1_763_000_000_000_i64, 1_765_000_000_000_i64]}
            },
            "limit": 2, "sort_order": "descending"
        })
    );
    assert_eq!(seen[1].method, "GET");
}

#[actix_web::test]
async fn last_page_has_no_next_cursor() {
    let stub = retell_stub(vec![(
        "POST",
        "/v2/list-agents",
        reply(
            200,
            json!({"items": [], "has_more": false, "pagination_key": "stale"}).to_string(),
        ),
    )]);
    let agents = client(&stub)
        .list_agents(&key(), &first_page(10))
        .await
        .unwrap();
    assert_eq!(agents.next, None);
}

#[actix_web::test]
async fn id_with_slash_or_question_mark_stays_one_segment() {
    let stub = retell_stub(Vec::new());
    let client = client(&stub);
    for id in ["../get-call/x", "agent?version=9", "a#b", "%2e%2e"] {
        let e = client.get_agent(&key(), id, None).await.unwrap_err();
        assert!(matches!(e, UpstreamError::NotFound { .. }), "{id}: {e:?}");
    }
    let paths: Vec<String> = stub.seen().into_iter().map(|s| s.path).collect();
    assert_eq!(
        paths,
        [
            "/get-agent/..%2Fget-call%2Fx",
            "/get-agent/agent%3Fversion=9",
            "/get-agent/a%23b",
            "/get-agent/%252e%252e",
        ]
    );
    assert!(stub.seen().iter().all(|s| s.query.is_empty()));
}

#[actix_web::test]
async fn dot_and_empty_ids_are_refused_without_a_request() {
    let stub = retell_stub(Vec::new());
    let client = client(&stub);
    for id in ["", ".", ".."] {
        let e = client.get_call(&key(), id).await.unwrap_err();
        assert!(matches!(e, UpstreamError::NotFound { .. }), "{id:?}: {e:?}");
    }
    assert!(stub.seen().is_empty());
}

#[actix_web::test]
async fn missing_asset_422_and_404_are_not_found() {
    let stub = retell_stub(vec![(
        "GET",
        "/get-agent/agent_gone",
        reply(
            422,
            error_body("Cannot find requested asset under given api key."),
        ),
    )]);
    let client = client(&stub);
    let e = client
        .get_agent(&key(), "agent_gone", None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            UpstreamError::NotFound {
                service: "retell",
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.answer().unwrap().message,
        "Cannot find requested asset under given api key."
    );
    // No route: the stub's 404.
    let e = client.get_call(&key(), "call_gone").await.unwrap_err();
    assert!(matches!(e, UpstreamError::NotFound { .. }), "{e:?}");
    assert_eq!(e.answer().unwrap().status, 404);
}

#[actix_web::test]
async fn refused_key_401_is_unauthorized() {
    let stub = retell_stub(vec![(
        "POST",
        "/v2/list-agents",
        reply(401, error_body("API key is missing or invalid.")),
    )]);
    let e = client(&stub)
        .list_agents(&key(), &first_page(10))
        .await
        .unwrap_err();
    assert!(e.is_unauthorized(), "{e:?}");
    assert!(!e.is_transient());
}

#[actix_web::test]
async fn rate_limit_429_carries_retry_after_for_the_breakers_retry() {
    let mut throttled = reply(
        429,
        error_body("Account rate limited, please throttle your requests."),
    );
    throttled.headers = vec![("Retry-After", "3")];
    let stub = retell_stub(vec![("POST", "/v3/list-calls", throttled)]);
    let e = client(&stub)
        .list_calls(&key(), &CallQuery::default())
        .await
        .unwrap_err();
    assert!(matches!(e, UpstreamError::RateLimited { .. }), "{e:?}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
    assert!(e.is_transient());
}

#[actix_web::test]
async fn server_error_500_is_server_error() {
    let stub = retell_stub(vec![(
        "GET",
        "/v2/get-call/call_1",
        reply(500, error_body("An unexpected server error occurred.")),
    )]);
    let e = client(&stub).get_call(&key(), "call_1").await.unwrap_err();
    assert!(matches!(e, UpstreamError::ServerError { .. }), "{e:?}");
    assert!(e.is_transient() && e.is_breaker_failure());
}

#[actix_web::test]
async fn unreadable_2xx_is_decode_error_naming_the_method() {
    let stub = retell_stub(vec![
        (
            "GET",
            "/get-agent/agent_demo",
            reply(200, "<html>maintenance</html>"),
        ),
        // A list item without `call_id`.
        (
            "POST",
            "/v3/list-calls",
            reply(200, page(vec![json!({"agent_id": "agent_demo"})], None)),
        ),
        // `has_more` without the cursor to follow it.
        (
            "GET",
            "/v2/list-phone-numbers",
            reply(200, json!({"items": [], "has_more": true}).to_string()),
        ),
    ]);
    let client = client(&stub);
    let errors = [
        client
            .get_agent(&key(), "agent_demo", None)
            .await
            .unwrap_err(),
        client
            .list_calls(&key(), &CallQuery::default())
            .await
            .unwrap_err(),
        client
            .list_phone_numbers(&key(), &first_page(10))
            .await
            .unwrap_err(),
    ];
    let names = [
        "get_agent (GET /get-agent/agent_demo)",
        "list_calls (POST /v3/list-calls)",
        "list_phone_numbers (GET /v2/list-phone-numbers)",
    ];
    for (e, name) in errors.iter().zip(names) {
        match e {
            UpstreamError::Decode { service, message } => {
                assert_eq!(*service, "retell");
                assert!(message.starts_with(name), "{message}");
            }
            other => panic!("expected Decode, got {other:?}"),
        }
        assert!(!e.is_transient());
    }
}

#[actix_web::test]
async fn unknown_agent_fields_are_kept_in_extra() {
    let stub = retell_stub(vec![("GET", "/get-agent/agent_demo", ok(agent_json()))]);
    let agent = client(&stub)
        .get_agent(&key(), "agent_demo", None)
        .await
        .unwrap();
    assert_eq!(agent.extra["voice_id"], "11labs-Adrian");
    assert_eq!(
        agent.extra["post_call_analysis_data"],
        json!([{"type": "string", "name": "reason"}])
    );
    assert!(!agent.extra.contains_key("agent_id"));
}

#[actix_web::test]
async fn slow_server_is_transport_error_within_the_timeout() {
    let mut slow = ok(agent_json());
    slow.delay = Duration::from_secs(5);
    let stub = retell_stub(vec![("GET", "/get-agent/agent_demo", slow)]);
    let client = RetellClient::new(&stub.base(), Duration::from_millis(100)).unwrap();
    let e = client
        .get_agent(&key(), "agent_demo", Some(1))
        .await
        .unwrap_err();
    match &e {
        UpstreamError::Transport { service, message } => {
            assert_eq!(*service, "retell");
            assert!(
                message.starts_with("GET /get-agent/agent_demo: timed out after 100ms"),
                "{message}"
            );
            assert!(!message.contains("version="), "{message}");
        }
        other => panic!("expected Transport, got {other:?}"),
    }
    assert!(e.is_transient());
}

#[actix_web::test]
async fn dropped_connection_mid_body_is_transport_error() {
    let base = break_after_head(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 400",
        r#"{"llm_id":"llm_demo","general_tools":["#,
    )
    .await;
    let client = RetellClient::new(&base, Duration::from_secs(5)).unwrap();
    let e = client
        .update_llm(&key(), "llm_demo", &LlmUpdate::default())
        .await
        .unwrap_err();
    match &e {
        UpstreamError::Transport { message, .. } => assert!(
            message.starts_with(
                "PATCH /update-retell-llm/llm_demo: connection broke while reading the body"
            ),
            "{message}"
        ),
        other => panic!("expected Transport, got {other:?}"),
    }
}

#[actix_web::test]
async fn api_key_never_appears_in_errors() {
    let stub = retell_stub(vec![
        ("GET", "/get-agent/agent_demo", reply(200, "not json")),
        (
            "GET",
            "/get-retell-llm/llm_demo",
            reply(401, error_body("API key is missing or invalid.")),
        ),
    ]);
    let refused_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let unreachable = RetellClient::new(
        &format!("http://127.0.0.1:{refused_port}"),
        Duration::from_secs(5),
    )
    .unwrap();
    let client = client(&stub);
    let errors = [
        client
            .get_agent(&key(), "agent_demo", None)
            .await
            .unwrap_err(),
        client.get_llm(&key(), "llm_demo", None).await.unwrap_err(),
        unreachable.get_call(&key(), "call_1").await.unwrap_err(),
        client
            .get_call(&SecretString::from(format!("{KEY}\n")), "call_1")
            .await
            .unwrap_err(),
    ];
    for e in errors {
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains(KEY), "{shown}");
    }
}

#[actix_web::test]
async fn key_unfit_for_a_header_is_refused_without_a_request() {
    let stub = retell_stub(Vec::new());
    let e = client(&stub)
        .get_call(&SecretString::from("key\nwith newline"), "call_1")
        .await
        .unwrap_err();
    assert!(e.is_unauthorized(), "{e:?}");
    assert!(stub.seen().is_empty());
}

#[actix_web::test]
async fn base_url_path_prefix_is_kept() {
    let stub = retell_stub(vec![(
        "GET",
        "/retell/v2/get-call/call_1",
        ok(call_json("call_1")),
    )]);
    for base in [
        format!("{}/retell", stub.base()),
        format!("{}/retell/", stub.base()),
    ] {
        let client = RetellClient::new(&base, Duration::from_secs(5)).unwrap();
        client.get_call(&key(), "call_1").await.unwrap();
    }
    assert_eq!(stub.seen().len(), 2);
}

#[test]
fn invalid_base_url_is_refused_without_showing_its_secrets() {
    for bad in [
        "not a url",
        "ftp://api.retellai.com",
        "https://api.retellai.com?x=1",
    ] {
        assert!(
            matches!(
                RetellClient::new(bad, Duration::from_secs(1)),
                Err(RetellClientError::InvalidBaseUrl { .. })
            ),
            "{bad}"
        );
    }
    let err = RetellClient::new(
        "ftp://user:hunter2@api.retellai.com/?token=abc",
        Duration::from_secs(1),
    )
    .unwrap_err()
    .to_string();
    assert!(!err.contains("hunter2") && !err.contains("abc"), "{err}");
    assert!(err.contains("api.retellai.com"), "{err}");
}

#[actix_web::test]
async fn records_duration_per_request_even_on_failure() {
    let stub = retell_stub(vec![("GET", "/v2/get-call/call_1", reply(500, ""))]);
    let recorder = Histograms::default();
    let records = recorder.0.clone();
    {
        // actix tests run on one thread, so a thread-local recorder sees the client's calls.
        let _guard = metrics::set_default_local_recorder(&recorder);
        let client = client(&stub);
        client.get_call(&key(), "call_1").await.unwrap_err();
        client
            .list_agents(&key(), &first_page(1))
            .await
            .unwrap_err();
    }
    assert_eq!(
        *records.lock().unwrap(),
        [
            "mcp_api_duration_seconds{service=retell,method=get_call}",
            "mcp_api_duration_seconds{service=retell,method=list_agents}"
        ]
    );
}
