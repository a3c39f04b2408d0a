//! `calcom.syncEventTypes`: the company's Cal.com event types against its services — which
//! match, which services have no event type, which event types no service uses — and, with
//! `apply`, the matches written through the one tenant write path (validated, planned,
//! audited).

use super::CalcomDeps;
use crate::domain::booking::EventType;
use crate::domain::ids::{CompanyId, EventTypeId};
use crate::domain::onboarding::{
    AuditRecord, ServiceSpec, TenantRef, TenantSpec, TenantState, literal_secret, plan,
};
use crate::jsonrpc::{AppError, ErrorCode, RpcError};
use crate::records::{TokenGrant, TokenScope};
use crate::registry::{Kind, Method, Reply, Scope};
use crate::server::require_company;
use crate::servers::{store_error, upstream_error};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `calcom.syncEventTypes`.
pub struct SyncEventTypes;

/// Params of `calcom.syncEventTypes`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncParams {
    /// Defaults to the token's company; required with an admin token.
    pub company_id: Option<CompanyId>,
    /// Write the event type ids of services matched by slug or title (needs an admin
    /// token); default false: only report.
    #[serde(default)]
    pub apply: bool,
}

/// How a service found its event type, in the order tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MatchedBy {
    /// The service's stored `event_type_id`.
    Id,
    /// The service's `event_type_slug`.
    Slug,
    /// The event type's title equals the service's name, ignoring case.
    Title,
}

/// A service and the event type that backs it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Matched {
    /// Service name.
    pub service: String,
    /// Cal.com event type id.
    pub event_type_id: EventTypeId,
    /// How it was found.
    pub by: MatchedBy,
}

/// A service whose length differs from its event type's.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DurationMismatch {
    /// Service name.
    pub service: String,
    /// The service's `duration_min`.
    pub duration_min: u32,
    /// Cal.com event type id.
    pub event_type_id: EventTypeId,
    /// The event type's `lengthInMinutes`.
    pub length_in_minutes: u32,
}

/// `result.data` of `calcom.syncEventTypes`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SyncReport {
    /// Services with the event type they match.
    pub matched: Vec<Matched>,
    /// Names of services no event type matches.
    pub unmapped_services: Vec<String>,
    /// Event types no service matches (the user's, and the team's when set).
    pub unused_event_types: Vec<EventType>,
    /// Matched services whose length differs from the event type's.
    pub duration_mismatches: Vec<DurationMismatch>,
    /// The changes writing the matches makes (empty when every service already has its id).
    pub changes: Vec<String>,
    /// Whether `changes` were written.
    pub applied: bool,
}

impl Method for SyncEventTypes {
    const NAME: &'static str = "calcom.syncEventTypes";
    const SUMMARY: &'static str = "Pulls the company's Cal.com event types (the user's, and the \
        team's when calcom.team_id is set) and matches each service by event type id, then \
        slug, then title (case-insensitive). Reports matched services, unmapped services, \
        unused event types and duration mismatches, and the changes writing the matches would \
        make. With apply: true (admin token) writes them, recorded in the audit log.";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Write;
    type Deps = CalcomDeps;
    type Params = SyncParams;
    type Output = SyncReport;

