//! The MCP server behind `/mcp`: rmcp's [`ServerHandler`] over our registry. Tools are the
//! JSON-RPC methods ([`super::tools`]), resources and prompts come from [`super::resources`]
//! and [`super::prompts`]; every call runs through the same [`Router`] the gateway uses, so
//! the scope check, the company's rate limits, the deadline and the metrics are the gateway's.
//!
//! Who calls: the [`TokenGrant`] the `/mcp` guard ([`super::guard`]) put in the request, read
//! per request (never per session), so a session id is worth nothing without its token.
//!
//! Errors, per the MCP spec (2025-11-25 `server/tools`, reference/mcp.md §2.6): an unknown tool
//! (or one the token may not call) is the protocol error -32602; everything a method refuses
//! (bad arguments, -32003 rate limited, -32004 breaker open, 2003 slot taken, …) is a tool
//! result with `isError: true` whose text says what happened and what to do next, with the
//! JSON-RPC error in `_meta["dev.switchboard/error"]`.

use super::prompts::{self, PromptError};
use super::resources::{self, ResourceError};
use super::tools::{ToolCatalog, ToolEntry};
use actix::Addr;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, DiscoverResult,
    GetPromptRequestParams, GetPromptResponse, Implementation, InitializeRequestParams,
    InitializeResult, ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult,
    ListToolsResult, MetaObject, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use switchboard_actors::jsonrpc::{Id, Request, RpcError};
use switchboard_actors::ports::Store;
use switchboard_actors::records::TokenGrant;
use switchboard_actors::router::{Dispatch, Router};

/// `_meta` key of an error result: the JSON-RPC error object the method answered.
pub const META_ERROR: &str = "dev.switchboard/error";

/// Instructions sent with `initialize` / `server/discover`: what the server is for, in words
/// an assistant can act on.
const INSTRUCTIONS: &str = "switchboard books, moves and cancels appointments in Cal.com for \
businesses whose phones are answered by a Retell voice agent. Each tool is one JSON-RPC method \
of the gateway (its title names it). A company token sees and changes only its own company; \
an admin token of no company sees every company and names one with a `company_id` argument \
(company_list lists them). \
Dates are ISO 8601; a time without an offset is local to the company's time zone, which the \
resource switchboard://companies/{slug}/configuration states. Tool errors come back as results \
with isError set and say what to do: fix the arguments, wait the given seconds, or tell the user. \
The prompts `daily_booking_report` and `triage_failed_bookings` walk through common tasks.";

/// The MCP server; cheap to clone (one per session or stateless request).
#[derive(Clone)]
pub struct McpServer {
    shared: Arc<Shared>,
}

struct Shared {
    catalog: ToolCatalog,
    router: Addr<Router>,
    store: Arc<dyn Store>,
}

impl McpServer {
    /// The server over `catalog`, calling methods through `router`; `store` answers the
    /// resources that are not methods (the companies a token may see).
    pub fn new(catalog: ToolCatalog, router: Addr<Router>, store: Arc<dyn Store>) -> Self {
        Self {
            shared: Arc::new(Shared {
                catalog,
                router,
                store,
            }),
        }
    }
}

/// Calls JSON-RPC methods for one grant, through the router; what resources use to read.
#[derive(Clone)]
pub struct Dispatcher {
    router: Addr<Router>,
    grant: TokenGrant,
    /// The tenancy store, for lookups that are not methods.
    pub store: Arc<dyn Store>,
}

impl Dispatcher {
    /// Calls made through `router` for `grant`; `store` answers lookups that are not methods.
    /// The dashboard (`crate::admin`) reads through one of these too, so its scope checks,
    /// tenant isolation and metrics are the gateway's.
    pub fn new(router: Addr<Router>, grant: TokenGrant, store: Arc<dyn Store>) -> Self {
        Self {
            router,
            grant,
            store,
        }
    }

    /// The grant calls are made for.
    pub fn grant(&self) -> &TokenGrant {
        &self.grant
    }

    /// Calls `method` with by-name `params`; `Ok` is the method's `result.data`.
    ///
    /// # Errors
    /// The method's JSON-RPC error; -32603 when the router is not running.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        let request = Request {
            id: Some(Id::Number(0.into())),
            method: method.to_owned(),
            params: Some(params),
        };
        let envelope = self
            .router
            .send(Dispatch {
                request,
                grant: self.grant.clone(),
                span: tracing::Span::current(),
            })
            .await
            .map_err(|e| RpcError::internal(format!("router unavailable: {e}")))??;
        Ok(envelope.into_data())
    }
}

/// The grant the `/mcp` guard stored for this request.
fn grant_of(ctx: &RequestContext<RoleServer>) -> Result<TokenGrant, McpError> {
    ctx.extensions
        .get::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<TokenGrant>())
        .cloned()
        .ok_or_else(|| {
            McpError::internal_error("request reached the MCP server unauthenticated", None)
        })
}

