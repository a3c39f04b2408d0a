//! How load is generated and measured: a closed loop (a fixed number of workers, each sending
//! its next request as soon as the last one answered, like `oha -c N` or `wrk -c N`) and an
//! open loop (new simulated calls started at a fixed rate whatever the answers, so a slow
//! server cannot slow the arrivals down and hide its own latency).
//!
//! Latencies are recorded in microseconds into HdrHistograms (3 significant digits, 1 µs to
//! 60 s), one per request kind.

use crate::cpu::{CpuUse, cpu_s, own_cpu_s};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Largest latency a histogram holds, in microseconds (60 s); longer ones are clamped.
const MAX_US: u64 = 60_000_000;

/// Latencies by request kind, plus the failures.
#[derive(Debug, Default)]
pub struct Recorder {
    hists: BTreeMap<&'static str, Histogram<u64>>,
    /// Requests that failed (transport error or an unexpected status).
    pub errors: u64,
    /// The first failure, for the report.
    pub first_error: Option<String>,
}

/// Percentiles of one request kind, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Latency {
    /// Requests recorded.
    pub count: u64,
    /// Median, milliseconds (µs resolution).
    pub p50_ms: f64,
    /// 99th percentile, milliseconds.
    pub p99_ms: f64,
    /// Slowest, milliseconds.
    pub max_ms: f64,
}

impl Latency {
    /// `{count, p50_ms, p99_ms, max_ms}`.
    pub fn json(&self) -> Value {
        json!({"count": self.count, "p50_ms": round3(self.p50_ms), "p99_ms": round3(self.p99_ms), "max_ms": round3(self.max_ms)})
    }
}

/// `x` rounded to three decimals (µs resolution for milliseconds).
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_US, 3).expect("valid histogram bounds")
}

impl Recorder {
    /// Records one answered request of `kind` that took `took`.
    pub fn record(&mut self, kind: &'static str, took: Duration) {
        let us = (took.as_micros() as u64).clamp(1, MAX_US);
        self.hists
            .entry(kind)
            .or_insert_with(new_histogram)
            .saturating_record(us);
    }

    /// Counts one failed request.
    pub fn fail(&mut self, error: String) {
        self.errors += 1;
        self.first_error.get_or_insert(error);
    }

