//! Two `switchboard serve` instances on one PostgreSQL + Redis (the production shape): 100
//! calls whose custom functions alternate between the instances, whose `call_ended` arrives
//! at both (4 copies, concurrently), and one instance killed with SIGKILL mid-run. Pass: every
//! confirmed call booked exactly once, no slot twice, no job stuck (leases of the dead
//! instance expire and the survivor takes its jobs), nothing lost.
//!
//! Needs PostgreSQL: `SWITCHBOARD_TEST_POSTGRES_URL`, else `SWITCHBOARD_TEST_DATABASE_URL` when
//! it is a `postgres://` URL (`scripts/backends.sh start` prints both), and Redis when
//! `SWITCHBOARD_TEST_REDIS_URL` is set. Without PostgreSQL it is skipped locally and fails in
//! CI (`CI=true`).

mod common;

use common::{Driver, Kind, percentile, sim_bookings, spawn_serve, wait_until_up};
use std::time::{Duration, Instant};

const SEED: u64 = 4242;
const CALLS: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_book_every_confirmed_call_exactly_once_through_a_sigkill() {
    let Some(postgres) = common::postgres_url() else {
        common::backend_missing(
            "multi-instance test",
            "set SWITCHBOARD_TEST_POSTGRES_URL (scripts/backends.sh start)",
        );
        return;
    };
    let started = Instant::now();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (sim_port, port_a, port_b) = (
        common::free_port(),
        common::free_port(),
        common::free_port(),
    );
    let client = common::client();
    let _sim = common::start_sim(&client, sim_port).await;
    // One database and one Redis namespace: one cluster. Both seed the demo tenant at once.
    let db = common::fresh_postgres_database(&postgres).await;
    let prefix = format!("multi-{}:", uuid::Uuid::new_v4().simple());
    let a = spawn_serve(dir_a.path(), &db, port_a, sim_port, &prefix);
    let b = spawn_serve(dir_b.path(), &db, port_b, sim_port, &prefix);
    let driver = Driver {
        client: client.clone(),
        bases: vec![
            format!("http://127.0.0.1:{port_a}"),
            format!("http://127.0.0.1:{port_b}"),
        ],
    };
    for base in &driver.bases {
        wait_until_up(&client, &format!("{base}/readyz")).await;
    }

    let plans = common::plan(SEED, CALLS, "multi", 0);
    let (first, second) = plans.split_at(CALLS / 2);
    driver.run_calls(first, 0).await;
    // SIGKILL instance B in the middle: its claimed jobs must be taken over by A after their
    // lease, and requests meant for B fail over to A (as a load balancer would).
    drop(b);
    driver.run_calls(second, CALLS / 2).await;

    let stats = driver.wait_for_jobs(Duration::from_secs(120)).await;
    let (per_call, per_slot) = sim_bookings(&client, &format!("http://127.0.0.1:{sim_port}")).await;
    let jobs = driver.jobs().await;
    drop(a);

    let mut booked = 0;
    let mut latencies = Vec::new();
    for p in &plans {
        let n = per_call.get(&p.call_id).copied().unwrap_or(0);
        match p.kind {
            Kind::Confirmed | Kind::TakenSlot => {
                latencies.push(common::assert_booked_once(&p.call_id, n, &jobs));
                booked += 1;
            }
            Kind::Unconfirmed => assert_eq!(n, 0, "{} was never confirmed", p.call_id),
        }
    }
    assert!(
        per_slot.values().all(|n| *n == 1),
        "a slot was booked twice: {per_slot:?}"
    );
    assert_eq!(
        stats["jobs"]["pending"].as_i64().unwrap_or(0)
            + stats["jobs"]["running"].as_i64().unwrap_or(0),
        0
    );
    latencies.sort_by(f64::total_cmp);
    println!("\nmulti-instance figures (seed {SEED}, 2 instances, one killed mid-run):");
    println!("  calls                      {}", plans.len());
    println!("  booked (exactly once)      {booked}");
    println!("  duplicate webhooks         {}", stats["duplicates"]);
    println!(
        "  call_ended → booking       p50 {:.2} s, p99 {:.2} s",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );
    println!(
        "  wall time                  {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
