//! Property test over the method registry (issue 10, "no panic reachable from input"): every
//! JSON-RPC method any server registers gets arbitrary params, which go through exactly what a
//! call does before `apply` (positional refusal, schema validation, typed parsing) and must be
//! accepted or refused with -32602, never panic. A method added later is covered by being
//! listed in its server.

use proptest::prelude::*;
use serde_json::{Number, Value, json};
use switchboard_actors::registry::MethodSpec;
use switchboard_actors::servers::calcom::CalcomServer;
use switchboard_actors::servers::database::DatabaseServer;
use switchboard_actors::servers::queue::QueueServer;
use switchboard_actors::servers::retell_function::RetellFunctionServer;
use switchboard_actors::servers::webhook::WebhookServer;

/// Cases per method.
const CASES: u32 = 256;

fn every_method() -> Vec<MethodSpec> {
    let mut all = CalcomServer::methods();
    all.extend(QueueServer::methods());
    all.extend(WebhookServer::methods());
    all.extend(RetellFunctionServer::methods());
    all.extend(DatabaseServer::methods());
    #[cfg(feature = "fault-injection")]
    all.extend(switchboard_actors::servers::fault::FaultServer::methods());
    all
}

/// The property names of a params schema: the keys arbitrary params should hit.
fn property_names(spec: &MethodSpec) -> Vec<String> {
    spec.params
        .as_value()
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        (-3i64..40).prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any::<String>().prop_map(Value::String),
        prop::sample::select(
            &[
                "2026-12-01",
                "+262142-12-31",
                "-262143-01-01",
                "9999-12-31",
                "2026-02-30",
                "2030-01-08T15:00:00+01:00",
                "+262142-12-31T23:59:59Z",
                "10:00",
                "25:61",
                "",
                "\u{0}",
                "\u{202E}x",
                "Färben",
                "call_1",
                "+4930123456",
                "pending",
                "failed",
            ][..]
        )
        .prop_map(|s| Value::String(s.to_owned())),
    ]
}

fn params(names: Vec<String>) -> impl Strategy<Value = Option<Value>> {
    let value = scalar().prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    let key = if names.is_empty() {
        any::<String>().boxed()
    } else {
        prop_oneof![4 => prop::sample::select(names), 1 => any::<String>()].boxed()
    };
    prop_oneof![
        Just(None),
        scalar().prop_map(Some),
        prop::collection::vec(value.clone(), 0..3).prop_map(|a| Some(Value::Array(a))),
        prop::collection::btree_map(key, value, 0..8)
            .prop_map(|m| Some(Value::Object(m.into_iter().collect()))),
    ]
}

#[test]
fn every_methods_params_are_accepted_or_refused_without_panic() {
    let methods = every_method();
    assert!(methods.len() >= 10, "{} methods", methods.len());
    for spec in methods {
        let check = spec.params_check();
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases: CASES,
            failure_persistence: None,
            ..ProptestConfig::default()
        });
        let result = runner.run(&params(property_names(&spec)), |params| {
            if let Err(e) = check(params) {
                prop_assert_eq!(e.code, -32602, "{}", spec.name);
            }
            Ok(())
        });
        if let Err(e) = result {
            panic!("{}: {e}", spec.name);
        }
        println!("{}: {CASES} cases", spec.name);
    }
}
