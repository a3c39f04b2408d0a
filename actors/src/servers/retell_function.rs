//! `RetellFunctionServer`: runs Retell custom functions for the HTTP endpoint (signed by Retell)
//! and as the JSON-RPC method `retell.function.execute` (for testing from the gateway).

use crate::domain::phone::PhoneNumber;
use crate::domain::tenant::TenantRoute;
use crate::functions::{self, FunctionDeps, FunctionError, Invocation};
use crate::jsonrpc::{AppError, ErrorCode, RpcError};
use crate::metric_names as m;
use crate::ratelimit::Lane;
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, MethodList, MethodSpec, MethodTable, Reply, Scope};
use crate::retell::call::RetellCall;
use crate::servers::store_error;
use crate::servers::webhook::get_call::call_not_found;
use crate::supervision::{RestartBudget, guard};
use crate::tenant::{RouteError, resolve_route};
use actix::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::Arc;
use tracing::Instrument as _;

/// Message: run one custom function for a resolved, verified call.
#[derive(Debug, Message)]
#[rtype(result = "Result<Value, FunctionError>")]
pub struct ExecuteFunction {
    /// Company and branch of the call's business number, already resolved.
    pub route: TenantRoute,
    /// The Retell call object: signature verified (endpoint) or token scope checked (gateway).
    pub call: RetellCall,
    /// Retell tool name, e.g. `collect_appointment_data`.
    pub name: String,
    /// Tool args (reference/retell.md §3.1 `args`).
    pub args: Map<String, Value>,
    /// [`Lane::Live`] for Retell's signed requests, [`Lane::Background`] from the gateway (see
    /// [`Invocation::lane`]).
    pub lane: Lane,
    /// The span of the request asking for it (a custom function's is in the call's trace,
    /// [`crate::trace`]); the function runs inside it.
    pub span: tracing::Span,
}

/// Every `retell.function.*` method.
fn list() -> MethodList<FunctionDeps> {
    MethodList::new().with::<Execute>()
}

/// The `retell.function` server actor.
pub struct RetellFunctionServer {
    methods: MethodTable<FunctionDeps>,
    /// Shared by the method and [`ExecuteFunction`].
    deps: Arc<FunctionDeps>,
    budget: RestartBudget,
}

impl RetellFunctionServer {
    /// A server running functions with `deps`.
    pub fn new(deps: FunctionDeps, budget: RestartBudget) -> Self {
        Self {
            methods: list().compile(),
            deps: Arc::new(deps),
            budget,
        }
    }

    /// The JSON-RPC methods of this server.
    pub fn methods() -> Vec<MethodSpec> {
        list().specs()
    }
}

impl Actor for RetellFunctionServer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(1024);
    }
}

async fn execute(deps: Arc<FunctionDeps>, msg: ExecuteFunction) -> Result<Value, FunctionError> {
    let inv = Invocation {
        route: &msg.route,
        call: &msg.call,
        args: &msg.args,
        lane: msg.lane,
    };
    let result = functions::execute(&deps, &msg.name, inv).await;
    let outcome = if result.is_ok() { "ok" } else { "error" };
    // The label comes from the registry, never from the request: a fixed set of values.
    let name = functions::registry::find(&msg.name).map_or("unknown", |entry| entry.name);
    metrics::counter!(m::FUNCTION_TOTAL, "function" => name, "outcome" => outcome).increment(1);
    result
}

impl Supervised for RetellFunctionServer {}

crate::guarded_actor!(RetellFunctionServer, "retell.function");
crate::method_server!(RetellFunctionServer);

impl Handler<ExecuteFunction> for RetellFunctionServer {
    type Result = ResponseFuture<Result<Value, FunctionError>>;

    fn handle(&mut self, msg: ExecuteFunction, ctx: &mut Self::Context) -> Self::Result {
        guard(
            self,
            ctx,
            |this, _| {
                let span = msg.span.clone();
                execute(Arc::clone(&this.deps), msg).instrument(span)
            },
            |m| Err(FunctionError::Panicked(m)),
        )
    }
}

