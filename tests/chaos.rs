//! The chaos test: 200 simulated calls against a Cal.com simulator with 20 % errors, 300 ms
//! jitter, a 20 s outage and "commit then fail", 4 concurrent copies of every `call_ended`,
//! one forced restart of the booking worker and one `kill -9` of the whole process mid-run.
//!
//! Everything runs as real processes (`switchboard sim calcom` and `switchboard serve`, the
//! binary built with the test-only `fault-injection` feature) so the simulator, like the real
//! Cal.com, outlives the service. Inputs come from a fixed seed. Pass: every confirmed call
//! with a free slot has exactly one booking, unconfirmed calls none, taken-slot calls are dead
//! letters with a clear error, no slot is double-booked, and the breaker opened during the
//! outage and closed after it. The figures are printed (run with `--nocapture` to see them).

use chrono::{Datelike, Duration as Days, NaiveDate, NaiveTime, Weekday};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use switchboard_actors::retell::signature::sign;

const SEED: u64 = 20261122;
const CALLS: usize = 200;
const ADMIN: &str = "chaos-admin-token";
const RETELL_KEY: &str = "key_sandbox_0123456789abcdef";
const CALCOM_KEY: &str = "cal_sandbox_0123456789abcdef";
const DEMO_NUMBER: &str = "+493083793369";
const OUTAGE_S: u64 = 20;

/// A child process killed (SIGKILL) when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn_sim(port: u16) -> Proc {
    Proc(
        Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .args(["sim", "calcom", "--port", &port.to_string()])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("simulator starts"),
    )
}

/// The database of the run: a fresh PostgreSQL database when `SWITCHBOARD_TEST_DATABASE_URL`
/// is set (the production-backend CI pass), else a SQLite file in `dir`.
async fn database_url(dir: &Path) -> String {
    use sqlx::{Connection, Executor};
    match std::env::var("SWITCHBOARD_TEST_DATABASE_URL") {
        Ok(base) if !base.is_empty() => {
            let name = format!("sb_chaos_{}", uuid::Uuid::new_v4().simple());
            let mut admin = sqlx::PgConnection::connect(&base)
                .await
                .expect("PostgreSQL reachable");
            admin
                .execute(format!("CREATE DATABASE {name}").as_str())
                .await
                .unwrap();
            let (server, _) = base.rsplit_once('/').expect("URL ends in a database name");
            format!("{server}/{name}")
        }
        _ => format!("sqlite://{}/chaos.db", dir.display()),
    }
}

fn spawn_serve(dir: &Path, database_url: &str, port: u16, sim_port: u16) -> Proc {
    let mut envs = vec![
        ("SWITCHBOARD__SERVER__PORT", port.to_string()),
        ("SWITCHBOARD__DATABASE__URL", database_url.to_owned()),
        ("SWITCHBOARD__SANDBOX__ADMIN_TOKEN", ADMIN.to_owned()),
        (
            "SWITCHBOARD__SANDBOX__CALCOM_URL",
            format!("http://127.0.0.1:{sim_port}"),
        ),
        ("SWITCHBOARD__OUTBOX__POLL_INTERVAL_MS", "100".to_owned()),
        ("SWITCHBOARD__OUTBOX__LEASE_S", "5".to_owned()),
        ("SWITCHBOARD__OUTBOX__MAX_ATTEMPTS", "25".to_owned()),
        ("SWITCHBOARD__OUTBOX__BACKOFF_BASE_MS", "250".to_owned()),
        ("SWITCHBOARD__OUTBOX__BACKOFF_MAX_MS", "3000".to_owned()),
        ("SWITCHBOARD__RESILIENCE__CALCOM__OPEN_S", "3".to_owned()),
        (
            "SWITCHBOARD__RESILIENCE__CALCOM__TIMEOUT_MS",
            "2000".to_owned(),
        ),
        ("SWITCHBOARD__LOG__LEVEL", "warn".to_owned()),
    ];
    if let Ok(redis) = std::env::var("SWITCHBOARD_TEST_REDIS_URL") {
        envs.push(("SWITCHBOARD__REDIS__URL", redis));
        let prefix = format!("chaos-{}:", uuid::Uuid::new_v4().simple());
        envs.push(("SWITCHBOARD__REDIS__KEY_PREFIX", prefix));
    }
    Proc(
        Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .arg("serve")
            .envs(envs)
            .current_dir(dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("service starts"),
    )
}

async fn wait_until_up(client: &reqwest::Client, url: &str) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if client
            .get(url)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} did not come up");
}

/// What a simulated call does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Confirmed,
    Unconfirmed,
    /// Confirmed, but the slot was booked by someone else before the call.
    TakenSlot,
}

