//! `auth.listTokens`: tokens without their secrets.

use crate::domain::ids::CompanyId;
use crate::jsonrpc::RpcError;
use crate::records::{TokenGrant, TokenInfo};
use crate::registry::{Kind, Method, Reply, Scope};
use crate::server::optional_company;
use crate::servers::company::AdminDeps;
use crate::servers::store_error;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `auth.listTokens`.
pub struct ListTokens;

/// Params of `auth.listTokens`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListTokensParams {
    /// Defaults to the token's company; the operators' token may leave it out for every
    /// token.
    pub company_id: Option<CompanyId>,
}

/// `result.data` of `auth.listTokens`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Tokens {
    /// Newest first, revoked and expired included; never a token or its digest.
    pub tokens: Vec<TokenInfo>,
}

impl Method for ListTokens {
    const NAME: &'static str = "auth.listTokens";
    const SUMMARY: &'static str = "Lists API tokens newest first: id, company, scope, name, \
        created/expires/revoked times (UTC) — never the token. A company token lists its \
        company's tokens; the operators' token every token or one company's.";
    const SCOPE: Scope = Scope::Admin;
    const KIND: Kind = Kind::Read;
    type Deps = AdminDeps;
    type Params = ListTokensParams;
    type Output = Tokens;

    async fn apply(
        p: ListTokensParams,
        grant: TokenGrant,
        deps: Arc<AdminDeps>,
    ) -> Result<Reply<Tokens>, RpcError> {
        let company = optional_company(&grant, p.company_id)?;
        let tokens = deps
            .tokens
            .list_tokens(company)
            .await
            .map_err(|e| store_error(&e))?;
        Reply::fresh(Tokens { tokens })
    }
}
