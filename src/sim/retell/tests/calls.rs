//! Calls: the seeded history, list-calls filters and paging, get-call, `/__sim/calls`.

use super::*;
use crate::sim::retell::{CALLS_PATH, HISTORY_CALLS, HISTORY_DAYS, MAX_CALLS};
use serde_json::json;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

async fn list(sim: &RetellSim, body: Value) -> Vec<Value> {
    let reply = send(sim, post("/v3/list-calls", &body)).await;
    reply.ok()["items"].as_array().unwrap().clone()
}

fn starts(calls: &[Value]) -> Vec<i64> {
    calls
        .iter()
        .map(|c| c["start_timestamp"].as_i64().unwrap())
        .collect()
}

fn ended_call(call_id: &str, start: i64) -> Value {
    json!({
        "call_id": call_id, "agent_id": DEMO_AGENT, "agent_version": 1, "call_type": "phone_call",
        "direction": "inbound", "from_number": "+4915123456789", "to_number": DEMO_NUMBER,
        "call_status": "ended", "start_timestamp": start, "end_timestamp": start + 60_000,
        "duration_ms": 60_000, "transcript": "User: Hallo\n",
    })
}

async fn record(sim: &RetellSim, call: &Value) -> Reply {
    send(
        sim,
        test::TestRequest::post().uri(CALLS_PATH).set_json(call),
    )
    .await
}

#[actix_web::test]
async fn the_history_is_a_week_of_ended_calls_newest_first_without_transcripts() {
    let sim = sim();
    let calls = list(&sim, json!({})).await;
    assert_eq!(calls.len(), HISTORY_CALLS);
    let starts = starts(&calls);
    assert!(starts.windows(2).all(|w| w[0] >= w[1]), "{starts:?}");
    assert!(
        starts
            .iter()
            .all(|s| (now_ms() - HISTORY_DAYS * DAY_MS..now_ms()).contains(s)),
        "{starts:?}"
    );
    for call in &calls {
        for field in [
            "call_id",
            "agent_id",
            "agent_version",
            "call_status",
            "call_type",
            "direction",
            "from_number",
            "to_number",
        ] {
            assert!(call.get(field).is_some(), "{field} missing: {call}");
        }
        for field in [
            "transcript",
            "transcript_object",
            "transcript_with_tool_calls",
        ] {
            assert!(call.get(field).is_none(), "{field} in a list item");
        }
        assert_eq!(call["call_status"], "ended");
        assert_eq!(call["agent_id"], DEMO_AGENT);
    }
}

#[actix_web::test]
async fn the_history_is_the_same_for_the_same_now() {
    assert_eq!(list(&sim(), json!({})).await, list(&sim(), json!({})).await);
}

#[actix_web::test]
async fn get_call_answers_the_whole_call_with_transcripts() {
    let sim = sim();
    let first = &list(&sim, json!({"limit": 1})).await[0];
    let id = first["call_id"].as_str().unwrap();
    let call = send(&sim, get(&format!("/v2/get-call/{id}"))).await;
    let call = call.ok();
    assert!(call["transcript"].as_str().unwrap().starts_with("Agent: "));
    assert!(call["transcript_object"].is_array());
    assert!(call["call_analysis"]["call_summary"].is_string());
    let mut without = call.clone();
    for field in [
        "transcript",
        "transcript_object",
        "transcript_with_tool_calls",
    ] {
        without.as_object_mut().unwrap().remove(field);
    }
    assert_eq!(&without, first);
}

#[actix_web::test]
async fn calls_page_to_the_end_without_repeats() {
    let sim = sim();
    let (items, pages) = all_pages(&sim, |cursor| {
        let mut body = json!({"limit": 5});
        if let Some(c) = cursor {
            body["pagination_key"] = json!(c);
        }
        post("/v3/list-calls", &body)
    })
    .await;
    assert_eq!(pages, 3);
    assert_eq!(items, list(&sim, json!({})).await);
}

#[actix_web::test]
async fn the_start_timestamp_filters_select_by_range_and_bound() {
    let sim = sim();
    let all = starts(&list(&sim, json!({})).await);
    let (lo, hi) = (all[8], all[3]);
    let between = list(&sim, json!({"filter_criteria": {"start_timestamp": {"op": "bt", "type": "range", "value": [lo, hi]}}})).await;
    assert_eq!(starts(&between), all[3..=8]);
    let since = list(&sim, json!({"filter_criteria": {"start_timestamp": {"op": "ge", "type": "number", "value": hi}}})).await;
    assert_eq!(starts(&since), all[..=3]);
    let before = list(&sim, json!({"filter_criteria": {"start_timestamp": {"op": "lt", "type": "number", "value": lo}}})).await;
    assert_eq!(starts(&before), all[9..]);
}

