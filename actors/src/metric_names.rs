//! Prometheus metric names (DESIGN §10), in one place so every emitter and dashboard agrees,
//! with the `# HELP` text and unit of each ([`DESCRIPTIONS`], registered by [`describe`]).

use Kind::{Counter, Gauge, Histogram};
use metrics::Unit::{Count, Seconds};

/// Counter `{server, method, status}`: JSON-RPC calls; status `ok` or the error code.
pub const REQUEST_TOTAL: &str = "mcp_request_total";
/// Histogram `{server, method}`, seconds: JSON-RPC call duration inside the Router.
pub const REQUEST_DURATION_SECONDS: &str = "mcp_request_duration_seconds";
/// Counter `{server, error_code}`.
pub const ERROR_TOTAL: &str = "mcp_error_total";
/// Gauge `{service, company}`: 0 closed, 1 open, 2 half-open.
pub const CIRCUIT_BREAKER_STATE: &str = "mcp_circuit_breaker_state";
/// Counter `{service, company, from, to}`: circuit breaker transitions (`closed`, `open`,
/// `half_open`).
pub const CIRCUIT_BREAKER_TRANSITIONS_TOTAL: &str = "mcp_circuit_breaker_transitions_total";
/// Counter `{event, status}`: Retell webhooks; status `recorded`, `duplicate`, `foreign` (a
/// call id another company owns: refused), `error`. Also Cal.com webhooks: event
/// `BOOKING_CREATED`, `BOOKING_RESCHEDULED`, `BOOKING_CANCELLED` or `calcom_other`; status
/// `recorded`, `duplicate`, `ignored`, `disabled`, `unknown_tenant`, `unauthorized`,
/// `malformed`, `error`.
pub const WEBHOOK_TOTAL: &str = "mcp_webhook_total";
/// Counter `{status}`: booking attempts; `booked`, `reused`, `retry`, `dead_letter`.
pub const BOOKING_TOTAL: &str = "mcp_booking_total";
/// Histogram `{service, method}`, seconds: upstream API calls.
pub const API_DURATION_SECONDS: &str = "mcp_api_duration_seconds";
/// Counter `{cache}`: cache hits.
pub const CACHE_HITS_TOTAL: &str = "mcp_cache_hits_total";
/// Counter `{function, outcome}`: Retell custom-function calls.
pub const FUNCTION_TOTAL: &str = "mcp_function_total";
/// Gauge: call contexts live in this process (bounded by `calls.max_live`).
pub const CALL_CONTEXTS_LIVE: &str = "call_contexts_live";
/// Counter `{actor}`.
pub const ACTOR_RESTARTS_TOTAL: &str = "actor_restarts_total";
/// Counter `{outcome}`: calls at `call_ended`; `booking_enqueued`, `unconfirmed`, `incomplete`.
pub const CALLS_PROCESSED_TOTAL: &str = "calls_processed_total";
/// Counter `{source}`: appointments stored; `phone` or `gateway`.
pub const APPOINTMENTS_CREATED_TOTAL: &str = "appointments_created_total";
/// Counter `{route, status}`: HTTP requests.
pub const HTTP_REQUESTS_TOTAL: &str = "http_requests_total";
/// Histogram `{route}`, seconds: HTTP request duration.
pub const HTTP_REQUEST_DURATION_SECONDS: &str = "http_request_duration_seconds";
/// Counter `{server, reason}`: requests refused by a rate limit; `server` is a JSON-RPC server
/// name, `retell.function` (live custom functions) or `calcom` (outgoing Cal.com requests);
/// `reason` is `company` (company and server), `live_call` (custom functions of one company),
/// `credential` (a company's Cal.com budget) or `live_reserve` (gateway or outbox traffic kept
/// out of the live calls' share of it).
pub const RATE_LIMITED_TOTAL: &str = "rate_limited_total";
/// Counter: rate-limit decisions taken in-process because the shared Redis failed.
pub const RATE_LIMIT_FALLBACK_TOTAL: &str = "rate_limit_fallback_total";
/// Counter `{status}`: text messages to callers (`sms` jobs); `sent`, `retry`, `dead_letter`.
pub const SMS_TOTAL: &str = "sms_total";
/// Counter `{action, status}`: moves and cancellations of booked appointments (by phone, by
/// `appointments.*` and `calcom.updateBooking`/`cancelBooking`); `action` is `reschedule` or
/// `cancel`, `status` `done` (Cal.com confirmed), `queued` (an outbox job will do it) or
/// `refused`.
pub const APPOINTMENT_CHANGES_TOTAL: &str = "appointment_changes_total";
/// Counter `{outcome}`: one (company, event type, day) of the availability a call-start
/// warm-up (inbound-call or `call_started` webhook) or a booking's re-warm touches; `fetched`
/// (read from Cal.com and cached), `warm` (already cached), `busy` (already being fetched, or
/// the in-flight set is full), `skipped` (the Cal.com circuit is not closed, or an earlier day
/// of the same warm-up failed), `failed`; and `joined`: a call's lookup that waited for the
/// fetch in flight instead of asking Cal.com again.
pub const INBOUND_PREFETCH_TOTAL: &str = "inbound_prefetch_total";
/// Counter `{outcome}`: Retell inbound-call webhooks answered 200; `agent` (the tenant's agent
/// and variables), `no_agent` (variables, no agent named), `disabled` (empty answer).
pub const INBOUND_CALLS_TOTAL: &str = "inbound_calls_total";
/// Counter `{cache}`: cache reads and writes that failed and were served as misses (`redis`).
pub const CACHE_ERRORS_TOTAL: &str = "mcp_cache_errors_total";
/// Counter: Retell replay checks that Redis could not answer and the in-process record decided.
pub const REPLAY_GUARD_FALLBACKS_TOTAL: &str = "mcp_replay_guard_fallbacks_total";
/// Gauge `{queue, status}`: outbox jobs per queue (`bookings`, `notifications`) and status
/// (`pending`, `running`, `failed` = dead letters), sampled from the database every
/// `metrics.queue_sample_interval_s`. A figure of the shared database: every instance reports
/// the same value, so alerts and dashboards aggregate it with `max`, never `sum`.
pub const QUEUE_DEPTH: &str = "queue_depth";
/// Gauge `{queue}`, seconds: age (now − enqueued) of the oldest pending job that is due, 0
/// when none is; sampled with [`QUEUE_DEPTH`] (same `max` rule). Growing: the workers fall
/// behind.
pub const QUEUE_OLDEST_PENDING_AGE_SECONDS: &str = "queue_oldest_pending_age_seconds";
/// Histogram, seconds: from `call_ended` (the booking job enqueued) to the booking confirmed
/// by Cal.com and stored, recorded when a `book` job completes (retries included).
pub const BOOKING_LAG_SECONDS: &str = "booking_lag_seconds";
/// Gauge `{version, git_commit, rustc}`, always 1: which build runs (Prometheus' `*_build_info`
/// convention; join on it to group by version).
pub const BUILD_INFO: &str = "switchboard_build_info";

