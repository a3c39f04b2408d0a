//! `switchboard token create|list|revoke`: operators manage API tokens on the configured
//! database. Each change is recorded in the audit log as `cli:<$USER>`.

use crate::cli::{TokenAction, TokenScopeArg};
use crate::config::Settings;
use crate::store::AnyStore;
use anyhow::Context as _;
use chrono::{DateTime, SecondsFormat, Utc};
use secrecy::ExposeSecret as _;
use std::path::Path;
use switchboard_actors::domain::ids::CompanyId;
use switchboard_actors::domain::onboarding::{AuditRecord, TenantSummary};
use switchboard_actors::ports::{TenantAdminStore as _, TokenAdminStore as _};
use switchboard_actors::records::{NewToken, TokenInfo, TokenKind};

/// Runs one token command, printing its result on stdout.
///
/// # Errors
/// A configuration or database failure, a tenant that does not exist, a metrics token given
/// a company, a bad name, an unknown token id.
pub async fn run(action: TokenAction) -> anyhow::Result<()> {
    match action {
        TokenAction::Create {
            company,
            scope,
            expires,
            name,
            config,
        } => {
            let kind = kind(scope, company.is_some());
            anyhow::ensure!(
                kind != TokenKind::Metrics || company.is_none(),
                "a metrics token belongs to no company; drop --company"
            );
            let store = open(config.as_deref()).await?;
            let tenant = match company {
                Some(company) => Some(tenant(&store, &company).await?),
                None => None,
            };
            let expires_at = expires
                .map(|lifetime| {
                    chrono::Duration::from_std(lifetime)
                        .ok()
                        .and_then(|lifetime| Utc::now().checked_add_signed(lifetime))
                        .context("--expires is too far in the future")
                })
                .transpose()?;
            let whose = match (&tenant, kind) {
                (Some(t), _) => format!("tenant {}", t.slug),
                (None, TokenKind::Metrics) => "the metrics and the detailed health".to_owned(),
                (None, _) => "every tenant".to_owned(),
            };
            let name = name.unwrap_or_else(|| match &tenant {
                Some(t) => format!("{} token of {}", kind.as_str(), t.slug),
                None => format!("{} token", kind.as_str()),
            });
            let new = NewToken {
                company_id: tenant.as_ref().map(|t| t.id),
                kind,
                name,
                expires_at,
            };
            let what = format!("{} token {:?} for {whose}", kind.as_str(), new.name);
            let (info, token) = store
                .create_token(&new, &audit("token create", format!("+ {what}")))
                .await
                .context("storing the token")?;
            println!(
                "created {what} (id {}), {}; the token, shown only now:",
                info.id,
                expiry(info.expires_at)
            );
            println!("{}", token.expose_secret());
            Ok(())
        }
        TokenAction::List { company, config } => {
            let store = open(config.as_deref()).await?;
            let tenants = store.list_tenants().await.context("reading the tenants")?;
            let only = match company {
                Some(company) => Some(find(&tenants, &company)?.id),
                None => None,
            };
            let tokens = store
                .list_tokens(only)
                .await
                .context("reading the tokens")?;
            print!("{}", listing(&tokens, &tenants));
            Ok(())
        }
        TokenAction::Revoke { id, config } => {
            let store = open(config.as_deref()).await?;
            let revoked = store
                .revoke_token(
                    id,
                    None,
                    Utc::now(),
                    &audit("token revoke", format!("- token {id}")),
                )
                .await
                .context("revoking the token")?
                .with_context(|| format!("no token with id {id} (see `switchboard token list`)"))?;
            println!(
                "token {id} ({:?}) revoked at {}; it stops working within cache.lookups_ttl_s",
                revoked.name,
                time(revoked.revoked_at)
            );
            Ok(())
        }
    }
}

async fn open(config: Option<&Path>) -> anyhow::Result<AnyStore> {
    let settings = Settings::load(config)?;
    crate::startup::open_store(&settings).await
}

/// The scope asked for, else `write` for a tenant's token and `admin` for every tenant's.
fn kind(scope: Option<TokenScopeArg>, of_a_tenant: bool) -> TokenKind {
    match scope {
        Some(TokenScopeArg::Read) => TokenKind::Read,
        Some(TokenScopeArg::Write) => TokenKind::Write,
        Some(TokenScopeArg::Admin) => TokenKind::Admin,
        Some(TokenScopeArg::Metrics) => TokenKind::Metrics,
        None if of_a_tenant => TokenKind::Write,
        None => TokenKind::Admin,
    }
}

/// The audit record of a command run by the user in `$USER`.
fn audit(action: &str, change: String) -> AuditRecord {
    let user = std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "unknown".to_owned());
    AuditRecord {
        actor: format!("cli:{user}"),
        action: action.to_owned(),
        changes: vec![change],
    }
}

async fn tenant(store: &AnyStore, written: &str) -> anyhow::Result<TenantSummary> {
    let tenants = store.list_tenants().await.context("reading the tenants")?;
    find(&tenants, written).cloned()
}

/// The tenant `written` names: its slug, or its id.
fn find<'a>(tenants: &'a [TenantSummary], written: &str) -> anyhow::Result<&'a TenantSummary> {
    let id = written.parse::<i64>().ok().map(CompanyId);
    tenants
        .iter()
        .find(|t| t.slug == written || Some(t.id) == id)
        .with_context(|| format!("no tenant {written:?} (see `switchboard tenant list`)"))
}

fn time(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(
        || "-".to_owned(),
        |at| at.to_rfc3339_opts(SecondsFormat::Secs, true),
    )
}

fn expiry(at: Option<DateTime<Utc>>) -> String {
    match at {
        Some(_) => format!("expires {}", time(at)),
        None => "never expires".to_owned(),
    }
}

/// `token list` as a table, one token a line.
fn listing(tokens: &[TokenInfo], tenants: &[TenantSummary]) -> String {
    let mut out = format!(
        "{:>5}  {:<24} {:<8} {:<21} {:<21} {:<21} {}\n",
        "ID", "TENANT", "SCOPE", "CREATED", "EXPIRES", "REVOKED", "NAME"
    );
    for t in tokens {
        let tenant = t.company_id.map_or_else(
            || "*".to_owned(),
            |id| {
                tenants
                    .iter()
                    .find(|s| s.id == id)
                    .map_or_else(|| id.to_string(), |s| s.slug.clone())
            },
        );
        out.push_str(&format!(
            "{:>5}  {:<24} {:<8} {:<21} {:<21} {:<21} {}\n",
            t.id,
            tenant,
            t.scope,
            time(Some(t.created_at)),
            time(t.expires_at),
            time(t.revoked_at),
            t.name
        ));
    }
    out
}
