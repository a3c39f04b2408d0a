//! Traces over OTLP/HTTP (issue 15): the OpenTelemetry SDK pipeline behind the
//! `tracing-opentelemetry` layer that [`crate::telemetry::init`] adds to the log subscriber
//! when `[telemetry] otlp_endpoint` (or `OTEL_EXPORTER_OTLP_ENDPOINT`) is set.
//!
//! Spans are batched by the SDK's batch processor (its own thread; at most 2048 queued spans,
//! exported every 5 s, both adjustable with the standard `OTEL_BSP_*` variables) and posted
//! as protobuf to `{endpoint}/v1/traces` (OTLP/HTTP, opentelemetry-proto's messages). The
//! post goes out on our reqwest 0.12 client ([`OtlpHttp`]). Which spans belong to one call
//! is decided in the core: [`switchboard_actors::trace`].

use crate::config::TelemetrySettings;
use async_trait::async_trait;
use bytes::Bytes;
use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_http::{HttpClient, HttpError};
use opentelemetry_otlp::{Protocol, WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkError;
use opentelemetry_sdk::trace::{Sampler, SdkTracer, SdkTracerProvider};
use secrecy::ExposeSecret;
use std::time::Duration;

/// The standard variable naming the OTLP base URL (OpenTelemetry SDK configuration), read
/// when `telemetry.otlp_endpoint` is empty.
pub const ENDPOINT_ENV: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

/// Largest answer body of the receiver read (an `ExportTraceServiceResponse` is a few bytes;
/// a partial-success message a few hundred).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Why the trace pipeline could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TracesError {
    /// The HTTP client for the exports could not be built (TLS set-up).
    #[error("building the OTLP HTTP client")]
    Client(#[source] reqwest::Error),
    /// The exporter refused its configuration (e.g. an endpoint that is not a URI).
    #[error("building the OTLP exporter")]
    Exporter(#[source] opentelemetry_otlp::ExporterBuildError),
    /// Built outside a tokio runtime: the exports run on the caller's runtime.
    #[error("traces are set up inside the tokio runtime that carries their exports")]
    NoRuntime,
}

/// The running trace pipeline: flush it to see every ended span exported, shut it down on a
/// graceful stop.
pub struct Traces {
    provider: SdkTracerProvider,
}

impl Traces {
    /// Exports every span ended so far and waits for the receiver's answer (at most
    /// `telemetry.export_timeout_ms` per request).
    ///
    /// # Errors
    /// The SDK's error when an export failed or timed out.
    pub async fn flush(&self) -> Result<(), OTelSdkError> {
        let provider = self.provider.clone();
        blocking(move || provider.force_flush()).await
    }

    /// Flushes and stops the pipeline (its thread ends); failures are logged.
    pub async fn shutdown(self) {
        let provider = self.provider;
        if let Err(e) = blocking(move || provider.shutdown()).await {
            tracing::warn!(error = %e, "flushing the last spans failed");
        }
    }
}

/// Runs the SDK's blocking `flush`/`shutdown` off the runtime thread: they wait for exports
/// that run on this very runtime ([`OtlpHttp`]).
async fn blocking(
    work: impl FnOnce() -> Result<(), OTelSdkError> + Send + 'static,
) -> Result<(), OTelSdkError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| OTelSdkError::InternalFailure(e.to_string()))?
}

/// The OTLP base URL traces go to: `telemetry.otlp_endpoint`, else `from_env` (the value of
/// [`ENDPOINT_ENV`]), trimmed, without a trailing `/`; `None` (traces off) when both are
/// empty.
pub fn endpoint(settings: &TelemetrySettings, from_env: Option<String>) -> Option<String> {
    let configured = settings.otlp_endpoint.expose_secret().trim();
    let chosen = if configured.is_empty() {
        from_env?.trim().to_owned()
    } else {
        configured.to_owned()
    };
    let chosen = chosen.trim_end_matches('/');
    (!chosen.is_empty()).then(|| chosen.to_owned())
}

