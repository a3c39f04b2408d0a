//! `retell.setPhoneNumberAgentVersion`: routes one of the company's branch numbers to a given
//! version of the company's agent.

use super::sync_phone_numbers::{bound_to, retell_numbers};
use super::{RetellDeps, agent_of, retell_error};
use crate::domain::ids::CompanyId;
use crate::jsonrpc::{AppError, ErrorCode, RpcError};
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::retell::api::{AgentBinding, AgentVersionRef, PhoneNumberUpdate, RetellPhoneNumber};
use crate::server::require_company;
use crate::servers::store_error;
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::Arc;

/// `retell.setPhoneNumberAgentVersion`.
pub struct SetPhoneNumberAgentVersion;

/// Params of `retell.setPhoneNumberAgentVersion`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetVersionParams {
    /// Defaults to the token's company; required with an admin token.
    pub company_id: Option<CompanyId>,
    /// One of the company's branch numbers, E.164.
    #[schemars(regex(pattern = r"^\+[1-9][0-9]{1,14}$"))]
    pub phone_number: String,
    /// The version of the company's agent that answers the number's inbound calls.
    #[schemars(range(min = 0))]
    pub agent_version: i64,
}

/// 1003 for a number the method may not change.
fn not_configured(message: String) -> RpcError {
    AppError::new(ErrorCode::PhoneNumberNotConfigured, message).into()
}

impl Method for SetPhoneNumberAgentVersion {
    const NAME: &'static str = "retell.setPhoneNumberAgentVersion";
    const SUMMARY: &'static str = "Routes the inbound calls of one of the company's branch \
        numbers to `agent_version` of the company's Retell agent (`PATCH \
        /update-phone-number`, `inbound_agents` = that one agent version, weight 1). The \
        number must be a branch number of the company and already bound to its agent in \
        Retell (the deploy binds it), else 1003; a version Retell does not have is 1002. \
        Sent once, never retried. Answers the number as Retell holds it now.";
    const SCOPE: Scope = Scope::Admin;
    const KIND: Kind = Kind::Write;
    type Deps = RetellDeps;
    type Params = SetVersionParams;
    type Output = RetellPhoneNumber;

    async fn apply(
        p: SetVersionParams,
        grant: TokenGrant,
        deps: Arc<RetellDeps>,
    ) -> Result<Reply<RetellPhoneNumber>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        let tenant = deps.tenant(company).await?;
        let agent = agent_of(&tenant)?;
        // Checked in our records first: another tenant's number is refused before Retell
        // is asked anything about it.
        let ours = deps
            .records
            .branch_numbers(company)
            .await
            .map_err(|e| store_error(&e))?;
        if !ours.iter().any(|n| n.phone_number == p.phone_number) {
            return Err(not_configured(format!(
                "{} is not a branch number of company {company}",
                p.phone_number
            )));
        }
        let (numbers, _, _) = retell_numbers(&tenant.retell).await?;
        let Some(number) = numbers.iter().find(|n| n.phone_number == p.phone_number) else {
            return Err(not_configured(format!(
                "the Retell account of company {company} has no number {}",
                p.phone_number
            )));
        };
        if !bound_to(number, &agent) {
            return Err(not_configured(format!(
                "{} does not route to agent {agent} in Retell: bind it with \
                 retell.config.deployCustomFunctions first",
                p.phone_number
            )));
        }
        tenant
            .retell
            .get_agent(&agent, Some(p.agent_version))
            .await
            .map_err(|e| retell_error(&e, ErrorCode::AgentNotFound))?;
        let update = PhoneNumberUpdate {
            inbound_agents: Some(vec![AgentBinding {
                agent_id: agent,
                agent_version: Some(AgentVersionRef::Number(p.agent_version)),
                weight: 1.0,
            }]),
            inbound_webhook_url: None,
        };
        let number = tenant
            .retell
            .update_phone_number(&p.phone_number, update)
            .await
            .map_err(|e| retell_error(&e, ErrorCode::PhoneNumberNotConfigured))?;
        Reply::fresh(number)
    }
}
