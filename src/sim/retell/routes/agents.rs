//! Agents and their versions (reference/retell.md §4.3, §4.4): `POST /v2/list-agents`,
//! `GET /get-agent/{id}?version=`, `GET /list-agent-versions/{id}`, `PATCH
//! /update-agent/{id}?version=`, `POST /publish-agent-version/{id}`, `POST
//! /create-agent-version/{id}`.
//!
//! The version rule (Retell's current one, §4.3 "Publish an existing draft version in place"):
//! - publishing version `n` marks that version published where it is; no new version appears,
//!   and earlier published versions stay published (numbers may keep pointing at them);
//! - `update-agent` without `?version` changes the latest version when it is a draft; when
//!   the latest is published it first makes a new draft `latest + 1` from it (`base_version`
//!   = latest) and changes that — a published version never changes;
//! - `update-agent?version=n` changes draft `n`; a published `n` is refused with 400;
//! - `create-agent-version` `{"base_version": n}` makes a new draft from any version.
//!
//! An agent keeps at most [`MAX_VERSIONS`] versions; a change needing one more is 413.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::super::Shared;
use super::super::errors::RetellError;
use super::super::store::{Agent, MAX_VERSIONS, Object, page};
use super::{bearer, json_body, limit, list_query, merge, now_ms, typed};
use switchboard_actors::retell::api::WEBHOOK_EVENTS;

/// Fields `update-agent` never changes: the identity and the version bookkeeping.
const READ_ONLY: [&str; 7] = [
    "agent_id",
    "version",
    "is_published",
    "last_modification_timestamp",
    "base_version",
    "version_title",
    "version_description",
];

/// `POST /v2/list-agents`: summaries `{agent_id, agent_name, channel, is_suspended, tags,
/// user_modified_timestamp}` in creation order (`sort_order` default descending: newest
/// first). `filter_criteria` is read but not applied: every agent is a voice agent here.
pub(super) async fn list(
    req: HttpRequest,
    shared: web::Data<Shared>,
    payload: web::Payload,
) -> Result<HttpResponse, RetellError> {
    let key = bearer(&req)?;
    let query = list_query(&req)?;
    let limit = limit(query.limit)?;
    json_body(payload).await?;
    let body = shared.accounts.with(&key, |account| {
        let summaries = account.agents.iter().map(summary).collect();
        let ordered = query.sort_order.unwrap_or_default().apply(summaries);
        page(
            ordered,
            "agent_id",
            limit,
            query.pagination_key.as_deref(),
            0,
        )
    })?;
    Ok(HttpResponse::Ok().json(body))
}

fn summary(agent: &Agent) -> Object {
    let latest = agent.versions.last();
    let field = |name: &str| latest.and_then(|v| v.get(name)).cloned();
    let modified = agent
        .versions
        .iter()
        .filter_map(|v| v.get("last_modification_timestamp").and_then(Value::as_i64))
        .max()
        .unwrap_or(0);
    let mut out = Object::new();
    out.insert("agent_id".into(), json!(agent.id));
    out.insert(
        "agent_name".into(),
        field("agent_name").unwrap_or_else(|| json!(agent.id)),
    );
    out.insert("channel".into(), json!("voice"));
    out.insert("is_suspended".into(), json!(false));
    out.insert("tags".into(), json!({}));
    out.insert("user_modified_timestamp".into(), json!(modified));
    out
}

/// `?version=` of `get-agent`: a number, `latest`, or `latest_published`.
#[derive(Debug, Deserialize)]
struct VersionQuery {
    version: Option<String>,
}

/// The version `asked` of `agent`: none or `latest` is the latest, `latest_published` the
/// highest published one, a number that version; anything else (a tag) is 422.
fn select<'a>(agent: &'a Agent, asked: Option<&str>) -> Result<&'a Object, RetellError> {
    match asked {
        None | Some("latest") => agent.versions.last(),
        Some("latest_published") => agent
            .versions
            .iter()
            .rev()
            .find(|v| v.get("is_published") == Some(&json!(true))),
        Some(n) => n.parse::<usize>().ok().and_then(|n| agent.versions.get(n)),
    }
    .ok_or(RetellError::NotFound)
}

