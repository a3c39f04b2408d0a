//! Request ids, Request objects and Response objects (JSON-RPC 2.0 §4–§5).

use serde::de::Error as _;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Number, Value};

use super::error::RpcError;

/// A request id (JSON-RPC 2.0 §4): string, number or null; echoed unchanged in the response.
///
/// Numbers are kept as the parser read them: integers in the `i64`/`u64` range exactly (e.g.
/// `18446744073709551615`), fractions as `f64` (`1.5` stays `1.5`). Integers beyond `u64`
/// lose precision because the workspace's `serde_json` has no `arbitrary_precision`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Id {
    /// `"id": null` — discouraged by the spec but valid, and *not* a notification.
    Null,
    /// `"id": 1`, `"id": 1.5`, …
    Number(Number),
    /// `"id": "abc"`.
    String(String),
}

impl Id {
    /// `None` for values that cannot be ids (bool, array, object).
    fn from_json(value: Value) -> Option<Self> {
        match value {
            Value::Null => Some(Self::Null),
            Value::Number(n) => Some(Self::Number(n)),
            Value::String(s) => Some(Self::String(s)),
            Value::Bool(_) | Value::Array(_) | Value::Object(_) => None,
        }
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Null => serializer.serialize_unit(),
            Self::Number(n) => n.serialize(serializer),
            Self::String(s) => serializer.serialize_str(s),
        }
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Id::from_json(Value::deserialize(deserializer)?)
            .ok_or_else(|| D::Error::custom("an id must be a string, a number or null"))
    }
}

/// A valid Request object (JSON-RPC 2.0 §4): `{"jsonrpc": "2.0", "method": string,
/// "params"?: object | array, "id"?: string | number | null}`.
///
/// Only [`Request::from_value`] builds one from the wire, so every `Request` has passed the
/// spec's checks.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// `None` when the `id` member is absent, which makes this a notification (§4.1).
    /// `Some(Id::Null)` is a call that expects a reply with `"id": null`.
    pub id: Option<Id>,
    /// Passed through as sent, including reserved `rpc.`-prefixed names: whether such a method
    /// exists is the dispatcher's decision.
    pub method: String,
    /// Always an object (by-name) or an array (by-position) when present (§4.2).
    pub params: Option<Value>,
}

impl Request {
    /// True when the client expects no reply (§4.1): the `id` member was absent.
    pub fn is_notification(&self) -> bool {
        self.id.is_none()
    }

    /// Checks one parsed message against §4 and takes it apart.
    ///
    /// # Errors
    /// -32600 Invalid Request, with `data.details` naming the first rule broken: not an
    /// object, `jsonrpc` not exactly `"2.0"`, `method` missing or not a string, `id` a
    /// bool/array/object, or `params` present but neither object nor array (`null` included).
    /// Members the spec does not define are ignored, since it does not forbid them and
    /// clients add tracing fields.
    pub fn from_value(value: Value) -> Result<Self, RpcError> {
        let Value::Object(mut obj) = value else {
            return Err(RpcError::invalid_request(format!(
                "a request must be a JSON object, got {}",
                kind(&value)
            )));
        };
        match obj.get("jsonrpc") {
            Some(Value::String(v)) if v == "2.0" => {}
            Some(_) => return Err(RpcError::invalid_request(r#"`jsonrpc` must be "2.0""#)),
            None => return Err(RpcError::invalid_request("`jsonrpc` is missing")),
        }
        let method = match obj.remove("method") {
            Some(Value::String(m)) => m,
            Some(other) => {
                return Err(RpcError::invalid_request(format!(
                    "`method` must be a string, got {}",
                    kind(&other)
                )));
            }
            None => return Err(RpcError::invalid_request("`method` is missing")),
        };
        let id = match obj.remove("id") {
            None => None,
            Some(v) => {
                let got = kind(&v);
                let id = Id::from_json(v).ok_or_else(|| {
                    RpcError::invalid_request(format!(
                        "`id` must be a string, a number or null, got {got}"
                    ))
                })?;
                Some(id)
            }
        };
        let params = match obj.remove("params") {
            None => None,
            Some(v @ (Value::Object(_) | Value::Array(_))) => Some(v),
            Some(other) => {
                return Err(RpcError::invalid_request(format!(
                    "`params` must be an object or an array, got {}",
                    kind(&other)
                )));
            }
        };
        Ok(Self { id, method, params })
    }
}

/// A Response object (JSON-RPC 2.0 §5): `{"jsonrpc": "2.0", "result": any, "id": id}` or
/// `{"jsonrpc": "2.0", "error": RpcError, "id": id}`.
///
/// `outcome` makes "exactly one of `result` and `error`" hold by construction; deserializing
/// rejects a response that has both or neither.
#[derive(Debug, Clone, PartialEq)]
pub struct Response<T = Value> {
    /// The request's id, or [`Id::Null`] when it could not be read (§5).
    pub id: Id,
    /// `Ok` becomes `result` (which may be `null`), `Err` becomes `error`.
    pub outcome: Result<T, RpcError>,
}

impl<T: Serialize> Serialize for Response<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("jsonrpc", "2.0")?;
        match &self.outcome {
            Ok(result) => map.serialize_entry("result", result)?,
            Err(error) => map.serialize_entry("error", error)?,
        }
        map.serialize_entry("id", &self.id)?;
        map.end()
    }
}