#[derive(Clone, Debug)]
struct Plan {
    call_id: String,
    kind: Kind,
    german: bool,
    date: NaiveDate,
    time: NaiveTime,
}

/// Distinct bookable 30-minute slots (Herrenhaarschnitt) from `first` on: Mon–Fri 09:00–17:30,
/// Sat 10:00–13:30 (the simulator's demo hours, Europe/Berlin).
fn slots(first: NaiveDate, n: usize) -> Vec<(NaiveDate, NaiveTime)> {
    let mut out = Vec::new();
    let mut day = first;
    while out.len() < n {
        let (open, close) = match day.weekday() {
            Weekday::Sun => (0, 0),
            Weekday::Sat => (10 * 60, 14 * 60),
            _ => (9 * 60, 18 * 60),
        };
        let mut m = open;
        while m + 30 <= close && out.len() < n {
            out.push((day, NaiveTime::from_hms_opt(m / 60, m % 60, 0).unwrap()));
            m += 30;
        }
        day += Days::days(1);
    }
    out
}

fn plan() -> Vec<Plan> {
    let mut rng = fastrand::Rng::with_seed(SEED);
    let tomorrow = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Berlin)
        .date_naive()
        + Days::days(2);
    let mut slots = slots(tomorrow, CALLS);
    rng.shuffle(&mut slots);
    slots
        .into_iter()
        .enumerate()
        .map(|(i, (date, time))| Plan {
            call_id: format!("call_chaos_{SEED}_{i:03}"),
            kind: match rng.u8(0..10) {
                0 => Kind::Unconfirmed,
                1 => Kind::TakenSlot,
                _ => Kind::Confirmed,
            },
            german: rng.bool(),
            date,
            time,
        })
        .collect()
}

struct Driver {
    client: reqwest::Client,
    base: String,
}

