//! MCP resources and prompts against the real app, over the stateless 2026-07-28 wire (one
//! POST per request, `_meta` in the params, `Mcp-*` headers): a company token lists and reads
//! its own company's three resources and nothing of another's (the sandbox seeds two tenants:
//! `demo-salon-berlin`, id 1, and `thames-physio`, id 2); an admin token reads any; today's
//! calls and dead letters show what the store holds; prompts render for the caller's company
//! and refuse bad arguments with -32602.

use crate::helpers::{ADMIN_TOKEN, TestApp, call, ended, spawn_app};
use crate::tokens::plant_token;
use serde_json::{Value, json};
use switchboard::sandbox::DEMO_PHONE;
use switchboard_actors::domain::ids::CompanyId;

const DEMO_TOKEN: &str = "mcp-resources-demo-token";
const DEMO: &str = "demo-salon-berlin";
const THAMES: &str = "thames-physio";
const VERSION: &str = "2026-07-28";

/// One MCP request with `token`: `method` with `params` (plus the 2026-07-28 `_meta`),
/// `name` mirrored in `Mcp-Name`; the HTTP status and the JSON-RPC response.
async fn mcp(
    app: &TestApp,
    token: &str,
    method: &str,
    name: Option<&str>,
    mut params: Value,
) -> (u16, Value) {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": VERSION,
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let mut req = app
        .client
        .post(format!("{}/mcp", app.url))
        .bearer_auth(token)
        .header("MCP-Protocol-Version", VERSION)
        .header("Mcp-Method", method)
        .header("Accept", "application/json, text/event-stream")
        .json(&body);
    if let Some(name) = name {
        req = req.header("Mcp-Name", name);
    }
    let res = req.send().await.expect("app reachable");
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(json!({"raw": text})),
    )
}

/// `result` of a request that must succeed.
async fn ok(app: &TestApp, token: &str, method: &str, name: Option<&str>, params: Value) -> Value {
    let (status, res) = mcp(app, token, method, name, params).await;
    assert_eq!(status, 200, "{method}: {res}");
    assert!(res.get("error").is_none(), "{method}: {res}");
    res["result"].clone()
}

fn uri(slug: &str, path: &str) -> String {
    format!("switchboard://companies/{slug}/{path}")
}

/// `resources/read` of `uri`; the HTTP status and the response.
async fn read(app: &TestApp, token: &str, uri: &str) -> (u16, Value) {
    mcp(app, token, "resources/read", Some(uri), json!({"uri": uri})).await
}

/// The JSON a resource holds (it must be readable).
async fn read_json(app: &TestApp, token: &str, uri: &str) -> Value {
    let result = ok(app, token, "resources/read", Some(uri), json!({"uri": uri})).await;
    let contents = &result["contents"][0];
    assert_eq!(contents["uri"], uri, "{result}");
    assert_eq!(contents["mimeType"], "application/json", "{result}");
    serde_json::from_str(contents["text"].as_str().unwrap()).unwrap()
}

/// A "resource not found": -32602 on the 2026-07-28 wire, which retired -32002 (rmcp
/// answers the older eras' -32002 in their sessions).
fn assert_not_found(res: &Value) {
    assert_eq!(res["error"]["code"], -32602, "{res}");
    assert!(
        res["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Resource not found")),
        "{res}"
    );
}

/// The app with a write token of the demo company.
async fn app() -> TestApp {
    let app = spawn_app().await;
    plant_token(&app.db_url, CompanyId(1), DEMO_TOKEN).await;
    app
}

