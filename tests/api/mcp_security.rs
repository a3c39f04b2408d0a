//! `/mcp` under attack (issue 14, Deliver 1 and 4): who may reach it (Host, Origin, bearer
//! token), what a token sees and may call, what a session is worth without its token, what
//! malformed or oversized input gets, and how sessions are bounded and shared across
//! instances. Plain HTTP, both eras: the stateless 2026-07-28 wire (`MCP-Protocol-Version`,
//! `Mcp-Method`, `Mcp-Name`, `params._meta`) and the 2025-11-25 handshake where sessions
//! matter (reference/mcp.md §3).

use crate::common::{backend_missing, redis_server_url};
use crate::helpers::{ADMIN_TOKEN, TestApp, spawn_app, spawn_app_with};
use crate::isolation::{B_TOKEN, tenants};
use crate::tokens::create_token;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use switchboard_actors::domain::ids::CompanyId;
use switchboard_actors::records::TokenKind;

const MODERN: &str = "2026-07-28";
const LEGACY: &str = "2025-11-25";
const ACCEPT: &str = "application/json, text/event-stream";
const DEMO: CompanyId = CompanyId(1);

/// One HTTP answer of `/mcp`.
struct Reply {
    status: u16,
    headers: HeaderMap,
    text: String,
}

impl Reply {
    /// The JSON-RPC message of the body: a JSON object, or the last `data:` line of an SSE
    /// stream that holds one; `Null` for anything else.
    fn message(&self) -> Value {
        if let Ok(value) = serde_json::from_str(&self.text) {
            return value;
        }
        self.text
            .lines()
            .rev()
            .filter_map(|line| line.strip_prefix("data:"))
            .filter_map(|data| serde_json::from_str::<Value>(data.trim()).ok())
            .find(|v| v.get("jsonrpc").is_some())
            .unwrap_or(Value::Null)
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    fn tool_names(&self) -> Vec<String> {
        self.message()["result"]["tools"]
            .as_array()
            .unwrap_or_else(|| panic!("a tool list: {} {}", self.status, self.text))
            .iter()
            .map(|t| t["name"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

/// A small MCP client over plain HTTP.
struct Client<'a> {
    app: &'a TestApp,
}

impl<'a> Client<'a> {
    fn new(app: &'a TestApp) -> Self {
        Self { app }
    }

    fn url(&self) -> String {
        format!("{}/mcp", self.app.url)
    }

    /// A POST to `/mcp` with the headers every request carries, and `token` as bearer.
    fn post(&self, token: Option<&str>) -> reqwest::RequestBuilder {
        self.post_as(token, "application/json")
    }

    /// [`Client::post`] with the body declared as `content_type`.
    fn post_as(&self, token: Option<&str>, content_type: &str) -> reqwest::RequestBuilder {
        let request = self
            .app
            .client
            .post(self.url())
            .header("content-type", content_type)
            .header("accept", ACCEPT);
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    async fn send(request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("/mcp answers");
        Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            text: response.text().await.unwrap_or_default(),
        }
    }

    /// A stateless 2026-07-28 request of `method` (with the `_meta` and the `Mcp-*` headers
    /// it needs), further shaped by `with`.
    fn modern_request(
        &self,
        token: Option<&str>,
        method: &str,
        mut params: Value,
    ) -> reqwest::RequestBuilder {
        params["_meta"] = json!({
            "io.modelcontextprotocol/protocolVersion": MODERN,
            "io.modelcontextprotocol/clientCapabilities": {},
        });
        let name = params
            .get("name")
            .or_else(|| params.get("uri"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let mut request = self
            .post(token)
            .header("mcp-protocol-version", MODERN)
            .header("mcp-method", method)
            .body(body.to_string());
        if let Some(name) = name {
            request = request.header("mcp-name", name);
        }
        request
    }

    async fn modern(&self, token: Option<&str>, method: &str, params: Value) -> Reply {
        Self::send(self.modern_request(token, method, params)).await
    }

    /// A stateless `tools/list` with one more header, e.g. `Origin` or `Host`.
    async fn list_with(&self, token: Option<&str>, header: &str, value: &str) -> Reply {
        let request = self.modern_request(token, "tools/list", json!({}));
        Self::send(request.header(header, value)).await
    }

    async fn call_tool(&self, token: &str, name: &str, arguments: Value) -> Reply {
        self.modern(
            Some(token),
            "tools/call",
            json!({"name": name, "arguments": arguments}),
        )
        .await
    }

    /// The 2025-11-25 handshake with `token`: `initialize`, then `notifications/initialized`;
    /// the `initialize` reply.
    async fn initialize(&self, token: &str) -> Reply {
        let body = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": LEGACY,
            "capabilities": {},
            "clientInfo": {"name": "mcp-security-test", "version": "1"},
        }});
        let reply = Self::send(self.post(Some(token)).body(body.to_string())).await;
        let session = reply.header("mcp-session-id").to_owned();
        if reply.status == 200 && !session.is_empty() {
            let done = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
            let ack = Self::send(self.legacy_post(Some(token), &session, done)).await;
            assert_eq!(ack.status, 202, "initialized: {}", ack.text);
        }
        reply
    }

    /// A session's id after a successful handshake with `token`.
    async fn open_session(&self, token: &str) -> String {
        let reply = self.initialize(token).await;
        assert_eq!(reply.status, 200, "initialize: {}", reply.text);
        let session = reply.header("mcp-session-id").to_owned();
        assert!(!session.is_empty(), "a session id: {:?}", reply.headers);
        session
    }

    fn legacy_post(
        &self,
        token: Option<&str>,
        session: &str,
        body: Value,
    ) -> reqwest::RequestBuilder {
        self.post(token)
            .header("mcp-protocol-version", LEGACY)
            .header("mcp-session-id", session)
            .body(body.to_string())
    }

    /// A request of `method` in `session`, with `token` as bearer.
    async fn in_session(
        &self,
        token: Option<&str>,
        session: &str,
        method: &str,
        params: Value,
    ) -> Reply {
        let body = json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params});
        Self::send(self.legacy_post(token, session, body)).await
    }
}

/// Creates a token of `kind` for `company`; the token.
async fn token(app: &TestApp, company: Option<CompanyId>, kind: TokenKind) -> String {
    create_token(&app.store, company, kind, "mcp security", None)
        .await
        .0
}

fn assert_refused_without_id(reply: &Reply, status: u16, code: i64) {
    assert_eq!(reply.status, status, "{}", reply.text);
    let message = reply.message();
    assert_eq!(message["error"]["code"], code, "{}", reply.text);
    assert_eq!(message["id"], Value::Null, "{}", reply.text);
}

/// `GET {app}{path}` without a token.
async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.client
        .get(format!("{}{path}", app.url))
        .send()
        .await
        .expect("the app answers")
}

