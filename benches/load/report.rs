//! The results of one load run: printed as a table and written as JSON
//! (`target/bench/report.json`).

use crate::driver::{ClosedRun, Latency, round3};
use crate::scenarios::{MAX_BOOKING_LAG_MS, MAX_FUNCTION_P99_MS, Step};
use serde_json::{Value, json};

/// Everything one run measured.
pub struct Report {
    /// The options of the run, as JSON.
    pub settings: Value,
    /// `SQLite` or `PostgreSQL`.
    pub database: &'static str,
    /// Phase 1: the bare actix-web handler.
    pub baseline: ClosedRun,
    /// Phase 2: `calcom.getEventTypes` through the gateway.
    pub gateway: ClosedRun,
    /// Live calls of phase 3.
    pub live_calls: usize,
    /// Mean think time of the paced live-function run, ms.
    pub think_ms: u64,
    /// Live functions with think time (the latency figure).
    pub functions: ClosedRun,
    /// Live functions without think time (the throughput ceiling).
    pub saturated: ClosedRun,
    /// Calls held live for the memory figure.
    pub memory_live_calls: usize,
    /// `VmRSS` of the service when idle after start, MiB.
    pub rss_idle_mib: f64,
    /// `VmRSS` with `memory_live_calls` calls live, MiB.
    pub rss_live_mib: f64,
    /// `VmRSS` and `VmHWM` at the end of the run, MiB.
    pub rss_end_mib: (f64, f64),
    /// Phase 4, in rising rate order, up to the first step not sustained.
    pub steps: Vec<Step>,
}

fn closed_json(run: &ClosedRun) -> Value {
    let mut v = json!({
        "requests_per_s": run.per_second().round(),
        "requests": run.recorder.count(),
        "errors": run.recorder.errors,
        "window_s": run.window.as_secs_f64(),
    });
    if let Some(l) = run.recorder.overall() {
        v["latency"] = l.json();
    }
    for kind in run.recorder.kinds() {
        if let Some(l) = run.recorder.latency(kind) {
            v["by_kind"][kind] = l.json();
        }
    }
    if let Some(e) = &run.recorder.first_error {
        v["first_error"] = json!(e);
    }
    v
}

fn step_json(s: &Step) -> Value {
    json!({
        "rate_per_s": s.rate,
        "achieved_rate_per_s": round3(s.achieved_rate),
        "calls": s.calls,
        "functions": s.functions().map(|l| l.json()),
        "webhooks": s.requests.combined(|k| !crate::scenarios::is_function(k)).map(|l| l.json()),
        "booking_lag": s.booking_lag.map(|l| l.json()),
        "booked": s.booked,
        "booked_per_s": if s.booked_per_s.is_finite() { json!(round3(s.booked_per_s)) } else { Value::Null },
        "missing": s.missing,
        "duplicates": s.duplicates,
        "missing_jobs": s.missing_jobs,
        "unexpected_bookings": s.unexpected,
        "errors": s.requests.errors,
        "rss_mib": round3(s.rss_mib.0),
        "sustained": s.failure().is_none(),
        "failure": s.failure(),
    })
}

impl Report {
    /// Gateway requests per second as a share of the baseline's.
    pub fn ratio(&self) -> f64 {
        self.gateway.per_second() / self.baseline.per_second()
    }

    /// The highest rate whose step was sustained (steps run in rising order).
    pub fn sustained(&self) -> Option<&Step> {
        self.steps
            .iter()
            .take_while(|s| s.failure().is_none())
            .last()
    }

    /// What stopped the calls phase, if a step failed.
    pub fn stopped_by(&self) -> Option<String> {
        self.steps
            .iter()
            .find_map(|s| s.failure().map(|f| format!("{}/s: {f}", s.rate)))
    }

    fn lost_or_duplicated(&self) -> usize {
        self.steps.iter().map(|s| s.missing + s.duplicates).sum()
    }

    /// The JSON report.
    pub fn json(&self, machine: Value) -> Value {
        let sustained = self.sustained();
        let functions = self.functions.recorder.overall();
        json!({
            "machine": machine,
            "database": self.database,
            "settings": self.settings,
            "gateway": closed_json(&self.gateway),
            "baseline": closed_json(&self.baseline),
            "gateway_to_baseline": round3(self.ratio()),
            "live_functions": {
                "concurrent_calls": self.live_calls,
                "think_ms_mean": self.think_ms,
                "paced": closed_json(&self.functions),
                "saturated": closed_json(&self.saturated),
            },
            "memory": {
                "idle_rss_mib": round3(self.rss_idle_mib),
                "live_calls": self.memory_live_calls,
                "rss_at_live_calls_mib": round3(self.rss_live_mib),
                "end_rss_mib": round3(self.rss_end_mib.0),
                "peak_rss_mib": round3(self.rss_end_mib.1),
            },
            "calls": {
                "steps": self.steps.iter().map(step_json).collect::<Vec<_>>(),
                "sustained_calls_per_s": sustained.map(|s| s.rate),
                "stopped_by": self.stopped_by(),
                "lost_or_duplicated": self.lost_or_duplicated(),
                "limits": {"function_p99_ms": MAX_FUNCTION_P99_MS, "booking_lag_p99_ms": MAX_BOOKING_LAG_MS, "bookings_keep_up_share": crate::scenarios::KEEP_UP},
            },
            "targets": {
                "gateway_at_least_half_of_baseline": self.ratio() >= 0.5,
                "live_function_p99_at_most_10_ms": functions.is_some_and(|l| l.p99_ms <= 10.0),
                "at_least_100_calls_per_s": sustained.is_some_and(|s| s.rate >= 100),
                "no_lost_or_duplicate_bookings": self.lost_or_duplicated() == 0,
                "rss_under_200_mib_at_1000_live_calls": self.memory_live_calls >= 1000 && self.rss_live_mib < 200.0,
            },
        })
    }