/// Lets clients of our endpoint (black-box tests, scripts) read replies with the §5 checks.
impl<'de> Deserialize<'de> for Response {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut obj = Map::deserialize(deserializer)?;
        if obj.get("jsonrpc") != Some(&Value::String("2.0".into())) {
            return Err(D::Error::custom(r#"`jsonrpc` must be "2.0""#));
        }
        let id = obj
            .remove("id")
            .ok_or_else(|| D::Error::missing_field("id"))
            .and_then(|v| Id::deserialize(v).map_err(D::Error::custom))?;
        let outcome = match (obj.remove("result"), obj.remove("error")) {
            (Some(result), None) => Ok(result),
            (None, Some(error)) => Err(RpcError::deserialize(error).map_err(D::Error::custom)?),
            (Some(_), Some(_)) => {
                return Err(D::Error::custom(
                    "a response must not have both `result` and `error`",
                ));
            }
            (None, None) => {
                return Err(D::Error::custom("a response must have `result` or `error`"));
            }
        };
        Ok(Self { id, outcome })
    }
}

/// The JSON type of `value` with its article (`null`, `a number`, `an object`, …), for error
/// details and logs ("got a number").
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn invalid_detail(value: Value) -> String {
        let err = Request::from_value(value).unwrap_err();
        assert_eq!(err.code, RpcError::INVALID_REQUEST);
        err.data.unwrap()["details"].as_str().unwrap().to_owned()
    }

    #[test]
    fn absent_id_is_notification_but_null_id_is_not() {
        let note = Request::from_value(json!({"jsonrpc": "2.0", "method": "m"})).unwrap();
        assert!(note.is_notification());
        let call = Request::from_value(json!({"jsonrpc": "2.0", "method": "m", "id": null}));
        assert_eq!(call.unwrap().id, Some(Id::Null));
    }

    #[test]
    fn invalid_request_details_name_the_member() {
        let details = invalid_detail(json!({"jsonrpc": "1.0", "method": "m", "id": 1}));
        assert!(details.contains("jsonrpc"), "{details}");
        let details = invalid_detail(json!({"method": "m", "id": 1}));
        assert!(details.contains("jsonrpc"), "{details}");
        let details = invalid_detail(json!({"jsonrpc": "2.0", "id": 1}));
        assert!(details.contains("method"), "{details}");
        let details = invalid_detail(json!({"jsonrpc": "2.0", "method": "m", "id": true}));
        assert!(details.contains("id"), "{details}");
        let details = invalid_detail(json!({"jsonrpc": "2.0", "method": "m", "params": null}));
        assert!(details.contains("params"), "{details}");
    }

    #[test]
    fn unknown_members_are_ignored() {
        let req = Request::from_value(json!({
            "jsonrpc": "2.0", "method": "m", "id": 7, "trace": "abc"
        }))
        .unwrap();
        assert_eq!(req.method, "m");
        assert_eq!(req.id, Some(Id::Number(7.into())));
    }

    #[test]
    fn response_serializes_exactly_one_of_result_or_error() {
        let ok = Response {
            id: Id::String("1".into()),
            outcome: Ok(Value::Null),
        };
        assert_eq!(
            serde_json::to_value(&ok).unwrap(),
            json!({"jsonrpc": "2.0", "result": null, "id": "1"})
        );
        let err: Response = Response {
            id: Id::Null,
            outcome: Err(RpcError::parse_error()),
        };
        let wire = serde_json::to_value(&err).unwrap();
        assert!(wire.get("result").is_none());
        assert_eq!(wire["error"]["code"], -32700);
        assert_eq!(wire["id"], Value::Null);
    }

    #[test]
    fn response_with_both_result_and_error_is_rejected() {
        let both = json!({
            "jsonrpc": "2.0", "result": 1, "error": {"code": 1, "message": "m"}, "id": 1
        });
        assert!(serde_json::from_value::<Response>(both).is_err());
        let neither = json!({"jsonrpc": "2.0", "id": 1});
        assert!(serde_json::from_value::<Response>(neither).is_err());
    }

    #[test]
    fn response_round_trips() {
        let resp = Response {
            id: Id::Number(Number::from_f64(1.5).unwrap()),
            outcome: Err(RpcError::method_not_found("x")),
        };
        let wire = serde_json::to_string(&resp).unwrap();
        assert_eq!(serde_json::from_str::<Response>(&wire).unwrap(), resp);
    }

    #[test]
    fn id_rejects_structured_values() {
        assert!(serde_json::from_value::<Id>(json!({"a": 1})).is_err());
        assert!(serde_json::from_value::<Id>(json!([1])).is_err());
        assert!(serde_json::from_value::<Id>(json!(false)).is_err());
    }
}
