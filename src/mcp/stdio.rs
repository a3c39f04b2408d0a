//! `switchboard mcp`: the Model Context Protocol over stdin/stdout for desktop clients that
//! start a command (Claude Desktop, Cursor, the MCP Inspector's stdio mode), relayed to a
//! running instance's `/mcp` (issue 14, Deliver 5).
//!
//! A transparent proxy: it neither answers nor rewrites MCP messages, so whatever `/mcp`
//! speaks (both eras, every tool, resource and prompt) the desktop client gets.
//!
//! - **stdin** (MCP stdio transport, reference/mcp.md §3): one JSON-RPC message per line,
//!   UTF-8. A line longer than `max_message_bytes` is refused with a JSON-RPC error (id null:
//!   its id was never read) and discarded without being buffered; a line that is not JSON
//!   gets -32700, an array (MCP has no batches) -32600.
//! - **HTTP** (Streamable HTTP, reference/mcp.md §3.1–§3.2): each message is POSTed to
//!   `{url}/mcp` with `Authorization: Bearer $SWITCHBOARD_TOKEN` and
//!   `Accept: application/json, text/event-stream`. The `Mcp-Session-Id` the server returns
//!   with the `initialize` result is sent on every later request, with `MCP-Protocol-Version`
//!   set to the version that result negotiated. A message carrying
//!   `_meta["io.modelcontextprotocol/protocolVersion"]` (the stateless 2026-07-28 era) is sent
//!   without the session, with `MCP-Protocol-Version` from its `_meta` and `Mcp-Method` /
//!   `Mcp-Name` from its body (values that cannot travel as a bare header are sent as
//!   `=?base64?…?=`, SEP-2243).
//! - **stdout**: every JSON-RPC message of an answer (a JSON body, or each `data:` event of an
//!   SSE stream) as one line, written by one task so lines never interleave. Logs go to
//!   stderr.
//! - **Failures** of a request (server unreachable, HTTP 401/403/5xx, an answer that is not
//!   JSON-RPC) become a JSON-RPC error for that request's id: code -32603, a message naming
//!   the HTTP status and the server's text, `data.http_status`; the token never appears.
//!   A JSON-RPC error the server sent for that id (400 -32020, 404 -32601, …) is passed on
//!   as it is. Notifications and responses expect 202 and write nothing.
//! - **Lost session**: a 404 to a request that carried the session means the server forgot
//!   it (restart, idle expiry). The proxy answers that request with an error, stops reading,
//!   lets the requests in flight finish and exits non-zero ([`StdioError::SessionLost`]). It
//!   does not re-initialize behind the client's back: the client would be bound to
//!   capabilities and a protocol version it never negotiated, and desktop clients restart a
//!   server that exits.
//! - **Concurrency**: requests are relayed concurrently (a slow tool call does not hold up
//!   `ping`), at most `max_in_flight` at a time; `initialize`, notifications and responses are
//!   relayed in order with the lines around them, so `notifications/initialized` reaches the
//!   server before the requests that follow it.
//! - **EOF** on stdin: the requests in flight are answered, the session (if any) is ended
//!   with `DELETE`, and the process exits 0.
//!
//! Server-initiated messages outside a request (the legacy GET stream) are not relayed: `/mcp`
//! sends none (no subscriptions, no list-changed notifications).

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt, TryStreamExt};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};
use sse_stream::SseStream;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::codec::{Decoder, LinesCodec, LinesCodecError};
use tokio_util::sync::CancellationToken;

use super::MCP_PATH;

/// The environment variable holding the gateway token (never a flag: it would show in `ps`).
pub const TOKEN_ENV: &str = "SWITCHBOARD_TOKEN";

/// JSON-RPC "Internal error": what a request gets when the HTTP exchange failed.
const INTERNAL_ERROR: i64 = -32603;
/// JSON-RPC "Parse error".
const PARSE_ERROR: i64 = -32700;
/// JSON-RPC "Invalid Request".
const INVALID_REQUEST: i64 = -32600;

/// `_meta` key that marks a 2026-07-28 (stateless) message (reference/mcp.md §2.3).
const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
const SESSION_ID: HeaderName = HeaderName::from_static("mcp-session-id");
const PROTOCOL_VERSION: HeaderName = HeaderName::from_static("mcp-protocol-version");
const MCP_METHOD: HeaderName = HeaderName::from_static("mcp-method");
const MCP_NAME: HeaderName = HeaderName::from_static("mcp-name");
const ACCEPT_BOTH: &str = "application/json, text/event-stream";

/// Methods whose `Mcp-Name` is `params.name` / `params.uri` / `params.taskId` (SEP-2243, as
/// rmcp checks them).
const NAME_FROM_NAME: [&str; 2] = ["tools/call", "prompts/get"];
const NAME_FROM_URI: [&str; 3] = [
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
];
const NAME_FROM_TASK_ID: [&str; 3] = ["tasks/get", "tasks/update", "tasks/cancel"];