    /// Adds everything `other` recorded.
    pub fn merge(&mut self, other: Recorder) {
        for (kind, h) in other.hists {
            self.hists
                .entry(kind)
                .or_insert_with(new_histogram)
                .add(&h)
                .expect("histograms of the same bounds add");
        }
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    /// Answered requests of every kind.
    pub fn count(&self) -> u64 {
        self.hists.values().map(Histogram::len).sum()
    }

    /// Percentiles of `kind`, if any was recorded.
    pub fn latency(&self, kind: &str) -> Option<Latency> {
        self.hists.get(kind).map(summary)
    }

    /// Percentiles of every kind together.
    pub fn overall(&self) -> Option<Latency> {
        self.combined(|_| true)
    }

    /// Percentiles of the kinds `pick` accepts, together.
    pub fn combined(&self, pick: impl Fn(&str) -> bool) -> Option<Latency> {
        let mut all = new_histogram();
        for (_, h) in self.hists.iter().filter(|(k, _)| pick(k)) {
            all.add(h).expect("histograms of the same bounds add");
        }
        (!all.is_empty()).then(|| summary(&all))
    }

    /// The kinds recorded, in name order.
    pub fn kinds(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.hists.keys().copied()
    }
}

fn summary(h: &Histogram<u64>) -> Latency {
    let ms = |us: u64| us as f64 / 1000.0;
    Latency {
        count: h.len(),
        p50_ms: ms(h.value_at_quantile(0.50)),
        p99_ms: ms(h.value_at_quantile(0.99)),
        max_ms: ms(h.max()),
    }
}

/// The outcome of one request: its kind, or (kind, error) when it failed.
pub type Outcome = Result<&'static str, String>;

/// What a closed-loop run measured.
pub struct ClosedRun {
    /// Latencies and failures of the requests started inside the window.
    pub recorder: Recorder,
    /// Length of the measured window (after the warm-up).
    pub window: Duration,
    /// CPU of this process (the load generator) in the window.
    pub client_cpu: CpuUse,
    /// CPU of the server in the window.
    pub server_cpu: CpuUse,
}

impl ClosedRun {
    /// Answered requests per second in the measured window.
    pub fn per_second(&self) -> f64 {
        self.recorder.count() as f64 / self.window.as_secs_f64()
    }
}

/// Runs `workers` closed loops for `warmup + window`: worker `w` calls `op(w, i)` for
/// i = 0, 1, … and records the requests started inside the window. Between two requests a
/// worker waits a think time drawn uniformly from `[0, 2 × think]` (zero: none), like a
/// caller talking between two function calls. The CPU of this process and of `server_pid`
/// is read at the window's start and end.
pub async fn closed_loop<F, Fut>(
    workers: usize,
    think: Duration,
    warmup: Duration,
    window: Duration,
    server_pid: u32,
    op: F,
) -> ClosedRun
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Outcome> + Send + 'static,
{
    let op = Arc::new(op);
    let from = Instant::now() + warmup;
    let until = from + window;
    let cpu = tokio::spawn(async move {
        let server = || cpu_s(server_pid).unwrap_or(f64::NAN);
        tokio::time::sleep_until(from).await;
        let before = (own_cpu_s(), server());
        tokio::time::sleep_until(until).await;
        (
            CpuUse::new(own_cpu_s() - before.0, window),
            CpuUse::new(server() - before.1, window),
        )
    });
    let tasks: Vec<_> = (0..workers)
        .map(|w| {
            let op = Arc::clone(&op);
            tokio::spawn(async move {
                let mut rec = Recorder::default();
                let mut rng = fastrand::Rng::with_seed(w as u64);
                let mut i = 0;
                loop {
                    if !think.is_zero() && i > 0 {
                        tokio::time::sleep(think.mul_f64(rng.f64() * 2.0)).await;
                    }
                    let started = Instant::now();
                    if started >= until {
                        break rec;
                    }
                    let outcome = op(w, i).await;
                    i += 1;
                    if started < from {
                        continue;
                    }
                    match outcome {
                        Ok(kind) => rec.record(kind, started.elapsed()),
                        Err(e) => rec.fail(e),
                    }
                }
            })
        })
        .collect();
    let mut recorder = Recorder::default();
    for task in tasks {
        recorder.merge(task.await.expect("load worker panicked"));
    }
    let (client_cpu, server_cpu) = cpu.await.expect("CPU sampler panicked");
    ClosedRun {
        recorder,
        window,
        client_cpu,
        server_cpu,
    }
}

/// Starts `count` jobs at `rate` per second (`job(i)` for i = 0, 1, …), never waiting for
/// one to finish before starting the next; returns every job's result and the seconds the
/// arrivals took.
pub async fn open_loop<F, Fut, T>(rate: f64, count: usize, job: F) -> (Vec<T>, f64)
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    let started = Instant::now();
    let mut handles = Vec::with_capacity(count);
    for i in 0..count {
        tick.tick().await;
        handles.push(tokio::spawn(job(i)));
    }
    let arrivals = started.elapsed().as_secs_f64();
    let mut out = Vec::with_capacity(count);
    for h in handles {
        out.push(h.await.expect("simulated call panicked"));
    }
    (out, arrivals)
}

/// Runs `jobs` with at most `limit` at a time (used to open the live calls of the memory
/// figure without a thundering herd).
pub async fn bounded<Fut, T>(limit: usize, jobs: impl IntoIterator<Item = Fut>) -> Vec<T>
where
    Fut: Future<Output = T>,
{
    use futures_util::StreamExt;
    futures_util::stream::iter(jobs)
        .buffer_unordered(limit)
        .collect()
        .await
}
