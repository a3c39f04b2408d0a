//! The `rpc.discover` document (OpenRPC 1.3, <https://spec.open-rpc.org/>), built from the
//! same specs the router routes.

use super::MethodSpec;
use serde_json::{Value, json};

/// Builds the OpenRPC document for `rpc.discover` from the registered methods, sorted by
/// name. Each method carries its params schema (with bounds) and result schema; `x-server`,
/// `x-scope` and `x-kind` are our extensions.
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
            "result": {"name": "result", "schema": m.result},
            "x-server": m.server(),
            "x-scope": m.scope.as_str(),
            "x-kind": m.kind.as_str(),
        })).collect::<Vec<_>>()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsonrpc::RpcError;
    use crate::records::TokenGrant;
    use crate::registry::{Kind, Method, Reply, Scope};
    use schemars::JsonSchema;
    use std::sync::Arc;

    #[derive(serde::Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct P {
        company_id: Option<i64>,
        #[schemars(range(min = 1, max = 31))]
        days: Option<u32>,
    }

    /// The result.
    #[derive(serde::Serialize, JsonSchema)]
    struct Out {
        ok: bool,
    }

    struct GetEventTypes;

    impl Method for GetEventTypes {
        const NAME: &'static str = "calcom.getEventTypes";
        const SUMMARY: &'static str = "s";
        const SCOPE: Scope = Scope::Company;
        const KIND: Kind = Kind::Read;
        type Deps = ();
        type Params = P;
        type Output = Out;

        async fn apply(_: P, _: TokenGrant, _: Arc<()>) -> Result<Reply<Out>, RpcError> {
            Reply::fresh(Out { ok: true })
        }
    }

    #[test]
    fn openrpc_lists_methods_with_param_schemas() {
        let doc = openrpc(&[MethodSpec::of::<GetEventTypes>()], "0.1.0");
        let method = &doc["methods"][0];
        assert_eq!(method["name"], "calcom.getEventTypes");
        assert!(method["params"][0]["schema"]["properties"]["company_id"].is_object());
        assert_eq!(method["x-server"], "calcom");
        assert_eq!(method["x-kind"], "read");
    }

    #[test]
    fn openrpc_shows_bounds_and_the_result_schema() {
        let doc = openrpc(&[MethodSpec::of::<GetEventTypes>()], "0.1.0");
        let method = &doc["methods"][0];
        let days = &method["params"][0]["schema"]["properties"]["days"];
        assert_eq!(
            (&days["minimum"], &days["maximum"]),
            (&json!(1), &json!(31))
        );
        assert_eq!(
            method["result"]["schema"]["properties"]["ok"]["type"],
            "boolean"
        );
    }
}