/// `GET /get-agent/{agent_id}?version=`: the `AgentResponse` of that version.
pub(super) async fn get(
    req: HttpRequest,
    shared: web::Data<Shared>,
    path: web::Path<String>,
) -> Result<HttpResponse, RetellError> {
    let key = bearer(&req)?;
    let query = web::Query::<VersionQuery>::from_query(req.query_string())
        .map_err(|e| RetellError::bad(e.to_string()))?;
    let agent = shared.accounts.with(&key, |account| {
        select(account.agent(&path)?, query.version.as_deref()).cloned()
    })?;
    Ok(HttpResponse::Ok().json(agent))
}

/// `GET /list-agent-versions/{agent_id}`: `{version, is_published,
/// last_modification_timestamp, base_version?, version_title?, version_description?}` per
/// version, newest first unless `sort_order=ascending`.
pub(super) async fn versions(
    req: HttpRequest,
    shared: web::Data<Shared>,
    path: web::Path<String>,
) -> Result<HttpResponse, RetellError> {
    let key = bearer(&req)?;
    let query = list_query(&req)?;
    let limit = limit(query.limit)?;
    let body = shared.accounts.with(&key, |account| {
        let items = account
            .agent(&path)?
            .versions
            .iter()
            .map(|v| {
                [
                    "version",
                    "is_published",
                    "last_modification_timestamp",
                    "base_version",
                    "version_title",
                    "version_description",
                ]
                .into_iter()
                .filter_map(|f| v.get(f).map(|value| (f.to_owned(), value.clone())))
                .collect::<Object>()
            })
            .collect();
        let ordered = query.sort_order.unwrap_or_default().apply(items);
        page(
            ordered,
            "version",
            limit,
            query.pagination_key.as_deref(),
            0,
        )
    })?;
    Ok(HttpResponse::Ok().json(body))
}

/// `?version=` of `update-agent`: the draft to change.
#[derive(Debug, Deserialize)]
struct UpdateQuery {
    version: Option<usize>,
}

