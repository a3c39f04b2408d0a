//! `retell.config.getWebhookConfiguration`: the agent's webhook and each branch number's
//! inbound binding as Retell has them, each compared with what a deploy would set.

use super::{CompanyParams, RetellConfigDeps};
use crate::jsonrpc::RpcError;
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::retell::deploy::{self, FieldDiff, NumberStatus, Target};
use crate::server::require_company;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// `retell.config.getWebhookConfiguration`.
pub struct GetWebhookConfiguration;

/// How one setting compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    /// As a deploy would set it (Retell's default counts when it is the same).
    Ok,
    /// Set otherwise.
    Differs,
    /// Not set in Retell (a number: not in the Retell account).
    Missing,
}

/// One setting: Retell's value, ours and how they compare.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SettingCheck {
    /// Field name, e.g. `webhook_url`.
    pub field: String,
    /// Retell's value (`null`: not set).
    pub current: Value,
    /// What a deploy sets.
    pub desired: Value,
    /// How they compare.
    pub status: CheckStatus,
}

/// One branch number's inbound set-up.
#[derive(Debug, Serialize, JsonSchema)]
pub struct NumberCheck {
    /// E.164.
    pub phone_number: String,
    /// `missing` when the Retell account has no such number.
    pub status: CheckStatus,
    /// `inbound_agents` and `inbound_webhook_url` (empty for a missing number).
    pub settings: Vec<SettingCheck>,
}

/// `result.data` of `retell.config.getWebhookConfiguration`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WebhookConfiguration {
    /// The tenant's agent.
    pub agent_id: String,
    /// `webhook_url`, `webhook_events`, `webhook_timeout_ms`.
    pub agent: Vec<SettingCheck>,
    /// Each branch number.
    pub numbers: Vec<NumberCheck>,
}

impl Method for GetWebhookConfiguration {
    const NAME: &'static str = "retell.config.getWebhookConfiguration";
    const SUMMARY: &'static str = "The tenant agent's webhook URL, events and timeout (ms), and \
        each branch number's inbound agents and inbound webhook URL, as Retell has them, each \
        compared with what deployCustomFunctions sets: ok, differs or missing. Reads Retell \
        through the company's breaker. Refused without server.public_url (1004), a Retell key \
        (1001) or agent (1002).";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = RetellConfigDeps;
    type Params = CompanyParams;
    type Output = WebhookConfiguration;

    async fn apply(
        p: CompanyParams,
        grant: TokenGrant,
        deps: Arc<RetellConfigDeps>,
    ) -> Result<Reply<WebhookConfiguration>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        let public_url = deps.public_url()?;
        let tenant = deps.tenant(company).await?;
        let agent = deps.agent(&tenant).await?;
        let numbers = deps.retell_numbers(&tenant).await?;
        let branch_numbers = deps.branch_numbers(company).await?;
        let desired = deploy::desired(&Target {
            public_url: &public_url,
            locale: tenant.handle.profile.locale,
            agent_id: &tenant.agent_id,
            numbers: &branch_numbers,
            function_deadline: deps.setup.function_deadline,
            overrides: &BTreeMap::new(),
        });
        let (agent_diffs, _) = deploy::compare_webhook(&desired.webhook, &agent);
        let webhook = &desired.webhook;
        let agent_checks = vec![
            check(
                "webhook_url",
                json!(agent.webhook_url),
                json!(webhook.webhook_url),
                &agent_diffs,
            ),
            check(
                "webhook_events",
                json!(agent.webhook_events),
                json!(webhook.webhook_events),
                &agent_diffs,
            ),
            check(
                "webhook_timeout_ms",
                json!(agent.webhook_timeout_ms),
                json!(webhook.webhook_timeout_ms),
                &agent_diffs,
            ),
        ];
        let number_checks = desired
            .numbers
            .iter()
            .map(|want| {
                let (diff, _) = deploy::compare_number(want, &numbers);
                let have = numbers.iter().find(|n| n.phone_number == want.phone_number);
                let settings = match have {
                    None => Vec::new(),
                    Some(have) => vec![
                        check(
                            "inbound_agents",
                            json!(have.inbound_agents),
                            json!(want.inbound_agents),
                            &diff.fields,
                        ),
                        check(
                            "inbound_webhook_url",
                            json!(have.inbound_webhook_url),
                            json!(want.inbound_webhook_url),
                            &diff.fields,
                        ),
                    ],
                };
                NumberCheck {
                    phone_number: want.phone_number.clone(),
                    status: match diff.status {
                        NumberStatus::Ok => CheckStatus::Ok,
                        NumberStatus::Changed => CheckStatus::Differs,
                        NumberStatus::Missing => CheckStatus::Missing,
                    },
                    settings,
                }
            })
            .collect();
        Reply::fresh(WebhookConfiguration {
            agent_id: tenant.agent_id,
            agent: agent_checks,
            numbers: number_checks,
        })
    }
}

/// `field` compared: ok unless the diff names it; missing when Retell has no value.
fn check(field: &str, current: Value, desired: Value, diffs: &[FieldDiff]) -> SettingCheck {
    let differs = diffs.iter().any(|d| d.field == field);
    let status = match (differs, current.is_null()) {
        (false, _) => CheckStatus::Ok,
        (true, true) => CheckStatus::Missing,
        (true, false) => CheckStatus::Differs,
    };
    SettingCheck {
        field: field.to_owned(),
        current,
        desired,
        status,
    }
}
