//! The race test: 50 pairs of calls race for the same 50 slots against a Cal.com simulator
//! with latency jitter and 10 % errors. In each pair both calls collect the same slot, both
//! confirm at the same moment, then both end. Pass, once the outbox has drained: nobody was
//! told the slot is theirs (`booked_pending`) without a booking of it, no pair had two
//! callers told so, and no slot has two bookings. The figures are printed (run with
//! `--nocapture` to see them).
//!
//! Real processes, as in `chaos.rs`: `switchboard sim calcom` and `switchboard serve`.

mod common;

use common::{Driver, RETELL_KEY, set_faults, sim_bookings, spawn_serve, wait_until_up};
use futures_util::future::join_all;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use switchboard_actors::retell::signature::sign;

const SEED: u64 = 20261201;
const PAIRS: usize = 50;
/// Pairs racing at the same time.
const AT_ONCE: usize = 10;

/// One racing call: its id and the slot it wants.
struct Racer {
    call_id: String,
    date: String,
    time: String,
}

impl Racer {
    fn call(&self, status: &str) -> Value {
        let mut call = json!({
            "call_id": self.call_id, "agent_id": "agent_test", "call_type": "phone_call",
            "direction": "inbound", "from_number": "+4915112345678",
            "to_number": common::DEMO_NUMBER, "call_status": status,
            "start_timestamp": chrono::Utc::now().timestamp_millis(),
        });
        if status == "ended" {
            call["end_timestamp"] = json!(chrono::Utc::now().timestamp_millis());
        }
        call
    }
}

