//! Logs and traces (tracing) and the Prometheus recorder.

use crate::config::{LogSettings, TelemetrySettings};
use crate::traces::{self, Traces, TracesError};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use metrics_process::Collector;
use opentelemetry_sdk::trace::SdkTracer;
use std::sync::OnceLock;
use switchboard_actors::metric_names;
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, fmt};

/// Installs the log subscriber: `pretty` or `json`, filtered by `RUST_LOG` or `log.level`.
/// A second call (tests) is a no-op.
pub fn init_logs(settings: &LogSettings) {
    install(settings, None);
}

/// Installs the log subscriber of [`init_logs`] and, when `telemetry` names an OTLP endpoint
/// ([`traces::endpoint`]), the layer exporting its spans ([`traces::pipeline`]); returns the
/// pipeline to flush and shut down on stop. Without an endpoint the subscriber is exactly
/// the logs' one: no exporter, no thread. When a subscriber was installed before (tests),
/// nothing changes and `None` is returned.
///
/// # Errors
/// [`TracesError`] when the pipeline cannot be built.
pub fn init(
    log: &LogSettings,
    telemetry: &TelemetrySettings,
) -> Result<Option<Traces>, TracesError> {
    let from_env = std::env::var(traces::ENDPOINT_ENV).ok();
    let Some((tracer, pipeline)) = traces::pipeline(telemetry, from_env)? else {
        install(log, None);
        return Ok(None);
    };
    Ok(install(log, Some(tracer)).then_some(pipeline))
}

/// The subscriber: the filter, the log format, and the OpenTelemetry layer when `tracer` is
/// given; `false` when one was installed before.
///
/// Without a tracer it is tracing-subscriber's plain `fmt` subscriber with the filter, not the
/// layered one with empty `Option` layers: the layered stack cost every request measurable
/// time even with nothing exported (issue 16: a disabled `info_span!` must stay a load and a
/// compare).
fn install(settings: &LogSettings, tracer: Option<SdkTracer>) -> bool {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.level));
    let json = settings.format == "json";
    let Some(tracer) = tracer else {
        let builder = fmt().with_env_filter(filter);
        return if json {
            builder.json().try_init().is_ok()
        } else {
            builder.try_init().is_ok()
        };
    };
    // Without context activation a span is started (its parent fixed) only when it ends, gets
    // a child or is asked for its context: a Retell request's span can still be moved into
    // its call's trace after the signature check (`switchboard_actors::trace::join_call`).
    // Spans only, no log lines as span events: a span's attributes are the fields declared
    // where it is created, so no log text (an error quoting a caller, a refused number)
    // leaves the process in a trace.
    let otel = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_context_activation(false)
        .with_filter(filter_fn(|metadata| metadata.is_span()));
    tracing_subscriber::registry()
        .with(filter)
        .with(json.then(|| fmt::layer().json()))
        .with((!json).then(fmt::layer))
        .with(otel)
        .try_init()
        .is_ok()
}

/// Histogram buckets for every `*_seconds` metric (1 ms – 10 s).
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Buckets of `booking_lag_seconds` (1 s – 1 h): a booking waits for the outbox poll and for
/// Cal.com, and retries with backoff stretch it to minutes.
const BOOKING_LAG_BUCKETS: &[f64] = &[
    1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
];

/// The process-wide Prometheus recorder, installed on first use (the `metrics` facade allows
/// one global recorder per process, so several apps in one test process share it). Registers
/// every metric's `# HELP` and unit, the process metrics' and `switchboard_build_info`.
pub fn prometheus() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = recorder();
            let handle = recorder.handle();
            // Fails only if another recorder was installed first; then ours just stays unused.
            let _ = metrics::set_global_recorder(recorder);
            announce();
            handle
        })
        .clone()
}

fn recorder() -> PrometheusRecorder {
    // A full-name match wins over the suffix match (PrometheusBuilder::set_buckets_for_metric).
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
        .and_then(|b| {
            b.set_buckets_for_metric(
                Matcher::Full(metric_names::BOOKING_LAG_SECONDS.into()),
                BOOKING_LAG_BUCKETS,
            )
        })
        .expect("bucket lists are not empty")
        .build_recorder()
}