fn metadata_url(app: &TestApp) -> String {
    format!("{}/.well-known/oauth-protected-resource/mcp", app.url)
}

// --- who may reach /mcp -------------------------------------------------------------------

#[actix_web::test]
async fn no_token_is_401_with_a_challenge_naming_the_metadata() {
    let app = spawn_app().await;
    let reply = Client::new(&app)
        .modern(None, "tools/list", json!({}))
        .await;
    assert_refused_without_id(&reply, 401, -32001);
    let challenge = reply.header("www-authenticate");
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(
        challenge.contains(&format!(r#"resource_metadata="{}""#, metadata_url(&app))),
        "{challenge}"
    );
    assert!(!challenge.contains("error="), "{challenge}");
}

#[actix_web::test]
async fn unknown_token_is_401_invalid_token() {
    let app = spawn_app().await;
    let reply = Client::new(&app)
        .modern(Some("not-a-token"), "tools/list", json!({}))
        .await;
    assert_refused_without_id(&reply, 401, -32001);
    let challenge = reply.header("www-authenticate");
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
    assert!(challenge.contains("resource_metadata="), "{challenge}");
}

#[actix_web::test]
async fn revoked_token_is_401_invalid_token() {
    let app = spawn_app_with(&[("SWITCHBOARD__CACHE__LOOKUPS_TTL_S", "0")]).await;
    let (token, id) = create_token(&app.store, Some(DEMO), TokenKind::Read, "desk", None).await;
    let client = Client::new(&app);
    assert_eq!(
        client
            .modern(Some(&token), "tools/list", json!({}))
            .await
            .status,
        200
    );

    let revoked = app.rpc("auth.revokeToken", json!({"token_id": id})).await;
    assert!(revoked.get("error").is_none(), "{revoked}");
    let reply = client.modern(Some(&token), "tools/list", json!({})).await;
    assert_refused_without_id(&reply, 401, -32001);
    assert!(reply.header("www-authenticate").contains("invalid_token"));
}

#[actix_web::test]
async fn metrics_token_is_401_invalid_token_on_mcp() {
    let app = spawn_app().await;
    let scrape = token(&app, None, TokenKind::Metrics).await;
    let reply = Client::new(&app)
        .modern(Some(&scrape), "tools/list", json!({}))
        .await;
    assert_refused_without_id(&reply, 401, -32001);
    assert!(reply.header("www-authenticate").contains("invalid_token"));
}

#[actix_web::test]
async fn metadata_names_the_resource_bearer_header_and_scopes_at_both_paths() {
    let app = spawn_app().await;
    for (path, resource) in [
        (
            "/.well-known/oauth-protected-resource/mcp",
            format!("{}/mcp", app.url),
        ),
        ("/.well-known/oauth-protected-resource", app.url.clone()),
    ] {
        let res = get(&app, path).await;
        assert_eq!(res.status().as_u16(), 200, "{path}");
        let doc: Value = res.json().await.unwrap();
        assert_eq!(doc["resource"], resource, "{path}: {doc}");
        assert_eq!(doc["bearer_methods_supported"], json!(["header"]), "{doc}");
        assert_eq!(
            doc["scopes_supported"],
            json!(["read", "write", "admin"]),
            "{doc}"
        );
        assert!(doc.get("authorization_servers").is_none(), "{doc}");
    }
}

#[actix_web::test]
async fn mcp_disabled_answers_404_for_the_endpoint_and_the_metadata() {
    let app = spawn_app_with(&[("SWITCHBOARD__MCP__ENABLED", "false")]).await;
    let reply = Client::new(&app)
        .modern(Some(ADMIN_TOKEN), "tools/list", json!({}))
        .await;
    assert_eq!(reply.status, 404, "{}", reply.text);
    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ] {
        let res = get(&app, path).await;
        assert_eq!(res.status().as_u16(), 404, "{path}");
    }
}

#[actix_web::test]
async fn foreign_origin_is_403_even_without_a_token() {
    let app = spawn_app().await;
    let client = Client::new(&app);
    for token in [None, Some(ADMIN_TOKEN)] {
        let reply = client
            .list_with(token, "origin", "https://evil.example")
            .await;
        assert_refused_without_id(&reply, 403, -32001);
        assert!(reply.header("www-authenticate").is_empty());
    }
}

#[actix_web::test]
async fn null_origin_is_403() {
    let app = spawn_app().await;
    let client = Client::new(&app);
    let reply = client.list_with(Some(ADMIN_TOKEN), "origin", "null").await;
    assert_refused_without_id(&reply, 403, -32001);
}

#[actix_web::test]
async fn public_url_and_loopback_origins_pass() {
    let app = spawn_app().await;
    let client = Client::new(&app);
    let port = app.url.rsplit(':').next().unwrap();
    for origin in [
        app.url.clone(),
        format!("http://localhost:{port}"),
        format!("http://127.0.0.1:{port}"),
    ] {
        let reply = client.list_with(Some(ADMIN_TOKEN), "origin", &origin).await;
        assert_eq!(reply.status, 200, "{origin}: {}", reply.text);
    }
}

#[actix_web::test]
async fn foreign_host_is_403_even_with_a_valid_token() {
    let app = spawn_app().await;
    let client = Client::new(&app);
    for token in [None, Some(ADMIN_TOKEN)] {
        let reply = client.list_with(token, "host", "evil.example").await;
        assert_refused_without_id(&reply, 403, -32001);
    }
}

#[actix_web::test]
async fn request_without_origin_passes() {
    let app = spawn_app().await;
    let reply = Client::new(&app)
        .modern(Some(ADMIN_TOKEN), "tools/list", json!({}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(!reply.tool_names().is_empty());
}

// --- what a token sees and may call --------------------------------------------------------

#[actix_web::test]
async fn company_token_lists_no_platform_tool_and_calling_one_is_unknown_tool() {
    let app = spawn_app().await;
    let client = Client::new(&app);
    let company = token(&app, Some(DEMO), TokenKind::Admin).await;
    let all = client
        .modern(Some(ADMIN_TOKEN), "tools/list", json!({}))
        .await
        .tool_names();
    let own = client
        .modern(Some(&company), "tools/list", json!({}))
        .await
        .tool_names();
    assert!(all.contains(&"company_create".to_owned()), "{all:?}");
    assert!(!own.contains(&"company_create".to_owned()), "{own:?}");
    assert!(own.iter().all(|name| all.contains(name)), "{own:?}");

    let reply = client
        .call_tool(
            &company,
            "company_create",
            json!({"slug": "sneaky", "name": "Sneaky"}),
        )
        .await;
    let error = &reply.message()["error"];
    assert_eq!(error["code"], -32602, "{}", reply.text);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("Unknown tool"),
        "{error}"
    );
    let companies = app.rpc("company.list", json!({})).await.to_string();
    assert!(!companies.contains("sneaky"), "{companies}");
}

#[actix_web::test]
async fn read_token_calling_a_write_tool_is_unknown_tool() {
    let app = spawn_app().await;
    let read = token(&app, Some(DEMO), TokenKind::Read).await;
    let client = Client::new(&app);
    let own = client
        .modern(Some(&read), "tools/list", json!({}))
        .await
        .tool_names();
    assert!(!own.contains(&"calcom_createBooking".to_owned()), "{own:?}");
    let reply = client
        .call_tool(
            &read,
            "calcom_createBooking",
            json!({"service": "Herrenhaarschnitt", "date": "2030-01-07", "time": "10:00",
                "name": "Erika", "phone": "+4917612345678"}),
        )
        .await;
    assert_eq!(reply.message()["error"]["code"], -32602, "{}", reply.text);
    assert!(app.calcom_bookings().await.is_empty());
}

#[actix_web::test]
async fn company_token_naming_another_company_gets_an_error_result_and_nothing_changes() {
    let t = tenants().await;
    let client = Client::new(&t.app);
    let before = t.a_state().await;
    for (tool, arguments) in [
        ("calcom_getBookings", json!({"company_id": t.a.0})),
        ("webhook_getCall", json!({"call_id": t.a_booked})),
        (
            "calcom_cancelBooking",
            json!({"booking_uid": t.a_booking_uid}),
        ),
        (
            "appointments_cancel",
            json!({"booking_uid": t.a_booking_uid}),
        ),
    ] {
        let reply = client.call_tool(B_TOKEN, tool, arguments).await;
        assert_eq!(reply.status, 200, "{tool}: {}", reply.text);
        let result = &reply.message()["result"];
        assert_eq!(result["isError"], true, "{tool}: {}", reply.text);
        for secret in ["Max Mustermann", "4915112345678", t.a_live] {
            assert!(
                !reply.text.contains(secret),
                "{tool} leaked {secret}: {}",
                reply.text
            );
        }
    }
    assert_eq!(t.a_state().await, before);
}

// --- sessions carry no authority -------------------------------------------------------------

#[actix_web::test]
async fn session_acts_as_the_bearer_of_each_request() {
    let app = spawn_app().await;
    let client = Client::new(&app);
    let company = token(&app, Some(DEMO), TokenKind::Read).await;
    let session = client.open_session(ADMIN_TOKEN).await;

    let as_admin = client
        .in_session(Some(ADMIN_TOKEN), &session, "tools/list", json!({}))
        .await;
    let as_company = client
        .in_session(Some(&company), &session, "tools/list", json!({}))
        .await;
    let expected = client
        .modern(Some(&company), "tools/list", json!({}))
        .await
        .tool_names();
    assert_eq!(as_company.tool_names(), expected);
    assert!(as_admin.tool_names().len() > expected.len());

    let reply = client
        .in_session(
            Some(&company),
            &session,
            "tools/call",
            json!({"name": "company_create", "arguments": {"slug": "via-session", "name": "X"}}),
        )
        .await;
    assert_eq!(reply.message()["error"]["code"], -32602, "{}", reply.text);

    let anonymous = client
        .in_session(None, &session, "tools/list", json!({}))
        .await;
    assert_refused_without_id(&anonymous, 401, -32001);
}

// --- malformed and oversized input -----------------------------------------------------------

#[actix_web::test]
async fn oversized_body_is_413() {
    let app = spawn_app_with(&[("SWITCHBOARD__SERVER__MAX_BODY_BYTES", "65536")]).await;
    let client = Client::new(&app);
    let padding = "x".repeat(200_000);
    let request = client.modern_request(
        Some(ADMIN_TOKEN),
        "tools/call",
        json!({"name": "test_echo", "arguments": {"padding": padding}}),
    );
    let reply = Client::send(request).await;
    assert_eq!(reply.status, 413, "{}", reply.text);
}

/// Sends `body` as a stateless request and asserts a 4xx that ran nothing: no company was
/// created by the `company_create` calls it holds — which, sent well-formed, do create one.
async fn refused_and_nothing_created(app: &TestApp, body: &str, content_type: &str) -> u16 {
    let client = Client::new(app);
    let request = client
        .post_as(Some(ADMIN_TOKEN), content_type)
        .header("mcp-protocol-version", MODERN)
        .header("mcp-method", "tools/call")
        .header("mcp-name", "company_create")
        .body(body.to_owned());
    let reply = Client::send(request).await;
    if reply.status == 400 {
        assert_refused_without_id(&reply, 400, -32700);
    }
    assert!(
        (400..500).contains(&reply.status),
        "{}: {}",
        reply.status,
        reply.text
    );
    let companies = app.rpc("company.list", json!({})).await.to_string();
    assert!(!companies.contains("smuggled"), "{companies}");

    let control = create_company_call(99);
    let created = client
        .modern(Some(ADMIN_TOKEN), "tools/call", control["params"].clone())
        .await;
    assert_eq!(
        created.message()["result"]["isError"],
        false,
        "{}",
        created.text
    );
    let companies = app.rpc("company.list", json!({})).await.to_string();
    assert!(companies.contains("smuggled-99"), "{companies}");
    reply.status
}

fn create_company_call(id: u64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {
        "name": "company_create",
        "arguments": {"slug": format!("smuggled-{id}"), "name": "Smuggled", "locale": "de",
            "time_zone": "Europe/Berlin"},
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": MODERN,
            "io.modelcontextprotocol/clientCapabilities": {},
        },
    }})
}

