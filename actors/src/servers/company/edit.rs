//! The one path of every tenant change over JSON-RPC, and the errors it answers.

use super::AdminDeps;
use crate::domain::ids::CompanyId;
use crate::domain::onboarding::{
    AuditRecord, KeyPart, KeyPath, RawTenant, SpecError, TenantPlan, TenantRef, TenantSpec,
    TenantState, literal_secret, plan,
};
use crate::jsonrpc::{AppError, ErrorCode, RpcError};
use crate::ports::StoreError;
use crate::records::TokenGrant;
use crate::server::require_company;
use crate::servers::calcom::event_types_key;
use crate::servers::{store_error, tenant_error, upstream_error};
use crate::tenant::{ForgetTenant, GetTenant};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;

/// `result.data` of a change: the company and what changed, one line each, as in the audit
/// log (`~ name: "Salon" → "Salon Nord"`); empty when the call changed nothing.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Changed {
    /// The company changed.
    pub company_id: CompanyId,
    /// The plan's lines: `+` added, `~` changed, `-` removed. Secrets only as fingerprints.
    pub changes: Vec<String>,
}

/// Changes the tenant `company` (the token's own when `None`) by `change` to its written
/// form, validated as a tenant file, and writes it with `action` in the audit log.
///
/// # Errors
/// -32002 for another company's tenant; 3001 when there is none; what `change` returns;
/// -32602 with `data.details = [{path, message}]` for every refused value (as a tenant file
/// would be refused) and for a number another tenant owns; 2002 for an event type slug the
/// tenant's Cal.com account does not have; 4004 when the store refuses a value another
/// tenant holds; 3004 when the store fails.
pub async fn edit(
    deps: &AdminDeps,
    grant: &TokenGrant,
    company: Option<CompanyId>,
    action: &'static str,
    change: impl FnOnce(&mut RawTenant) -> Result<(), RpcError>,
) -> Result<Changed, RpcError> {
    let company = require_company(grant, company)?;
    let state = load(deps, company).await?;
    let mut raw = state.spec.to_raw();
    change(&mut raw)?;
    let mut spec = validate(&raw)?;
    resolve_event_types(deps, company, &mut spec).await?;
    only_operators_add_numbers(grant, &state.spec, &spec)?;
    check_numbers(deps, grant, &spec).await?;
    let plan = plan(Some(&state), &spec);
    if !plan.is_empty() {
        write(deps, grant, action, &spec, &plan).await?;
    }
    Ok(Changed {
        company_id: company,
        changes: plan.texts(),
    })
}

/// The stored tenant `company`.
///
/// # Errors
/// 3001 when there is none; 3004 when the store fails.
pub async fn load(deps: &AdminDeps, company: CompanyId) -> Result<TenantState, RpcError> {
    deps.tenants
        .tenant(&TenantRef::Id(company))
        .await
        .map_err(|e| store_error(&e))?
        .ok_or_else(|| company_not_found(company))
}

/// 3001 naming the company.
pub fn company_not_found(company: CompanyId) -> RpcError {
    AppError::new(
        ErrorCode::CompanyNotFound,
        format!("company {company} not found"),
    )
    .into()
}

/// [`TenantSpec::from_raw`] with the secrets as given (`env:`/`file:` refused).
///
/// # Errors
/// -32602 listing every refused value.
pub fn validate(raw: &RawTenant) -> Result<TenantSpec, RpcError> {
    TenantSpec::from_raw(raw, &literal_secret).map_err(|errors| refused(&errors))
}

/// -32602 with `data.details = [{path, message}, …]`, the message naming the first.
pub fn refused(errors: &[SpecError]) -> RpcError {
    let details: Vec<_> = errors
        .iter()
        .map(|e| json!({"path": e.path.to_string(), "message": e.message}))
        .collect();
    let first = errors.first().map(ToString::to_string).unwrap_or_default();
    let more = match errors.len() {
        0 | 1 => String::new(),
        n => format!(" (and {} more)", n - 1),
    };
    RpcError {
        code: RpcError::INVALID_PARAMS,
        message: format!("Invalid params: {first}{more}"),
        data: Some(json!({"type": "invalid_params", "details": details})),
    }
}

/// -32602 with `data.type = "not_found"`: a branch, number, service or token the tenant does
/// not have (another tenant's is answered the same way).
pub fn not_found(what: String) -> RpcError {
    RpcError {
        data: Some(json!({"type": "not_found", "details": what})),
        ..RpcError::invalid_params("")
    }
}

