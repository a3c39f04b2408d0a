//! Phases 3 (live functions) and 4 (calls over the tenants), the memory figure and the
//! Retell requests they and phase 5 send, each against the running processes in [`Env`]:
//! requests are built and signed here exactly as Retell and an admin client send them
//! (reference/retell.md §2–§3, DESIGN §4). Phases 1 and 2 are `wrk`'s ([`crate::wrk`]).

use crate::common::ADMIN;
use crate::cpu::{CpuUse, cpu_s, own_cpu_s};
use crate::driver::{ClosedRun, Latency, Recorder, bounded, closed_loop, open_loop};
use crate::tenants::Tenant;
use bytes::Bytes;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_actors::retell::signature::sign;

/// The processes under load and the client that drives them.
#[derive(Clone)]
pub struct Env {
    pub client: reqwest::Client,
    /// `http://127.0.0.1:PORT` of `switchboard serve`.
    pub app: String,
    /// The Cal.com simulator.
    pub sim: String,
    /// The bare actix-web baseline.
    pub baseline: String,
    /// Process id of `switchboard serve` (for its RSS and CPU).
    pub serve_pid: u32,
    /// The tenants of the calls phase (the demo tenant first); the other phases drive the
    /// demo tenant alone.
    pub tenants: Arc<[Tenant]>,
}

impl Env {
    /// The sandbox demo tenant.
    pub fn demo(&self) -> &Tenant {
        &self.tenants[0]
    }
}

/// The JSON-RPC request of the gateway and baseline phases.
pub const EVENT_TYPES_REQUEST: &str =
    r#"{"jsonrpc":"2.0","id":1,"method":"calcom.getEventTypes","params":{"company_id":1}}"#;

/// Resident and peak resident memory of process `pid`, in MiB (`VmRSS`, `VmHWM`).
pub fn rss_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The gateway's reply to [`EVENT_TYPES_REQUEST`], checked to be a result (this also fills
/// the cache the gateway phase measures).
pub async fn event_types_reply(env: &Env) -> Vec<u8> {
    let reply = env
        .client
        .post(format!("{}/api/mcp/gateway", env.app))
        .bearer_auth(ADMIN)
        .header("content-type", "application/json")
        .body(EVENT_TYPES_REQUEST)
        .send()
        .await
        .expect("gateway answers")
        .bytes()
        .await
        .expect("gateway reply");
    let parsed: Value = serde_json::from_slice(&reply).expect("gateway reply is JSON");
    assert!(
        parsed["result"]["success"] == true,
        "calcom.getEventTypes failed: {parsed}"
    );
    reply.to_vec()
}

/// A Retell call object (reference/retell.md §1.3) for a live or ended call to `tenant`.
pub fn call_object(call_id: &str, caller: &str, tenant: &Tenant, ended: bool) -> Value {
    let now = Utc::now().timestamp_millis();
    let mut call = json!({
        "call_id": call_id, "agent_id": "agent_load", "call_type": "phone_call",
        "direction": "inbound", "from_number": caller, "to_number": tenant.number,
        "call_status": if ended { "ended" } else { "ongoing" }, "start_timestamp": now,
    });
    if ended {
        call["end_timestamp"] = json!(now);
    }
    call
}

/// POSTs `body` signed with `tenant`'s Retell key (fresh timestamp) to `path`; returns the
/// status and the reply.
async fn signed(
    env: &Env,
    tenant: &Tenant,
    path: &str,
    body: &Value,
) -> Result<(u16, Vec<u8>), String> {
    let bytes = serde_json::to_vec(body).expect("JSON");
    let signature = sign(&bytes, &tenant.retell_key, Utc::now().timestamp_millis());
    send_signed(env, path, Bytes::from(bytes), signature).await
}

/// POSTs `body` with the Retell signature header `signature` to `path`.
async fn send_signed(
    env: &Env,
    path: &str,
    body: Bytes,
    signature: String,
) -> Result<(u16, Vec<u8>), String> {
    let reply = env
        .client
        .post(format!("{}{path}", env.app))
        .header("content-type", "application/json")
        .header("X-Retell-Signature", signature)
        .body(body)
        .send()
        .await
        .map_err(|e| format!("{path}: {e}"))?;
    let status = reply.status().as_u16();
    let body = reply.bytes().await.map_err(|e| format!("{path}: {e}"))?;
    Ok((status, body.to_vec()))
}