/// Lines waiting for stdout.
const OUT_CAPACITY: usize = 64;
/// Characters of the server's text quoted in an error message.
const QUOTED_CHARS: usize = 300;
/// Bounds connecting to the instance only: a tool call takes as long as the gateway's
/// deadline allows.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Ending the session at EOF must not keep a closing client waiting.
const DELETE_TIMEOUT: Duration = Duration::from_secs(5);

/// How the proxy runs (`switchboard mcp` flags).
#[derive(Debug, Clone)]
pub struct StdioOptions {
    /// Base URL of the instance (`/mcp` is appended), e.g. `http://127.0.0.1:8080`.
    pub url: String,
    /// Longest stdin line relayed, bytes (the server's `server.max_body_bytes`, 1 MiB by
    /// default); longer lines are refused.
    pub max_message_bytes: NonZeroUsize,
    /// Largest answer read for one request, bytes (a JSON body, or all of an SSE stream).
    pub max_response_bytes: NonZeroUsize,
    /// Requests relayed at the same time; reading stdin waits when this many are open.
    pub max_in_flight: NonZeroUsize,
}

/// Why `switchboard mcp` stopped other than at EOF.
#[derive(Debug, thiserror::Error)]
pub enum StdioError {
    /// `--url` is not an http(s) URL.
    #[error("--url {url:?} is not an http(s) URL")]
    Url {
        /// The value given.
        url: String,
    },
    /// The HTTP client could not be built (TLS set-up).
    #[error("building the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    /// Reading stdin failed.
    #[error("reading stdin: {0}")]
    Stdin(#[source] std::io::Error),
    /// Writing stdout failed (the client went away).
    #[error("writing stdout: {0}")]
    Stdout(#[source] std::io::Error),
    /// The server answered 404 to the session: it was restarted or the session expired.
    #[error(
        "{endpoint} no longer knows the MCP session (HTTP 404: restarted or idle too long); \
         restart `switchboard mcp` to start a new one"
    )]
    SessionLost {
        /// `{url}/mcp`.
        endpoint: String,
    },
}

/// The token from [`TOKEN_ENV`], if set and not blank.
pub fn token_from_env() -> Option<SecretString> {
    std::env::var(TOKEN_ENV)
        .ok()
        .filter(|t| !t.trim().is_empty())
        .map(|t| SecretString::from(t.trim().to_owned()))
}

/// Logs to stderr (stdout carries only MCP messages), at `RUST_LOG` or `warn`; colours only
/// on a terminal (desktop clients keep stderr in log files).
pub fn init_logs() {
    use std::io::IsTerminal as _;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

/// Relays MCP messages between `input`/`output` (the process's stdin/stdout) and the
/// instance's `/mcp` until `input` ends; see the module docs for the rules.
///
/// # Errors
/// A bad URL, stdin or stdout failing, or a lost session ([`StdioError`]); an HTTP failure
/// of one request is that request's JSON-RPC error, not an error here.
pub async fn run<R, W>(
    options: StdioOptions,
    token: SecretString,
    mut input: R,
    output: W,
) -> Result<(), StdioError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let endpoint = endpoint(&options.url)?;
    let http = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
        .map_err(StdioError::Client)?;
    let stop = CancellationToken::new();
    let (out, lines) = mpsc::channel(OUT_CAPACITY);
    let writer = tokio::spawn(write_lines(output, lines, stop.clone()));
    let proxy = Arc::new(Proxy {
        http,
        endpoint,
        token,
        session: Mutex::default(),
        out,
        max_response_bytes: options.max_response_bytes.get(),
        stop: stop.clone(),
    });
    let mut reader = LineReader::new(options.max_message_bytes.get());
    let mut in_flight = JoinSet::new();
    let read = loop {
        while in_flight.try_join_next().is_some() {}
        if in_flight.len() >= options.max_in_flight.get() {
            tokio::select! {
                () = stop.cancelled() => break Ok(()),
                _ = in_flight.join_next() => continue,
            }
        }
        let line = tokio::select! {
            () = stop.cancelled() => break Ok(()),
            line = reader.next(&mut input) => line,
        };
        match line {
            Ok(None) => break Ok(()),
            Err(e) => break Err(StdioError::Stdin(e)),
            Ok(Some(line)) => match line.and_then(Inbound::parse) {
                Err(refusal) => proxy.emit(&refusal).await,
                Ok(message) if message.concurrent() => {
                    let proxy = Arc::clone(&proxy);
                    in_flight.spawn(async move { proxy.relay(message).await });
                }
                Ok(message) => proxy.relay(message).await,
            },
        }
    };
    while in_flight.join_next().await.is_some() {}
    let lost = proxy.lost();
    if lost.is_none() {
        proxy.end_session().await;
    }
    drop(proxy);
    let written = writer.await.unwrap_or(Ok(()));
    read?;
    written.map_err(StdioError::Stdout)?;
    lost.map_or(Ok(()), |endpoint| Err(StdioError::SessionLost { endpoint }))
}

