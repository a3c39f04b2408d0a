//! Every row of the conformance table in `reference/mcp.md` §1.4 (the spec's own examples) and
//! the extra cases from its test notes, run through [`process`] against the spec's test server.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use super::*;

/// The server the spec's examples assume: `subtract`, `sum`, `get_data` as calls; `update`,
/// `notify_hello`, `notify_sum` as notifications; everything else unknown.
async fn spec_server(req: Request) -> Result<Value, RpcError> {
    match req.method.as_str() {
        "subtract" => subtract(req.params),
        "sum" => {
            let Some(Value::Array(items)) = req.params else {
                return Err(RpcError::invalid_params("expected an array of integers"));
            };
            items
                .iter()
                .map(|v| {
                    v.as_i64()
                        .ok_or_else(|| RpcError::invalid_params("not an integer"))
                })
                .sum::<Result<i64, _>>()
                .map(Value::from)
        }
        "get_data" => Ok(json!(["hello", 5])),
        "update" | "notify_hello" | "notify_sum" if req.is_notification() => Ok(Value::Null),
        other => Err(RpcError::method_not_found(other)),
    }
}

fn subtract(params: Option<Value>) -> Result<Value, RpcError> {
    let (minuend, subtrahend) = match &params {
        Some(Value::Array(p)) if p.len() == 2 => (p[0].as_i64(), p[1].as_i64()),
        Some(Value::Object(p)) => (
            p.get("minuend").and_then(Value::as_i64),
            p.get("subtrahend").and_then(Value::as_i64),
        ),
        _ => (None, None),
    };
    match (minuend, subtrahend) {
        (Some(m), Some(s)) => Ok(json!(m - s)),
        _ => Err(RpcError::invalid_params("expected [minuend, subtrahend]")),
    }
}

async fn run(body: &str) -> Option<Value> {
    run_with(body, &Limits::default()).await
}

async fn run_with(body: &str, limits: &Limits) -> Option<Value> {
    let reply = process(body.as_bytes(), limits, spec_server).await?;
    Some(serde_json::from_str(&reply).expect("reply is JSON"))
}

/// Checks the §5 shape (via `Response`'s strict deserializer) and keeps what the table
/// compares: id, result or error code and message (`data` is our addition).
fn normalize(reply: &Value) -> Value {
    let parsed: Response = serde_json::from_value(reply.clone()).expect("a valid Response");
    match parsed.outcome {
        Ok(result) => json!({"result": result, "id": parsed.id}),
        Err(e) => json!({"error": {"code": e.code, "message": e.message}, "id": parsed.id}),
    }
}

fn assert_single(actual: Option<Value>, expected: Value) {
    let actual = actual.expect("a reply");
    assert!(actual.is_object(), "expected a single object, got {actual}");
    assert_eq!(normalize(&actual), expected);
}

/// Batch replies compared as a multiset: order is free (§6), so both sides are sorted.
fn assert_batch(actual: Option<Value>, expected: Value) {
    let actual = actual.expect("a reply");
    let sorted = |items: Vec<Value>| {
        let mut items: Vec<String> = items.iter().map(Value::to_string).collect();
        items.sort();
        items
    };
    let Value::Array(actual) = actual else {
        panic!("expected an array, got {actual}");
    };
    let Value::Array(expected) = expected else {
        unreachable!("expected batches are arrays")
    };
    assert_eq!(
        sorted(actual.iter().map(normalize).collect()),
        sorted(expected)
    );
}

fn invalid_request() -> Value {
    json!({"error": {"code": -32600, "message": "Invalid Request"}, "id": null})
}