/// A signed POST like Retell's; returns the reply body (`Null` when it has none). Retried
/// while the service does not answer.
async fn signed(driver: &Driver, path: &str, body: &Value) -> (u16, Value) {
    let bytes = serde_json::to_vec(body).unwrap();
    for _ in 0..50 {
        let ts = chrono::Utc::now().timestamp_millis();
        let sent = driver
            .client
            .post(format!("{}{path}", driver.bases[0]))
            .header("content-type", "application/json")
            .header("X-Retell-Signature", sign(&bytes, RETELL_KEY, ts))
            .body(bytes.clone())
            .send()
            .await;
        if let Ok(res) = sent {
            let status = res.status().as_u16();
            return (status, res.json().await.unwrap_or(Value::Null));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} never answered");
}

/// `collect_appointment_data` for `racer` with `args`; returns the reply's `status`.
async fn collect(driver: &Driver, racer: &Racer, args: Value) -> String {
    let body =
        json!({"name": "collect_appointment_data", "call": racer.call("ongoing"), "args": args});
    let (status, reply) = signed(driver, "/api/mcp/retell/custom-function", &body).await;
    assert_eq!(status, 200, "{}: {reply}", racer.call_id);
    reply["status"].as_str().unwrap_or("none").to_owned()
}

/// One racer's whole call: the slot and details, the confirmation, the end. Returns the
/// statuses of the first reply and of the confirmation's reply.
async fn race_one(
    driver: &Driver,
    racer: &Racer,
    start: &tokio::sync::Barrier,
) -> (String, String) {
    let details = json!({"dienstleistung": "Herrenhaarschnitt", "datum": racer.date,
                         "uhrzeit": racer.time, "name": "Anna Schmidt",
                         "telefonnummer": "0151 12345678"});
    start.wait().await;
    let first = collect(driver, racer, details).await;
    // Both callers say yes at the same moment.
    start.wait().await;
    let confirmed = collect(driver, racer, json!({"bestaetigt": "ja"})).await;
    start.wait().await;
    let ended = json!({"event": "call_ended", "call": racer.call("ended")});
    let (status, _) = signed(driver, "/api/mcp/retell/webhook", &ended).await;
    assert_eq!(status, 204, "{}", racer.call_id);
    (first, confirmed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_callers_are_never_told_yours_without_a_booking() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (sim_port, app_port) = (common::free_port(), common::free_port());
    let sim_url = format!("http://127.0.0.1:{sim_port}");
    let client = common::client();
    let _sim = common::start_sim(&client, sim_port).await;
    let db = common::database_url(dir.path()).await;
    let prefix = format!("race-{}:", uuid::Uuid::new_v4().simple());
    let _serve = spawn_serve(dir.path(), &db, app_port, sim_port, &prefix);
    let driver = Driver {
        client: client.clone(),
        bases: vec![format!("http://127.0.0.1:{app_port}")],
    };
    wait_until_up(&client, &format!("{}/readyz", driver.bases[0])).await;

    let first_day = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Berlin)
        .date_naive()
        + chrono::Duration::days(2);
    let pairs: Vec<[Racer; 2]> = common::slots(first_day, PAIRS)
        .into_iter()
        .enumerate()
        .map(|(k, (date, time))| {
            let racer = |side: &str| Racer {
                call_id: format!("call_race_{SEED}_{k:02}_{side}"),
                date: date.format("%d.%m.%Y").to_string(),
                time: time.format("%H:%M").to_string(),
            };
            [racer("a"), racer("b")]
        })
        .collect();
    let faults = json!({"error_rate": 0.1, "error_status": 503, "jitter_ms": 300, "seed": SEED});
    set_faults(&client, &sim_url, faults).await;

    let mut outcomes: Vec<(String, String, String)> = Vec::new();
    for chunk in pairs.chunks(AT_ONCE) {
        let runs = chunk.iter().map(|pair| {
            let driver = &driver;
            async move {
                let start = tokio::sync::Barrier::new(2);
                let (a, b) = futures_util::join!(
                    race_one(driver, &pair[0], &start),
                    race_one(driver, &pair[1], &start)
                );
                [(pair[0].call_id.clone(), a), (pair[1].call_id.clone(), b)]
            }
        });
        for pair in join_all(runs).await {
            outcomes.extend(
                pair.into_iter()
                    .map(|(id, (first, last))| (id, first, last)),
            );
        }
    }

    driver.wait_for_jobs(Duration::from_secs(90)).await;
    set_faults(&client, &sim_url, json!({})).await;
    let (per_call, per_slot) = sim_bookings(&client, &sim_url).await;
    let jobs = driver.jobs().await;

    let mut told: HashMap<&str, usize> = HashMap::new();
    let mut first_told: HashMap<&str, usize> = HashMap::new();
    for (call_id, first, last) in &outcomes {
        *told.entry(last.as_str()).or_default() += 1;
        *first_told.entry(first.as_str()).or_default() += 1;
        if last == "booked_pending" {
            assert_eq!(
                per_call.get(call_id).copied().unwrap_or(0),
                1,
                "{call_id} was told the slot is theirs: it must be booked once (job {:?})",
                jobs.get(call_id)
            );
        }
    }
    for pair in outcomes.chunks(2) {
        let yours = pair
            .iter()
            .filter(|(_, _, last)| last == "booked_pending")
            .count();
        assert!(
            yours <= 1,
            "two callers were told one slot is theirs: {pair:?}"
        );
    }
    assert!(
        per_slot.values().all(|n| *n <= 1),
        "a slot was booked twice: {per_slot:?}"
    );
    let count = |status: &str| told.get(status).copied().unwrap_or(0);
    let dead = jobs
        .values()
        .filter(|(status, _, _)| status == "failed")
        .count();
    let bookings: usize = per_slot.values().sum();

    println!("\nrace figures (seed {SEED}, {PAIRS} pairs, Cal.com 10 % errors, 300 ms jitter):");
    println!("  calls                          {}", outcomes.len());
    println!("  first reply                    {first_told:?}");
    println!(
        "  told yours (booked_pending)    {} — each booked exactly once",
        count("booked_pending")
    );
    println!(
        "  told taken                     {} (taken {}, unavailable {})",
        count("taken") + count("unavailable"),
        count("taken"),
        count("unavailable")
    );
    println!(
        "  told unconfirmed (noted)       {}",
        count("noted_unconfirmed")
    );
    println!("  bookings in Cal.com            {bookings} (slots booked twice: 0)");
    println!("  dead letters                   {dead}");
    println!(
        "  wall time                      {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
