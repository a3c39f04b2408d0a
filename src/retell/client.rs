//! [`RetellClient`]: the reqwest implementation of the core's [`RetellApi`] port.

use super::SERVICE;
use super::error::status_error;
use super::wire::{self, ListCallsBody, WirePage};
use crate::config::redact_url;
use crate::upstream;
use async_trait::async_trait;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue};
use reqwest::{Method, RequestBuilder, StatusCode, Url};
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::time::Duration;
use switchboard_actors::domain::booking::{ErrorAnswer, UpstreamError};
use switchboard_actors::ports::RetellApi;
use switchboard_actors::retell::api::{
    Agent, AgentSummary, AgentUpdate, AgentVersion, CallObject, CallQuery, LlmUpdate, Page,
    PageRequest, PhoneNumberUpdate, RetellLlm, RetellPhoneNumber,
};

/// One Retell operation: how it is labelled in metrics and logs, and its HTTP method.
struct Op {
    /// `method` label of `mcp_api_duration_seconds`, named after the port method (the breaker
    /// labels the whole operation, retries included, with its camelCase name).
    name: &'static str,
    method: Method,
}

impl Op {
    const fn new(name: &'static str, method: Method) -> Self {
        Self { name, method }
    }
}

const LIST_AGENTS: Op = Op::new("list_agents", Method::POST);
const GET_AGENT: Op = Op::new("get_agent", Method::GET);
const LIST_AGENT_VERSIONS: Op = Op::new("list_agent_versions", Method::GET);
const UPDATE_AGENT: Op = Op::new("update_agent", Method::PATCH);
const PUBLISH_AGENT_VERSION: Op = Op::new("publish_agent_version", Method::POST);
const GET_LLM: Op = Op::new("get_llm", Method::GET);
const UPDATE_LLM: Op = Op::new("update_llm", Method::PATCH);
const LIST_PHONE_NUMBERS: Op = Op::new("list_phone_numbers", Method::GET);
const UPDATE_PHONE_NUMBER: Op = Op::new("update_phone_number", Method::PATCH);
const LIST_CALLS: Op = Op::new("list_calls", Method::POST);
const GET_CALL: Op = Op::new("get_call", Method::GET);

