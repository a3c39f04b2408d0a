//! `appointments.find`: a caller's upcoming appointments by phone number.

use super::AppointmentDeps;
use crate::appointments::rules::{self, MAX_LISTED};
use crate::domain::ids::{BookingUid, CompanyId};
use crate::domain::phone::PhoneNumber;
use crate::jsonrpc::{AppError, ErrorCode, RpcError};
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::server::require_company;
use crate::servers::store_error;
use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `appointments.find`.
pub struct Find;

/// Params of `appointments.find`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindParams {
    /// Defaults to the token's company; required with an admin token.
    pub company_id: Option<CompanyId>,
    /// The attendee's phone number, E.164 (`+4915112345678`) or any common form (read in
    /// Germany).
    #[schemars(length(min = 1, max = 40))]
    pub phone: String,
}

/// One upcoming appointment.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FoundAppointment {
    /// Cal.com booking uid: the handle of `appointments.change` / `appointments.cancel`.
    pub booking_uid: BookingUid,
    /// Service name as booked.
    pub service: String,
    /// Start, UTC.
    pub start: DateTime<Utc>,
    /// End, UTC.
    pub end: DateTime<Utc>,
    /// Local day in the company's zone, `YYYY-MM-DD`.
    pub date: NaiveDate,
    /// Local start time, `HH:MM`.
    pub time: String,
    /// Attendee's name.
    pub attendee_name: String,
    /// Whether it lies beyond the company's change notice (`policy.change_notice_h`), so it
    /// may be moved or cancelled.
    pub can_modify: bool,
}

/// `result.data` of `appointments.find`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Found {
    /// Scheduled appointments of this number that have not ended, earliest first (at most 20).
    pub appointments: Vec<FoundAppointment>,
}

impl Method for Find {
    const NAME: &'static str = "appointments.find";
    const SUMMARY: &'static str = "Lists the upcoming scheduled appointments booked with a \
        phone number (E.164 or a common form), earliest first, at most 20: booking uid, \
        service, start and end (UTC), local date and time in the company's zone, attendee \
        name, and `can_modify` (more than the company's change notice ahead). An invalid \
        number is error 4003.";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = AppointmentDeps;
    type Params = FindParams;
    type Output = Found;

    async fn apply(
        p: FindParams,
        grant: TokenGrant,
        deps: Arc<AppointmentDeps>,
    ) -> Result<Reply<Found>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        let phone = PhoneNumber::parse_default(&p.phone).map_err(|e| {
            RpcError::from(AppError::new(ErrorCode::InvalidPhoneNumber, e.to_string()))
        })?;
        let profile = deps.tenant(company).await?.profile;
        let now = deps.clock.now();
        let rows = deps
            .store
            .upcoming_appointments(company, phone.as_str(), now, MAX_LISTED)
            .await
            .map_err(|e| store_error(&e))?;
        let tz = profile.time_zone;
        let notice = profile.policy.change_notice_h;
        let appointments = rows
            .into_iter()
            .map(|a| {
                let local = rules::listed(&a, now, notice, tz);
                FoundAppointment {
                    booking_uid: a.booking_uid,
                    service: a.service_name,
                    start: a.start,
                    end: a.end,
                    date: local.date,
                    time: local.time.format("%H:%M").to_string(),
                    attendee_name: a.attendee_name,
                    can_modify: local.can_modify,
                }
            })
            .collect();
        Reply::fresh(Found { appointments })
    }
}