// Row 1a, 1b.
#[actix_rt::test]
async fn positional_params_subtract() {
    let r = run(r#"{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}"#).await;
    assert_single(r, json!({"result": 19, "id": 1}));
    let r = run(r#"{"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2}"#).await;
    assert_single(r, json!({"result": -19, "id": 2}));
}

// Row 2a, 2b.
#[actix_rt::test]
async fn named_params_subtract_in_any_order() {
    let r = run(
        r#"{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}"#,
    )
    .await;
    assert_single(r, json!({"result": 19, "id": 3}));
    let r = run(
        r#"{"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4}"#,
    )
    .await;
    assert_single(r, json!({"result": 19, "id": 4}));
}

// Row 3a, 3b.
#[actix_rt::test]
async fn notifications_get_no_reply_even_for_unknown_methods() {
    let r = run(r#"{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}"#).await;
    assert_eq!(r, None);
    let r = run(r#"{"jsonrpc": "2.0", "method": "foobar"}"#).await;
    assert_eq!(r, None);
}

// Row 4.
#[actix_rt::test]
async fn unknown_method_is_method_not_found_with_request_id() {
    let r = run(r#"{"jsonrpc": "2.0", "method": "foobar", "id": "1"}"#).await;
    assert_single(
        r,
        json!({"error": {"code": -32601, "message": "Method not found"}, "id": "1"}),
    );
}

// Row 5.
#[actix_rt::test]
async fn parse_error_has_null_id() {
    let r = run(r#"{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]"#).await;
    assert_single(
        r,
        json!({"error": {"code": -32700, "message": "Parse error"}, "id": null}),
    );
}

// Row 6.
#[actix_rt::test]
async fn invalid_request_object_has_null_id() {
    let r = run(r#"{"jsonrpc": "2.0", "method": 1, "params": "bar"}"#).await;
    assert_single(r, invalid_request());
}

// Row 7.
#[actix_rt::test]
async fn batch_with_invalid_json_is_single_parse_error() {
    let r = run(
        r#"[ {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"}, {"jsonrpc": "2.0", "method" ]"#,
    )
    .await;
    assert_single(
        r,
        json!({"error": {"code": -32700, "message": "Parse error"}, "id": null}),
    );
}

// Row 8.
#[actix_rt::test]
async fn empty_batch_is_single_invalid_request() {
    assert_single(run("[]").await, invalid_request());
}

// Row 9.
#[actix_rt::test]
async fn batch_of_one_non_object_is_array_of_one_invalid_request() {
    assert_batch(run("[1]").await, json!([invalid_request()]));
}

// Row 10.
#[actix_rt::test]
async fn batch_of_non_objects_answers_each_with_invalid_request() {
    assert_batch(
        run("[1,2,3]").await,
        json!([invalid_request(), invalid_request(), invalid_request()]),
    );
}

// Row 11.
#[actix_rt::test]
async fn mixed_batch_matches_spec_example() {
    let r = run(r#"[
        {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
        {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
        {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
    ]"#)
    .await;
    assert_batch(
        r,
        json!([
            {"result": 7, "id": "1"},
            {"result": 19, "id": "2"},
            invalid_request(),
            {"error": {"code": -32601, "message": "Method not found"}, "id": "5"},
            {"result": ["hello", 5], "id": "9"}
        ]),
    );
}

// Row 12.
#[actix_rt::test]
async fn all_notification_batch_returns_nothing() {
    let r = run(r#"[
        {"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}
    ]"#)
    .await;
    assert_eq!(r, None);
}

#[actix_rt::test]
async fn jsonrpc_other_than_2_0_is_invalid_request() {
    for version in [r#""1.0""#, r#""2""#, "2.0", "null"] {
        let body = format!(r#"{{"jsonrpc": {version}, "method": "get_data", "id": 1}}"#);
        assert_single(run(&body).await, invalid_request());
    }
    let r = run(r#"{"method": "get_data", "id": 1}"#).await;
    assert_single(r, invalid_request());
}

#[actix_rt::test]
async fn structured_or_boolean_id_is_invalid_request_with_null_id() {
    for id in [r#"{"a": 1}"#, "[1]", "true"] {
        let body = format!(r#"{{"jsonrpc": "2.0", "method": "get_data", "id": {id}}}"#);
        assert_single(run(&body).await, invalid_request());
    }
}

#[actix_rt::test]
async fn unstructured_params_are_invalid_request() {
    for params in [r#""bar""#, "42", "true", "null"] {
        let body =
            format!(r#"{{"jsonrpc": "2.0", "method": "get_data", "params": {params}, "id": 1}}"#);
        assert_single(run(&body).await, invalid_request());
    }
}

#[actix_rt::test]
async fn response_object_sent_as_request_is_invalid_request() {
    let r =
        run(r#"{"jsonrpc": "2.0", "result": 1, "error": {"code": 1, "message": "m"}, "id": 1}"#)
            .await;
    assert_single(r, invalid_request());
}

#[actix_rt::test]
async fn scalar_bodies_are_single_invalid_request() {
    for body in ["1", r#""hello""#, "null", "true"] {
        assert_single(run(body).await, invalid_request());
    }
}

#[actix_rt::test]
async fn empty_or_trailing_garbage_body_is_parse_error() {
    for body in [
        "",
        "   ",
        r#"{"jsonrpc": "2.0", "method": "get_data", "id": 1} x"#,
    ] {
        let reply = run(body).await.expect("a reply");
        assert_eq!(reply["error"]["code"], -32700, "{body:?}");
        assert_eq!(reply["id"], Value::Null);
    }
}

#[actix_rt::test]
async fn parse_error_details_say_where() {
    let reply = run(r#"{"jsonrpc": "2.0""#).await.expect("a reply");
    let details = reply["error"]["data"]["details"].as_str().unwrap();
    assert!(details.contains("line 1"), "{details}");
}

#[actix_rt::test]
async fn nested_batch_element_is_invalid_request() {
    let r = run(r#"[[{"jsonrpc": "2.0", "method": "get_data", "id": 1}]]"#).await;
    assert_batch(r, json!([invalid_request()]));
}

#[actix_rt::test]
async fn invalid_request_detail_names_the_member() {
    let reply = run(r#"{"jsonrpc": "2.0", "method": "get_data", "params": "bar", "id": 1}"#)
        .await
        .expect("a reply");
    assert_eq!(reply["error"]["data"]["type"], "invalid_request");
    let details = reply["error"]["data"]["details"].as_str().unwrap();
    assert!(details.contains("`params`"), "{details}");
}

#[actix_rt::test]
async fn rpc_prefixed_methods_pass_through_to_dispatch() {
    let seen = |req: Request| async move {
        Ok::<_, RpcError>(json!({"method": req.method, "params": req.params}))
    };
    let body = br#"{"jsonrpc": "2.0", "method": "rpc.discover", "params": [], "id": 1}"#;
    let reply = process(body, &Limits::default(), seen).await.unwrap();
    let reply: Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(
        reply["result"],
        json!({"method": "rpc.discover", "params": []})
    );
}

#[actix_rt::test]
async fn null_id_is_a_call_not_a_notification() {
    let r = run(r#"{"jsonrpc": "2.0", "method": "get_data", "id": null}"#).await;
    assert_single(r, json!({"result": ["hello", 5], "id": null}));
}

#[actix_rt::test]
async fn number_ids_are_echoed_exactly() {
    for id in [
        "0",
        "-1",
        "1.5",
        "9007199254740993",
        "18446744073709551615",
        "-9223372036854775808",
    ] {
        let body = format!(r#"{{"jsonrpc": "2.0", "method": "get_data", "id": {id}}}"#);
        let reply = process(body.as_bytes(), &Limits::default(), spec_server)
            .await
            .unwrap();
        assert!(reply.ends_with(&format!(r#","id":{id}}}"#)), "{reply}");
    }
}

#[actix_rt::test]
async fn string_ids_are_echoed_exactly() {
    let r = run(r#"{"jsonrpc": "2.0", "method": "get_data", "id": "ä \"1\" "}"#).await;
    assert_single(r, json!({"result": ["hello", 5], "id": "ä \"1\" "}));
}

#[actix_rt::test]
async fn batch_too_large_is_single_invalid_request_and_dispatches_nothing() {
    let calls = AtomicUsize::new(0);
    let counting = |req: Request| {
        calls.fetch_add(1, Ordering::SeqCst);
        spec_server(req)
    };
    let limits = Limits { max_batch: 2 };
    let call = r#"{"jsonrpc": "2.0", "method": "get_data", "id": 1}"#;
    let body = format!("[{call},{call},{call}]");
    let reply = process(body.as_bytes(), &limits, counting).await.unwrap();
    let reply: Value = serde_json::from_str(&reply).unwrap();
    assert_single(Some(reply.clone()), invalid_request());
    assert_eq!(reply["error"]["data"]["details"], "batch too large (max 2)");
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    let body = format!("[{call},{call}]");
    let reply = run_with(&body, &limits).await.unwrap();
    assert_eq!(reply.as_array().map(Vec::len), Some(2));
}

#[test]
fn default_max_batch_is_100() {
    assert_eq!(Limits::default().max_batch, 100);
}

#[actix_rt::test]
async fn failing_notification_produces_no_output() {
    let calls = AtomicUsize::new(0);
    let failing = |_req: Request| {
        calls.fetch_add(1, Ordering::SeqCst);
        async { Err::<Value, _>(RpcError::internal("boom")) }
    };
    let single = br#"{"jsonrpc": "2.0", "method": "update", "params": [1]}"#;
    assert_eq!(process(single, &Limits::default(), failing).await, None);

    let batch = br#"[{"jsonrpc": "2.0", "method": "update"}, {"jsonrpc": "2.0", "method": "x"}]"#;
    assert_eq!(process(batch, &Limits::default(), failing).await, None);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "notifications are still dispatched"
    );

    let mixed =
        br#"[{"jsonrpc": "2.0", "method": "update"}, {"jsonrpc": "2.0", "method": "x", "id": 7}]"#;
    let reply = process(mixed, &Limits::default(), failing).await.unwrap();
    let reply: Value = serde_json::from_str(&reply).unwrap();
    assert_batch(
        Some(reply),
        json!([{"error": {"code": -32603, "message": "Internal error"}, "id": 7}]),
    );
}

#[actix_rt::test]
async fn batch_elements_are_dispatched_concurrently() {
    // Each call waits until all three have started: sequential dispatch would never finish.
    let barrier = tokio::sync::Barrier::new(3);
    let barrier = &barrier;
    let rendezvous = |req: Request| async move {
        barrier.wait().await;
        Ok::<_, RpcError>(json!(req.method))
    };
    let body = br#"[
        {"jsonrpc": "2.0", "method": "a", "id": 1},
        {"jsonrpc": "2.0", "method": "b", "id": 2},
        {"jsonrpc": "2.0", "method": "c"}
    ]"#;
    let reply = tokio::time::timeout(
        Duration::from_secs(5),
        process(body, &Limits::default(), rendezvous),
    )
    .await
    .expect("batch elements ran one after another");
    assert_eq!(reply.map(|r| r.matches("\"result\"").count()), Some(2));
}

#[actix_rt::test]
async fn batch_replies_keep_request_order() {
    let r = run(r#"[
        {"jsonrpc": "2.0", "method": "get_data", "id": "c"},
        {"jsonrpc": "2.0", "method": "nope", "id": "a"},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "get_data", "id": "b"}
    ]"#)
    .await
    .unwrap();
    let ids: Vec<&Value> = r.as_array().unwrap().iter().map(|x| &x["id"]).collect();
    assert_eq!(ids, [&json!("c"), &json!("a"), &Value::Null, &json!("b")]);
}

#[actix_rt::test]
async fn duplicate_ids_in_a_batch_each_get_a_reply() {
    let r = run(r#"[
        {"jsonrpc": "2.0", "method": "get_data", "id": 1},
        {"jsonrpc": "2.0", "method": "get_data", "id": 1}
    ]"#)
    .await;
    let expected = json!({"result": ["hello", 5], "id": 1});
    assert_batch(r, json!([expected, expected]));
}

#[actix_rt::test]
async fn app_errors_reach_the_wire_with_code_and_data() {
    let slot_taken = |_req: Request| async {
        Err::<Value, _>(AppError::new(ErrorCode::SlotNotAvailable, "Slot is taken").into())
    };
    let body = br#"{"jsonrpc": "2.0", "method": "calcom.createBooking", "params": {}, "id": 1}"#;
    let reply = process(body, &Limits::default(), slot_taken).await.unwrap();
    let reply: Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(
        reply,
        json!({
            "jsonrpc": "2.0",
            "error": {"code": 2003, "message": "Slot is taken", "data": {"type": "slot_not_available"}},
            "id": 1
        })
    );
}
