//! `CalcomServer`: the `calcom.*` JSON-RPC methods — event types (cached), availability
//! (cached, invalidated by our own bookings), bookings, and creating a booking through the
//! company's `TenantSession`.

use crate::domain::booking::{
    Attendee, Booking, BookingQuery, BookingRequest, EventType, IDEMPOTENCY_METADATA_KEY, Slot,
    SlotQuery,
};
use crate::domain::ids::{CompanyId, EventTypeId};
use crate::domain::phone::PhoneNumber;
use crate::domain::service_match::match_service;
use crate::domain::tenant::Service;
use crate::jsonrpc::{AppError, ErrorCode, RpcError};
use crate::metric_names as m;
use crate::ports::{Cache, Clock, Store};
use crate::records::NewAppointment;
use crate::registry::{MethodSpec, Scope, parse_params};
use crate::server::{MethodOutput, ServerCall, require_company};
use crate::servers::{store_error, tenant_error, upstream_error};
use crate::supervision::{RestartBudget, guard};
use crate::tenant::{Book, BookOutcome, GetTenant, TenantDirectory, TenantHandle};
use actix::prelude::*;
use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// Cache lifetimes (`[cache]` in config/default.toml).
#[derive(Debug, Clone, Copy)]
pub struct CacheTtl {
    /// Lifetime of a company's cached event types (`event_types_ttl_s`).
    pub event_types: Duration,
    /// Lifetime of one event type's cached free slots of one day (`availability_ttl_s`); our own
    /// bookings drop the entry at once.
    pub availability: Duration,
}

/// The `calcom` server actor.
pub struct CalcomServer {
    store: Arc<dyn Store>,
    tenants: Addr<TenantDirectory>,
    cache: Arc<dyn Cache>,
    clock: Arc<dyn Clock>,
    ttl: CacheTtl,
    budget: RestartBudget,
}

impl CalcomServer {
    /// A server reading through `tenants`' breakers and caching in `cache`.
    pub fn new(
        store: Arc<dyn Store>,
        tenants: Addr<TenantDirectory>,
        cache: Arc<dyn Cache>,
        clock: Arc<dyn Clock>,
        ttl: CacheTtl,
        budget: RestartBudget,
    ) -> Self {
        Self {
            store,
            tenants,
            cache,
            clock,
            ttl,
            budget,
        }
    }

    /// The JSON-RPC methods of this server.
    pub fn methods() -> Vec<MethodSpec> {
        vec![
            MethodSpec::new::<CompanyParams>(
                "calcom.getEventTypes",
                "The company's Cal.com event types and which service each one backs (cached 5 min).",
                "{event_types: [{id, title, slug, length_in_minutes, service?}]}",
                Scope::Company,
            ),
            MethodSpec::new::<AvailabilityParams>(
                "calcom.checkAvailability",
                "Free slots of a service or event type on a day or a range of days, in the company's time zone.",
                "{event_type_id, time_zone, slots: [{start, end}]} (ISO 8601 with offset)",
                Scope::Company,
            ),
            MethodSpec::new::<GetBookingsParams>(
                "calcom.getBookings",
                "Bookings in Cal.com for the company's key, with filters.",
                "{bookings: [Booking]}",
                Scope::Company,
            ),
            MethodSpec::new::<CreateBookingParams>(
                "calcom.createBooking",
                "Books a slot through the company's booking session; with idempotency_key a repeat returns the first booking.",
                "{booking: Booking, appointment_id, reused: bool}",
                Scope::Company,
            ),
        ]
    }
}

impl Actor for CalcomServer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(1024);
    }
}

/// Params with only the company.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompanyParams {
    /// Defaults to the token's company; required with an admin token.
    pub company_id: Option<CompanyId>,
}

/// Params of `calcom.checkAvailability`. Give `service` (name or alias) or `event_type_id`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityParams {
    /// Defaults to the token's company; required with an admin token.
    pub company_id: Option<CompanyId>,
    /// Service name or alias, matched like a caller's words; wins over `event_type_id`.
    pub service: Option<String>,
    /// Cal.com event type id, used when no `service` is given.
    pub event_type_id: Option<EventTypeId>,
    /// First day, `YYYY-MM-DD`, local to the company.
    pub date: NaiveDate,
    /// Days from `date`, 1–31 (default 1).
    pub days: Option<u32>,
}

