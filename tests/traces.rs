//! Traces over OTLP (issue 15): an OTLP/HTTP receiver in the test, the real application
//! exporting to it, two replayed calls. Its own test binary: the exporting layer joins the
//! process-global subscriber, which a process installs once.

#[path = "common/mod.rs"]
mod common;
#[allow(dead_code)] // the black-box tests' helpers; this binary uses a few
#[path = "api/helpers.rs"]
mod helpers;

use actix_web::{App, HttpResponse, HttpServer, web};
use helpers::{TestApp, call, ended, spawn_app_with};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use prost::Message as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard::config::Settings;
use switchboard::telemetry;
use switchboard::traces::Traces;
use switchboard_actors::domain::ids::{CallId, CompanyId};
use switchboard_actors::trace::call_trace_id;

/// The caller's data the replayed calls carry (`helpers::call` and `collect_complete`), in
/// every form it takes, and the business number called: none of it may appear in any
/// exported span (E.164 numbers are personal data).
const PERSONAL: [&str; 7] = [
    "+4915112345678",
    "015112345678",
    "0151 12345678",
    "Max Mustermann",
    "Mustermann",
    "+493083793369",
    "3083793369",
];

/// Spans the receiver got, in arrival order.
type Received = Arc<Mutex<Vec<Span>>>;

/// `POST /v1/traces` (OTLP/HTTP, protobuf): keeps the spans, answers an empty
/// `ExportTraceServiceResponse`.
async fn receive(body: web::Bytes, received: web::Data<Received>) -> HttpResponse {
    let Ok(request) = ExportTraceServiceRequest::decode(body) else {
        return HttpResponse::BadRequest().finish();
    };
    let spans = request
        .resource_spans
        .into_iter()
        .flat_map(|r| r.scope_spans)
        .flat_map(|s| s.spans);
    received.lock().unwrap().extend(spans);
    HttpResponse::Ok()
        .content_type("application/x-protobuf")
        .finish()
}

/// Starts the receiver on an ephemeral loopback port; returns its base URL.
fn start_receiver(received: Received) -> String {
    let data = web::Data::new(received);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(16 * 1024 * 1024))
            .route("/v1/traces", web::post().to(receive))
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .expect("receiver binds");
    let url = format!("http://{}", server.addrs()[0]);
    actix_rt::spawn(server.run());
    url
}

fn attribute<'a>(span: &'a Span, key: &str) -> Option<&'a Any> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
}

fn text<'a>(span: &'a Span, key: &str) -> Option<&'a str> {
    match attribute(span, key)? {
        Any::StringValue(s) => Some(s),
        _ => None,
    }
}