#[actix_web::test]
async fn the_agent_status_and_direction_filters_match_any_listed_value() {
    let sim = sim();
    let agent = |id: &str| json!({"filter_criteria": {"agent": [{"agent_id": id}]}});
    assert_eq!(list(&sim, agent(DEMO_AGENT)).await.len(), HISTORY_CALLS);
    assert!(list(&sim, agent("agent_other")).await.is_empty());
    let old_version =
        json!({"filter_criteria": {"agent": [{"agent_id": DEMO_AGENT, "version": [3]}]}});
    assert!(list(&sim, old_version).await.is_empty());
    let ended = json!({"filter_criteria": {"call_status": {"op": "in", "type": "enum", "value": ["ongoing", "ended"]}}});
    assert_eq!(list(&sim, ended).await.len(), HISTORY_CALLS);
    let outbound = json!({"filter_criteria": {"direction": {"op": "in", "type": "enum", "value": ["outbound"]}}});
    assert!(list(&sim, outbound).await.is_empty());
}

#[actix_web::test]
async fn malformed_filters_and_limits_are_400() {
    let sim = sim();
    for body in [
        json!({"limit": 0}),
        json!({"limit": 1001}),
        json!({"pagination_key": "call_unknown"}),
        json!({"sort_order": "random"}),
        json!({"filter_criteria": {"start_timestamp": {"op": "bt", "type": "range", "value": [1]}}}),
        json!({"filter_criteria": {"start_timestamp": {"op": "around", "type": "number", "value": 1}}}),
        json!({"filter_criteria": {"call_status": ["ended"]}}),
        json!({"filter_criteria": {"direction": {"op": "eq", "type": "enum", "value": ["inbound"]}}}),
        json!({"filter_criteria": {"agent": {"agent_id": DEMO_AGENT}}}),
    ] {
        send(&sim, post("/v3/list-calls", &body))
            .await
            .assert_error(StatusCode::BAD_REQUEST);
    }
}

#[actix_web::test]
async fn include_total_counts_every_match() {
    let sim = sim();
    let reply = send(
        &sim,
        post(
            "/v3/list-calls",
            &json!({"limit": 2, "include_total": true}),
        ),
    )
    .await;
    assert_eq!(reply.ok()["total"], HISTORY_CALLS);
    assert_eq!(reply.body["items"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn a_recorded_call_is_listed_first_and_served_under_its_numbers_account() {
    let sim = sim();
    let call = ended_call("call_from_replay", now_ms() - 1000);
    let reply = record(&sim, &call).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body, json!({"call_id": "call_from_replay"}));
    let newest = &list(&sim, json!({"limit": 1})).await[0];
    assert_eq!(newest["call_id"], "call_from_replay");
    let full = send(&sim, get("/v2/get-call/call_from_replay")).await;
    assert_eq!(full.ok(), &call);
    let elsewhere = send(
        &sim,
        auth(
            test::TestRequest::get().uri("/v2/get-call/call_from_replay"),
            THAMES_KEY,
        ),
    )
    .await;
    elsewhere.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
}

#[actix_web::test]
async fn recording_a_call_twice_keeps_one() {
    let sim = sim();
    let mut call = ended_call("call_twice", now_ms() - 1000);
    record(&sim, &call).await;
    call["call_analysis"] = json!({"call_successful": true});
    record(&sim, &call).await;
    assert_eq!(list(&sim, json!({})).await.len(), HISTORY_CALLS + 1);
    let full = send(&sim, get("/v2/get-call/call_twice")).await;
    assert_eq!(full.ok()["call_analysis"]["call_successful"], true);
}

#[actix_web::test]
async fn a_call_no_account_owns_or_without_an_id_is_refused() {
    let sim = sim();
    let mut stranger = ended_call("call_stranger", now_ms());
    stranger["to_number"] = json!("+15550001111");
    stranger["agent_id"] = json!("agent_unknown");
    assert_eq!(
        record(&sim, &stranger).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let mut by_agent = stranger.clone();
    by_agent["agent_id"] = json!(THAMES_AGENT);
    by_agent["call_id"] = json!("call_by_agent");
    assert_eq!(record(&sim, &by_agent).await.status, StatusCode::CREATED);
    for bad in [
        json!({"to_number": DEMO_NUMBER}),
        json!({"call_id": "", "to_number": DEMO_NUMBER}),
        json!([1]),
    ] {
        let reply = record(&sim, &bad).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(reply.body["error"].is_string());
    }
    assert_eq!(list(&sim, json!({})).await.len(), HISTORY_CALLS);
}

#[actix_web::test]
async fn an_account_keeps_at_most_max_calls() {
    let sim = sim();
    for i in HISTORY_CALLS..MAX_CALLS {
        let call = ended_call(&format!("call_{i}"), 0);
        let Value::Object(call) = call else {
            unreachable!()
        };
        super::super::routes::record(&sim.shared, call).unwrap();
    }
    let reply = record(&sim, &ended_call("call_one_too_many", 0)).await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.body
    );
    let replaced = record(&sim, &ended_call("call_100", 5)).await;
    assert_eq!(
        replaced.status,
        StatusCode::CREATED,
        "an existing call can still be replaced"
    );
}