/// How a metric is recorded, i.e. its Prometheus `# TYPE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Only ever increases; the name ends in `_total`.
    Counter,
    /// Set to the current value.
    Gauge,
    /// Observations in buckets (`*_seconds`: the buckets of `telemetry`).
    Histogram,
}

/// What one metric is: the `# HELP` text and unit a scrape shows.
#[derive(Clone, Copy, Debug)]
pub struct Description {
    /// Metric name, one of the constants of this module.
    pub name: &'static str,
    /// Its type.
    pub kind: Kind,
    /// Its base unit; the name ends in it (`_seconds`, `_bytes`), `Count` for plain counts.
    pub unit: metrics::Unit,
    /// `# HELP` text: what is counted, with the labels' meaning.
    pub help: &'static str,
}

const fn d(name: &'static str, kind: Kind, unit: metrics::Unit, help: &'static str) -> Description {
    Description {
        name,
        kind,
        unit,
        help,
    }
}

/// Every metric of this module, described once. A test fails when a constant above is missing
/// here, so a new metric cannot ship without its `# HELP` line.
#[rustfmt::skip]
pub const DESCRIPTIONS: &[Description] = &[
    d(REQUEST_TOTAL, Counter, Count, "JSON-RPC calls by server, method and status (ok or the error code)."),
    d(REQUEST_DURATION_SECONDS, Histogram, Seconds, "Duration of JSON-RPC calls inside the router by server and method, in seconds."),
    d(ERROR_TOTAL, Counter, Count, "JSON-RPC calls answered with an error, by server and error code."),
    d(CIRCUIT_BREAKER_STATE, Gauge, Count, "Circuit breaker state per upstream service and company: 0 closed, 1 open, 2 half-open."),
    d(CIRCUIT_BREAKER_TRANSITIONS_TOTAL, Counter, Count, "Circuit breaker state changes per service and company, from and to closed, open, half_open."),
    d(WEBHOOK_TOTAL, Counter, Count, "Retell and Cal.com webhooks by event and outcome (recorded, duplicate, foreign, ignored, disabled, unknown_tenant, unauthorized, malformed, error)."),
    d(BOOKING_TOTAL, Counter, Count, "Booking job attempts by outcome: booked, reused (found our earlier booking), retry, dead_letter."),
    d(API_DURATION_SECONDS, Histogram, Seconds, "Duration of upstream API calls (Cal.com, Retell, SMS) by service and method, in seconds."),
    d(CACHE_HITS_TOTAL, Counter, Count, "Reads answered from the cache, by cache (availability, event_types)."),
    d(FUNCTION_TOTAL, Counter, Count, "Retell custom-function calls by function and outcome."),
    d(CALL_CONTEXTS_LIVE, Gauge, Count, "Call contexts held in this process's memory (at most calls.max_live)."),
    d(ACTOR_RESTARTS_TOTAL, Counter, Count, "Actor restarts after a panic, by actor."),
    d(CALLS_PROCESSED_TOTAL, Counter, Count, "Calls at call_ended by outcome: booking_enqueued, unconfirmed, incomplete."),
    d(APPOINTMENTS_CREATED_TOTAL, Counter, Count, "Appointments stored, by source (phone, gateway)."),
    d(HTTP_REQUESTS_TOTAL, Counter, Count, "HTTP requests by route pattern and status code."),
    d(HTTP_REQUEST_DURATION_SECONDS, Histogram, Seconds, "Duration of HTTP requests by route pattern, in seconds."),
    d(RATE_LIMITED_TOTAL, Counter, Count, "Requests refused by a rate limit, by server and reason (company, live_call, credential, live_reserve)."),
    d(RATE_LIMIT_FALLBACK_TOTAL, Counter, Count, "Rate-limit decisions taken in-process because the shared Redis failed."),
    d(SMS_TOTAL, Counter, Count, "Text messages to callers by outcome: sent, retry, dead_letter."),
    d(APPOINTMENT_CHANGES_TOTAL, Counter, Count, "Moves and cancellations of booked appointments by action (reschedule, cancel) and status (done, queued, refused)."),
    d(INBOUND_PREFETCH_TOTAL, Counter, Count, "Availability days warmed when a call starts or after our booking, by outcome: fetched, warm, busy, skipped, failed; joined = a call's lookup that waited for the fetch in flight instead of asking Cal.com again."),
    d(INBOUND_CALLS_TOTAL, Counter, Count, "Retell inbound-call webhooks answered, by outcome: agent, no_agent, disabled."),
    d(CACHE_ERRORS_TOTAL, Counter, Count, "Cache reads and writes that failed and were served as misses, by cache."),
    d(REPLAY_GUARD_FALLBACKS_TOTAL, Counter, Count, "Retell replay checks decided in-process because Redis could not answer."),
    d(QUEUE_DEPTH, Gauge, Count, "Outbox jobs per queue and status (pending, running, failed = dead letters), sampled from the shared database: aggregate instances with max."),
    d(QUEUE_OLDEST_PENDING_AGE_SECONDS, Gauge, Seconds, "Age of the oldest due pending job per queue in seconds, 0 when none; sampled from the shared database: aggregate instances with max."),
    d(BOOKING_LAG_SECONDS, Histogram, Seconds, "Time from call_ended (booking job enqueued) to the booking confirmed by Cal.com and stored, in seconds."),
    d(BUILD_INFO, Gauge, Count, "Always 1; labels name the running build: version, git_commit, rustc."),
];

