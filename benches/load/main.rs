//! The load scenario of issues 5 and 16, one command: `cargo bench --bench load` (release
//! build; options after `--`, see `--help`).
//!
//! It starts, on loopback, the Cal.com simulator (`switchboard sim calcom`, no latency, no
//! faults), `switchboard serve` (SQLite in a temporary directory — or PostgreSQL / Redis when
//! `SWITCHBOARD_TEST_DATABASE_URL` / `SWITCHBOARD_TEST_REDIS_URL` are set, as for the tests)
//! and a bare actix-web baseline, each as its own process, then measures for a bounded time:
//!
//! 1. **baseline** and 2. **gateway**: `calcom.getEventTypes` (cached) sent by `wrk` (see
//!    [`wrk`]) to the bare handler and through the gateway, in alternating runs (B G B G);
//!    the gateway's share of the baseline's requests per second is the figure, with the CPU
//!    share of the generator and of the server in each.
//! 3. **live functions**: `check_availability` and `collect_appointment_data`, signed as
//!    Retell sends them (from a pool signed before the phase), from 200 concurrent live calls
//!    (closed loops with a think time between two functions of a call; then once more
//!    without, for the saturation throughput), with this process's CPU share.
//! 4. **calls**: complete simulated calls (`call_started`, three functions, `call_ended`,
//!    then the booking) spread round robin over 50 tenants (the demo tenant and 49 onboarded
//!    with `company.create`), started at a fixed rate per step, rising until function p99
//!    passes 50 ms, the booking lag p99 passes 5 s, bookings fall behind the arrivals (fewer
//!    than 95 % of the rate booked per second, so a longer step would lag without bound) or a
//!    booking is lost or duplicated.
//! 5. **slow Cal.com** ([`slow`]): `check_availability` with Cal.com answering in
//!    300 ± 100 ms, with the availability prefetch and without.
//!
//! plus the service's resident memory with 1,000 calls live. Results print as a table and go
//! to `target/bench/report.json`. The targets are reported, never asserted; the run fails
//! (exit code 1) only when it cannot run or a booking was lost or made twice. Latencies of
//! phases 3–5 are recorded in HdrHistograms (µs resolution); that load comes from reqwest on
//! a 2-thread tokio runtime in this process.

#[path = "../../tests/common/mod.rs"]
mod common;

mod baseline;
mod cpu;
mod driver;
mod report;
mod scenarios;
mod slow;
mod tenants;
mod wrk;

use anyhow::Context;
use clap::Parser;
use common::Proc;
use scenarios::Env;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Options of the load run (`cargo bench --bench load -- --help`).
#[derive(Parser, Debug)]
#[command(about = "switchboard load scenario")]
struct Args {
    /// Seconds each fixed-concurrency phase is measured, after the warm-up.
    #[arg(long, default_value_t = 10)]
    duration_s: u64,
    /// Seconds of warm-up before each fixed-concurrency phase (not measured).
    #[arg(long, default_value_t = 2)]
    warmup_s: u64,
    /// Concurrent connections of the gateway and baseline phases (`wrk -c`).
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Threads of `wrk` in the gateway and baseline phases (`wrk -t`).
    #[arg(long, default_value_t = 1)]
    wrk_threads: usize,
    /// Measured runs of each of baseline and gateway, alternated (B G B G …); the figures
    /// are the medians.
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    /// Simulated live calls in the live-function phase.
    #[arg(long, default_value_t = 200)]
    live_calls: usize,
    /// Mean think time of a live call between two functions, milliseconds (drawn uniformly
    /// from 0 to twice this). A real call speaks for seconds between two functions; the
    /// phase then runs once more with no think time at all for the saturation throughput.
    #[arg(long, default_value_t = 250)]
    think_ms: u64,
    /// Calls started per second in the steps of the calls phase, in rising order; the phase
    /// stops after the first step that is not sustained.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "50,100,200,300,400,500,600"
    )]
    rates: Vec<u32>,
    /// Tenants the calls phase spreads its calls over (the demo tenant and this many less
    /// one onboarded with `company.create`).
    #[arg(long, default_value_t = 50)]
    tenants: usize,
    /// Seconds each step of the calls phase starts calls for.
    #[arg(long, default_value_t = 10)]
    step_s: u64,
    /// Seconds to wait after a step for its last bookings.
    #[arg(long, default_value_t = 60)]
    drain_s: u64,
    /// Calls held live for the memory figure.
    #[arg(long, default_value_t = 1000)]
    memory_calls: usize,
    /// Concurrent lines of the slow Cal.com phase (each plays calls one after another).
    #[arg(long, default_value_t = 200)]
    slow_calls: usize,
    /// Mean think time before each function of the slow Cal.com phase, ms (drawn from
    /// 0.5–1.5 × this).
    #[arg(long, default_value_t = 2000)]
    slow_think_ms: u64,
    /// Seconds the slow Cal.com phase records calls, per run (prefetch on, off).
    #[arg(long, default_value_t = 30)]
    slow_duration_s: u64,
    /// Seconds the slow Cal.com phase runs before it records.
    #[arg(long, default_value_t = 8)]
    slow_warmup_s: u64,
    /// `cache.availability_ttl_s` of the slow Cal.com phase's service (see `slow.rs`).
    #[arg(long, default_value_t = 10)]
    slow_cache_ttl_s: u64,
    /// Where the JSON report goes (default `target/bench/report.json`).
    #[arg(long)]
    report: Option<PathBuf>,
    /// A short run (2 s phases, 1 s warm-up, one round, steps 25 and 50 calls/s of 3 s over
    /// 5 tenants, 200 memory calls, 10 slow lines for 4 s) that checks the scenario works;
    /// its figures are not comparable.
    #[arg(long)]
    quick: bool,
    /// Internal: serve only the bare baseline on this port (the run starts it this way).
    #[arg(long, hide = true)]
    baseline_server: Option<u16>,
    /// Internal: the reply body of the baseline.
    #[arg(long, hide = true)]
    baseline_body: Option<PathBuf>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

