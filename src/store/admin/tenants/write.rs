//! Tenants written whole, so that reading back what was written plans no changes; disabling
//! and credentials.

use super::read::owners_sql;
use crate::secrets::Column;
use crate::store::admin::{AnyStore, TxError, audit};
use crate::store::rows::WINDOW_TIME_FORMAT;
use crate::store::sql::{Sql, Tx};
use chrono::{DateTime, NaiveTime, Utc};
use secrecy::SecretString;
use std::collections::{BTreeMap, BTreeSet};
use switchboard_actors::domain::ids::CompanyId;
use switchboard_actors::domain::onboarding::{
    AuditRecord, BranchSpec, CredentialUpdate, OpeningHours, Slug, TenantSpec, TimeRange,
};
use switchboard_actors::ports::StoreError;

/// The daily window of a branch whose opening hours are not stated (or always closed): what
/// 12-hour readings ("halb drei") are settled against, as before tenants had hours.
const DEFAULT_WINDOW: (u32, u32) = (8, 20);

/// A branch's stored window and hours: the span of its week (or [`DEFAULT_WINDOW`]) as
/// `HH:MM`, and its hours as written (JSON), `None` when not stated.
fn branch_window(branch: &BranchSpec) -> Result<(String, String, Option<String>), StoreError> {
    let hour = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap_or_default();
    let span = branch
        .opening_hours
        .as_ref()
        .and_then(OpeningHours::span)
        .unwrap_or(TimeRange {
            opens: hour(DEFAULT_WINDOW.0),
            closes: hour(DEFAULT_WINDOW.1),
        });
    let hours = branch
        .opening_hours
        .as_ref()
        .map(|h| serde_json::to_string(&h.to_written()))
        .transpose()
        .map_err(|e| StoreError::backend(format!("opening hours: {e}")))?;
    Ok((
        span.opens.format(WINDOW_TIME_FORMAT).to_string(),
        span.closes.format(WINDOW_TIME_FORMAT).to_string(),
        hours,
    ))
}

