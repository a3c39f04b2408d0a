//! Logs and traces (tracing) and the Prometheus recorder.

use crate::config::{LogSettings, TelemetrySettings};
use crate::traces::{self, Traces, TracesError};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use opentelemetry_sdk::trace::SdkTracer;
use std::sync::OnceLock;
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
fn install(settings: &LogSettings, tracer: Option<SdkTracer>) -> bool {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.level));
    let json = settings.format == "json";
    // Without context activation a span is started (its parent fixed) only when it ends, gets
    // a child or is asked for its context: a Retell request's span can still be moved into
    // its call's trace after the signature check (`switchboard_actors::trace::join_call`).
    // Spans only, no log lines as span events: a span's attributes are the fields declared
    // where it is created, so no log text (an error quoting a caller, a refused number)
    // leaves the process in a trace.
    let otel = tracer.map(|tracer| {
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_context_activation(false)
            .with_filter(filter_fn(|metadata| metadata.is_span()))
    });
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

/// The process-wide Prometheus recorder, installed on first use (the `metrics` facade allows
/// one global recorder per process, so several apps in one test process share it).
pub fn prometheus() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
                .expect("bucket list is not empty")
                .build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder was installed first; then ours just stays unused.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}