impl Args {
    fn shorten(&mut self) {
        if self.quick {
            self.duration_s = 2;
            self.warmup_s = 1;
            self.rounds = 1;
            self.rates = vec![25, 50];
            self.step_s = 3;
            self.memory_calls = 200;
            self.live_calls = self.live_calls.min(200);
            self.tenants = self.tenants.min(5);
            self.slow_calls = self.slow_calls.min(10);
            self.slow_think_ms = 500;
            self.slow_duration_s = 4;
            self.slow_warmup_s = 2;
        }
    }
}

fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    if let Some(port) = args.baseline_server {
        let body = args.baseline_body.context("--baseline-body is required")?;
        return Ok(baseline::serve(port, &body)?);
    }
    args.shorten();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run(args))
}

/// The machine the figures come from.
fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_default();
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| (kb / 1024.0 / 1024.0 * 10.0).round() / 10.0);
    let commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    json!({
        "cpus": std::thread::available_parallelism().map_or(0, usize::from),
        "cpu": cpu,
        "memory_gib": mem_gib,
        "commit": commit,
        "date_utc": chrono::Utc::now().to_rfc3339(),
    })
}

/// Starts the bare baseline (this binary again) on `port` answering with `body`.
fn spawn_baseline(port: u16, body: &std::path::Path) -> anyhow::Result<Proc> {
    let exe = std::env::current_exe()?;
    let child = Command::new(exe)
        .arg("--baseline-server")
        .arg(port.to_string())
        .arg("--baseline-body")
        .arg(body)
        .stdout(Stdio::null())
        .spawn()?;
    Ok(Proc(child))
}