/// What [`write`] stores of a spec, derived before the transaction.
struct Prepared<'a> {
    spec: &'a TenantSpec,
    /// Per branch (in spec order): opens, closes, opening hours JSON.
    windows: Vec<(String, String, Option<String>)>,
    /// Per service (in spec order): event type id, aliases JSON.
    services: Vec<(i64, String)>,
    credentials: [(Column, Option<&'a SecretString>); 4],
    now: DateTime<Utc>,
}

/// Makes the stored tenant `spec.slug` exactly `spec` (see
/// [`TenantAdminStore::write_tenant`](switchboard_actors::ports::TenantAdminStore::write_tenant)).
pub(in crate::store::admin) async fn write(
    store: &AnyStore,
    spec: &TenantSpec,
    audit: &AuditRecord,
) -> Result<CompanyId, StoreError> {
    let services = spec
        .services
        .iter()
        .map(|s| {
            let id = s.event_type_id.ok_or_else(|| {
                StoreError::backend(format!(
                    "service {:?} has no Cal.com event type id: resolve its event_type_slug \
                     before writing the tenant",
                    s.name
                ))
            })?;
            let aliases = serde_json::to_string(&s.aliases)
                .map_err(|e| StoreError::backend(format!("aliases: {e}")))?;
            Ok((id.0, aliases))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let credentials = [
        (Column::RetellApiKey, spec.retell.api_key.as_ref()),
        (Column::CalcomApiKey, spec.calcom.api_key.as_ref()),
        (
            Column::CalcomWebhookSecret,
            spec.calcom.webhook_secret.as_ref(),
        ),
        (
            Column::SmsAuthToken,
            spec.sms.as_ref().and_then(|s| s.auth_token.as_ref()),
        ),
    ];
    require_key(store, &spec.slug, &credentials)?;
    let prepared = Prepared {
        spec,
        windows: spec
            .branches
            .iter()
            .map(branch_window)
            .collect::<Result<_, _>>()?,
        services,
        credentials,
        now: Utc::now(),
    };
    let prepared = &prepared;
    store
        .write(|mut tx| async move {
            let result = write_in(store, &mut tx, prepared, audit).await;
            (tx, result)
        })
        .await
}

/// Refuses to write credentials without a key to seal them with.
fn require_key(
    store: &AnyStore,
    tenant: &dyn std::fmt::Display,
    credentials: &[(Column, Option<&SecretString>)],
) -> Result<(), StoreError> {
    if store.keyring.current_id().is_none() && credentials.iter().any(|(_, s)| s.is_some()) {
        return Err(StoreError::backend(format!(
            "cannot store the credentials of tenant {tenant}: no secrets key configured (set \
             SWITCHBOARD__SECRETS__KEY or secrets.key_file)"
        )));
    }
    Ok(())
}

async fn write_in(
    store: &AnyStore,
    tx: &mut Tx,
    p: &Prepared<'_>,
    audit_record: &AuditRecord,
) -> Result<CompanyId, TxError> {
    let spec = p.spec;
    let company = upsert_company(tx, spec, p.now).await?;
    write_sms(tx, company, spec).await?;
    seal_credentials(store, tx, company, &p.credentials).await?;
    let branches = write_branches(tx, company, spec, &p.windows, p.now).await?;
    write_numbers(tx, company, spec, &branches, p.now).await?;
    write_services(tx, company, spec, &p.services, &branches, p.now).await?;
    audit::record(tx, Some((company, spec.slug.as_str())), audit_record, p.now).await?;
    Ok(company)
}

/// The company of `spec.slug`, created or adopted, with the settings of `spec`.
async fn upsert_company(
    tx: &mut Tx,
    spec: &TenantSpec,
    now: DateTime<Utc>,
) -> Result<CompanyId, TxError> {
    let found: Vec<(i64, String, String)> = tx
        .fetch_all(
            Sql::new("SELECT id, slug, name FROM companies WHERE slug = $1 OR name = $2")
                .bind(spec.slug.as_str())
                .bind(spec.name.as_str()),
        )
        .await?;
    let by_slug = found.iter().find(|(_, slug, _)| slug == spec.slug.as_str());
    let by_name = found.iter().find(|(_, _, name)| *name == spec.name);
    let id = match (by_slug, by_name) {
        (Some((id, ..)), None) => *id,
        (Some((id, ..)), Some((named, ..))) if id == named => *id,
        // A company from before slugs (migration 0007 named it `company-<id>`) becomes
        // this tenant rather than clashing with it.
        (None, Some((id, slug, _))) if *slug == format!("company-{id}") => *id,
        (_, Some((_, slug, name))) => {
            return Err(StoreError::Conflict(format!(
                "name {name:?} is already used by tenant {slug}"
            ))
            .into());
        }
        (None, None) => {
            let inserted: Option<(i64,)> = tx
                .fetch_optional(
                    Sql::new(
                        "INSERT INTO companies (name, slug, locale, time_zone, retell_api_key, \
                             calcom_api_key, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, '', '', $5, $5) \
                         ON CONFLICT DO NOTHING RETURNING id",
                    )
                    .bind(spec.name.as_str())
                    .bind(spec.slug.as_str())
                    .bind(spec.locale.as_str())
                    .bind(spec.time_zone.name())
                    .bind(now),
                )
                .await?;
            match inserted {
                Some((id,)) => id,
                // A concurrent write created it after our look-up (PostgreSQL waits for that
                // writer's commit): this write updates what it created.
                None => {
                    let created: Option<(i64,)> = tx
                        .fetch_optional(
                            Sql::new("SELECT id FROM companies WHERE slug = $1")
                                .bind(spec.slug.as_str()),
                        )
                        .await?;
                    created
                        .ok_or_else(|| {
                            StoreError::Conflict(format!(
                                "name {:?} was just taken by another tenant",
                                spec.name
                            ))
                        })?
                        .0
                }
            }
        }
    };
    // Before any branch, number or service: this row lock serialises writers of one tenant
    // on PostgreSQL (SQLite's write transaction already does), so each sees the other's
    // committed rows rather than racing on them.
    tx.execute(
        Sql::new(
            "UPDATE companies SET slug = $2, name = $3, locale = $4, time_zone = $5, \
                 retell_agent_id = $6, calcom_base_url = $7, calcom_team_id = $8, \
                 change_notice_h = $9, booking_horizon_days = $10, updated_at = $11 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(spec.slug.as_str())
        .bind(spec.name.as_str())
        .bind(spec.locale.as_str())
        .bind(spec.time_zone.name())
        .bind(spec.retell.agent_id.as_deref())
        .bind(spec.calcom.base_url.as_deref())
        .bind(spec.calcom.team_id)
        .bind(i64::from(spec.policy.change_notice_h))
        .bind(i64::from(spec.policy.booking_horizon_days))
        .bind(now),
    )
    .await?;
    Ok(CompanyId(id))
}

/// The `[sms]` account of `spec`; without one, the stored settings and token are removed (a
/// section written again later must bring its token again).
async fn write_sms(tx: &mut Tx, company: CompanyId, spec: &TenantSpec) -> Result<(), TxError> {
    let sms = spec.sms.as_ref();
    tx.execute(
        Sql::new(
            "UPDATE companies SET sms_account_sid = $2, sms_from = $3, sms_base_url = $4, \
                 sms_auth_token = CASE WHEN $2 IS NULL THEN NULL ELSE sms_auth_token END \
             WHERE id = $1",
        )
        .bind(company.0)
        .bind(sms.map(|s| s.account_sid.as_str()))
        .bind(sms.map(|s| s.from.as_str()))
        .bind(sms.and_then(|s| s.base_url.as_deref())),
    )
    .await?;
    Ok(())
}

/// Writes the credentials given, sealed for `company`; leaves the others as they are.
async fn seal_credentials(
    store: &AnyStore,
    tx: &mut Tx,
    company: CompanyId,
    credentials: &[(Column, Option<&SecretString>)],
) -> Result<(), TxError> {
    for (column, secret) in credentials {
        let Some(secret) = secret else { continue };
        let sealed = store
            .keyring
            .seal(company, *column, secret)
            .map_err(|e| StoreError::backend(e.to_string()))?;
        tx.execute(
            Sql::new(format!(
                "UPDATE companies SET {column} = $1 WHERE id = $2",
                column = column.as_str()
            ))
            .bind(sealed)
            .bind(company.0),
        )
        .await?;
    }
    Ok(())
}

/// Deletes the branches `spec` leaves out (refused for one with calls or appointments) and
/// upserts the others by slug; returns the id of each branch slug.
async fn write_branches(
    tx: &mut Tx,
    company: CompanyId,
    spec: &TenantSpec,
    windows: &[(String, String, Option<String>)],
    now: DateTime<Utc>,
) -> Result<BTreeMap<Slug, i64>, TxError> {
    let legacy: Vec<(i64, String, String)> = tx
        .fetch_all(
            Sql::new("SELECT id, slug, name FROM branches WHERE company_id = $1").bind(company.0),
        )
        .await?;
    // A branch from before slugs (migration 0007 named it `branch-<id>`) is adopted by the
    // declared branch of the same name, so its calls keep their branch.
    for (id, slug, name) in &legacy {
        let declared = spec
            .branches
            .iter()
            .find(|b| b.name == *name && !legacy.iter().any(|(_, s, _)| s == b.slug.as_str()));
        if let Some(branch) = declared
            && *slug == format!("branch-{id}")
        {
            tx.execute(
                Sql::new("UPDATE branches SET slug = $1 WHERE id = $2")
                    .bind(branch.slug.as_str())
                    .bind(*id),
            )
            .await?;
        }
    }
    let existing: Vec<(i64, String)> = tx
        .fetch_all(Sql::new("SELECT id, slug FROM branches WHERE company_id = $1").bind(company.0))
        .await?;
    for (id, slug) in &existing {
        if spec.branches.iter().any(|b| b.slug.as_str() == slug) {
            continue;
        }
        let (history,): (i64,) = tx
            .fetch_one(
                Sql::new(
                    "SELECT (SELECT COUNT(*) FROM calls WHERE branch_id = $1) \
                         + (SELECT COUNT(*) FROM appointments WHERE branch_id = $1)",
                )
                .bind(*id),
            )
            .await?;
        if history > 0 {
            return Err(StoreError::Conflict(format!(
                "branch {slug} has calls or appointments; keep it (its numbers can be removed)"
            ))
            .into());
        }
        tx.execute(Sql::new("DELETE FROM branches WHERE id = $1").bind(*id))
            .await?;
    }
    let mut ids = BTreeMap::new();
    for (branch, (opens, closes, hours)) in spec.branches.iter().zip(windows) {
        let (id,): (i64,) = tx
            .fetch_one(
                Sql::new(
                    "INSERT INTO branches (company_id, slug, name, opens, closes, \
                         opening_hours, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (company_id, slug) DO UPDATE SET \
                         name = excluded.name, opens = excluded.opens, \
                         closes = excluded.closes, opening_hours = excluded.opening_hours \
                     RETURNING id",
                )
                .bind(company.0)
                .bind(branch.slug.as_str())
                .bind(branch.name.as_str())
                .bind(opens.as_str())
                .bind(closes.as_str())
                .bind(hours.as_deref())
                .bind(now),
            )
            .await?;
        ids.insert(branch.slug.clone(), id);
    }
    Ok(ids)
}

/// The id [`write_branches`] gave branch `slug`; a slug the spec does not declare (which
/// [`TenantSpec::from_raw`] refuses) is an error rather than a panic.
fn branch_id(branches: &BTreeMap<Slug, i64>, slug: &Slug) -> Result<i64, StoreError> {
    branches.get(slug).copied().ok_or_else(|| {
        StoreError::backend(format!("branch {slug} is not one of the tenant's branches"))
    })
}

/// Routes exactly the numbers of `spec` to their branches: a number of another tenant is
/// refused, numbers the spec leaves out are deleted.
async fn write_numbers(
    tx: &mut Tx,
    company: CompanyId,
    spec: &TenantSpec,
    branches: &BTreeMap<Slug, i64>,
    now: DateTime<Utc>,
) -> Result<(), TxError> {
    let mut wanted = BTreeSet::new();
    for branch in &spec.branches {
        let branch_id = branch_id(branches, &branch.slug)?;
        for number in &branch.phone_numbers {
            wanted.insert(number.as_str());
            // Takes the number only from a branch of this company: decided by the row
            // itself, so a concurrent write of another tenant cannot slip in between.
            let taken = tx
                .execute(
                    Sql::new(
                        "INSERT INTO phone_numbers (number, branch_id, created_at) \
                         VALUES ($1, $2, $3) \
                         ON CONFLICT (number) DO UPDATE SET branch_id = excluded.branch_id \
                         WHERE phone_numbers.branch_id IN \
                             (SELECT id FROM branches WHERE company_id = $4)",
                    )
                    .bind(number.as_str())
                    .bind(branch_id)
                    .bind(now)
                    .bind(company.0),
                )
                .await?;
            if taken == 0 {
                let owner = tx
                    .fetch_optional::<(String, String)>(owners_sql(std::slice::from_ref(number)))
                    .await?
                    .map_or_else(|| "another tenant".to_owned(), |(_, slug)| slug);
                return Err(
                    StoreError::Conflict(format!("{number} belongs to tenant {owner}")).into(),
                );
            }
        }
    }
    let routed: Vec<(i64, String)> = tx
        .fetch_all(
            Sql::new(
                "SELECT p.id, p.number FROM phone_numbers p \
                 JOIN branches b ON b.id = p.branch_id WHERE b.company_id = $1",
            )
            .bind(company.0),
        )
        .await?;
    for (id, number) in routed {
        if !wanted.contains(number.as_str()) {
            tx.execute(Sql::new("DELETE FROM phone_numbers WHERE id = $1").bind(id))
                .await?;
        }
    }
    Ok(())
}

/// Upserts the services of `spec` by name with the branches that offer them, and deletes
/// the others (their appointments keep the name they were booked under).
async fn write_services(
    tx: &mut Tx,
    company: CompanyId,
    spec: &TenantSpec,
    values: &[(i64, String)],
    branches: &BTreeMap<Slug, i64>,
    now: DateTime<Utc>,
) -> Result<(), TxError> {
    let existing: Vec<(i64, String)> = tx
        .fetch_all(Sql::new("SELECT id, name FROM services WHERE company_id = $1").bind(company.0))
        .await?;
    for (id, name) in existing {
        if !spec.services.iter().any(|s| s.name == name) {
            tx.execute(Sql::new("DELETE FROM services WHERE id = $1").bind(id))
                .await?;
        }
    }
    for (service, (event_type_id, aliases)) in spec.services.iter().zip(values) {
        let (id,): (i64,) = tx
            .fetch_one(
                Sql::new(
                    "INSERT INTO services (company_id, name, aliases, duration_min, \
                         event_type_id, event_type_slug, team_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (company_id, name) DO UPDATE SET \
                         aliases = excluded.aliases, duration_min = excluded.duration_min, \
                         event_type_id = excluded.event_type_id, \
                         event_type_slug = excluded.event_type_slug, \
                         team_id = excluded.team_id \
                     RETURNING id",
                )
                .bind(company.0)
                .bind(service.name.as_str())
                .bind(aliases.as_str())
                .bind(i64::from(service.duration_min))
                .bind(*event_type_id)
                .bind(service.event_type_slug.as_deref())
                .bind(service.team_id)
                .bind(now),
            )
            .await?;
        tx.execute(Sql::new("DELETE FROM service_branches WHERE service_id = $1").bind(id))
            .await?;
        for (position, slug) in service.branches.iter().flatten().enumerate() {
            tx.execute(
                Sql::new(
                    "INSERT INTO service_branches (service_id, branch_id, position) \
                     VALUES ($1, $2, $3)",
                )
                .bind(id)
                .bind(branch_id(branches, slug)?)
                .bind(i64::try_from(position).unwrap_or(i64::MAX)),
            )
            .await?;
        }
    }
    Ok(())
}

/// Disables or enables `company`; records `audit` when that changed something.
pub(in crate::store::admin) async fn set_disabled(
    store: &AnyStore,
    company: CompanyId,
    disabled: bool,
    audit_record: &AuditRecord,
) -> Result<bool, StoreError> {
    let now = Utc::now();
    store
        .write(|mut tx| async move {
            let result: Result<bool, TxError> = async {
                let changed: Option<(String,)> = tx
                    .fetch_optional(
                        Sql::new(
                            "UPDATE companies SET disabled_at = $2, updated_at = $3 \
                             WHERE id = $1 AND (disabled_at IS NULL) = ($2 IS NOT NULL) \
                             RETURNING slug",
                        )
                        .bind(company.0)
                        .bind(disabled.then_some(now))
                        .bind(now),
                    )
                    .await?;
                if let Some((slug,)) = &changed {
                    audit::record(&mut tx, Some((company, slug)), audit_record, now).await?;
                }
                Ok(changed.is_some())
            }
            .await;
            (tx, result)
        })
        .await
}

/// Writes the credentials given, sealed; records `audit`. `false` when there is no such
/// company.
pub(in crate::store::admin) async fn set_credentials(
    store: &AnyStore,
    company: CompanyId,
    update: &CredentialUpdate,
    audit_record: &AuditRecord,
) -> Result<bool, StoreError> {
    let credentials = [
        (Column::RetellApiKey, update.retell_api_key.as_ref()),
        (Column::CalcomApiKey, update.calcom_api_key.as_ref()),
        (
            Column::CalcomWebhookSecret,
            update.calcom_webhook_secret.as_ref(),
        ),
        (Column::SmsAuthToken, update.sms_auth_token.as_ref()),
    ];
    require_key(store, &company, &credentials)?;
    let now = Utc::now();
    let credentials = &credentials;
    store
        .write(|mut tx| async move {
            let result: Result<bool, TxError> = async {
                let found: Option<(String,)> = tx
                    .fetch_optional(
                        Sql::new(
                            "UPDATE companies SET updated_at = $2 WHERE id = $1 RETURNING slug",
                        )
                        .bind(company.0)
                        .bind(now),
                    )
                    .await?;
                let Some((slug,)) = found else {
                    return Ok(false);
                };
                seal_credentials(store, &mut tx, company, credentials).await?;
                audit::record(&mut tx, Some((company, &slug)), audit_record, now).await?;
                Ok(true)
            }
            .await;
            (tx, result)
        })
        .await
}
