//! Shared by the process-level tests (`chaos.rs`, `multi_instance.rs`): start the real binary
//! (`switchboard sim calcom`, `switchboard serve`) as child processes, plan simulated calls
//! from a seed, and drive them as Retell would — signed, retried while an instance is down,
//! spread over several instances like a load balancer.
#![allow(dead_code)] // each test binary uses a different part

use chrono::{Datelike, Duration as Days, NaiveDate, NaiveTime, Weekday};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use switchboard_actors::retell::signature::sign;

/// Admin token of every service started here.
pub const ADMIN: &str = "process-test-admin-token";
/// The sandbox tenant's Retell key (signs every request).
pub const RETELL_KEY: &str = "key_sandbox_0123456789abcdef";
/// The simulator's API key.
pub const CALCOM_KEY: &str = "cal_sandbox_0123456789abcdef";
/// The sandbox tenant's number.
pub const DEMO_NUMBER: &str = "+493083793369";
/// `SWITCHBOARD__SECRETS__KEY` of every service started here (base64 of 32 bytes): instances
/// sharing a database must share the key their tenants' credentials are sealed with.
pub const SECRETS_KEY: &str = "c3dpdGNoYm9hcmQtdGVzdC1rZXktMzItYnl0ZXMtISE=";

/// A child process killed (SIGKILL) when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `switchboard sim calcom --port PORT`.
pub fn spawn_sim(port: u16) -> Proc {
    Proc(
        Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .args(["sim", "calcom", "--port", &port.to_string()])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("simulator starts"),
    )
}

/// The database of a run: a fresh PostgreSQL database when `SWITCHBOARD_TEST_DATABASE_URL` is
/// set (the production-backend pass of CI), else a SQLite file in `dir`.
pub async fn database_url(dir: &Path) -> String {
    match std::env::var("SWITCHBOARD_TEST_DATABASE_URL") {
        Ok(server) if !server.is_empty() => fresh_postgres_database(&server).await,
        _ => format!("sqlite://{}/switchboard.db", dir.display()),
    }
}

/// The PostgreSQL server of the PostgreSQL-only tests: `SWITCHBOARD_TEST_POSTGRES_URL`, else
/// `SWITCHBOARD_TEST_DATABASE_URL` when that is a `postgres://` URL; `None` when neither is.
pub fn postgres_url() -> Option<String> {
    let var = |name| {
        std::env::var(name)
            .ok()
            .filter(|url: &String| !url.is_empty())
    };
    var("SWITCHBOARD_TEST_POSTGRES_URL").or_else(|| {
        var("SWITCHBOARD_TEST_DATABASE_URL")
            .filter(|url| url.starts_with("postgres://") || url.starts_with("postgresql://"))
    })
}

/// The Redis server of the tests that need Redis itself (limits and replay guard across
/// instances): `SWITCHBOARD_TEST_REDIS_SERVER_URL`, else `SWITCHBOARD_TEST_REDIS_URL`; `None`
/// when neither is set. Unlike `SWITCHBOARD_TEST_REDIS_URL`, the first stays set in CI's run on
/// the embedded defaults, so these tests run in both passes.
pub fn redis_server_url() -> Option<String> {
    [
        "SWITCHBOARD_TEST_REDIS_SERVER_URL",
        "SWITCHBOARD_TEST_REDIS_URL",
    ]
    .into_iter()
    .find_map(|name| std::env::var(name).ok().filter(|url| !url.is_empty()))
}

/// A new, empty database on the PostgreSQL `server` (a URL ending in a database name that
/// exists); returns its URL.
pub async fn fresh_postgres_database(server: &str) -> String {
    use sqlx::{Connection, Executor};
    let name = format!("sb_proc_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(server)
        .await
        .expect("PostgreSQL reachable");
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    let (server, _) = server
        .rsplit_once('/')
        .expect("URL ends in a database name");
    format!("{server}/{name}")
}

/// Whether this is a CI run (`CI=true`), where every backend must be present.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|ci| ci == "true")
}

/// Called by a test whose backend is missing, before it returns: locally the test is skipped
/// with a line on stderr; in CI (`CI=true`) it fails with `why`, so a missing backend can
/// never pass as green.
pub fn backend_missing(test: &str, why: &str) {
    assert!(
        !in_ci(),
        "{test} needs a backend that is missing: {why} (CI=true: a missing backend fails)"
    );
    eprintln!("{test} skipped: {why}");
}

