//! `database.getFailedAppointments`: dead-lettered bookings with the reason and what the
//! caller said that led there.

use super::DatabaseDeps;
use crate::domain::ids::CompanyId;
use crate::jsonrpc::RpcError;
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::reports::FailedAppointment;
use crate::server::optional_company;
use crate::servers::store_error;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `database.getFailedAppointments`.
pub struct GetFailedAppointments;

/// Most failures one answer lists.
pub const MAX_FAILED: u32 = 200;

/// Params of `database.getFailedAppointments`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FailedAppointmentsParams {
    /// Company; defaults to the token's company. Admin tokens may omit it for all companies.
    pub company_id: Option<CompanyId>,
    /// At most this many, 1–200; default 50.
    #[schemars(range(min = 1, max = MAX_FAILED))]
    pub limit: Option<u32>,
}

/// `result.data` of `database.getFailedAppointments`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct FailedAppointments {
    /// The failures, newest first.
    pub failures: Vec<FailedAppointment>,
}

impl Method for GetFailedAppointments {
    const NAME: &'static str = "database.getFailedAppointments";
    const SUMMARY: &'static str = "Lists booking jobs that became dead letters, newest failure \
        first (at most `limit`, 1–200, default 50): the job id (queue.retryJob retries it), \
        attempts and last error, what was asked for (service, start in UTC, attendee name), \
        the call it came from with the appointment data collected during it, and the end of \
        the call's transcript (at most 600 characters) — what the caller said that led there. \
        Times are UTC (RFC 3339).";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = DatabaseDeps;
    type Params = FailedAppointmentsParams;
    type Output = FailedAppointments;

    async fn apply(
        p: FailedAppointmentsParams,
        grant: TokenGrant,
        deps: Arc<DatabaseDeps>,
    ) -> Result<Reply<FailedAppointments>, RpcError> {
        let company = optional_company(&grant, p.company_id)?;
        let failures = deps
            .reports
            .failed_appointments(company, p.limit.unwrap_or(50))
            .await
            .map_err(|e| store_error(&e))?;
        Reply::fresh(FailedAppointments { failures })
    }
}
