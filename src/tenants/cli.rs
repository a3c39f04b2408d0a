//! `switchboard tenant apply|list|show|disable|enable`: the commands over the configured
//! database. Each writes its report to `out` (stdout in `main`); errors are returned for
//! `main` to print on stderr with exit code 1.

use super::apply::{ApplyOptions, apply};
use super::calcom::CalcomAccess;
use super::check::check_connection;
use super::load::{FileErrors, TenantFile};
use crate::config::Settings;
use crate::store::AnyStore;
use anyhow::Context as _;
use std::io::Write;
use std::path::PathBuf;
use switchboard_actors::domain::onboarding::{AuditRecord, Slug, TenantRef, TenantState};
use switchboard_actors::ports::TenantAdminStore as _;

/// The audit actor of the command line: `cli:<$USER>`.
pub fn cli_actor() -> String {
    let user = std::env::var("USER").unwrap_or_default();
    format!(
        "cli:{}",
        if user.trim().is_empty() {
            "unknown"
        } else {
            user.trim()
        }
    )
}

/// Opens the configured database with the credentials key, as `serve` does.
///
/// # Errors
/// The database cannot be opened, the credentials key is refused (see [`crate::secrets`]),
/// or the only key is one sandbox mode would make for this command alone (credentials
/// sealed with it could never be opened again).
pub async fn open(settings: &Settings) -> anyhow::Result<AnyStore> {
    if let Some(resolved) = crate::secrets::resolve(settings)? {
        anyhow::ensure!(
            resolved.source != crate::secrets::KeySource::SandboxMemory,
            "no credentials key outlives this command (sandbox mode on a database without a \
             key file): set SWITCHBOARD__SECRETS__KEY to the key `switchboard serve` uses"
        );
    }
    let store = crate::startup::open_store(settings).await?;
    crate::secrets::secure(settings, store).await
}

/// `tenant apply FILE... [--dry-run]`: prints each tenant's plan; unless a dry run, writes
/// them and then checks each tenant's Cal.com key (a failure is a warning).
///
/// # Errors
/// Every refusal of every file (nothing written), or the store failing.
pub async fn apply_files(
    store: &AnyStore,
    calcom: &CalcomAccess,
    files: &[PathBuf],
    dry_run: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let mut read = Vec::with_capacity(files.len());
    let mut errors = Vec::new();
    for path in files {
        match TenantFile::read(path) {
            Ok(file) => read.push(file),
            Err(FileErrors(e)) => errors.extend(e),
        }
    }
    if !errors.is_empty() {
        return Err(FileErrors(errors).into());
    }
    let options = ApplyOptions {
        dry_run,
        actor: cli_actor(),
        action: "tenant apply".into(),
    };
    let applied = apply(read, store, calcom, &options).await?;
    for tenant in &applied {
        write!(out, "{}", tenant.plan)?;
    }
    if dry_run {
        writeln!(out, "dry run: nothing written")?;
        return Ok(());
    }
    for tenant in &applied {
        if let Some(line) = check_connection(calcom, &tenant.spec)
            .await
            .line(tenant.spec.slug.as_str())
        {
            writeln!(out, "{line}")?;
        }
    }
    let written = applied.iter().filter(|t| !t.plan.is_empty()).count();
    writeln!(
        out,
        "applied: {written} of {} tenants changed",
        applied.len()
    )?;
    Ok(())
}

/// `tenant list`: one line per tenant.
///
/// # Errors
/// The store failing.
pub async fn list(store: &AnyStore, out: &mut dyn Write) -> anyhow::Result<()> {
    let tenants = store.list_tenants().await?;
    writeln!(
        out,
        "{:<24} {:<32} {:<6} {:<20} {:>8} {:>7} {:>8}  disabled",
        "slug", "name", "locale", "time zone", "branches", "numbers", "services"
    )?;
    for t in tenants {
        writeln!(
            out,
            "{:<24} {:<32} {:<6} {:<20} {:>8} {:>7} {:>8}  {}",
            t.slug,
            t.name,
            t.locale,
            t.time_zone,
            t.branches,
            t.phone_numbers,
            t.services,
            t.disabled_at.map_or_else(
                || "no".to_owned(),
                |at| format!("since {}", at.to_rfc3339())
            )
        )?;
    }
    Ok(())
}

/// `tenant show SLUG`: the tenant as a tenant file, which applies again with no changes;
/// credentials only in the comment at the top, as `set (sha256:…)` or `not set`.
///
/// # Errors
/// No such tenant, or the store failing.
pub async fn show(store: &AnyStore, slug: &str, out: &mut dyn Write) -> anyhow::Result<()> {
    let state = find(store, slug).await?;
    writeln!(
        out,
        "# tenant {} (company {}), {}",
        state.spec.slug,
        state.id,
        state.disabled_at.map_or_else(
            || "active".to_owned(),
            |at| format!("disabled since {}", at.to_rfc3339())
        )
    )?;
    let credentials = &state.credentials;
    for (key, fingerprint) in [
        ("retell.api_key", &credentials.retell_api_key),
        ("calcom.api_key", &credentials.calcom_api_key),
        ("calcom.webhook_secret", &credentials.calcom_webhook_secret),
        ("sms.auth_token", &credentials.sms_auth_token),
    ] {
        let status = fingerprint
            .as_ref()
            .map_or_else(|| "not set".to_owned(), |f| format!("set ({f})"));
        writeln!(out, "# {key}: {status}")?;
    }
    write!(
        out,
        "{}",
        toml::to_string(&state.spec.to_raw()).context("writing the tenant as TOML")?
    )?;
    Ok(())
}

/// `tenant disable SLUG` (`disabled`) / `tenant enable SLUG`: recorded in the audit log;
/// nothing is deleted.
///
/// # Errors
/// No such tenant, or the store failing.
pub async fn set_disabled(
    store: &AnyStore,
    slug: &str,
    disabled: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let state = find(store, slug).await?;
    let (action, done) = if disabled {
        ("tenant disable", "disabled")
    } else {
        ("tenant enable", "enabled")
    };
    let audit = AuditRecord {
        actor: cli_actor(),
        action: action.into(),
        changes: vec![format!("~ {done}")],
    };
    let changed = store.set_disabled(state.id, disabled, &audit).await?;
    if changed {
        writeln!(out, "tenant {slug} {done}")?;
    } else {
        writeln!(out, "tenant {slug} was already {done}")?;
    }
    Ok(())
}

async fn find(store: &AnyStore, slug: &str) -> anyhow::Result<TenantState> {
    let slug = Slug::parse(slug).map_err(|e| anyhow::anyhow!("tenant {slug:?}: {e}"))?;
    store
        .tenant(&TenantRef::Slug(slug.clone()))
        .await?
        .with_context(|| format!("no tenant {slug} (see `switchboard tenant list`)"))
}
