//! `retell.config.getCustomFunctions`: the tools we would deploy and what the agent's Retell
//! LLM has, function by function.

use super::{CompanyParams, RetellConfigDeps};
use crate::jsonrpc::RpcError;
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::retell::deploy::{FunctionOverride, ToolStatus};
use crate::server::require_company;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

/// `retell.config.getCustomFunctions`.
pub struct GetCustomFunctions;

/// One custom function as deployed and as Retell has it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FunctionView {
    /// Function (tool) name.
    pub name: String,
    /// `added` (Retell lacks it), `changed`, `removed` (ours, no longer served) or
    /// `unchanged`.
    pub status: ToolStatus,
    /// The fields that differ (`changed` only).
    pub fields: Vec<String>,
    /// The tool we deploy (reference/retell.md §3.3); `None` for a removed one.
    pub desired: Option<Value>,
    /// The tool in Retell's LLM; `None` when it has none by that name.
    pub retell: Option<Value>,
    /// The tenant's override (`retell.config.updateCustomFunction`), if any.
    #[serde(rename = "override")]
    pub override_: Option<FunctionOverride>,
}

/// `result.data` of `retell.config.getCustomFunctions`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CustomFunctions {
    /// The tenant's agent.
    pub agent_id: String,
    /// Its Retell LLM.
    pub llm_id: String,
    /// Our functions, in the order a deploy leaves them.
    pub functions: Vec<FunctionView>,
    /// The LLM's other tools (names, or types when unnamed), which a deploy keeps.
    pub kept_tools: Vec<String>,
}

impl Method for GetCustomFunctions {
    const NAME: &'static str = "retell.config.getCustomFunctions";
    const SUMMARY: &'static str = "The custom tools a deploy writes into the tenant agent's \
        Retell LLM (with the tenant's overrides) next to the LLM's current tools, with a \
        per-function status: added, changed (with the fields), removed or unchanged. Reads \
        Retell through the company's breaker; refused like deployCustomFunctions.";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = RetellConfigDeps;
    type Params = CompanyParams;
    type Output = CustomFunctions;

    async fn apply(
        p: CompanyParams,
        grant: TokenGrant,
        deps: Arc<RetellConfigDeps>,
    ) -> Result<Reply<CustomFunctions>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        let snapshot = deps.snapshot(company).await?;
        let (diff, _) = snapshot.compare();
        let named = |tools: &[Value], name: &str| {
            tools
                .iter()
                .find(|t| t.get("name").and_then(Value::as_str) == Some(name))
                .cloned()
        };
        let functions = diff
            .tools
            .into_iter()
            .map(|t| FunctionView {
                desired: named(&snapshot.desired.tools, &t.name),
                retell: named(&snapshot.llm.general_tools, &t.name),
                override_: snapshot.overrides.get(&t.name).cloned(),
                name: t.name,
                status: t.status,
                fields: t.fields,
            })
            .collect();
        Reply::fresh(CustomFunctions {
            agent_id: snapshot.tenant.agent_id,
            llm_id: snapshot.llm.llm_id,
            functions,
            kept_tools: diff.kept_tools,
        })
    }
}
