//! `fault.*` (only with the `fault-injection` feature, never in release builds): test hooks
//! that exercise supervision for real — `fault.panic {actor}` makes the named actor panic
//! inside its guarded handler; the caller gets -32603 and the actor is restarted.

use crate::jsonrpc::RpcError;
use crate::registry::{MethodSpec, Scope, parse_params};
use crate::server::{MethodOutput, ServerCall};
use crate::supervision::{Panic, RestartBudget, guard};
use actix::prelude::*;
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The `fault` server actor.
pub struct FaultServer {
    targets: BTreeMap<&'static str, Recipient<Panic>>,
    budget: RestartBudget,
}

impl FaultServer {
    /// A server with no targets yet.
    pub fn new(budget: RestartBudget) -> Self {
        Self {
            targets: BTreeMap::new(),
            budget,
        }
    }

    /// Adds an actor that `fault.panic` can reach under `name`.
    pub fn target(mut self, name: &'static str, recipient: Recipient<Panic>) -> Self {
        self.targets.insert(name, recipient);
        self
    }

    /// The JSON-RPC methods of this server.
    pub fn methods() -> Vec<MethodSpec> {
        vec![MethodSpec::new::<PanicParams>(
            "fault.panic",
            "Test hook: makes an actor panic inside a guarded handler (fault-injection builds only).",
            "never succeeds: -32603 with the panic message",
            Scope::Admin,
        )]
    }
}

impl Actor for FaultServer {
    type Context = Context<Self>;
}

impl Supervised for FaultServer {}

crate::guarded_actor!(FaultServer, "fault");

/// Params of `fault.panic`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PanicParams {
    /// `calcom`, `webhook`, `retell.function`, `call_registry`, `tenant_directory` or `outbox`.
    pub actor: String,
}

impl Handler<ServerCall> for FaultServer {
    type Result = ResponseFuture<Result<MethodOutput, RpcError>>;

    fn handle(&mut self, msg: ServerCall, ctx: &mut Self::Context) -> Self::Result {
        let targets = self.targets.clone();
        guard(
            self,
            ctx,
            move |_, _| async move {
                let p: PanicParams = parse_params(msg.params)?;
                let target = targets.get(p.actor.as_str()).ok_or_else(|| {
                    RpcError::invalid_params(format!(
                        "unknown actor {:?}; known: {:?}",
                        p.actor,
                        targets.keys().collect::<Vec<_>>()
                    ))
                })?;
                match target.send(Panic).await {
                    Ok(Err(panic)) => Err(RpcError::internal(panic)),
                    Ok(Ok(())) => Err(RpcError::internal("the actor did not panic")),
                    Err(e) => Err(RpcError::internal(format!("actor unavailable: {e}"))),
                }
            },
            |m| Err(RpcError::internal(m)),
        )
    }
}