fn endpoint(url: &str) -> Result<String, StdioError> {
    let refused = || StdioError::Url {
        url: url.to_owned(),
    };
    let parsed = url::Url::parse(url).map_err(|_| refused())?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(refused());
    }
    Ok(format!("{}{MCP_PATH}", url.trim_end_matches('/')))
}

/// The one writer of stdout: each message with its newline in one write, flushed.
async fn write_lines<W: AsyncWrite + Unpin>(
    mut output: W,
    mut lines: mpsc::Receiver<String>,
    stop: CancellationToken,
) -> std::io::Result<()> {
    while let Some(mut line) = lines.recv().await {
        line.push('\n');
        let written = async {
            output.write_all(line.as_bytes()).await?;
            output.flush().await
        };
        if let Err(e) = written.await {
            stop.cancel();
            return Err(e);
        }
    }
    Ok(())
}

/// Newline-delimited stdin with a maximum line length.
struct LineReader {
    codec: LinesCodec,
    buffer: BytesMut,
    eof: bool,
}

/// A stdin line, or why it is refused.
type Line = Result<String, Value>;

impl LineReader {
    fn new(max_bytes: usize) -> Self {
        Self {
            codec: LinesCodec::new_with_max_length(max_bytes),
            buffer: BytesMut::new(),
            eof: false,
        }
    }

    /// The next non-blank line (`None` at EOF); an oversized or non-UTF-8 line comes back as
    /// the JSON-RPC error that answers it, and reading goes on after it.
    async fn next<R: AsyncRead + Unpin>(&mut self, input: &mut R) -> std::io::Result<Option<Line>> {
        loop {
            let decoded = if self.eof {
                self.codec.decode_eof(&mut self.buffer)
            } else {
                self.codec.decode(&mut self.buffer)
            };
            match decoded {
                Ok(Some(line)) if line.trim().is_empty() => {}
                Ok(Some(line)) => return Ok(Some(Ok(line))),
                Ok(None) if self.eof => return Ok(None),
                Ok(None) => self.eof = input.read_buf(&mut self.buffer).await? == 0,
                Err(LinesCodecError::MaxLineLengthExceeded) => {
                    let message = format!(
                        "Invalid Request: message longer than {} bytes (the server's body limit)",
                        self.codec.max_length()
                    );
                    return Ok(Some(Err(error_response(
                        &Value::Null,
                        INVALID_REQUEST,
                        &message,
                        None,
                    ))));
                }
                Err(LinesCodecError::Io(e)) if e.kind() == std::io::ErrorKind::InvalidData => {
                    let message = "Parse error: the line is not UTF-8";
                    return Ok(Some(Err(error_response(
                        &Value::Null,
                        PARSE_ERROR,
                        message,
                        None,
                    ))));
                }
                Err(LinesCodecError::Io(e)) => return Err(e),
            }
        }
    }
}

/// What a stdin line holds.
#[derive(Debug)]
enum Kind {
    /// A request: the client waits for the response with this id.
    Request { id: Value, initialize: bool },
    /// A notification, or the client's response to a server request: nothing comes back.
    OneWay,
}

/// A message from the client, as read and as relayed.
#[derive(Debug)]
struct Inbound {
    /// The line exactly as the client wrote it (the POST body).
    text: String,
    message: Map<String, Value>,
    kind: Kind,
}

impl Inbound {
    /// The message in `text`, or the JSON-RPC error answering it (-32700 not JSON, -32600 not
    /// one object).
    fn parse(text: String) -> Result<Self, Value> {
        let message = match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(message)) => message,
            Ok(Value::Array(_)) => {
                let message = "Invalid Request: MCP has no batches; send one message per line";
                return Err(error_response(&Value::Null, INVALID_REQUEST, message, None));
            }
            Ok(_) => {
                let message = "Invalid Request: a message is a JSON object";
                return Err(error_response(&Value::Null, INVALID_REQUEST, message, None));
            }
            Err(e) => {
                let message = format!("Parse error: {e}");
                return Err(error_response(&Value::Null, PARSE_ERROR, &message, None));
            }
        };
        let method = message.get("method").and_then(Value::as_str);
        let kind = match (method, message.get("id")) {
            (Some(method), Some(id)) => Kind::Request {
                id: id.clone(),
                initialize: method == "initialize",
            },
            _ => Kind::OneWay,
        };
        Ok(Self {
            text,
            message,
            kind,
        })
    }

    /// Whether it may overtake the lines after it: requests, except `initialize`, whose
    /// answer carries the session every later message needs.
    fn concurrent(&self) -> bool {
        matches!(
            self.kind,
            Kind::Request {
                initialize: false,
                ..
            }
        )
    }

    /// The 2026-07-28 protocol version in `params._meta`, if this is a stateless-era message.
    fn stateless_version(&self) -> Option<&str> {
        self.message
            .get("params")?
            .get("_meta")?
            .get(META_PROTOCOL_VERSION)?
            .as_str()
    }
}