/// Describes every metric and sets the build info, on the current recorder.
fn announce() {
    metric_names::describe();
    process_metrics().describe();
    metrics::gauge!(
        metric_names::BUILD_INFO,
        "version" => env!("CARGO_PKG_VERSION"),
        "git_commit" => env!("SWITCHBOARD_GIT_COMMIT"),
        "rustc" => env!("SWITCHBOARD_RUSTC"),
    )
    .set(1.0);
}

/// The `process_*` metrics of the Prometheus client conventions (`metrics-process`): CPU
/// seconds (whole seconds: the crate records the counter as an integer), resident and virtual
/// memory in bytes, open and maximum file descriptors, threads, start time (Unix seconds).
/// [`Collector::collect`] reads `/proc/self` (Linux); call it on each scrape.
pub fn process_metrics() -> &'static Collector {
    static COLLECTOR: OnceLock<Collector> = OnceLock::new();
    COLLECTOR.get_or_init(Collector::default)
}

#[cfg(test)]
mod tests {
    use super::*;
    use metric_names::{DESCRIPTIONS, Kind};

    /// Renders what [`announce`] registers plus one sample of every described metric.
    fn render_all() -> String {
        let recorder = recorder();
        metrics::with_local_recorder(&recorder, || {
            announce();
            process_metrics().collect();
            for m in DESCRIPTIONS {
                match m.kind {
                    Kind::Counter => metrics::counter!(m.name).increment(0),
                    Kind::Gauge => metrics::gauge!(m.name).set(0.0),
                    Kind::Histogram => metrics::histogram!(m.name).record(0.0),
                }
            }
        });
        recorder.handle().render()
    }

    #[test]
    fn every_described_metric_renders_with_help_and_its_type() {
        let text = render_all();
        for m in DESCRIPTIONS {
            let kind = match m.kind {
                Kind::Counter => "counter",
                Kind::Gauge => "gauge",
                Kind::Histogram => "histogram",
            };
            assert!(
                text.contains(&format!("# HELP {} {}\n", m.name, m.help)),
                "{}",
                m.name
            );
            assert!(
                text.contains(&format!("# TYPE {} {kind}\n", m.name)),
                "{}",
                m.name
            );
        }
    }

    #[test]
    fn build_info_names_version_commit_and_rustc() {
        let text = render_all();
        let line = text
            .lines()
            .find(|l| l.starts_with("switchboard_build_info{"))
            .expect("switchboard_build_info is exported");
        assert!(line.ends_with("} 1"), "{line}");
        assert!(
            line.contains(&format!("version=\"{}\"", env!("CARGO_PKG_VERSION"))),
            "{line}"
        );
        let label = |name: &str| {
            let start = line.find(&format!("{name}=\"")).expect(name) + name.len() + 2;
            line[start..]
                .split('"')
                .next()
                .unwrap_or_default()
                .to_owned()
        };
        let commit = label("git_commit");
        assert!(
            commit == "unknown" || commit.chars().all(|c| c.is_ascii_hexdigit()),
            "{line}"
        );
        assert!(label("rustc").starts_with("1."), "{line}");
    }

    #[test]
    fn process_metrics_are_described_and_collected() {
        let text = render_all();
        for name in [
            "process_cpu_seconds_total",
            "process_resident_memory_bytes",
            "process_open_fds",
            "process_start_time_seconds",
        ] {
            assert!(text.contains(&format!("# HELP {name} ")), "{name}");
            assert!(text.contains(&format!("\n{name} ")), "{name} has a sample");
        }
    }

    #[test]
    fn booking_lag_has_buckets_up_to_an_hour() {
        let text = render_all();
        assert!(
            text.contains("booking_lag_seconds_bucket{le=\"3600\"}"),
            "{text}"
        );
        assert!(text.contains("mcp_request_duration_seconds_bucket{le=\"10\"}"));
    }
}
