//! [`CalcomClient`]: the reqwest implementation of the core's [`CalendarApi`] port.

use super::SERVICE;
use super::error::status_error;
use super::wire::{
    self, BookingData, Envelope, FirstOccurrence, SlotsData, WireEventType, WireMe,
    WireReservation, WireWebhook,
};
use crate::config::redact_url;
use crate::upstream;
use async_trait::async_trait;
use reqwest::header::AUTHORIZATION;
use reqwest::{Method, RequestBuilder, Url};
use secrecy::SecretString;
use serde::de::{DeserializeOwned, IgnoredAny};
use std::time::Duration;
use switchboard_actors::domain::booking::{
    Booking, BookingQuery, BookingRequest, CalcomProfile, CancelRequest, EventType,
    RescheduleRequest, ReservationRequest, Slot, SlotQuery, SlotReservation, UpstreamError,
    Webhook, WebhookSubscription,
};
use switchboard_actors::domain::ids::BookingUid;
use switchboard_actors::ports::CalendarApi;

/// Header that selects the controller version; each route group answers only to its own
/// value and 404s on the others (reference/calcom.md §1, "`cal-api-version` header").
const API_VERSION_HEADER: &str = "cal-api-version";

/// One Cal.com operation: how it is labelled in metrics and logs, and which API version its
/// route group requires (§1 table).
struct Op {
    /// `method` label of `mcp_api_duration_seconds`, named after the port method.
    name: &'static str,
    method: Method,
    api_version: &'static str,
}

impl Op {
    const fn new(name: &'static str, method: Method, api_version: &'static str) -> Self {
        Self {
            name,
            method,
            api_version,
        }
    }
}

const EVENT_TYPES: Op = Op::new("event_types", Method::GET, "2024-06-14");
const SLOTS: Op = Op::new("slots", Method::GET, "2024-09-04");
const CREATE_BOOKING: Op = Op::new("create_booking", Method::POST, "2024-08-13");
const LIST_BOOKINGS: Op = Op::new("list_bookings", Method::GET, "2024-08-13");
const GET_BOOKING: Op = Op::new("get_booking", Method::GET, "2024-08-13");
/// `/v2/me` and `/v2/teams/{id}/event-types` answer every known version
/// (`API_VERSIONS_VALUES`); the event types version keeps their output shape the one §3 describes.
const ME: Op = Op::new("me", Method::GET, "2024-06-14");
const TEAM_EVENT_TYPES: Op = Op::new("team_event_types", Method::GET, "2024-06-14");
/// Slot reservations live in the slots controller (`SlotsController_2024_09_04`, §2).
const RESERVE_SLOT: Op = Op::new("reserve_slot", Method::POST, "2024-09-04");
const RENEW_RESERVATION: Op = Op::new("renew_reservation", Method::PATCH, "2024-09-04");
const RELEASE_RESERVATION: Op = Op::new("release_reservation", Method::DELETE, "2024-09-04");
const RESCHEDULE_BOOKING: Op = Op::new("reschedule_booking", Method::POST, "2024-08-13");
const CANCEL_BOOKING: Op = Op::new("cancel_booking", Method::POST, "2024-08-13");
/// `WebhooksController` is declared with every known version (`API_VERSIONS_VALUES`, calcom/cal.com
/// `apps/api/v2/src/modules/webhooks/controllers/webhooks.controller.ts`); any one will do.
const CREATE_WEBHOOK: Op = Op::new("create_webhook", Method::POST, "2024-08-13");
const LIST_WEBHOOKS: Op = Op::new("list_webhooks", Method::GET, "2024-08-13");

