//! Agents and versions: the seeded agent, updates read back, the publish rule, paging, caps.

use super::*;
use crate::sim::retell::MAX_VERSIONS;
use serde_json::json;

fn agent_uri(path: &str) -> String {
    format!("/{path}/{DEMO_AGENT}")
}

async fn versions(sim: &RetellSim) -> Vec<Value> {
    let reply = send(
        sim,
        get(&format!(
            "{}?sort_order=ascending",
            agent_uri("list-agent-versions")
        )),
    )
    .await;
    reply.ok()["items"].as_array().unwrap().clone()
}

#[actix_web::test]
async fn list_agents_answers_summaries_with_the_sdks_required_fields() {
    let sim = sim();
    let reply = send(&sim, post("/v2/list-agents", &json!({}))).await;
    let body = reply.ok();
    assert_eq!(body["has_more"], false);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    let agent = &items[0];
    for field in [
        "agent_id",
        "agent_name",
        "channel",
        "is_suspended",
        "tags",
        "user_modified_timestamp",
    ] {
        assert!(agent.get(field).is_some(), "{field} missing: {agent}");
    }
    assert_eq!(agent["agent_id"], DEMO_AGENT);
    assert!(
        agent.get("response_engine").is_none(),
        "a summary, not the agent: {agent}"
    );
}

#[actix_web::test]
async fn the_seeded_agent_has_a_published_version_and_a_draft_in_the_tenants_language() {
    let sim = sim();
    let latest = send(&sim, get(&agent_uri("get-agent"))).await;
    let latest = latest.ok();
    assert_eq!(latest["version"], 1);
    assert_eq!(latest["is_published"], false);
    assert_eq!(latest["language"], "de-DE");
    assert_eq!(
        latest["response_engine"],
        json!({"type": "retell-llm", "llm_id": DEMO_LLM, "version": 0})
    );
    assert!(latest.get("webhook_url").is_none(), "{latest}");
    for field in [
        "agent_id",
        "version",
        "last_modification_timestamp",
        "response_engine",
        "voice_id",
    ] {
        assert!(latest.get(field).is_some(), "{field} missing: {latest}");
    }
    let published = send(
        &sim,
        get(&format!(
            "{}?version=latest_published",
            agent_uri("get-agent")
        )),
    )
    .await;
    assert_eq!(published.ok()["version"], 0);
    let thames = send(
        &sim,
        auth(
            test::TestRequest::get().uri(&format!("/get-agent/{THAMES_AGENT}")),
            THAMES_KEY,
        ),
    )
    .await;
    assert_eq!(thames.ok()["language"], "en-GB");
}

#[actix_web::test]
async fn an_update_changes_the_latest_draft_and_reads_back() {
    let sim = sim();
    let change = json!({
        "webhook_url": "https://switchboard.example.com/api/mcp/retell/webhook",
        "webhook_events": ["call_started", "call_ended", "call_analyzed"],
        "webhook_timeout_ms": 10000,
        "ambient_sound": "coffee-shop",
    });
    let updated = send(&sim, patch(&agent_uri("update-agent"), &change)).await;
    assert_eq!(updated.ok()["version"], 1);
    let read = send(&sim, get(&agent_uri("get-agent"))).await;
    let read = read.ok();
    for (field, value) in change.as_object().unwrap() {
        assert_eq!(&read[field], value, "{field}");
    }
    assert_eq!(read["last_modification_timestamp"], now_ms());
    assert_eq!(versions(&sim).await.len(), 2, "a draft is changed in place");
    let removed = send(
        &sim,
        patch(&agent_uri("update-agent"), &json!({"webhook_url": null})),
    )
    .await;
    assert!(removed.ok().get("webhook_url").is_none());
}

#[actix_web::test]
async fn identity_fields_are_not_changed_by_an_update() {
    let sim = sim();
    let reply = send(
        &sim,
        patch(
            &agent_uri("update-agent"),
            &json!({"agent_id": "agent_other", "version": 9, "is_published": true}),
        ),
    )
    .await;
    let agent = reply.ok();
    assert_eq!(agent["agent_id"], DEMO_AGENT);
    assert_eq!(agent["version"], 1);
    assert_eq!(agent["is_published"], false);
}

#[actix_web::test]
async fn publishing_is_in_place_and_the_next_update_makes_a_new_draft() {
    let sim = sim();
    let published = send(
        &sim,
        post(
            &agent_uri("publish-agent-version"),
            &json!({"version": 1, "version_title": "v1"}),
        ),
    )
    .await;
    assert_eq!(published.status, StatusCode::OK);
    let after_publish = versions(&sim).await;
    assert_eq!(
        after_publish.len(),
        2,
        "no version appears on publish: {after_publish:?}"
    );
    assert_eq!(after_publish[1]["is_published"], true);
    assert_eq!(after_publish[1]["version_title"], "v1");
    assert_eq!(
        after_publish[0]["is_published"], true,
        "earlier published versions stay published"
    );

    let updated = send(
        &sim,
        patch(
            &agent_uri("update-agent"),
            &json!({"agent_name": "New name"}),
        ),
    )
    .await;
    let draft = updated.ok();
    assert_eq!(draft["version"], 2);
    assert_eq!(draft["is_published"], false);
    assert_eq!(draft["base_version"], 1);
    assert!(draft.get("version_title").is_none());
    let v1 = send(&sim, get(&format!("{}?version=1", agent_uri("get-agent")))).await;
    assert_eq!(
        v1.ok()["agent_name"],
        "Demo Salon Berlin Reception",
        "a published version never changes"
    );
}

