//! The method registry: one source of truth for routing, parameter validation and
//! `rpc.discover` (OpenRPC 1.3 document), and later for the MCP tool list (DESIGN §12).
//!
//! A JSON-RPC method is one typed unit: a type implementing [`Method`] — its name, a summary,
//! who may call it ([`Scope`]), what it does to state ([`Kind`]), its params (`Deserialize +
//! JsonSchema`, bounds as `#[schemars(...)]` attributes) and result types, and an async
//! [`Method::apply`]. Each server lists its methods once, with
//! [`method_list!`](crate::method_list), which builds a [`MethodList`]; from that list
//! come the [`MethodSpec`]s the [`Router`](crate::router::Router) routes and documents, and
//! the [`MethodTable`] the server actor runs calls through: it validates params against the
//! JSON Schema generated from `Params` (validators compiled once, at start) before `apply`
//! sees them.
//!
//! ## Adding a method
//! 1. A new file in the server's folder, e.g. `servers/queue/get_workers.rs`: a unit struct,
//!    its `Params` and `Output` types with `///` docs (they become the schema descriptions),
//!    and `impl Method` with `type Deps` = the server's deps.
//! 2. `pub mod get_workers;` and one line `get_workers::GetWorkers,` in the server's
//!    [`method_list!`](crate::method_list)
//!    (`servers/queue/mod.rs`).
//!
//! Routing, validation, `rpc.discover` and the scope check follow from those two.
//!
//! ## Layout
//! - this file: [`Method`], [`Scope`], [`Kind`], [`Reply`], [`MethodSpec`], [`authorize`],
//!   `method_list!`.
//! - `table`: [`MethodList`] (a server's methods) and [`MethodTable`] (validate, parse, apply).
//! - `validate`: `ParamsValidator`, the compiled JSON Schema of one method's params.
//! - `openrpc`: [`openrpc`], the `rpc.discover` document.

mod openrpc;
mod table;
mod validate;

#[cfg(test)]
mod testing;

pub use openrpc::openrpc;
pub use table::{MethodList, MethodTable};

use crate::jsonrpc::{AppError, ErrorCode, RpcError, SharedJson};
use crate::records::{TokenGrant, TokenScope};
use crate::server::MethodOutput;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

/// Declares a server's methods, one line each as `file::Type`: `fn list() -> MethodList<Deps>`
/// with the methods in the order given (the order of the server's `methods()`). The method
/// files are declared with plain `pub mod file;` lines next to it, not by the macro, so that
/// rustfmt (which does not follow modules declared inside a macro call) formats them.
///
/// ```text
/// crate::method_list!(QueueDeps:
///     get_overview::GetOverview,
///     retry_job::RetryJob,
/// );
/// ```
#[macro_export]
macro_rules! method_list {
    ($deps:ty: $($module:ident :: $method:ident),+ $(,)?) => {
        /// Every method of this server, in the order listed.
        fn list() -> $crate::registry::MethodList<$deps> {
            $crate::registry::MethodList::new()$(.with::<$module::$method>())+
        }
    };
}

/// Who may call a method: the least [`TokenScope`] a token needs (a company's token only
/// for its own company), or, for [`Scope::Platform`], the operators' admin token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// `read`, `write` and `admin` tokens: methods that change nothing.
    Read,
    /// `write` and `admin` tokens: book, move, cancel, retry.
    Write,
    /// `admin` tokens: the tenant's settings, credentials and tokens.
    Admin,
    /// Only an `admin` token of no company: what spans tenants or the process (create a
    /// tenant, list workers, fault injection).
    Platform,
}

impl Scope {
    /// `read`, `write`, `admin` or `platform`, as `x-scope` in `rpc.discover`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Admin => "admin",
            Self::Platform => "platform",
        }
    }

    /// The least token scope that may call a method of this scope.
    pub fn least_token_scope(self) -> TokenScope {
        match self {
            Self::Read => TokenScope::Read,
            Self::Write => TokenScope::Write,
            Self::Admin | Self::Platform => TokenScope::Admin,
        }
    }
}

/// What a method does to state; becomes the MCP tool annotations (`readOnlyHint`,
/// `destructiveHint`, `idempotentHint`) and `x-kind` in `rpc.discover`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Changes nothing; safe to repeat.
    Read,
    /// Changes state in a way that can be undone or repeated without loss (e.g. requeue a dead
    /// letter, book with an idempotency key).
    Write,
    /// Changes state in a way that cannot be undone (e.g. cancel a booking, crash an actor).
    Destructive,
}

