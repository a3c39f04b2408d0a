//! Phase 5, slow Cal.com: what a caller waits for `check_availability` when Cal.com answers
//! in 300 ± 100 ms (a second simulator with 200 ms latency and 0–200 ms jitter on every
//! `/v2` request) and a second `switchboard serve` is pointed at it — once with the
//! availability prefetch at `call_started` (the default) and once with it switched off
//! ([`PREFETCH_OFF`]).
//!
//! Each of `lines` concurrent lines plays calls one after another: `call_started`, then after
//! a think time `check_availability` for tomorrow (the call's first function, recorded apart),
//! `collect_appointment_data` with that slot, `check_availability` for the day after, and
//! `call_ended` (unconfirmed, so nothing is booked).
//!
//! A cache entry would otherwise make the comparison empty: after the first call of a tenant
//! its days stay cached for `cache.availability_ttl_s` (300 s), and with one tenant every
//! later call is warm whether prefetched or not. A real business gets a call every few
//! minutes at most, so a call's days are cold when it starts. The phase compresses that: line
//! `w` takes turns among three tenants of its own (`3w` … `3w + 2`, all open daily) and the
//! availability lifetime is cut to `ttl` (10 s), which outlives a call (3 think times of 1–3 s:
//! at most 9 s, so prefetched entries are still there for its last question; with 8 s the
//! longest calls' second question found them expired) but not the gap to the tenant's next
//! call (two calls of the other tenants, at least 6 s, 12 s on average), so each call starts
//! cold unless prefetched.

use crate::common::{self, Proc};
use crate::cpu::{CpuUse, cpu_s, own_cpu_s};
use crate::driver::{Latency, Recorder};
use crate::scenarios::{Env, call_object, caller, function, merge, slot_args, webhook};
use crate::tenants::{self, Batch, Hours, Tenant};
use chrono::{NaiveDate, NaiveTime};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The setting that switches the availability prefetch at `call_started` off, as the
/// environment variable `switchboard serve` reads, and its value. The one place to change if
/// the setting is named otherwise.
pub const PREFETCH_OFF: (&str, &str) = ("SWITCHBOARD__CACHE__PREFETCH_DAYS", "0");

/// Tenants each line takes turns among (see the module docs).
const TENANTS_PER_LINE: usize = 3;

/// The setting of the availability cache's lifetime (see the module docs).
const AVAILABILITY_TTL: &str = "SWITCHBOARD__CACHE__AVAILABILITY_TTL_S";

/// Record kind of a call's first `check_availability`.
pub const FIRST_CHECK: &str = "check_availability (first)";
/// Record kind of a call's later `check_availability`.
pub const LATER_CHECK: &str = "check_availability (later)";

/// How the phase runs.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Concurrent lines (calls in progress).
    pub lines: usize,
    /// Mean think time before each function; each is drawn from 0.5–1.5 × this.
    pub think: Duration,
    /// Lines run this long before calls are recorded.
    pub warmup: Duration,
    /// Calls started in this window are recorded.
    pub window: Duration,
    /// `cache.availability_ttl_s` of the phase's service, seconds.
    pub ttl_s: u64,
}

/// One run of the phase (prefetch on or off).
pub struct SlowRun {
    /// Whether the prefetch was on.
    pub prefetch: bool,
    /// The figures, or why the run could not be made.
    pub outcome: Result<SlowFigures, String>,
}

/// What one run measured.
pub struct SlowFigures {
    /// Latencies by kind ([`FIRST_CHECK`], [`LATER_CHECK`], `collect_appointment_data`,
    /// the webhooks) of the calls started in the window, and their failures.
    pub recorder: Recorder,
    /// Calls started in the window.
    pub calls: usize,
    /// CPU of this process over the window.
    pub client_cpu: CpuUse,
    /// CPU of the phase's service over the window.
    pub server_cpu: CpuUse,
}

impl SlowFigures {
    /// Every `check_availability` together.
    pub fn checks(&self) -> Option<Latency> {
        self.recorder
            .combined(|k| k == FIRST_CHECK || k == LATER_CHECK)
    }
}

impl SlowRun {
    /// The run as JSON.
    pub fn json(&self) -> Value {
        match &self.outcome {
            Err(why) => json!({"prefetch": self.prefetch, "not_run": why}),
            Ok(f) => {
                let mut v = json!({
                    "prefetch": self.prefetch,
                    "calls": f.calls,
                    "check_availability": f.checks().map(|l| l.json()),
                    "errors": f.recorder.errors,
                    "first_error": f.recorder.first_error,
                    "client_cpu": f.client_cpu.json(),
                    "server_cpu": f.server_cpu.json(),
                });
                for kind in f.recorder.kinds() {
                    v["by_kind"][kind] = f.recorder.latency(kind).map(|l| l.json()).into();
                }
                v
            }
        }
    }
}