/// Params of `calcom.getBookings` (Cal.com `GET /v2/bookings` filters).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetBookingsParams {
    /// Defaults to the token's company; required with an admin token.
    pub company_id: Option<CompanyId>,
    /// Comma list of `upcoming,recurring,past,cancelled,unconfirmed`.
    pub status: Option<String>,
    /// Only bookings of this Cal.com event type.
    pub event_type_id: Option<EventTypeId>,
    /// Only bookings with this attendee email; a phone-only attendee is `<E.164 digits without
    /// +>@sms.cal.com`.
    pub attendee_email: Option<String>,
    /// UTC, RFC 3339.
    pub after_start: Option<DateTime<Utc>>,
    /// UTC, RFC 3339.
    pub before_end: Option<DateTime<Utc>>,
    /// 1–250 (default 100).
    pub take: Option<u32>,
}

/// Params of `calcom.createBooking`. Give `start` (UTC or with offset) or `date` + `time`
/// (local to the company); `service` or `event_type_id`; a phone or an email.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBookingParams {
    /// Defaults to the token's company; required with an admin token.
    pub company_id: Option<CompanyId>,
    /// Service name or alias, matched like a caller's words; wins over `event_type_id`.
    pub service: Option<String>,
    /// Cal.com event type id, used when no `service` is given.
    pub event_type_id: Option<EventTypeId>,
    /// Start, RFC 3339 with offset, e.g. `2030-01-08T15:00:00+01:00`; give this or `date` + `time`.
    /// Must lie in the future.
    pub start: Option<DateTime<chrono::FixedOffset>>,
    /// Day, `YYYY-MM-DD`, local to the company; with `time`, instead of `start`.
    pub date: Option<NaiveDate>,
    /// `HH:MM`, local.
    pub time: Option<NaiveTime>,
    /// Attendee's name; must not be blank.
    pub name: String,
    /// Any common form; stored as E.164 (default region DE).
    pub phone: Option<String>,
    /// Attendee's email; give this or `phone`.
    pub email: Option<String>,
    /// Makes the call safe to repeat: the same key books at most once.
    pub idempotency_key: Option<String>,
}

/// An event type with the service it backs, if any.
#[derive(Debug, Serialize)]
struct EventTypeView {
    #[serde(flatten)]
    event_type: EventType,
    service: Option<String>,
}

fn availability_key(event_type: EventTypeId, date: NaiveDate) -> String {
    format!("mcp:calcom:availability:{event_type}:{date}")
}

struct Ctx {
    store: Arc<dyn Store>,
    tenants: Addr<TenantDirectory>,
    cache: Arc<dyn Cache>,
    clock: Arc<dyn Clock>,
    ttl: CacheTtl,
}

impl Ctx {
    async fn tenant(&self, company: CompanyId) -> Result<TenantHandle, RpcError> {
        self.tenants
            .send(GetTenant(company))
            .await
            .map_err(|e| RpcError::internal(e.to_string()))?
            .map_err(|e| tenant_error(&e))
    }

    async fn services(&self, company: CompanyId) -> Result<Vec<Service>, RpcError> {
        self.store
            .services(company)
            .await
            .map_err(|e| store_error(&e))
    }

    async fn event_type_of(
        &self,
        company: CompanyId,
        service: Option<&str>,
        event_type: Option<EventTypeId>,
    ) -> Result<(EventTypeId, Option<Service>), RpcError> {
        let services = self.services(company).await?;
        match (service, event_type) {
            (Some(name), _) => {
                let s = match_service(name, &services).cloned().ok_or_else(|| {
                    AppError::new(
                        ErrorCode::ServiceNotMapped,
                        format!("no service {name:?} for company {company}"),
                    )
                    .with_details(
                        json!({"services": services.iter().map(|s| &s.name).collect::<Vec<_>>()}),
                    )
                })?;
                Ok((s.event_type_id, Some(s)))
            }
            (None, Some(id)) => Ok((id, services.into_iter().find(|s| s.event_type_id == id))),
            (None, None) => Err(RpcError::invalid_params("give service or event_type_id")),
        }
    }

