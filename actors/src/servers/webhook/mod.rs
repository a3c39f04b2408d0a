//! `WebhookServer`: turns verified Retell webhooks into durable records (one transaction per
//! event, deduplicated on (company, event, call_id)), enqueues the booking at `call_ended`, and
//! serves the `webhook.*` methods (one file each, listed once in `method_list!` below). A
//! webhook naming a call id that another company recorded first is refused
//! ([`WebhookError::ForeignCall`]) and writes nothing.

use crate::call::context::{CallKey, ContextError};
use crate::call::hold::release_later;
use crate::call::registry::{CallRegistry, EndCall, SnapshotFor};
use crate::domain::appointment::{CollectedAppointment, local_start};
use crate::domain::booking::Attendee;
use crate::domain::ids::{CallId, CompanyId};
use crate::domain::tenant::TenantRoute;
use crate::metric_names as m;
use crate::outbox::{KIND_BOOK, QUEUE_BOOKINGS, Wake};
use crate::ports::{CallStore, Clock, StoreError};
use crate::ratelimit::Lane;
use crate::records::{
    BookingJobPayload, CallDetailRecord, CallEventRecord, EventOutcome, NewCustomer, NewJob,
    WebhookEvent,
};
use crate::registry::{MethodSpec, MethodTable};
use crate::retell::call::RetellCall;
use crate::supervision::{RestartBudget, guard};
use crate::tenant::TenantDirectory;
use actix::prelude::*;
use std::sync::Arc;
use tracing::Instrument as _;

/// Message: one verified webhook (reference/retell.md §1.2: `{event, call}`).
#[derive(Debug, Message)]
#[rtype(result = "Result<WebhookAck, WebhookError>")]
pub struct HandleWebhook {
    /// Company and branch of the call's business number; the signature was verified with this
    /// company's key.
    pub route: TenantRoute,
    /// The webhook's `event`.
    pub event: WebhookEvent,
    /// `call`, typed for the fields we act on (reference/retell.md §1.3).
    pub call: RetellCall,
    /// The call object exactly as received.
    pub raw_call: serde_json::Value,
    /// The body's top-level fields beside `event` and `call` that a transfer event carries
    /// (`transfer_destination`, `transfer_option`; reference/retell.md §1.2); empty for
    /// other events.
    pub transfer: serde_json::Map<String, serde_json::Value>,
    /// The span of the request that delivered the webhook (in the call's trace,
    /// [`crate::trace`]): the event is recorded inside it, so the booking job enqueued at
    /// `call_ended` links to it.
    pub span: tracing::Span,
}

/// The top-level fields of a transfer event that are kept ([`HandleWebhook::transfer`]).
pub const TRANSFER_FIELDS: [&str; 2] = ["transfer_destination", "transfer_option"];

/// What `event` adds to its call beyond the `calls` columns, bounded
/// ([`CallDetailRecord::bounded`]); `None` for events that add nothing we keep. A
/// `transfer_*` event keeps its top-level `transfer` fields and the call's
/// `transfer_destination` (as `call_transfer_destination`), `transfer_end_timestamp` and
/// `disconnection_reason`; `call_analyzed` keeps the whole `call_analysis`, with
/// `custom_analysis_data` (reference/retell.md §1.1–1.5).
pub fn event_details(
    event: &WebhookEvent,
    raw_call: &serde_json::Value,
    transfer: &serde_json::Map<String, serde_json::Value>,
) -> Option<serde_json::Value> {
    let mut details = serde_json::Map::new();
    match event {
        WebhookEvent::CallAnalyzed => {
            let analysis = raw_call.get("call_analysis").filter(|a| a.is_object())?;
            details.insert("call_analysis".to_owned(), analysis.clone());
        }
        WebhookEvent::Other(name) if name.starts_with("transfer_") => {
            for field in TRANSFER_FIELDS {
                if let Some(value) = transfer.get(field).filter(|v| !v.is_null()) {
                    details.insert(field.to_owned(), value.clone());
                }
            }
            for (from, to) in [
                ("transfer_destination", "call_transfer_destination"),
                ("transfer_end_timestamp", "transfer_end_timestamp"),
                ("disconnection_reason", "disconnection_reason"),
            ] {
                if let Some(value) = raw_call.get(from).filter(|v| !v.is_null()) {
                    details.insert(to.to_owned(), value.clone());
                }
            }
        }
        _ => return None,
    }
    Some(CallDetailRecord::bounded(serde_json::Value::Object(
        details,
    )))
}

