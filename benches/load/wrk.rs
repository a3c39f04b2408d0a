//! Phases 1 and 2 are driven by `wrk` (Debian's `wrk` package, a C event loop), not by this
//! process: the same fixed request from `-t` threads over `-c` keep-alive connections, far
//! faster than a reqwest client on the same two cores (which topped out near 38,000 req/s and
//! so measured itself). A Lua script sets the method, body and headers, and its `done()` hook
//! prints one JSON line with wrk's exact figures (request count, duration, bytes, errors by
//! kind, p50 / p99 / max in µs from its own histogram) and wrk's `/proc/self/stat`, whose
//! utime + stime is the generator's CPU over the run (wrk runs nothing but the measured
//! window). The server's CPU over the same run comes from its `/proc/<pid>/stat`.

use crate::cpu::{CpuUse, cpu_s, stat_cpu_s};
use crate::driver::round3;
use anyhow::Context;
use serde::Deserialize;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// Writes the Lua script of a `POST` of `body` with `Authorization: Bearer {bearer}` to
/// `{dir}/wrk.lua` and returns its path.
pub fn script(dir: &Path, body: &str, bearer: &str) -> anyhow::Result<PathBuf> {
    anyhow::ensure!(
        !body.contains("]==]") && !bearer.contains(['"', '\\']),
        "the request does not fit the Lua script's quoting"
    );
    let lua = format!(
        r#"wrk.method = "POST"
wrk.body = [==[{body}]==]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {bearer}"

function done(summary, latency, requests)
  local f = io.open("/proc/self/stat", "r")
  local stat = f and f:read("*l") or ""
  if f then f:close() end
  local e = summary.errors
  io.write(string.format(
    '{{"duration_us":%d,"requests":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"stat":"%s"}}\n',
    summary.duration, summary.requests, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(99), latency.max,
    (stat:gsub('[\\"]', ''))))
end
"#
    );
    let path = dir.join("wrk.lua");
    std::fs::write(&path, lua)?;
    Ok(path)
}

/// The JSON line the script's `done()` prints.
#[derive(Debug, Deserialize)]
struct Done {
    duration_us: u64,
    requests: u64,
    bytes: u64,
    connect: u64,
    read: u64,
    write: u64,
    status: u64,
    timeout: u64,
    p50_us: u64,
    p99_us: u64,
    max_us: u64,
    stat: String,
}

/// The load generator's settings.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    /// `wrk -t`: threads.
    pub threads: usize,
    /// `wrk -c`: keep-alive connections.
    pub connections: usize,
}

/// One `wrk` run.
#[derive(Debug, Clone)]
pub struct WrkRun {
    /// Requests answered.
    pub requests: u64,
    /// Seconds the run lasted (wrk's own measure).
    pub duration_s: f64,
    /// Bytes read, headers included, divided by requests.
    pub bytes_per_response: f64,
    /// Socket errors plus non-2xx/3xx answers.
    pub errors: u64,
    /// `{connect, read, write, status, timeout}` as wrk counts them.
    pub error_kinds: Value,
    /// Latency percentiles, ms (wrk's histogram, µs resolution).
    pub p50_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Slowest, ms.
    pub max_ms: f64,
    /// CPU of wrk over its run.
    pub generator: CpuUse,
    /// CPU of the server over the same run.
    pub server: CpuUse,
}

impl WrkRun {
    /// Requests answered per second.
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.duration_s
    }

    /// The run as JSON.
    pub fn json(&self) -> Value {
        json!({
            "requests_per_s": self.per_second().round(),
            "requests": self.requests,
            "duration_s": round3(self.duration_s),
            "bytes_per_response": self.bytes_per_response.round(),
            "errors": self.errors,
            "error_kinds": self.error_kinds,
            "latency": {"p50_ms": round3(self.p50_ms), "p99_ms": round3(self.p99_ms), "max_ms": round3(self.max_ms)},
            "generator_cpu": self.generator.json(),
            "server_cpu": self.server.json(),
        })
    }
}