/// What the proxy knows of the legacy session.
#[derive(Debug, Default, Clone)]
struct Session {
    /// `Mcp-Session-Id` from the `initialize` answer.
    id: Option<String>,
    /// `protocolVersion` of the `initialize` result.
    protocol_version: Option<String>,
    /// Set when the server answered 404 to the session: `{url}/mcp`.
    lost: Option<String>,
}

/// The headers of the POST relaying `inbound`, and the session id it carries.
fn request_headers(inbound: &Inbound, session: &Session) -> (HeaderMap, Option<String>) {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static(ACCEPT_BOTH));
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(version) = inbound.stateless_version() {
        insert(&mut headers, PROTOCOL_VERSION, version);
        if let Some(method) = inbound.message.get("method").and_then(Value::as_str) {
            insert(&mut headers, MCP_METHOD, method);
            if let Some(name) = mcp_name(method, inbound.message.get("params")) {
                insert(&mut headers, MCP_NAME, name);
            }
        }
        return (headers, None);
    }
    if let Some(id) = &session.id {
        insert(&mut headers, SESSION_ID, id);
    }
    if let Some(version) = &session.protocol_version {
        insert(&mut headers, PROTOCOL_VERSION, version);
    }
    (headers, session.id.clone())
}

/// Sets `name` to `value`, base64-wrapped when it cannot travel as a bare header value;
/// leaves it out when even that fails (the server then refuses the message itself).
fn insert(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(&header_text(value)) {
        headers.insert(name, value);
    }
}

/// SEP-2243 value encoding: `=?base64?<base64 of the UTF-8>?=` for a value with leading or
/// trailing blanks, control or non-ASCII characters, or one that looks like the sentinel.
fn header_text(value: &str) -> String {
    use base64::Engine as _;
    const PREFIX: &str = "=?base64?";
    const SUFFIX: &str = "?=";
    let blank_edge = value.starts_with([' ', '\t']) || value.ends_with([' ', '\t']);
    let unsafe_char = value.chars().any(|c| !(' '..='~').contains(&c));
    let sentinel = value.starts_with(PREFIX) && value.ends_with(SUFFIX);
    if blank_edge || unsafe_char || sentinel {
        let encoded = base64::engine::general_purpose::STANDARD.encode(value);
        format!("{PREFIX}{encoded}{SUFFIX}")
    } else {
        value.to_owned()
    }
}

/// The `Mcp-Name` of a stateless-era message: the tool/prompt name, resource URI or task id.
fn mcp_name<'a>(method: &str, params: Option<&'a Value>) -> Option<&'a str> {
    let key = if NAME_FROM_NAME.contains(&method) {
        "name"
    } else if NAME_FROM_URI.contains(&method) {
        "uri"
    } else if NAME_FROM_TASK_ID.contains(&method) {
        "taskId"
    } else {
        return None;
    };
    params?.get(key)?.as_str()
}

/// A JSON-RPC error response.
fn error_response(id: &Value, code: i64, message: &str, data: Option<Value>) -> Value {
    let mut error = json!({"code": code, "message": message});
    if let Some(data) = data {
        error["data"] = data;
    }
    json!({"jsonrpc": "2.0", "id": id, "error": error})
}

/// Why a request got no answer from the server.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("cannot reach {endpoint}: {cause}")]
    Unreachable { endpoint: String, cause: String },
    #[error("HTTP {status} from {endpoint}: {text}")]
    Http {
        endpoint: String,
        status: StatusCode,
        text: String,
    },
    #[error("{endpoint} no longer knows the MCP session (HTTP 404); restart the MCP server")]
    SessionLost { endpoint: String },
    #[error("HTTP {status} from {endpoint} carried no JSON-RPC response to this request")]
    NoAnswer {
        endpoint: String,
        status: StatusCode,
    },
    #[error("reading the answer of {endpoint}: {cause}")]
    Body { endpoint: String, cause: BodyError },
}