/// The webhook is durable; answer 2xx.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookAck {
    /// First delivery of this (company, event, call_id): recorded.
    Recorded {
        /// Id of the booking job enqueued at `call_ended`; `None` when the call was not
        /// booked (incomplete or unconfirmed data, or another event).
        booking_job: Option<i64>,
    },
    /// Seen before (a Retell retry); nothing changed.
    Duplicate,
}

/// The webhook was not recorded: [`WebhookError::ForeignCall`] is a refusal (answer 403,
/// Retell must not retry); every other variant means it could not be made durable (answer
/// 5xx so Retell retries).
#[derive(Debug, Clone, thiserror::Error)]
pub enum WebhookError {
    /// The call's collected data could not be read at `call_ended`.
    #[error(transparent)]
    Context(ContextError),
    /// The transaction recording the event failed.
    #[error(transparent)]
    Store(StoreError),
    /// Processing panicked; the server actor was restarted and nothing was acknowledged.
    #[error("webhook server failed: {0}")]
    Panicked(String),
    /// The call id is recorded for another company; nothing was written.
    #[error("call {0} belongs to another company")]
    ForeignCall(CallId),
}

/// Either way of learning that another company owns the call (its context, or the store's
/// transaction) becomes [`WebhookError::ForeignCall`].
impl From<ContextError> for WebhookError {
    fn from(e: ContextError) -> Self {
        match e {
            ContextError::CrossTenant(call_id) => Self::ForeignCall(call_id),
            other => Self::Context(other),
        }
    }
}

impl From<StoreError> for WebhookError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::ForeignCall(call_id) => Self::ForeignCall(call_id),
            other => Self::Store(other),
        }
    }
}

/// Outbox settings the webhook server needs.
#[derive(Debug, Clone, Copy)]
pub struct BookingPolicy {
    /// Attempts before a booking job becomes a dead letter.
    pub max_attempts: u32,
}

/// What the `webhook.*` methods need.
pub struct WebhookDeps {
    /// Calls, webhooks and their booking jobs.
    pub store: Arc<dyn CallStore>,
}

pub mod get_call;
pub mod get_webhook_stats;
pub mod list_calls;

crate::method_list!(WebhookDeps:
    get_call::GetCall,
    get_webhook_stats::GetWebhookStats,
    list_calls::ListCalls,
);

/// The `webhook` server actor.
pub struct WebhookServer {
    methods: MethodTable<WebhookDeps>,
    /// Shared by the methods and [`HandleWebhook`].
    deps: Arc<WebhookDeps>,
    calls: Addr<CallRegistry>,
    outbox: Recipient<Wake>,
    /// Releases the slot hold of a call that ended without a booking.
    tenants: Addr<TenantDirectory>,
    clock: Arc<dyn Clock>,
    policy: BookingPolicy,
    budget: RestartBudget,
}

impl WebhookServer {
    /// A server writing to `store`, reading call contexts from `calls`, waking `outbox`,
    /// releasing unbooked calls' slot holds through `tenants`.
    pub fn new(
        store: Arc<dyn CallStore>,
        calls: Addr<CallRegistry>,
        outbox: Recipient<Wake>,
        tenants: Addr<TenantDirectory>,
        clock: Arc<dyn Clock>,
        policy: BookingPolicy,
        budget: RestartBudget,
    ) -> Self {
        Self {
            methods: list().compile(),
            deps: Arc::new(WebhookDeps { store }),
            calls,
            outbox,
            tenants,
            clock,
            policy,
            budget,
        }
    }

    /// The JSON-RPC methods of this server.
    pub fn methods() -> Vec<MethodSpec> {
        list().specs()
    }
}

impl Actor for WebhookServer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(1024);
    }
}