/// Why a [`CalcomClient`] could not be built. Both are configuration or start-up faults.
#[derive(Debug, thiserror::Error)]
pub enum CalcomClientError {
    /// The base URL does not parse, is not http(s), carries a query or fragment, or already
    /// ends in `/v2` (the client adds that itself).
    #[error("invalid Cal.com base URL {url:?}: {reason}")]
    InvalidBaseUrl {
        /// The base URL as configured, without password, query or fragment
        /// ([`redact_url`]): the error is printed at start-up.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// reqwest could not build its client (in practice: TLS backend initialisation).
    #[error("cannot build the Cal.com HTTP client: {0}")]
    Build(#[from] reqwest::Error),
}

/// Cal.com API v2 over HTTPS (reference/calcom.md §1–5), one API key per call so one client
/// serves every company.
///
/// Cheap to clone: clones share the connection pool, which is why there is exactly one
/// `reqwest::Client` per `CalcomClient` and never one per request.
#[derive(Clone, Debug)]
pub struct CalcomClient {
    http: reqwest::Client,
    /// Scheme, host and optional path prefix; `/v2/…` is appended per request.
    base: Url,
    /// Kept for error messages; reqwest enforces it.
    timeout: Duration,
}

impl CalcomClient {
    /// A client for `base_url` without the `/v2` suffix, e.g. `https://api.cal.com`,
    /// `https://api.cal.eu` or `http://127.0.0.1:PORT` (a self-hosted API under a path prefix
    /// such as `https://host/api` works too). `timeout` bounds each request from connect to
    /// the last body byte.
    ///
    /// Redirects are not followed: an API that redirects means a wrong base URL (e.g. http
    /// instead of https), and following it would turn a `POST` into a `GET`.
    ///
    /// # Errors
    /// [`CalcomClientError::InvalidBaseUrl`] for a bad URL, [`CalcomClientError::Build`] when
    /// the TLS backend cannot start.
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, CalcomClientError> {
        let invalid = |reason: &str| CalcomClientError::InvalidBaseUrl {
            url: redact_url(&SecretString::from(base_url)),
            reason: reason.to_owned(),
        };
        let base = upstream::parse_base_url(base_url).map_err(|reason| invalid(&reason))?;
        if base.path().trim_end_matches('/').ends_with("/v2") {
            return Err(invalid("leave out the /v2 suffix; the client adds it"));
        }
        let http = upstream::http_client(timeout)?;
        Ok(Self {
            http,
            base,
            timeout,
        })
    }

    /// `base` + `/v2/<segments>`, each segment percent-encoded (a booking uid is opaque).
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .expect("new() rejects URLs that cannot be a base")
            .pop_if_empty()
            .push("v2")
            .extend(segments);
        url
    }

    /// Sends one request and reads `data` of the success envelope. Every outcome, transport
    /// failures included, is timed: slow failures are what the histogram is for.
    async fn call<T: DeserializeOwned>(
        &self,
        op: &Op,
        key: &SecretString,
        url: Url,
        build: impl FnOnce(RequestBuilder) -> RequestBuilder,
    ) -> Result<T, UpstreamError> {
        let path = url.path().to_owned();
        let request = build(self.http.request(op.method.clone(), url))
            .header(AUTHORIZATION, upstream::bearer(SERVICE, key)?)
            .header(API_VERSION_HEADER, op.api_version);

        let upstream::Answer {
            status,
            headers,
            body,
            elapsed,
        } = upstream::timed_exchange(
            SERVICE,
            op.name,
            || format!("{} {path}", op.method),
            self.timeout,
            request,
        )
        .await?;
        let request_id = headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        if !status.is_success() {
            let error = status_error(status, &headers, &body);
            // Info, not warn: most refusals (slot taken, unknown uid) are ordinary outcomes
            // the caller handles; the request id is what Cal.com support asks for.
            tracing::info!(
                op = op.name,
                %path,
                status = status.as_u16(),
                code = error.answer().and_then(|a| a.code.as_deref()),
                request_id,
                ?elapsed,
                %error,
                "Cal.com request failed"
            );
            return Err(error);
        }
        tracing::debug!(
            op = op.name,
            %path,
            status = status.as_u16(),
            request_id,
            ?elapsed,
            "Cal.com request"
        );
        serde_json::from_slice::<Envelope<T>>(&body)
            .map(|envelope| envelope.data)
            .map_err(|e| UpstreamError::Decode {
                service: SERVICE,
                message: format!("{} {path}: {e}", op.method),
            })
    }
}

#[async_trait]
impl CalendarApi for CalcomClient {
    /// `GET /v2/event-types` without filters: the key owner's event types (§3).
    async fn event_types(&self, key: &SecretString) -> Result<Vec<EventType>, UpstreamError> {
        let data: Vec<WireEventType> = self
            .call(&EVENT_TYPES, key, self.url(&["event-types"]), |r| r)
            .await?;
        Ok(data.into_iter().map(Into::into).collect())
    }