    async fn get_event_types(&self, grant_company: CompanyId) -> Result<MethodOutput, RpcError> {
        let key = format!("mcp:calcom:event_types:{grant_company}");
        if let Some(hit) = self.cache.get(&key).await {
            metrics::counter!(m::CACHE_HITS_TOTAL, "cache" => "event_types").increment(1);
            return Ok(MethodOutput {
                data: hit,
                cached: true,
            });
        }
        let tenant = self.tenant(grant_company).await?;
        let types = tenant
            .calendar
            .event_types()
            .await
            .map_err(|e| upstream_error(&e, ErrorCode::EventTypeNotFound))?;
        let services = self.services(grant_company).await?;
        let views: Vec<EventTypeView> = types
            .into_iter()
            .map(|t| EventTypeView {
                service: services
                    .iter()
                    .find(|s| s.event_type_id == t.id)
                    .map(|s| s.name.clone()),
                event_type: t,
            })
            .collect();
        let data = json!({ "event_types": views });
        self.cache
            .set(&key, data.clone(), self.ttl.event_types)
            .await;
        Ok(MethodOutput {
            data,
            cached: false,
        })
    }

    async fn check_availability(
        &self,
        company: CompanyId,
        p: AvailabilityParams,
    ) -> Result<MethodOutput, RpcError> {
        let days = p.days.unwrap_or(1);
        if !(1..=31).contains(&days) {
            return Err(RpcError::invalid_params("days must be 1 to 31"));
        }
        let (event_type_id, _) = self
            .event_type_of(company, p.service.as_deref(), p.event_type_id)
            .await?;
        let tenant = self.tenant(company).await?;
        let tz = tenant.profile.time_zone;
        let single_day_key = (days == 1).then(|| availability_key(event_type_id, p.date));
        if let Some(key) = &single_day_key
            && let Some(hit) = self.cache.get(key).await
        {
            metrics::counter!(m::CACHE_HITS_TOTAL, "cache" => "availability").increment(1);
            return Ok(MethodOutput {
                data: hit,
                cached: true,
            });
        }
        let slots: Vec<Slot> = tenant
            .calendar
            .slots(SlotQuery {
                event_type_id,
                from: p.date,
                to: p.date + chrono::Duration::days(i64::from(days) - 1),
                time_zone: tz,
                duration_min: None,
            })
            .await
            .map_err(|e| upstream_error(&e, ErrorCode::EventTypeNotFound))?;
        let data = json!({"event_type_id": event_type_id, "time_zone": tz.name(), "slots": slots});
        if let Some(key) = &single_day_key {
            self.cache
                .set(key, data.clone(), self.ttl.availability)
                .await;
        }
        Ok(MethodOutput {
            data,
            cached: false,
        })
    }

    async fn get_bookings(
        &self,
        company: CompanyId,
        p: GetBookingsParams,
    ) -> Result<MethodOutput, RpcError> {
        if p.take.is_some_and(|t| !(1..=250).contains(&t)) {
            return Err(RpcError::invalid_params("take must be 1 to 250"));
        }
        let tenant = self.tenant(company).await?;
        let bookings: Vec<Booking> = tenant
            .calendar
            .list_bookings(BookingQuery {
                status: p.status,
                event_type_id: p.event_type_id,
                attendee_email: p.attendee_email,
                after_start: p.after_start,
                before_end: p.before_end,
                take: p.take,
            })
            .await
            .map_err(|e| upstream_error(&e, ErrorCode::BookingCreationFailed))?;
        MethodOutput::fresh(json!({ "bookings": bookings }))
    }