/// Registers [`DESCRIPTIONS`] with the installed recorder; call once, after installing it.
pub fn describe() {
    for m in DESCRIPTIONS {
        match m.kind {
            Counter => metrics::describe_counter!(m.name, m.unit, m.help),
            Gauge => metrics::describe_gauge!(m.name, m.unit, m.help),
            Histogram => metrics::describe_histogram!(m.name, m.unit, m.help),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of every `pub const NAME: &str = "…";` of this file.
    fn constants() -> Vec<&'static str> {
        include_str!("metric_names.rs")
            .lines()
            .filter_map(|line| line.strip_prefix("pub const "))
            .filter_map(|rest| rest.split_once(": &str = \""))
            .filter_map(|(_, value)| value.strip_suffix("\";"))
            .collect()
    }

    #[test]
    fn every_metric_name_is_described_exactly_once() {
        let names = constants();
        assert!(names.len() >= 28, "the parser missed constants: {names:?}");
        for name in &names {
            let n = DESCRIPTIONS.iter().filter(|d| d.name == *name).count();
            assert_eq!(n, 1, "{name} is described {n} times");
        }
        for described in DESCRIPTIONS {
            assert!(
                names.contains(&described.name),
                "{} is described but not a constant of metric_names",
                described.name
            );
        }
    }

    #[test]
    fn names_carry_their_unit_and_counters_end_in_total() {
        for m in DESCRIPTIONS {
            let suffix = match m.unit {
                metrics::Unit::Seconds => Some("_seconds"),
                metrics::Unit::Bytes => Some("_bytes"),
                metrics::Unit::Count => None,
                other => panic!("{}: use a base unit, not {other:?}", m.name),
            };
            let stem = m.name.strip_suffix("_total").unwrap_or(m.name);
            assert_eq!(
                m.kind == Counter,
                m.name.ends_with("_total"),
                "{}: `_total` is for counters and every counter",
                m.name
            );
            if let Some(suffix) = suffix {
                assert!(stem.ends_with(suffix), "{} lacks {suffix}", m.name);
            }
            assert!(!m.help.is_empty() && !m.help.contains('\n'), "{}", m.name);
        }
    }
}
