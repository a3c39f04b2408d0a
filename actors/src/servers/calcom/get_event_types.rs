//! `calcom.getEventTypes`: the company's event types and the services they back (cached).

use super::CalcomDeps;
use crate::domain::booking::EventType;
use crate::domain::ids::CompanyId;
use crate::jsonrpc::{ErrorCode, RpcError};
use crate::metric_names as m;
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::server::require_company;
use crate::servers::upstream_error;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `calcom.getEventTypes`.
pub struct GetEventTypes;

/// Params with only the company.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompanyParams {
    /// Defaults to the token's company; required with an admin token.
    pub company_id: Option<CompanyId>,
}

/// `result.data` of `calcom.getEventTypes`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct EventTypes {
    /// The event types of the company's Cal.com account, in Cal.com's order.
    pub event_types: Vec<EventTypeView>,
}

/// An event type with the service it backs, if any.
#[derive(Debug, Serialize, JsonSchema)]
pub struct EventTypeView {
    /// The Cal.com event type.
    #[serde(flatten)]
    pub event_type: EventType,
    /// Name of our service booked through it; `None` when no service uses it.
    pub service: Option<String>,
}

impl Method for GetEventTypes {
    const NAME: &'static str = "calcom.getEventTypes";
    const SUMMARY: &'static str = "Lists the company's Cal.com event types (id, title, slug, \
        length in minutes) and, for each, the name of the service it books, if any. Served \
        from a cache for up to 5 minutes (`metadata.cached`).";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = CalcomDeps;
    type Params = CompanyParams;
    type Output = EventTypes;

    async fn apply(
        p: CompanyParams,
        grant: TokenGrant,
        deps: Arc<CalcomDeps>,
    ) -> Result<Reply<EventTypes>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        let key = super::event_types_key(company);
        if let Some(hit) = deps.cache.get(&key).await {
            metrics::counter!(m::CACHE_HITS_TOTAL, "cache" => "event_types").increment(1);
            return Ok(Reply::cached(hit));
        }
        let tenant = deps.tenant(company).await?;
        let types = tenant
            .calendar
            .event_types()
            .await
            .map_err(|e| upstream_error(&e, ErrorCode::EventTypeNotFound))?;
        let services = deps.services(company).await?;
        let event_types = types
            .into_iter()
            .map(|t| EventTypeView {
                service: services
                    .iter()
                    .find(|s| s.event_type_id == t.id)
                    .map(|s| s.name.clone()),
                event_type: t,
            })
            .collect();
        let reply = Reply::fresh(EventTypes { event_types })?;
        deps.cache
            .set(&key, reply.data().clone(), deps.ttl.event_types)
            .await;
        Ok(reply)
    }
}