/// Why no booking job was enqueued at `call_ended` (metric label `outcome`).
fn booking_decision(
    route: &TenantRoute,
    call: &RetellCall,
    collected: &CollectedAppointment,
    max_attempts: u32,
    now: chrono::DateTime<chrono::Utc>,
) -> (Option<NewJob>, &'static str) {
    let confirmed = collected.confirmed || call.booking_confirmed_variable();
    let (Some(date), Some(time), Some(service), Some(name), Some(phone)) = (
        collected.date,
        collected.time,
        collected.service.as_ref(),
        collected.name.as_ref(),
        collected.phone.as_ref(),
    ) else {
        return (None, "incomplete");
    };
    if !confirmed {
        return (None, "unconfirmed");
    }
    let tz = route.company.time_zone;
    let Some(start) = local_start(date, time, tz) else {
        return (None, "nonexistent_local_time");
    };
    let idempotency_key = call_booking_key(route.company.id, &call.call_id);
    let payload = BookingJobPayload {
        company_id: route.company.id,
        branch_id: route.branch_id,
        call_id: Some(call.call_id.clone()),
        service_id: service.service_id,
        service_name: service.name.clone(),
        event_type_id: service.event_type_id,
        duration_min: service.duration_min,
        start,
        attendee: Attendee {
            name: name.clone(),
            time_zone: tz.name().to_owned(),
            email: collected.email.clone(),
            phone_number: Some(phone.to_string()),
            language: Some(route.company.locale.as_str().to_owned()),
        },
        notes: collected.notes.clone(),
        idempotency_key: idempotency_key.clone(),
        reserved_slot_uid: collected.hold_of_wanted_slot(tz).map(|h| h.uid.clone()),
    };
    let job = NewJob {
        queue: QUEUE_BOOKINGS.to_owned(),
        kind: KIND_BOOK.to_owned(),
        company_id: route.company.id,
        call_id: Some(call.call_id.clone()),
        idempotency_key,
        payload: serde_json::to_value(&payload).expect("payload serialises"),
        max_attempts,
        run_at: now,
    };
    (Some(job), "booking_enqueued")
}

/// Counts one webhook in `mcp_webhook_total`; `status` is one of the fixed set documented there.
fn count_webhook(event: &WebhookEvent, status: &'static str) {
    metrics::counter!(m::WEBHOOK_TOTAL, "event" => event.metric_label(), "status" => status)
        .increment(1);
}

/// The idempotency key of a call's booking, `retell:{company}:{call_id}:book`: the key of its
/// outbox job, of its appointment and the Cal.com metadata value a retry looks up. It names
/// the company so that no other tenant's key (gateway keys are `gateway:{company}:…`) can
/// ever equal it.
pub fn call_booking_key(company: CompanyId, call_id: &CallId) -> String {
    format!("retell:{company}:{call_id}:book")
}

impl Supervised for WebhookServer {}

crate::guarded_actor!(WebhookServer, "webhook");
crate::method_server!(WebhookServer);

impl Handler<HandleWebhook> for WebhookServer {
    type Result = ResponseFuture<Result<WebhookAck, WebhookError>>;

