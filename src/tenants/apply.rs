//! Applying tenant files: every file is read and checked first — its own rules, slugs and
//! numbers not repeated across the files, numbers not owned by another stored tenant,
//! services named by event type slug found in the tenant's Cal.com — and nothing is written
//! unless all pass. Then each tenant is planned against what is stored and, unless it is a
//! dry run, written with its plan as the audit record.

use super::calcom::{CalcomAccess, CalcomAccessError};
use super::load::{FileError, FileErrors, TenantFile};
use std::collections::BTreeMap;
use std::path::PathBuf;
use switchboard_actors::domain::ids::CompanyId;
use switchboard_actors::domain::onboarding::{
    AuditRecord, KeyPart, KeyPath, TenantPlan, TenantRef, TenantSpec, plan,
};
use switchboard_actors::domain::phone::PhoneNumber;
use switchboard_actors::ports::{StoreError, TenantAdminStore};

/// How to apply.
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// Plan only; write nothing.
    pub dry_run: bool,
    /// Who applies, for the audit log, e.g. `cli:alice` or `sandbox`.
    pub actor: String,
    /// What, for the audit log, e.g. `tenant apply`.
    pub action: String,
}

/// One tenant applied (or planned, in a dry run).
#[derive(Clone, Debug)]
pub struct Applied {
    /// The file it came from.
    pub file: PathBuf,
    /// The tenant as validated, slugs of services resolved to event type ids.
    pub spec: TenantSpec,
    /// The changes, as written (or as they would be, in a dry run).
    pub plan: TenantPlan,
    /// The company id; `None` in a dry run of a tenant not yet stored.
    pub company_id: Option<CompanyId>,
}

