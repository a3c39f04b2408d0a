//! Mounting of the Retell routes (reference/retell.md §4.3, current generation) and what every
//! handler shares: the bearer key, the JSON body, list paging and Retell's 404.

mod agents;
mod calls;
mod llms;
mod numbers;

use actix_web::http::header::AUTHORIZATION;
use actix_web::middleware::from_fn;
use actix_web::{HttpRequest, Resource, web};
use futures_util::StreamExt as _;
use serde::Deserialize;
use serde_json::Value;

use super::Shared;
use super::errors::{INVALID_FORMAT, RetellError};
use super::faults;
use super::store::Object;

pub(super) use calls::record;

/// Largest request body read, bytes; beyond it the request is refused with 413.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Items per page when `limit` is left out (Retell's default for its v2 lists, §4.3).
const DEFAULT_LIMIT: usize = 50;
/// Largest `limit` Retell accepts (§4.3).
const MAX_LIMIT: usize = 1000;

/// Mounts every route in one root scope behind the fault layer; any other path or method is
/// Retell's 404.
pub(super) fn mount(cfg: &mut web::ServiceConfig, shared: web::Data<Shared>) {
    let fault_state = shared.clone();
    cfg.service(
        web::scope("")
            .app_data(shared)
            .wrap(from_fn(move |req, next| {
                faults::apply(fault_state.clone(), req, next)
            }))
            .service(resource("/v2/list-agents").route(web::post().to(agents::list)))
            .service(resource("/get-agent/{agent_id}").route(web::get().to(agents::get)))
            .service(
                resource("/list-agent-versions/{agent_id}").route(web::get().to(agents::versions)),
            )
            .service(resource("/update-agent/{agent_id}").route(web::patch().to(agents::update)))
            .service(
                resource("/publish-agent-version/{agent_id}")
                    .route(web::post().to(agents::publish)),
            )
            .service(
                resource("/create-agent-version/{agent_id}")
                    .route(web::post().to(agents::create_version)),
            )
            .service(resource("/get-retell-llm/{llm_id}").route(web::get().to(llms::get)))
            .service(resource("/update-retell-llm/{llm_id}").route(web::patch().to(llms::update)))
            .service(resource("/v2/list-phone-numbers").route(web::get().to(numbers::list)))
            .service(resource("/get-phone-number/{number}").route(web::get().to(numbers::get)))
            .service(
                resource("/update-phone-number/{number}").route(web::patch().to(numbers::update)),
            )
            .service(resource("/v3/list-calls").route(web::post().to(calls::list)))
            .service(resource("/v2/get-call/{call_id}").route(web::get().to(calls::get)))
            .default_service(web::to(no_route)),
    );
}

/// A resource whose other methods get Retell's 404 too.
fn resource(path: &str) -> Resource {
    web::resource(path).default_service(web::to(no_route))
}

async fn no_route() -> Result<web::Json<Value>, RetellError> {
    Err(RetellError::NoRoute)
}

/// The API key of `Authorization: Bearer <key>` (§4.1); 401 without one.
fn bearer(req: &HttpRequest) -> Result<String, RetellError> {
    req.headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .ok_or(RetellError::Unauthorized)
}

/// The JSON object of the body, read up to [`MAX_BODY_BYTES`]: no body is `{}`; anything
/// but an object is Retell's 400.
async fn json_body(mut payload: web::Payload) -> Result<Object, RetellError> {
    let mut bytes = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| RetellError::bad(INVALID_FORMAT))?;
        if bytes.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(RetellError::TooLarge(format!(
                "request body over {MAX_BODY_BYTES} bytes"
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Object::new());
    }
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(RetellError::bad(INVALID_FORMAT)),
    }
}

/// Reads `T` from a JSON object; 400 naming the problem.
fn typed<T: serde::de::DeserializeOwned>(object: &Object) -> Result<T, RetellError> {
    serde_json::from_value(Value::Object(object.clone()))
        .map_err(|e| RetellError::bad(format!("{INVALID_FORMAT} {e}")))
}

/// `?limit&pagination_key&sort_order` of the v2 lists (§4.3).
#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    limit: Option<usize>,
    pagination_key: Option<String>,
    sort_order: Option<SortOrder>,
}

/// `sort_order`: `descending` (Retell's default) or `ascending`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum SortOrder {
    Ascending,
    #[default]
    Descending,
}

impl SortOrder {
    /// `items` (oldest first) in this order.
    fn apply<T>(self, mut items: Vec<T>) -> Vec<T> {
        if self == Self::Descending {
            items.reverse();
        }
        items
    }
}

/// The query of a list request; 400 for a bad value.
fn list_query(req: &HttpRequest) -> Result<ListQuery, RetellError> {
    web::Query::<ListQuery>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|e| RetellError::bad(format!("{INVALID_FORMAT} {e}")))
}

/// `limit` checked: 1..=1000, default 50.
fn limit(asked: Option<usize>) -> Result<usize, RetellError> {
    match asked {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(RetellError::bad(format!(
            "limit must be from 1 to {MAX_LIMIT}, got {n}"
        ))),
    }
}

/// Milliseconds since the epoch on the simulator's clock.
fn now_ms(shared: &Shared) -> i64 {
    shared.clock.now().timestamp_millis()
}

/// Applies a partial update: each key of `patch` but the `read_only` ones replaces the
/// field, `null` removes it.
fn merge(target: &mut Object, patch: Object, read_only: &[&str]) {
    for (key, value) in patch {
        if read_only.contains(&key.as_str()) {
            continue;
        }
        if value.is_null() {
            target.remove(&key);
        } else {
            target.insert(key, value);
        }
    }
}