/// Gives every service written with only `event_type_slug` its id, from the tenant's Cal.com
/// event types (through the company's breaker).
async fn resolve_event_types(
    deps: &AdminDeps,
    company: CompanyId,
    spec: &mut TenantSpec,
) -> Result<(), RpcError> {
    if spec.services.iter().all(|s| s.event_type_id.is_some()) {
        return Ok(());
    }
    let tenant = deps
        .directory
        .send(GetTenant(company))
        .await
        .map_err(|e| RpcError::internal(e.to_string()))?
        .map_err(|e| tenant_error(&e))?;
    let types = tenant
        .calendar
        .event_types()
        .await
        .map_err(|e| upstream_error(&e, ErrorCode::EventTypeNotFound))?;
    for service in spec
        .services
        .iter_mut()
        .filter(|s| s.event_type_id.is_none())
    {
        let slug = service.event_type_slug.clone().unwrap_or_default();
        let found = types.iter().find(|t| t.slug == slug).ok_or_else(|| {
            AppError::new(
                ErrorCode::EventTypeNotFound,
                format!(
                    "service {:?}: the Cal.com account has no event type with slug {slug:?}",
                    service.name
                ),
            )
        })?;
        service.event_type_id = Some(found.id);
    }
    Ok(())
}

/// Refuses a number `spec` routes that `stored` did not, unless the operators' admin token
/// asks: a number is claimed for all tenants at once, so a tenant could otherwise squat the
/// numbers of businesses not yet onboarded (and probe which are taken). Tenants may rename,
/// re-hour and drop their own numbers.
///
/// # Errors
/// -32002 naming the first new number.
pub fn only_operators_add_numbers(
    grant: &TokenGrant,
    stored: &TenantSpec,
    spec: &TenantSpec,
) -> Result<(), RpcError> {
    if grant.company_id.is_none() {
        return Ok(());
    }
    let had: Vec<_> = stored
        .branches
        .iter()
        .flat_map(|b| b.phone_numbers.iter())
        .collect();
    match spec
        .branches
        .iter()
        .flat_map(|b| b.phone_numbers.iter())
        .find(|n| !had.contains(n))
    {
        None => Ok(()),
        Some(number) => Err(AppError::new(
            ErrorCode::Forbidden,
            format!(
                "adding phone number {number} needs the operators' admin token (numbers are \
                 assigned by the operators)"
            ),
        )
        .into()),
    }
}

/// Refuses numbers another tenant owns. A company token is not told which tenant: tenants
/// must not learn each other's names.
///
/// # Errors
/// -32602 with the key path of each such number.
pub async fn check_numbers(
    deps: &AdminDeps,
    grant: &TokenGrant,
    spec: &TenantSpec,
) -> Result<(), RpcError> {
    let numbers: Vec<_> = spec
        .branches
        .iter()
        .flat_map(|b| b.phone_numbers.iter().cloned())
        .collect();
    if numbers.is_empty() {
        return Ok(());
    }
    let owners = deps
        .tenants
        .phone_owners(&numbers)
        .await
        .map_err(|e| store_error(&e))?;
    let mut errors = Vec::new();
    for (number, owner) in owners.iter().filter(|(_, owner)| *owner != spec.slug) {
        let Some((i, j)) = spec.branches.iter().enumerate().find_map(|(i, b)| {
            b.phone_numbers
                .iter()
                .position(|n| n == number)
                .map(|j| (i, j))
        }) else {
            continue;
        };
        let whose = if grant.company_id.is_none() {
            format!("tenant {owner}")
        } else {
            "another tenant".to_owned()
        };
        errors.push(SpecError {
            path: KeyPath(vec![
                KeyPart::Key("branches".into()),
                KeyPart::Index(i),
                KeyPart::Key("phone_numbers".into()),
                KeyPart::Index(j),
            ]),
            message: format!("{number} is already routed to {whose}"),
        });
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(refused(&errors))
    }
}

/// Writes `spec` with `plan`'s lines in the audit log, then makes the core forget the
/// company's cached handles.
///
/// # Errors
/// See [`write_error`].
pub async fn write(
    deps: &AdminDeps,
    grant: &TokenGrant,
    action: &'static str,
    spec: &TenantSpec,
    plan: &TenantPlan,
) -> Result<CompanyId, RpcError> {
    let audit = AuditRecord {
        actor: grant.actor(),
        action: action.to_owned(),
        changes: plan.texts(),
    };
    let company = deps
        .tenants
        .write_tenant(spec, &audit)
        .await
        .map_err(|e| write_error(grant, &e))?;
    forget(deps, company).await;
    Ok(company)
}

/// Tells the directory to drop `company`'s cached handles, and drops its cached event types
/// (they show which service each backs) and services (a changed service, or a branch gone
/// that offered one).
pub async fn forget(deps: &AdminDeps, company: CompanyId) {
    deps.directory.do_send(ForgetTenant(company));
    deps.cache.remove(&event_types_key(company)).await;
    deps.services.invalidate(company).await;
}

/// 4004 for a value another tenant holds ([`StoreError::Conflict`]); its text, which may
/// name that tenant, only for the operators' token.
pub fn write_error(grant: &TokenGrant, e: &StoreError) -> RpcError {
    match e {
        StoreError::Conflict(what) => {
            let message = if grant.company_id.is_none() {
                format!("refused: {what}")
            } else {
                "refused: a phone number or the name is already another tenant's, or a branch \
                 to delete still has calls or appointments"
                    .to_owned()
            };
            AppError::new(ErrorCode::SchemaValidationFailed, message).into()
        }
        other => store_error(other),
    }
}
