//! `fault.*` (only with the `fault-injection` feature, never in release builds): test hooks
//! that exercise supervision for real — `fault.panic {actor}` makes the named actor panic
//! inside its guarded handler; the caller gets -32603 and the actor is restarted.

use crate::jsonrpc::RpcError;
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, MethodList, MethodSpec, MethodTable, Reply, Scope};
use crate::supervision::{Panic, RestartBudget};
use actix::prelude::*;
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The actors `fault.panic` can reach, by name.
#[derive(Clone, Default)]
pub struct FaultTargets(BTreeMap<&'static str, Recipient<Panic>>);

/// Every `fault.*` method.
fn list() -> MethodList<FaultTargets> {
    MethodList::new().with::<PanicActor>()
}

/// The `fault` server actor.
pub struct FaultServer {
    methods: MethodTable<FaultTargets>,
    deps: Arc<FaultTargets>,
    budget: RestartBudget,
}

impl FaultServer {
    /// A server with no targets yet.
    pub fn new(budget: RestartBudget) -> Self {
        Self {
            methods: list().compile(),
            deps: Arc::default(),
            budget,
        }
    }

    /// Adds an actor that `fault.panic` can reach under `name`.
    pub fn target(mut self, name: &'static str, recipient: Recipient<Panic>) -> Self {
        Arc::make_mut(&mut self.deps).0.insert(name, recipient);
        self
    }

    /// The JSON-RPC methods of this server.
    pub fn methods() -> Vec<MethodSpec> {
        list().specs()
    }
}

impl Actor for FaultServer {
    type Context = Context<Self>;
}

impl Supervised for FaultServer {}

crate::guarded_actor!(FaultServer, "fault");
crate::method_server!(FaultServer);

/// `fault.panic`.
pub struct PanicActor;

/// Params of `fault.panic`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PanicParams {
    /// `calcom`, `webhook`, `retell.function`, `call_registry`, `tenant_directory` or `outbox`.
    pub actor: String,
}

impl Method for PanicActor {
    const NAME: &'static str = "fault.panic";
    const SUMMARY: &'static str = "Test hook: makes an actor panic inside a guarded handler \
        (fault-injection builds only). Never succeeds: the answer is -32603 with the panic \
        message, and the actor is restarted.";
    const SCOPE: Scope = Scope::Platform;
    const KIND: Kind = Kind::Destructive;
    type Deps = FaultTargets;
    type Params = PanicParams;
    type Output = ();

    async fn apply(
        p: PanicParams,
        _: TokenGrant,
        targets: Arc<FaultTargets>,
    ) -> Result<Reply<()>, RpcError> {
        let target = targets.0.get(p.actor.as_str()).ok_or_else(|| {
            RpcError::invalid_params(format!(
                "unknown actor {:?}; known: {:?}",
                p.actor,
                targets.0.keys().collect::<Vec<_>>()
            ))
        })?;
        match target.send(Panic).await {
            Ok(Err(panic)) => Err(RpcError::internal(panic)),
            Ok(Ok(())) => Err(RpcError::internal("the actor did not panic")),
            Err(e) => Err(RpcError::internal(format!("actor unavailable: {e}"))),
        }
    }
}
