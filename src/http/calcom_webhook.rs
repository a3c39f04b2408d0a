//! `POST /api/calcom/webhook/{company_slug}` (DESIGN §4, reference/calcom.md §6): Cal.com tells
//! us of bookings made, moved or cancelled — by us, on the booking page or by staff. The
//! signature is checked on the raw body with the tenant's webhook secret, the event is stored
//! once (deduplicated on the SHA-256 of the body) and applied to the local appointments, and
//! the cached availability of the days it changes is forgotten at once.
//!
//! Answers: 200 when stored, a repeat, a trigger we do not act on, or a disabled tenant
//! (nothing stored for the last two); 404 for an unknown slug; 401 when the tenant has no
//! secret or the signature is missing or wrong (nothing stored); 400 for a body that is not a
//! booking webhook; 413 above `server.max_body_bytes`; 503 when the store fails (Cal.com
//! retries).

use super::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use chrono::NaiveDate;
use secrecy::ExposeSecret;
use serde_json::json;
use switchboard_actors::calcom_webhook::{
    self, BookingPayload, PayloadError, SIGNATURE_HEADER, SignatureError, Webhook,
};
use switchboard_actors::domain::ids::EventTypeId;
use switchboard_actors::domain::onboarding::Slug;
use switchboard_actors::domain::tenant::CompanyProfile;
use switchboard_actors::metric_names as m;
use switchboard_actors::ports::{Cache, StoreError};
use switchboard_actors::records::{CalcomEventOutcome, CalcomTrigger};
use switchboard_actors::servers::calcom::forget_availability;
use switchboard_actors::tenant::GetTenant;

/// The `event` label of `mcp_webhook_total` for Cal.com triggers we do not act on, or a
/// request refused before its trigger was read.
const OTHER_EVENT: &str = "calcom_other";

/// Why a Cal.com webhook was not applied. Answered as `{"error": {"code", "message"}}`;
/// causes behind a 5xx go to the log, never to the sender.
#[derive(Debug, thiserror::Error)]
pub enum CalcomWebhookError {
    /// No tenant has this slug (404, `not_found`).
    #[error("no tenant has this webhook URL")]
    UnknownTenant,
    /// The signature is missing or wrong, or the tenant has no secret (401, `unauthorized`).
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// The body is not a booking webhook (400, `bad_request`).
    #[error(transparent)]
    Payload(#[from] PayloadError),
    /// The store failed (503, `3004`): Cal.com retries.
    #[error("webhook could not be stored; retry")]
    NotStored(#[source] StoreError),
}

impl CalcomWebhookError {
    fn code(&self) -> &'static str {
        match self {
            Self::UnknownTenant => "not_found",
            Self::Signature(_) => "unauthorized",
            Self::Payload(_) => "bad_request",
            Self::NotStored(_) => "3004",
        }
    }

    /// The `status` label of `mcp_webhook_total`.
    fn metric_status(&self) -> &'static str {
        match self {
            Self::UnknownTenant => "unknown_tenant",
            Self::Signature(_) => "unauthorized",
            Self::Payload(_) => "malformed",
            Self::NotStored(_) => "error",
        }
    }
}

impl ResponseError for CalcomWebhookError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::UnknownTenant => StatusCode::NOT_FOUND,
            Self::Signature(_) => StatusCode::UNAUTHORIZED,
            Self::Payload(_) => StatusCode::BAD_REQUEST,
            Self::NotStored(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            let cause = std::error::Error::source(self).map(ToString::to_string);
            tracing::error!(error = %self, cause, "Cal.com webhook not stored");
        }
        HttpResponse::build(status)
            .json(json!({"error": {"code": self.code(), "message": self.to_string()}}))
    }
}

/// What became of an accepted webhook: the `status` label of `mcp_webhook_total` and the
/// `status` of the 200 answer.
#[derive(Clone, Copy)]
enum Accepted {
    /// Stored and applied.
    Recorded,
    /// The same body was stored before; nothing changed.
    Duplicate,
    /// A trigger we do not act on; nothing stored.
    Ignored,
    /// The tenant is disabled; nothing stored.
    Disabled,
}

impl Accepted {
    fn as_str(self) -> &'static str {
        match self {
            Self::Recorded => "recorded",
            Self::Duplicate => "duplicate",
            Self::Ignored => "ignored",
            Self::Disabled => "disabled",
        }
    }
}

fn count(event: &'static str, status: &'static str) {
    metrics::counter!(m::WEBHOOK_TOTAL, "event" => event, "status" => status).increment(1);
}