/// Why a [`RetellClient`] could not be built. Both are configuration or start-up faults.
#[derive(Debug, thiserror::Error)]
pub enum RetellClientError {
    /// The base URL does not parse, is not http(s), or carries a query or fragment.
    #[error("invalid Retell base URL {url:?}: {reason}")]
    InvalidBaseUrl {
        /// The base URL as configured, without password, query or fragment
        /// ([`redact_url`]): the error is printed at start-up.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// reqwest could not build its client (in practice: TLS backend initialisation).
    #[error("cannot build the Retell HTTP client: {0}")]
    Build(#[from] reqwest::Error),
}

/// Retell's REST API (reference/retell.md §4), one API key per call so one client serves
/// every company.
///
/// Cheap to clone: clones share the connection pool, which is why there is exactly one
/// `reqwest::Client` per `RetellClient` and never one per request.
#[derive(Clone, Debug)]
pub struct RetellClient {
    http: reqwest::Client,
    /// Scheme, host and optional path prefix; each route's path is appended per request.
    base: Url,
    /// Kept for error messages; reqwest enforces it.
    timeout: Duration,
}

impl RetellClient {
    /// A client for `base_url`, e.g. `https://api.retellai.com` or `http://127.0.0.1:PORT`
    /// (a path prefix is kept). `timeout` bounds each request from connect to the last body
    /// byte. Redirects are not followed (a redirect means a wrong base URL).
    ///
    /// # Errors
    /// [`RetellClientError::InvalidBaseUrl`] for a bad URL, [`RetellClientError::Build`] when
    /// the TLS backend cannot start.
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, RetellClientError> {
        let base = upstream::parse_base_url(base_url).map_err(|reason| {
            RetellClientError::InvalidBaseUrl {
                url: redact_url(&SecretString::from(base_url)),
                reason,
            }
        })?;
        Ok(Self {
            http: upstream::http_client(timeout)?,
            base,
            timeout,
        })
    }

    /// `base` + `/<route…>/<id>`: the route's fixed segments and then one id, which becomes
    /// exactly one percent-encoded segment — a `/`, `?` or `#` in it cannot change the path.
    /// `+` is sent as `%2B` (§4.3 "URL-encode `+`"), which the URL standard leaves literal and
    /// a server might read as a space.
    ///
    /// # Errors
    /// [`UpstreamError::NotFound`] without a request for an id no Retell object can have and
    /// no URL can carry as one segment: empty, `.` or `..` (the URL standard drops those
    /// segments, so the request would reach another route).
    fn url(&self, route: &[&str], id: &str) -> Result<Url, UpstreamError> {
        if matches!(id, "" | "." | "..") {
            return Err(UpstreamError::NotFound {
                service: SERVICE,
                answer: ErrorAnswer {
                    status: StatusCode::NOT_FOUND.as_u16(),
                    code: Some("InvalidId".to_owned()),
                    message: format!("{id:?} is not a Retell id; nothing was sent"),
                },
            });
        }
        let mut url = self.route(route);
        url.path_segments_mut()
            .expect("new() rejects URLs that cannot be a base")
            .push(id);
        let path = url.path().replace('+', "%2B");
        url.set_path(&path);
        Ok(url)
    }

    /// `base` + `/<route…>`, for routes without an id.
    fn route(&self, route: &[&str]) -> Url {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .expect("new() rejects URLs that cannot be a base")
            .pop_if_empty()
            .extend(route);
        url
    }

    /// Sends one request (timed, [`upstream::timed_exchange`]) and answers the body of a 2xx.
    async fn send(
        &self,
        op: &Op,
        key: &SecretString,
        url: Url,
        build: impl FnOnce(RequestBuilder) -> RequestBuilder,
    ) -> Result<Vec<u8>, UpstreamError> {
        let path = url.path().to_owned();
        let request = build(self.http.request(op.method.clone(), url))
            .header(AUTHORIZATION, upstream::bearer(SERVICE, key)?)
            .header(ACCEPT, HeaderValue::from_static("application/json"));

        let upstream::Answer {
            status,
            headers,
            body,
            elapsed,
        } = upstream::timed_exchange(
            SERVICE,
            op.name,
            || format!("{} {path}", op.method),
            self.timeout,
            request,
        )
        .await?;
        if !status.is_success() {
            let error = status_error(status, &headers, &body);
            // Info, not warn: most refusals (unknown agent, a rate limit the breaker waits
            // out) are ordinary outcomes the caller handles.
            tracing::info!(
                op = op.name,
                %path,
                status = status.as_u16(),
                ?elapsed,
                %error,
                "Retell request failed"
            );
            return Err(error);
        }
        tracing::debug!(op = op.name, %path, status = status.as_u16(), ?elapsed, "Retell request");
        Ok(body)
    }

    /// [`Self::send`] and the body decoded as `T`.
    async fn call<T: DeserializeOwned>(
        &self,
        op: &Op,
        key: &SecretString,
        url: Url,
        build: impl FnOnce(RequestBuilder) -> RequestBuilder,
    ) -> Result<T, UpstreamError> {
        let path = url.path().to_owned();
        let body = self.send(op, key, url, build).await?;
        serde_json::from_slice(&body).map_err(|e| decode_error(op, &path, e))
    }

    /// [`Self::call`] for a list endpoint's envelope.
    async fn page<T: DeserializeOwned>(
        &self,
        op: &Op,
        key: &SecretString,
        url: Url,
        build: impl FnOnce(RequestBuilder) -> RequestBuilder,
    ) -> Result<Page<T>, UpstreamError> {
        let path = url.path().to_owned();
        let page: WirePage<T> = self.call(op, key, url, build).await?;
        page.into_page().map_err(|e| decode_error(op, &path, e))
    }
}

/// [`UpstreamError::Decode`] naming the port method, HTTP method and path of a 2xx whose body
/// did not read.
fn decode_error(op: &Op, path: &str, error: impl std::fmt::Display) -> UpstreamError {
    UpstreamError::Decode {
        service: SERVICE,
        message: format!("{} ({} {path}): {error}", op.name, op.method),
    }
}

/// `?version=n` when a version is asked for.
fn version_param(version: Option<i64>) -> Vec<(&'static str, i64)> {
    version.map(|v| ("version", v)).into_iter().collect()
}

#[async_trait]
impl RetellApi for RetellClient {
    /// `POST /v2/list-agents?limit&pagination_key` with an empty filter body `{}`.
    async fn list_agents(
        &self,
        key: &SecretString,
        page: &PageRequest,
    ) -> Result<Page<AgentSummary>, UpstreamError> {
        let params = wire::page_params(page);
        let url = self.route(&["v2", "list-agents"]);
        self.page(&LIST_AGENTS, key, url, |r| {
            r.query(&params).json(&json!({}))
        })
        .await
    }

    /// `GET /get-agent/{agent_id}?version=`.
    async fn get_agent(
        &self,
        key: &SecretString,
        agent_id: &str,
        version: Option<i64>,
    ) -> Result<Agent, UpstreamError> {
        let url = self.url(&["get-agent"], agent_id)?;
        let params = version_param(version);
        self.call(&GET_AGENT, key, url, |r| r.query(&params)).await
    }

    /// `GET /list-agent-versions/{agent_id}?limit&pagination_key`.
    async fn list_agent_versions(
        &self,
        key: &SecretString,
        agent_id: &str,
        page: &PageRequest,
    ) -> Result<Page<AgentVersion>, UpstreamError> {
        let url = self.url(&["list-agent-versions"], agent_id)?;
        let params = wire::page_params(page);
        self.page(&LIST_AGENT_VERSIONS, key, url, |r| r.query(&params))
            .await
    }

    /// `PATCH /update-agent/{agent_id}` with the set fields of `update`.
    async fn update_agent(
        &self,
        key: &SecretString,
        agent_id: &str,
        update: &AgentUpdate,
    ) -> Result<Agent, UpstreamError> {
        let url = self.url(&["update-agent"], agent_id)?;
        self.call(&UPDATE_AGENT, key, url, |r| r.json(update)).await
    }

    /// `POST /publish-agent-version/{agent_id}` `{"version": n}`; the answer's body is not
    /// read (the SDK uses none).
    async fn publish_agent_version(
        &self,
        key: &SecretString,
        agent_id: &str,
        version: i64,
    ) -> Result<(), UpstreamError> {
        let url = self.url(&["publish-agent-version"], agent_id)?;
        self.send(&PUBLISH_AGENT_VERSION, key, url, |r| {
            r.json(&json!({"version": version}))
        })
        .await?;
        Ok(())
    }

    /// `GET /get-retell-llm/{llm_id}?version=`.
    async fn get_llm(
        &self,
        key: &SecretString,
        llm_id: &str,
        version: Option<i64>,
    ) -> Result<RetellLlm, UpstreamError> {
        let url = self.url(&["get-retell-llm"], llm_id)?;
        let params = version_param(version);
        self.call(&GET_LLM, key, url, |r| r.query(&params)).await
    }

    /// `PATCH /update-retell-llm/{llm_id}` with the set fields of `update`.
    async fn update_llm(
        &self,
        key: &SecretString,
        llm_id: &str,
        update: &LlmUpdate,
    ) -> Result<RetellLlm, UpstreamError> {
        let url = self.url(&["update-retell-llm"], llm_id)?;
        self.call(&UPDATE_LLM, key, url, |r| r.json(update)).await
    }

    /// `GET /v2/list-phone-numbers?limit&pagination_key`.
    async fn list_phone_numbers(
        &self,
        key: &SecretString,
        page: &PageRequest,
    ) -> Result<Page<RetellPhoneNumber>, UpstreamError> {
        let params = wire::page_params(page);
        let url = self.route(&["v2", "list-phone-numbers"]);
        self.page(&LIST_PHONE_NUMBERS, key, url, |r| r.query(&params))
            .await
    }

    /// `PATCH /update-phone-number/{phone_number}` (`+` sent as `%2B`).
    async fn update_phone_number(
        &self,
        key: &SecretString,
        phone_number: &str,
        update: &PhoneNumberUpdate,
    ) -> Result<RetellPhoneNumber, UpstreamError> {
        let url = self.url(&["update-phone-number"], phone_number)?;
        self.call(&UPDATE_PHONE_NUMBER, key, url, |r| r.json(update))
            .await
    }

    /// `POST /v3/list-calls` with the filter body of §4.5, newest first.
    async fn list_calls(
        &self,
        key: &SecretString,
        query: &CallQuery,
    ) -> Result<Page<CallObject>, UpstreamError> {
        let body = ListCallsBody::from(query);
        let url = self.route(&["v3", "list-calls"]);
        let path = url.path().to_owned();
        let page: Page<Value> = self.page(&LIST_CALLS, key, url, |r| r.json(&body)).await?;
        let items = page
            .items
            .into_iter()
            .map(wire::call_object)
            .collect::<Result<_, _>>()
            .map_err(|e| decode_error(&LIST_CALLS, &path, e))?;
        Ok(Page {
            items,
            next: page.next,
        })
    }

    /// `GET /v2/get-call/{call_id}`.
    async fn get_call(
        &self,
        key: &SecretString,
        call_id: &str,
    ) -> Result<CallObject, UpstreamError> {
        let url = self.url(&["v2", "get-call"], call_id)?;
        let path = url.path().to_owned();
        let raw: Value = self.call(&GET_CALL, key, url, |r| r).await?;
        wire::call_object(raw).map_err(|e| decode_error(&GET_CALL, &path, e))
    }
}