#[actix_web::test]
async fn malformed_json_is_400_parse_error_and_runs_nothing() {
    let app = spawn_app().await;
    let truncated = create_company_call(1).to_string();
    let truncated = &truncated[..truncated.len() - 5];
    let status = refused_and_nothing_created(&app, truncated, "application/json").await;
    assert_eq!(status, 400);
}

#[actix_web::test]
async fn batch_body_is_400_parse_error_and_runs_nothing() {
    let app = spawn_app().await;
    let batch = json!([create_company_call(1), create_company_call(2)]).to_string();
    let status = refused_and_nothing_created(&app, &batch, "application/json").await;
    assert_eq!(status, 400);
}

#[actix_web::test]
async fn wrong_content_type_is_415_and_runs_nothing() {
    let app = spawn_app().await;
    let body = create_company_call(1).to_string();
    let status = refused_and_nothing_created(&app, &body, "text/plain").await;
    assert_eq!(status, 415);
}

#[actix_web::test]
async fn get_and_delete_in_the_stateless_era_are_405() {
    let app = spawn_app().await;
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let res = app
            .client
            .request(method.clone(), format!("{}/mcp", app.url))
            .bearer_auth(ADMIN_TOKEN)
            .header("accept", ACCEPT)
            .header("mcp-protocol-version", MODERN)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 405, "{method}");
    }
}