/// Path of Retell's custom-function requests.
const FUNCTION_PATH: &str = "/api/mcp/retell/custom-function";

/// One custom function call as Retell sends it, recorded as `kind`; fails on a non-200, a
/// spoken fallback or a rate-limit hold.
pub async fn function(
    env: &Env,
    tenant: &Tenant,
    (name, kind): (&'static str, &'static str),
    call: &Value,
    args: Value,
    rec: &mut Recorder,
) -> bool {
    let body = json!({"name": name, "call": call, "args": args});
    let started = tokio::time::Instant::now();
    let sent = signed(env, tenant, FUNCTION_PATH, &body).await;
    judge_function(kind, sent, started, rec)
}

/// Records the answer of a custom function started at `started` as `kind`, or its failure.
fn judge_function(
    kind: &'static str,
    sent: Result<(u16, Vec<u8>), String>,
    started: tokio::time::Instant,
    rec: &mut Recorder,
) -> bool {
    let outcome = match sent {
        Ok((200, reply)) => {
            let took = started.elapsed();
            let reply: Value = serde_json::from_slice(&reply).unwrap_or_default();
            if reply.get("fallback").is_some() || reply.get("rate_limited").is_some() {
                Err(format!("{kind}: fallback answer {reply}"))
            } else {
                rec.record(kind, took);
                Ok(())
            }
        }
        Ok((status, reply)) => Err(format!(
            "{kind}: HTTP {status} {}",
            String::from_utf8_lossy(&reply)
        )),
        Err(e) => Err(e),
    };
    outcome.map_err(|e| rec.fail(e)).is_ok()
}

/// One webhook (`call_started` / `call_ended`) to `tenant`; fails unless acknowledged with
/// 204.
pub async fn webhook(
    env: &Env,
    tenant: &Tenant,
    event: &'static str,
    call: Value,
    rec: &mut Recorder,
) -> bool {
    let body = json!({"event": event, "call": call});
    let started = tokio::time::Instant::now();
    match signed(env, tenant, "/api/mcp/retell/webhook", &body).await {
        Ok((204, _)) => {
            rec.record(event, started.elapsed());
            true
        }
        Ok((status, reply)) => {
            rec.fail(format!(
                "{event}: HTTP {status} {}",
                String::from_utf8_lossy(&reply)
            ));
            false
        }
        Err(e) => {
            rec.fail(e);
            false
        }
    }
}

/// The args naming a slot, in German (as the demo agent speaks).
pub fn slot_args(date: NaiveDate, time: NaiveTime) -> Value {
    json!({"dienstleistung": "Herrenhaarschnitt", "datum": date.format("%d.%m.%Y").to_string(),
           "uhrzeit": time.format("%H:%M").to_string()})
}

/// The caller's number (E.164, a valid German mobile +49151…) of call `call_id`: eight
/// digits from an FNV-1a hash of the id, so the same call always has the same caller.
pub fn caller(call_id: &str) -> String {
    let hash = call_id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("+49151{:08}", hash % 100_000_000)
}

/// Starts a call as Retell does: `call_started`, then the slot in `collect_appointment_data`;
/// false once a step failed.
async fn start_call(
    env: &Env,
    tenant: &Tenant,
    call: &Value,
    date: NaiveDate,
    time: NaiveTime,
    rec: &mut Recorder,
) -> bool {
    webhook(env, tenant, "call_started", call.clone(), rec).await
        && function(env, tenant, COLLECT, call, slot_args(date, time), rec).await
}

/// `collect_appointment_data`, recorded under its name.
const COLLECT: (&str, &str) = ("collect_appointment_data", "collect_appointment_data");
/// `check_availability`, recorded under its name.
const CHECK: (&str, &str) = ("check_availability", "check_availability");

/// Opens `ids` as live calls of the demo tenant ([`start_call`]), `limit` at a time; fails
/// on any error.
pub async fn open_calls(
    env: &Env,
    ids: &[String],
    slots: &[(NaiveDate, NaiveTime)],
    limit: usize,
) -> anyhow::Result<()> {
    let jobs = ids.iter().enumerate().map(|(i, id)| {
        let env = env.clone();
        let (date, time) = slots[i % slots.len()];
        async move {
            let mut rec = Recorder::default();
            let call = call_object(id, &caller(id), env.demo(), false);
            start_call(&env, env.demo(), &call, date, time, &mut rec).await;
            rec
        }
    });
    let opened = merge(bounded(limit, jobs).await);
    anyhow::ensure!(
        opened.errors == 0,
        "opening live calls: {:?}",
        opened.first_error
    );
    Ok(())
}

