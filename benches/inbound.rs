//! The inbound-call webhook figure of issue 13 (`cargo bench --bench inbound`; release build):
//! `POST /api/mcp/retell/inbound` for the demo number, signed as Retell signs it, answered
//! with the tenant's agent and dynamic variables. Target: p99 ≤ 20 ms on this machine.
//!
//! It starts, on loopback and each as its own process, the Cal.com simulator and
//! `switchboard serve` (SQLite in a temporary directory, or the production backends of
//! `SWITCHBOARD_TEST_DATABASE_URL` / `SWITCHBOARD_TEST_REDIS_URL`), then sends the webhook from
//! `--concurrency` closed loops for `--duration-s` seconds after a warm-up. Every request is
//! built and signed before the clock starts (one body per distinct caller number, none of
//! them a customer yet: each answer still reads the customer and appointment tables), so the
//! generator only sends. Latencies go into an
//! HdrHistogram (µs); p50, p99, max and requests per second are printed. The target is
//! reported, never asserted: the run fails only when a request is not answered 200.

#[path = "../tests/common/mod.rs"]
mod common;

use anyhow::Context;
use clap::Parser;
use hdrhistogram::Histogram;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchboard_actors::retell::signature::sign;
use tokio::sync::Mutex;

/// Options (`cargo bench --bench inbound -- --help`).
#[derive(Parser, Debug)]
#[command(about = "switchboard inbound-call webhook latency")]
struct Args {
    /// Seconds measured after the warm-up.
    #[arg(long, default_value_t = 10)]
    duration_s: u64,
    /// Seconds of warm-up (not measured).
    #[arg(long, default_value_t = 2)]
    warmup_s: u64,
    /// Concurrent closed loops.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Distinct signed requests built up front (callers).
    #[arg(long, default_value_t = 2000)]
    requests: usize,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// The demo tenant's number (examples/tenants/demo-salon-berlin.toml).
const DEMO_NUMBER: &str = "+493083793369";

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run(args))
}

/// Signed bodies, one per caller: `(body, X-Retell-Signature)`.
fn signed_requests(n: usize) -> Vec<(Vec<u8>, String)> {
    let now_ms = chrono::Utc::now().timestamp_millis();
    (0..n)
        .map(|k| {
            let body = json!({"event": "call_inbound", "call_inbound": {
                "agent_id": "agent_demo_salon_berlin",
                "from_number": format!("+4915{:09}", 100_000_000 + k),
                "to_number": DEMO_NUMBER,
                "call_id": format!("call_inbound_bench_{k:06}"),
            }})
            .to_string()
            .into_bytes();
            let signature = sign(&body, common::RETELL_KEY, now_ms);
            (body, signature)
        })
        .collect()
}

async fn run(args: Args) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (sim_port, app_port) = (common::free_port(), common::free_port());
    let client = common::client();
    let _sim = common::start_sim(&client, sim_port).await;
    let db = common::database_url(dir.path()).await;
    let prefix = format!("inbound-{}:", uuid::Uuid::new_v4().simple());
    let _serve = common::spawn_serve_with(dir.path(), &db, app_port, sim_port, &prefix, &[]);
    let app = format!("http://127.0.0.1:{app_port}");
    common::wait_until_up(&client, &format!("{app}/readyz")).await;
    let requests = Arc::new(signed_requests(args.requests));
    let url = format!("{app}/api/mcp/retell/inbound");

    let hist = Arc::new(Mutex::new(Histogram::<u64>::new_with_bounds(
        1, 60_000_000, 3,
    )?));
    let started = Instant::now();
    let warm_until = started + Duration::from_secs(args.warmup_s);
    let stop_at = warm_until + Duration::from_secs(args.duration_s);
    let loops: Vec<_> = (0..args.concurrency)
        .map(|worker| {
            let (client, url, requests, hist) = (
                client.clone(),
                url.clone(),
                Arc::clone(&requests),
                Arc::clone(&hist),
            );
            tokio::spawn(async move {
                let mut k = worker;
                let mut local = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
                while Instant::now() < stop_at {
                    let (body, signature) = &requests[k % requests.len()];
                    k += args.concurrency;
                    let sent = Instant::now();
                    let res = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .header("x-retell-signature", signature)
                        .body(body.clone())
                        .send()
                        .await?;
                    let status = res.status();
                    res.bytes().await?;
                    let took = sent.elapsed();
                    anyhow::ensure!(status.is_success(), "inbound webhook answered {status}");
                    if sent >= warm_until {
                        local.record(u64::try_from(took.as_micros()).unwrap_or(u64::MAX))?;
                    }
                }
                hist.lock().await.add(&local)?;
                anyhow::Ok(())
            })
        })
        .collect();
    for handle in loops {
        handle.await.context("a load loop panicked")??;
    }
    let hist = hist.lock().await;
    let ms = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "inbound webhook, {} loops, {} s: {} requests, {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (target p99 ≤ 20 ms)",
        args.concurrency,
        args.duration_s,
        hist.len(),
        hist.len() as f64 / args.duration_s as f64,
        ms(0.5),
        ms(0.99),
        hist.max() as f64 / 1000.0,
    );
    Ok(())
}
