//! The method registry: one source of truth for routing, parameter validation and
//! `rpc.discover` (OpenRPC 1.3 document).

use crate::jsonrpc::RpcError;
use crate::records::TokenGrant;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Who may call a method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Any valid token; company tokens only for their own company.
    Company,
    /// Admin tokens only.
    Admin,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Self::Company => "company",
            Self::Admin => "admin",
        }
    }
}

/// One JSON-RPC method: name, documentation and the JSON Schema of its params, generated from
/// the same Rust type that parses them.
#[derive(Clone, Debug)]
pub struct MethodSpec {
    /// `<server>.<method>`, e.g. `calcom.getEventTypes`.
    pub name: &'static str,
    /// One line for `rpc.discover` (OpenRPC `summary`).
    pub summary: &'static str,
    /// What `result.data` holds.
    pub result: &'static str,
    /// Who may call it; the router checks it before the server sees the call.
    pub scope: Scope,
    /// JSON Schema of the by-name params, generated from the type that parses them.
    pub params: Schema,
}

impl MethodSpec {
    /// A method whose params are the type `P` (by-name object).
    pub fn new<P: JsonSchema>(
        name: &'static str,
        summary: &'static str,
        result: &'static str,
        scope: Scope,
    ) -> Self {
        Self {
            name,
            summary,
            result,
            scope,
            params: SchemaGenerator::default().into_root_schema_for::<P>(),
        }
    }

    /// The server part of the name: everything before the last dot.
    pub fn server(&self) -> &'static str {
        server_of(self.name)
    }
}

/// The server of a method name (`retell.config.getX` → `retell.config`).
pub fn server_of(method: &str) -> &str {
    method.rsplit_once('.').map_or(method, |(server, _)| server)
}

/// Parses by-name params into `P`. Absent or `null` params are read as `{}`; positional
/// (array) params are refused because every method documents named params.
pub fn parse_params<P: DeserializeOwned>(params: Option<Value>) -> Result<P, RpcError> {
    let value = match params {
        None | Some(Value::Null) => json!({}),
        Some(Value::Array(_)) => {
            return Err(RpcError::invalid_params(
                "params must be an object (by-name); positional params are not supported",
            ));
        }
        Some(v) => v,
    };
    serde_json::from_value(value).map_err(|e| RpcError::invalid_params(e.to_string()))
}

/// Checks `grant` may call a method of `scope`.
pub fn authorize(grant: &TokenGrant, scope: Scope) -> Result<(), RpcError> {
    match (scope, grant.company_id) {
        (Scope::Admin, Some(_)) => Err(crate::jsonrpc::AppError::new(
            crate::jsonrpc::ErrorCode::Forbidden,
            "this method needs an admin token",
        )
        .into()),
        _ => Ok(()),
    }
}

/// Builds the OpenRPC document for `rpc.discover` from the registered methods.
pub fn openrpc(methods: &[MethodSpec], version: &str) -> Value {
    let mut sorted: Vec<&MethodSpec> = methods.iter().collect();
    sorted.sort_by_key(|m| m.name);
    json!({
        "openrpc": "1.3.2",
        "info": {
            "title": "switchboard JSON-RPC gateway",
            "version": version,
            "description": "Methods are <server>.<method>. Results are {success, data, metadata}; \
                            errors follow JSON-RPC 2.0 with application codes (DESIGN §5)."
        },
        "methods": sorted.iter().map(|m| json!({
            "name": m.name,
            "summary": m.summary,
            "paramStructure": "by-name",
            "params": [{"name": "params", "required": false, "schema": m.params}],
            "result": {"name": "result", "description": m.result, "schema": {"type": "object"}},
            "x-server": m.server(),
            "x-scope": m.scope.as_str(),
        })).collect::<Vec<_>>()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct P {
        company_id: Option<i64>,
    }

    #[test]
    fn server_is_everything_before_the_last_dot() {
        assert_eq!(
            server_of("retell.config.getWebhookConfiguration"),
            "retell.config"
        );
        assert_eq!(server_of("calcom.getEventTypes"), "calcom");
    }

    #[test]
    fn unknown_param_is_invalid_params() {
        let err = parse_params::<P>(Some(json!({"nope": 1}))).err().unwrap();
        assert_eq!(err.code, -32602);
        assert!(parse_params::<P>(None).is_ok());
        assert_eq!(
            parse_params::<P>(Some(json!([1]))).err().unwrap().code,
            -32602
        );
    }

    #[test]
    fn openrpc_lists_methods_with_param_schemas() {
        let doc = openrpc(
            &[MethodSpec::new::<P>(
                "calcom.getEventTypes",
                "s",
                "r",
                Scope::Company,
            )],
            "0.1.0",
        );
        assert_eq!(doc["methods"][0]["name"], "calcom.getEventTypes");
        assert!(doc["methods"][0]["params"][0]["schema"]["properties"]["company_id"].is_object());
    }
}