#[actix_web::test]
async fn huge_tool_name_is_not_echoed_whole() {
    let app = spawn_app().await;
    let client = Client::new(&app);
    let session = client.open_session(ADMIN_TOKEN).await;
    let name = "n".repeat(50_000);
    let reply = client
        .in_session(
            Some(ADMIN_TOKEN),
            &session,
            "tools/call",
            json!({"name": name, "arguments": {}}),
        )
        .await;
    assert_eq!(reply.message()["error"]["code"], -32602, "{}", reply.status);
    assert!(
        reply.text.len() < 2_000,
        "{} bytes echoed",
        reply.text.len()
    );
}

#[actix_web::test]
async fn huge_resource_uri_is_not_echoed_whole() {
    let app = spawn_app().await;
    let client = Client::new(&app);
    let session = client.open_session(ADMIN_TOKEN).await;
    let uri = format!(
        "switchboard://companies/{}/configuration",
        "c".repeat(50_000)
    );
    let reply = client
        .in_session(
            Some(ADMIN_TOKEN),
            &session,
            "resources/read",
            json!({"uri": uri}),
        )
        .await;
    assert!(reply.message().get("error").is_some(), "{}", reply.status);
    assert!(
        reply.text.len() < 2_000,
        "{} bytes echoed",
        reply.text.len()
    );
}

