//! A server's methods: the list it declares once ([`MethodList`]) and the table its actor runs
//! calls through ([`MethodTable`]: look up, validate against the schema, parse, apply).

use super::validate::ParamsValidator;
use super::{Method, MethodSpec};
use crate::jsonrpc::RpcError;
use crate::records::TokenGrant;
use crate::server::{MethodOutput, ServerCall};
use futures_util::future::{self, LocalBoxFuture};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// A call that passed validation and parsing, running `apply`.
type Pending = LocalBoxFuture<'static, Result<MethodOutput, RpcError>>;

/// Parses validated params into `M::Params` and starts `M::apply`: one monomorphic function
/// per method, so the table holds plain function pointers.
type Run<D> = fn(Value, TokenGrant, Arc<D>) -> Result<Pending, RpcError>;

fn run<M: Method>(
    params: Value,
    grant: TokenGrant,
    deps: Arc<M::Deps>,
) -> Result<Pending, RpcError> {
    let params: M::Params =
        serde_json::from_value(params).map_err(|e| RpcError::invalid_params(e.to_string()))?;
    Ok(Box::pin(async move {
        M::apply(params, grant, deps).await.map(MethodOutput::from)
    }))
}

/// The methods of one server, whose dependencies are `D`, in the order they are listed.
pub struct MethodList<D> {
    methods: Vec<(MethodSpec, Run<D>)>,
}

impl<D: 'static> Default for MethodList<D> {
    fn default() -> Self {
        Self {
            methods: Vec::new(),
        }
    }
}

impl<D: 'static> MethodList<D> {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the method `M`.
    pub fn with<M: Method<Deps = D>>(mut self) -> Self {
        self.methods.push((MethodSpec::of::<M>(), run::<M>));
        self
    }

    /// The specs, in list order, for the router and `rpc.discover`.
    pub fn specs(&self) -> Vec<MethodSpec> {
        self.methods.iter().map(|(spec, _)| spec.clone()).collect()
    }

    /// Compiles every params schema into a validator; done once, when the server is made.
    ///
    /// # Panics
    /// When a name is listed twice or a schema does not compile: wiring bugs, found at start.
    pub fn compile(self) -> MethodTable<D> {
        let mut routes = HashMap::with_capacity(self.methods.len());
        for (spec, run) in self.methods {
            let validator = ParamsValidator::new(&spec.params)
                .unwrap_or_else(|e| panic!("params schema of {} does not compile: {e}", spec.name));
            let previous = routes.insert(spec.name, Route { validator, run });
            assert!(previous.is_none(), "method {} listed twice", spec.name);
        }
        MethodTable { routes }
    }
}

struct Route<D> {
    validator: ParamsValidator,
    run: Run<D>,
}

/// A server's methods ready to run: params validators compiled, looked up by name.
pub struct MethodTable<D> {
    routes: HashMap<&'static str, Route<D>>,
}

impl<D: 'static> MethodTable<D> {
    /// Runs `call` with `deps`. Lookup, validation and parsing happen now, in the server
    /// actor's handler; the returned future runs `apply`.
    ///
    /// The future resolves to -32601 for a method this table does not have, -32602 for params
    /// that are positional, break the schema (`data.details` names each field and rule) or do
    /// not parse, and otherwise to what `apply` returns.
    pub fn call(&self, call: ServerCall, deps: &Arc<D>) -> Pending {
        self.start(call, deps)
            .unwrap_or_else(|e| Box::pin(future::ready(Err(e))))
    }

    fn start(&self, call: ServerCall, deps: &Arc<D>) -> Result<Pending, RpcError> {
        let route = self
            .routes
            .get(call.method.as_str())
            .ok_or_else(|| RpcError::method_not_found(&call.method))?;
        let params = by_name(call.params)?;
        route.validator.check(&params)?;
        (route.run)(params, call.grant, Arc::clone(deps))
    }
}

/// By-name params as an object. Absent or `null` params are read as `{}`; positional (array)
/// params are refused because every method documents named params.
pub(super) fn by_name(params: Option<Value>) -> Result<Value, RpcError> {
    match params {
        None | Some(Value::Null) => Ok(Value::Object(Map::new())),
        Some(Value::Array(_)) => Err(RpcError::invalid_params(
            "params must be an object (by-name); positional params are not supported",
        )),
        Some(v) => Ok(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::testing::Echo;
    use serde_json::json;

    async fn call(method: &str, params: Option<Value>) -> Result<MethodOutput, RpcError> {
        let table = MethodList::new().with::<Echo>().compile();
        let call = ServerCall {
            method: method.to_owned(),
            params,
            grant: TokenGrant::admin("t"),
            span: tracing::Span::none(),
        };
        table.call(call, &Arc::new(())).await
    }

    #[actix_rt::test]
    async fn unknown_param_is_invalid_params() {
        let err = call("test.echo", Some(json!({"nope": 1})))
            .await
            .unwrap_err();
        assert_eq!(err.code, -32602);
        assert!(call("test.echo", None).await.is_ok());
        assert_eq!(
            call("test.echo", Some(json!([1]))).await.unwrap_err().code,
            -32602
        );
    }

    #[actix_rt::test]
    async fn valid_params_reach_apply_typed() {
        let out = call("test.echo", Some(json!({"company_id": 4, "days": 31})))
            .await
            .unwrap();
        assert_eq!(out.data.to_value(), json!({"company_id": 4, "days": 31}));
        assert!(!out.cached);
    }

    #[actix_rt::test]
    async fn out_of_range_param_never_reaches_apply() {
        let err = call("test.echo", Some(json!({"days": 32})))
            .await
            .unwrap_err();
        assert_eq!(err.code, -32602);
        assert_eq!(
            err.data.unwrap()["details"],
            "days must be between 1 and 31, got 32"
        );
    }

    #[actix_rt::test]
    async fn unlisted_method_is_method_not_found() {
        let err = call("test.other", None).await.unwrap_err();
        assert_eq!(err.code, -32601);
    }

    #[test]
    #[should_panic(expected = "listed twice")]
    fn a_method_listed_twice_is_a_wiring_bug() {
        MethodList::new().with::<Echo>().with::<Echo>().compile();
    }
}
