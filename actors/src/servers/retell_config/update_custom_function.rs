//! `retell.config.updateCustomFunction`: the tenant's override of one function's deployable
//! settings, validated against the JSON Schema of [`FunctionOverride`] before it is stored;
//! the next deploy uses it.

use super::RetellConfigDeps;
use crate::domain::ids::CompanyId;
use crate::functions::registry;
use crate::jsonrpc::{AppError, ErrorCode, RpcError};
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::retell::deploy::FunctionOverride;
use crate::server::require_company;
use crate::servers::store_error;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;

/// `retell.config.updateCustomFunction`.
pub struct UpdateCustomFunction;

/// Params of `retell.config.updateCustomFunction`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateParams {
    /// Defaults to the token's company; required with an admin token.
    pub company_id: Option<CompanyId>,
    /// A custom function of the registry, e.g. `check_availability`.
    #[schemars(length(min = 1, max = 64))]
    pub name: String,
    /// The override; it replaces the stored one whole. `{}` returns the function to the
    /// generated settings.
    pub settings: FunctionOverride,
}

/// `result.data` of `retell.config.updateCustomFunction`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Updated {
    /// Function name.
    pub name: String,
    /// The stored override (`{}`: none).
    pub settings: FunctionOverride,
}

impl Method for UpdateCustomFunction {
    const NAME: &'static str = "retell.config.updateCustomFunction";
    const SUMMARY: &'static str = "Stores the tenant's override of one custom function's \
        deployable settings — description, speak_during_execution, execution_message, \
        speak_after_execution, timeout_ms (1000..600000) — replacing the one stored; {} \
        removes it. Validated against its JSON Schema; an unknown function is -32602 naming \
        the known ones. Takes effect with the next deployCustomFunctions.";
    const SCOPE: Scope = Scope::Admin;
    const KIND: Kind = Kind::Write;
    type Deps = RetellConfigDeps;
    type Params = UpdateParams;
    type Output = Updated;

    async fn apply(
        p: UpdateParams,
        grant: TokenGrant,
        deps: Arc<RetellConfigDeps>,
    ) -> Result<Reply<Updated>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        let Some(function) = registry::find(&p.name) else {
            return Err(AppError::new(
                ErrorCode::SchemaValidationFailed,
                format!(
                    "no custom function {:?}; known: {}",
                    p.name,
                    registry::NAMES.join(", ")
                ),
            )
            .with_details(json!({"known": registry::NAMES}))
            .into());
        };
        deps.handle(company).await?;
        deps.config
            .set_function_override(company, function.name, &p.settings, deps.clock.now())
            .await
            .map_err(|e| store_error(&e))?;
        Reply::fresh(Updated {
            name: function.name.to_owned(),
            settings: p.settings,
        })
    }
}