/// Runs `wrk` with `script` against `url` for `duration` and reads its figures; `server_pid`
/// is the process whose CPU is measured alongside.
///
/// # Errors
/// `wrk` missing or failing, or printing no figures.
pub async fn run(
    script: &Path,
    url: &str,
    load: Load,
    duration: Duration,
    server_pid: u32,
) -> anyhow::Result<WrkRun> {
    let server_before = cpu_s(server_pid).context("server process gone")?;
    let output = tokio::process::Command::new("wrk")
        .arg(format!("-t{}", load.threads))
        .arg(format!("-c{}", load.connections))
        // wrk takes whole seconds (s, m, h units only).
        .arg(format!("-d{}s", duration.as_secs().max(1)))
        .arg("--timeout")
        .arg("10s")
        .arg("-s")
        .arg(script)
        .arg(url)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .context("running wrk (Debian/Ubuntu: apt-get install wrk)")?;
    let server_after = cpu_s(server_pid).context("server process gone")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(
        output.status.success(),
        "wrk failed ({}): {}{}",
        output.status,
        stdout,
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout
        .lines()
        .rfind(|l| l.starts_with('{'))
        .with_context(|| format!("wrk printed no figures: {stdout}"))?;
    let done: Done =
        serde_json::from_str(line).with_context(|| format!("wrk's figures: {line}"))?;
    let window = Duration::from_micros(done.duration_us.max(1));
    let ms = |us: u64| us as f64 / 1000.0;
    Ok(WrkRun {
        requests: done.requests,
        duration_s: window.as_secs_f64(),
        bytes_per_response: done.bytes as f64 / done.requests.max(1) as f64,
        errors: done.connect + done.read + done.write + done.status + done.timeout,
        error_kinds: json!({"connect": done.connect, "read": done.read, "write": done.write,
                            "status": done.status, "timeout": done.timeout}),
        p50_ms: ms(done.p50_us),
        p99_ms: ms(done.p99_us),
        max_ms: ms(done.max_us),
        generator: CpuUse::new(stat_cpu_s(&done.stat).unwrap_or(f64::NAN), window),
        server: CpuUse::new(server_after - server_before, window),
    })
}

/// The measured runs of one target (phase 1 or 2), alternated with the other's.
#[derive(Debug, Clone, Default)]
pub struct WrkPhase {
    /// Every measured run, in order.
    pub runs: Vec<WrkRun>,
    /// Set when the answers cannot be what was asked (shorter than the expected body).
    pub problem: Option<String>,
}

/// The median of `values` (the mean of the middle two for an even count); NaN when empty.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

impl WrkPhase {
    fn median_of(&self, f: impl Fn(&WrkRun) -> f64) -> f64 {
        median(self.runs.iter().map(f).collect())
    }

    /// Median requests per second of the runs.
    pub fn per_second(&self) -> f64 {
        self.median_of(WrkRun::per_second)
    }

    /// Median p50 and p99, largest max, ms.
    pub fn latency(&self) -> (f64, f64, f64) {
        (
            self.median_of(|r| r.p50_ms),
            self.median_of(|r| r.p99_ms),
            self.runs.iter().map(|r| r.max_ms).fold(f64::NAN, f64::max),
        )
    }

    /// Median CPU of the generator and of the server over a run.
    pub fn cpu(&self) -> (CpuUse, CpuUse) {
        let window = Duration::from_secs_f64(self.median_of(|r| r.duration_s).max(1e-6));
        (
            CpuUse::new(self.median_of(|r| r.generator.cpu_s), window),
            CpuUse::new(self.median_of(|r| r.server.cpu_s), window),
        )
    }

    /// Errors of every run.
    pub fn errors(&self) -> u64 {
        self.runs.iter().map(|r| r.errors).sum()
    }

    /// Marks the phase when the average answer is shorter than `body_len` bytes: the reply
    /// the phase should measure is that long, so shorter answers are errors (a JSON-RPC error
    /// is a 200 too, which wrk counts as a success).
    pub fn check_answers(&mut self, body_len: usize) {
        if let Some(r) = self
            .runs
            .iter()
            .find(|r| r.bytes_per_response < body_len as f64)
        {
            self.problem = Some(format!(
                "answers of {:.0} bytes on average, shorter than the {body_len}-byte reply measured",
                r.bytes_per_response
            ));
        }
    }

    /// The phase as JSON: medians, CPU shares and every run.
    pub fn json(&self) -> Value {
        let (p50, p99, max) = self.latency();
        let (generator, server) = self.cpu();
        json!({
            "requests_per_s": self.per_second().round(),
            "latency": {"p50_ms": round3(p50), "p99_ms": round3(p99), "max_ms": round3(max)},
            "errors": self.errors(),
            "problem": self.problem,
            "generator_cpu_s": round3(generator.cpu_s),
            "generator_machine_share": round3(generator.machine_share()),
            "server_cpu_s": round3(server.cpu_s),
            "server_machine_share": round3(server.machine_share()),
            "runs": self.runs.iter().map(WrkRun::json).collect::<Vec<_>>(),
        })
    }
}