fn int(span: &Span, key: &str) -> Option<i64> {
    match attribute(span, key)? {
        Any::IntValue(i) => Some(*i),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The spans of `call_id` so far.
fn spans_of(received: &Received, call_id: &str) -> Vec<Span> {
    received
        .lock()
        .unwrap()
        .iter()
        .filter(|s| text(s, "call_id") == Some(call_id))
        .cloned()
        .collect()
}

/// Flushes until the booking job's span of `call_id` has arrived (it ends just after the job
/// is marked done), at most ~5 s.
async fn flush_until_job_span(traces: &Traces, received: &Received, call_id: &str) {
    for _ in 0..50 {
        traces.flush().await.expect("export succeeds");
        if spans_of(received, call_id)
            .iter()
            .any(|s| s.name == "process bookings")
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no job span of {call_id} exported");
}

/// Replays one confirmed call: a custom function, `call_started`, `call_ended`; waits for
/// its booking.
async fn replay(app: &TestApp, call_id: &str, time: &str) {
    app.collect_complete(call_id, time, true).await;
    assert_eq!(app.webhook("call_started", call(call_id)).await, 204);
    assert_eq!(app.webhook("call_ended", ended(call_id)).await, 204);
    let view = app.wait_for_booking(call_id).await;
    assert_eq!(view["booking_job"]["status"], "done", "{view}");
}

/// The whole guarantee in one run, since the exporting subscriber is installed once per
/// process: every span of a call is in one trace (the derived id) and carries `call_id`,
/// also on another instance; the booking job links to its `call_ended` webhook's span; no
/// span carries a phone number or the caller's name, nor any log line; another call is
/// another trace; a gateway call has its JSON-RPC span under its request's span.
#[actix_web::test]
async fn each_call_is_one_trace_from_webhook_to_booking_with_the_job_linked_to_its_webhook() {
    let received = Received::default();
    let endpoint = start_receiver(Arc::clone(&received));
    let setting = [("SWITCHBOARD__TELEMETRY__OTLP_ENDPOINT", endpoint.as_str())];
    let env = setting.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    let settings = Settings::load_from(None, env).expect("settings");
    let traces = telemetry::init(&settings.log, &settings.telemetry)
        .expect("pipeline builds")
        .expect("the first subscriber of this process exports");
    let app = spawn_app_with(&setting).await;

    replay(&app, "call_trace_1", "14 Uhr").await;
    replay(&app, "call_trace_2", "16 Uhr").await;
    // Another instance (its own process state, the same tenant) serves a later webhook of
    // the first call: nothing travels between them but the call's ids.
    let other = spawn_app_with(&setting).await;
    assert_eq!(
        other.webhook("call_analyzed", ended("call_trace_1")).await,
        204
    );
    flush_until_job_span(&traces, &received, "call_trace_1").await;
    flush_until_job_span(&traces, &received, "call_trace_2").await;

    let first = spans_of(&received, "call_trace_1");
    let company = first
        .iter()
        .find_map(|s| int(s, "company_id"))
        .expect("spans carry company_id");
    let expected = call_trace_id(CompanyId(company), &CallId::parse("call_trace_1").unwrap());
    let names: Vec<&str> = first.iter().map(|s| s.name.as_str()).collect();
    let events: Vec<&str> = first
        .iter()
        .filter_map(|s| text(s, "switchboard.retell.event"))
        .collect();
    for event in ["call_started", "call_ended", "call_analyzed"] {
        assert!(events.contains(&event), "{event} missing from {events:?}");
    }
    for name in [
        "POST /api/mcp/retell/custom-function",
        "POST /api/mcp/retell/webhook",
        "process bookings",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    for span in &first {
        assert_eq!(
            hex(&span.trace_id),
            format!("{expected:032x}"),
            "{} is not in the call's trace",
            span.name
        );
        assert_eq!(int(span, "company_id"), Some(company), "{}", span.name);
    }

    let ended_webhook = first
        .iter()
        .find(|s| text(s, "switchboard.retell.event") == Some("call_ended"))
        .expect("the call_ended webhook's span");
    assert_eq!(text(ended_webhook, "http.request.method"), Some("POST"));
    assert_eq!(
        text(ended_webhook, "http.route"),
        Some("/api/mcp/retell/webhook")
    );
    assert_eq!(int(ended_webhook, "http.response.status_code"), Some(204));
    assert_eq!(ended_webhook.kind, SpanKind::Server as i32);
    let job = first.iter().find(|s| s.name == "process bookings").unwrap();
    assert_eq!(text(job, "messaging.destination.name"), Some("bookings"));
    assert_eq!(job.kind, SpanKind::Consumer as i32);
    assert!(
        job.links
            .iter()
            .any(|l| l.trace_id == ended_webhook.trace_id && l.span_id == ended_webhook.span_id),
        "the job links to {} / {}: {:?}",
        hex(&ended_webhook.trace_id),
        hex(&ended_webhook.span_id),
        job.links
    );

    let second = spans_of(&received, "call_trace_2");
    assert!(!second.is_empty());
    assert!(
        second.iter().all(|s| s.trace_id == second[0].trace_id),
        "one trace per call"
    );
    assert_ne!(
        second[0].trace_id, first[0].trace_id,
        "another call, another trace"
    );

    let all = received.lock().unwrap().clone();
    let rpc = all
        .iter()
        .find(|s| s.name == "webhook.getCall")
        .expect("the gateway's JSON-RPC calls have spans");
    assert_eq!(text(rpc, "rpc.system"), Some("jsonrpc"));
    assert_eq!(text(rpc, "rpc.method"), Some("webhook.getCall"));
    assert!(
        all.iter().any(|s| s.span_id == rpc.parent_span_id
            && text(s, "http.route") == Some("/api/mcp/gateway")),
        "the rpc span is a child of its gateway request"
    );

    for span in &all {
        assert!(
            span.events.is_empty(),
            "log lines are not exported: {span:?}"
        );
        let exported = format!("{span:?}");
        for personal in PERSONAL {
            assert!(
                !exported.contains(personal),
                "span {} carries {personal:?}: {exported}",
                span.name
            );
        }
    }
    traces.shutdown().await;
}
