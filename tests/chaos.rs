//! The chaos test: 200 simulated calls against a Cal.com simulator with 20 % errors, 300 ms
//! jitter, a 20 s outage and "commit then fail", 4 concurrent copies of every `call_ended`,
//! one forced restart of the booking worker and one `kill -9` of the whole process mid-run.
//!
//! Everything runs as real processes (`switchboard sim calcom` and `switchboard serve`, the
//! binary built with the test-only `fault-injection` feature) so the simulator, like the real
//! Cal.com, outlives the service. Inputs come from a fixed seed. Pass: every confirmed call
//! with a free slot has exactly one booking, unconfirmed calls none, taken-slot calls none (told
//! so during the call, or dead letters with a clear error when the calendar could not be
//! asked), no slot is double-booked, and the breaker opened during the
//! outage and closed after it. The figures are printed (run with `--nocapture` to see them).

mod common;

use common::{Driver, Kind, percentile, set_faults, sim_bookings, spawn_serve, wait_until_up};
use serde_json::json;
use std::time::{Duration, Instant};

const SEED: u64 = 20261122;
const CALLS: usize = 200;
const OUTAGE_S: u64 = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_every_confirmed_free_call_is_booked_exactly_once() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (sim_port, app_port) = (common::free_port(), common::free_port());
    let sim_url = format!("http://127.0.0.1:{sim_port}");
    let client = common::client();
    let _sim = common::start_sim(&client, sim_port).await;
    let db = common::database_url(dir.path()).await;
    let prefix = format!("chaos-{}:", uuid::Uuid::new_v4().simple());
    let mut serve = spawn_serve(dir.path(), &db, app_port, sim_port, &prefix);
    let driver = Driver {
        client: client.clone(),
        bases: vec![format!("http://127.0.0.1:{app_port}")],
    };
    wait_until_up(&client, &format!("{}/readyz", driver.bases[0])).await;

    let plans = common::plan(SEED, CALLS, "chaos", 1);
    // Someone else takes the "taken" slots first (before any fault).
    for p in plans.iter().filter(|p| p.kind == Kind::TakenSlot) {
        let params = json!({"company_id": 1, "service": "Herrenhaarschnitt", "date": p.date,
                            "time": p.time.format("%H:%M").to_string(), "name": "Walk-in", "phone": "030 1234567"});
        let res = driver.rpc("calcom.createBooking", params).await;
        assert_eq!(res["result"]["success"], true, "{res}");
    }
    let faults = json!({"error_rate": 0.2, "error_status": 503, "jitter_ms": 300, "commit_then_fail_rate": 0.2, "seed": SEED});
    set_faults(&client, &sim_url, faults.clone()).await;

    // Phase 1: half the calls; a 20 s outage starts while their bookings run.
    let (first, second) = plans.split_at(CALLS / 2);
    driver.run_calls(&first[..CALLS / 4], 0).await;
    let mut outage = faults.clone();
    outage["outage_s"] = json!(OUTAGE_S);
    set_faults(&client, &sim_url, outage).await;
    let outage_started = Instant::now();
    driver.run_calls(&first[CALLS / 4..], 0).await;
    let breaker = [("service", "calcom"), ("company", "1")];
    let opened = [("service", "calcom"), ("company", "1"), ("to", "open")];
    let closed = [("service", "calcom"), ("company", "1"), ("to", "closed")];
    let opened_during_outage = loop {
        let n = driver
            .metric(0, "mcp_circuit_breaker_transitions_total", &opened)
            .await;
        if n >= 1.0 || outage_started.elapsed() > Duration::from_secs(OUTAGE_S) {
            break n;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    // After the outage the breaker must close again by itself.
    let closed_after = loop {
        let state = driver
            .metric(0, "mcp_circuit_breaker_state", &breaker)
            .await;
        let n = driver
            .metric(0, "mcp_circuit_breaker_transitions_total", &closed)
            .await;
        if outage_started.elapsed() > Duration::from_secs(OUTAGE_S) && state == 0.0 && n >= 1.0 {
            break true;
        }
        if outage_started.elapsed() > Duration::from_secs(OUTAGE_S + 60) {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let transitions = driver
        .metric(0, "mcp_circuit_breaker_transitions_total", &breaker)
        .await;

    // Phase 2: a forced restart of the booking worker, then the rest of the calls with a
    // kill -9 of the whole service in the middle.
    let res = driver.rpc("fault.panic", json!({"actor": "outbox"})).await;
    assert_eq!(res["error"]["code"], -32603, "{res}");
    let (before_kill, after_kill) = second.split_at(second.len() / 2);
    driver.run_calls(before_kill, 0).await;
    drop(serve);
    serve = spawn_serve(dir.path(), &db, app_port, sim_port, &prefix);
    wait_until_up(&client, &format!("{}/readyz", driver.bases[0])).await;
    driver.run_calls(after_kill, 0).await;

    let stats = driver.wait_for_jobs(Duration::from_secs(240)).await;
    set_faults(&client, &sim_url, json!({})).await;
    let (per_call, per_slot) = sim_bookings(&client, &sim_url).await;
    let jobs = driver.jobs().await;
    drop(serve);

    let mut booked = 0;
    let mut dead = 0;
    let mut told_taken = 0;
    let mut latencies = Vec::new();
    for p in &plans {
        let n = per_call.get(&p.call_id).copied().unwrap_or(0);
        match p.kind {
            Kind::Confirmed => {
                latencies.push(common::assert_booked_once(&p.call_id, n, &jobs));
                booked += 1;
            }
            Kind::Unconfirmed => {
                assert_eq!(n, 0, "{} was never confirmed", p.call_id);
                assert!(!jobs.contains_key(&p.call_id), "{} has a job", p.call_id);
            }
            Kind::TakenSlot => {
                assert_eq!(n, 0, "{} must not displace the existing booking", p.call_id);
                // Told during the call that the slot is taken, the caller's yes no longer
                // stands and nothing is booked; only a call that could not check the
                // calendar leaves a job, which fails on the taken slot.
                match jobs.get(&p.call_id) {
                    None => told_taken += 1,
                    Some((status, error, _)) => {
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
        }
    }
    assert!(
        per_slot.values().all(|n| *n == 1),
        "a slot was booked twice: {per_slot:?}"
    );
    assert!(
        opened_during_outage >= 1.0,
        "the breaker never opened during the outage"
    );
    assert!(closed_after, "the breaker did not close after the outage");
    latencies.sort_by(f64::total_cmp);

    println!(
        "\nchaos figures (seed {SEED}, database {}):",
        if db.starts_with("postgres") {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    println!("  calls                      {}", plans.len());
    println!("  booked (exactly once)      {booked}");
    println!(
        "  unconfirmed, not booked    {}",
        plans.iter().filter(|p| p.kind == Kind::Unconfirmed).count()
    );
    println!("  taken slot, told at once   {told_taken}");
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