/// `switchboard serve` on `port` with the sandbox pointed at the simulator on `sim_port`,
/// fast outbox settings, and Redis (with `redis_prefix`) when `SWITCHBOARD_TEST_REDIS_URL` is
/// set. Instances given the same database and prefix form one cluster.
pub fn spawn_serve(
    dir: &Path,
    database_url: &str,
    port: u16,
    sim_port: u16,
    redis_prefix: &str,
) -> Proc {
    spawn_serve_with(dir, database_url, port, sim_port, redis_prefix, &[])
}

/// [`spawn_serve`] with extra (or overriding, as later entries win) `SWITCHBOARD__…` settings.
pub fn spawn_serve_with(
    dir: &Path,
    database_url: &str,
    port: u16,
    sim_port: u16,
    redis_prefix: &str,
    extra: &[(&'static str, String)],
) -> Proc {
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
        // The backoff here is compressed (0.25–3 s instead of 1–300 s), so the attempts must
        // be more to span what production's 10 attempts span (~13 min): 25 covered ~66 s, and
        // the chaos run's 20 s outage with a breaker reopening at 20 % errors and SIGKILL lease
        // expiry dead-lettered a confirmed call (twice in issue 14's runs). 40 cover ~110 s.
        ("SWITCHBOARD__OUTBOX__MAX_ATTEMPTS", "40".to_owned()),
        ("SWITCHBOARD__OUTBOX__BACKOFF_BASE_MS", "250".to_owned()),
        ("SWITCHBOARD__OUTBOX__BACKOFF_MAX_MS", "3000".to_owned()),
        ("SWITCHBOARD__RESILIENCE__CALCOM__OPEN_S", "3".to_owned()),
        (
            "SWITCHBOARD__RESILIENCE__CALCOM__TIMEOUT_MS",
            "2000".to_owned(),
        ),
        ("SWITCHBOARD__LOG__LEVEL", "warn".to_owned()),
        ("SWITCHBOARD__SECRETS__KEY", SECRETS_KEY.to_owned()),
        // Load and chaos runs drive one demo company far past a real tenant's quotas; the
        // limits are not what they measure.
        (
            "SWITCHBOARD__RATE_LIMIT__CUSTOM_FUNCTION_PER_MINUTE",
            "1000000".to_owned(),
        ),
        (
            "SWITCHBOARD__RATE_LIMIT__CALCOM_PER_CREDENTIAL_PER_MINUTE",
            "1000000".to_owned(),
        ),
    ];
    if let Ok(redis) = std::env::var("SWITCHBOARD_TEST_REDIS_URL") {
        envs.push(("SWITCHBOARD__REDIS__URL", redis));
        envs.push(("SWITCHBOARD__REDIS__KEY_PREFIX", redis_prefix.to_owned()));
    }
    envs.extend(extra.iter().cloned());
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

/// Waits (bounded, 60 s) until `url` answers 2xx.
pub async fn wait_until_up(client: &reqwest::Client, url: &str) {
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
pub enum Kind {
    Confirmed,
    Unconfirmed,
    /// Confirmed, but the slot was booked by someone else before the call.
    TakenSlot,
}

/// One simulated call.
#[derive(Clone, Debug)]
pub struct Plan {
    pub call_id: String,
    pub kind: Kind,
    pub german: bool,
    pub date: NaiveDate,
    pub time: NaiveTime,
}

/// Distinct bookable 30-minute slots (Herrenhaarschnitt) from `first` on: Mon–Fri 09:00–17:30,
/// Sat 10:00–13:30 (the simulator's demo hours, Europe/Berlin).
pub fn slots(first: NaiveDate, n: usize) -> Vec<(NaiveDate, NaiveTime)> {
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

/// `n` calls from `seed`: distinct slots, 10 % unconfirmed, `taken_share` (0–10 tenths) for
/// slots someone else books first, the rest confirmed; German or English at random.
pub fn plan(seed: u64, n: usize, tag: &str, taken_tenths: u8) -> Vec<Plan> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let first = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Berlin)
        .date_naive()
        + Days::days(2);
    let mut slots = slots(first, n);
    rng.shuffle(&mut slots);
    slots
        .into_iter()
        .enumerate()
        .map(|(i, (date, time))| {
            let roll = rng.u8(0..10);
            Plan {
                call_id: format!("call_{tag}_{seed}_{i:03}"),
                kind: if roll == 0 {
                    Kind::Unconfirmed
                } else if roll <= taken_tenths {
                    Kind::TakenSlot
                } else {
                    Kind::Confirmed
                },
                german: rng.bool(),
                date,
                time,
            }
        })
        .collect()
}

/// Drives calls against one or more instances (`bases`), like Retell behind a load balancer.
pub struct Driver {
    pub client: reqwest::Client,
    pub bases: Vec<String>,
}

impl Driver {
    /// POSTs signed JSON like Retell to instance `prefer`, failing over to the others and
    /// retrying (as Retell does) while instances are down; returns the final status.
    pub async fn signed(&self, prefer: usize, path: &str, body: &Value) -> u16 {
        let bytes = serde_json::to_vec(body).unwrap();
        for attempt in 0..200 {
            let base = &self.bases[(prefer + attempt) % self.bases.len()];
            let ts = chrono::Utc::now().timestamp_millis();
            let sent = self
                .client
                .post(format!("{base}{path}"))
                .header("content-type", "application/json")
                .header("X-Retell-Signature", sign(&bytes, RETELL_KEY, ts))
                .body(bytes.clone())
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() || r.status().is_client_error() => {
                    return r.status().as_u16();
                }
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        panic!("{path} never succeeded");
    }

    /// One JSON-RPC call with the admin token on the first instance that answers.
    pub async fn rpc(&self, method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        for attempt in 0..200 {
            let base = &self.bases[attempt % self.bases.len()];
            if let Ok(r) = self
                .client
                .post(format!("{base}/api/mcp/gateway"))
                .bearer_auth(ADMIN)
                .json(&body)
                .send()
                .await
                && let Ok(v) = r.json::<Value>().await
            {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("gateway unreachable");
    }

    /// One call: [`Driver::collect`] on instances `first` and `second`, then [`Driver::end`].
    pub async fn run_call(&self, p: &Plan, first: usize, second: usize) {
        self.collect(p, first, second).await;
        self.end(p).await;
    }

    /// The call object of `p` while it is live.
    fn call_object(p: &Plan) -> Value {
        json!({
            "call_id": p.call_id, "agent_id": "agent_test", "call_type": "phone_call", "direction": "inbound",
            "from_number": "+4915112345678", "to_number": DEMO_NUMBER, "call_status": "ongoing",
            "start_timestamp": chrono::Utc::now().timestamp_millis(),
        })
    }

    /// The caller's data in two `collect_appointment_data` calls (slot on instance `first`,
    /// name, phone and the confirmation on `second`).
    pub async fn collect(&self, p: &Plan, first: usize, second: usize) {
        let call = Self::call_object(p);
        let confirmed = p.kind != Kind::Unconfirmed;
        let (slot, person) = if p.german {
            (
                json!({"dienstleistung": "Herrenhaarschnitt", "datum": p.date.format("%d.%m.%Y").to_string(),
                       "uhrzeit": p.time.format("%H:%M").to_string()}),
                json!({"name": "Anna Schmidt", "telefonnummer": "0151 12345678",
                       "bestaetigt": if confirmed { "ja" } else { "nein" }}),
            )
        } else {
            (
                json!({"service": "men's haircut", "date": p.date.to_string(), "time": p.time.format("%H:%M").to_string()}),
                json!({"name": "John Smith", "phone": "+1 415 555 0123", "confirmed": confirmed}),
            )
        };
        for (instance, args) in [(first, slot), (second, person)] {
            let body = json!({"name": "collect_appointment_data", "call": call, "args": args});
            let status = self
                .signed(instance, "/api/mcp/retell/custom-function", &body)
                .await;
            assert_eq!(status, 200, "{}", p.call_id);
        }
    }

    /// Four concurrent copies of `call_ended`, spread over all instances, each retried until
    /// acknowledged.
    pub async fn end(&self, p: &Plan) {
        let mut ended = Self::call_object(p);
        ended["call_status"] = json!("ended");
        ended["end_timestamp"] = json!(chrono::Utc::now().timestamp_millis());
        let body = json!({"event": "call_ended", "call": ended});
        let copies =
            (0..4).map(|k| self.signed(k % self.bases.len(), "/api/mcp/retell/webhook", &body));
        for status in futures_util::future::join_all(copies).await {
            assert_eq!(status, 204, "{}", p.call_id);
        }
    }

    /// Runs `plans` 20 at a time; call `i` collects on instances `i` and `i + 1` (mod n).
    pub async fn run_calls(&self, plans: &[Plan], offset: usize) {
        for (c, chunk) in plans.chunks(20).enumerate() {
            let runs = chunk.iter().enumerate().map(|(j, p)| {
                let i = offset + c * 20 + j;
                self.run_call(p, i, i + 1)
            });
            futures_util::future::join_all(runs).await;
        }
    }

    /// Sum of the samples of `name` on instance `instance` whose labels include every
    /// `key="value"` of `labels`.
    pub async fn metric(&self, instance: usize, name: &str, labels: &[(&str, &str)]) -> f64 {
        scrape(&self.client, &self.bases[instance], ADMIN, name, labels).await
    }

    /// Waits (bounded by `limit`) until no booking job is pending or running; returns the
    /// webhook stats then. Asks with the admin token for every company: instances seeding
    /// one fresh database at once may give the demo company an id other than 1.
    pub async fn wait_for_jobs(&self, limit: Duration) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let stats =
                self.rpc("webhook.getWebhookStats", json!({})).await["result"]["data"].clone();
            let open = stats["jobs"]["pending"].as_i64().unwrap_or(0)
                + stats["jobs"]["running"].as_i64().unwrap_or(0);
            if open == 0 || Instant::now() > deadline {
                return stats;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Booking jobs by call id: (status, last error, seconds from enqueue to last update).
    pub async fn jobs(&self) -> HashMap<String, (String, Option<String>, f64)> {
        let recent = self.rpc("queue.getRecentJobs", json!({"limit": 500})).await;
        let ms = |v: &Value| {
            chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap())
                .unwrap()
                .timestamp_millis() as f64
        };
        recent["result"]["data"]["jobs"]
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
            .collect()
    }
}

/// The Prometheus text of `{base}/api/metrics`, read with `token` (admin or metrics scope).
pub async fn metrics_text(client: &reqwest::Client, base: &str, token: &str) -> String {
    client
        .get(format!("{base}/api/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Sum of the samples of `name` in the Prometheus text of `{base}/api/metrics` (read with
/// `token`) whose labels include every `key="value"` of `labels` (0 when there is none).
pub async fn scrape(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    name: &str,
    labels: &[(&str, &str)],
) -> f64 {
    let text = metrics_text(client, base, token).await;
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

/// The HTTP client of the process-level runs (30 s timeout).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// `switchboard sim calcom` on `port`, waited for (bounded) until it answers.
pub async fn start_sim(client: &reqwest::Client, port: u16) -> Proc {
    let sim = spawn_sim(port);
    wait_until_up(client, &format!("http://127.0.0.1:{port}/__sim/faults")).await;
    sim
}

/// Sets the simulator's faults.
pub async fn set_faults(client: &reqwest::Client, sim: &str, faults: Value) {
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

/// Checks that `call_id` was booked exactly once (`bookings`: its count in the simulator, from
/// [`sim_bookings`]) and that its job in `jobs` ([`Driver::jobs`]) is `done`; returns the job's
/// seconds from enqueue to done.
pub fn assert_booked_once(
    call_id: &str,
    bookings: usize,
    jobs: &HashMap<String, (String, Option<String>, f64)>,
) -> f64 {
    assert_eq!(
        bookings,
        1,
        "{call_id} must be booked exactly once (job: {:?})",
        jobs.get(call_id)
    );
    let (status, _, secs) = &jobs[call_id];
    assert_eq!(status, "done", "{call_id}: job stuck or failed");
    *secs
}

/// Accepted bookings in the simulator: count per Retell call id and per start time.
pub async fn sim_bookings(
    client: &reqwest::Client,
    sim: &str,
) -> (HashMap<String, usize>, HashMap<String, usize>) {
    let bookings: Value = client
        .get(format!("{sim}/v2/bookings?take=250&status=upcoming"))
        .header("cal-api-version", "2024-08-13")
        .bearer_auth(CALCOM_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut per_call = HashMap::new();
    let mut per_slot = HashMap::new();
    for b in bookings["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["status"] == "accepted")
    {
        *per_slot
            .entry(b["start"].as_str().unwrap().to_owned())
            .or_default() += 1;
        if let Some(call) = b["metadata"]["retell_call_id"].as_str() {
            *per_call.entry(call.to_owned()).or_default() += 1;
        }
    }
    (per_call, per_slot)
}

/// The `p` quantile of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}
