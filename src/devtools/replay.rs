//! `switchboard replay`: plays call scripts against a running service, signed like Retell.
//!
//! Each script file is one phone call. Replay gives it a fresh `call_id` (`call_` + 28 hex
//! digits, as Retell's ids look; reference/retell.md §1.3) and sends its steps in order:
//!
//! - a **function** step becomes `POST {url}/api/mcp/retell/custom-function` with
//!   `{name, call, args}` (reference/retell.md §3.1), `call` being the script's call object with
//!   `call_id`, `call_status: "ongoing"`, `start_timestamp` and the live transcript so far;
//! - a **webhook** step becomes `POST {url}/api/mcp/retell/webhook` with `{event, call}`
//!   (reference/retell.md §1.2), the call object completed as Retell completes it (§1.4):
//!   after `call_ended` it has `call_status: "ended"`, `end_timestamp`, `duration_ms`,
//!   `disconnection_reason`, `transcript`, `transcript_object`, `transcript_with_tool_calls` and
//!   the step's `collected_dynamic_variables`; `call_analyzed` repeats that object and adds
//!   the step's `call_analysis`.
//!
//! Every body is serialised once and signed over exactly those bytes
//! ([`switchboard_actors::retell::signature::sign`], header `X-Retell-Signature`, §2.1) with
//! the key from `--key`, else the script's `retell_api_key`, else the sandbox demo key
//! [`DEMO_RETELL_API_KEY`].
//!
//! After each `call_ended`, given a gateway token, replay polls `webhook.getCall` every
//! 250 ms, up to `--wait-s` seconds, until the booking job is `done` or `failed` — or finds
//! that no job was enqueued (data incomplete or never confirmed) — and prints the outcome.
//!
//! When the call ended, replay also posts the ended call object (with the analysis, if any)
//! to the Retell simulator's `POST /__sim/calls`, so its `list-calls` and `get-call` (and with
//! them `retell.getRecentCalls` and `retell.importCalls`) know the calls the sandbox made.
//! The simulator is `--retell-sim-url`, else the Retell base URL the service's detailed health
//! reports in sandbox mode (read with the gateway token); without either the step is skipped.
//! A simulator that refuses the call is reported, and does not fail the script.
//!
//! # Script format (JSON, `examples/calls/*.json`)
//!
//! ```json
//! {
//!   "description": "German caller books a men's haircut",
//!   "retell_api_key": "key_…",
//!   "call_id": "call_…",
//!   "time_zone": "Europe/Berlin",
//!   "call": {"agent_id": "agent_…", "agent_version": 1, "call_type": "phone_call",
//!            "direction": "inbound", "from_number": "+4915123456789", "to_number": "+493083793369"},
//!   "steps": [
//!     {"webhook": "call_started"},
//!     {"function": "collect_appointment_data", "user": "Dienstag um halb drei, bitte.",
//!      "args": {"datum": "Dienstag", "uhrzeit": "halb drei"}},
//!     {"webhook": "call_ended", "disconnection_reason": "agent_hangup",
//!      "collected_dynamic_variables": {"booking_confirmed": "true"}},
//!     {"webhook": "call_analyzed", "call_analysis": {"call_summary": "…", "call_successful": true}}
//!   ],
//!   "expect": {"booking": "booked"}
//! }
//! ```
//!
//! - `description` (optional): printed before the call.
//! - `retell_api_key` (optional): the key to sign with when `--key` is not given.
//! - `call_id` (optional): pins the call id (else `call.call_id`, else a fresh one per run).
//! - `time_zone` (optional, IANA): zone the booked start is printed in; default
//!   `Europe/Berlin`, the demo tenant's.
//! - `call` (required): the Retell call object (§1.3) minus what replay fills in. Replay sets
//!   `call_id`, `call_status`, `start_timestamp` (ms) and the transcript fields, and adds
//!   `call_type: "phone_call"` and `direction: "inbound"` when absent; everything else (e.g.
//!   `retell_llm_dynamic_variables`, `metadata`) is sent as written.
//! - `steps` (required), each exactly one of:
//!   - `{"function": NAME, "args"?: {…}, "user"?: TEXT}` — `user` is what the caller said before
//!     the agent called the function; it and the reply's `message` (spoken by the agent) make
//!     up the transcript;
//!   - `{"webhook": EVENT, "collected_dynamic_variables"?: {…}, "disconnection_reason"?: TEXT,
//!     "call_analysis"?: {…}}` — the reason defaults to `user_hangup`.
//! - `expect` (optional): `{"booking": "booked" | "none" | "failed"}`, checked against the
//!   booking outcome seen after the last `call_ended` (the script must have one). Without a
//!   token it cannot be checked and is reported as such.
//!
//! # Exit status
//! Replay plays every file and fails (non-zero exit) when a script could not be read, a step
//! got an unexpected HTTP status (functions expect 200, webhooks 2xx) or an `expect` was not
//! met. A service that cannot be reached stops the run at once.

use crate::sandbox::DEMO_RETELL_API_KEY;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use switchboard_actors::domain::appointment::CollectedAppointment;
use switchboard_actors::records::JobStatus;
use switchboard_actors::retell::signature::sign;
use tokio::time::Instant;

/// Path of the custom-function endpoint (DESIGN §4).
const FUNCTION_PATH: &str = "/api/mcp/retell/custom-function";
/// Path of the webhook endpoint (DESIGN §4).
const WEBHOOK_PATH: &str = "/api/mcp/retell/webhook";
/// Path of the JSON-RPC gateway (DESIGN §4).
const GATEWAY_PATH: &str = "/api/mcp/gateway";
/// Path of the service's health, whose detailed form names the Retell base URL (DESIGN §4).
const HEALTH_PATH: &str = "/api/mcp/health";
/// The Retell simulator's endpoint for calls made elsewhere.
const RETELL_SIM_CALLS_PATH: &str = crate::sim::retell::CALLS_PATH;
/// Header Retell signs with (reference/retell.md §2.1).
const SIGNATURE_HEADER: &str = "X-Retell-Signature";
/// Time between two `webhook.getCall` polls.
const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// Longest wait for one HTTP answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Zone booked starts are printed in unless the script names one: the demo tenant's.
const DEFAULT_TIME_ZONE: Tz = chrono_tz::Europe::Berlin;
/// `disconnection_reason` of an ended call whose script names none (reference/retell.md §1.3).
const DEFAULT_DISCONNECTION_REASON: &str = "user_hangup";

