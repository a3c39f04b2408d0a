//! `switchboard mcp` (`switchboard::mcp::stdio::run`) over in-memory pipes against a scripted
//! `/mcp` on an ephemeral port: the session and version headers, concurrency (a slow tool call
//! does not hold up `ping`), whole lines on stdout, `DELETE` at EOF, and a forgotten session.
//! The real endpoint through the real binary and the Python SDK: tests/python/test_mcp_stdio.py.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use switchboard::mcp::stdio::{self, StdioError, StdioOptions};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream, Lines};
use tokio::sync::Notify;

const SESSION: &str = "session-7f3a";
const VERSION: &str = "2025-11-25";
/// Bounds a hang (e.g. ping stuck behind the slow call) so the test fails instead.
const PATIENCE: Duration = Duration::from_secs(20);

/// What one request to the scripted endpoint carried.
#[derive(Debug, Clone)]
struct Seen {
    http_method: String,
    rpc_method: Option<String>,
    session: Option<String>,
    version: Option<String>,
    authorization: Option<String>,
}

#[derive(Default)]
struct Upstream {
    seen: Mutex<Vec<Seen>>,
    /// Lets the held `tools/call` answer.
    release: Notify,
    /// Answer 404 to the session from now on (a restarted server).
    forget_session: AtomicBool,
}

fn header(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn endpoint(req: HttpRequest, body: web::Bytes, up: web::Data<Upstream>) -> HttpResponse {
    let message: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let session = header(&req, "mcp-session-id");
    up.seen.lock().unwrap().push(Seen {
        http_method: req.method().to_string(),
        rpc_method: message["method"].as_str().map(str::to_owned),
        session: session.clone(),
        version: header(&req, "mcp-protocol-version"),
        authorization: header(&req, "authorization"),
    });
    if session.is_some() && up.forget_session.load(Ordering::SeqCst) {
        return HttpResponse::NotFound().body("Not Found: Session not found");
    }
    if req.method() == actix_web::http::Method::DELETE {
        return HttpResponse::Accepted().finish();
    }
    let id = message["id"].clone();
    match message["method"].as_str() {
        Some("initialize") => HttpResponse::Ok().insert_header(("Mcp-Session-Id", SESSION)).json(
            json!({"jsonrpc": "2.0", "id": id, "result": {"protocolVersion": VERSION,
                "capabilities": {"tools": {}}, "serverInfo": {"name": "scripted", "version": "1"}}}),
        ),
        Some("tools/call") => {
            up.release.notified().await;
            let progress = json!({"jsonrpc": "2.0", "method": "notifications/progress",
                "params": {"progressToken": 1, "progress": 1}});
            let result = json!({"jsonrpc": "2.0", "id": id, "result": {"content": []}});
            HttpResponse::Ok()
                .content_type("text/event-stream")
                .body(format!("id: 0\ndata:\n\ndata: {progress}\n\ndata: {result}\n\n"))
        }
        Some("ping") => {
            let pad = message["params"]["pad"].as_u64().unwrap_or(0) as usize;
            HttpResponse::Ok()
                .json(json!({"jsonrpc": "2.0", "id": id, "result": {"pad": "p".repeat(pad)}}))
        }
        _ => HttpResponse::Accepted().finish(),
    }
}

/// The scripted endpoint's base URL and what it saw.
fn upstream() -> (String, web::Data<Upstream>) {
    let up = web::Data::new(Upstream::default());
    let state = up.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/mcp", web::to(endpoint))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    actix_web::rt::spawn(server);
    (url, up)
}

/// The client's side of a running proxy: its stdin, its stdout lines, and the proxy's end.
struct Client {
    stdin: DuplexStream,
    stdout: Lines<BufReader<DuplexStream>>,
    proxy: actix_web::rt::task::JoinHandle<Result<(), StdioError>>,
}

impl Client {
    fn start(url: &str) -> Self {
        let (stdin, proxy_in) = tokio::io::duplex(1 << 16);
        let (proxy_out, stdout) = tokio::io::duplex(1 << 16);
        let options = StdioOptions {
            url: url.to_owned(),
            max_message_bytes: NonZeroUsize::new(1 << 20).unwrap(),
            max_response_bytes: NonZeroUsize::new(1 << 24).unwrap(),
            max_in_flight: NonZeroUsize::new(32).unwrap(),
        };
        let token = "tok_stdio_test".to_owned().into();
        let proxy = actix_web::rt::spawn(stdio::run(options, token, proxy_in, proxy_out));
        Self {
            stdin,
            stdout: BufReader::new(stdout).lines(),
            proxy,
        }
    }

    async fn send(&mut self, message: Value) {
        let line = format!("{message}\n");
        self.stdin.write_all(line.as_bytes()).await.unwrap();
    }

    async fn receive(&mut self) -> Value {
        let line = tokio::time::timeout(PATIENCE, self.stdout.next_line())
            .await
            .expect("an answer in time")
            .unwrap()
            .expect("stdout open");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not one JSON message ({e}): {line}"))
    }

    async fn initialize(&mut self) {
        self.send(json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": VERSION, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}))
            .await;
        assert_eq!(self.receive().await["result"]["protocolVersion"], VERSION);
        self.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
    }

    /// Closes stdin and waits for the proxy to end.
    async fn close(self) -> Result<(), StdioError> {
        drop(self.stdin);
        tokio::time::timeout(PATIENCE, self.proxy)
            .await
            .expect("the proxy ends after EOF")
            .unwrap()
    }
}

fn ping(id: u64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "ping"})
}

