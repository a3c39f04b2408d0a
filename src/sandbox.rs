//! Sandbox mode: the example tenants of `examples/tenants/` applied to the database at start
//! — "Demo Salon Berlin" (German, the Cal.com simulator's demo account) and "Thames Physio
//! Clinic" (English, London) — so `switchboard serve` works end to end with no set-up.

use crate::store::{AnyStore, token_digest};
use crate::tenants::{ApplyError, ApplyOptions, CalcomAccess, TenantFile, apply};
use std::path::Path;
use switchboard_actors::domain::ids::{BranchId, CompanyId};
use switchboard_actors::domain::onboarding::{
    AuditRecord, CredentialUpdate, RawTenant, Slug, TenantRef,
};
use switchboard_actors::domain::phone::PhoneNumber;
use switchboard_actors::ports::{StoreError, TenancyStore as _, TenantAdminStore as _};

/// The demo company's name.
pub const DEMO_COMPANY: &str = "Demo Salon Berlin";
/// The demo branch.
pub const DEMO_BRANCH: &str = "Mitte";
/// The demo phone number (E.164), owned by the Mitte branch.
pub const DEMO_PHONE: &str = "+493083793369";
/// The demo company's Retell API key: signatures of sandbox calls are made with it.
pub const DEMO_RETELL_API_KEY: &str = "key_sandbox_0123456789abcdef";

/// The tenant files sandbox mode applies, in this order (the demo tenant first, so that a new
/// database gives it company id 1), by the path they have in the repository.
pub const EXAMPLE_TENANTS: [(&str, &str); 2] = [
    (
        "examples/tenants/demo-salon-berlin.toml",
        include_str!("../examples/tenants/demo-salon-berlin.toml"),
    ),
    (
        "examples/tenants/thames-physio.toml",
        include_str!("../examples/tenants/thames-physio.toml"),
    ),
];

/// The `[sms]` accounts of the [`EXAMPLE_TENANTS`] (account SID and auth token, written
/// literally in the files): the accounts sandbox mode's SMS simulator accepts.
///
/// # Errors
/// An example file that does not parse (a bug of this build).
pub fn sms_accounts() -> Result<Vec<(String, secrecy::SecretString)>, toml::de::Error> {
    let mut accounts = Vec::new();
    for (_, text) in EXAMPLE_TENANTS {
        let raw: RawTenant = toml::from_str(text)?;
        if let Some(sms) = raw.sms {
            accounts.extend(sms.auth_token.map(|t| (sms.account_sid, t.into())));
        }
    }
    Ok(accounts)
}

/// The audit actor of sandbox seeding.
const ACTOR: &str = "sandbox";

/// What was seeded.
#[derive(Debug, Clone, Copy)]
pub struct DemoTenant {
    /// Id of the company [`DEMO_COMPANY`].
    pub company_id: CompanyId,
    /// Id of its branch [`DEMO_BRANCH`], which owns [`DEMO_PHONE`].
    pub branch_id: BranchId,
}

/// Label of the sandbox admin token in `api_tokens`.
pub const SANDBOX_ADMIN_LABEL: &str = "sandbox admin";

/// Applies (idempotently) the [`EXAMPLE_TENANTS`] and makes `admin_token` the one sandbox
/// admin token (an earlier sandbox admin token stops working). The credentials are sealed
/// with `store`'s keyring like any tenant's ([`crate::secrets`]); credentials the keyring
/// cannot open (a sandbox whose generated key was lost) are sealed again from the files.
///
/// # Errors
/// A refused example file (a bug of this build), or the store failing.
pub async fn seed(store: &AnyStore, admin_token: &str) -> Result<DemoTenant, ApplyError> {
    let mut files = Vec::with_capacity(EXAMPLE_TENANTS.len());
    for (name, text) in EXAMPLE_TENANTS {
        files.push(TenantFile::parse(
            Path::new(name),
            Path::new("."),
            text.to_owned(),
        )?);
    }
    reseal_unreadable(store, &files).await?;
    let options = ApplyOptions {
        dry_run: false,
        actor: ACTOR.into(),
        action: "tenant apply".into(),
    };
    // Every example service names its event type id: Cal.com is never asked.
    let calcom = CalcomAccess::without_default("sandbox seeding asks no Cal.com");
    apply(files, store, &calcom, &options).await?;
    store
        .replace_admin_token(&token_digest(admin_token), SANDBOX_ADMIN_LABEL)
        .await?;
    let phone = PhoneNumber::parse_default(DEMO_PHONE)
        .map_err(|e| StoreError::backend(format!("demo number: {e}")))?;
    let route = store
        .tenant_by_phone(&phone)
        .await?
        .ok_or_else(|| StoreError::backend(format!("{DEMO_PHONE} is not routed after seeding")))?;
    Ok(DemoTenant {
        company_id: route.company.id,
        branch_id: route.branch_id,
    })
}

/// Seals the files' credentials again for each stored example tenant whose stored ones
/// cannot be read (reading a tenant opens them to fingerprint them).
async fn reseal_unreadable(store: &AnyStore, files: &[TenantFile]) -> Result<(), ApplyError> {
    let stored = store.list_tenants().await?;
    for file in files {
        let Some(summary) = stored.iter().find(|t| t.slug == file.raw.slug) else {
            continue;
        };
        let Ok(slug) = Slug::parse(&summary.slug) else {
            continue;
        };
        if store.tenant(&TenantRef::Slug(slug)).await.is_ok() {
            continue;
        }
        let spec = file.validate()?;
        let credentials = CredentialUpdate {
            retell_api_key: spec.retell.api_key,
            calcom_api_key: spec.calcom.api_key,
            calcom_webhook_secret: spec.calcom.webhook_secret,
            sms_auth_token: spec.sms.and_then(|s| s.auth_token),
        };
        let audit = AuditRecord {
            actor: ACTOR.into(),
            action: "credentials resealed".into(),
            changes: vec!["~ credentials sealed again: the stored ones could not be opened".into()],
        };
        store
            .set_credentials(summary.id, &credentials, &audit)
            .await?;
    }
    Ok(())
}