impl Failure {
    fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Http { status, .. } | Self::NoAnswer { status, .. } => Some(*status),
            Self::SessionLost { .. } => Some(StatusCode::NOT_FOUND),
            Self::Unreachable { .. } | Self::Body { .. } => None,
        }
    }

    /// The JSON-RPC error answering request `id`.
    fn response(&self, id: &Value) -> Value {
        let data = self.status().map(|s| json!({"http_status": s.as_u16()}));
        error_response(id, INTERNAL_ERROR, &self.to_string(), data)
    }
}

/// Reading an answer body failed.
#[derive(Debug, thiserror::Error)]
enum BodyError {
    #[error("{0}")]
    Transport(String),
    #[error("the answer is longer than {0} bytes")]
    TooLarge(usize),
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("malformed event stream: {0}")]
    Stream(String),
}

/// `error` and its sources in one line (reqwest's own message omits the cause, e.g.
/// "connection refused").
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The body of `response` as a stream of chunks, failing once more than `limit` bytes came.
fn chunks(
    response: reqwest::Response,
    limit: usize,
) -> impl Stream<Item = Result<Bytes, BodyError>> {
    futures_util::stream::try_unfold(
        (response, 0_usize),
        move |(mut response, read)| async move {
            let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| BodyError::Transport(chain(&e)))?
            else {
                return Ok(None);
            };
            let read = read + chunk.len();
            if read > limit {
                return Err(BodyError::TooLarge(limit));
            }
            Ok(Some((chunk, (response, read))))
        },
    )
}

/// The JSON-RPC messages of an SSE stream: each event's `data` (events without data, such as
/// the priming event of a resumable stream, carry none).
fn sse_messages<S>(bytes: S) -> impl Stream<Item = Result<Value, BodyError>>
where
    S: Stream<Item = Result<Bytes, BodyError>>,
{
    SseStream::from_bytes_stream(bytes).filter_map(|event| async move {
        match event {
            Err(e) => Some(Err(BodyError::Stream(chain(&e)))),
            Ok(event) => {
                let data = event.data.filter(|d| !d.trim().is_empty())?;
                Some(serde_json::from_str(&data).map_err(|e| BodyError::NotJson(e.to_string())))
            }
        }
    })
}

/// At most [`QUOTED_CHARS`] of `text` on one line.
fn quote(text: &str) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(QUOTED_CHARS) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None if one_line.is_empty() => "(no text)".to_owned(),
        None => one_line,
    }
}

/// What a refusal's body says: the JSON-RPC error's message, else the text.
fn server_text(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(quote))
        .unwrap_or_else(|| quote(&String::from_utf8_lossy(body)))
}

/// Whether `message` is the response (result or error) to request `id`.
fn answers(message: &Value, id: &Value) -> bool {
    message.get("id") == Some(id)
        && (message.get("result").is_some() || message.get("error").is_some())
}

/// The relay shared by the reading loop and the requests in flight.
struct Proxy {
    http: reqwest::Client,
    /// `{url}/mcp`.
    endpoint: String,
    token: SecretString,
    /// Held only to read or update, never across an await.
    session: Mutex<Session>,
    out: mpsc::Sender<String>,
    max_response_bytes: usize,
    /// Stops reading stdin: the session is lost or stdout is gone.
    stop: CancellationToken,
}

impl Proxy {
    fn session(&self) -> std::sync::MutexGuard<'_, Session> {
        self.session.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lost(&self) -> Option<String> {
        self.session().lost.clone()
    }

    /// Writes `message` as one stdout line (dropped when stdout is gone: the writer then
    /// stops the proxy).
    async fn emit(&self, message: &Value) {
        let _ = self.out.send(message.to_string()).await;
    }

    /// POSTs `inbound` and writes what answers it.
    async fn relay(&self, inbound: Inbound) {
        let (headers, session) = request_headers(&inbound, &self.session());
        let sent = self
            .http
            .post(&self.endpoint)
            .bearer_auth(self.token.expose_secret())
            .headers(headers)
            .body(inbound.text)
            .send()
            .await;
        let Kind::Request { id, initialize } = inbound.kind else {
            self.one_way(sent, session.as_deref());
            return;
        };
        let answered = match sent {
            Ok(response) => {
                self.answer(response, &id, initialize, session.as_deref())
                    .await
            }
            Err(e) => Err(Failure::Unreachable {
                endpoint: self.endpoint.clone(),
                cause: chain(&e),
            }),
        };
        if let Err(failure) = answered {
            tracing::warn!(%failure, "request failed");
            self.emit(&failure.response(&id)).await;
        }
    }

    /// A notification or response was accepted (202), or why not, on stderr.
    fn one_way(&self, sent: reqwest::Result<reqwest::Response>, session: Option<&str>) {
        match sent {
            Ok(response) if response.status().is_success() => {}
            Ok(response) if response.status() == StatusCode::NOT_FOUND && session.is_some() => {
                self.session_lost();
            }
            Ok(response) => tracing::warn!(status = %response.status(), "notification refused"),
            Err(e) => tracing::warn!(error = %chain(&e), "notification not delivered"),
        }
    }

