//! From a request body to a reply body: parsing, single calls and batches (JSON-RPC 2.0 §4–§6).

use futures_util::future::join_all;
use serde::Serialize;
use serde_json::Value;

use super::error::RpcError;
use super::message::{Id, Request, Response};

/// Bounds on what one request body may ask of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most elements a batch may have (default 100). All elements run concurrently, so this
    /// caps the fan-out one body can cause; a longer batch is refused whole, before any call
    /// runs, with a single -32600.
    pub max_batch: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_batch: 100 }
    }
}

/// Parses `body` as JSON-RPC 2.0, runs every valid call through `dispatch`, and returns the
/// serialized reply, or `None` when nothing must be sent (the HTTP layer answers 204).
///
/// Rules applied (JSON-RPC 2.0 §4–§6):
/// - invalid JSON (including an empty body) → a single -32700 with `"id": null`;
/// - a message that is not a valid Request object (see [`Request::from_value`]) → -32600 with
///   `"id": null`, also when it carried a readable id or no id at all;
/// - `[]` → a single -32600; more than `limits.max_batch` elements → a single -32600 whose
///   `data.details` is `"batch too large (max N)"`, and nothing is dispatched;
/// - a batch → an array with one reply per call and per invalid element, in request order
///   (the spec allows any order; clients should still match by id); elements are dispatched
///   concurrently;
/// - notifications (no `id` member) are dispatched but never answered, even when `dispatch`
///   fails or does not know the method; a single notification or an all-notification batch
///   → `None`, never `[]`.
///
/// `dispatch` sees every valid request unchanged, `rpc.`-prefixed methods included, and is
/// expected to answer unknown methods with [`RpcError::method_not_found`]. Returns after every dispatched call,
/// notifications included, has finished, so notification work stays bounded by the request.
pub async fn process<D, F, T>(body: &[u8], limits: &Limits, dispatch: D) -> Option<String>
where
    D: Fn(Request) -> F,
    F: Future<Output = Result<T, RpcError>>,
    T: Serialize,
{
    let message = match serde_json::from_slice::<Value>(body) {
        Ok(message) => message,
        Err(err) => return Some(to_json(&refusal::<Value>(RpcError::parse_error_at(&err)))),
    };
    match message {
        Value::Array(batch) => run_batch(batch, limits, &dispatch).await,
        single => run_one(single, &dispatch)
            .await
            .map(|reply| to_json(&reply)),
    }
}

async fn run_batch<D, F, T>(batch: Vec<Value>, limits: &Limits, dispatch: &D) -> Option<String>
where
    D: Fn(Request) -> F,
    F: Future<Output = Result<T, RpcError>>,
    T: Serialize,
{
    if batch.is_empty() {
        return Some(to_json(&refusal::<Value>(RpcError::invalid_request(
            "a batch must not be empty",
        ))));
    }
    if batch.len() > limits.max_batch {
        return Some(to_json(&refusal::<Value>(RpcError::invalid_request(
            format!("batch too large (max {})", limits.max_batch),
        ))));
    }
    let replies: Vec<Response<T>> = join_all(batch.into_iter().map(|m| run_one(m, dispatch)))
        .await
        .into_iter()
        .flatten()
        .collect();
    // §6: an all-notification batch gets no reply at all, not an empty array.
    (!replies.is_empty()).then(|| to_json(&replies))
}

/// One batch element or a single message; `None` for a notification.
async fn run_one<D, F, T>(message: Value, dispatch: &D) -> Option<Response<T>>
where
    D: Fn(Request) -> F,
    F: Future<Output = Result<T, RpcError>>,
    T: Serialize,
{
    match Request::from_value(message) {
        Err(err) => Some(refusal(err)),
        Ok(request) => {
            let id = request.id.clone();
            let outcome = dispatch(request).await;
            id.map(|id| Response { id, outcome })
        }
    }
}

/// A reply to a message whose id could not be trusted (§5: the id MUST then be null).
fn refusal<T>(err: RpcError) -> Response<T> {
    Response {
        id: Id::Null,
        outcome: Err(err),
    }
}

fn to_json(reply: &impl Serialize) -> String {
    serde_json::to_string(reply).expect("responses hold only JSON values and string keys")
}