/// Runs the phase: its own simulator and database, the service once with the prefetch and
/// once without. `extra` are the service settings of the run (production defaults).
///
/// # Errors
/// The simulator, the first service or the onboarding failing.
pub async fn run(
    client: &reqwest::Client,
    settings: Settings,
    extra: &[(&'static str, String)],
) -> anyhow::Result<Vec<SlowRun>> {
    let sim_port = common::free_port();
    let sim = format!("http://127.0.0.1:{sim_port}");
    let _sim = common::start_sim(client, sim_port).await;
    common::set_faults(client, &sim, json!({"latency_ms": 200, "jitter_ms": 200})).await;
    let dir = tempfile::tempdir()?;
    let db = common::database_url(dir.path()).await;
    let mut tenants: Option<Arc<[Tenant]>> = None;
    let mut runs = Vec::new();
    for prefetch in [true, false] {
        let port = common::free_port();
        let mut envs = extra.to_vec();
        envs.push((AVAILABILITY_TTL, settings.ttl_s.to_string()));
        if !prefetch {
            envs.push((PREFETCH_OFF.0, PREFETCH_OFF.1.to_owned()));
        }
        let prefix = format!("slow-{}:", uuid::Uuid::new_v4().simple());
        let mut serve = common::spawn_serve_with(dir.path(), &db, port, sim_port, &prefix, &envs);
        let app = format!("http://127.0.0.1:{port}");
        if let Err(why) = ready(client, &mut serve, &app).await {
            anyhow::ensure!(!prefetch, "the slow phase's service: {why}");
            runs.push(SlowRun {
                prefetch,
                outcome: Err(format!(
                    "the service did not start with {}={}: {why}",
                    PREFETCH_OFF.0, PREFETCH_OFF.1
                )),
            });
            continue;
        }
        let tenants = match &tenants {
            Some(t) => Arc::clone(t),
            None => {
                let batch = Batch {
                    prefix: "slow",
                    series: 2,
                    count: TENANTS_PER_LINE * settings.lines,
                    hours: Hours::Daily,
                    webhooks: false,
                };
                let made: Arc<[Tenant]> = tenants::onboard(client, &app, &sim, batch).await?.into();
                tenants.insert(made).clone()
            }
        };
        let env = Env {
            client: client.clone(),
            app,
            sim: sim.clone(),
            baseline: String::new(),
            serve_pid: serve.0.id(),
            tenants,
        };
        let figures = lines(&env, settings, if prefetch { "on" } else { "off" }).await;
        runs.push(SlowRun {
            prefetch,
            outcome: Ok(figures),
        });
    }
    Ok(runs)
}

/// Waits (bounded, 60 s) until `app` is ready, or fails as soon as `serve` has exited.
async fn ready(client: &reqwest::Client, serve: &mut Proc, app: &str) -> Result<(), String> {
    for _ in 0..600 {
        if let Ok(Some(status)) = serve.0.try_wait() {
            return Err(format!("it exited ({status})"));
        }
        let up = client.get(format!("{app}/readyz")).send().await;
        if up.is_ok_and(|r| r.status().is_success()) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err("not ready within 60 s".into())
}

/// The lines of one run; `tag` keeps call ids apart between runs.
async fn lines(env: &Env, settings: Settings, tag: &'static str) -> SlowFigures {
    let from = Instant::now() + settings.warmup;
    let until = from + settings.window;
    let cpu = {
        let server = env.serve_pid;
        tokio::spawn(async move {
            let server_cpu = || cpu_s(server).unwrap_or(f64::NAN);
            tokio::time::sleep_until(from).await;
            let before = (own_cpu_s(), server_cpu());
            tokio::time::sleep_until(until).await;
            (
                CpuUse::new(own_cpu_s() - before.0, settings.window),
                CpuUse::new(server_cpu() - before.1, settings.window),
            )
        })
    };
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Berlin)
        .date_naive();
    let tasks: Vec<_> = (0..settings.lines)
        .map(|w| {
            let env = env.clone();
            tokio::spawn(async move {
                let mut rng = fastrand::Rng::with_seed(w as u64);
                let mut rec = Recorder::default();
                let mut calls = 0;
                for j in 0_usize.. {
                    let started = Instant::now();
                    if started >= until {
                        break;
                    }
                    let tenant = &env.tenants[TENANTS_PER_LINE * w + j % TENANTS_PER_LINE];
                    let call_id = format!("slow_{tag}_{w:03}_{j:04}");
                    let mut call_rec = Recorder::default();
                    one_call(
                        &env,
                        tenant,
                        &call_id,
                        today,
                        settings.think,
                        &mut rng,
                        &mut call_rec,
                    )
                    .await;
                    if started >= from {
                        calls += 1;
                        rec.merge(call_rec);
                    }
                }
                (rec, calls)
            })
        })
        .collect();
    let mut recs = Vec::new();
    let mut calls = 0;
    for task in tasks {
        let (rec, n) = task.await.expect("slow line panicked");
        recs.push(rec);
        calls += n;
    }
    let (client_cpu, server_cpu) = cpu.await.expect("CPU sampler panicked");
    SlowFigures {
        recorder: merge(recs),
        calls,
        client_cpu,
        server_cpu,
    }
}

/// One call of a line (see the module docs); stops at the first failure.
async fn one_call(
    env: &Env,
    tenant: &Tenant,
    call_id: &str,
    today: NaiveDate,
    think: Duration,
    rng: &mut fastrand::Rng,
    rec: &mut Recorder,
) {
    let phone = caller(call_id);
    let call = call_object(call_id, &phone, tenant, false);
    // A half hour from 08:00 to 19:30 (the tenants' hours).
    let mut time = || {
        let half_hours = rng.u32(0..24);
        NaiveTime::from_hms_opt(8 + half_hours / 2, 30 * (half_hours % 2), 0).expect("a valid time")
    };
    let (first, second) = (
        (today + chrono::Days::new(1), time()),
        (today + chrono::Days::new(2), time()),
    );
    if !webhook(env, tenant, "call_started", call.clone(), rec).await {
        return;
    }
    let steps = [
        ("check_availability", FIRST_CHECK, first),
        (
            "collect_appointment_data",
            "collect_appointment_data",
            first,
        ),
        ("check_availability", LATER_CHECK, second),
    ];
    for (name, kind, (day, at)) in steps {
        tokio::time::sleep(think.mul_f64(0.5 + rng.f64())).await;
        if !function(env, tenant, (name, kind), &call, slot_args(day, at), rec).await {
            break;
        }
    }
    webhook(
        env,
        tenant,
        "call_ended",
        call_object(call_id, &phone, tenant, true),
        rec,
    )
    .await;
}