#[actix_web::test]
async fn a_slow_tool_call_does_not_hold_up_ping() {
    let (url, up) = upstream();
    let mut client = Client::start(&url);
    client.initialize().await;
    client
        .send(
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "slow"}}),
        )
        .await;
    client.send(ping(3)).await;
    assert_eq!(
        client.receive().await["id"],
        3,
        "ping answered while the call is held"
    );
    up.release.notify_one();
    let progress = client.receive().await;
    assert_eq!(
        progress["method"], "notifications/progress",
        "SSE events relayed in order"
    );
    assert_eq!(
        client.receive().await,
        json!({"jsonrpc": "2.0", "id": 2, "result": {"content": []}})
    );
    client.close().await.unwrap();
}

#[actix_web::test]
async fn requests_after_initialize_carry_the_session_the_version_and_the_token() {
    let (url, up) = upstream();
    let mut client = Client::start(&url);
    client.initialize().await;
    client.send(ping(1)).await;
    client.receive().await;
    let seen = up.seen.lock().unwrap().clone();
    let init = &seen[0];
    assert_eq!(init.rpc_method.as_deref(), Some("initialize"));
    assert_eq!(
        (init.session.as_deref(), init.version.as_deref()),
        (None, None)
    );
    for later in &seen[1..] {
        assert_eq!(later.session.as_deref(), Some(SESSION), "{later:?}");
        assert_eq!(later.version.as_deref(), Some(VERSION), "{later:?}");
    }
    assert!(
        seen.iter()
            .any(|s| s.rpc_method.as_deref() == Some("notifications/initialized"))
    );
    assert!(
        seen.iter()
            .all(|s| s.authorization.as_deref() == Some("Bearer tok_stdio_test"))
    );
    client.close().await.unwrap();
}

#[actix_web::test]
async fn concurrent_large_answers_come_out_as_whole_lines() {
    let (url, _up) = upstream();
    let mut client = Client::start(&url);
    client.initialize().await;
    let pad = 200_000;
    for id in 1..=16 {
        client
            .send(json!({"jsonrpc": "2.0", "id": id, "method": "ping", "params": {"pad": pad}}))
            .await;
    }
    let mut ids = Vec::new();
    for _ in 1..=16 {
        let answer = client.receive().await;
        assert_eq!(answer["result"]["pad"].as_str().map(str::len), Some(pad));
        ids.push(answer["id"].as_u64().unwrap());
    }
    ids.sort_unstable();
    assert_eq!(ids, (1..=16).collect::<Vec<_>>());
    client.close().await.unwrap();
}

#[actix_web::test]
async fn eof_answers_what_is_in_flight_then_deletes_the_session() {
    let (url, up) = upstream();
    let mut client = Client::start(&url);
    client.initialize().await;
    client.send(ping(4)).await;
    let Client {
        stdin,
        mut stdout,
        proxy,
    } = client;
    drop(stdin);
    let answer = tokio::time::timeout(PATIENCE, stdout.next_line())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&answer.unwrap()).unwrap()["id"],
        4
    );
    tokio::time::timeout(PATIENCE, proxy)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let seen = up.seen.lock().unwrap().clone();
    let last = seen.last().unwrap();
    assert_eq!(last.http_method, "DELETE");
    assert_eq!(last.session.as_deref(), Some(SESSION));
}

#[actix_web::test]
async fn a_forgotten_session_answers_the_request_and_ends_the_proxy_with_an_error() {
    let (url, up) = upstream();
    let mut client = Client::start(&url);
    client.initialize().await;
    client.send(ping(1)).await;
    client.receive().await;
    up.forget_session.store(true, Ordering::SeqCst);
    client.send(ping(5)).await;
    let answer = client.receive().await;
    assert_eq!(answer["id"], 5);
    assert_eq!(answer["error"]["code"], -32603);
    assert_eq!(answer["error"]["data"]["http_status"], 404);
    let Client { stdin, proxy, .. } = client;
    let ended = tokio::time::timeout(PATIENCE, proxy)
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(ended, Err(StdioError::SessionLost { .. })),
        "{ended:?}"
    );
    drop(stdin);
    let deletes = up
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.http_method == "DELETE")
        .count();
    assert_eq!(deletes, 0, "a forgotten session is not deleted");
}