/// `retell.function.execute`.
pub struct Execute;

/// Params of `retell.function.execute`: the custom-function request body of
/// reference/retell.md §3.1.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecuteParams {
    /// Function name, e.g. `collect_appointment_data`.
    pub name: String,
    /// Retell call object; needs `call_id` and the business number (`to_number` inbound).
    #[schemars(with = "Map<String, Value>")]
    pub call: Value,
    /// Tool args.
    #[serde(default)]
    pub args: Map<String, Value>,
}

/// Maps a function failure to JSON-RPC.
pub fn function_rpc_error(e: &FunctionError) -> RpcError {
    match e {
        FunctionError::Unknown(_) => RpcError::invalid_params(e.to_string()),
        FunctionError::Store(s) => store_error(s),
        FunctionError::Tenant(t) => super::tenant_error(t),
        // Another company's call answers as a call that does not exist (getCall's answer),
        // so call ids cannot be probed through the gateway.
        FunctionError::Context(crate::call::context::ContextError::CrossTenant(call_id)) => {
            call_not_found(call_id)
        }
        FunctionError::Context(_) | FunctionError::Panicked(_) => RpcError::internal(e.to_string()),
    }
}

/// `result.data` of `retell.function.execute`: the function's reply exactly as Retell gets
/// it, a JSON object whose `message` the agent speaks (in the company's language).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct FunctionReply(pub Value);

impl Method for Execute {
    const NAME: &'static str = "retell.function.execute";
    const SUMMARY: &'static str = "Runs a Retell custom function (e.g. collect_appointment_data, \
        check_availability, find_next_slot) for a call exactly as the custom-function endpoint \
        does, without Retell's signature; the token's company must own the call's business \
        number. `call` is a Retell call object with `call_id` and `to_number` (inbound), \
        `args` the tool arguments. Returns the function's reply with its spoken `message`. \
        A number of another company is 1003 like an unconfigured one; a call id another \
        company recorded is -32602 `not_found` like webhook.getCall.";
    const SCOPE: Scope = Scope::Write;
    const KIND: Kind = Kind::Write;
    type Deps = FunctionDeps;
    type Params = ExecuteParams;
    type Output = FunctionReply;

    async fn apply(
        p: ExecuteParams,
        grant: TokenGrant,
        deps: Arc<FunctionDeps>,
    ) -> Result<Reply<FunctionReply>, RpcError> {
        let call: RetellCall = serde_json::from_value(p.call)
            .map_err(|e| RpcError::invalid_params(format!("call: {e}")))?;
        let number = call.business_number();
        let route = resolve_route(deps.store.as_ref(), number)
            .await
            .map_err(|e| route_error(&e))?;
        if let Some(own) = grant.company_id
            && own != route.company.id
        {
            // Another company's number answers exactly as a number nobody configured: which
            // numbers other tenants own is not the caller's to learn. It parsed to be routed.
            let e164 = number
                .and_then(|n| PhoneNumber::parse_default(n).ok())
                .map_or_else(String::new, |p| p.to_string());
            return Err(route_error(&RouteError::NotConfigured(e164)));
        }
        let reply = execute(
            deps,
            ExecuteFunction {
                route,
                call,
                name: p.name,
                args: p.args,
                // An operator or a script, not a caller: never the live reserve.
                lane: Lane::Background,
                span: tracing::Span::current(),
            },
        )
        .await
        .map_err(|e| function_rpc_error(&e))?;
        Reply::fresh(FunctionReply(reply))
    }
}

/// The JSON-RPC error of a call whose business number leads to no tenant (DESIGN §5).
fn route_error(e: &RouteError) -> RpcError {
    match e {
        RouteError::NoNumber => RpcError::invalid_params("call has no to_number/from_number"),
        RouteError::InvalidNumber(_) => {
            AppError::new(ErrorCode::InvalidPhoneNumber, e.to_string()).into()
        }
        RouteError::NotConfigured(_) => {
            AppError::new(ErrorCode::PhoneNumberNotConfigured, e.to_string()).into()
        }
        RouteError::Store(store) => store_error(store),
    }
}