impl Kind {
    /// `read`, `write` or `destructive`, as `x-kind` in `rpc.discover`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Destructive => "destructive",
        }
    }
}

/// One JSON-RPC method `<server>.<method>` as a typed unit. Implemented by a unit struct, one
/// file per method (or per small group) under `servers/<server>/`.
pub trait Method: 'static {
    /// `<server>.<method>`, e.g. `queue.getFailedJobs`.
    const NAME: &'static str;
    /// What the method does, for `rpc.discover` and as the MCP tool description: written for
    /// a reader (human or LLM) who sees nothing else — what it returns, units, time zones.
    const SUMMARY: &'static str;
    /// Who may call it; the router checks it before the server sees the call.
    const SCOPE: Scope;
    /// What it does to state.
    const KIND: Kind;
    /// What `apply` needs: the server's dependencies, held by its actor and shared per call.
    type Deps: 'static;
    /// The by-name params. Bounds (ranges, lengths, patterns) belong here as `#[schemars(...)]`
    /// attributes: they are checked before `apply` and shown in `rpc.discover`. Use
    /// `#[serde(deny_unknown_fields)]` so a typo is -32602, not ignored.
    type Params: DeserializeOwned + JsonSchema;
    /// `result.data` of the success envelope.
    type Output: Serialize + JsonSchema;

    /// Runs the call for `grant` with params that passed the schema and parsed.
    ///
    /// # Errors
    /// The method's JSON-RPC error (DESIGN §5): -32602 for params that break a rule the
    /// schema cannot state, -32002 for another tenant's data, application codes otherwise.
    fn apply(
        params: Self::Params,
        grant: TokenGrant,
        deps: Arc<Self::Deps>,
    ) -> impl Future<Output = Result<Reply<Self::Output>, RpcError>>;
}

/// A method's result: `T` serialised once, and whether it came from a cache.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply<T> {
    output: MethodOutput,
    kind: PhantomData<fn() -> T>,
}

impl<T: Serialize> Reply<T> {
    /// A freshly computed result.
    ///
    /// # Errors
    /// -32603 when `output` does not serialise (a map with non-string keys, say).
    pub fn fresh(output: T) -> Result<Self, RpcError> {
        let data = SharedJson::of(&output).map_err(|e| RpcError::internal(e.to_string()))?;
        Ok(Self::json(data, false))
    }

    /// A `T` that was serialised earlier and kept in a cache; `metadata.cached` says so.
    pub fn cached(data: SharedJson) -> Self {
        Self::json(data, true)
    }

    fn json(data: SharedJson, cached: bool) -> Self {
        Self {
            output: MethodOutput { data, cached },
            kind: PhantomData,
        }
    }

    /// The serialised result, e.g. to put it in a cache.
    pub fn data(&self) -> &SharedJson {
        &self.output.data
    }
}

impl<T> From<Reply<T>> for MethodOutput {
    fn from(reply: Reply<T>) -> Self {
        reply.output
    }
}

/// What the router and `rpc.discover` know of a method, generated from its [`Method`] impl.
#[derive(Clone, Debug)]
pub struct MethodSpec {
    /// `<server>.<method>`, e.g. `calcom.getEventTypes`.
    pub name: &'static str,
    /// [`Method::SUMMARY`] (OpenRPC `summary`).
    pub summary: &'static str,
    /// Who may call it; the router checks it before the server sees the call.
    pub scope: Scope,
    /// What it does to state.
    pub kind: Kind,
    /// JSON Schema (2020-12) of the by-name params, generated from [`Method::Params`].
    pub params: Schema,
    /// JSON Schema (2020-12) of `result.data`, generated from [`Method::Output`].
    pub result: Schema,
    /// Reads by-name params into [`Method::Params`] and drops them.
    parse: fn(Value) -> Result<(), RpcError>,
}

impl MethodSpec {
    /// The spec of `M`.
    pub fn of<M: Method>() -> Self {
        Self {
            name: M::NAME,
            summary: M::SUMMARY,
            scope: M::SCOPE,
            kind: M::KIND,
            params: SchemaGenerator::default().into_root_schema_for::<M::Params>(),
            result: SchemaGenerator::default().into_root_schema_for::<M::Output>(),
            parse: parse_params::<M>,
        }
    }

