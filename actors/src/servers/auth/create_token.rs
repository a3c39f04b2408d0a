//! `auth.createToken`: a new API token, shown once.

use crate::domain::ids::CompanyId;
use crate::domain::onboarding::AuditRecord;
use crate::jsonrpc::{AppError, ErrorCode, RpcError};
use crate::ports::StoreError;
use crate::records::{NewToken, TokenGrant, TokenInfo, TokenKind, TokenScope};
use crate::registry::{Kind, Method, Reply, Scope};
use crate::server::forbidden;
use crate::servers::company::AdminDeps;
use crate::servers::store_error;
use schemars::JsonSchema;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Longest lifetime of a token that expires, days (ten years).
pub const MAX_EXPIRES_IN_DAYS: u32 = 3650;

/// `auth.createToken`.
pub struct CreateToken;

/// Params of `auth.createToken`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenParams {
    /// Its company; defaults to the token's company. The operators' token may leave it out
    /// for a token of every company (or must, for `metrics`).
    pub company_id: Option<CompanyId>,
    /// `read`, `write`, `admin` or `metrics` (only `GET /api/metrics` and the detailed
    /// health; no company).
    pub scope: TokenKind,
    /// What it is for, shown in listings and the audit log.
    #[schemars(length(min = 1, max = 100))]
    pub name: String,
    /// Days until it stops working, 1–3650; never when left out.
    #[schemars(range(min = 1, max = MAX_EXPIRES_IN_DAYS))]
    pub expires_in_days: Option<u32>,
}

/// `result.data` of `auth.createToken`.
#[derive(Serialize, JsonSchema)]
pub struct CreatedToken {
    /// The token: send it as `Authorization: Bearer <token>`. Shown only this once; only its
    /// SHA-256 is stored.
    pub token: String,
    /// The token as `auth.listTokens` lists it.
    pub info: TokenInfo,
}

impl Method for CreateToken {
    const NAME: &'static str = "auth.createToken";
    const SUMMARY: &'static str = "Creates an API token (scope read | write | admin | \
        metrics, a name, optionally expiring in 1–3650 days) and returns it once — only its \
        SHA-256 is kept. A company admin token creates tokens only for its own company and at \
        most its own scope; tokens of no company and metrics tokens need the operators' \
        token (-32002 otherwise). A tenant holds at most 100 tokens that are neither revoked \
        nor expired (4004 beyond; revoke one first). Works at once on every instance.";
    const SCOPE: Scope = Scope::Admin;
    const KIND: Kind = Kind::Write;
    type Deps = AdminDeps;
    type Params = CreateTokenParams;
    type Output = CreatedToken;

    async fn apply(
        p: CreateTokenParams,
        grant: TokenGrant,
        deps: Arc<AdminDeps>,
    ) -> Result<Reply<CreatedToken>, RpcError> {
        let company = token_company(&grant, &p)?;
        let name = p.name.trim().to_owned();
        if name.is_empty() || name.chars().any(char::is_control) {
            return Err(RpcError::invalid_params(
                "name: one line of 1 to 100 printable characters",
            ));
        }
        let expires_at = p
            .expires_in_days
            .map(|days| deps.clock.now() + chrono::Duration::days(i64::from(days)));
        let new = NewToken {
            company_id: company,
            kind: p.scope,
            name,
            expires_at,
        };
        let whose = company.map_or_else(|| "every company".to_owned(), |c| format!("company {c}"));
        let until = expires_at.map_or_else(
            || "never expires".to_owned(),
            |at| format!("expires {}", at.to_rfc3339()),
        );
        let audit = AuditRecord {
            actor: grant.actor(),
            action: Self::NAME.to_owned(),
            changes: vec![format!(
                "+ {} token {:?} of {whose}, {until}",
                p.scope.as_str(),
                new.name
            )],
        };
        let (info, token) = deps
            .tokens
            .create_token(&new, &audit)
            .await
            .map_err(|e| match e {
                // The tenant's own limit of active tokens; names only the tenant's own slug.
                StoreError::Conflict(what) => {
                    AppError::new(ErrorCode::SchemaValidationFailed, what).into()
                }
                other => store_error(&other),
            })?;
        Reply::fresh(CreatedToken {
            token: token.expose_secret().to_owned(),
            info,
        })
    }
}

/// The company of the new token, after the rules of who may mint what.
fn token_company(grant: &TokenGrant, p: &CreateTokenParams) -> Result<Option<CompanyId>, RpcError> {
    let needs_operators = || -> RpcError {
        AppError::new(
            ErrorCode::Forbidden,
            "tokens of no company and metrics tokens need the operators' admin token",
        )
        .into()
    };
    match grant.company_id {
        Some(own) => {
            if let Some(asked) = p.company_id
                && asked != own
            {
                return Err(forbidden(asked));
            }
            let scope = match p.scope {
                TokenKind::Read => TokenScope::Read,
                TokenKind::Write => TokenScope::Write,
                TokenKind::Admin => TokenScope::Admin,
                TokenKind::Metrics => return Err(needs_operators()),
            };
            if scope > grant.scope {
                return Err(AppError::new(
                    ErrorCode::Forbidden,
                    format!(
                        "this token ({}) cannot create a {} token",
                        grant.scope.as_str(),
                        scope.as_str()
                    ),
                )
                .into());
            }
            Ok(Some(own))
        }
        None if p.scope == TokenKind::Metrics && p.company_id.is_some() => Err(
            RpcError::invalid_params("company_id: a metrics token belongs to no company"),
        ),
        None => Ok(p.company_id),
    }
}