    async fn create_booking(
        &self,
        company: CompanyId,
        p: CreateBookingParams,
    ) -> Result<MethodOutput, RpcError> {
        let (event_type_id, service) = self
            .event_type_of(company, p.service.as_deref(), p.event_type_id)
            .await?;
        let tenant = self.tenant(company).await?;
        let tz = tenant.profile.time_zone;
        let start: DateTime<Utc> = match (p.start, p.date, p.time) {
            (Some(start), None, None) => start.with_timezone(&Utc),
            (None, Some(date), Some(time)) => tz
                .from_local_datetime(&date.and_time(time))
                .earliest()
                .ok_or_else(|| {
                    AppError::new(
                        ErrorCode::InvalidDateFormat,
                        format!("{date} {time} does not exist in {}", tz.name()),
                    )
                })?
                .with_timezone(&Utc),
            _ => {
                return Err(RpcError::invalid_params(
                    "give either start, or date and time",
                ));
            }
        };
        if start <= self.clock.now() {
            return Err(
                AppError::new(ErrorCode::InvalidDateFormat, "start lies in the past").into(),
            );
        }
        let phone = p
            .phone
            .as_deref()
            .map(PhoneNumber::parse_default)
            .transpose()
            .map_err(|e| AppError::new(ErrorCode::InvalidPhoneNumber, e.to_string()))?;
        if phone.is_none() && p.email.is_none() {
            return Err(
                AppError::new(ErrorCode::MissingRequiredField, "give phone or email").into(),
            );
        }
        let name = p.name.trim().to_owned();
        if name.is_empty() {
            return Err(AppError::new(ErrorCode::MissingRequiredField, "name is empty").into());
        }
        let given_key = p.idempotency_key.clone();
        let key = given_key
            .clone()
            .unwrap_or_else(|| format!("gateway:{}", uuid::Uuid::new_v4()));
        let attendee = Attendee {
            name: name.clone(),
            time_zone: tz.name().to_owned(),
            email: p.email.clone(),
            phone_number: phone.as_ref().map(|p| p.to_string()),
            language: Some(tenant.profile.locale.as_str().to_owned()),
        };
        let duration_min = service.as_ref().map_or(60, |s| s.duration_min);
        let request = BookingRequest {
            event_type_id,
            start,
            attendee,
            metadata: BTreeMap::from([
                (IDEMPOTENCY_METADATA_KEY.to_owned(), key.clone()),
                ("source".to_owned(), "switchboard-gateway".to_owned()),
            ]),
            length_in_minutes: None,
        };
        let outcome = tenant
            .session
            .send(Book {
                request,
                idempotency_key: key.clone(),
                duration_min,
                look_up_first: given_key.is_some(),
            })
            .await
            .map_err(|e| RpcError::internal(e.to_string()))?
            .map_err(|e| upstream_error(&e, ErrorCode::BookingCreationFailed))?;
        let booking = outcome.booking().clone();
        let appointment_id = self
            .store
            .insert_appointment(&NewAppointment {
                company_id: company,
                branch_id: None,
                call_id: None,
                booking_uid: booking.uid.clone(),
                calcom_booking_id: booking.id,
                event_type_id,
                service_id: service.as_ref().map(|s| s.id),
                service_name: service
                    .as_ref()
                    .map_or_else(|| booking.title.clone(), |s| s.name.clone()),
                start: booking.start,
                end: booking.end,
                attendee_name: name,
                attendee_phone: phone.map(|p| p.to_string()),
                attendee_email: p.email,
                idempotency_key: key,
                source: "gateway".to_owned(),
            })
            .await
            .map_err(|e| store_error(&e))?;
        let local_date = booking.start.with_timezone(&tz).date_naive();
        self.cache
            .remove(&availability_key(event_type_id, local_date))
            .await;
        let reused = matches!(outcome, BookOutcome::Found(_));
        if !reused {
            metrics::counter!(m::APPOINTMENTS_CREATED_TOTAL, "source" => "gateway").increment(1);
        }
        MethodOutput::fresh(
            json!({"booking": booking, "appointment_id": appointment_id, "reused": reused}),
        )
    }
}

impl Supervised for CalcomServer {}

crate::guarded_actor!(CalcomServer, "calcom");

impl Handler<ServerCall> for CalcomServer {
    type Result = ResponseFuture<Result<MethodOutput, RpcError>>;

    fn handle(&mut self, msg: ServerCall, ctx: &mut Self::Context) -> Self::Result {
        guard(
            self,
            ctx,
            |this, _| {
                let ctx = Ctx {
                    store: Arc::clone(&this.store),
                    tenants: this.tenants.clone(),
                    cache: Arc::clone(&this.cache),
                    clock: Arc::clone(&this.clock),
                    ttl: this.ttl,
                };
                async move {
                    let ServerCall {
                        method,
                        params,
                        grant,
                    } = msg;
                    match method.as_str() {
                        "calcom.getEventTypes" => {
                            let p: CompanyParams = parse_params(params)?;
                            ctx.get_event_types(require_company(&grant, p.company_id)?)
                                .await
                        }
                        "calcom.checkAvailability" => {
                            let p: AvailabilityParams = parse_params(params)?;
                            let company = require_company(&grant, p.company_id)?;
                            ctx.check_availability(company, p).await
                        }
                        "calcom.getBookings" => {
                            let p: GetBookingsParams = parse_params(params)?;
                            let company = require_company(&grant, p.company_id)?;
                            ctx.get_bookings(company, p).await
                        }
                        "calcom.createBooking" => {
                            let p: CreateBookingParams = parse_params(params)?;
                            let company = require_company(&grant, p.company_id)?;
                            ctx.create_booking(company, p).await
                        }
                        other => Err(RpcError::method_not_found(other)),
                    }
                }
            },
            |m| Err(RpcError::internal(format!("calcom server failed: {m}"))),
        )
    }
}