    fn session_lost(&self) {
        tracing::error!(endpoint = %self.endpoint, "the server no longer knows the session");
        self.session().lost = Some(self.endpoint.clone());
        self.stop.cancel();
    }

    /// Writes the messages of `response` to request `id`; fails when none answers it.
    async fn answer(
        &self,
        response: reqwest::Response,
        id: &Value,
        initialize: bool,
        session: Option<&str>,
    ) -> Result<(), Failure> {
        let status = response.status();
        let new_session = response
            .headers()
            .get(&SESSION_ID)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let event_stream = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        let body_failure = |cause| Failure::Body {
            endpoint: self.endpoint.clone(),
            cause,
        };
        let mut answered = false;
        if status.is_success() && event_stream {
            let mut messages =
                std::pin::pin!(sse_messages(chunks(response, self.max_response_bytes)));
            while let Some(message) = messages.next().await {
                match message {
                    Ok(message) => {
                        answered |= self
                            .deliver(&message, id, initialize, new_session.as_deref())
                            .await;
                    }
                    Err(cause) if !answered => return Err(body_failure(cause)),
                    Err(cause) => tracing::warn!(%cause, "event stream ended early"),
                }
            }
        } else {
            let body: Vec<u8> = chunks(response, self.max_response_bytes)
                .try_fold(Vec::new(), |mut body, chunk| async move {
                    body.extend_from_slice(&chunk);
                    Ok(body)
                })
                .await
                .map_err(body_failure)?;
            let message = serde_json::from_slice::<Value>(&body).ok();
            match message {
                Some(message) if status.is_success() || answers(&message, id) => {
                    answered = self
                        .deliver(&message, id, initialize, new_session.as_deref())
                        .await;
                }
                _ if status == StatusCode::NOT_FOUND && session.is_some() => {
                    self.session_lost();
                    return Err(Failure::SessionLost {
                        endpoint: self.endpoint.clone(),
                    });
                }
                _ if !status.is_success() => {
                    return Err(Failure::Http {
                        endpoint: self.endpoint.clone(),
                        status,
                        text: server_text(&body),
                    });
                }
                _ => {}
            }
        }
        if answered {
            Ok(())
        } else {
            Err(Failure::NoAnswer {
                endpoint: self.endpoint.clone(),
                status,
            })
        }
    }

    /// Writes `message`; when it is the result of `initialize`, first keeps the session and
    /// negotiated version for the messages after it. Returns whether it answers request `id`.
    async fn deliver(
        &self,
        message: &Value,
        id: &Value,
        initialize: bool,
        new_session: Option<&str>,
    ) -> bool {
        let answer = answers(message, id);
        if answer
            && initialize
            && let Some(version) = message["result"]["protocolVersion"].as_str()
        {
            let mut session = self.session();
            session.id = new_session.map(str::to_owned);
            session.protocol_version = Some(version.to_owned());
        }
        self.emit(message).await;
        answer
    }