/// The trace pipeline of `settings` with `from_env` as [`ENDPOINT_ENV`]'s value: the tracer
/// for the `tracing` layer and the handle to flush and stop it. `Ok(None)` when no endpoint
/// is set: then nothing is built, no thread started. Call it inside the tokio runtime that
/// lives as long as the process serves (the exports run on it).
///
/// # Errors
/// [`TracesError`] when the HTTP client or the exporter cannot be built.
pub fn pipeline(
    settings: &TelemetrySettings,
    from_env: Option<String>,
) -> Result<Option<(SdkTracer, Traces)>, TracesError> {
    let Some(base) = endpoint(settings, from_env) else {
        return Ok(None);
    };
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| TracesError::NoRuntime)?;
    let timeout = Duration::from_millis(settings.export_timeout_ms);
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(TracesError::Client)?;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(OtlpHttp { client, runtime })
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(format!("{base}/v1/traces"))
        .with_timeout(timeout)
        .build()
        .map_err(TracesError::Exporter)?;
    let resource = Resource::builder()
        .with_service_name(settings.service_name.clone())
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
        .build();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        // By trace id alone, not by parent: all spans of a call share the derived trace id,
        // so every instance keeps or drops them together.
        .with_sampler(Sampler::TraceIdRatioBased(settings.sample_ratio))
        .with_resource(resource)
        .build();
    let tracer = provider.tracer("switchboard");
    tracing::info!(endpoint = %crate::config::redact_url(&base.as_str().into()), "exporting traces over OTLP/HTTP");
    Ok(Some((tracer, Traces { provider })))
}

/// The exporter's HTTP client: our reqwest 0.12 client, run on the runtime that built the
/// pipeline. The SDK's batch thread drives exports with a plain executor, where reqwest
/// (hyper on tokio) cannot run; each request is therefore spawned on `runtime` and awaited.
#[derive(Debug)]
struct OtlpHttp {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

#[async_trait]
impl HttpClient for OtlpHttp {
    async fn send_bytes(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, HttpError> {
        let request = reqwest::Request::try_from(request)?;
        let client = self.client.clone();
        let (status, headers, body) = self
            .runtime
            .spawn(async move {
                let mut response = client.execute(request).await?;
                let (status, headers) = (response.status(), std::mem::take(response.headers_mut()));
                let mut body = Vec::new();
                while let Some(chunk) = response.chunk().await? {
                    let room = MAX_ANSWER_BYTES.saturating_sub(body.len());
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
                Ok::<_, reqwest::Error>((status, headers, body))
            })
            .await??;
        let mut answer = http::Response::builder()
            .status(status)
            .body(Bytes::from(body))?;
        *answer.headers_mut() = headers;
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    fn telemetry(pairs: &[(&str, &str)]) -> TelemetrySettings {
        let env = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        Settings::load_from(None, env).unwrap().telemetry
    }

    /// The names of this process's threads (Linux: `/proc/self/task/*/comm`).
    fn thread_names() -> Vec<String> {
        std::fs::read_dir("/proc/self/task")
            .map(|tasks| {
                tasks
                    .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn traces_are_off_by_default() {
        assert_eq!(endpoint(&telemetry(&[]), None), None);
        assert_eq!(endpoint(&telemetry(&[]), Some("  ".into())), None);
    }

    #[test]
    fn without_an_endpoint_no_exporter_and_no_thread_is_started() {
        let before = thread_names();
        let built = pipeline(&telemetry(&[]), None).unwrap();
        assert!(built.is_none(), "no endpoint: no pipeline");
        let after = thread_names();
        assert!(
            !after.iter().any(|name| name.starts_with("OpenTelemetry")),
            "threads before {before:?}, after {after:?}"
        );
    }

    #[test]
    fn the_configured_endpoint_wins_over_the_standard_variable() {
        let s = telemetry(&[(
            "SWITCHBOARD__TELEMETRY__OTLP_ENDPOINT",
            "http://collector:4318/",
        )]);
        assert_eq!(
            endpoint(&s, Some("http://other:4318".into())).as_deref(),
            Some("http://collector:4318")
        );
        assert_eq!(
            endpoint(&telemetry(&[]), Some("http://env:4318".into())).as_deref(),
            Some("http://env:4318")
        );
    }

    #[test]
    fn telemetry_settings_out_of_range_are_refused() {
        for (key, value) in [
            ("SWITCHBOARD__TELEMETRY__SAMPLE_RATIO", "1.5"),
            ("SWITCHBOARD__TELEMETRY__SAMPLE_RATIO", "-0.1"),
            ("SWITCHBOARD__TELEMETRY__OTLP_ENDPOINT", "collector:4318"),
            ("SWITCHBOARD__TELEMETRY__SERVICE_NAME", " "),
            ("SWITCHBOARD__TELEMETRY__EXPORT_TIMEOUT_MS", "0"),
        ] {
            let env = [(key.to_owned(), value.to_owned())];
            assert!(Settings::load_from(None, env).is_err(), "{key}={value}");
        }
    }
}
