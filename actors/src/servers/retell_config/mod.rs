//! `RetellConfigServer`: the `retell.config.*` JSON-RPC methods — the tenant's Retell agent
//! set up from switchboard: its webhook (`getWebhookConfiguration`, `updateWebhookSettings`),
//! the custom functions deployed as the agent LLM's tools (`getCustomFunctions`,
//! `updateCustomFunction`, `deployCustomFunctions`) and a check that Retell can reach us
//! (`testWebhook`). The desired state, the diff and the plan are
//! [`crate::retell::deploy`]'s; here they are read from Retell and written through the
//! company's Retell breaker. One file per method, listed once in `method_list!` below.

use crate::domain::booking::UpstreamError;
use crate::domain::ids::CompanyId;
use crate::domain::onboarding::TenantRef;
use crate::jsonrpc::{AppError, ErrorCode, RpcError};
use crate::ports::{Clock, RetellConfigStore, Store, TenantAdminStore, WebhookProbe};
use crate::registry::{MethodSpec, MethodTable};
use crate::retell::api::{
    Agent, MAX_PAGE_LIMIT, PageRequest, ResponseEngine, RetellLlm, RetellPhoneNumber,
};
use crate::retell::deploy::{self, Desired, FunctionOverride, Target};
use crate::servers::{store_error, tenant_error};
use crate::supervision::RestartBudget;
use crate::system::RetellSetup;
use crate::tenant::{GetTenant, TenantDirectory, TenantHandle};
use actix::prelude::*;
use schemars::JsonSchema;
use secrecy::ExposeSecret;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What the `retell.config.*` methods need.
pub struct RetellConfigDeps {
    /// Per-company Retell breakers and profiles (key, agent, locale).
    pub tenants: Addr<TenantDirectory>,
    /// The tenants as declared: their branch numbers.
    pub admin: Arc<dyn TenantAdminStore>,
    /// The per-company function overrides.
    pub config: Arc<dyn RetellConfigStore>,
    /// "Now", for stored rows and signatures.
    pub clock: Arc<dyn Clock>,
    /// Our public URL and function deadline.
    pub setup: RetellSetup,
    /// Sends `testWebhook`'s requests to our own public URL.
    pub probe: Arc<dyn WebhookProbe>,
}

pub mod deploy_custom_functions;
pub mod get_custom_functions;
pub mod get_webhook_configuration;
pub mod test_webhook;
pub mod update_custom_function;
pub mod update_webhook_settings;

#[cfg(test)]
mod tests;

crate::method_list!(RetellConfigDeps:
    get_webhook_configuration::GetWebhookConfiguration,
    update_webhook_settings::UpdateWebhookSettings,
    get_custom_functions::GetCustomFunctions,
    update_custom_function::UpdateCustomFunction,
    deploy_custom_functions::DeployCustomFunctions,
    test_webhook::TestWebhook,
);

/// The `retell.config` server actor.
pub struct RetellConfigServer {
    methods: MethodTable<RetellConfigDeps>,
    deps: Arc<RetellConfigDeps>,
    budget: RestartBudget,
}

impl RetellConfigServer {
    /// A server writing through `tenants`' Retell breakers.
    pub fn new(
        store: Arc<dyn Store>,
        tenants: Addr<TenantDirectory>,
        clock: Arc<dyn Clock>,
        setup: RetellSetup,
        probe: Arc<dyn WebhookProbe>,
        budget: RestartBudget,
    ) -> Self {
        let deps = RetellConfigDeps {
            admin: Arc::clone(&store) as Arc<dyn TenantAdminStore>,
            config: store as Arc<dyn RetellConfigStore>,
            tenants,
            clock,
            setup,
            probe,
        };
        Self::from_deps(deps, budget)
    }

    /// A server on `deps` as given (tests give narrower stores than a whole [`Store`]).
    pub fn from_deps(deps: RetellConfigDeps, budget: RestartBudget) -> Self {
        Self {
            methods: list().compile(),
            deps: Arc::new(deps),
            budget,
        }
    }

