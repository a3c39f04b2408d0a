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
    use crate::registry::testing::Echo;

    #[test]
    fn openrpc_lists_methods_with_param_schemas() {
        let doc = openrpc(&[MethodSpec::of::<Echo>()], "0.1.0");
        let method = &doc["methods"][0];
        assert_eq!(method["name"], "test.echo");
        assert!(method["params"][0]["schema"]["properties"]["company_id"].is_object());
        assert_eq!(method["x-server"], "test");
        assert_eq!(method["x-scope"], "read");
        assert_eq!(method["x-kind"], "read");
    }

    #[test]
    fn openrpc_shows_bounds_and_the_result_schema() {
        let doc = openrpc(&[MethodSpec::of::<Echo>()], "0.1.0");
        let method = &doc["methods"][0];
        let days = &method["params"][0]["schema"]["properties"]["days"];
        assert_eq!(
            (&days["minimum"], &days["maximum"]),
            (&json!(1), &json!(31))
        );
        assert!(method["result"]["schema"]["properties"]["days"].is_object());
    }
}
