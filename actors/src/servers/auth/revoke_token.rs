//! `auth.revokeToken`: a token stops working.

use crate::domain::onboarding::AuditRecord;
use crate::jsonrpc::RpcError;
use crate::records::{TokenGrant, TokenInfo};
use crate::registry::{Kind, Method, Reply, Scope};
use crate::servers::company::AdminDeps;
use crate::servers::company::edit::not_found;
use crate::servers::store_error;
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::Arc;

/// `auth.revokeToken`.
pub struct RevokeToken;

/// Params of `auth.revokeToken`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeTokenParams {
    /// `id` from `auth.listTokens`.
    pub token_id: i64,
}

impl Method for RevokeToken {
    const NAME: &'static str = "auth.revokeToken";
    const SUMMARY: &'static str = "Revokes a token (`id` from auth.listTokens); revoking \
        twice keeps the first time. It stops working within `cache.lookups_ttl_s` (10 s by \
        default) on every instance. A company token revokes only its company's tokens; \
        another company's token is answered like one that does not exist (-32602 \
        `not_found`). Returns the token as listed.";
    const SCOPE: Scope = Scope::Admin;
    const KIND: Kind = Kind::Destructive;
    type Deps = AdminDeps;
    type Params = RevokeTokenParams;
    type Output = TokenInfo;

    async fn apply(
        p: RevokeTokenParams,
        grant: TokenGrant,
        deps: Arc<AdminDeps>,
    ) -> Result<Reply<TokenInfo>, RpcError> {
        let audit = AuditRecord {
            actor: grant.actor(),
            action: Self::NAME.to_owned(),
            changes: vec![format!("- token {}", p.token_id)],
        };
        let revoked = deps
            .tokens
            .revoke_token(p.token_id, grant.company_id, deps.clock.now(), &audit)
            .await
            .map_err(|e| store_error(&e))?
            .ok_or_else(|| not_found(format!("no token with id {}", p.token_id)))?;
        Reply::fresh(revoked)
    }
}