/// Plays each script in `files` against the service at `url` (e.g. `http://127.0.0.1:8080`).
///
/// `key` overrides the Retell API key requests are signed with; `token` (admin or company
/// gateway token) lets replay wait up to `wait_s` seconds after each `call_ended` for the
/// booking and print it. `retell_sim` is the Retell simulator ended calls are posted to
/// (default: the sandbox's, from the health). Output goes to stdout, one line per step.
///
/// # Errors
/// When the service cannot be reached (at once), or — after all files were played — when any
/// script could not be read, got an unexpected HTTP status or missed its `expect`.
pub async fn run(
    files: &[PathBuf],
    url: &str,
    key: Option<&str>,
    token: Option<&str>,
    wait_s: u64,
    retell_sim: Option<&str>,
) -> anyhow::Result<()> {
    let mut service = Service {
        http: reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()?,
        url: url.trim_end_matches('/').to_owned(),
        token: token.map(str::to_owned),
        wait: Duration::from_secs(wait_s),
        retell_sim: retell_sim.map(|u| u.trim_end_matches('/').to_owned()),
    };
    if service.retell_sim.is_none() {
        service.retell_sim = service.sandbox_retell_url().await;
    }
    let mut failed = Vec::new();
    for file in files {
        println!("▶ {}", file.display());
        match play_file(&service, file, key).await {
            Ok(()) => println!("  ✓ passed\n"),
            Err(ScriptError::Unreachable(message)) => anyhow::bail!("{message}"),
            Err(ScriptError::Failed(message)) => {
                println!("  ✗ FAILED: {message}\n");
                failed.push(file.display().to_string());
            }
        }
    }
    println!(
        "{} of {} scripts passed",
        files.len() - failed.len(),
        files.len()
    );
    if failed.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("{} script(s) failed: {}", failed.len(), failed.join(", "))
    }
}

// ---------------------------------------------------------------------------------------------
// Scripts

/// A call script, validated.
#[derive(Debug, Clone, PartialEq)]
struct Script {
    description: Option<String>,
    retell_api_key: Option<String>,
    /// Pinned call id (`call_id`, else `call.call_id`).
    call_id: Option<String>,
    time_zone: Tz,
    /// The call object as written in the script.
    call: Map<String, Value>,
    steps: Vec<Step>,
    expect: Option<ExpectedBooking>,
}

/// The script file as written; [`parse_script`] validates it into a [`Script`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScript {
    description: Option<String>,
    retell_api_key: Option<String>,
    call_id: Option<String>,
    time_zone: Option<String>,
    call: Map<String, Value>,
    steps: Vec<RawStep>,
    expect: Option<Expect>,
}

/// One step as written: the union of both kinds' fields.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    function: Option<String>,
    args: Option<Map<String, Value>>,
    user: Option<String>,
    webhook: Option<String>,
    collected_dynamic_variables: Option<Map<String, Value>>,
    disconnection_reason: Option<String>,
    call_analysis: Option<Value>,
}

/// `expect` of a script.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    booking: ExpectedBooking,
}

/// What a script expects of the booking after `call_ended`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ExpectedBooking {
    /// The booking job finished and an appointment exists.
    Booked,
    /// No booking job was enqueued.
    None,
    /// The booking job was dead-lettered.
    Failed,
}

/// One step of a call.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Function(FunctionStep),
    Webhook(WebhookStep),
}

/// A custom-function call by the agent.
#[derive(Debug, Clone, PartialEq)]
struct FunctionStep {
    name: String,
    args: Map<String, Value>,
    /// What the caller said before the agent called the function (transcript only).
    user: Option<String>,
}

/// A webhook Retell posts.
#[derive(Debug, Clone, PartialEq)]
struct WebhookStep {
    event: String,
    collected_dynamic_variables: Option<Map<String, Value>>,
    disconnection_reason: Option<String>,
    call_analysis: Option<Value>,
}

impl WebhookStep {
    /// `call_ended` and `call_analyzed` carry the ended call (reference/retell.md §1.1).
    fn ends_call(&self) -> bool {
        matches!(self.event.as_str(), "call_ended" | "call_analyzed")
    }
}

/// Reads and validates the script at `path`.
fn read_script(path: &Path) -> Result<Script, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse_script(&text).map_err(|e| format!("{} is not a valid call script: {e}", path.display()))
}

/// Parses a script (format in the module docs).
fn parse_script(text: &str) -> Result<Script, String> {
    let raw: RawScript = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let steps = raw
        .steps
        .into_iter()
        .enumerate()
        .map(|(i, s)| parse_step(s).map_err(|e| format!("step {}: {e}", i + 1)))
        .collect::<Result<Vec<_>, _>>()?;
    if steps.is_empty() {
        return Err("\"steps\" is empty".to_owned());
    }
    let expect = raw.expect.map(|e| e.booking);
    let has_call_ended = steps
        .iter()
        .any(|s| matches!(s, Step::Webhook(w) if w.event == "call_ended"));
    if expect.is_some() && !has_call_ended {
        return Err("\"expect\" needs a {\"webhook\": \"call_ended\"} step".to_owned());
    }
    let time_zone = match raw.time_zone {
        Some(name) => name
            .parse()
            .map_err(|_| format!("unknown time_zone {name:?} (IANA name expected)"))?,
        None => DEFAULT_TIME_ZONE,
    };
    let pinned = raw
        .call
        .get("call_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(Script {
        description: raw.description,
        retell_api_key: raw.retell_api_key,
        call_id: raw.call_id.or(pinned),
        time_zone,
        call: raw.call,
        steps,
        expect,
    })
}

