//! Health, readiness, metrics and request ids.

use crate::helpers::{ADMIN_TOKEN, TestApp, spawn_app};
use crate::tokens::create_token;
use serde_json::{Value, json};
use switchboard_actors::domain::ids::CompanyId;
use switchboard_actors::records::TokenKind;

const OPERATOR_PATHS: [&str; 2] = ["/api/metrics", "/api/mcp/health"];

/// GETs `path` with `token` as a bearer token (none when `None`).
async fn get(app: &TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut req = app.client.get(format!("{}{path}", app.url));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.unwrap()
}

#[actix_web::test]
async fn health_reports_status_mode_and_services() {
    let app = spawn_app().await;
    let res = get(&app, "/api/mcp/health", Some(ADMIN_TOKEN)).await;
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "healthy");
    assert_eq!(body["mode"], "sandbox");
    assert_eq!(body["services"]["database"]["status"], "up");
    assert_eq!(body["services"]["router"]["status"], "up");
    assert_eq!(
        body["services"]["calcom"]["base_url"]
            .as_str()
            .unwrap()
            .trim_end_matches('/'),
        app.calcom_url.trim_end_matches('/')
    );
}

/// Even for an operator, the detailed health shows a base URL without its credentials.
#[actix_web::test]
async fn health_shows_no_credentials_of_the_calcom_base_url() {
    let with_secret = "http://user:pw-never-shown@127.0.0.1:9";
    let app =
        crate::helpers::spawn_app_with(&[("SWITCHBOARD__SANDBOX__CALCOM_URL", with_secret)]).await;
    let text = get(&app, "/api/mcp/health", Some(ADMIN_TOKEN))
        .await
        .text()
        .await
        .unwrap();
    assert!(!text.contains("never-shown"), "{text}");
}

#[actix_web::test]
async fn livez_and_readyz_answer_200() {
    let app = spawn_app().await;
    for path in ["/livez", "/readyz"] {
        let res = app
            .client
            .get(format!("{}{path}", app.url))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200, "{path}");
    }
}

#[actix_web::test]
async fn metrics_count_requests_by_route_and_method() {
    let app = spawn_app().await;
    app.rpc("calcom.getEventTypes", json!({"company_id": 1}))
        .await;
    let text = crate::common::metrics_text(&app.client, &app.url, ADMIN_TOKEN).await;
    assert!(
        text.contains("http_requests_total{route=\"/api/mcp/gateway\",status=\"200\"}"),
        "{text}"
    );
    assert!(
        text.contains(
            "mcp_request_total{server=\"calcom\",method=\"calcom.getEventTypes\",status=\"ok\"}"
        ),
        "{text}"
    );
    assert!(
        text.contains("mcp_request_duration_seconds_bucket"),
        "{text}"
    );
}

#[actix_web::test]
async fn request_id_is_echoed_or_generated() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(format!("{}/livez", app.url))
        .header("X-Request-Id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "abc-123");
    let res = app
        .client
        .get(format!("{}/livez", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"].to_str().unwrap().len(), 36);
}

/// Issue 10, finding 7: `/api/metrics` and the detailed health were open and showed upstream
/// URLs and company ids. Without a token, with a wrong one, and with a company's gateway token
/// they answer 401 with `WWW-Authenticate: Bearer` and show nothing.
#[actix_web::test]
async fn metrics_and_health_refuse_callers_without_an_operator_token() {
    let app = spawn_app().await;
    let (company_token, _) = create_token(
        &app.store,
        Some(CompanyId(1)),
        TokenKind::Admin,
        "tenant",
        None,
    )
    .await;
    for path in OPERATOR_PATHS {
        for token in [None, Some("not-a-token"), Some(company_token.as_str())] {
            let res = get(&app, path, token).await;
            assert_eq!(res.status().as_u16(), 401, "{path} {token:?}");
            assert_eq!(
                res.headers()["www-authenticate"],
                r#"Bearer realm="switchboard""#,
                "{path}"
            );
            let text = res.text().await.unwrap();
            assert!(
                !text.contains("company") && !text.contains("http"),
                "{text}"
            );
        }
    }
}

/// A `metrics`-scope token (what Prometheus is given) reads the metrics and the detailed
/// health, and nothing else: the gateway refuses it.
#[actix_web::test]
async fn metrics_scope_token_reads_metrics_and_health_but_not_the_gateway() {
    let app = spawn_app().await;
    let (token, _) = create_token(&app.store, None, TokenKind::Metrics, "prometheus", None).await;
    for path in OPERATOR_PATHS {
        assert_eq!(
            get(&app, path, Some(&token)).await.status().as_u16(),
            200,
            "{path}"
        );
    }
    let rpc =
        r#"{"jsonrpc":"2.0","id":1,"method":"calcom.getEventTypes","params":{"company_id":1}}"#;
    let (status, reply) = app.gateway_raw(rpc, Some(&token)).await;
    assert_eq!(status, 401, "{reply}");
    assert_eq!(reply["error"]["code"], -32001, "{reply}");
}

/// `/livez` and `/readyz` stay open and minimal: no URL, company id or error text.
#[actix_web::test]
async fn open_probes_show_no_urls_ids_or_error_text() {
    let app = spawn_app().await;
    let ready: Value = get(&app, "/readyz", None).await.json().await.unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");
    let keys: Vec<&str> = ready["cache"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["backend", "up"], "{ready}");
    let live: Value = get(&app, "/livez", None).await.json().await.unwrap();
    assert_eq!(live, json!({"status": "ok"}));
}