/// Ends the demo tenant's calls `ids` (unconfirmed: no booking follows), `limit` at a time.
pub async fn end_calls(env: &Env, ids: &[String], limit: usize) -> Recorder {
    let jobs = ids.iter().map(|id| {
        let env = env.clone();
        async move {
            let mut rec = Recorder::default();
            webhook(
                &env,
                env.demo(),
                "call_ended",
                call_object(id, &caller(id), env.demo(), true),
                &mut rec,
            )
            .await;
            rec
        }
    });
    merge(bounded(limit, jobs).await)
}

/// All of `recs` in one.
pub fn merge(recs: Vec<Recorder>) -> Recorder {
    let mut all = Recorder::default();
    for r in recs {
        all.merge(r);
    }
    all
}

/// Signatures are good for 5 minutes (`retell.signature_tolerance_ms`); a pooled request is
/// signed again once its signature is older than this.
const RESIGN_AFTER: Duration = Duration::from_secs(240);

/// Requests pre-built per live call (an even number: the two functions alternate).
const POOL_PER_CALL: usize = 16;

/// A custom-function request built and signed ahead of time, so the client only sends it:
/// the same request again under the same signature is what Retell sends when it retries, which
/// the replay guard lets through to run as usual (README, "A signature is good for one
/// request").
struct Presigned {
    /// The function, also the kind it is recorded as.
    kind: &'static str,
    body: Bytes,
    key: Arc<str>,
    /// When it was signed, and the `X-Retell-Signature` value.
    signature: Mutex<(std::time::Instant, String)>,
}

impl Presigned {
    fn new(kind: &'static str, body: Vec<u8>, key: Arc<str>) -> Self {
        let signature = sign(&body, &key, Utc::now().timestamp_millis());
        Self {
            kind,
            body: Bytes::from(body),
            key,
            signature: Mutex::new((std::time::Instant::now(), signature)),
        }
    }

    /// The signature, renewed once older than [`RESIGN_AFTER`].
    fn signature(&self) -> String {
        let mut signed = self.signature.lock().unwrap_or_else(|e| e.into_inner());
        if signed.0.elapsed() > RESIGN_AFTER {
            *signed = (
                std::time::Instant::now(),
                sign(&self.body, &self.key, Utc::now().timestamp_millis()),
            );
        }
        signed.1.clone()
    }
}

/// Phase 3: the demo tenant's live calls `ids` (opened before, see [`open_calls`]) each in a
/// closed loop of `check_availability` and `collect_appointment_data` about a slot of
/// `slots`, with a mean `think` time between two functions of a call. The requests come from
/// a pool built and signed before the phase ([`Presigned`]).
pub async fn live_functions(
    env: &Env,
    ids: &[String],
    slots: &[(NaiveDate, NaiveTime)],
    think: Duration,
    warmup: Duration,
    window: Duration,
) -> ClosedRun {
    let demo = env.demo().clone();
    let key: Arc<str> = demo.retell_key.as_str().into();
    let pool: Arc<Vec<Vec<Presigned>>> = Arc::new(
        ids.iter()
            .enumerate()
            .map(|(w, id)| {
                let call = call_object(id, &caller(id), &demo, false);
                (0..POOL_PER_CALL)
                    .map(|i| {
                        let (date, time) = slots[(w * 7 + i) % slots.len()];
                        let (name, _) = if i % 2 == 0 { CHECK } else { COLLECT };
                        let body =
                            json!({"name": name, "call": call, "args": slot_args(date, time)});
                        Presigned::new(name, serde_json::to_vec(&body).expect("JSON"), key.clone())
                    })
                    .collect()
            })
            .collect(),
    );
    let env = env.clone();
    let server = env.serve_pid;
    closed_loop(ids.len(), think, warmup, window, server, move |w, i| {
        let env = env.clone();
        let pool = Arc::clone(&pool);
        async move {
            let request = &pool[w][i as usize % POOL_PER_CALL];
            let mut rec = Recorder::default();
            let started = tokio::time::Instant::now();
            let sent = send_signed(
                &env,
                FUNCTION_PATH,
                request.body.clone(),
                request.signature(),
            )
            .await;
            if judge_function(request.kind, sent, started, &mut rec) {
                Ok(request.kind)
            } else {
                Err(rec.first_error.unwrap_or_default())
            }
        }
    })
    .await
}

