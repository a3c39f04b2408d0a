//! `company.update`: a tenant's settings, partially.

use super::AdminDeps;
use super::edit::{Changed, edit};
use crate::domain::ids::CompanyId;
use crate::domain::onboarding::{RawPolicy, RawSms};
use crate::jsonrpc::{AppError, ErrorCode, RpcError};
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::Arc;

/// `company.update`.
pub struct Update;

/// Params of `company.update`: the settings to change; what is left out stays.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateParams {
    /// Defaults to the token's company; required with the operators' token.
    pub company_id: Option<CompanyId>,
    /// Display name.
    pub name: Option<String>,
    /// Language of spoken replies: `de` or `en`.
    pub locale: Option<String>,
    /// IANA time zone, e.g. `Europe/Berlin`.
    pub time_zone: Option<String>,
    /// Retell settings.
    pub retell: Option<RetellUpdate>,
    /// Cal.com settings.
    pub calcom: Option<CalcomUpdate>,
    /// Move/cancel notice and booking horizon.
    pub policy: Option<RawPolicy>,
    /// SMS account for confirmations, replacing the section as a whole; a left-out
    /// `auth_token` keeps the stored one. `base_url` with the operators' token only.
    pub sms: Option<RawSms>,
    /// Optional settings to remove (after the ones set above are applied).
    #[serde(default)]
    #[schemars(length(max = 4))]
    pub clear: Vec<Clearable>,
}

/// An optional setting `company.update` can remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum Clearable {
    /// The tenant's Retell agent.
    #[serde(rename = "retell.agent_id")]
    RetellAgentId,
    /// The team of team event types (services then use their own team, if any).
    #[serde(rename = "calcom.team_id")]
    CalcomTeamId,
    /// The tenant's own Cal.com base URL (back to the configured one); operators' token only.
    #[serde(rename = "calcom.base_url")]
    CalcomBaseUrl,
    /// The SMS account: the tenant sends no text messages any more (its token is removed).
    #[serde(rename = "sms")]
    Sms,
}

/// `retell` of `company.update`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetellUpdate {
    /// Retell agent id, e.g. `agent_…`.
    pub agent_id: Option<String>,
}

/// `calcom` of `company.update` (keys: `company.setCredentials`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CalcomUpdate {
    /// Cal.com team id of team event types.
    pub team_id: Option<i64>,
    /// Cal.com API base URL, e.g. `https://api.cal.eu`. Operators' token only: a company
    /// token must not point the server at other hosts.
    pub base_url: Option<String>,
}

impl Method for Update {
    const NAME: &'static str = "company.update";
    const SUMMARY: &'static str = "Changes a tenant's settings: name, locale (de|en), \
        time_zone (IANA), retell.agent_id, calcom.team_id, policy (change_notice_h, \
        booking_horizon_days) and, with the operators' token only (-32002 otherwise), \
        calcom.base_url. `sms` replaces the SMS account ({account_sid, auth_token?, from, \
        base_url?}; a left-out auth_token stays; base_url operators only). Left-out settings \
        stay; `clear` removes retell.agent_id, calcom.team_id, sms or (operators only) \
        calcom.base_url. Validated as a tenant file: refusals are \
        -32602 with `error.data.details` = [{path, message}], e.g. path `time_zone`. Returns \
        the changes as recorded in the audit log (empty when nothing changed). Live calls \
        see a new locale, zone or policy within `cache.lookups_ttl_s` (10 s by default).";
    const SCOPE: Scope = Scope::Admin;
    const KIND: Kind = Kind::Write;
    type Deps = AdminDeps;
    type Params = UpdateParams;
    type Output = Changed;

    async fn apply(
        p: UpdateParams,
        grant: TokenGrant,
        deps: Arc<AdminDeps>,
    ) -> Result<Reply<Changed>, RpcError> {
        let base_url_touched = p.calcom.as_ref().is_some_and(|c| c.base_url.is_some())
            || p.clear.contains(&Clearable::CalcomBaseUrl);
        if grant.company_id.is_some() && base_url_touched {
            return Err(AppError::new(
                ErrorCode::Forbidden,
                "calcom.base_url can be set only with the operators' admin token",
            )
            .into());
        }
        if grant.company_id.is_some() && p.sms.as_ref().is_some_and(|s| s.base_url.is_some()) {
            return Err(AppError::new(
                ErrorCode::Forbidden,
                "sms.base_url can be set only with the operators' admin token",
            )
            .into());
        }
        let changed = edit(&deps, &grant, p.company_id, Self::NAME, |raw| {
            if let Some(name) = p.name {
                raw.name = name;
            }
            if let Some(locale) = p.locale {
                raw.locale = locale;
            }
            if let Some(zone) = p.time_zone {
                raw.time_zone = zone;
            }
            if let Some(agent) = p.retell.and_then(|r| r.agent_id) {
                raw.retell.agent_id = Some(agent);
            }
            if let Some(calcom) = p.calcom {
                raw.calcom.team_id = calcom.team_id.or(raw.calcom.team_id);
                raw.calcom.base_url = calcom.base_url.or(raw.calcom.base_url.take());
            }
            if let Some(policy) = p.policy {
                raw.policy.change_notice_h = policy.change_notice_h.or(raw.policy.change_notice_h);
                raw.policy.booking_horizon_days = policy
                    .booking_horizon_days
                    .or(raw.policy.booking_horizon_days);
            }
            if let Some(sms) = p.sms {
                raw.sms = Some(sms);
            }
            for field in p.clear {
                match field {
                    Clearable::RetellAgentId => raw.retell.agent_id = None,
                    Clearable::CalcomTeamId => raw.calcom.team_id = None,
                    Clearable::CalcomBaseUrl => raw.calcom.base_url = None,
                    Clearable::Sms => raw.sms = None,
                }
            }
            Ok(())
        })
        .await?;
        Reply::fresh(changed)
    }
}