/// `PATCH /update-agent/{agent_id}?version=`: a partial `AgentRequest`; answers the changed
/// version's `AgentResponse` (the version rule is in the module docs).
pub(super) async fn update(
    req: HttpRequest,
    shared: web::Data<Shared>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, RetellError> {
    let key = bearer(&req)?;
    let query = web::Query::<UpdateQuery>::from_query(req.query_string())
        .map_err(|e| RetellError::bad(e.to_string()))?;
    let patch = json_body(payload).await?;
    let now = now_ms(&shared);
    let agent = shared.accounts.with(&key, |account| {
        let agent = account.agent_mut(&path)?;
        validate(&patch)?;
        let target = match query.version {
            Some(n) => {
                let version = agent.versions.get(n).ok_or(RetellError::NotFound)?;
                if is_published(version) {
                    return Err(RetellError::bad(format!(
                        "version {n} is published and cannot be changed; update the latest draft"
                    )));
                }
                n
            }
            None => {
                let latest = agent.versions.len().saturating_sub(1);
                if agent.versions.get(latest).is_some_and(is_published) {
                    new_draft(agent, latest, now)?
                } else {
                    latest
                }
            }
        };
        let version = agent
            .versions
            .get_mut(target)
            .ok_or(RetellError::NotFound)?;
        merge(version, patch, &READ_ONLY);
        version.insert("last_modification_timestamp".into(), json!(now));
        Ok(version.clone())
    })?;
    Ok(HttpResponse::Ok().json(agent))
}

fn is_published(version: &Object) -> bool {
    version.get("is_published") == Some(&json!(true))
}

/// Checks the fields of an agent patch that the simulator (or its clients) rely on.
fn validate(patch: &Object) -> Result<(), RetellError> {
    for required in ["voice_id", "response_engine"] {
        if patch.get(required).is_some_and(Value::is_null) {
            return Err(RetellError::bad(format!("{required} cannot be removed")));
        }
    }
    if let Some(engine) = patch.get("response_engine") {
        let kind = engine.get("type").and_then(Value::as_str);
        let needs = match kind {
            Some("retell-llm") => "llm_id",
            Some("custom-llm") => "llm_websocket_url",
            Some("conversation-flow") => "conversation_flow_id",
            _ => {
                return Err(RetellError::bad(
                    "response_engine.type must be retell-llm, custom-llm or conversation-flow",
                ));
            }
        };
        if !engine.get(needs).is_some_and(Value::is_string) {
            return Err(RetellError::bad(format!(
                "response_engine.{needs} is required"
            )));
        }
    }
    for text in ["voice_id", "agent_name", "webhook_url", "language"] {
        if patch
            .get(text)
            .is_some_and(|v| !v.is_null() && !v.is_string())
        {
            return Err(RetellError::bad(format!("{text} must be a string")));
        }
    }
    if let Some(events) = patch.get("webhook_events").filter(|v| !v.is_null()) {
        let known = events.as_array().is_some_and(|list| {
            list.iter()
                .all(|e| e.as_str().is_some_and(|e| WEBHOOK_EVENTS.contains(&e)))
        });
        if !known {
            return Err(RetellError::bad(format!(
                "webhook_events must be a list of {}",
                WEBHOOK_EVENTS.join(", ")
            )));
        }
    }
    if patch
        .get("webhook_timeout_ms")
        .is_some_and(|v| !v.is_null() && !v.is_u64())
    {
        return Err(RetellError::bad(
            "webhook_timeout_ms must be a whole number of milliseconds",
        ));
    }
    Ok(())
}

/// Adds a draft copied from version `base` and returns its number; 413 at [`MAX_VERSIONS`].
fn new_draft(agent: &mut Agent, base: usize, now: i64) -> Result<usize, RetellError> {
    if agent.versions.len() >= MAX_VERSIONS {
        return Err(RetellError::TooLarge(format!(
            "an agent keeps at most {MAX_VERSIONS} versions in the simulator"
        )));
    }
    let mut draft = agent
        .versions
        .get(base)
        .cloned()
        .ok_or(RetellError::NotFound)?;
    let number = agent.versions.len();
    draft.insert("version".into(), json!(number));
    draft.insert("is_published".into(), json!(false));
    draft.insert("base_version".into(), json!(base));
    draft.insert("last_modification_timestamp".into(), json!(now));
    draft.remove("version_title");
    draft.remove("version_description");
    agent.versions.push(draft);
    Ok(number)
}

/// Body of `publish-agent-version`.
#[derive(Debug, Deserialize)]
struct Publish {
    version: usize,
    version_title: Option<String>,
    version_description: Option<String>,
}

/// `POST /publish-agent-version/{agent_id}` `{"version": n, "version_title"?,
/// "version_description"?}`: publishes draft `n` in place; 200 with no body (the SDK reads
/// none). Publishing a published version again only updates its title and description.
pub(super) async fn publish(
    req: HttpRequest,
    shared: web::Data<Shared>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, RetellError> {
    let key = bearer(&req)?;
    let body: Publish = typed(&json_body(payload).await?)?;
    let now = now_ms(&shared);
    shared.accounts.with(&key, |account| {
        let agent = account.agent_mut(&path)?;
        let version = agent
            .versions
            .get_mut(body.version)
            .ok_or(RetellError::NotFound)?;
        version.insert("is_published".into(), json!(true));
        version.insert("last_modification_timestamp".into(), json!(now));
        if let Some(title) = body.version_title {
            version.insert("version_title".into(), json!(title));
        }
        if let Some(description) = body.version_description {
            version.insert("version_description".into(), json!(description));
        }
        Ok(())
    })?;
    Ok(HttpResponse::Ok().finish())
}

/// Body of `create-agent-version`.
#[derive(Debug, Deserialize)]
struct CreateVersion {
    base_version: usize,
}

/// `POST /create-agent-version/{agent_id}` `{"base_version": n}`: a new draft copied from
/// version `n`; answers its `AgentResponse`.
pub(super) async fn create_version(
    req: HttpRequest,
    shared: web::Data<Shared>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, RetellError> {
    let key = bearer(&req)?;
    let body: CreateVersion = typed(&json_body(payload).await?)?;
    let now = now_ms(&shared);
    let agent = shared.accounts.with(&key, |account| {
        let agent = account.agent_mut(&path)?;
        let number = new_draft(agent, body.base_version, now)?;
        agent
            .versions
            .get(number)
            .cloned()
            .ok_or(RetellError::NotFound)
    })?;
    Ok(HttpResponse::Created().json(agent))
}
