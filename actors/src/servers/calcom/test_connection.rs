//! `calcom.testConnection`: whether the company's Cal.com key works, whose it is, and how
//! long Cal.com took to say so.

use super::CalcomDeps;
use super::get_event_types::CompanyParams;
use crate::jsonrpc::{AppError, ErrorCode, RpcError};
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::server::require_company;
use crate::servers::upstream_error;
use schemars::JsonSchema;
use secrecy::ExposeSecret;
use serde::Serialize;
use std::sync::Arc;
use tokio::time::Instant;

/// `calcom.testConnection`.
pub struct TestConnection;

/// `result.data` of `calcom.testConnection`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Connection {
    /// The owner of the key (`GET /v2/me`).
    pub user: CalcomUser,
    /// The tenant's team, when `calcom.team_id` is set.
    pub team: Option<TeamCheck>,
    /// `cal-api-version` the check was sent with.
    pub api_version: String,
    /// Time `GET /v2/me` took, milliseconds.
    pub latency_ms: u64,
    /// The tenant's own Cal.com base URL; `None`: the service's.
    pub base_url: Option<String>,
}

/// A Cal.com user as `calcom.testConnection` reports it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CalcomUser {
    /// Cal.com user id.
    pub id: i64,
    /// Username.
    pub username: String,
    /// Email.
    pub email: String,
    /// Display name, when set.
    pub name: Option<String>,
    /// The user's IANA zone.
    pub time_zone: String,
}

/// The team of the tenant's services as Cal.com shows it to the key.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TeamCheck {
    /// Team id (`calcom.team_id`).
    pub id: i64,
    /// How many event types the team has (`GET /v2/teams/{id}/event-types`).
    pub event_types: usize,
}

impl Method for TestConnection {
    const NAME: &'static str = "calcom.testConnection";
    const SUMMARY: &'static str = "Checks the company's Cal.com API key: the Cal.com user it \
        belongs to, the team when one is set, the API version used and the latency in ms. A \
        refused key is error 2001, an unreachable Cal.com -32004. Bypasses the circuit \
        breaker, so a failing check does not affect live calls.";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = CalcomDeps;
    type Params = CompanyParams;
    type Output = Connection;

    async fn apply(
        p: CompanyParams,
        grant: TokenGrant,
        deps: Arc<CalcomDeps>,
    ) -> Result<Reply<Connection>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        let tenant = deps.tenant(company).await?;
        let key = &tenant.profile.calcom_api_key;
        if key.expose_secret().is_empty() {
            return Err(AppError::new(
                ErrorCode::InvalidCalcomKey,
                format!("company {company} has no Cal.com API key"),
            )
            .into());
        }
        let started = Instant::now();
        let me = tenant
            .api
            .me(key)
            .await
            .map_err(|e| upstream_error(&e, ErrorCode::UpstreamUnavailable))?;
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let team = match deps.team_id(company).await? {
            Some(id) => {
                let types = tenant
                    .api
                    .team_event_types(key, id)
                    .await
                    .map_err(|e| upstream_error(&e, ErrorCode::UpstreamUnavailable))?;
                Some(TeamCheck {
                    id,
                    event_types: types.len(),
                })
            }
            None => None,
        };
        Reply::fresh(Connection {
            user: CalcomUser {
                id: me.id,
                username: me.username,
                email: me.email,
                name: me.name,
                time_zone: me.time_zone,
            },
            team,
            api_version: me.api_version,
            latency_ms,
            base_url: tenant.profile.calcom_base_url.clone(),
        })
    }
}