impl Shared {
    /// The server's instructions for `grant`: the general ones, then who the token is for —
    /// its company, time zone and scope — so an assistant knows where it stands before it
    /// calls anything.
    async fn instructions(&self, grant: &TokenGrant) -> String {
        let scope = grant.scope.as_str();
        let whom = match grant.company_id {
            None => format!(
                "This is an operators' {scope} token of no company: name the company of each \
                 call with company_id."
            ),
            Some(id) => match self.store.company(id).await {
                Ok(Some(c)) => format!(
                    "This {scope} token belongs to {} (slug {}, company_id {}); its time zone \
                     is {}.",
                    c.name,
                    c.slug,
                    c.id.0,
                    c.time_zone.name()
                ),
                Ok(None) => format!("This {scope} token belongs to one company."),
                Err(e) => {
                    tracing::warn!(error = %e, "company lookup for the MCP instructions failed");
                    format!("This {scope} token belongs to one company.")
                }
            },
        };
        format!("{INSTRUCTIONS}\n\n{whom}")
    }

    fn dispatcher(&self, grant: TokenGrant) -> Dispatcher {
        Dispatcher::new(self.router.clone(), grant, Arc::clone(&self.store))
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_prompts()
                .build(),
        );
        info.server_info = Implementation::new("switchboard", env!("CARGO_PKG_VERSION"));
        info.instructions = Some(INSTRUCTIONS.to_owned());
        info
    }

    async fn initialize(
        &self,
        request: InitializeRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, McpError> {
        ctx.peer.set_peer_info(request.clone());
        let mut result = self.negotiate_initialize(&request)?;
        result.instructions = Some(self.shared.instructions(&grant_of(&ctx)?).await);
        Ok(result)
    }

    async fn discover(&self, ctx: RequestContext<RoleServer>) -> Result<DiscoverResult, McpError> {
        let mut result = DiscoverResult::from_server_info(
            self.supported_protocol_versions().into_owned(),
            self.get_info(),
        );
        // Per token: the answer must not be shared between clients (it is `private`).
        result.instructions = Some(self.shared.instructions(&grant_of(&ctx)?).await);
        Ok(result)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let grant = grant_of(&ctx)?;
        let zone = match grant.company_id {
            // Without the profile the descriptions say where to find the zone instead.
            Some(id) => match self.shared.store.company(id).await {
                Ok(profile) => profile.map(|c| c.time_zone.name().to_owned()),
                Err(e) => {
                    tracing::warn!(error = %e, "company lookup for tools/list failed");
                    None
                }
            },
            None => None,
        };
        let tools = self.shared.catalog.tools_for(&grant, zone.as_deref());
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let grant = grant_of(&ctx)?;
        let Some(entry) = self.shared.catalog.get(&request.name, &grant) else {
            return Err(McpError::invalid_params(
                format!("Unknown tool: {}", truncate(&request.name, 80)),
                None,
            ));
        };
        let params = Value::Object(request.arguments.unwrap_or_default());
        let outcome = self
            .shared
            .dispatcher(grant)
            .call(entry.method, params)
            .await;
        Ok(CallToolResponse::Complete(tool_result(entry, outcome)))
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let grant = grant_of(&ctx)?;
        let list = resources::list(&self.shared.dispatcher(grant))
            .await
            .map_err(resource_error)?;
        Ok(ListResourcesResult::with_all_items(list))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        Ok(ListResourceTemplatesResult::with_all_items(
            resources::templates(),
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let grant = grant_of(&ctx)?;
        let result = resources::read(&self.shared.dispatcher(grant), &request.uri)
            .await
            .map_err(resource_error)?;
        Ok(ReadResourceResponse::Complete(result))
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        Ok(ListPromptsResult::with_all_items(prompts::list()))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        let grant = grant_of(&ctx)?;
        let args = request.arguments.unwrap_or_default();
        prompts::get(&request.name, &args, &self.shared.dispatcher(grant))
            .await
            .map(GetPromptResponse::Complete)
            .map_err(prompt_error)
    }
}

fn prompt_error(e: PromptError) -> McpError {
    match e {
        PromptError::Method(e) => McpError::internal_error(
            e.message.clone(),
            Some(json!({ "code": e.code, "data": e.data })),
        ),
        other => McpError::invalid_params(other.to_string(), None),
    }
}

fn resource_error(e: ResourceError) -> McpError {
    match e {
        ResourceError::NotFound(uri) => McpError::resource_not_found(
            format!("Resource not found: {}", truncate(&uri, 200)),
            Some(json!({ "uri": truncate(&uri, 200) })),
        ),
        ResourceError::Method(e) => McpError::internal_error(
            e.message.clone(),
            Some(json!({ "code": e.code, "data": e.data })),
        ),
    }
}

/// The result of one tool call: the data as `structuredContent` (and as JSON text, for
/// clients that read only text), or an error result an LLM can act on.
pub fn tool_result(entry: &ToolEntry, outcome: Result<Value, RpcError>) -> CallToolResult {
    match outcome {
        Ok(data) => {
            let structured = entry.structured(data);
            let text = serde_json::to_string(&structured).unwrap_or_default();
            let mut result = CallToolResult::structured(structured);
            result.content = vec![ContentBlock::text(text)];
            result
        }
        Err(e) => {
            let mut result = CallToolResult::error(vec![ContentBlock::text(error_text(&e))]);
            let mut meta = Map::new();
            meta.insert(
                META_ERROR.to_owned(),
                serde_json::to_value(&e).unwrap_or(Value::Null),
            );
            result.meta = Some(MetaObject(meta));
            result
        }
    }
}

/// What a method's refusal means for the assistant, and what it should do next.
pub fn error_text(e: &RpcError) -> String {
    let details = e
        .data
        .as_ref()
        .and_then(|d| d.get("details"))
        .and_then(Value::as_str)
        .map(|d| format!(" ({})", truncate(d, 500)))
        .unwrap_or_default();
    let retry_after = e
        .data
        .as_ref()
        .and_then(|d| d.get("retry_after"))
        .and_then(Value::as_u64);
    let wait = retry_after.map_or_else(String::new, |s| format!(" Try again in {s} s."));
    let next = match e.code {
        -32602 | 4001 | 4002 | 4003 | 4004 => {
            "Fix the arguments (see the tool's inputSchema) and call again.".to_owned()
        }
        -32002 => {
            "This token may not do that; ask the user for a token with a wider scope.".to_owned()
        }
        -32003 => format!("The company's rate limit for these tools is reached.{wait}"),
        -32004 => format!(
            "The upstream service (Cal.com or Retell) is unavailable for this company: its \
             circuit breaker is open. Do not retry at once; tell the user.{wait}"
        ),
        -32005 => "The call ran past its deadline; it may still complete. Check the state \
                   (e.g. list the bookings) before trying again."
            .to_owned(),
        2003 => "That time slot is taken or outside the schedule: check availability and \
                 offer the user another time."
            .to_owned(),
        3001 | 3002 | 3003 | 2002 | 1002 | 1003 => {
            "Check the identifiers (list them with the matching list tool) and try again."
                .to_owned()
        }
        1001 | 2001 => "The company's API key for this service was refused; an administrator \
                        must update its credentials."
            .to_owned(),
        _ => format!("Report this to the user.{wait}"),
    };
    format!(
        "Error {}: {}{details}. {next}",
        e.code,
        truncate(&e.message, 500)
    )
}

/// At most `max` characters of `s` (control and bidi characters removed, `…` when cut): what
/// an error may quote back of a client's input.
fn truncate(s: &str, max: usize) -> String {
    switchboard_actors::domain::text::excerpt(s, max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_actors::jsonrpc::{AppError, ErrorCode};

    fn entry() -> ToolEntry {
        let specs = switchboard_actors::servers::queue::QueueServer::methods();
        ToolCatalog::new(&specs).unwrap().all()[0].clone()
    }

    #[test]
    fn breaker_open_is_a_tool_error_that_says_when_to_retry() {
        let e: RpcError = AppError::new(ErrorCode::UpstreamUnavailable, "Cal.com is unavailable")
            .with_retry_after(30)
            .into();
        let result = tool_result(&entry(), Err(e));
        assert_eq!(result.is_error, Some(true));
        let text = serde_json::to_value(&result.content[0]).unwrap()["text"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(text.contains("-32004") && text.contains("30 s"), "{text}");
        let meta = result.meta.unwrap();
        assert_eq!(meta.0[META_ERROR]["code"], -32004);
    }

    #[test]
    fn success_carries_structured_content_and_the_same_json_as_text() {
        let result = tool_result(&entry(), Ok(json!({"jobs": []})));
        assert_ne!(result.is_error, Some(true));
        let structured = result.structured_content.clone().unwrap();
        let text = serde_json::to_value(&result.content[0]).unwrap()["text"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), structured);
    }

    #[test]
    fn an_unknown_tool_name_is_quoted_without_its_control_or_bidi_characters() {
        let quoted = truncate(&"a\u{202e}b\u{0007}".repeat(100), 80);
        assert!(!quoted.contains('\u{202e}') && !quoted.contains('\u{0007}'));
        assert!(quoted.chars().count() <= 81, "{quoted}");
    }

    #[test]
    fn an_overlong_message_is_cut() {
        let e = RpcError::invalid_params("x".repeat(10_000));
        assert!(error_text(&e).chars().count() < 1_200);
    }
}
