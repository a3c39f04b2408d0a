//! `AppointmentServer`: the `appointments.*` JSON-RPC methods for staff tools — a caller's
//! upcoming appointments by phone, and moving or cancelling one under the same rules as by
//! phone (the company's change notice, Cal.com through the tenant session, the outbox when
//! Cal.com cannot answer in time). Admin tokens get no exception from the notice rule: staff
//! who must change a booking inside it use `calcom.updateBooking` / `calcom.cancelBooking`.
//! One file per method, listed once in `method_list!` below.

use crate::appointments::ops::{Changed, OpDeps, OpError};
use crate::appointments::rules;
use crate::domain::booking::Booking;
use crate::domain::ids::{BookingUid, CompanyId};
use crate::jsonrpc::{AppError, ErrorCode, RpcError};
use crate::ports::{AppointmentStore, Cache, Clock, Store};
use crate::records::{AppointmentRecord, AppointmentStatus};
use crate::registry::{MethodSpec, MethodTable};
use crate::servers::{store_error, tenant_error, upstream_error};
use crate::supervision::RestartBudget;
use crate::tenant::{GetTenant, TenantDirectory, TenantHandle};
use actix::prelude::*;
use chrono::{DateTime, FixedOffset, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

pub mod cancel;
pub mod change;
pub mod find;

crate::method_list!(AppointmentDeps:
    find::Find,
    change::Change,
    cancel::CancelAppointment,
);

/// What the `appointments.*` methods need.
pub struct AppointmentDeps {
    /// Stored appointments and the outbox.
    pub store: Arc<dyn AppointmentStore>,
    /// Per-company booking sessions.
    pub tenants: Addr<TenantDirectory>,
    /// Cached free slots, dropped after every change.
    pub cache: Arc<dyn Cache>,
    /// "Now": the notice rule and the past check.
    pub clock: Arc<dyn Clock>,
    /// Longest wait for Cal.com before a change goes to the outbox.
    pub calendar_timeout: Duration,
}

impl AppointmentDeps {
    async fn tenant(&self, company: CompanyId) -> Result<TenantHandle, RpcError> {
        tenant_handle(&self.tenants, company).await
    }

    fn op(&self) -> OpDeps<'_> {
        OpDeps {
            store: self.store.as_ref(),
            cache: self.cache.as_ref(),
            clock: self.clock.as_ref(),
        }
    }
}

/// The `appointments` server actor.
pub struct AppointmentServer {
    methods: MethodTable<AppointmentDeps>,
    deps: Arc<AppointmentDeps>,
    budget: RestartBudget,
}

impl AppointmentServer {
    /// A server over `store`, changing bookings through `tenants`' sessions.
    pub fn new(
        store: Arc<dyn Store>,
        tenants: Addr<TenantDirectory>,
        cache: Arc<dyn Cache>,
        clock: Arc<dyn Clock>,
        calendar_timeout: Duration,
        budget: RestartBudget,
    ) -> Self {
        Self {
            methods: list().compile(),
            deps: Arc::new(AppointmentDeps {
                store,
                tenants,
                cache,
                clock,
                calendar_timeout,
            }),
            budget,
        }
    }

    /// The JSON-RPC methods of this server.
    pub fn methods() -> Vec<MethodSpec> {
        list().specs()
    }
}

impl Actor for AppointmentServer {
    type Context = Context<Self>;
}

impl Supervised for AppointmentServer {}

crate::guarded_actor!(AppointmentServer, "appointments");
crate::method_server!(AppointmentServer);

/// The company's handles.
pub(crate) async fn tenant_handle(
    tenants: &Addr<TenantDirectory>,
    company: CompanyId,
) -> Result<TenantHandle, RpcError> {
    tenants
        .send(GetTenant(company))
        .await
        .map_err(|e| RpcError::internal(e.to_string()))?
        .map_err(|e| tenant_error(&e))
}

/// -32602 with its own `data.type`, so clients can tell the refusal from bad params.
fn refused(kind: &str, details: String) -> RpcError {
    RpcError {
        data: Some(json!({ "type": kind, "details": details })),
        ..RpcError::invalid_params("")
    }
}

/// -32602 `not_found`: no appointment `uid` for the company (a booking of another company
/// is answered the same).
pub(crate) fn not_found(uid: &BookingUid) -> RpcError {
    refused(
        "not_found",
        format!("no appointment with booking uid {uid}"),
    )
}

/// The stored appointment `uid` of `company`, if it may still be moved or cancelled: it is
/// `scheduled` and starts more than `notice_h` hours from now.
///
/// # Errors
/// -32602 `not_found`, `not_scheduled` (already moved or cancelled) or `change_notice`; 3004.
async fn changeable(
    deps: &AppointmentDeps,
    company: CompanyId,
    uid: &BookingUid,
    notice_h: u32,
) -> Result<AppointmentRecord, RpcError> {
    let row = deps
        .store
        .appointment(company, uid)
        .await
        .map_err(|e| store_error(&e))?
        .ok_or_else(|| not_found(uid))?;
    if row.status != AppointmentStatus::Scheduled {
        return Err(refused(
            "not_scheduled",
            format!("appointment {uid} is {}", row.status.as_str()),
        ));
    }
    if !rules::can_modify(row.start, deps.clock.now(), notice_h) {
        return Err(refused(
            "change_notice",
            format!("appointment {uid} starts within the company's change notice of {notice_h} h"),
        ));
    }
    Ok(row)
}

/// A new start given as RFC 3339 with offset, in UTC; it must lie in the future.
///
/// # Errors
/// 4002 for a start that is not in the future.
pub(crate) fn future_start(
    start: DateTime<FixedOffset>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, RpcError> {
    let start = start.with_timezone(&Utc);
    if start <= now {
        return Err(AppError::new(ErrorCode::InvalidDateFormat, "start lies in the past").into());
    }
    Ok(start)
}

/// `result.data` of a move or cancellation.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ChangeResult {
    /// `done` when Cal.com confirmed it, `queued` when it is an outbox job (Cal.com did not
    /// answer in time); a queued change is done by the outbox and visible in `queue.*`.
    pub status: String,
    /// The new booking (move) or the cancelled one, as Cal.com answered; `None` when queued.
    pub booking: Option<Booking>,
    /// The outbox job, when queued.
    pub job_id: Option<i64>,
    /// Whether the attendee gets (or, when queued, will get) an SMS confirmation.
    pub sms: bool,
}

impl ChangeResult {
    /// From the operation's outcome.
    pub(crate) fn of(changed: Changed) -> Self {
        match changed {
            Changed::Done { booking, sms } => Self {
                status: "done".to_owned(),
                booking: Some(booking),
                job_id: None,
                sms,
            },
            Changed::Queued { job_id, sms } => Self {
                status: "queued".to_owned(),
                booking: None,
                job_id: Some(job_id),
                sms,
            },
        }
    }
}

/// Maps an operation's failure: 2003 for a taken slot, -32004 when Cal.com is unavailable,
/// `fallback` for other refusals.
pub(crate) fn op_error(e: &OpError, fallback: ErrorCode) -> RpcError {
    match e {
        OpError::Upstream(e) => upstream_error(e, fallback),
        OpError::Session(m) => RpcError::internal(m.clone()),
        OpError::Store(e) => store_error(e),
    }
}
