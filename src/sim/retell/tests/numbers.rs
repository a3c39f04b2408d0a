//! Phone numbers: the seeded bindings and spare number, weighted agent lists, paging.

use super::*;
use serde_json::json;

fn number_uri(path: &str, number: &str) -> String {
    format!("/{path}/{}", number.replace('+', "%2B"))
}

#[actix_web::test]
async fn every_branch_number_and_one_spare_are_bound_to_the_agent() {
    let sim = sim();
    let reply = send(
        &sim,
        auth(
            test::TestRequest::get().uri("/v2/list-phone-numbers"),
            THAMES_KEY,
        ),
    )
    .await;
    let items = reply.ok()["items"].as_array().unwrap().clone();
    let numbers: Vec<&str> = items
        .iter()
        .map(|n| n["phone_number"].as_str().unwrap())
        .collect();
    assert_eq!(
        numbers,
        ["+442079460999", "+442079460654", "+442079460321"],
        "newest first"
    );
    for n in &items {
        for field in [
            "phone_number",
            "phone_number_type",
            "last_modification_timestamp",
        ] {
            assert!(n.get(field).is_some(), "{field} missing: {n}");
        }
        assert_eq!(
            n["inbound_agents"],
            json!([{"agent_id": THAMES_AGENT, "weight": 1}])
        );
        assert!(n.get("inbound_webhook_url").is_none(), "{n}");
    }
}

#[actix_web::test]
async fn an_update_binds_agents_and_the_inbound_webhook_and_reads_back() {
    let sim = sim();
    let change = json!({
        "inbound_agents": [
            {"agent_id": DEMO_AGENT, "agent_version": 0, "weight": 0.25},
            {"agent_id": DEMO_AGENT, "agent_version": "latest_published", "weight": 0.75},
        ],
        "inbound_webhook_url": "https://switchboard.example.com/api/mcp/retell/inbound",
    });
    let updated = send(
        &sim,
        patch(&number_uri("update-phone-number", DEMO_NUMBER), &change),
    )
    .await;
    assert_eq!(updated.ok()["inbound_agents"], change["inbound_agents"]);
    let read = send(&sim, get(&number_uri("get-phone-number", DEMO_NUMBER))).await;
    let read = read.ok();
    assert_eq!(read["inbound_agents"], change["inbound_agents"]);
    assert_eq!(read["inbound_webhook_url"], change["inbound_webhook_url"]);
    assert_eq!(read["phone_number"], DEMO_NUMBER);
    let plain = send(&sim, get(&format!("/get-phone-number/{DEMO_NUMBER}"))).await;
    assert_eq!(
        plain.ok()["phone_number"],
        DEMO_NUMBER,
        "a literal + works too"
    );
}

#[actix_web::test]
async fn weights_that_do_not_sum_to_one_are_400_and_change_nothing() {
    let sim = sim();
    let before = send(&sim, get(&number_uri("get-phone-number", DEMO_NUMBER)))
        .await
        .body;
    for agents in [
        json!([{"agent_id": DEMO_AGENT, "weight": 0.5}]),
        json!([{"agent_id": DEMO_AGENT, "weight": 0.7}, {"agent_id": DEMO_AGENT, "weight": 0.7}]),
        json!([{"agent_id": DEMO_AGENT, "weight": 0}]),
        json!([{"agent_id": DEMO_AGENT, "weight": 1.5}]),
        json!([{"agent_id": DEMO_AGENT}]),
        json!([{"weight": 1}]),
        json!({"agent_id": DEMO_AGENT, "weight": 1}),
    ] {
        let reply = send(
            &sim,
            patch(
                &number_uri("update-phone-number", DEMO_NUMBER),
                &json!({"inbound_agents": agents}),
            ),
        )
        .await;
        reply.assert_error(StatusCode::BAD_REQUEST);
    }
    let after = send(&sim, get(&number_uri("get-phone-number", DEMO_NUMBER)))
        .await
        .body;
    assert_eq!(after, before);
}

#[actix_web::test]
async fn binding_an_unknown_agent_or_version_is_422() {
    let sim = sim();
    for agents in [
        json!([{"agent_id": THAMES_AGENT, "weight": 1}]),
        json!([{"agent_id": DEMO_AGENT, "agent_version": 9, "weight": 1}]),
    ] {
        let reply = send(
            &sim,
            patch(
                &number_uri("update-phone-number", DEMO_NUMBER),
                &json!({"inbound_agents": agents}),
            ),
        )
        .await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
    }
}

#[actix_web::test]
async fn numbers_page_to_the_end() {
    let sim = sim();
    let (items, pages) = all_pages(&sim, |cursor| {
        let key = cursor
            .map(|c| format!("&pagination_key={}", c.replace('+', "%2B")))
            .unwrap_or_default();
        auth(
            test::TestRequest::get().uri(&format!("/v2/list-phone-numbers?limit=1{key}")),
            THAMES_KEY,
        )
    })
    .await;
    assert_eq!(items.len(), 3);
    assert_eq!(pages, 3);
}
