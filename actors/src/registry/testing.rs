//! A method for the registry's own tests.

use super::{Kind, Method, Reply, Scope};
use crate::domain::ids::CompanyId;
use crate::jsonrpc::RpcError;
use crate::records::TokenGrant;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `test.echo`: answers the params it was given.
pub struct Echo;

/// Params of `test.echo`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EchoParams {
    /// Any company.
    pub company_id: Option<CompanyId>,
    /// 1–31.
    #[schemars(range(min = 1, max = 31))]
    pub days: Option<u32>,
}

impl Method for Echo {
    const NAME: &'static str = "test.echo";
    const SUMMARY: &'static str = "Answers its params.";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = ();
    type Params = EchoParams;
    type Output = EchoParams;

    async fn apply(
        p: EchoParams,
        _: TokenGrant,
        _: Arc<()>,
    ) -> Result<Reply<EchoParams>, RpcError> {
        Reply::fresh(p)
    }
}