    /// The tables printed at the end of a run: the figures against their targets, then the
    /// steps of the calls phase.
    pub fn table(&self) -> String {
        let lat = |l: Option<Latency>| {
            l.map_or("-".to_owned(), |l| {
                format!("{:.2} / {:.2} / {:.2}", l.p50_ms, l.p99_ms, l.max_ms)
            })
        };
        let yes = |ok: bool| if ok { "yes" } else { "NO" }.to_owned();
        let f = self.functions.recorder.overall();
        let sustained = self.sustained().map(|s| s.rate);
        let mut figures = vec![
            row(["figure", "req/s", "p50 / p99 / max ms", "target", "met"]),
            row([
                "baseline: bare actix-web".into(),
                format!("{:.0}", self.baseline.per_second()),
                lat(self.baseline.recorder.overall()),
                String::new(),
                String::new(),
            ]),
            row([
                "gateway: calcom.getEventTypes".into(),
                format!("{:.0}", self.gateway.per_second()),
                lat(self.gateway.recorder.overall()),
                format!("{:.0} % of baseline", self.ratio() * 100.0),
                String::new(),
            ]),
            row([
                "gateway / baseline".into(),
                String::new(),
                String::new(),
                ">= 50 %".into(),
                yes(self.ratio() >= 0.5),
            ]),
            row([
                format!(
                    "live functions: {} calls, think {} ms",
                    self.live_calls, self.think_ms
                ),
                format!("{:.0}", self.functions.per_second()),
                lat(f),
                "p99 <= 10 ms".into(),
                yes(f.is_some_and(|l| l.p99_ms <= 10.0)),
            ]),
        ];
        for kind in self.functions.recorder.kinds() {
            figures.push(row([
                format!("  {kind}"),
                String::new(),
                lat(self.functions.recorder.latency(kind)),
                String::new(),
                String::new(),
            ]));
        }
        figures.push(row([
            format!("live functions: {} calls, no think", self.live_calls),
            format!("{:.0}", self.saturated.per_second()),
            lat(self.saturated.recorder.overall()),
            "(saturation)".into(),
            String::new(),
        ]));
        figures.push(row([
            "sustained complete calls/s".into(),
            sustained.map_or("none".into(), |r| r.to_string()),
            String::new(),
            ">= 100".into(),
            yes(sustained.is_some_and(|r| r >= 100)),
        ]));
        figures.push(row([
            "lost or duplicate bookings".into(),
            self.lost_or_duplicated().to_string(),
            String::new(),
            "0".into(),
            yes(self.lost_or_duplicated() == 0),
        ]));
        figures.push(row([
            format!("RSS MiB at {} live calls", self.memory_live_calls),
            format!(
                "{:.0} (idle {:.0}, peak {:.0})",
                self.rss_live_mib, self.rss_idle_mib, self.rss_end_mib.1
            ),
            String::new(),
            "< 200".into(),
            yes(self.rss_live_mib < 200.0),
        ]));
        let mut steps = vec![row([
            "calls/s (achieved)",
            "functions ms p50 / p99 / max",
            "call_ended -> booking ms p50 / p99 / max",
            "booked / missing / dup",
            "booked/s",
            "RSS MiB",
            "sustained",
        ])];
        for s in &self.steps {
            steps.push(row([
                format!("{} ({:.1})", s.rate, s.achieved_rate),
                lat(s.functions()),
                lat(s.booking_lag),
                format!("{} / {} / {}", s.booked, s.missing, s.duplicates),
                format!("{:.0}", s.booked_per_s),
                format!("{:.0}", s.rss_mib.0),
                s.failure().map_or("yes".into(), |f| format!("no: {f}")),
            ]));
        }
        format!("{}\n{}", render(&figures), render(&steps))
    }
}

fn row<const N: usize>(cells: [impl Into<String>; N]) -> Vec<String> {
    cells.into_iter().map(Into::into).collect()
}

/// Left-aligned columns, two spaces apart.
fn render(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}