/// One complete simulated call of the calls phase.
struct CallRun {
    rec: Recorder,
    call_id: String,
    /// Index of its tenant in [`Env::tenants`].
    tenant: usize,
    /// When `call_ended` was sent (ms since the epoch), if every step before succeeded.
    ended_at_ms: Option<i64>,
}

/// A complete call: `call_started`, `collect_appointment_data` with the slot,
/// `check_availability`, `collect_appointment_data` with name, phone and the confirmation,
/// then `call_ended` — the booking follows in the background. To tenant `tenant` of
/// [`Env::tenants`].
async fn complete_call(
    env: Env,
    call_id: String,
    tenant: usize,
    i: usize,
    (date, time): (NaiveDate, NaiveTime),
) -> CallRun {
    let mut rec = Recorder::default();
    let to = &env.tenants[tenant];
    let phone = caller(&call_id);
    let call = call_object(&call_id, &phone, to, false);
    let mut ok = start_call(&env, to, &call, date, time, &mut rec).await;
    ok = ok && function(&env, to, CHECK, &call, slot_args(date, time), &mut rec).await;
    let person =
        json!({"name": format!("Anrufer {i}"), "telefonnummer": phone, "bestaetigt": "ja"});
    ok = ok && function(&env, to, COLLECT, &call, person, &mut rec).await;
    let mut ended_at_ms = None;
    if ok {
        let sent = Utc::now().timestamp_millis();
        if webhook(
            &env,
            to,
            "call_ended",
            call_object(&call_id, &phone, to, true),
            &mut rec,
        )
        .await
        {
            ended_at_ms = Some(sent);
        }
    }
    CallRun {
        rec,
        call_id,
        tenant,
        ended_at_ms,
    }
}

/// Whether request kind `kind` is a custom function (not a webhook).
pub fn is_function(kind: &str) -> bool {
    !kind.starts_with("call_")
}

/// One step of the calls phase.
pub struct Step {
    /// Calls started per second, as asked.
    pub rate: u32,
    /// Calls started in the step (`rate` × step seconds).
    pub calls: usize,
    /// Calls started per second as achieved by the generator.
    pub achieved_rate: f64,
    /// Custom functions (all kinds) and webhooks.
    pub requests: Recorder,
    /// Seconds from `call_ended` to the booking in the simulator, as a latency in ms.
    pub booking_lag: Option<Latency>,
    /// Calls of this step with a booking.
    pub booked: usize,
    /// Bookings per second over the step (first to last booking created): below the arrival
    /// rate, the backlog grows and the lag would pass any bound in a longer step.
    pub booked_per_s: f64,
    /// Confirmed calls without a booking when the wait ended.
    pub missing: usize,
    /// Calls with more than one booking, plus slots booked more than once.
    pub duplicates: usize,
    /// Calls of other phases or steps booked while this step ran (none expected: earlier
    /// steps are drained, live calls never confirm).
    pub unexpected: Vec<String>,
    /// For a few missing bookings: the call id and its outbox job (status, attempts, error).
    pub missing_jobs: Vec<String>,
    /// (`VmRSS`, `VmHWM`) of the service after the step, MiB.
    pub rss_mib: (f64, f64),
    /// Tenants the calls were spread over (round robin).
    pub tenants: usize,
    /// CPU of this process (the load generator) from the first arrival to the last answer.
    pub client_cpu: CpuUse,
    /// CPU of the service over the same time.
    pub server_cpu: CpuUse,
}

/// Function latency p99 above which a step no longer counts as sustained, ms.
pub const MAX_FUNCTION_P99_MS: f64 = 50.0;
/// Share of the arrival rate the bookings must keep up with for a step to count as sustained.
pub const KEEP_UP: f64 = 0.95;
/// Booking lag p99 above which a step no longer counts as sustained, ms.
pub const MAX_BOOKING_LAG_MS: f64 = 5_000.0;

impl Step {
    /// Function latencies (every custom function together).
    pub fn functions(&self) -> Option<Latency> {
        self.requests.combined(is_function)
    }