/// Why nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// Refusals in the files, each at its `file:line:column`.
    #[error(transparent)]
    Files(#[from] FileErrors),
    /// The store failed (reading or writing); earlier tenants of the same run may be written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Applies the tenant files `files` (see the module docs). Tenants are written in the order
/// given, each in its own transaction.
///
/// # Errors
/// [`ApplyError::Files`] with every refusal of every file (nothing written);
/// [`ApplyError::Store`] when the store fails.
pub async fn apply<S>(
    files: Vec<TenantFile>,
    store: &S,
    calcom: &CalcomAccess,
    options: &ApplyOptions,
) -> Result<Vec<Applied>, ApplyError>
where
    S: TenantAdminStore + ?Sized,
{
    let mut errors = Vec::new();
    let mut checked = Vec::new();
    for file in files {
        match file.validate() {
            Ok(spec) => checked.push((file, spec)),
            Err(FileErrors(e)) => errors.extend(e),
        }
    }
    errors.extend(repeated_across_files(&checked));
    for (file, spec) in &mut checked {
        errors.extend(numbers_of_other_tenants(store, file, spec).await?);
        errors.extend(resolve_event_type_slugs(calcom, file, spec).await);
    }
    if !errors.is_empty() {
        return Err(FileErrors(errors).into());
    }
    let mut applied = Vec::with_capacity(checked.len());
    for (file, spec) in checked {
        let current = store.tenant(&TenantRef::Slug(spec.slug.clone())).await?;
        let plan = plan(current.as_ref(), &spec);
        let company_id = if options.dry_run || plan.is_empty() {
            current.map(|c| c.id)
        } else {
            let audit = AuditRecord {
                actor: options.actor.clone(),
                action: options.action.clone(),
                changes: plan.texts(),
            };
            Some(store.write_tenant(&spec, &audit).await?)
        };
        applied.push(Applied {
            file: file.path,
            spec,
            plan,
            company_id,
        });
    }
    Ok(applied)
}

/// A tenant slug or a phone number declared by two of the files.
fn repeated_across_files(checked: &[(TenantFile, TenantSpec)]) -> Vec<FileError> {
    let mut errors = Vec::new();
    let mut slugs: BTreeMap<&str, &TenantFile> = BTreeMap::new();
    let mut numbers: BTreeMap<&PhoneNumber, &TenantFile> = BTreeMap::new();
    for (file, spec) in checked {
        if let Some(first) = slugs.insert(spec.slug.as_str(), file) {
            errors.push(file.error_at(
                &path(&["slug"]),
                format!(
                    "tenant {} is also declared in {}",
                    spec.slug,
                    first.path.display()
                ),
            ));
        }
        for (number, at) in numbers_with_paths(spec) {
            if let Some(first) = numbers.insert(number, file)
                && !std::ptr::eq(first, file)
            {
                errors.push(file.error_at(
                    &at,
                    format!("{number} is also listed in {}", first.path.display()),
                ));
            }
        }
    }
    errors
}

async fn numbers_of_other_tenants<S>(
    store: &S,
    file: &TenantFile,
    spec: &TenantSpec,
) -> Result<Vec<FileError>, StoreError>
where
    S: TenantAdminStore + ?Sized,
{
    let listed = numbers_with_paths(spec);
    let numbers: Vec<PhoneNumber> = listed.iter().map(|(n, _)| (*n).clone()).collect();
    let owners = store.phone_owners(&numbers).await?;
    Ok(owners
        .iter()
        .filter(|(_, owner)| *owner != spec.slug)
        .filter_map(|(number, owner)| {
            let (_, at) = listed.iter().find(|(n, _)| *n == number)?;
            Some(file.error_at(at, format!("{number} belongs to tenant {owner}")))
        })
        .collect())
}

/// Gives each service written with only an `event_type_slug` the id of that event type in
/// the tenant's Cal.com.
async fn resolve_event_type_slugs(
    calcom: &CalcomAccess,
    file: &TenantFile,
    spec: &mut TenantSpec,
) -> Vec<FileError> {
    let unresolved: Vec<usize> = (0..spec.services.len())
        .filter(|&i| spec.services[i].event_type_id.is_none())
        .collect();
    if unresolved.is_empty() {
        return Vec::new();
    }
    let found = calcom.event_types(spec).await;
    let mut errors = Vec::new();
    for i in unresolved {
        let service = &mut spec.services[i];
        let at = KeyPath(vec![
            KeyPart::Key("services".into()),
            KeyPart::Index(i),
            KeyPart::Key("event_type_slug".into()),
        ]);
        let slug = service.event_type_slug.clone().unwrap_or_default();
        let message = match &found {
            Err(CalcomAccessError::Unavailable(why)) => format!(
                "service {:?}: cannot look up event type slug {slug:?}: {why}; give \
                 event_type_id instead",
                service.name
            ),
            Err(CalcomAccessError::Upstream(e)) => format!(
                "service {:?}: cannot look up event type slug {slug:?}: {e}",
                service.name
            ),
            Ok(types) => match types.iter().find(|t| t.slug == slug) {
                Some(t) => {
                    service.event_type_id = Some(t.id);
                    continue;
                }
                None => format!(
                    "service {:?}: no Cal.com event type with slug {slug:?} (found: {})",
                    service.name,
                    if types.is_empty() {
                        "none".to_owned()
                    } else {
                        types
                            .iter()
                            .map(|t| t.slug.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ),
            },
        };
        errors.push(file.error_at(&at, message));
    }
    errors
}

/// Every number of `spec` with the key path where it is written.
fn numbers_with_paths(spec: &TenantSpec) -> Vec<(&PhoneNumber, KeyPath)> {
    spec.branches
        .iter()
        .enumerate()
        .flat_map(|(i, b)| {
            b.phone_numbers.iter().enumerate().map(move |(j, n)| {
                (
                    n,
                    KeyPath(vec![
                        KeyPart::Key("branches".into()),
                        KeyPart::Index(i),
                        KeyPart::Key("phone_numbers".into()),
                        KeyPart::Index(j),
                    ]),
                )
            })
        })
        .collect()
}

fn path(keys: &[&str]) -> KeyPath {
    KeyPath(keys.iter().map(|k| KeyPart::Key((*k).to_owned())).collect())
}