// --- sessions: bounded, and shared through Redis -----------------------------------------------

#[actix_web::test]
async fn initialize_beyond_max_sessions_is_503_and_open_sessions_keep_working() {
    let app = spawn_app_with(&[("SWITCHBOARD__MCP__MAX_SESSIONS", "2")]).await;
    let client = Client::new(&app);
    let first = client.open_session(ADMIN_TOKEN).await;
    let second = client.open_session(ADMIN_TOKEN).await;

    let refused = client.initialize(ADMIN_TOKEN).await;
    assert_refused_without_id(&refused, 503, -32603);
    assert!(
        refused
            .header("retry-after")
            .parse::<u64>()
            .is_ok_and(|s| s > 0)
    );
    assert!(refused.header("mcp-session-id").is_empty());

    for session in [&first, &second] {
        let reply = client
            .in_session(Some(ADMIN_TOKEN), session, "tools/list", json!({}))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
}

#[actix_web::test]
async fn concurrent_initializes_never_exceed_max_sessions() {
    let app = spawn_app_with(&[("SWITCHBOARD__MCP__MAX_SESSIONS", "3")]).await;
    let client = Client::new(&app);
    let replies =
        futures_util::future::join_all((0..12).map(|_| client.initialize(ADMIN_TOKEN))).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 503).count(),
        9,
        "{statuses:?}"
    );
}