    /// Ends the legacy session, if one was opened (MCP 2025-11-25 transports: the client
    /// SHOULD DELETE it); failures only go to stderr.
    async fn end_session(&self) {
        let session = self.session().clone();
        let Some(id) = session.id else { return };
        let mut request = self
            .http
            .delete(&self.endpoint)
            .bearer_auth(self.token.expose_secret())
            .timeout(DELETE_TIMEOUT)
            .header(SESSION_ID, id);
        if let Some(version) = session.protocol_version {
            request = request.header(PROTOCOL_VERSION, version);
        }
        match request.send().await {
            Ok(response) => tracing::debug!(status = %response.status(), "session ended"),
            Err(e) => tracing::warn!(error = %chain(&e), "ending the session failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inbound(message: Value) -> Inbound {
        Inbound::parse(message.to_string()).unwrap()
    }

    fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
        headers.get(name).and_then(|v| v.to_str().ok())
    }

    async fn read_all(input: &[u8], max: usize) -> Vec<Line> {
        let mut reader = LineReader::new(max);
        let mut input = input;
        let mut lines = Vec::new();
        while let Some(line) = reader.next(&mut input).await.unwrap() {
            lines.push(line);
        }
        lines
    }

    #[tokio::test]
    async fn each_line_is_one_message_and_blank_lines_are_skipped() {
        let lines = read_all(b"{\"a\":1}\r\n\n  \n{\"b\":2}", 64).await;
        assert_eq!(
            lines,
            vec![Ok("{\"a\":1}".to_owned()), Ok("{\"b\":2}".to_owned())]
        );
    }

    #[tokio::test]
    async fn an_oversized_line_is_refused_and_the_next_line_still_read() {
        let long = format!(
            "{{\"id\":1,\"x\":\"{}\"}}\n{{\"ok\":true}}\n",
            "y".repeat(100)
        );
        let lines = read_all(long.as_bytes(), 32).await;
        assert_eq!(lines.len(), 2, "{lines:?}");
        let refusal = lines[0].as_ref().unwrap_err();
        assert_eq!(refusal["error"]["code"], INVALID_REQUEST);
        assert_eq!(refusal["id"], Value::Null);
        assert!(
            refusal["error"]["message"]
                .as_str()
                .unwrap()
                .contains("32 bytes")
        );
        assert_eq!(lines[1], Ok("{\"ok\":true}".to_owned()));
    }

    #[tokio::test]
    async fn a_line_that_is_not_utf8_is_a_parse_error_and_reading_goes_on() {
        let lines = read_all(b"\xff\xfe\n{\"ok\":true}\n", 64).await;
        assert_eq!(lines[0].as_ref().unwrap_err()["error"]["code"], PARSE_ERROR);
        assert_eq!(lines[1], Ok("{\"ok\":true}".to_owned()));
    }

    #[test]
    fn malformed_json_is_a_parse_error_with_id_null() {
        let refusal = Inbound::parse("{\"jsonrpc\":\"2.0\",".to_owned()).unwrap_err();
        assert_eq!(refusal["error"]["code"], PARSE_ERROR);
        assert_eq!(refusal["id"], Value::Null);
    }

    #[test]
    fn batches_and_non_objects_are_invalid_requests() {
        for text in [
            "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]",
            "42",
            "\"ping\"",
        ] {
            let refusal = Inbound::parse(text.to_owned()).unwrap_err();
            assert_eq!(refusal["error"]["code"], INVALID_REQUEST, "{text}");
        }
    }

    #[test]
    fn requests_overtake_but_initialize_notifications_and_responses_keep_their_place() {
        let ping = inbound(json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}));
        let init = inbound(json!({"jsonrpc": "2.0", "id": 0, "method": "initialize"}));
        let note = inbound(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        let reply = inbound(json!({"jsonrpc": "2.0", "id": "s1", "result": {}}));
        assert!(ping.concurrent());
        assert!(!init.concurrent());
        assert!(!note.concurrent());
        assert!(!reply.concurrent());
    }

    #[test]
    fn the_message_is_relayed_byte_for_byte() {
        let text = r#"{"method":"tools/call","jsonrpc":"2.0","id":7,"params":{"name":"x"}}"#;
        assert_eq!(Inbound::parse(text.to_owned()).unwrap().text, text);
    }

    #[test]
    fn before_initialize_a_request_carries_no_session_headers() {
        let init = inbound(json!({"jsonrpc": "2.0", "id": 0, "method": "initialize"}));
        let (headers, session) = request_headers(&init, &Session::default());
        assert_eq!(header(&headers, "accept"), Some(ACCEPT_BOTH));
        assert_eq!(header(&headers, "content-type"), Some("application/json"));
        assert!(headers.get("mcp-session-id").is_none());
        assert!(headers.get("mcp-protocol-version").is_none());
        assert_eq!(session, None);
    }

    /// The session after a 2025-11-25 `initialize`.
    fn open_session() -> Session {
        Session {
            id: Some("abc-123".to_owned()),
            protocol_version: Some("2025-11-25".to_owned()),
            lost: None,
        }
    }