/// Turns a raw step into a function or webhook step, refusing fields of the other kind.
fn parse_step(raw: RawStep) -> Result<Step, String> {
    match (raw.function, raw.webhook) {
        (Some(name), None) => {
            if raw.collected_dynamic_variables.is_some()
                || raw.disconnection_reason.is_some()
                || raw.call_analysis.is_some()
            {
                return Err(format!(
                    "function step {name:?}: collected_dynamic_variables, disconnection_reason and call_analysis belong to webhook steps"
                ));
            }
            Ok(Step::Function(FunctionStep {
                name,
                args: raw.args.unwrap_or_default(),
                user: raw.user,
            }))
        }
        (None, Some(event)) => {
            if raw.args.is_some() || raw.user.is_some() {
                return Err(format!(
                    "webhook step {event:?}: args and user belong to function steps"
                ));
            }
            Ok(Step::Webhook(WebhookStep {
                event,
                collected_dynamic_variables: raw.collected_dynamic_variables,
                disconnection_reason: raw.disconnection_reason,
                call_analysis: raw.call_analysis,
            }))
        }
        (Some(_), Some(_)) => {
            Err("a step is either a \"function\" or a \"webhook\", not both".to_owned())
        }
        (None, None) => Err("a step needs \"function\" or \"webhook\"".to_owned()),
    }
}

/// A fresh Retell-style call id: `call_` and 28 lowercase hex digits.
fn new_call_id() -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    format!("call_{}", &hex[..28])
}

// ---------------------------------------------------------------------------------------------
// The call object

/// What happened in the call so far, for the call objects of later steps.
#[derive(Debug, Clone, PartialEq)]
struct CallState {
    call_id: String,
    /// `start_timestamp`, ms since the Unix epoch.
    started_ms: i64,
    transcript: Vec<Turn>,
    ended: Option<Ended>,
}

/// One entry of `transcript_with_tool_calls` (reference/retell.md §1.3).
#[derive(Debug, Clone, PartialEq)]
enum Turn {
    /// `role` is `agent` or `user`.
    Utterance { role: &'static str, content: String },
    Invocation {
        id: String,
        name: String,
        arguments: String,
    },
    Result {
        id: String,
        content: String,
        successful: bool,
    },
}

/// How the call ended, set by the first ending webhook and repeated by later ones.
#[derive(Debug, Clone, PartialEq)]
struct Ended {
    /// `end_timestamp`, ms since the Unix epoch.
    end_ms: i64,
    disconnection_reason: Option<String>,
    collected_dynamic_variables: Option<Map<String, Value>>,
}

impl CallState {
    /// Records how the call ended: the first ending webhook fixes `end_timestamp`; a later one
    /// (`call_analyzed`) keeps the values of the first unless it names its own.
    fn end(&mut self, step: &WebhookStep, now_ms: i64) {
        let previous = self.ended.take();
        self.ended = Some(Ended {
            end_ms: previous.as_ref().map_or(now_ms, |e| e.end_ms),
            disconnection_reason: step.disconnection_reason.clone().or_else(|| {
                previous
                    .as_ref()
                    .and_then(|e| e.disconnection_reason.clone())
            }),
            collected_dynamic_variables: step
                .collected_dynamic_variables
                .clone()
                .or_else(|| previous.and_then(|e| e.collected_dynamic_variables)),
        });
    }

    /// `transcript`: `Agent: …\nUser: …\n`.
    fn transcript_text(&self) -> String {
        self.transcript
            .iter()
            .filter_map(|t| match t {
                Turn::Utterance { role, content } => Some(format!(
                    "{}: {content}\n",
                    if *role == "agent" { "Agent" } else { "User" }
                )),
                _ => None,
            })
            .collect()
    }

    /// `transcript_object` (utterances only; no word timings).
    fn transcript_object(&self) -> Vec<Value> {
        self.transcript
            .iter()
            .filter_map(|t| match t {
                Turn::Utterance { role, content } => {
                    Some(json!({"role": role, "content": content, "words": []}))
                }
                _ => None,
            })
            .collect()
    }

    /// `transcript_with_tool_calls`.
    fn transcript_with_tool_calls(&self) -> Vec<Value> {
        self.transcript
            .iter()
            .map(|t| match t {
                Turn::Utterance { role, content } => json!({"role": role, "content": content, "words": []}),
                Turn::Invocation { id, name, arguments } => {
                    json!({"role": "tool_call_invocation", "tool_call_id": id, "name": name, "type": "custom", "arguments": arguments})
                }
                Turn::Result { id, content, successful } => {
                    json!({"role": "tool_call_result", "tool_call_id": id, "content": content, "successful": successful})
                }
            })
            .collect()
    }

    /// The call object for the next request: the script's `call` completed with the id, the
    /// status, the timestamps and what was said so far; once ended, with the end fields.
    fn call_object(&self, script_call: &Map<String, Value>) -> Value {
        let mut call = script_call.clone();
        call.entry("call_type")
            .or_insert_with(|| json!("phone_call"));
        call.entry("direction").or_insert_with(|| json!("inbound"));
        call.insert("call_id".into(), json!(self.call_id));
        call.insert("start_timestamp".into(), json!(self.started_ms));
        call.insert(
            "call_status".into(),
            json!(if self.ended.is_some() {
                "ended"
            } else {
                "ongoing"
            }),
        );
        if !self.transcript.is_empty() {
            call.insert("transcript".into(), json!(self.transcript_text()));
            call.insert("transcript_object".into(), json!(self.transcript_object()));
            call.insert(
                "transcript_with_tool_calls".into(),
                json!(self.transcript_with_tool_calls()),
            );
        }
        if let Some(ended) = &self.ended {
            call.insert("end_timestamp".into(), json!(ended.end_ms));
            call.insert("duration_ms".into(), json!(ended.end_ms - self.started_ms));
            let reason = ended
                .disconnection_reason
                .as_deref()
                .unwrap_or(DEFAULT_DISCONNECTION_REASON);
            call.insert("disconnection_reason".into(), json!(reason));
            if let Some(vars) = &ended.collected_dynamic_variables {
                call.insert(
                    "collected_dynamic_variables".into(),
                    Value::Object(vars.clone()),
                );
            }
        }
        Value::Object(call)
    }