    /// The JSON-RPC methods of this server.
    pub fn methods() -> Vec<MethodSpec> {
        list().specs()
    }
}

impl Actor for RetellConfigServer {
    type Context = Context<Self>;
}

impl Supervised for RetellConfigServer {}

crate::guarded_actor!(RetellConfigServer, "retell.config");
crate::method_server!(RetellConfigServer);

/// Params of the methods that only name the company.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompanyParams {
    /// Defaults to the token's company; required with an admin token.
    pub company_id: Option<CompanyId>,
}

/// Most pages of numbers read (of [`MAX_PAGE_LIMIT`] each): bounds the memory a huge account
/// could take.
const MAX_NUMBER_PAGES: usize = 10;

/// Maps a Retell failure as every `retell.*` method does
/// ([`retell_error`](crate::servers::retell::retell_error): 1001 refused key, `not_found`,
/// -32004 with `retry_after` when Retell or its circuit is down), except that Retell refusing
/// what the set-up writes is 1004 (the registration failed), not a fault of the caller's
/// params.
pub fn retell_error(e: &UpstreamError, not_found: ErrorCode) -> RpcError {
    match e {
        UpstreamError::Rejected { .. }
        | UpstreamError::SlotTaken { .. }
        | UpstreamError::SlotReserved { .. } => {
            AppError::new(ErrorCode::WebhookRegistrationFailed, e.to_string()).into()
        }
        _ => crate::servers::retell::retell_error(e, not_found),
    }
}

/// A tenant ready for the Retell set-up: its handles and its agent id.
pub struct Tenant {
    /// Profile and Retell breaker.
    pub handle: TenantHandle,
    /// `retell.agent_id`.
    pub agent_id: String,
}

/// What Retell has for a tenant and what we want it to have.
pub struct Snapshot {
    /// The tenant.
    pub tenant: Tenant,
    /// The agent, latest version.
    pub agent: Agent,
    /// The agent's LLM.
    pub llm: RetellLlm,
    /// The account's numbers.
    pub numbers: Vec<RetellPhoneNumber>,
    /// Our public URL.
    pub public_url: String,
    /// The desired state.
    pub desired: Desired,
    /// The tenant's overrides by function name.
    pub overrides: BTreeMap<String, FunctionOverride>,
}

impl RetellConfigDeps {
    /// `server.public_url`, or 1004 naming the setting.
    pub fn public_url(&self) -> Result<String, RpcError> {
        self.setup.public_url.clone().ok_or_else(|| {
            AppError::new(
                ErrorCode::WebhookRegistrationFailed,
                "server.public_url is not configured (set SWITCHBOARD__SERVER__PUBLIC_URL to \
                 the https URL Retell reaches this service at)",
            )
            .into()
        })
    }

    /// The company's handles; 3001 for an unknown company.
    pub async fn handle(&self, company: CompanyId) -> Result<TenantHandle, RpcError> {
        self.tenants
            .send(GetTenant(company))
            .await
            .map_err(|e| RpcError::internal(e.to_string()))?
            .map_err(|e| tenant_error(&e))
    }

    /// The company's handles, refusing a company without a Retell key (1001) or agent (1002).
    pub async fn tenant(&self, company: CompanyId) -> Result<Tenant, RpcError> {
        let handle = self.handle(company).await?;
        if handle.profile.retell_api_key.expose_secret().is_empty() {
            return Err(AppError::new(
                ErrorCode::InvalidRetellKey,
                format!("company {company} has no Retell API key (retell.api_key)"),
            )
            .into());
        }
        let Some(agent_id) = handle.profile.retell_agent_id.clone() else {
            return Err(AppError::new(
                ErrorCode::AgentNotFound,
                format!("company {company} has no Retell agent (retell.agent_id)"),
            )
            .into());
        };
        Ok(Tenant { handle, agent_id })
    }

