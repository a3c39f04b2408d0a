//! Rate limits (issue 10): per company and server on the gateway, per company on live custom
//! functions, per Cal.com credential with a live reserve, and shared through Redis.

use crate::common::{backend_missing, free_port, redis_server_url};
use crate::helpers::{ADMIN_TOKEN, TestApp, call, now_ms, spawn_app_with};
use serde_json::{Value, json};
use switchboard::sandbox::DEMO_PHONE;
use switchboard::store::{AnyStore, NewCompany};
use switchboard_actors::domain::ids::CompanyId;
use switchboard_actors::domain::phone::PhoneNumber;
use switchboard_actors::domain::tenant::Locale;
use switchboard_actors::ports::TenancyStore;

const OVERVIEW: &str = r#"{"jsonrpc":"2.0","id":1,"method":"queue.getOverview","params":{}}"#;

/// Creates a `write` token named `name` for `company` and returns it.
async fn company_token(store: &AnyStore, company: CompanyId, name: &str) -> String {
    let kind = switchboard_actors::records::TokenKind::Write;
    crate::tokens::create_token(store, Some(company), kind, name, None)
        .await
        .0
}

async fn demo_company(store: &AnyStore) -> CompanyId {
    let number = PhoneNumber::parse_default(DEMO_PHONE).unwrap();
    store
        .tenant_by_phone(&number)
        .await
        .unwrap()
        .expect("demo number seeded")
        .company
        .id
}

/// A second company with nothing in it but a name.
async fn other_company(store: &AnyStore) -> CompanyId {
    store
        .upsert_company(&NewCompany {
            name: "Praxis Mond".into(),
            locale: Locale::De,
            time_zone: chrono_tz::Europe::Berlin,
            retell_api_key: "key_other_tenant_0123456789".to_owned().into(),
            calcom_api_key: "cal_other".to_owned().into(),
        })
        .await
        .unwrap()
}

fn error_code(reply: &Value) -> Option<i64> {
    reply["error"]["code"].as_i64()
}

#[actix_web::test]
async fn company_over_server_limit_gets_32003_with_retry_after() {
    let app = spawn_app_with(&[("SWITCHBOARD__RATE_LIMIT__SERVERS__QUEUE", "2")]).await;
    let store = app.store.clone();
    let token = company_token(&store, demo_company(&store).await, "tok-demo-company").await;
    for _ in 0..2 {
        let (status, reply) = app.gateway_raw(OVERVIEW, Some(&token)).await;
        assert_eq!(status, 200, "{reply}");
        assert!(reply["result"]["success"].as_bool().unwrap(), "{reply}");
    }
    let res = app
        .client
        .post(format!("{}/api/mcp/gateway", app.url))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(OVERVIEW)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 429);
    let header: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let reply: Value = res.json().await.unwrap();
    assert_eq!(error_code(&reply), Some(-32003), "{reply}");
    assert_eq!(reply["id"], 1, "{reply}");
    assert_eq!(reply["error"]["data"]["type"], "rate_limited", "{reply}");
    let retry_after = reply["error"]["data"]["retry_after"].as_u64().unwrap();
    // Two per minute: the next cell is about 30 s away.
    assert!((1..=30).contains(&retry_after), "{reply}");
    assert_eq!(header, retry_after);

    // Another server of the same company has its own bucket.
    let (status, reply) = app
        .gateway_raw(
            r#"{"jsonrpc":"2.0","id":2,"method":"calcom.getEventTypes","params":{}}"#,
            Some(&token),
        )
        .await;
    assert_eq!(status, 200);
    assert_ne!(error_code(&reply), Some(-32003), "{reply}");
}

#[actix_web::test]
async fn batch_over_limit_answers_each_element_with_200() {
    let app = spawn_app_with(&[("SWITCHBOARD__RATE_LIMIT__SERVERS__QUEUE", "2")]).await;
    let store = app.store.clone();
    let token = company_token(&store, demo_company(&store).await, "tok-demo-batch").await;
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "queue.getOverview", "params": {}},
        {"jsonrpc": "2.0", "id": 2, "method": "queue.getOverview", "params": {}},
        {"jsonrpc": "2.0", "id": 3, "method": "queue.getOverview", "params": {}},
    ])
    .to_string();
    let (status, reply) = app.gateway_raw(&batch, Some(&token)).await;
    assert_eq!(status, 200, "{reply}");
    let replies = reply.as_array().unwrap();
    assert_eq!(replies.len(), 3);
    let limited: Vec<&Value> = replies
        .iter()
        .filter(|r| error_code(r) == Some(-32003))
        .collect();
    assert_eq!(limited.len(), 1, "{reply}");
    assert!(limited[0]["error"]["data"]["retry_after"].as_u64().unwrap() >= 1);
}

