//! `service.create`: a new service of a tenant.

use crate::domain::ids::CompanyId;
use crate::domain::onboarding::RawService;
use crate::jsonrpc::RpcError;
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::servers::company::AdminDeps;
use crate::servers::company::edit::{Changed, edit};
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::Arc;

/// `service.create`.
pub struct Create;

/// Params of `service.create`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateParams {
    /// Defaults to the token's company; required with the operators' token.
    pub company_id: Option<CompanyId>,
    /// Name the agent speaks, unique within the tenant.
    pub name: String,
    /// Other names callers use.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Length of the appointment in minutes, 1–1440.
    pub duration_min: u32,
    /// Cal.com event type id; or give `event_type_slug`.
    pub event_type_id: Option<i64>,
    /// Cal.com event type slug, resolved against the tenant's event types when no id is given.
    pub event_type_slug: Option<String>,
    /// Cal.com team of the event type; default the tenant's `calcom.team_id`.
    pub team_id: Option<i64>,
    /// Slugs of the branches offering it; all branches when left out.
    pub branches: Option<Vec<String>>,
}

impl Method for Create {
    const NAME: &'static str = "service.create";
    const SUMMARY: &'static str = "Adds a service (name, aliases, duration_min, event_type_id \
        or event_type_slug, team_id, branches) to a tenant, validated as a tenant file \
        (-32602 with `error.data.details` = [{path, message}]). A slug without id is resolved \
        against the tenant's Cal.com event types; none with that slug is 2002. Returns the \
        changes as recorded in the audit log.";
    const SCOPE: Scope = Scope::Admin;
    const KIND: Kind = Kind::Write;
    type Deps = AdminDeps;
    type Params = CreateParams;
    type Output = Changed;

    async fn apply(
        p: CreateParams,
        grant: TokenGrant,
        deps: Arc<AdminDeps>,
    ) -> Result<Reply<Changed>, RpcError> {
        let changed = edit(&deps, &grant, p.company_id, Self::NAME, |raw| {
            // A name used twice is refused by the validation, naming the key.
            raw.services.push(RawService {
                name: p.name,
                aliases: p.aliases,
                duration_min: p.duration_min,
                event_type_id: p.event_type_id,
                event_type_slug: p.event_type_slug,
                team_id: p.team_id,
                branches: p.branches,
            });
            Ok(())
        })
        .await?;
        Reply::fresh(changed)
    }
}
