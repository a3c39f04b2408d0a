//! `retell.config.deployCustomFunctions`: writes the generated set-up into the tenant's
//! agent — the LLM's custom tools, then the agent's webhook, then the branch numbers — or,
//! with `dry_run`, only shows the diff. Deploying twice changes nothing the second time.

use super::RetellConfigDeps;
use crate::domain::ids::CompanyId;
use crate::jsonrpc::{ErrorCode, RpcError};
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::retell::api::{AgentUpdate, LlmUpdate, PhoneNumberUpdate};
use crate::retell::deploy::{Diff, Plan};
use crate::server::require_company;
use crate::tenant::TenantHandle;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::Arc;

/// `retell.config.deployCustomFunctions`.
pub struct DeployCustomFunctions;

/// Params of `retell.config.deployCustomFunctions`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeployParams {
    /// Defaults to the token's company; required with an admin token.
    pub company_id: Option<CompanyId>,
    /// Only compare and answer the diff; write nothing. Default false.
    #[serde(default)]
    pub dry_run: bool,
}

/// `result.data` of `retell.config.deployCustomFunctions`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DeployReport {
    /// The tenant's agent.
    pub agent_id: String,
    /// Its Retell LLM.
    pub llm_id: String,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// Whether anything was written (false for a dry run and when nothing differed).
    pub applied: bool,
    /// What differed before this call (and, unless a dry run, was written).
    pub diff: Diff,
    /// The updates written, in order: `llm`, `agent`, `number +49…`.
    pub steps: Vec<String>,
}

impl Method for DeployCustomFunctions {
    const NAME: &'static str = "retell.config.deployCustomFunctions";
    const SUMMARY: &'static str = "Generates the tenant agent's Retell set-up — one custom tool \
        per custom function at server.public_url with the registry's JSON Schema, the tool \
        descriptions and waiting lines in the tenant's language, timeouts from our deadline; \
        the agent's webhook URL, events and timeout; each branch number bound to the agent \
        with our inbound webhook — and compares it with Retell's (tools added, changed with \
        their fields, removed, unchanged; other tools are kept). Writes the differences \
        through the company's Retell breaker (LLM, then agent, then numbers) unless dry_run. \
        A failure part-way is an error whose details list the steps applied and not applied. \
        Branch numbers Retell does not have are reported, never created. Refused without \
        server.public_url (1004), a Retell key (1001) or agent (1002), or when the agent has \
        no Retell LLM (1004).";
    const SCOPE: Scope = Scope::Admin;
    const KIND: Kind = Kind::Write;
    type Deps = RetellConfigDeps;
    type Params = DeployParams;
    type Output = DeployReport;

    async fn apply(
        p: DeployParams,
        grant: TokenGrant,
        deps: Arc<RetellConfigDeps>,
    ) -> Result<Reply<DeployReport>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        let snapshot = deps.snapshot(company).await?;
        let (diff, plan) = snapshot.compare();
        let mut report = DeployReport {
            agent_id: snapshot.tenant.agent_id.clone(),
            llm_id: snapshot.llm.llm_id.clone(),
            dry_run: p.dry_run,
            applied: false,
            diff,
            steps: Vec::new(),
        };
        if p.dry_run || plan.is_empty() {
            return Reply::fresh(report);
        }
        report.steps = write(&snapshot.tenant.handle, &report, plan).await?;
        report.applied = true;
        tracing::info!(%company, agent_id = %report.agent_id, steps = ?report.steps, "Retell set-up deployed");
        Reply::fresh(report)
    }
}

/// One update of a plan.
enum Step {
    Llm(LlmUpdate),
    Agent(AgentUpdate),
    Number(String, PhoneNumberUpdate),
}

impl Step {
    fn label(&self) -> String {
        match self {
            Step::Llm(_) => "llm".into(),
            Step::Agent(_) => "agent".into(),
            Step::Number(n, _) => format!("number {n}"),
        }
    }
}

/// Applies `plan` in order (each update once: the breaker does not repeat writes); on a
/// failure, an error whose details list the steps applied, the one that failed and the ones
/// not tried.
async fn write(
    tenant: &TenantHandle,
    report: &DeployReport,
    plan: Plan,
) -> Result<Vec<String>, RpcError> {
    let mut steps: Vec<Step> = Vec::new();
    steps.extend(plan.llm.map(Step::Llm));
    steps.extend(plan.agent.map(Step::Agent));
    steps.extend(plan.numbers.into_iter().map(|(n, u)| Step::Number(n, u)));
    let labels: Vec<String> = steps.iter().map(Step::label).collect();
    for (i, step) in steps.into_iter().enumerate() {
        let retell = &tenant.retell;
        let result = match step {
            Step::Llm(u) => retell.update_llm(&report.llm_id, u).await.map(drop),
            Step::Agent(u) => retell.update_agent(&report.agent_id, u).await.map(drop),
            Step::Number(n, u) => retell.update_phone_number(&n, u).await.map(drop),
        };
        if let Err(e) = result {
            // The cause's code stays (e.g. -32004 with retry_after when the circuit is open).
            let mut err = super::retell_error(&e, ErrorCode::WebhookRegistrationFailed);
            err.message = format!("deploy stopped at {}: {}", labels[i], err.message);
            if let Some(Value::Object(data)) = &mut err.data {
                data.insert(
                    "details".into(),
                    json!({
                        "applied": labels[..i],
                        "failed": labels[i],
                        "not_applied": labels[i + 1..],
                    }),
                );
            }
            return Err(err);
        }
    }
    Ok(labels)
}