#[actix_web::test]
async fn admin_token_is_not_limited_per_server() {
    let app = spawn_app_with(&[("SWITCHBOARD__RATE_LIMIT__SERVERS__QUEUE", "1")]).await;
    for _ in 0..3 {
        let (status, reply) = app.gateway_raw(OVERVIEW, Some(ADMIN_TOKEN)).await;
        assert_eq!(status, 200, "{reply}");
        assert!(reply["result"]["success"].as_bool().unwrap(), "{reply}");
    }
}

#[actix_web::test]
async fn other_company_unaffected_by_noisy_neighbour() {
    let app = spawn_app_with(&[("SWITCHBOARD__RATE_LIMIT__SERVERS__QUEUE", "2")]).await;
    let store = app.store.clone();
    let noisy = company_token(&store, demo_company(&store).await, "tok-noisy").await;
    let quiet = company_token(&store, other_company(&store).await, "tok-quiet").await;
    for _ in 0..5 {
        app.gateway_raw(OVERVIEW, Some(&noisy)).await;
    }
    let (status, _) = app.gateway_raw(OVERVIEW, Some(&noisy)).await;
    assert_eq!(status, 429);
    for _ in 0..2 {
        let (status, reply) = app.gateway_raw(OVERVIEW, Some(&quiet)).await;
        assert_eq!(status, 200, "{reply}");
        assert!(reply["result"]["success"].as_bool().unwrap(), "{reply}");
    }
}

/// A signed custom-function call of the demo number; returns (status, reply).
async fn collect(app: &TestApp, call_id: &str, name: &str) -> (u16, Value) {
    app.function(
        "collect_appointment_data",
        call_id,
        json!({"name": name, "email": "jonas@example.de"}),
    )
    .await
}

#[actix_web::test]
async fn custom_function_over_limit_answers_200_spoken() {
    let app = spawn_app_with(&[("SWITCHBOARD__RATE_LIMIT__CUSTOM_FUNCTION_PER_MINUTE", "2")]).await;
    for name in ["Jonas Becker", "Jonas Becker"] {
        let (status, reply) = collect(&app, "call_busy", name).await;
        assert_eq!(status, 200, "{reply}");
        assert!(reply.get("rate_limited").is_none(), "{reply}");
    }
    let (status, reply) = collect(&app, "call_busy", "Mallory Meier").await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["rate_limited"], true, "{reply}");
    assert!(reply["retry_after"].as_u64().unwrap() >= 1, "{reply}");
    // The demo company speaks German.
    assert!(
        reply["message"]
            .as_str()
            .unwrap()
            .starts_with("Einen kleinen Moment bitte"),
        "{reply}"
    );
    // The refused call ran nothing: the collected name is still the admitted one.
    let view = app.get_call("call_busy").await;
    assert_eq!(view["collected"]["name"], "Jonas Becker", "{view}");
    // And it is counted, with labels from the fixed set.
    let metrics = app
        .client
        .get(format!("{}/api/metrics", app.url))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"rate_limited_total{server="retell.function",reason="live_call"}"#),
        "{metrics}"
    );
}