    /// Why the step does not count as sustained, if it does not.
    pub fn failure(&self) -> Option<String> {
        if self.requests.errors > 0 {
            return Some(format!(
                "{} failed requests ({})",
                self.requests.errors,
                self.requests.first_error.as_deref().unwrap_or("")
            ));
        }
        if self.missing > 0 || self.duplicates > 0 {
            return Some(format!(
                "{} bookings missing, {} duplicated",
                self.missing, self.duplicates
            ));
        }
        if !self.unexpected.is_empty() {
            return Some(format!(
                "bookings of calls outside the step: {:?}",
                self.unexpected
            ));
        }
        if let Some(f) = self.functions()
            && f.p99_ms > MAX_FUNCTION_P99_MS
        {
            return Some(format!(
                "function p99 {:.1} ms > {MAX_FUNCTION_P99_MS} ms",
                f.p99_ms
            ));
        }
        if self.booked_per_s < KEEP_UP * self.achieved_rate {
            return Some(format!(
                "bookings fall behind: {:.0}/s booked, {:.0}/s arriving",
                self.booked_per_s, self.achieved_rate
            ));
        }
        if let Some(l) = self.booking_lag
            && l.p99_ms > MAX_BOOKING_LAG_MS
        {
            return Some(format!(
                "booking lag p99 {:.2} s > {} s",
                l.p99_ms / 1000.0,
                MAX_BOOKING_LAG_MS / 1000.0
            ));
        }
        None
    }
}

/// A booking as the simulator lists it: retell call id, start and creation time.
struct SimBooking {
    call_id: Option<String>,
    start: String,
    created_ms: i64,
}

/// Every accepted booking of `tenant` created at or after `since`, page by page (250 a page).
async fn bookings_since(env: &Env, tenant: &Tenant, since: DateTime<Utc>) -> Vec<SimBooking> {
    let mut out = Vec::new();
    let after = since.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    loop {
        let page: Value = env
            .client
            .get(format!("{}/v2/bookings", env.sim))
            .query(&[
                ("take", "250"),
                ("skip", &out.len().to_string()),
                ("afterCreatedAt", &after),
                ("sortCreated", "asc"),
                ("status", "upcoming"),
            ])
            .header("cal-api-version", "2024-08-13")
            .bearer_auth(&tenant.calcom_key)
            .send()
            .await
            .expect("simulator answers")
            .json()
            .await
            .expect("simulator lists bookings");
        let data = page["data"].as_array().cloned().unwrap_or_default();
        let n = data.len();
        out.extend(
            data.into_iter()
                .filter(|b| b["status"] == "accepted")
                .map(|b| SimBooking {
                    call_id: b["metadata"]["retell_call_id"].as_str().map(str::to_owned),
                    start: b["start"].as_str().unwrap_or_default().to_owned(),
                    created_ms: b["createdAt"]
                        .as_str()
                        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                        .map_or(0, |t| t.timestamp_millis()),
                }),
        );
        if n < 250 {
            return out;
        }
    }
}

/// The outbox jobs of `calls` of company `company` as `call: status, attempts, last error`
/// (its newest 500 jobs).
async fn job_states(env: &Env, company: i64, calls: &[&String]) -> Vec<String> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "queue.getRecentJobs",
                      "params": {"company_id": company, "limit": 500}});
    let reply: Value = match env
        .client
        .post(format!("{}/api/mcp/gateway", env.app))
        .bearer_auth(ADMIN)
        .json(&body)
        .send()
        .await
    {
        Ok(r) => r.json().await.unwrap_or_default(),
        Err(e) => return vec![format!("queue.getRecentJobs: {e}")],
    };
    let jobs = reply["result"]["data"]["jobs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    calls
        .iter()
        .map(|call| {
            jobs.iter().find(|j| j["call_id"] == call.as_str()).map_or(
                format!("{call}: no job among the newest 500"),
                |j| {
                    format!(
                        "{call}: {} after {} attempts, {}",
                        j["status"], j["attempts"], j["last_error"]
                    )
                },
            )
        })
        .collect()
}