    /// `GET /v2/slots?format=range` (§2), flattened and sorted by start.
    async fn slots(
        &self,
        key: &SecretString,
        query: &SlotQuery,
    ) -> Result<Vec<Slot>, UpstreamError> {
        let params = wire::slots_query_params(query);
        let data: SlotsData = self
            .call(&SLOTS, key, self.url(&["slots"]), |r| r.query(&params))
            .await?;
        Ok(wire::flatten_slots(data))
    }

    /// `POST /v2/bookings` (§4.1). Any 2xx counts (Cal.com sends 201). A recurring event
    /// type answers with the whole series; its first occurrence is returned.
    async fn create_booking(
        &self,
        key: &SecretString,
        request: &BookingRequest,
    ) -> Result<Booking, UpstreamError> {
        let body = wire::CreateBookingBody::from(request);
        let FirstOccurrence(booking) = self
            .call(&CREATE_BOOKING, key, self.url(&["bookings"]), |r| {
                r.json(&body)
            })
            .await?;
        Ok(booking)
    }

    /// `GET /v2/bookings` (§4.3): one page of at most `take` (upstream default 100); the
    /// `pagination` block is not followed.
    async fn list_bookings(
        &self,
        key: &SecretString,
        query: &BookingQuery,
    ) -> Result<Vec<Booking>, UpstreamError> {
        let params = wire::booking_query_params(query);
        let data: Vec<BookingData> = self
            .call(&LIST_BOOKINGS, key, self.url(&["bookings"]), |r| {
                r.query(&params)
            })
            .await?;
        Ok(data.into_iter().map(|b| b.0).collect())
    }

    /// `GET /v2/bookings/{uid}` (§4.2); for a recurring series uid, its first occurrence.
    async fn get_booking(
        &self,
        key: &SecretString,
        uid: &BookingUid,
    ) -> Result<Booking, UpstreamError> {
        let url = self.url(&["bookings", uid.as_str()]);
        let FirstOccurrence(booking) = self.call(&GET_BOOKING, key, url, |r| r).await?;
        Ok(booking)
    }

    /// `GET /v2/me`: the key owner (`MeOutput`, calcom/cal.com
    /// `apps/api/v2/src/ee/me/outputs/me.output.ts`).
    async fn me(&self, key: &SecretString) -> Result<CalcomProfile, UpstreamError> {
        let data: WireMe = self.call(&ME, key, self.url(&["me"]), |r| r).await?;
        Ok(data.into_profile(ME.api_version))
    }

    /// `GET /v2/teams/{team_id}/event-types` (calcom/cal.com
    /// `apps/api/v2/src/modules/teams/event-types/controllers/teams-event-types.controller.ts`).
    async fn team_event_types(
        &self,
        key: &SecretString,
        team_id: i64,
    ) -> Result<Vec<EventType>, UpstreamError> {
        let team = team_id.to_string();
        let url = self.url(&["teams", &team, "event-types"]);
        let data: Vec<WireEventType> = self.call(&TEAM_EVENT_TYPES, key, url, |r| r).await?;
        Ok(data.into_iter().map(Into::into).collect())
    }