    fn handle(&mut self, msg: HandleWebhook, ctx: &mut Self::Context) -> Self::Result {
        guard(
            self,
            ctx,
            |this, _| {
                let store = Arc::clone(&this.deps.store);
                let calls = this.calls.clone();
                let outbox = this.outbox.clone();
                let tenants = this.tenants.clone();
                let now = this.clock.now();
                let policy = this.policy;
                let span = msg.span.clone();
                async move {
                    let HandleWebhook {
                        route,
                        event,
                        call,
                        raw_call,
                        transfer,
                        span: _,
                    } = msg;
                    let details = event_details(&event, &raw_call, &transfer).map(|details| {
                        CallDetailRecord {
                            company_id: route.company.id,
                            call_id: call.call_id.clone(),
                            event: event.clone(),
                            received_at: now,
                            details,
                        }
                    });
                    let key = CallKey {
                        call_id: call.call_id.clone(),
                        company_id: route.company.id,
                        branch_id: route.branch_id,
                        from_number: call.from_number.clone(),
                        to_number: call.to_number.clone(),
                    };
                    let mut record = CallEventRecord {
                        event: event.clone(),
                        call_id: call.call_id.clone(),
                        company_id: route.company.id,
                        branch_id: route.branch_id,
                        call: raw_call,
                        call_status: call.call_status.clone(),
                        direction: call.direction.clone(),
                        from_number: call.from_number.clone(),
                        to_number: call.to_number.clone(),
                        started_at: call.started_at(),
                        ended_at: call.ended_at(),
                        duration_ms: call.duration_ms,
                        disconnection_reason: call.disconnection_reason.clone(),
                        summary: call
                            .call_analysis
                            .as_ref()
                            .and_then(|a| a.call_summary.clone()),
                        sentiment: call
                            .call_analysis
                            .as_ref()
                            .and_then(|a| a.user_sentiment.clone()),
                        collected: None,
                        customer: None,
                        booking_job: None,
                        received_at: now,
                    };
                    let mut outcome_label = None;
                    let mut unbooked_hold = None;
                    if event == WebhookEvent::CallEnded {
                        let snapshot = calls
                            .send(SnapshotFor(key))
                            .await
                            .map_err(|e| ContextError::Unavailable(e.to_string()))?;
                        // The call's context is the first to see a call of another company.
                        let collected = snapshot.map_err(|e| match WebhookError::from(e) {
                            foreign @ WebhookError::ForeignCall(_) => {
                                count_webhook(&event, "foreign");
                                foreign
                            }
                            other => other,
                        })?;
                        let (job, label) =
                            booking_decision(&route, &call, &collected, policy.max_attempts, now);
                        record.customer = collected.phone.as_ref().map(|p| NewCustomer {
                            name: collected.name.clone(),
                            phone: p.to_string(),
                            email: collected.email.clone(),
                        });
                        let booked_against = collected
                            .hold_of_wanted_slot(route.company.time_zone)
                            .filter(|_| job.is_some());
                        if booked_against.is_none() {
                            unbooked_hold = collected.hold.clone();
                        }
                        record.booking_job = job;
                        // Not written back: the call's data is stored by its context, and a
                        // function still running now (its hold) must not be overwritten by
                        // this older read.
                        outcome_label = Some(label);
                    }
                    let result = store.record_call_event(&record).await;
                    let status = match &result {
                        Ok(EventOutcome::Recorded { .. }) => "recorded",
                        Ok(EventOutcome::Duplicate) => "duplicate",
                        Err(StoreError::ForeignCall(_)) => "foreign",
                        Err(_) => "error",
                    };
                    count_webhook(&event, status);
                    let outcome = result?;
                    // On a duplicate too: the retry of an event whose details failed to store
                    // completes them.
                    if let Some(details) = &details {
                        store.record_call_details(details).await?;
                    }
                    match outcome {
                        EventOutcome::Duplicate => {
                            tracing::info!(call_id = %call.call_id, event = event.as_str(), "duplicate webhook ignored");
                            Ok(WebhookAck::Duplicate)
                        }
                        EventOutcome::Recorded { job_id } => {
                            if let Some(label) = outcome_label {
                                metrics::counter!(m::CALLS_PROCESSED_TOTAL, "outcome" => label)
                                    .increment(1);
                                tracing::info!(call_id = %call.call_id, outcome = label, job_id, "call ended");
                                calls.do_send(EndCall {
                                    company_id: route.company.id,
                                    call_id: call.call_id.clone(),
                                });
                            }
                            // Recorded first: a retry of this webhook finds it a duplicate
                            // and never books what was released here.
                            if let Some(hold) = unbooked_hold {
                                release_later(tenants, route.company.id, Lane::Background, hold);
                            }
                            if job_id.is_some() {
                                outbox.do_send(Wake);
                            }
                            Ok(WebhookAck::Recorded {
                                booking_job: job_id,
                            })
                        }
                    }
                }
                .instrument(span)
            },
            |m| Err(WebhookError::Panicked(m)),
        )
    }
}