/// Phase 4, one step: `rate` complete calls per second for `seconds`, call `i` to tenant
/// `i mod n` of [`Env::tenants`] on that tenant's slot `slots[i / n]` (one distinct free
/// slot per call per tenant); then waits (at most `drain`) for every booking and checks,
/// tenant by tenant, that every ended call has exactly one booking and no slot two.
pub async fn calls_step(
    env: &Env,
    rate: u32,
    seconds: u64,
    slots: &[(NaiveDate, NaiveTime)],
    tag: &str,
    drain: Duration,
) -> Step {
    let count = rate as usize * seconds as usize;
    let n = env.tenants.len();
    assert!(slots.len() * n >= count, "one slot per call per tenant");
    let since = Utc::now();
    let (client_before, server_before) = (own_cpu_s(), cpu_s(env.serve_pid).unwrap_or(f64::NAN));
    let started = tokio::time::Instant::now();
    let (runs, arrivals) = open_loop(f64::from(rate), count, |i| {
        complete_call(
            env.clone(),
            format!("call_{tag}_{i:05}"),
            i % n,
            i,
            slots[i / n],
        )
    })
    .await;
    let busy = started.elapsed();
    let client_cpu = CpuUse::new(own_cpu_s() - client_before, busy);
    let server_cpu = CpuUse::new(
        cpu_s(env.serve_pid).unwrap_or(f64::NAN) - server_before,
        busy,
    );
    let mut requests = Recorder::default();
    // Per tenant: its ended calls and when each ended.
    let mut ended: Vec<HashMap<String, i64>> = vec![HashMap::new(); n];
    for run in runs {
        requests.merge(run.rec);
        if let Some(at) = run.ended_at_ms {
            ended[run.tenant].insert(run.call_id, at);
        }
    }
    // Wait for the bookings of every call that ended (bounded), asking again only the
    // tenants still waiting for some.
    let deadline = tokio::time::Instant::now() + drain;
    let mut complete = vec![false; n];
    while complete.contains(&false) && tokio::time::Instant::now() < deadline {
        for t in 0..n {
            if complete[t] {
                continue;
            }
            let list = bookings_since(env, &env.tenants[t], since).await;
            let booked: HashSet<&str> = list.iter().filter_map(|b| b.call_id.as_deref()).collect();
            complete[t] = ended[t].keys().all(|c| booked.contains(c.as_str()));
        }
        if complete.contains(&false) {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    // Then every tenant's bookings once more, so a duplicate made after its tenant was
    // complete is counted too.
    let mut bookings = Vec::with_capacity(n);
    for tenant in env.tenants.iter() {
        bookings.push(bookings_since(env, tenant, since).await);
    }
    let mine = format!("call_{tag}_");
    let mut per_call: HashMap<&str, Vec<i64>> = HashMap::new();
    let mut per_slot: HashMap<(usize, &str), usize> = HashMap::new();
    for (t, list) in bookings.iter().enumerate() {
        for b in list {
            *per_slot.entry((t, b.start.as_str())).or_default() += 1;
            if let Some(c) = &b.call_id {
                per_call.entry(c.as_str()).or_default().push(b.created_ms);
            }
        }
    }
    let unexpected: Vec<String> = per_call
        .keys()
        .filter(|c| !c.starts_with(&mine))
        .map(|c| (*c).to_owned())
        .collect();
    let created: Vec<i64> = per_call
        .iter()
        .filter(|(c, _)| c.starts_with(&mine))
        .map(|(_, at)| at[0])
        .collect();
    let booked_per_s = match (created.iter().min(), created.iter().max()) {
        (Some(first), Some(last)) if last > first => {
            (created.len() - 1) as f64 / ((last - first) as f64 / 1000.0)
        }
        _ => f64::INFINITY,
    };
    let mut lag = Recorder::default();
    let mut missing_calls: Vec<(usize, &String)> = Vec::new();
    for (t, calls) in ended.iter().enumerate() {
        for (call, at) in calls {
            match per_call.get(call.as_str()) {
                Some(created) => lag.record(
                    "lag",
                    Duration::from_millis(u64::try_from(created[0] - at).unwrap_or(0)),
                ),
                None => missing_calls.push((t, call)),
            }
        }
    }
    let duplicates = per_call.values().filter(|v| v.len() > 1).count()
        + per_slot.values().filter(|n| **n > 1).count();
    missing_calls.sort();
    let mut missing_jobs = Vec::new();
    for (t, call) in missing_calls.iter().take(5) {
        let company = env.tenants[*t].company_id;
        missing_jobs.extend(job_states(env, company, &[call]).await);
    }
    Step {
        rate,
        calls: count,
        achieved_rate: count as f64 / arrivals.max(f64::EPSILON),
        requests,
        booking_lag: lag.latency("lag"),
        booked: per_call.len() - unexpected.len(),
        booked_per_s,
        unexpected,
        missing: missing_calls.len(),
        duplicates,
        missing_jobs,
        rss_mib: rss_mib(env.serve_pid),
        tenants: n,
        client_cpu,
        server_cpu,
    }
}
