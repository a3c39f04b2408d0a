//! The `Router` actor: looks a validated JSON-RPC call up in the registry, checks the scope and
//! the company's rate limit for the method's server (-32003 with `retry_after` when over it),
//! forwards it to its server actor under a deadline and records metrics. It parses nothing:
//! the server's [`MethodTable`](crate::registry::MethodTable) validates and parses the params.

use crate::jsonrpc::{AppError, ErrorCode, Request, RpcError, RpcResult, Success};
use crate::metric_names as m;
use crate::ratelimit::{Bucket, Limiter, admit};
use crate::records::TokenGrant;
use crate::registry::{MethodSpec, authorize, openrpc};
use crate::server::ServerCall;
use crate::supervision::{RestartBudget, guard};
use actix::prelude::*;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One call to route: a request (already valid JSON-RPC) and who makes it.
#[derive(Debug, Message)]
#[rtype(result = "Result<RpcResult, RpcError>")]
pub struct Dispatch {
    /// A valid JSON-RPC 2.0 request; `rpc.discover` is answered by the router itself.
    pub request: Request,
    /// Who calls: scopes and tenancy are checked against it.
    pub grant: TokenGrant,
    /// The caller's span (the gateway's or `/mcp`'s request): the parent of the call's `rpc`
    /// span.
    pub span: tracing::Span,
}

struct Route {
    spec: MethodSpec,
    server: Recipient<ServerCall>,
}

/// Routes `<server>.<method>` calls to server actors; answers `rpc.discover` itself.
pub struct Router {
    routes: Arc<HashMap<&'static str, Route>>,
    discover: Arc<Value>,
    /// Longest time a method may take before the caller gets -32005.
    deadline: Duration,
    /// Per company and server: a company token over its server's quota gets -32003.
    limiter: Arc<dyn Limiter>,
    budget: RestartBudget,
}

/// Collects the servers' method lists and their actors.
#[derive(Default)]
pub struct RouterBuilder {
    routes: HashMap<&'static str, Route>,
}

impl RouterBuilder {
    /// Registers every method of one server actor.
    ///
    /// # Panics
    /// When a method name is registered twice: a wiring bug, found at start.
    pub fn server(mut self, specs: Vec<MethodSpec>, server: Recipient<ServerCall>) -> Self {
        for spec in specs {
            let name = spec.name;
            let previous = self.routes.insert(
                name,
                Route {
                    spec,
                    server: server.clone(),
                },
            );
            assert!(previous.is_none(), "method {name} registered twice");
        }
        self
    }

    /// Every registered method's spec, sorted by name: what `rpc.discover` documents, and
    /// what the MCP endpoint lists as tools.
    pub fn specs(&self) -> Vec<MethodSpec> {
        let mut specs: Vec<MethodSpec> = self.routes.values().map(|r| r.spec.clone()).collect();
        specs.sort_by_key(|s| s.name);
        specs
    }

    /// The router, with `deadline` per call and the per company and server rate limits of
    /// `limiter`.
    pub fn build(
        self,
        deadline: Duration,
        budget: RestartBudget,
        limiter: Arc<dyn Limiter>,
    ) -> Router {
        let specs = self.specs();
        Router {
            discover: Arc::new(openrpc(&specs, env!("CARGO_PKG_VERSION"))),
            routes: Arc::new(self.routes),
            deadline,
            limiter,
            budget,
        }
    }
}

impl Actor for Router {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Every HTTP worker sends here; a small default mailbox would park them needlessly.
        ctx.set_mailbox_capacity(1024);
    }
}

impl Supervised for Router {}

crate::guarded_actor!(Router, "router");

impl Handler<Dispatch> for Router {
    type Result = ResponseFuture<Result<RpcResult, RpcError>>;

    fn handle(&mut self, msg: Dispatch, ctx: &mut Self::Context) -> Self::Result {
        guard(
            self,
            ctx,
            |act, _| dispatch(act, msg),
            |m| Err(RpcError::internal(format!("router failed: {m}"))),
        )
    }
}