#[actix_web::test]
async fn updating_a_published_version_by_number_is_400() {
    let sim = sim();
    let reply = send(
        &sim,
        patch(
            &format!("{}?version=0", agent_uri("update-agent")),
            &json!({"agent_name": "x"}),
        ),
    )
    .await;
    reply.assert_error(StatusCode::BAD_REQUEST);
    let v0 = send(&sim, get(&format!("{}?version=0", agent_uri("get-agent")))).await;
    assert_eq!(v0.ok()["agent_name"], "Demo Salon Berlin Reception");
}

#[actix_web::test]
async fn publishing_a_missing_version_is_422_and_a_bad_body_400() {
    let sim = sim();
    send(
        &sim,
        post(&agent_uri("publish-agent-version"), &json!({"version": 5})),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY);
    send(
        &sim,
        post(
            &agent_uri("publish-agent-version"),
            &json!({"version": "one"}),
        ),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST);
    send(&sim, post(&agent_uri("publish-agent-version"), &json!({})))
        .await
        .assert_error(StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn bad_agent_fields_are_400() {
    let sim = sim();
    for change in [
        json!({"voice_id": null}),
        json!({"response_engine": {"type": "magic"}}),
        json!({"response_engine": {"type": "retell-llm"}}),
        json!({"webhook_events": ["call_exploded"]}),
        json!({"webhook_url": 7}),
        json!({"webhook_timeout_ms": -1}),
    ] {
        send(&sim, patch(&agent_uri("update-agent"), &change))
            .await
            .assert_error(StatusCode::BAD_REQUEST);
    }
}

#[actix_web::test]
async fn versions_page_to_the_end_without_repeats() {
    let sim = sim();
    for n in 2..7 {
        let draft = send(
            &sim,
            post(
                &agent_uri("create-agent-version"),
                &json!({"base_version": 0}),
            ),
        )
        .await;
        assert_eq!(draft.status, StatusCode::CREATED);
        assert_eq!(draft.body["version"], n);
    }
    let (items, pages) = all_pages(&sim, |cursor| {
        let key = cursor
            .map(|c| format!("&pagination_key={c}"))
            .unwrap_or_default();
        get(&format!(
            "{}?limit=2{key}",
            agent_uri("list-agent-versions")
        ))
    })
    .await;
    let numbers: Vec<i64> = items
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [6, 5, 4, 3, 2, 1, 0], "newest first, each once");
    assert_eq!(pages, 4);
}

#[actix_web::test]
async fn a_bad_limit_or_cursor_is_400() {
    let sim = sim();
    for query in [
        "limit=0",
        "limit=1001",
        "limit=ten",
        "pagination_key=nope",
        "sort_order=sideways",
    ] {
        send(
            &sim,
            get(&format!("{}?{query}", agent_uri("list-agent-versions"))),
        )
        .await
        .assert_error(StatusCode::BAD_REQUEST);
    }
}

#[actix_web::test]
async fn an_agent_keeps_at_most_max_versions() {
    let sim = sim();
    for _ in 2..MAX_VERSIONS {
        let draft = send(
            &sim,
            post(
                &agent_uri("create-agent-version"),
                &json!({"base_version": 1}),
            ),
        )
        .await;
        assert_eq!(draft.status, StatusCode::CREATED, "{}", draft.body);
    }
    let full = send(
        &sim,
        post(
            &agent_uri("create-agent-version"),
            &json!({"base_version": 1}),
        ),
    )
    .await;
    full.assert_error(StatusCode::PAYLOAD_TOO_LARGE);
    send(
        &sim,
        post(
            &agent_uri("publish-agent-version"),
            &json!({"version": MAX_VERSIONS - 1}),
        ),
    )
    .await;
    let refused = send(
        &sim,
        patch(&agent_uri("update-agent"), &json!({"agent_name": "x"})),
    )
    .await;
    refused.assert_error(StatusCode::PAYLOAD_TOO_LARGE);
    let (items, _) = all_pages(&sim, |cursor| {
        let key = cursor
            .map(|c| format!("?pagination_key={c}"))
            .unwrap_or_default();
        get(&format!("{}{key}", agent_uri("list-agent-versions")))
    })
    .await;
    assert_eq!(items.len(), MAX_VERSIONS);
}