    /// Body of a custom-function request (reference/retell.md §3.1).
    fn function_body(&self, script_call: &Map<String, Value>, step: &FunctionStep) -> Value {
        json!({"name": step.name, "call": self.call_object(script_call), "args": step.args})
    }

    /// Body of a webhook (reference/retell.md §1.2); `call_analysis` only where the step has it.
    fn webhook_body(&self, script_call: &Map<String, Value>, step: &WebhookStep) -> Value {
        let mut call = self.call_object(script_call);
        if let Some(analysis) = &step.call_analysis {
            call["call_analysis"] = analysis.clone();
        }
        json!({"event": step.event, "call": call})
    }

    /// Adds a function call and its reply to the transcript.
    fn record_function(&mut self, step: &FunctionStep, reply: &Reply) {
        if let Some(user) = &step.user {
            self.transcript.push(Turn::Utterance {
                role: "user",
                content: user.clone(),
            });
        }
        let id = format!("tool_call_{}", self.transcript.len());
        self.transcript.push(Turn::Invocation {
            id: id.clone(),
            name: step.name.clone(),
            arguments: Value::Object(step.args.clone()).to_string(),
        });
        self.transcript.push(Turn::Result {
            id,
            content: reply.text.clone(),
            successful: reply.status.is_success(),
        });
        if let Some(message) = reply.message() {
            self.transcript.push(Turn::Utterance {
                role: "agent",
                content: message,
            });
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Talking to the service

/// The service under test.
struct Service {
    http: reqwest::Client,
    /// Base URL without a trailing slash.
    url: String,
    /// Gateway token for `webhook.getCall`.
    token: Option<String>,
    /// Longest wait for a booking after `call_ended`.
    wait: Duration,
    /// Retell simulator told about ended calls, without a trailing slash.
    retell_sim: Option<String>,
}

/// Why a script did not pass.
#[derive(Debug)]
enum ScriptError {
    /// The service could not be reached: no later script can pass either.
    Unreachable(String),
    /// This script failed; the next one is still played.
    Failed(String),
}

/// An HTTP answer.
#[derive(Debug, Clone)]
struct Reply {
    status: StatusCode,
    text: String,
}

impl Reply {
    fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.text).ok()
    }

    /// The spoken `message` of a function reply, or the `error.message` of an error body.
    fn message(&self) -> Option<String> {
        let body = self.json()?;
        body.get("message")
            .or_else(|| body.pointer("/error/message"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    }
}

impl Service {
    /// The Retell base URL the service's detailed health reports when it runs in sandbox
    /// mode (the simulator); `None` without a token, outside sandbox mode, or on any error.
    async fn sandbox_retell_url(&self) -> Option<String> {
        let token = self.token.as_ref()?;
        let health: Value = self
            .http
            .get(format!("{}{HEALTH_PATH}", self.url))
            .bearer_auth(token)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        let url = health.pointer("/services/retell/base_url")?.as_str()?;
        (health["mode"] == "sandbox").then(|| url.trim_end_matches('/').to_owned())
    }

    /// Posts the ended `call` to the Retell simulator, if there is one, and says how it went.
    async fn tell_retell_sim(&self, call: &Value) {
        let Some(sim) = &self.retell_sim else {
            return;
        };
        let sent = self
            .http
            .post(format!("{sim}{RETELL_SIM_CALLS_PATH}"))
            .json(call)
            .send()
            .await;
        match sent {
            Ok(reply) if reply.status().is_success() => {
                println!("  → Retell simulator {sim} knows the call");
            }
            Ok(reply) => println!(
                "  ! Retell simulator {sim} refused the call: HTTP {} {}",
                reply.status(),
                reply.text().await.unwrap_or_default().trim()
            ),
            Err(e) => println!(
                "  ! Retell simulator {sim} not reached: {:#}",
                anyhow::Error::from(e)
            ),
        }
    }

    /// POSTs `body` to `path`, serialised once and signed over exactly those bytes.
    async fn post_signed(&self, path: &str, body: &Value, key: &str) -> Result<Reply, ScriptError> {
        let bytes = serde_json::to_vec(body).expect("a JSON value serialises");
        let signature = sign(&bytes, key, Utc::now().timestamp_millis());
        let request = self
            .http
            .post(format!("{}{path}", self.url))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .body(bytes);
        self.send(request).await
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Reply, ScriptError> {
        let response = request.send().await.map_err(|e| self.transport_error(e))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| self.transport_error(e))?;
        Ok(Reply { status, text })
    }

    fn transport_error(&self, e: reqwest::Error) -> ScriptError {
        if e.is_connect() {
            ScriptError::Unreachable(format!(
                "cannot connect to {}: {:#}. Is the service running? Start it with `switchboard serve` \
                 (or pass --url where it listens).",
                self.url,
                anyhow::Error::from(e)
            ))
        } else if e.is_timeout() {
            ScriptError::Failed(format!(
                "no answer from {} within {} s",
                self.url,
                REQUEST_TIMEOUT.as_secs()
            ))
        } else {
            ScriptError::Failed(format!(
                "request to {} failed: {:#}",
                self.url,
                anyhow::Error::from(e)
            ))
        }
    }

    /// `webhook.getCall` through the gateway: `result.data` (DESIGN §5).
    async fn get_call(&self, token: &str, call_id: &str) -> Result<CallView, ScriptError> {
        let rpc = json!({"jsonrpc": "2.0", "id": 1, "method": "webhook.getCall", "params": {"call_id": call_id}});
        let reply = self
            .send(
                self.http
                    .post(format!("{}{GATEWAY_PATH}", self.url))
                    .bearer_auth(token)
                    .json(&rpc),
            )
            .await?;
        let failed = |why: String| ScriptError::Failed(format!("webhook.getCall: {why}"));
        if !reply.status.is_success() {
            return Err(failed(format!(
                "HTTP {}: {}",
                reply.status,
                reply.text.trim()
            )));
        }
        let body = reply
            .json()
            .ok_or_else(|| failed(format!("not JSON: {}", reply.text.trim())))?;
        if let Some(error) = body.get("error") {
            return Err(failed(format!("gateway error {error}")));
        }
        let data = body.pointer("/result/data").cloned().unwrap_or(Value::Null);
        serde_json::from_value(data)
            .map_err(|e| failed(format!("unexpected result ({e}): {}", reply.text.trim())))
    }

    /// Polls `webhook.getCall` until the booking is settled or the wait is over.
    async fn wait_for_booking(&self, token: &str, call_id: &str) -> Result<Booking, ScriptError> {
        let deadline = Instant::now() + self.wait;
        loop {
            let view = self.get_call(token, call_id).await?;
            if let Some(settled) = settle(&view) {
                return Ok(settled);
            }
            if Instant::now() >= deadline {
                let status = view.booking_job.map_or("none", |j| j.status.as_str());
                return Ok(Booking::Waiting {
                    status,
                    waited: self.wait,
                });
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }
}

/// The part of `webhook.getCall`'s `CallView` replay reads.
#[derive(Debug, Clone, Deserialize)]
struct CallView {
    collected: Option<CollectedAppointment>,
    booking_job: Option<JobView>,
    appointment: Option<AppointmentView>,
}

/// `CallView.booking_job`.
#[derive(Debug, Clone, Deserialize)]
struct JobView {
    status: JobStatus,
    attempts: u32,
    last_error: Option<String>,
}

/// `CallView.appointment`.
#[derive(Debug, Clone, Deserialize)]
struct AppointmentView {
    booking_uid: String,
    start: DateTime<Utc>,
}

/// The booking outcome of a call as seen through the gateway.
#[derive(Debug, Clone, PartialEq)]
enum Booking {
    Booked {
        uid: String,
        start: DateTime<Utc>,
    },
    /// No job was enqueued at `call_ended`.
    NoJob {
        reason: String,
    },
    /// Dead letter.
    Failed {
        attempts: u32,
        error: Option<String>,
    },
    /// Not settled within the wait; `status` is the job's, or `none`.
    Waiting {
        status: &'static str,
        waited: Duration,
    },
}

/// The outcome if the call is settled: job done with an appointment, job failed, or no job.
fn settle(view: &CallView) -> Option<Booking> {
    let Some(job) = &view.booking_job else {
        return Some(Booking::NoJob {
            reason: no_job_reason(view.collected.as_ref()),
        });
    };
    match (job.status, &view.appointment) {
        (JobStatus::Done, Some(a)) => Some(Booking::Booked {
            uid: a.booking_uid.clone(),
            start: a.start,
        }),
        (JobStatus::Failed, _) => Some(Booking::Failed {
            attempts: job.attempts,
            error: job.last_error.clone(),
        }),
        _ => None,
    }
}

/// Why `call_ended` enqueued no booking, judged from the collected data (DESIGN §3).
fn no_job_reason(collected: Option<&CollectedAppointment>) -> String {
    let Some(collected) = collected else {
        return "no appointment data was collected".to_owned();
    };
    let missing: Vec<&str> = collected
        .missing_fields()
        .iter()
        .map(|f| f.arg_name())
        .collect();
    if !missing.is_empty() {
        format!("data incomplete (missing {})", missing.join(", "))
    } else if !collected.confirmed {
        "the caller never confirmed".to_owned()
    } else {
        "no job although the data is complete and confirmed".to_owned()
    }
}

impl Booking {
    /// One line for the output, the start in `tz`.
    fn describe(&self, tz: Tz) -> String {
        match self {
            Self::Booked { uid, start } => {
                format!(
                    "booked: uid {uid}, start {}",
                    start.with_timezone(&tz).format("%a %Y-%m-%d %H:%M %Z")
                )
            }
            Self::NoJob { reason } => format!("no booking job: {reason}"),
            Self::Failed { attempts, error } => format!(
                "booking FAILED (dead letter after {attempts} attempt(s)): {}",
                error.as_deref().unwrap_or("no error recorded")
            ),
            Self::Waiting { status, waited } => {
                format!(
                    "booking not settled after {} s (job {status}); try a larger --wait-s",
                    waited.as_secs()
                )
            }
        }
    }
}

/// `Ok` when `outcome` meets `expected`; else the mismatch, the start shown in `tz`.
fn check_expectation(expected: ExpectedBooking, outcome: &Booking, tz: Tz) -> Result<(), String> {
    match (expected, outcome) {
        (ExpectedBooking::Booked, Booking::Booked { .. })
        | (ExpectedBooking::None, Booking::NoJob { .. })
        | (ExpectedBooking::Failed, Booking::Failed { .. }) => Ok(()),
        _ => Err(format!(
            "expected booking {expected}, got: {}",
            outcome.describe(tz)
        )),
    }
}

impl fmt::Display for ExpectedBooking {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Booked => "booked",
            Self::None => "none",
            Self::Failed => "failed",
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Playing a script

/// Which key signs, and where it came from (printed, so a 401 is easy to read).
fn signing_key<'a>(flag: Option<&'a str>, script: &'a Script) -> (&'a str, &'static str) {
    match (flag, script.retell_api_key.as_deref()) {
        (Some(key), _) => (key, "--key"),
        (None, Some(key)) => (key, "the script's retell_api_key"),
        (None, None) => (DEMO_RETELL_API_KEY, "the sandbox demo key"),
    }
}

/// The spoken message of a reply, shortened to one readable line.
fn quoted(reply: &Reply) -> String {
    match reply.message() {
        Some(m) => format!("“{m}”"),
        None if reply.text.trim().is_empty() => String::new(),
        None => reply.text.trim().chars().take(200).collect(),
    }
}

/// Prints one step: what was sent, the HTTP status and the reply's message.
fn print_step(what: &str, reply: &Reply) {
    let line = format!("  {what:<26} {}  {}", reply.status, quoted(reply));
    println!("{}", line.trim_end());
}

/// Fails the script unless `reply` has the expected status.
fn require(reply: &Reply, ok: bool, what: &str, key_source: &str) -> Result<(), ScriptError> {
    if ok {
        return Ok(());
    }
    let hint = if reply.status == StatusCode::UNAUTHORIZED {
        format!(" (signed with {key_source}; is it the tenant's Retell API key?)")
    } else {
        String::new()
    };
    Err(ScriptError::Failed(format!(
        "{what}: unexpected HTTP {}{hint} {}",
        reply.status,
        quoted(reply)
    )))
}

async fn play_file(service: &Service, path: &Path, key: Option<&str>) -> Result<(), ScriptError> {
    let script = read_script(path).map_err(ScriptError::Failed)?;
    let (key, key_source) = signing_key(key, &script);
    let mut state = CallState {
        call_id: script.call_id.clone().unwrap_or_else(new_call_id),
        started_ms: Utc::now().timestamp_millis(),
        transcript: Vec::new(),
        ended: None,
    };
    if let Some(description) = &script.description {
        println!("  {description}");
    }
    let number = |field: &str| {
        script
            .call
            .get(field)
            .and_then(Value::as_str)
            .unwrap_or("?")
    };
    println!(
        "  call {} from {} to {} (signed with {key_source})",
        state.call_id,
        number("from_number"),
        number("to_number")
    );
    let mut booking = None;
    let mut ended_call = None;
    for step in &script.steps {
        match step {
            Step::Function(f) => {
                play_function(service, &script, &mut state, f, key, key_source).await?
            }
            Step::Webhook(w) => {
                if let Some(outcome) =
                    play_webhook(service, &script, &mut state, w, key, key_source).await?
                {
                    booking = Some(outcome);
                }
                if w.ends_call() {
                    ended_call = Some(state.webhook_body(&script.call, w)["call"].take());
                }
            }
        }
    }
    if let Some(call) = &ended_call {
        service.tell_retell_sim(call).await;
    }
    match (script.expect, &booking) {
        (Some(expected), None) => {
            println!("  expect booking {expected}: not checked (no gateway token)")
        }
        (Some(expected), Some(outcome)) => {
            check_expectation(expected, outcome, script.time_zone).map_err(ScriptError::Failed)?;
            println!("  expect booking {expected}: met");
        }
        (None, _) => {}
    }
    Ok(())
}

async fn play_function(
    service: &Service,
    script: &Script,
    state: &mut CallState,
    step: &FunctionStep,
    key: &str,
    key_source: &str,
) -> Result<(), ScriptError> {
    let body = state.function_body(&script.call, step);
    let reply = service.post_signed(FUNCTION_PATH, &body, key).await?;
    print_step(&step.name, &reply);
    require(
        &reply,
        reply.status == StatusCode::OK,
        &step.name,
        key_source,
    )?;
    state.record_function(step, &reply);
    Ok(())
}

/// Sends a webhook; after `call_ended`, given a token, waits for and returns the booking
/// outcome.
async fn play_webhook(
    service: &Service,
    script: &Script,
    state: &mut CallState,
    step: &WebhookStep,
    key: &str,
    key_source: &str,
) -> Result<Option<Booking>, ScriptError> {
    if step.ends_call() {
        state.end(step, Utc::now().timestamp_millis());
    }
    let body = state.webhook_body(&script.call, step);
    let reply = service.post_signed(WEBHOOK_PATH, &body, key).await?;
    let label = format!("webhook {}", step.event);
    print_step(&label, &reply);
    require(&reply, reply.status.is_success(), &label, key_source)?;
    if step.event != "call_ended" {
        return Ok(None);
    }
    let Some(token) = &service.token else {
        println!(
            "  cannot wait for the booking: no gateway token (pass --token or set SWITCHBOARD__SANDBOX__ADMIN_TOKEN)"
        );
        return Ok(None);
    };
    let outcome = service.wait_for_booking(token, &state.call_id).await?;
    println!("  → {}", outcome.describe(script.time_zone));
    Ok(Some(outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str =
        r#"{"call": {"to_number": "+493083793369"}, "steps": [{"webhook": "call_started"}]}"#;

    fn script(text: &str) -> Script {
        parse_script(text).unwrap()
    }

    fn webhook(event: &str) -> WebhookStep {
        WebhookStep {
            event: event.to_owned(),
            collected_dynamic_variables: None,
            disconnection_reason: None,
            call_analysis: None,
        }
    }

    fn state() -> CallState {
        CallState {
            call_id: "call_1".to_owned(),
            started_ms: 1_000,
            transcript: Vec::new(),
            ended: None,
        }
    }

    fn reply(status: u16, text: &str) -> Reply {
        Reply {
            status: StatusCode::from_u16(status).unwrap(),
            text: text.to_owned(),
        }
    }

    #[test]
    fn example_scripts_parse() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/calls");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let s = read_script(&path).unwrap();
                assert!(s.expect.is_some(), "{} has no expect", path.display());
                seen += 1;
            }
        }
        assert!(seen >= 4, "expected the example scripts, found {seen}");
    }

    #[test]
    fn minimal_script_gets_defaults() {
        let s = script(MINIMAL);
        assert_eq!(s.time_zone, DEFAULT_TIME_ZONE);
        assert_eq!(s.call_id, None);
        assert_eq!(s.expect, None);
        assert_eq!(s.steps, vec![Step::Webhook(webhook("call_started"))]);
    }

    #[test]
    fn call_id_is_pinned_at_top_level_or_in_the_call() {
        let s = script(
            r#"{"call_id": "call_top", "call": {"call_id": "call_in"}, "steps": [{"webhook": "call_started"}]}"#,
        );
        assert_eq!(s.call_id.as_deref(), Some("call_top"));
        let s =
            script(r#"{"call": {"call_id": "call_in"}, "steps": [{"webhook": "call_started"}]}"#);
        assert_eq!(s.call_id.as_deref(), Some("call_in"));
    }

    #[test]
    fn function_step_reads_name_args_and_utterance() {
        let s = script(
            r#"{"call": {}, "steps": [{"function": "collect_appointment_data", "user": "Morgen", "args": {"datum": "morgen"}}]}"#,
        );
        let Step::Function(f) = &s.steps[0] else {
            panic!("not a function step")
        };
        assert_eq!(f.name, "collect_appointment_data");
        assert_eq!(f.args["datum"], "morgen");
        assert_eq!(f.user.as_deref(), Some("Morgen"));
    }

    #[test]
    fn bad_scripts_are_refused_with_the_reason() {
        let cases = [
            (r#"{"steps": []}"#, "missing field `call`"),
            (r#"{"call": {}, "steps": []}"#, "\"steps\" is empty"),
            (r#"{"call": {}, "steps": [{}]}"#, "step 1: a step needs"),
            (
                r#"{"call": {}, "steps": [{"function": "f", "webhook": "call_ended"}]}"#,
                "not both",
            ),
            (
                r#"{"call": {}, "steps": [{"function": "f", "call_analysis": {}}]}"#,
                "belong to webhook steps",
            ),
            (
                r#"{"call": {}, "steps": [{"webhook": "call_ended", "args": {}}]}"#,
                "belong to function steps",
            ),
            (
                r#"{"call": {}, "steps": [{"webhook": "call_started"}], "expect": {"booking": "booked"}}"#,
                "needs a",
            ),
            (
                r#"{"call": {}, "steps": [{"webhook": "call_ended"}], "expect": {"booking": "maybe"}}"#,
                "unknown variant",
            ),
            (
                r#"{"call": {}, "time_zone": "Mars/Olympus", "steps": [{"webhook": "call_ended"}]}"#,
                "unknown time_zone",
            ),
            (r#"{"call": {}, "stepz": []}"#, "unknown field `stepz`"),
        ];
        for (text, want) in cases {
            let err = parse_script(text).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
    }

    #[test]
    fn unreadable_file_names_the_path() {
        let err = read_script(Path::new("/nonexistent/call.json")).unwrap_err();
        assert!(
            err.starts_with("cannot read /nonexistent/call.json"),
            "{err}"
        );
    }

    #[test]
    fn generated_call_ids_look_like_retells() {
        let id = new_call_id();
        assert_eq!(id.len(), 5 + 28);
        assert!(id.starts_with("call_"));
        assert!(
            id[5..]
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_ne!(id, new_call_id());
    }

    #[test]
    fn live_call_object_is_ongoing_and_keeps_script_fields() {
        let call = script(r#"{"call": {"agent_id": "agent_1", "direction": "outbound", "call_status": "registered"}, "steps": [{"webhook": "call_started"}]}"#).call;
        let obj = state().call_object(&call);
        assert_eq!(obj["call_id"], "call_1");
        assert_eq!(obj["agent_id"], "agent_1");
        assert_eq!(obj["direction"], "outbound");
        assert_eq!(obj["call_type"], "phone_call");
        assert_eq!(obj["call_status"], "ongoing");
        assert_eq!(obj["start_timestamp"], 1_000);
        for absent in [
            "end_timestamp",
            "duration_ms",
            "transcript",
            "collected_dynamic_variables",
        ] {
            assert!(obj.get(absent).is_none(), "{absent}");
        }
    }

    #[test]
    fn function_body_carries_name_call_and_args_and_the_live_transcript() {
        let mut st = state();
        let step = FunctionStep {
            name: "collect_appointment_data".to_owned(),
            args: serde_json::from_str(r#"{"datum": "morgen"}"#).unwrap(),
            user: Some("Morgen bitte.".to_owned()),
        };
        st.record_function(&step, &reply(200, r#"{"message": "Um wie viel Uhr?"}"#));
        let body = st.function_body(&Map::new(), &step);
        assert_eq!(body["name"], "collect_appointment_data");
        assert_eq!(body["args"]["datum"], "morgen");
        assert_eq!(
            body["call"]["transcript"],
            "User: Morgen bitte.\nAgent: Um wie viel Uhr?\n"
        );
        let tools = body["call"]["transcript_with_tool_calls"]
            .as_array()
            .unwrap();
        assert_eq!(tools.len(), 4);
        assert_eq!(tools[1]["role"], "tool_call_invocation");
        assert_eq!(tools[1]["arguments"], r#"{"datum":"morgen"}"#);
        assert_eq!(tools[2]["role"], "tool_call_result");
        assert_eq!(tools[2]["tool_call_id"], tools[1]["tool_call_id"]);
        assert_eq!(tools[2]["successful"], true);
        assert_eq!(
            body["call"]["transcript_object"].as_array().unwrap().len(),
            2
        );
    }

    #[test]
    fn call_ended_completes_the_call_object() {
        let mut st = state();
        let mut ended = webhook("call_ended");
        ended.collected_dynamic_variables =
            Some(serde_json::from_str(r#"{"booking_confirmed": "true"}"#).unwrap());
        st.end(&ended, 61_000);
        let body = st.webhook_body(&Map::new(), &ended);
        assert_eq!(body["event"], "call_ended");
        let call = &body["call"];
        assert_eq!(call["call_status"], "ended");
        assert_eq!(call["end_timestamp"], 61_000);
        assert_eq!(call["duration_ms"], 60_000);
        assert_eq!(call["disconnection_reason"], DEFAULT_DISCONNECTION_REASON);
        assert_eq!(
            call["collected_dynamic_variables"]["booking_confirmed"],
            "true"
        );
        assert!(call.get("call_analysis").is_none());
    }

    #[test]
    fn call_analyzed_repeats_the_ended_call_and_adds_the_analysis() {
        let mut st = state();
        let mut ended = webhook("call_ended");
        ended.disconnection_reason = Some("agent_hangup".to_owned());
        ended.collected_dynamic_variables = Some(serde_json::from_str(r#"{"x": "1"}"#).unwrap());
        st.end(&ended, 5_000);
        let mut analyzed = webhook("call_analyzed");
        analyzed.call_analysis = Some(json!({"call_successful": true}));
        st.end(&analyzed, 9_000);
        let call = &st.webhook_body(&Map::new(), &analyzed)["call"];
        assert_eq!(call["end_timestamp"], 5_000);
        assert_eq!(call["disconnection_reason"], "agent_hangup");
        assert_eq!(call["collected_dynamic_variables"]["x"], "1");
        assert_eq!(call["call_analysis"]["call_successful"], true);
    }

    #[test]
    fn only_ending_events_end_the_call() {
        assert!(webhook("call_ended").ends_call());
        assert!(webhook("call_analyzed").ends_call());
        assert!(!webhook("call_started").ends_call());
        assert!(!webhook("transcript_updated").ends_call());
    }

    #[test]
    fn reply_message_is_the_spoken_text_or_the_error() {
        assert_eq!(
            reply(200, r#"{"message": "Hallo"}"#).message().as_deref(),
            Some("Hallo")
        );
        assert_eq!(
            reply(
                401,
                r#"{"error": {"code": "unauthorized", "message": "bad"}}"#
            )
            .message()
            .as_deref(),
            Some("bad")
        );
        assert_eq!(reply(204, "").message(), None);
        assert_eq!(quoted(&reply(500, "oops")), "oops");
    }

    #[test]
    fn signing_key_precedence_is_flag_then_script_then_demo() {
        let mut s = script(MINIMAL);
        assert_eq!(signing_key(None, &s).0, DEMO_RETELL_API_KEY);
        s.retell_api_key = Some("key_script".to_owned());
        assert_eq!(signing_key(None, &s).0, "key_script");
        assert_eq!(signing_key(Some("key_flag"), &s).0, "key_flag");
    }

    fn view(text: &str) -> CallView {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn settled_outcomes_are_read_from_the_call_view() {
        let booked = view(
            r#"{"booking_job": {"status": "done", "attempts": 1, "last_error": null},
                "appointment": {"booking_uid": "uid1", "start": "2026-11-24T13:30:00Z"}, "collected": null}"#,
        );
        let Some(Booking::Booked { uid, start }) = settle(&booked) else {
            panic!("not booked")
        };
        assert_eq!(uid, "uid1");
        assert_eq!(
            Booking::Booked { uid, start }.describe(DEFAULT_TIME_ZONE),
            "booked: uid uid1, start Tue 2026-11-24 14:30 CET"
        );
        let failed = view(
            r#"{"booking_job": {"status": "failed", "attempts": 5, "last_error": "slot taken"}}"#,
        );
        assert_eq!(
            settle(&failed),
            Some(Booking::Failed {
                attempts: 5,
                error: Some("slot taken".to_owned())
            })
        );
        for pending in ["pending", "running", "done"] {
            let v = view(&format!(
                r#"{{"booking_job": {{"status": "{pending}", "attempts": 0}}}}"#
            ));
            assert_eq!(settle(&v), None, "{pending}");
        }
    }

    #[test]
    fn no_job_says_what_was_missing_or_unconfirmed() {
        let missing = view(
            r#"{"collected": {"date": "2026-11-24", "time": "14:30:00", "name": "Max", "confirmed": false}}"#,
        );
        assert_eq!(
            settle(&missing),
            Some(Booking::NoJob {
                reason: "data incomplete (missing dienstleistung, telefonnummer)".to_owned()
            })
        );
        let unconfirmed = view(
            r#"{"collected": {"date": "2026-11-24", "time": "14:30:00", "name": "Max", "phone": "+4915123456789",
                "service": {"service_id": 1, "name": "Herrenhaarschnitt", "duration_min": 30, "event_type_id": 1001},
                "confirmed": false}}"#,
        );
        assert_eq!(
            settle(&unconfirmed),
            Some(Booking::NoJob {
                reason: "the caller never confirmed".to_owned()
            })
        );
        assert_eq!(
            settle(&view("{}")),
            Some(Booking::NoJob {
                reason: "no appointment data was collected".to_owned()
            })
        );
    }

    #[test]
    fn expectations_match_outcomes() {
        let booked = Booking::Booked {
            uid: "u".to_owned(),
            start: DateTime::UNIX_EPOCH,
        };
        let none = Booking::NoJob {
            reason: "r".to_owned(),
        };
        let failed = Booking::Failed {
            attempts: 5,
            error: None,
        };
        let waiting = Booking::Waiting {
            status: "pending",
            waited: Duration::from_secs(15),
        };
        let tz = DEFAULT_TIME_ZONE;
        assert!(check_expectation(ExpectedBooking::Booked, &booked, tz).is_ok());
        assert!(check_expectation(ExpectedBooking::None, &none, tz).is_ok());
        assert!(check_expectation(ExpectedBooking::Failed, &failed, tz).is_ok());
        let err = check_expectation(ExpectedBooking::Booked, &none, tz).unwrap_err();
        assert_eq!(err, "expected booking booked, got: no booking job: r");
        assert!(check_expectation(ExpectedBooking::None, &booked, tz).is_err());
        assert!(check_expectation(ExpectedBooking::Booked, &waiting, tz).is_err());
        assert!(check_expectation(ExpectedBooking::Failed, &waiting, tz).is_err());
    }

    #[test]
    fn unexpected_status_mentions_the_signing_key_on_401() {
        let err = require(
            &reply(401, r#"{"error": {"message": "mismatch"}}"#),
            false,
            "webhook call_ended",
            "--key",
        );
        let Err(ScriptError::Failed(message)) = err else {
            panic!("not a failure")
        };
        assert!(
            message.contains("401 Unauthorized")
                && message.contains("signed with --key")
                && message.contains("mismatch"),
            "{message}"
        );
        assert!(require(&reply(204, ""), true, "x", "--key").is_ok());
    }
}