#[actix_web::test]
async fn live_calls_keep_calcom_budget_when_gateway_saturates() {
    // 5 Cal.com requests per minute, 40 % reserved for live calls: the gateway gets 3.
    let app = spawn_app_with(&[
        (
            "SWITCHBOARD__RATE_LIMIT__CALCOM_PER_CREDENTIAL_PER_MINUTE",
            "5",
        ),
        ("SWITCHBOARD__RATE_LIMIT__CALCOM_LIVE_RESERVE_PERCENT", "40"),
    ])
    .await;
    let store = app.store.clone();
    let company = demo_company(&store).await;
    let bookings = json!({"company_id": company.0});
    let mut refused = None;
    for _ in 0..6 {
        let reply = app.rpc("calcom.getBookings", bookings.clone()).await;
        if error_code(&reply) == Some(-32003) {
            refused = Some(reply);
            break;
        }
        assert!(reply["result"]["success"].as_bool().unwrap(), "{reply}");
    }
    let refused = refused.expect("gateway traffic stops at its share of the Cal.com budget");
    assert!(
        refused["error"]["data"]["retry_after"].as_u64().unwrap() >= 1,
        "{refused}"
    );

    let (status, reply) = app
        .function(
            "check_availability",
            "call_live",
            json!({"dienstleistung": "Färben", "datum": "kommenden Dienstag", "uhrzeit": "10:30"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(reply["available"], true, "{reply}");
}

#[actix_web::test]
async fn gateway_function_execution_cannot_take_the_live_reserve() {
    // 5 Cal.com requests per minute, 40 % reserved for live calls: the gateway gets 3, even
    // when it runs the very functions live calls run (`retell.function.execute`).
    let app = spawn_app_with(&[
        (
            "SWITCHBOARD__RATE_LIMIT__CALCOM_PER_CREDENTIAL_PER_MINUTE",
            "5",
        ),
        ("SWITCHBOARD__RATE_LIMIT__CALCOM_LIVE_RESERVE_PERCENT", "40"),
    ])
    .await;
    let args =
        json!({"dienstleistung": "Färben", "datum": "kommenden Dienstag", "uhrzeit": "10:30"});
    for i in 0..6 {
        let reply = app
            .rpc(
                "retell.function.execute",
                json!({"name": "check_availability", "call": call(&format!("call_ops_{i}")), "args": args}),
            )
            .await;
        assert!(reply.get("result").is_some(), "{reply}");
    }
    let (status, reply) = app.function("check_availability", "call_live", args).await;
    assert_eq!(status, 200);
    assert_eq!(
        reply["available"], true,
        "the live reserve is intact: {reply}"
    );
}

#[actix_web::test]
async fn redis_limit_holds_across_two_instances() {
    let Some(redis) = redis_server_url() else {
        backend_missing(
            "redis_limit_holds_across_two_instances",
            "neither SWITCHBOARD_TEST_REDIS_SERVER_URL nor SWITCHBOARD_TEST_REDIS_URL is set",
        );
        return;
    };
    let prefix = format!("test-{}:", uuid::Uuid::new_v4().simple());
    let shared = [
        ("SWITCHBOARD__RATE_LIMIT__CUSTOM_FUNCTION_PER_MINUTE", "2"),
        ("SWITCHBOARD__REDIS__URL", redis.as_str()),
        ("SWITCHBOARD__REDIS__KEY_PREFIX", prefix.as_str()),
    ];
    let first = spawn_app_with(&shared).await;
    let mut with_db = shared.to_vec();
    with_db.push(("SWITCHBOARD__DATABASE__URL", first.db_url.as_str()));
    let second = spawn_app_with(&with_db).await;

    let (status, reply) = collect(&first, "call_shared_a", "Jonas Becker").await;
    assert_eq!(status, 200);
    assert!(reply.get("rate_limited").is_none(), "{reply}");
    let (status, reply) = collect(&second, "call_shared_b", "Jonas Becker").await;
    assert_eq!(status, 200);
    assert!(reply.get("rate_limited").is_none(), "{reply}");
    for app in [&first, &second] {
        let (status, reply) = collect(app, "call_shared_c", "Jonas Becker").await;
        assert_eq!(status, 200);
        assert_eq!(reply["rate_limited"], true, "{reply}");
    }
}

#[actix_web::test]
async fn redis_outage_falls_back_to_in_process_limits() {
    let down = format!("redis://127.0.0.1:{}", free_port());
    let app = spawn_app_with(&[
        ("SWITCHBOARD__RATE_LIMIT__CUSTOM_FUNCTION_PER_MINUTE", "2"),
        ("SWITCHBOARD__REDIS__URL", down.as_str()),
    ])
    .await;
    // Live calls go on while Redis is down …
    for _ in 0..2 {
        let (status, reply) = collect(&app, "call_no_redis", "Jonas Becker").await;
        assert_eq!(status, 200);
        assert!(reply.get("rate_limited").is_none(), "{reply}");
    }
    // … and this instance still holds the limit on its own.
    let (status, reply) = collect(&app, "call_no_redis", "Jonas Becker").await;
    assert_eq!(status, 200);
    assert_eq!(reply["rate_limited"], true, "{reply}");
}

#[actix_web::test]
async fn unsigned_custom_function_is_refused_before_it_counts() {
    let app = spawn_app_with(&[("SWITCHBOARD__RATE_LIMIT__CUSTOM_FUNCTION_PER_MINUTE", "1")]).await;
    // Requests that fail the signature never reach the limiter, so an anonymous client cannot
    // spend a company's budget.
    let body = json!({"name": "collect_appointment_data", "call": call("call_anon"), "args": {}});
    for _ in 0..3 {
        let res = app
            .post_signed(
                "/api/mcp/retell/custom-function",
                &body,
                Some("key_wrong_0123456789"),
                now_ms(),
            )
            .await;
        assert_eq!(res.status().as_u16(), 401);
    }
    let (status, reply) = collect(&app, "call_anon", "Jonas Becker").await;
    assert_eq!(status, 200);
    assert!(reply.get("rate_limited").is_none(), "{reply}");
}
