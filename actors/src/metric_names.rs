//! Prometheus metric names (DESIGN §10), in one place so every emitter and dashboard agrees.

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
/// Counter `{outcome}`: one (company, event type, day) of the availability the inbound-call
/// webhook warms; `fetched` (read from Cal.com and cached), `warm` (already cached), `busy`
/// (already being fetched, or the in-flight set is full), `skipped` (the Cal.com circuit is
/// not closed, or an earlier day of the same warm-up failed), `failed`.
pub const INBOUND_PREFETCH_TOTAL: &str = "inbound_prefetch_total";
/// Counter `{outcome}`: Retell inbound-call webhooks answered 200; `agent` (the tenant's agent
/// and variables), `no_agent` (variables, no agent named), `disabled` (empty answer).
pub const INBOUND_CALLS_TOTAL: &str = "inbound_calls_total";