#[actix_web::test]
async fn stateless_requests_need_no_session_slot() {
    let app = spawn_app_with(&[("SWITCHBOARD__MCP__MAX_SESSIONS", "1")]).await;
    let client = Client::new(&app);
    client.open_session(ADMIN_TOKEN).await;
    assert_eq!(client.initialize(ADMIN_TOKEN).await.status, 503);
    let reply = client
        .modern(Some(ADMIN_TOKEN), "tools/list", json!({}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}

#[actix_web::test]
async fn closing_a_session_frees_its_slot() {
    let app = spawn_app_with(&[("SWITCHBOARD__MCP__MAX_SESSIONS", "1")]).await;
    let client = Client::new(&app);
    let session = client.open_session(ADMIN_TOKEN).await;
    let closed = app
        .client
        .delete(client.url())
        .bearer_auth(ADMIN_TOKEN)
        .header("mcp-session-id", &session)
        .header("mcp-protocol-version", LEGACY)
        .send()
        .await
        .unwrap();
    assert_eq!(
        closed.status(),
        204,
        "an ended session is 204, as MCP clients expect (rmcp says 202)"
    );
    client.open_session(ADMIN_TOKEN).await;
}

#[actix_web::test]
async fn without_redis_another_instance_answers_404_for_the_session() {
    let first = spawn_app_with(&[("SWITCHBOARD__REDIS__URL", "")]).await;
    let second = spawn_app_with(&[
        ("SWITCHBOARD__REDIS__URL", ""),
        ("SWITCHBOARD__DATABASE__URL", first.db_url.as_str()),
    ])
    .await;
    let session = Client::new(&first).open_session(ADMIN_TOKEN).await;
    let reply = Client::new(&second)
        .in_session(Some(ADMIN_TOKEN), &session, "tools/list", json!({}))
        .await;
    assert_eq!(reply.status, 404, "{}", reply.text);
}

#[actix_web::test]
async fn session_opened_on_one_instance_continues_on_another_through_redis() {
    let Some(redis) = redis_server_url() else {
        backend_missing(
            "session_opened_on_one_instance_continues_on_another_through_redis",
            "neither SWITCHBOARD_TEST_REDIS_SERVER_URL nor SWITCHBOARD_TEST_REDIS_URL is set",
        );
        return;
    };
    let prefix = format!("test-{}:", uuid::Uuid::new_v4().simple());
    let shared = [
        ("SWITCHBOARD__REDIS__URL", redis.as_str()),
        ("SWITCHBOARD__REDIS__KEY_PREFIX", prefix.as_str()),
    ];
    let first = spawn_app_with(&shared).await;
    let mut with_db = shared.to_vec();
    with_db.push(("SWITCHBOARD__DATABASE__URL", first.db_url.as_str()));
    let second = spawn_app_with(&with_db).await;

    let company = token(&first, Some(DEMO), TokenKind::Read).await;
    let session = Client::new(&first).open_session(&company).await;
    let on_second = Client::new(&second);
    let reply = on_second
        .in_session(Some(&company), &session, "tools/list", json!({}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let expected = on_second
        .modern(Some(&company), "tools/list", json!({}))
        .await
        .tool_names();
    assert_eq!(reply.tool_names(), expected);

    let other = spawn_app_with(&[
        ("SWITCHBOARD__REDIS__URL", redis.as_str()),
        ("SWITCHBOARD__DATABASE__URL", first.db_url.as_str()),
    ])
    .await;
    let reply = Client::new(&other)
        .in_session(Some(&company), &session, "tools/list", json!({}))
        .await;
    assert_eq!(
        reply.status, 404,
        "another deployment's prefix: {}",
        reply.text
    );

    let key = format!("{prefix}mcp:session:{session}");
    let mut conn = redis::Client::open(redis.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let ttl: i64 = redis::cmd("TTL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(
        (1..=300).contains(&ttl),
        "expires with mcp.session_idle_s: {ttl}"
    );
    let closed = second
        .client
        .delete(on_second.url())
        .bearer_auth(&company)
        .header("mcp-session-id", &session)
        .header("mcp-protocol-version", LEGACY)
        .send()
        .await
        .unwrap();
    assert!(closed.status().is_success(), "{}", closed.status());
    let exists: i64 = redis::cmd("EXISTS")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(exists, 0, "a closed session leaves no state behind");
}