impl Driver {
    /// POSTs signed JSON like Retell, retrying (as Retell does) while the service is down.
    async fn signed(&self, path: &str, body: &Value) -> u16 {
        let bytes = serde_json::to_vec(body).unwrap();
        for _ in 0..100 {
            let ts = chrono::Utc::now().timestamp_millis();
            let sent = self
                .client
                .post(format!("{}{path}", self.base))
                .header("content-type", "application/json")
                .header("X-Retell-Signature", sign(&bytes, RETELL_KEY, ts))
                .body(bytes.clone())
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => return r.status().as_u16(),
                Ok(r) if r.status().is_client_error() => return r.status().as_u16(),
                _ => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
        panic!("{path} never succeeded");
    }

    async fn rpc(&self, method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        for _ in 0..100 {
            if let Ok(r) = self
                .client
                .post(format!("{}/api/mcp/gateway", self.base))
                .bearer_auth(ADMIN)
                .json(&body)
                .send()
                .await
                && let Ok(v) = r.json::<Value>().await
            {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("gateway unreachable");
    }

    async fn run_call(&self, p: &Plan) {
        let call = json!({
            "call_id": p.call_id, "agent_id": "agent_chaos", "call_type": "phone_call", "direction": "inbound",
            "from_number": "+4915112345678", "to_number": DEMO_NUMBER, "call_status": "ongoing",
            "start_timestamp": chrono::Utc::now().timestamp_millis(),
        });
        let confirmed = p.kind != Kind::Unconfirmed;
        let args = if p.german {
            json!({"dienstleistung": "Herrenhaarschnitt", "datum": p.date.format("%d.%m.%Y").to_string(),
                   "uhrzeit": p.time.format("%H:%M").to_string(), "name": "Anna Schmidt",
                   "telefonnummer": "0151 12345678", "bestaetigt": if confirmed { "ja" } else { "nein" }})
        } else {
            json!({"service": "men's haircut", "date": p.date.to_string(), "time": p.time.format("%H:%M").to_string(),
                   "name": "John Smith", "phone": "+1 415 555 0123", "confirmed": confirmed})
        };
        let status = self
            .signed(
                "/api/mcp/retell/custom-function",
                &json!({"name": "collect_appointment_data", "call": call, "args": args}),
            )
            .await;
        assert_eq!(status, 200, "{}", p.call_id);
        let mut ended = call.clone();
        ended["call_status"] = json!("ended");
        ended["end_timestamp"] = json!(chrono::Utc::now().timestamp_millis());
        let body = json!({"event": "call_ended", "call": ended});
        let copies = (0..4).map(|_| self.signed("/api/mcp/retell/webhook", &body));
        for status in futures_util::future::join_all(copies).await {
            assert_eq!(status, 204, "{}", p.call_id);
        }
    }

    async fn run_calls(&self, plans: &[Plan]) {
        for chunk in plans.chunks(20) {
            futures_util::future::join_all(chunk.iter().map(|p| self.run_call(p))).await;
        }
    }

    /// Sum of the samples of `name` whose labels include every `key="value"` in `labels`.
    async fn metric(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let text = self
            .client
            .get(format!("{}/api/metrics", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .filter_map(|l| l.strip_prefix(name)?.strip_prefix('{'))
            .filter_map(|rest| rest.split_once("} "))
            .filter(|(have, _)| {
                labels
                    .iter()
                    .all(|(k, v)| have.split(',').any(|kv| kv == format!("{k}=\"{v}\"")))
            })
            .filter_map(|(_, value)| value.trim().parse::<f64>().ok())
            .sum()
    }
}

async fn set_faults(client: &reqwest::Client, sim: &str, faults: Value) {
    let r = client
        .post(format!("{sim}/__sim/faults"))
        .json(&faults)
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_success(),
        "faults refused: {}",
        r.text().await.unwrap()
    );
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_every_confirmed_free_call_is_booked_exactly_once() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (sim_port, app_port) = (free_port(), free_port());
    let sim_url = format!("http://127.0.0.1:{sim_port}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let _sim = spawn_sim(sim_port);
    wait_until_up(&client, &format!("{sim_url}/__sim/faults")).await;
    let db = database_url(dir.path()).await;
    let mut serve = spawn_serve(dir.path(), &db, app_port, sim_port);
    let driver = Driver {
        client: client.clone(),
        base: format!("http://127.0.0.1:{app_port}"),
    };
    wait_until_up(&client, &format!("{}/readyz", driver.base)).await;

    let plans = plan();
    // Someone else takes the "taken" slots first (before any fault).
    for p in plans.iter().filter(|p| p.kind == Kind::TakenSlot) {
        let res = driver
            .rpc("calcom.createBooking", json!({"company_id": 1, "service": "Herrenhaarschnitt", "date": p.date,
                  "time": p.time.format("%H:%M").to_string(), "name": "Walk-in", "phone": "030 1234567"}))
            .await;
        assert_eq!(res["result"]["success"], true, "{res}");
    }
    let faults = json!({"error_rate": 0.2, "error_status": 503, "jitter_ms": 300, "commit_then_fail_rate": 0.2, "seed": SEED});
    set_faults(&client, &sim_url, faults.clone()).await;

    // Phase 1: half the calls; a 20 s outage starts while their bookings run.
    let (first, second) = plans.split_at(CALLS / 2);
    driver.run_calls(&first[..CALLS / 4]).await;
    let mut outage = faults.clone();
    outage["outage_s"] = json!(OUTAGE_S);
    set_faults(&client, &sim_url, outage).await;
    let outage_started = Instant::now();
    driver.run_calls(&first[CALLS / 4..]).await;
    let opened_during_outage = loop {
        let opened = driver
            .metric(
                "mcp_circuit_breaker_transitions_total",
                &[("service", "calcom"), ("company", "1"), ("to", "open")],
            )
            .await;
        if opened >= 1.0 || outage_started.elapsed() > Duration::from_secs(OUTAGE_S) {
            break opened;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    // After the outage the breaker must close again by itself.
    let closed_after = loop {
        let state = driver
            .metric(
                "mcp_circuit_breaker_state",
                &[("service", "calcom"), ("company", "1")],
            )
            .await;
        let closed = driver
            .metric(
                "mcp_circuit_breaker_transitions_total",
                &[("service", "calcom"), ("company", "1"), ("to", "closed")],
            )
            .await;
        if outage_started.elapsed() > Duration::from_secs(OUTAGE_S) && state == 0.0 && closed >= 1.0
        {
            break true;
        }
        if outage_started.elapsed() > Duration::from_secs(OUTAGE_S + 60) {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let transitions = driver
        .metric(
            "mcp_circuit_breaker_transitions_total",
            &[("service", "calcom"), ("company", "1")],
        )
        .await;

    // Phase 2: a forced restart of the booking worker, then the rest of the calls with a
    // kill -9 of the whole service in the middle.
    let res = driver.rpc("fault.panic", json!({"actor": "outbox"})).await;
    assert_eq!(res["error"]["code"], -32603, "{res}");
    let (before_kill, after_kill) = second.split_at(second.len() / 2);
    driver.run_calls(before_kill).await;
    drop(serve);
    serve = spawn_serve(dir.path(), &db, app_port, sim_port);
    wait_until_up(&client, &format!("{}/readyz", driver.base)).await;
    driver.run_calls(after_kill).await;

    // Wait (bounded) until no booking job is pending or running.
    let deadline = Instant::now() + Duration::from_secs(240);
    let stats = loop {
        let stats = driver
            .rpc("webhook.getWebhookStats", json!({"company_id": 1}))
            .await["result"]["data"]
            .clone();
        let open = stats["jobs"]["pending"].as_i64().unwrap_or(0)
            + stats["jobs"]["running"].as_i64().unwrap_or(0);
        if open == 0 || Instant::now() > deadline {
            break stats;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    set_faults(&client, &sim_url, json!({})).await;

    // What Cal.com (the simulator) holds.
    let bookings: Vec<Value> = client
        .get(format!("{sim_url}/v2/bookings?take=250&status=upcoming"))
        .header("cal-api-version", "2024-08-13")
        .bearer_auth(CALCOM_KEY)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["data"]
        .as_array()
        .unwrap()
        .clone();
    let mut per_call: HashMap<String, usize> = HashMap::new();
    let mut per_slot: BTreeMap<String, usize> = BTreeMap::new();
    for b in bookings.iter().filter(|b| b["status"] == "accepted") {
        *per_slot
            .entry(b["start"].as_str().unwrap().to_owned())
            .or_default() += 1;
        if let Some(call) = b["metadata"]["retell_call_id"].as_str() {
            *per_call.entry(call.to_owned()).or_default() += 1;
        }
    }

    // What we recorded, through the gateway (the same on every database backend).
    let recent = driver
        .rpc(
            "queue.getRecentJobs",
            json!({"company_id": 1, "limit": 500}),
        )
        .await;
    let ms = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap())
            .unwrap()
            .timestamp_millis() as f64
    };
    let jobs: HashMap<String, (String, Option<String>, f64)> = recent["result"]["data"]["jobs"]
        .as_array()
        .unwrap_or_else(|| panic!("queue.getRecentJobs: {recent}"))
        .iter()
        .filter(|j| j["kind"] == "book")
        .map(|j| {
            let secs = (ms(&j["updated_at"]) - ms(&j["created_at"])) / 1000.0;
            let error = j["last_error"].as_str().map(str::to_owned);
            let status = j["status"].as_str().unwrap().to_owned();
            (
                j["call_id"].as_str().unwrap().to_owned(),
                (status, error, secs),
            )
        })
        .collect();
    drop(serve);

    let mut booked = 0;
    let mut dead = 0;
    let mut latencies = Vec::new();
    for p in &plans {
        let n = per_call.get(&p.call_id).copied().unwrap_or(0);
        match p.kind {
            Kind::Confirmed => {
                assert_eq!(
                    n,
                    1,
                    "{} must be booked exactly once (job: {:?})",
                    p.call_id,
                    jobs.get(&p.call_id)
                );
                let (status, _, secs) = &jobs[&p.call_id];
                assert_eq!(status, "done", "{}", p.call_id);
                latencies.push(*secs);
                booked += 1;
            }
            Kind::Unconfirmed => {
                assert_eq!(n, 0, "{} was never confirmed", p.call_id);
                assert!(!jobs.contains_key(&p.call_id), "{} has a job", p.call_id);
            }
            Kind::TakenSlot => {
                assert_eq!(n, 0, "{} must not displace the existing booking", p.call_id);
                let (status, error, _) = &jobs[&p.call_id];
                assert_eq!(status, "failed", "{}", p.call_id);
                let error = error.as_deref().unwrap_or_default();
                assert!(
                    error.contains("time slot not available"),
                    "{}: {error}",
                    p.call_id
                );
                dead += 1;
            }
        }
    }
    let double_booked = per_slot.values().filter(|n| **n > 1).count();
    assert_eq!(double_booked, 0, "slots booked twice: {per_slot:?}");
    assert!(
        opened_during_outage >= 1.0,
        "the breaker never opened during the outage"
    );
    assert!(closed_after, "the breaker did not close after the outage");
    latencies.sort_by(f64::total_cmp);

    println!("\nchaos figures (seed {SEED}):");
    println!("  calls                      {}", plans.len());
    println!("  booked (exactly once)      {booked}");
    println!(
        "  unconfirmed, not booked    {}",
        plans.iter().filter(|p| p.kind == Kind::Unconfirmed).count()
    );
    println!("  dead-lettered (taken slot) {dead}");
    println!("  duplicate bookings         0");
    println!("  duplicate webhooks         {}", stats["duplicates"]);
    println!(
        "  breaker transitions        {transitions} (opened during the outage, closed after it)"
    );
    println!(
        "  call_ended → booking       p50 {:.2} s, p99 {:.2} s, max {:.2} s",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "  wall time                  {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