    /// What a call does with `params` before `apply`, and nothing more: positional params
    /// refused, the schema checked, the typed params read. The validator is compiled once,
    /// here; for property tests and tools that check params without the server's deps.
    ///
    /// # Panics
    /// When the params schema does not compile: a wiring bug, found at start too.
    pub fn params_check(&self) -> impl Fn(Option<Value>) -> Result<(), RpcError> + use<> {
        let validator = validate::ParamsValidator::new(&self.params)
            .unwrap_or_else(|e| panic!("params schema of {} does not compile: {e}", self.name));
        let parse = self.parse;
        move |params| {
            let params = table::by_name(params)?;
            validator.check(&params)?;
            parse(params)
        }
    }

    /// The server part of the name: everything before the last dot.
    pub fn server(&self) -> &'static str {
        server_of(self.name)
    }
}

fn parse_params<M: Method>(params: Value) -> Result<(), RpcError> {
    serde_json::from_value::<M::Params>(params)
        .map(drop)
        .map_err(|e| RpcError::invalid_params(e.to_string()))
}

/// The server of a method name (`retell.config.getX` → `retell.config`).
pub fn server_of(method: &str) -> &str {
    method.rsplit_once('.').map_or(method, |(server, _)| server)
}

/// Checks `grant` may call a method of `scope`: its token scope is at least the method's,
/// and a [`Scope::Platform`] method needs an admin token of no company.
///
/// # Errors
/// -32002 naming the scope needed.
pub fn authorize(grant: &TokenGrant, scope: Scope) -> Result<(), RpcError> {
    let needed = scope.least_token_scope();
    if grant.scope < needed {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            format!(
                "this method needs a {} token; this one is {}",
                needed.as_str(),
                grant.scope.as_str()
            ),
        )
        .into());
    }
    if scope == Scope::Platform && grant.company_id.is_some() {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            "this method needs the operators' admin token (an admin token of no company)",
        )
        .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::CompanyId;

    #[test]
    fn server_is_everything_before_the_last_dot() {
        assert_eq!(
            server_of("retell.config.getWebhookConfiguration"),
            "retell.config"
        );
        assert_eq!(server_of("calcom.getEventTypes"), "calcom");
    }

    #[test]
    fn company_token_may_not_call_a_platform_method() {
        let company = TokenGrant::company(CompanyId(1), TokenScope::Admin, "t");
        let admin = TokenGrant::admin("t");
        assert_eq!(
            authorize(&company, Scope::Platform).unwrap_err().code,
            -32002
        );
        assert!(authorize(&company, Scope::Admin).is_ok());
        assert!(authorize(&admin, Scope::Platform).is_ok());
    }

    #[test]
    fn read_token_cannot_call_write_methods_and_write_token_cannot_administer() {
        let read = TokenGrant::company(CompanyId(1), TokenScope::Read, "t");
        let write = TokenGrant::company(CompanyId(1), TokenScope::Write, "t");
        assert!(authorize(&read, Scope::Read).is_ok());
        let e = authorize(&read, Scope::Write).unwrap_err();
        assert_eq!(e.code, -32002);
        assert!(e.message.contains("needs a write token"), "{}", e.message);
        assert!(authorize(&write, Scope::Write).is_ok());
        assert_eq!(authorize(&write, Scope::Admin).unwrap_err().code, -32002);
        let all_read = TokenGrant {
            company_id: None,
            ..TokenGrant::admin("t")
        };
        let all_read = TokenGrant {
            scope: TokenScope::Read,
            ..all_read
        };
        assert_eq!(
            authorize(&all_read, Scope::Platform).unwrap_err().code,
            -32002
        );
    }

    #[test]
    fn cached_reply_keeps_its_data_and_says_cached() {
        let out: MethodOutput = Reply::<u8>::cached(Value::from(7).into()).into();
        assert_eq!((out.data.to_value(), out.cached), (Value::from(7), true));
        let fresh = Reply::fresh(7u8).unwrap();
        assert_eq!(fresh.data().get(), "7");
        assert!(!MethodOutput::from(fresh).cached);
    }
}