    /// The company's branch numbers (E.164), in the order declared.
    pub async fn branch_numbers(&self, company: CompanyId) -> Result<Vec<String>, RpcError> {
        let state = self
            .admin
            .tenant(&TenantRef::Id(company))
            .await
            .map_err(|e| store_error(&e))?
            .ok_or_else(|| {
                RpcError::from(AppError::new(
                    ErrorCode::CompanyNotFound,
                    format!("company {company} not found"),
                ))
            })?;
        Ok(state
            .spec
            .branches
            .iter()
            .flat_map(|b| b.phone_numbers.iter().map(|n| n.as_str().to_owned()))
            .collect())
    }

    /// The company's overrides.
    pub async fn overrides(
        &self,
        company: CompanyId,
    ) -> Result<BTreeMap<String, FunctionOverride>, RpcError> {
        self.config
            .function_overrides(company)
            .await
            .map_err(|e| store_error(&e))
    }

    /// Every number of the Retell account (at most [`MAX_NUMBER_PAGES`] pages).
    pub async fn retell_numbers(
        &self,
        tenant: &Tenant,
    ) -> Result<Vec<RetellPhoneNumber>, RpcError> {
        let mut numbers = Vec::new();
        let mut page = PageRequest::first(MAX_PAGE_LIMIT);
        for _ in 0..MAX_NUMBER_PAGES {
            let got = tenant
                .handle
                .retell
                .list_phone_numbers(page.clone())
                .await
                .map_err(|e| retell_error(&e, ErrorCode::PhoneNumberNotConfigured))?;
            numbers.extend(got.items);
            match got.next {
                Some(next) => page.pagination_key = Some(next),
                None => break,
            }
        }
        Ok(numbers)
    }

    /// The tenant's agent (latest version).
    pub async fn agent(&self, tenant: &Tenant) -> Result<Agent, RpcError> {
        tenant
            .handle
            .retell
            .get_agent(&tenant.agent_id, None)
            .await
            .map_err(|e| retell_error(&e, ErrorCode::AgentNotFound))
    }

    /// Everything a comparison needs: refuses before reading Retell when the public URL,
    /// the key or the agent is missing, and when the agent does not answer with a Retell LLM.
    pub async fn snapshot(&self, company: CompanyId) -> Result<Snapshot, RpcError> {
        let public_url = self.public_url()?;
        let tenant = self.tenant(company).await?;
        let agent = self.agent(&tenant).await?;
        let ResponseEngine::RetellLlm { llm_id, .. } = &agent.response_engine else {
            return Err(AppError::new(
                ErrorCode::WebhookRegistrationFailed,
                format!(
                    "agent {} does not answer with a Retell LLM: custom functions are deployed \
                     as a Retell LLM's general_tools",
                    tenant.agent_id
                ),
            )
            .into());
        };
        let llm = tenant
            .handle
            .retell
            .get_llm(llm_id, None)
            .await
            .map_err(|e| retell_error(&e, ErrorCode::AgentNotFound))?;
        let numbers = self.retell_numbers(&tenant).await?;
        let branch_numbers = self.branch_numbers(company).await?;
        let overrides = self.overrides(company).await?;
        let desired = deploy::desired(&Target {
            public_url: &public_url,
            locale: tenant.handle.profile.locale,
            agent_id: &tenant.agent_id,
            numbers: &branch_numbers,
            function_deadline: self.setup.function_deadline,
            overrides: &overrides,
        });
        Ok(Snapshot {
            tenant,
            agent,
            llm,
            numbers,
            public_url,
            desired,
            overrides,
        })
    }
}

impl Snapshot {
    /// The diff and plan of this snapshot.
    pub fn compare(&self) -> (deploy::Diff, deploy::Plan) {
        deploy::compare(
            &self.desired,
            &deploy::Current {
                llm: &self.llm,
                agent: &self.agent,
                numbers: &self.numbers,
            },
            &self.public_url,
        )
    }
}
