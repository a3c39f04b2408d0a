//! Health, readiness, metrics and request ids.

use crate::helpers::spawn_app;
use serde_json::{Value, json};

#[actix_web::test]
async fn health_reports_status_mode_and_services() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(format!("{}/api/mcp/health", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "healthy");
    assert_eq!(body["mode"], "sandbox");
    assert_eq!(body["services"]["database"]["status"], "up");
    assert_eq!(body["services"]["router"]["status"], "up");
    assert_eq!(
        body["services"]["calcom"]["base_url"],
        app.calcom_url.as_str()
    );
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
    let text = crate::common::metrics_text(&app.client, &app.url).await;
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
