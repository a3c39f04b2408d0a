//! `company.create`: a new tenant from its declaration, validated as a tenant file.

use super::AdminDeps;
use super::edit::{Changed, check_numbers, refused, validate, write};
use crate::domain::onboarding::{KeyPart, KeyPath, RawTenant, SpecError, TenantRef, plan};
use crate::jsonrpc::RpcError;
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::servers::store_error;
use std::sync::Arc;

/// `company.create`.
pub struct Create;

impl Method for Create {
    const NAME: &'static str = "company.create";
    const SUMMARY: &'static str = "Creates a tenant from params shaped like a tenant file \
        (slug, name, locale de|en, IANA time_zone, retell, calcom, policy, branches, services), \
        validated exactly as `switchboard tenant apply` validates the file: every refused value \
        is listed in `error.data.details` as {path, message} (-32602). Credentials are given as \
        values (env:/file: references are refused). Services need `event_type_id` here; \
        `event_type_slug` alone is resolved by service.create/update once the tenant exists. \
        Returns the company id and the changes as recorded in the audit log. Operators' token \
        only.";
    const SCOPE: Scope = Scope::Platform;
    const KIND: Kind = Kind::Write;
    type Deps = AdminDeps;
    type Params = RawTenant;
    type Output = Changed;

    async fn apply(
        raw: RawTenant,
        grant: TokenGrant,
        deps: Arc<AdminDeps>,
    ) -> Result<Reply<Changed>, RpcError> {
        let spec = validate(&raw)?;
        let unresolved: Vec<SpecError> = spec
            .services
            .iter()
            .enumerate()
            .filter(|(_, s)| s.event_type_id.is_none())
            .map(|(i, _)| SpecError {
                path: KeyPath(vec![
                    KeyPart::Key("services".into()),
                    KeyPart::Index(i),
                    KeyPart::Key("event_type_slug".into()),
                ]),
                message: "give event_type_id when creating a tenant; a slug alone is resolved \
                          by service.create or service.update once the tenant exists"
                    .into(),
            })
            .collect();
        if !unresolved.is_empty() {
            return Err(refused(&unresolved));
        }
        let existing = deps
            .tenants
            .tenant(&TenantRef::Slug(spec.slug.clone()))
            .await
            .map_err(|e| store_error(&e))?;
        if existing.is_some() {
            return Err(refused(&[SpecError {
                path: KeyPath(vec![KeyPart::Key("slug".into())]),
                message: format!(
                    "a tenant with slug {} exists already; change it with company.update",
                    spec.slug
                ),
            }]));
        }
        check_numbers(&deps, &grant, &spec).await?;
        let plan = plan(None, &spec);
        let company_id = write(&deps, &grant, Self::NAME, &spec, &plan).await?;
        Reply::fresh(Changed {
            company_id,
            changes: plan.texts(),
        })
    }
}
