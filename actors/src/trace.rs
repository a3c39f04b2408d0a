//! One trace per call (issue 15): every span about one Retell call — the inbound webhook, the
//! custom functions during the call, each webhook, the outbox job that books it — belongs to
//! one OpenTelemetry trace, on whichever instance and after any restart.
//!
//! No trace context travels between instances or through Retell. Instead the trace id is
//! derived from what every request of the call carries, (company id, call id)
//! ([`call_trace_id`]), and each span about the call is parented on the same synthetic remote
//! span of that trace ([`join_call`]). That root span is never exported: trace viewers show
//! the call's spans under one (missing) root. Sampling by trace id ratio keeps or drops all
//! of a call's spans together.
//!
//! An outbox job also keeps the context of the span that enqueued it as a W3C `traceparent`
//! ([`trace_parent`], stored with the job by the shell's store); the job's span links to it
//! ([`link_to`]). A job of a call is in the call's trace as well.
//!
//! Only the OpenTelemetry API and the `tracing` bridge are used here: without the exporting
//! layer installed (`telemetry.otlp_endpoint` empty), every function is a cheap no-op.

use crate::domain::ids::{CallId, CompanyId};
use opentelemetry::Context;
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
use sha2::{Digest as _, Sha256};
use tracing::Span;
use tracing_opentelemetry::{OpenTelemetrySpanExt as _, SetParentError};

/// The span context every span of call `call` of `company` is a child of: trace id and span
/// id are the first 16 and the next 8 bytes of SHA-256 over
/// `"switchboard call\n{company}\n{call}"` (company as decimal; a call id is printable ASCII
/// without newlines, so the input is unambiguous). Marked remote and sampled; the sampler
/// decides by trace id alone.
pub fn call_root(company: CompanyId, call: &CallId) -> SpanContext {
    let digest = Sha256::digest(format!("switchboard call\n{company}\n{call}"));
    let mut trace = [0u8; 16];
    let mut span = [0u8; 8];
    trace.copy_from_slice(&digest[..16]);
    span.copy_from_slice(&digest[16..24]);
    // An all-zero id is invalid (W3C Trace Context §3.2.2.3); one in 2^64 digests gets a 1.
    if trace == [0; 16] {
        trace[15] = 1;
    }
    if span == [0; 8] {
        span[7] = 1;
    }
    SpanContext::new(
        TraceId::from_bytes(trace),
        SpanId::from_bytes(span),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    )
}

/// The trace id of call `call` of `company` (see [`call_root`]).
pub fn call_trace_id(company: CompanyId, call: &CallId) -> TraceId {
    call_root(company, call).trace_id()
}

/// Puts `span` into the trace of call `call` of `company` and records its `company_id` and
/// `call_id` fields (when the span declares them). Call it before the span has a child span
/// and before anything asks for its context: a started span keeps its trace (logged at
/// debug level). Without the exporting layer only the fields are recorded.
pub fn join_call(span: &Span, company: CompanyId, call: &CallId) {
    span.record("company_id", company.0);
    span.record("call_id", call.as_str());
    let parent = Context::new().with_remote_span_context(call_root(company, call));
    match span.set_parent(parent) {
        Ok(()) | Err(SetParentError::LayerNotFound | SetParentError::SpanDisabled) => {}
        Err(e) => {
            tracing::debug!(error = %e, call_id = %call, "span not moved into the call's trace")
        }
    }
}

/// The W3C `traceparent` of `span` (`00-{trace id}-{span id}-{flags}`, lowercase hex; W3C
/// Trace Context §3.2), or `None` when the span is not exported (no exporting layer, or the
/// span is disabled). Asking starts the span: parent it first ([`join_call`]).
pub fn trace_parent(span: &Span) -> Option<String> {
    let context = span.context();
    let span_context = context.span().span_context().clone();
    span_context.is_valid().then(|| {
        format!(
            "00-{:032x}-{:016x}-{:02x}",
            span_context.trace_id(),
            span_context.span_id(),
            span_context.trace_flags().to_u8()
        )
    })
}

/// Parses a version-00 `traceparent` ([`trace_parent`]'s format) into a remote span
/// context; `None` for anything else, or for all-zero ids.
pub fn parse_trace_parent(value: &str) -> Option<SpanContext> {
    let mut parts = value.split('-');
    let (version, trace, span, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    if parts.next().is_some()
        || version != "00"
        || !hex(trace, 32)
        || !hex(span, 16)
        || !hex(flags, 2)
    {
        return None;
    }
    let context = SpanContext::new(
        TraceId::from_hex(trace).ok()?,
        SpanId::from_hex(span).ok()?,
        TraceFlags::new(u8::from_str_radix(flags, 16).ok()?),
        true,
        TraceState::default(),
    );
    context.is_valid().then_some(context)
}

/// Adds a span link from `span` to the span `trace_parent` names (an OTLP span link, e.g. a
/// job to the request that enqueued it). A value that does not parse adds nothing. Call it
/// before the span starts (before it is entered or has children).
pub fn link_to(span: &Span, trace_parent: &str) {
    match parse_trace_parent(trace_parent) {
        Some(context) => span.add_link(context),
        None => tracing::debug!(trace_parent, "stored traceparent does not parse; no link"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(id: &str) -> CallId {
        CallId::parse(id).unwrap()
    }

    #[test]
    fn a_calls_trace_id_is_the_same_on_every_derivation() {
        let first = call_trace_id(CompanyId(7), &call("call_abc"));
        let again = call_trace_id(CompanyId(7), &call("call_abc"));
        assert_eq!(first, again);
        assert_ne!(first, TraceId::INVALID);
        assert!(call_root(CompanyId(7), &call("call_abc")).is_valid());
    }

    #[test]
    fn the_trace_id_is_the_first_16_bytes_of_sha256_of_company_and_call() {
        let digest = Sha256::digest("switchboard call\n7\ncall_abc");
        let expected = TraceId::from_bytes(digest[..16].try_into().unwrap());
        assert_eq!(call_trace_id(CompanyId(7), &call("call_abc")), expected);
    }

    #[test]
    fn another_call_or_the_same_call_id_of_another_company_gets_another_trace() {
        let base = call_trace_id(CompanyId(7), &call("call_abc"));
        assert_ne!(base, call_trace_id(CompanyId(7), &call("call_abd")));
        assert_ne!(base, call_trace_id(CompanyId(8), &call("call_abc")));
        // The separator keeps (1, "2x") and (12, "x") apart.
        assert_ne!(
            call_trace_id(CompanyId(1), &call("2x")),
            call_trace_id(CompanyId(12), &call("x"))
        );
    }

    #[test]
    fn a_trace_parent_parses_back_to_its_ids() {
        let value = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        let context = parse_trace_parent(value).unwrap();
        assert_eq!(
            format!("{:032x}", context.trace_id()),
            "0af7651916cd43dd8448eb211c80319c"
        );
        assert_eq!(format!("{:016x}", context.span_id()), "b7ad6b7169203331");
        assert!(context.is_sampled());
        assert!(context.is_remote());
    }

    #[test]
    fn malformed_trace_parents_are_refused() {
        for bad in [
            "",
            "00",
            "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
            "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
            "00-+af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c8031-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1",
        ] {
            assert!(parse_trace_parent(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn without_the_exporting_layer_a_span_has_no_trace_parent() {
        let span = tracing::info_span!(
            "request",
            company_id = tracing::field::Empty,
            call_id = tracing::field::Empty
        );
        join_call(&span, CompanyId(7), &call("call_abc"));
        assert_eq!(trace_parent(&span), None);
    }
}