    async fn apply(
        p: SyncParams,
        grant: TokenGrant,
        deps: Arc<CalcomDeps>,
    ) -> Result<Reply<SyncReport>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        // The registry checks one scope per method; writing is the admin part of this one.
        if p.apply && grant.scope < TokenScope::Admin {
            return Err(AppError::new(
                ErrorCode::Forbidden,
                "apply needs an admin token; without apply the report is read-only",
            )
            .into());
        }
        let state = deps.tenant_state(company).await?;
        let tenant = deps.tenant(company).await?;
        let key = &tenant.profile.calcom_api_key;
        let unavailable = |e| upstream_error(&e, ErrorCode::UpstreamUnavailable);
        let mut types = tenant.api.event_types(key).await.map_err(unavailable)?;
        if let Some(team) = state.spec.calcom.team_id {
            let team_types = tenant
                .api
                .team_event_types(key, team)
                .await
                .map_err(unavailable)?;
            for t in team_types {
                if !types.iter().any(|known| known.id == t.id) {
                    types.push(t);
                }
            }
        }
        let mut report = compare(&state.spec.services, &types);
        let updated = with_matches(&state, &report.matched)?;
        let changes = plan(Some(&state), &updated);
        report.changes = changes.lines.iter().map(ToString::to_string).collect();
        if p.apply && !changes.is_empty() {
            let audit = AuditRecord {
                actor: grant.actor(),
                action: Self::NAME.to_owned(),
                changes: report.changes.clone(),
            };
            deps.admin
                .write_tenant(&updated, &audit)
                .await
                .map_err(|e| store_error(&e))?;
            // The cached list names the services each event type backs.
            deps.cache.remove(&super::event_types_key(company)).await;
            deps.services_cache.invalidate(company).await;
            report.applied = true;
        }
        Reply::fresh(report)
    }
}

impl CalcomDeps {
    /// The tenant as stored, or 3001.
    async fn tenant_state(&self, company: CompanyId) -> Result<TenantState, RpcError> {
        self.admin
            .tenant(&TenantRef::Id(company))
            .await
            .map_err(|e| store_error(&e))?
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::CompanyNotFound,
                    format!("company {company} not found"),
                )
                .into()
            })
    }

    /// The tenant's `calcom.team_id`.
    pub(super) async fn team_id(&self, company: CompanyId) -> Result<Option<i64>, RpcError> {
        Ok(self.tenant_state(company).await?.spec.calcom.team_id)
    }
}

/// Matches every service (by id, then slug, then title) and sorts out what is left over.
fn compare(services: &[ServiceSpec], types: &[EventType]) -> SyncReport {
    let mut report = SyncReport {
        matched: Vec::new(),
        unmapped_services: Vec::new(),
        unused_event_types: Vec::new(),
        duration_mismatches: Vec::new(),
        changes: Vec::new(),
        applied: false,
    };
    for service in services {
        let by_id = service
            .event_type_id
            .and_then(|id| types.iter().find(|t| t.id == id))
            .map(|t| (t, MatchedBy::Id));
        let by_slug = || {
            let slug = service.event_type_slug.as_deref()?;
            types
                .iter()
                .find(|t| t.slug == slug)
                .map(|t| (t, MatchedBy::Slug))
        };
        let by_title = || {
            let name = service.name.to_lowercase();
            types
                .iter()
                .find(|t| t.title.to_lowercase() == name)
                .map(|t| (t, MatchedBy::Title))
        };
        let Some((found, by)) = by_id.or_else(by_slug).or_else(by_title) else {
            report.unmapped_services.push(service.name.clone());
            continue;
        };
        if found.length_in_minutes != service.duration_min {
            report.duration_mismatches.push(DurationMismatch {
                service: service.name.clone(),
                duration_min: service.duration_min,
                event_type_id: found.id,
                length_in_minutes: found.length_in_minutes,
            });
        }
        report.matched.push(Matched {
            service: service.name.clone(),
            event_type_id: found.id,
            by,
        });
    }
    report.unused_event_types = types
        .iter()
        .filter(|t| !report.matched.iter().any(|m| m.event_type_id == t.id))
        .cloned()
        .collect();
    report
}

/// The tenant with every matched service's `event_type_id` set, validated like any other
/// change (the same `TenantSpec::from_raw` as files and `company.update`).
fn with_matches(state: &TenantState, matched: &[Matched]) -> Result<TenantSpec, RpcError> {
    let mut raw = state.spec.to_raw();
    for service in &mut raw.services {
        if let Some(m) = matched.iter().find(|m| m.service == service.name) {
            service.event_type_id = Some(m.event_type_id.0);
        }
    }
    TenantSpec::from_raw(&raw, &literal_secret).map_err(|errors| {
        let message = errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        AppError::new(ErrorCode::SchemaValidationFailed, message).into()
    })
}