/// Waits (bounded, 30 s) until the baseline answers.
async fn wait_for_baseline(env: &Env) -> anyhow::Result<()> {
    for _ in 0..300 {
        let sent = env
            .client
            .post(format!("{}/api/mcp/gateway", env.baseline))
            .body(scenarios::EVENT_TYPES_REQUEST)
            .send()
            .await;
        if sent.is_ok_and(|r| r.status().is_success()) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the baseline did not come up")
}

/// Production defaults where the shared process helpers use fast test settings.
fn production_settings() -> Vec<(&'static str, String)> {
    [
        ("SWITCHBOARD__OUTBOX__POLL_INTERVAL_MS", "500"),
        ("SWITCHBOARD__OUTBOX__LEASE_S", "60"),
        ("SWITCHBOARD__OUTBOX__MAX_ATTEMPTS", "10"),
        ("SWITCHBOARD__OUTBOX__BACKOFF_BASE_MS", "1000"),
        ("SWITCHBOARD__OUTBOX__BACKOFF_MAX_MS", "300000"),
        ("SWITCHBOARD__RESILIENCE__CALCOM__OPEN_S", "60"),
        ("SWITCHBOARD__RESILIENCE__CALCOM__TIMEOUT_MS", "5000"),
        ("SWITCHBOARD__LOG__LEVEL", "warn"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .collect()
}

fn report_path(args: &Args) -> PathBuf {
    args.report.clone().unwrap_or_else(|| {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
        target.join("bench").join("report.json")
    })
}

/// `n` call ids `{prefix}_00000` …
fn call_ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|k| format!("{prefix}_{k:05}")).collect()
}

async fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.tenants >= 1 && args.rounds >= 1,
        "--tenants and --rounds are at least 1"
    );
    let dir = tempfile::tempdir()?;
    let (sim_port, app_port, baseline_port) = (
        common::free_port(),
        common::free_port(),
        common::free_port(),
    );
    let client = common::client();
    let sim = format!("http://127.0.0.1:{sim_port}");
    let _sim = common::start_sim(&client, sim_port).await;
    let db = common::database_url(dir.path()).await;
    let database = if db.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let prefix = format!("load-{}:", uuid::Uuid::new_v4().simple());
    let serve = common::spawn_serve_with(
        dir.path(),
        &db,
        app_port,
        sim_port,
        &prefix,
        &production_settings(),
    );
    let app = format!("http://127.0.0.1:{app_port}");
    common::wait_until_up(&client, &format!("{app}/readyz")).await;
    let mut env = Env {
        client: client.clone(),
        app,
        sim: sim.clone(),
        baseline: format!("http://127.0.0.1:{baseline_port}"),
        serve_pid: serve.0.id(),
        tenants: vec![tenants::demo()].into(),
    };
    let warmup = Duration::from_secs(args.warmup_s);
    let window = Duration::from_secs(args.duration_s);
    println!(
        "switchboard load run: {database}, {} s phases, wrk -t{} -c{}, {} live calls, {} tenants",
        args.duration_s, args.wrk_threads, args.concurrency, args.live_calls, args.tenants
    );

    let body_file = dir.path().join("baseline.json");
    let reply = scenarios::event_types_reply(&env).await;
    std::fs::write(&body_file, &reply)?;
    let baseline_proc = spawn_baseline(baseline_port, &body_file)?;
    wait_for_baseline(&env).await?;
    let rss_idle = scenarios::rss_mib(env.serve_pid).0;

    let script = wrk::script(dir.path(), scenarios::EVENT_TYPES_REQUEST, common::ADMIN)?;
    let load = wrk::Load {
        threads: args.wrk_threads,
        connections: args.concurrency,
    };
    let targets = [
        (&env.baseline, baseline_proc.0.id()),
        (&env.app, env.serve_pid),
    ];
    let mut phases = [wrk::WrkPhase::default(), wrk::WrkPhase::default()];
    for round in 1..=args.rounds {
        for (k, (base, pid)) in targets.iter().enumerate() {
            let what = ["baseline", "gateway"][k];
            println!(
                "{}/5 {what} (wrk), round {round} of {} …",
                k + 1,
                args.rounds
            );
            let url = format!("{base}/api/mcp/gateway");
            wrk::run(&script, &url, load, warmup, *pid).await?;
            phases[k]
                .runs
                .push(wrk::run(&script, &url, load, window, *pid).await?);
        }
    }
    let [mut baseline, mut gateway] = phases;
    baseline.check_answers(reply.len());
    gateway.check_answers(reply.len());
    drop(baseline_proc);

    let first_day = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Berlin)
        .date_naive()
        + chrono::Duration::days(2);
    // Each tenant needs one slot per call of its own in every step.
    let per_tenant: usize = args
        .rates
        .iter()
        .map(|r| (*r as usize * args.step_s as usize).div_ceil(args.tenants))
        .sum();
    let slots = common::slots(first_day, per_tenant.max(args.live_calls).max(1));

    println!("3/5 live functions …");
    let live = call_ids("live", args.live_calls);
    scenarios::open_calls(&env, &live, &slots, 50).await?;
    let think = Duration::from_millis(args.think_ms);
    let functions = scenarios::live_functions(&env, &live, &slots, think, warmup, window).await;
    println!("    and saturated (no think time) …");
    let saturated =
        scenarios::live_functions(&env, &live, &slots, Duration::ZERO, warmup, window).await;
    scenarios::end_calls(&env, &live, 50).await;

    println!("    memory at {} live calls …", args.memory_calls);
    let held = call_ids("held", args.memory_calls);
    scenarios::open_calls(&env, &held, &slots, 100).await?;
    let rss_live = scenarios::rss_mib(env.serve_pid).0;
    scenarios::end_calls(&env, &held, 100).await;

    println!("4/5 onboarding {} more tenants …", args.tenants - 1);
    let batch = tenants::Batch {
        prefix: "bench",
        series: 1,
        count: args.tenants - 1,
        hours: tenants::Hours::Demo,
        webhooks: true,
    };
    let mut all = vec![tenants::demo()];
    all.extend(tenants::onboard(&client, &env.app, &sim, batch).await?);
    env.tenants = all.into();
    let mut steps = Vec::new();
    let mut offset = 0;
    for (k, rate) in args.rates.iter().enumerate() {
        println!("4/5 calls at {rate}/s over {} tenants …", args.tenants);
        let n = *rate as usize * args.step_s as usize;
        let step = scenarios::calls_step(
            &env,
            *rate,
            args.step_s,
            &slots[offset..offset + n.div_ceil(args.tenants)],
            &format!("s{k}"),
            Duration::from_secs(args.drain_s),
        )
        .await;
        offset += n.div_ceil(args.tenants);
        let stop = step.failure();
        steps.push(step);
        if let Some(why) = stop {
            println!("    not sustained: {why}");
            for job in &steps.last().expect("just pushed").missing_jobs {
                println!("    missing {job}");
            }
            break;
        }
    }
    let rss_end = scenarios::rss_mib(env.serve_pid);
    drop(serve);

    println!(
        "5/5 slow Cal.com (300 ± 100 ms), {} lines, prefetch on, then off …",
        args.slow_calls
    );
    let slow_settings = slow::Settings {
        lines: args.slow_calls,
        think: Duration::from_millis(args.slow_think_ms),
        warmup: Duration::from_secs(args.slow_warmup_s),
        window: Duration::from_secs(args.slow_duration_s),
        ttl_s: args.slow_cache_ttl_s,
    };
    let slow = slow::run(&client, slow_settings, &production_settings()).await?;

    let report = report::Report {
        settings: json!({
            "duration_s": args.duration_s, "warmup_s": args.warmup_s,
            "concurrency": args.concurrency, "wrk_threads": args.wrk_threads, "rounds": args.rounds,
            "live_calls": args.live_calls, "think_ms": args.think_ms,
            "rates": args.rates, "step_s": args.step_s, "tenants": args.tenants,
            "memory_calls": args.memory_calls,
            "slow_calls": args.slow_calls, "slow_think_ms": args.slow_think_ms,
            "slow_duration_s": args.slow_duration_s, "slow_warmup_s": args.slow_warmup_s,
            "slow_cache_ttl_s": args.slow_cache_ttl_s,
            "quick": args.quick,
        }),
        database,
        load: load_description(&args),
        baseline,
        gateway,
        live_calls: args.live_calls,
        think_ms: args.think_ms,
        functions,
        saturated,
        memory_live_calls: args.memory_calls,
        rss_idle_mib: rss_idle,
        rss_live_mib: rss_live,
        rss_end_mib: rss_end,
        tenants: args.tenants,
        steps,
        slow_lines: args.slow_calls,
        slow,
    };
    println!("\n{}", report.table());
    let path = report_path(&args);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&report.json(machine()))?,
    )?;
    println!("report written to {}", path.display());
    // Figures are reported, not asserted; a lost or duplicated booking is a defect.
    let broken: usize = report.steps.iter().map(|s| s.missing + s.duplicates).sum();
    anyhow::ensure!(
        broken == 0,
        "{broken} bookings lost or duplicated under load"
    );
    Ok(())
}

/// How the load of each phase was generated, for the report.
fn load_description(args: &Args) -> Value {
    json!({
        "baseline_and_gateway": format!("wrk -t{} -c{} (Lua script: POST with body and headers; figures from its done() hook), {} alternating rounds, medians", args.wrk_threads, args.concurrency, args.rounds),
        "live_functions": "this process: reqwest on a 2-thread tokio runtime, requests built and signed before the phase (re-signed after 4 min)",
        "calls": "this process: reqwest, open loop, each request signed when sent",
        "slow_calcom": "this process: reqwest, closed loops (lines) with think time",
        "cores": cpu::cores(),
    })
}