fn dispatch(
    act: &Router,
    msg: Dispatch,
) -> impl std::future::Future<Output = Result<RpcResult, RpcError>> + use<> {
    let routes = Arc::clone(&act.routes);
    let discover = Arc::clone(&act.discover);
    let deadline = act.deadline;
    let limiter = Arc::clone(&act.limiter);
    async move {
        let Dispatch {
            request,
            grant,
            span: caller,
        } = msg;
        let method = request.method;
        if method == "rpc.discover" {
            return Ok(RpcResult::Bare(discover));
        }
        let Some(route) = routes.get(method.as_str()) else {
            return Err(RpcError::method_not_found(&method));
        };
        let server = route.spec.server();
        let span = rpc_span(&caller, route.spec.name, server);
        let started = Instant::now();
        let admitted = match authorize(&grant, route.spec.scope) {
            Ok(()) => admit_caller(limiter.as_ref(), &grant, server).await,
            Err(e) => Err(e),
        };
        let outcome = match admitted {
            Err(e) => Err(e),
            Ok(()) => {
                let call = ServerCall {
                    method: method.clone(),
                    params: request.params,
                    grant,
                    span: span.clone(),
                };
                match route.server.send(call).timeout(deadline).await {
                    Ok(result) => result,
                    Err(MailboxError::Timeout) => Err(AppError::new(
                        ErrorCode::Timeout,
                        format!("{method} did not finish within {} ms", deadline.as_millis()),
                    )
                    .into()),
                    Err(MailboxError::Closed) => Err(RpcError::internal(format!(
                        "server {server} is not running"
                    ))),
                }
            }
        };
        let elapsed = started.elapsed();
        metrics::histogram!(m::REQUEST_DURATION_SECONDS, "server" => server, "method" => route.spec.name)
                .record(elapsed.as_secs_f64());
        let status: metrics::SharedString = match &outcome {
            Ok(_) => "ok".into(),
            Err(e) => e.code.to_string().into(),
        };
        if let Err(e) = &outcome {
            metrics::counter!(m::ERROR_TOTAL, "server" => server, "error_code" => e.code.to_string())
                    .increment(1);
            span.record("rpc.jsonrpc.error_code", e.code);
            span.record("otel.status_code", "error");
        }
        metrics::counter!(m::REQUEST_TOTAL, "server" => server, "method" => route.spec.name, "status" => status)
                .increment(1);
        outcome.map(|out| {
            RpcResult::Success(Success {
                data: out.data,
                cached: out.cached,
                processing_time_ms: elapsed.as_secs_f64() * 1000.0,
            })
        })
    }
}

/// The span of one JSON-RPC call of a registered method, a child of `caller`, after the
/// OpenTelemetry RPC conventions for JSON-RPC: named after the method, with `rpc.system`,
/// `rpc.service` (our server), `rpc.method`, `rpc.jsonrpc.version` and, on an error,
/// `rpc.jsonrpc.error_code`. Names come from the registry, never from the request.
fn rpc_span(caller: &tracing::Span, method: &'static str, server: &'static str) -> tracing::Span {
    tracing::info_span!(
        parent: caller,
        "rpc",
        otel.name = method,
        otel.status_code = tracing::field::Empty,
        rpc.system = "jsonrpc",
        rpc.service = server,
        rpc.method = method,
        rpc.jsonrpc.version = "2.0",
        rpc.jsonrpc.error_code = tracing::field::Empty,
    )
}

/// Counts a company token's call against its (company, server) quota; -32003 with
/// `data.retry_after` (whole seconds, at least 1) when it is over.
///
/// Admin tokens are not counted here. They are operator credentials, few and issued by hand;
/// the per-company limits keep tenants from crowding each other out, and an operator
/// replaying failed jobs or repairing a tenant during an incident must not be refused by that
/// tenant's quota. Whatever an admin call sends to Cal.com still counts against the company's
/// credential budget (background lane), so admin traffic can never take the live calls'
/// reserve or get the tenant's key throttled by Cal.com.
async fn admit_caller(
    limiter: &dyn Limiter,
    grant: &TokenGrant,
    server: &'static str,
) -> Result<(), RpcError> {
    let Some(company) = grant.company_id else {
        return Ok(());
    };
    admit(limiter, company, Bucket::Server(server))
        .await
        .map_err(|denied| {
            AppError::new(
                ErrorCode::RateLimited,
                format!("rate limit of {server} reached for this company"),
            )
            .with_retry_after(denied.retry_after_secs())
            .into()
        })
}