fn listed_uris(result: &Value) -> Vec<String> {
    result["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["uri"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn a_company_token_lists_exactly_its_three_resources() {
    let app = app().await;
    let result = ok(&app, DEMO_TOKEN, "resources/list", None, json!({})).await;
    assert_eq!(
        listed_uris(&result),
        [
            uri(DEMO, "configuration"),
            uri(DEMO, "calls/today"),
            uri(DEMO, "dead-letters"),
        ]
    );
    for resource in result["resources"].as_array().unwrap() {
        assert_eq!(resource["mimeType"], "application/json");
        assert!(resource["description"].as_str().unwrap().len() > 80);
    }
}

#[actix_web::test]
async fn an_admin_token_lists_the_resources_of_every_company() {
    let app = app().await;
    let uris = listed_uris(&ok(&app, ADMIN_TOKEN, "resources/list", None, json!({})).await);
    assert_eq!(uris.len(), 6, "{uris:?}");
    assert!(uris.contains(&uri(THAMES, "dead-letters")), "{uris:?}");
}

#[actix_web::test]
async fn templates_are_the_three_fixed_uri_templates() {
    let app = app().await;
    let result = ok(
        &app,
        DEMO_TOKEN,
        "resources/templates/list",
        None,
        json!({}),
    )
    .await;
    let templates: Vec<&str> = result["resourceTemplates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["uriTemplate"].as_str().unwrap())
        .collect();
    assert_eq!(
        templates,
        [
            "switchboard://companies/{slug}/configuration",
            "switchboard://companies/{slug}/calls/today",
            "switchboard://companies/{slug}/dead-letters",
        ]
    );
}

#[actix_web::test]
async fn configuration_shows_branches_services_and_whether_credentials_are_set_never_them() {
    let app = app().await;
    let (status, raw) = read(&app, DEMO_TOKEN, &uri(DEMO, "configuration")).await;
    assert_eq!(status, 200, "{raw}");
    let text = raw.to_string();
    for secret in [
        crate::common::RETELL_KEY,
        crate::common::CALCOM_KEY,
        "sha256:",
    ] {
        assert!(!text.contains(secret), "{secret} shown: {text}");
    }
    let config = read_json(&app, DEMO_TOKEN, &uri(DEMO, "configuration")).await;
    assert_eq!(config["company_id"], 1);
    assert_eq!(config["slug"], DEMO);
    assert_eq!(config["time_zone"], "Europe/Berlin");
    assert_eq!(config["enabled"], true);
    assert_eq!(config["retell"]["api_key_set"], true, "{config}");
    assert_eq!(config["calcom"]["api_key_set"], true, "{config}");
    let numbers = config["branches"][0]["phone_numbers"].to_string();
    assert!(numbers.contains(DEMO_PHONE), "{config}");
    let services = config["services"].as_array().unwrap();
    assert!(
        services
            .iter()
            .any(|s| s["name"] == "Herrenhaarschnitt" && s["event_type_id"].is_i64()),
        "{config}"
    );
}

#[actix_web::test]
async fn another_companys_resource_is_not_found_exactly_like_an_unknown_one() {
    let app = app().await;
    for path in ["configuration", "calls/today", "dead-letters"] {
        let (theirs_status, theirs) = read(&app, DEMO_TOKEN, &uri(THAMES, path)).await;
        let (unknown_status, unknown) = read(&app, DEMO_TOKEN, &uri("nobody-here", path)).await;
        assert_not_found(&theirs);
        assert_eq!(theirs_status, unknown_status);
        let swapped = theirs.to_string().replace(THAMES, "nobody-here");
        assert_eq!(swapped, unknown.to_string());
        for leak in ["Thames Physio", "Europe/London", "\"company_id\":2"] {
            assert!(!theirs.to_string().contains(leak), "{leak}: {theirs}");
        }
    }
}

#[actix_web::test]
async fn an_admin_token_reads_any_company() {
    let app = app().await;
    let config = read_json(&app, ADMIN_TOKEN, &uri(THAMES, "configuration")).await;
    assert_eq!(config["company_id"], 2);
    assert_eq!(config["time_zone"], "Europe/London");
    let dead = read_json(&app, ADMIN_TOKEN, &uri(DEMO, "dead-letters")).await;
    assert_eq!(dead["company_id"], 1);
    assert_eq!(dead["jobs"], json!([]));
}

#[actix_web::test]
async fn calls_today_shows_a_call_of_today_with_its_booking() {
    let app = app().await;
    let empty = read_json(&app, DEMO_TOKEN, &uri(DEMO, "calls/today")).await;
    assert_eq!(empty["total"], 0, "{empty}");
    app.collect_complete("call_mcp_today", "10 Uhr", true).await;
    assert_eq!(
        app.webhook("call_started", call("call_mcp_today")).await,
        204
    );
    assert_eq!(
        app.webhook("call_ended", ended("call_mcp_today")).await,
        204
    );
    app.wait_for_booking("call_mcp_today").await;

    let today = read_json(&app, DEMO_TOKEN, &uri(DEMO, "calls/today")).await;
    assert_eq!(today["total"], 1, "{today}");
    assert_eq!(today["time_zone"], "Europe/Berlin");
    assert_eq!(today["by_booking"]["booked"], 1, "{today}");
    let listed = &today["calls"][0];
    assert_eq!(listed["call_id"], "call_mcp_today");
    assert_eq!(listed["from_number"], "+4915112345678");
    assert_eq!(listed["booking"], "booked");
    assert_eq!(listed["appointment"]["service"], "Herrenhaarschnitt");
    assert!(
        listed["started_local"]
            .as_str()
            .is_some_and(|t| t.ends_with("+01:00") || t.ends_with("+02:00")),
        "{listed}"
    );
    // Thames Physio had no call today: the admin sees the same emptiness there.
    let theirs = read_json(&app, ADMIN_TOKEN, &uri(THAMES, "calls/today")).await;
    assert_eq!(theirs["total"], 0, "{theirs}");
}

#[actix_web::test]
async fn a_dead_letter_shows_with_its_reason_and_attempts() {
    let app = app().await;
    let job = crate::queue::dead_letter(&app, "call_mcp_dead", 16).await;

    let dead = read_json(&app, DEMO_TOKEN, &uri(DEMO, "dead-letters")).await;
    assert_eq!(dead["total"], 1, "{dead}");
    let listed = &dead["jobs"][0];
    assert_eq!(listed["id"], job["id"]);
    assert_eq!(listed["call_id"], "call_mcp_dead");
    assert_eq!(listed["attempts"], job["attempts"]);
    assert!(
        listed["last_error"].as_str().is_some_and(|e| !e.is_empty()),
        "{listed}"
    );
    let today = read_json(&app, DEMO_TOKEN, &uri(DEMO, "calls/today")).await;
    assert_eq!(today["by_booking"]["failed"], 1, "{today}");
    // Another company's dead letters stay empty.
    let theirs = read_json(&app, ADMIN_TOKEN, &uri(THAMES, "dead-letters")).await;
    assert_eq!(theirs["total"], 0, "{theirs}");
}

#[actix_web::test]
async fn malformed_overlong_or_unknown_uris_are_not_found_and_the_server_stays_up() {
    let app = app().await;
    let long = format!("{}/configuration", uri(&"a".repeat(4_000), "x"));
    for bad in [
        uri(DEMO, "secrets"),
        uri(DEMO, "configuration/"),
        uri(DEMO, "configuration?full=1"),
        uri("demo%2Dsalon%2Dberlin", "configuration"),
        format!("switchboard://companies/{DEMO}/../{THAMES}/configuration"),
        uri("DEMO-SALON-BERLIN", "configuration"),
        "file:///etc/passwd".to_owned(),
        "switchboard://companies/".to_owned(),
        long,
    ] {
        let (_, res) = read(&app, DEMO_TOKEN, &bad).await;
        assert_not_found(&res);
        assert!(res["error"]["message"].as_str().unwrap().len() < 400);
    }
    read_json(&app, DEMO_TOKEN, &uri(DEMO, "configuration")).await;
}

#[actix_web::test]
async fn prompts_list_both_prompts_with_their_optional_arguments() {
    let app = app().await;
    let result = ok(&app, DEMO_TOKEN, "prompts/list", None, json!({})).await;
    let prompts = result["prompts"].as_array().unwrap();
    let names: Vec<&str> = prompts
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["daily_booking_report", "triage_failed_bookings"]);
    let args: Vec<&str> = prompts[0]["arguments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(args, ["company", "date"]);
}

/// The text of the first message of a prompt.
async fn prompt_text(app: &TestApp, token: &str, name: &str, args: Value) -> String {
    let result = ok(
        app,
        token,
        "prompts/get",
        Some(name),
        json!({"name": name, "arguments": args}),
    )
    .await;
    assert_eq!(result["messages"][0]["role"], "user", "{result}");
    result["messages"][0]["content"]["text"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[actix_web::test]
async fn a_company_tokens_prompt_is_about_its_company_and_today_by_default() {
    let app = app().await;
    let text = prompt_text(&app, DEMO_TOKEN, "daily_booking_report", json!({})).await;
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Berlin)
        .date_naive()
        .to_string();
    assert!(text.contains("company_id 1"), "{text}");
    assert!(text.contains(&today), "{text}");
    assert!(text.contains("Europe/Berlin") && text.contains("webhook_listCalls"));
    let triage = prompt_text(&app, DEMO_TOKEN, "triage_failed_bookings", json!({})).await;
    assert!(triage.contains("queue_retryJob") && triage.contains(&uri(DEMO, "dead-letters")));
}

#[actix_web::test]
async fn a_prompt_for_a_named_company_and_date_spans_that_local_day() {
    let app = app().await;
    let text = prompt_text(
        &app,
        ADMIN_TOKEN,
        "daily_booking_report",
        json!({"company": THAMES, "date": "2026-07-01"}),
    )
    .await;
    assert!(text.contains("company_id 2"), "{text}");
    // London is UTC+1 in July.
    assert!(
        text.contains("from 2026-06-30T23:00:00Z to 2026-07-01T23:00:00Z"),
        "{text}"
    );
}

#[actix_web::test]
async fn bad_prompt_requests_are_invalid_params() {
    let app = app().await;
    for (token, name, args) in [
        (DEMO_TOKEN, "no_such_prompt", json!({})),
        (
            DEMO_TOKEN,
            "daily_booking_report",
            json!({"date": "01.07.2026"}),
        ),
        (
            DEMO_TOKEN,
            "daily_booking_report",
            json!({"date": "2026-02-30"}),
        ),
        (
            DEMO_TOKEN,
            "daily_booking_report",
            json!({"company": "Not A Slug"}),
        ),
        (
            DEMO_TOKEN,
            "daily_booking_report",
            json!({"company": THAMES}),
        ),
        (
            DEMO_TOKEN,
            "daily_booking_report",
            json!({"company": "nobody-here"}),
        ),
        (
            DEMO_TOKEN,
            "triage_failed_bookings",
            json!({"date": "2026-07-01"}),
        ),
        (ADMIN_TOKEN, "triage_failed_bookings", json!({})),
    ] {
        let (_, res) = mcp(
            &app,
            token,
            "prompts/get",
            Some(name),
            json!({"name": name, "arguments": args}),
        )
        .await;
        assert_eq!(res["error"]["code"], -32602, "{name} {args}: {res}");
        let text = res.to_string();
        assert!(
            !text.contains("Thames Physio") && !text.contains("Europe/London"),
            "{text}"
        );
    }
    // Another company's slug and an unknown one are refused alike.
    assert_eq!(
        refusal(&app, THAMES).await,
        refusal(&app, "nobody-here").await
    );
}

/// The message refusing a daily report of `slug` to the demo token, with the slug masked.
async fn refusal(app: &TestApp, slug: &str) -> String {
    let (_, res) = mcp(
        app,
        DEMO_TOKEN,
        "prompts/get",
        Some("daily_booking_report"),
        json!({"name": "daily_booking_report", "arguments": {"company": slug}}),
    )
    .await;
    res["error"]["message"]
        .as_str()
        .unwrap()
        .replace(slug, "SLUG")
}

#[actix_web::test]
async fn list_calls_refuses_a_range_that_ends_before_it_starts() {
    let app = app().await;
    let res = app
        .rpc(
            "webhook.listCalls",
            json!({"company_id": 1, "since": "2026-07-02T00:00:00Z",
                   "until": "2026-07-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(res["error"]["code"], -32602, "{res}");
    let res = app
        .rpc(
            "webhook.listCalls",
            json!({"company_id": 1, "since": "2026-07-01T00:00:00Z",
                   "until": "2026-07-02T00:00:00Z", "limit": 201}),
        )
        .await;
    assert_eq!(res["error"]["code"], -32602, "{res}");
}