    #[test]
    fn after_initialize_requests_carry_the_session_and_negotiated_version() {
        let session = open_session();
        let call = inbound(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": "calcom_getBookings"}}));
        let (headers, sent) = request_headers(&call, &session);
        assert_eq!(header(&headers, "mcp-session-id"), Some("abc-123"));
        assert_eq!(header(&headers, "mcp-protocol-version"), Some("2025-11-25"));
        assert!(
            headers.get("mcp-method").is_none(),
            "legacy era has no Mcp-Method"
        );
        assert_eq!(sent.as_deref(), Some("abc-123"));
    }

    #[test]
    fn stateless_requests_carry_version_method_and_name_from_the_body_and_no_session() {
        let session = open_session();
        let meta = json!({META_PROTOCOL_VERSION: "2026-07-28"});
        let cases = [
            (
                "tools/call",
                json!({"name": "calcom_getEventTypes", "_meta": meta}),
                Some("calcom_getEventTypes"),
            ),
            (
                "prompts/get",
                json!({"name": "daily_booking_report", "_meta": meta}),
                Some("daily_booking_report"),
            ),
            (
                "resources/read",
                json!({"uri": "switchboard://companies/demo/calls/today", "_meta": meta}),
                Some("switchboard://companies/demo/calls/today"),
            ),
            ("tools/list", json!({"_meta": meta}), None),
        ];
        for (method, params, name) in cases {
            let message =
                inbound(json!({"jsonrpc": "2.0", "id": 3, "method": method, "params": params}));
            let (headers, sent) = request_headers(&message, &session);
            assert_eq!(
                header(&headers, "mcp-protocol-version"),
                Some("2026-07-28"),
                "{method}"
            );
            assert_eq!(header(&headers, "mcp-method"), Some(method));
            assert_eq!(header(&headers, "mcp-name"), name, "{method}");
            assert!(headers.get("mcp-session-id").is_none(), "{method}");
            assert_eq!(sent, None);
        }
    }

    #[test]
    fn header_values_that_cannot_travel_bare_are_base64_wrapped() {
        assert_eq!(header_text("calcom_getBookings"), "calcom_getBookings");
        assert_eq!(header_text("Grüße"), "=?base64?R3LDvMOfZQ==?=");
        assert_eq!(header_text(" padded"), "=?base64?IHBhZGRlZA==?=");
        assert_eq!(
            header_text("=?base64?abc?="),
            "=?base64?PT9iYXNlNjQ/YWJjPz0=?="
        );
    }

    #[test]
    fn an_http_failure_answers_its_request_with_status_and_server_text() {
        let failure = Failure::Http {
            endpoint: "http://127.0.0.1:8080/mcp".to_owned(),
            status: StatusCode::UNAUTHORIZED,
            text: server_text(br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"unknown or revoked token"}}"#),
        };
        let response = failure.response(&json!("req-9"));
        assert_eq!(response["id"], "req-9");
        assert_eq!(response["error"]["code"], INTERNAL_ERROR);
        assert_eq!(response["error"]["data"]["http_status"], 401);
        let message = response["error"]["message"].as_str().unwrap();
        assert!(message.contains("401 Unauthorized"), "{message}");
        assert!(message.contains("unknown or revoked token"), "{message}");
    }

    #[test]
    fn the_server_text_is_quoted_on_one_line_and_cut() {
        assert_eq!(server_text(b"Service\nUnavailable"), "Service Unavailable");
        assert_eq!(server_text(b""), "(no text)");
        let long = "x".repeat(QUOTED_CHARS + 50);
        assert_eq!(
            server_text(long.as_bytes()).chars().count(),
            QUOTED_CHARS + 1
        );
    }

    fn byte_stream(chunks: &[&'static str]) -> impl Stream<Item = Result<Bytes, BodyError>> {
        futures_util::stream::iter(
            chunks
                .iter()
                .map(|c| Ok(Bytes::from_static(c.as_bytes())))
                .collect::<Vec<_>>(),
        )
    }

    #[tokio::test]
    async fn every_sse_data_event_is_one_message_split_chunks_and_priming_events_included() {
        let stream = byte_stream(&[
            "id: 0\ndata:\n\n",
            ": keep-alive\n\n",
            "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\nda",
            "ta: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\r\n\r\n",
        ]);
        let messages: Vec<_> = sse_messages(stream).collect().await;
        let messages: Vec<Value> = messages.into_iter().map(Result::unwrap).collect();
        assert_eq!(
            messages,
            vec![
                json!({"jsonrpc": "2.0", "method": "notifications/progress"}),
                json!({"jsonrpc": "2.0", "id": 1, "result": {}}),
            ]
        );
    }

    #[tokio::test]
    async fn an_sse_event_that_is_not_json_is_an_error() {
        let messages: Vec<_> = sse_messages(byte_stream(&["data: {nope\n\n"]))
            .collect()
            .await;
        assert!(
            matches!(messages[..], [Err(BodyError::NotJson(_))]),
            "{messages:?}"
        );
    }

    #[test]
    fn only_a_result_or_error_with_the_same_id_answers_a_request() {
        assert!(answers(&json!({"id": 1, "result": {}}), &json!(1)));
        assert!(answers(&json!({"id": "a", "error": {}}), &json!("a")));
        assert!(!answers(&json!({"id": 1, "result": {}}), &json!("1")));
        assert!(!answers(
            &json!({"id": 1, "method": "sampling/createMessage"}),
            &json!(1)
        ));
        assert!(!answers(&json!({"id": null, "error": {}}), &json!(1)));
    }

    #[test]
    fn the_url_must_be_http_and_gets_the_mcp_path() {
        assert_eq!(
            endpoint("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080/mcp"
        );
        assert_eq!(
            endpoint("https://sb.example.com").unwrap(),
            "https://sb.example.com/mcp"
        );
        assert!(matches!(endpoint("ftp://x"), Err(StdioError::Url { .. })));
        assert!(matches!(endpoint("not a url"), Err(StdioError::Url { .. })));
    }
}
