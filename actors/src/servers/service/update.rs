//! `service.update`: a service's name, aliases, length, event type, team or branches.

use super::service_mut;
use crate::domain::ids::CompanyId;
use crate::jsonrpc::RpcError;
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::servers::company::AdminDeps;
use crate::servers::company::edit::{Changed, edit};
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::Arc;

/// `service.update`.
pub struct Update;

/// Params of `service.update`; what is left out stays.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateParams {
    /// Defaults to the token's company; required with the operators' token.
    pub company_id: Option<CompanyId>,
    /// The service's current name.
    pub service: String,
    /// New name.
    pub name: Option<String>,
    /// New aliases (replace the old ones).
    pub aliases: Option<Vec<String>>,
    /// New length in minutes, 1–1440.
    pub duration_min: Option<u32>,
    /// New Cal.com event type id. Giving this or `event_type_slug` replaces both.
    pub event_type_id: Option<i64>,
    /// New Cal.com event type slug, resolved when no id is given.
    pub event_type_slug: Option<String>,
    /// New Cal.com team id.
    pub team_id: Option<i64>,
    /// Slugs of the branches offering it; `[]` offers it at every branch again.
    pub branches: Option<Vec<String>>,
}

impl Method for Update {
    const NAME: &'static str = "service.update";
    const SUMMARY: &'static str = "Changes a service: name, aliases, duration_min, \
        event_type_id / event_type_slug (either replaces both; a slug alone is resolved \
        against the tenant's Cal.com event types, 2002 when there is none), team_id, \
        branches (`[]`: every branch again). Validated as a tenant file (-32602 with `error.data.details` = \
        [{path, message}]); an unknown service is -32602 `not_found`. Returns the changes \
        as recorded in the audit log.";
    const SCOPE: Scope = Scope::Admin;
    const KIND: Kind = Kind::Write;
    type Deps = AdminDeps;
    type Params = UpdateParams;
    type Output = Changed;

    async fn apply(
        p: UpdateParams,
        grant: TokenGrant,
        deps: Arc<AdminDeps>,
    ) -> Result<Reply<Changed>, RpcError> {
        let changed = edit(&deps, &grant, p.company_id, Self::NAME, |raw| {
            let service = service_mut(raw, &p.service)?;
            if let Some(name) = p.name {
                service.name = name;
            }
            if let Some(aliases) = p.aliases {
                service.aliases = aliases;
            }
            if let Some(minutes) = p.duration_min {
                service.duration_min = minutes;
            }
            if p.event_type_id.is_some() || p.event_type_slug.is_some() {
                service.event_type_id = p.event_type_id;
                service.event_type_slug = p.event_type_slug;
            }
            if let Some(team) = p.team_id {
                service.team_id = Some(team);
            }
            if let Some(branches) = p.branches {
                service.branches = (!branches.is_empty()).then_some(branches);
            }
            Ok(())
        })
        .await?;
        Reply::fresh(changed)
    }
}