/// Handles one Cal.com webhook; counts it in `mcp_webhook_total{event, status}`.
///
/// # Errors
/// [`CalcomWebhookError`], see the module documentation for the statuses.
pub async fn handle(
    req: HttpRequest,
    slug: web::Path<String>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, CalcomWebhookError> {
    let mut event = OTHER_EVENT;
    let outcome = accept(&req, &slug, &body, &state, &mut event).await;
    match &outcome {
        Ok(accepted) => count(event, accepted.as_str()),
        Err(error) => count(event, error.metric_status()),
    }
    let accepted = outcome?;
    Ok(HttpResponse::Ok().json(json!({"status": accepted.as_str()})))
}

/// Verifies, reads, stores and applies one webhook; sets `event` to its trigger once read.
async fn accept(
    req: &HttpRequest,
    slug: &str,
    body: &[u8],
    state: &AppState,
    event: &mut &'static str,
) -> Result<Accepted, CalcomWebhookError> {
    if Slug::parse(slug).is_err() {
        return Err(CalcomWebhookError::UnknownTenant);
    }
    let company = state
        .store
        .company_by_slug(slug)
        .await
        .map_err(CalcomWebhookError::NotStored)?
        .ok_or(CalcomWebhookError::UnknownTenant)?;
    let header = req
        .headers()
        .get(SIGNATURE_HEADER)
        .and_then(|value| value.to_str().ok());
    calcom_webhook::verify(header, body, company.calcom_webhook_secret.expose_secret())?;
    let (trigger, payload) = match calcom_webhook::read(body)? {
        Webhook::Booking(trigger, payload) => (trigger, payload),
        Webhook::Ignored(trigger) => {
            tracing::debug!(company = %company.id, trigger, "Cal.com webhook trigger ignored");
            return Ok(Accepted::Ignored);
        }
    };
    *event = trigger.as_str();
    if company.disabled {
        // Accepted so Cal.com stops retrying; a disabled tenant keeps what it had.
        tracing::info!(company = %company.id, "Cal.com webhook for a disabled tenant accepted and not recorded");
        return Ok(Accepted::Disabled);
    }
    let services = state
        .store
        .services(company.id)
        .await
        .map_err(CalcomWebhookError::NotStored)?;
    let record = calcom_webhook::record(
        company.id,
        &services,
        trigger,
        &payload,
        calcom_webhook::dedupe_key(body),
        state.clock.now(),
    )?;
    let changed = changed_days(state, &company, trigger, &payload).await?;
    match state
        .store
        .record_calcom_event(&record)
        .await
        .map_err(CalcomWebhookError::NotStored)?
    {
        CalcomEventOutcome::Duplicate => Ok(Accepted::Duplicate),
        CalcomEventOutcome::Applied { .. } => {
            // Whether or not a local row changed, Cal.com's calendar did: the days are
            // dropped and, with the company's breaker at hand, fetched again in the
            // background (also after the echo of our own booking, which patched them).
            let tenant = state.core.tenants.send(GetTenant(company.id)).await;
            for (event_type, days) in &changed {
                match &tenant {
                    Ok(Ok(tenant)) => {
                        let tz = tenant.profile.time_zone;
                        state
                            .core
                            .flights
                            .changed(&tenant.calendar, company.id, *event_type, tz, days)
                            .await;
                    }
                    _ => {
                        forget_availability(
                            &state.cache as &dyn Cache,
                            company.id,
                            *event_type,
                            days,
                        )
                        .await;
                    }
                }
            }
            Ok(Accepted::Recorded)
        }
    }
}

/// The event types and local days whose free slots `payload` changes: the booking's own, and
/// for a move or cancellation also those of the stored booking it names (its payload may
/// leave the old start out).
async fn changed_days(
    state: &AppState,
    company: &CompanyProfile,
    trigger: CalcomTrigger,
    payload: &BookingPayload,
) -> Result<Vec<(EventTypeId, Vec<NaiveDate>)>, CalcomWebhookError> {
    let mut changed = Vec::with_capacity(2);
    if let Some(event_type) = payload.event_type_id {
        changed.push((EventTypeId(event_type), payload.days(company.time_zone)));
    }
    let earlier = match trigger {
        CalcomTrigger::BookingCreated => None,
        CalcomTrigger::BookingRescheduled => payload.reschedule_uid.as_ref(),
        CalcomTrigger::BookingCancelled => Some(&payload.uid),
    };
    if let Some(uid) = earlier
        && let Some(stored) = state
            .store
            .appointment(company.id, uid)
            .await
            .map_err(CalcomWebhookError::NotStored)?
    {
        let tz = company.time_zone;
        let mut days = vec![
            stored.start.with_timezone(&tz).date_naive(),
            stored.end.with_timezone(&tz).date_naive(),
        ];
        days.dedup();
        changed.push((stored.event_type_id, days));
    }
    Ok(changed)
}