    /// `POST /v2/slots/reservations` → 201 (§2 "Slot holds"). A slot someone else holds is
    /// answered 422 by this endpoint alone, so here (not in [`status_error`]) a 422 is
    /// [`UpstreamError::SlotTaken`].
    async fn reserve_slot(
        &self,
        key: &SecretString,
        request: &ReservationRequest,
    ) -> Result<SlotReservation, UpstreamError> {
        let body = wire::ReserveSlotBody::from(request);
        let url = self.url(&["slots", "reservations"]);
        let data: WireReservation = self
            .call(&RESERVE_SLOT, key, url, |r| r.json(&body))
            .await
            .map_err(held_is_taken)?;
        Ok(data.into())
    }

    /// `PATCH /v2/slots/reservations/{uid}` with the same body as the reservation: the hold
    /// runs `reservation_duration_min` from now again.
    async fn renew_reservation(
        &self,
        key: &SecretString,
        uid: &str,
        request: &ReservationRequest,
    ) -> Result<SlotReservation, UpstreamError> {
        let body = wire::ReserveSlotBody::from(request);
        let url = self.url(&["slots", "reservations", uid]);
        let data: WireReservation = self
            .call(&RENEW_RESERVATION, key, url, |r| r.json(&body))
            .await
            .map_err(held_is_taken)?;
        Ok(data.into())
    }

    /// `DELETE /v2/slots/reservations/{uid}` → 200 `{"status":"success"}` (no `data`).
    async fn release_reservation(
        &self,
        key: &SecretString,
        uid: &str,
    ) -> Result<(), UpstreamError> {
        let url = self.url(&["slots", "reservations", uid]);
        let _: Option<IgnoredAny> = self.call(&RELEASE_RESERVATION, key, url, |r| r).await?;
        Ok(())
    }

    /// `POST /v2/bookings/{uid}/reschedule` → 201 with the new booking (§4.4).
    async fn reschedule_booking(
        &self,
        key: &SecretString,
        uid: &BookingUid,
        request: &RescheduleRequest,
    ) -> Result<Booking, UpstreamError> {
        let body = wire::RescheduleBody::from(request);
        let url = self.url(&["bookings", uid.as_str(), "reschedule"]);
        let FirstOccurrence(booking) = self
            .call(&RESCHEDULE_BOOKING, key, url, |r| r.json(&body))
            .await?;
        Ok(booking)
    }

    /// `POST /v2/bookings/{uid}/cancel` → 200 with the cancelled booking (§4.5).
    async fn cancel_booking(
        &self,
        key: &SecretString,
        uid: &BookingUid,
        request: &CancelRequest,
    ) -> Result<Booking, UpstreamError> {
        let body = wire::CancelBody::from(request);
        let url = self.url(&["bookings", uid.as_str(), "cancel"]);
        let FirstOccurrence(booking) = self
            .call(&CANCEL_BOOKING, key, url, |r| r.json(&body))
            .await?;
        Ok(booking)
    }

    /// `POST /v2/webhooks` → 201 (§6).
    async fn create_webhook(
        &self,
        key: &SecretString,
        subscription: &WebhookSubscription,
    ) -> Result<Webhook, UpstreamError> {
        let body = wire::CreateWebhookBody::from(subscription);
        let data: WireWebhook = self
            .call(&CREATE_WEBHOOK, key, self.url(&["webhooks"]), |r| {
                r.json(&body)
            })
            .await?;
        Ok(data.into())
    }

    /// `GET /v2/webhooks`: one page of upstream's default 250, which no tenant of ours comes
    /// near (we register one subscription each).
    async fn list_webhooks(&self, key: &SecretString) -> Result<Vec<Webhook>, UpstreamError> {
        let data: Vec<WireWebhook> = self
            .call(&LIST_WEBHOOKS, key, self.url(&["webhooks"]), |r| r)
            .await?;
        Ok(data.into_iter().map(Into::into).collect())
    }
}

/// The reservation endpoints answer a slot someone else holds with 422
/// `UnprocessableEntityException` (§5 status table), which elsewhere is a plain refusal.
fn held_is_taken(error: UpstreamError) -> UpstreamError {
    match error {
        UpstreamError::Rejected { service, answer } if answer.status == 422 => {
            UpstreamError::SlotTaken { service, answer }
        }
        other => other,
    }
}
