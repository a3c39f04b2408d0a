//! The success envelope every gateway method returns as its JSON-RPC `result` (DESIGN §5), and
//! the serialised JSON a reply and the cache share ([`SharedJson`]).

use serde::ser::{SerializeMap, Serializer};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;
use serde_json::value::RawValue;
use std::sync::Arc;

/// A JSON text, serialised once and shared by reference count: what the cache holds and what a
/// reply embeds as is. A cached read is answered by copying these bytes into the reply, never
/// by rebuilding and re-serialising a [`Value`] tree (issue 16).
#[derive(Clone, Debug)]
pub struct SharedJson(Arc<RawValue>);

impl SharedJson {
    /// `value` serialised.
    ///
    /// # Errors
    /// When `value` does not serialise (a map with non-string keys, say).
    pub fn of<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        serde_json::value::to_raw_value(value).map(|raw| Self(Arc::from(raw)))
    }

    /// Takes `text` after checking it is one JSON value (e.g. read back from Redis).
    ///
    /// # Errors
    /// When `text` is not JSON.
    pub fn parse(text: String) -> Result<Self, serde_json::Error> {
        RawValue::from_string(text).map(|raw| Self(Arc::from(raw)))
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// Reads the text as a `T`.
    ///
    /// # Errors
    /// When the text does not deserialise as a `T`.
    pub fn read<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.0.get())
    }

    /// The text as a [`Value`] tree (`Null` if it were not JSON, which construction rules out).
    pub fn to_value(&self) -> Value {
        self.read().unwrap_or(Value::Null)
    }
}

impl Serialize for SharedJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// Equal when the JSON texts are equal byte for byte.
impl PartialEq for SharedJson {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl From<Value> for SharedJson {
    fn from(value: Value) -> Self {
        // A `Value` always serialises: its map keys are strings.
        Self::of(&value).unwrap_or_else(|_| Self(Arc::from(RawValue::NULL.to_owned())))
    }
}

/// The `result` of a JSON-RPC reply: our success envelope, or a bare document
/// (`rpc.discover`'s OpenRPC description, shared by every call).
#[derive(Debug, Clone, PartialEq)]
pub enum RpcResult {
    /// A method's output in the DESIGN §5 envelope.
    Success(Success),
    /// A value sent as `result` itself.
    Bare(Arc<Value>),
}

impl RpcResult {
    /// The result as a [`Value`] tree (for callers inside the process: `/mcp`, the dashboard).
    pub fn into_value(self) -> Value {
        match self {
            Self::Success(success) => success.into_value(),
            Self::Bare(value) => Arc::unwrap_or_clone(value),
        }
    }

    /// `result.data` of a success envelope; a bare document whole.
    pub fn into_data(self) -> Value {
        match self {
            Self::Success(success) => success.data.to_value(),
            Self::Bare(value) => Arc::unwrap_or_clone(value),
        }
    }
}

impl Serialize for RpcResult {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Success(success) => success.serialize(serializer),
            Self::Bare(value) => value.serialize(serializer),
        }
    }
}

/// `{"success": true, "data": data, "metadata": {"cached": cached, "processing_time_ms": ms}}`
/// (DESIGN §5). `processing_time_ms` is fractional milliseconds; a non-finite value (which
/// JSON cannot carry) is sent as `null`.
#[derive(Debug, Clone, PartialEq)]
pub struct Success {
    /// The method's output, serialised.
    pub data: SharedJson,
    /// Served from a cache.
    pub cached: bool,
    /// Time the router spent on the call, milliseconds.
    pub processing_time_ms: f64,
}

impl Success {
    /// The envelope as a [`Value`] tree.
    pub fn into_value(self) -> Value {
        serde_json::to_value(&self).unwrap_or(Value::Null)
    }
}

impl Serialize for Success {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Metadata(bool, f64);
        impl Serialize for Metadata {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("cached", &self.0)?;
                map.serialize_entry(
                    "processing_time_ms",
                    &Some(self.1).filter(|ms| ms.is_finite()),
                )?;
                map.end()
            }
        }
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("success", &true)?;
        map.serialize_entry("data", &self.data)?;
        map.serialize_entry("metadata", &Metadata(self.cached, self.processing_time_ms))?;
        map.end()
    }
}

/// Wraps a method's output as [`Success`] does, as a [`Value`] tree.
pub fn success_envelope(data: Value, cached: bool, processing_time_ms: f64) -> Value {
    Success {
        data: data.into(),
        cached,
        processing_time_ms,
    }
    .into_value()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn success_envelope_has_design_shape() {
        assert_eq!(
            success_envelope(json!({"slots": []}), true, 1.25),
            json!({
                "success": true,
                "data": {"slots": []},
                "metadata": {"cached": true, "processing_time_ms": 1.25}
            })
        );
    }

    #[test]
    fn non_finite_processing_time_becomes_null() {
        let env = success_envelope(Value::Null, false, f64::NAN);
        assert_eq!(env["metadata"]["processing_time_ms"], Value::Null);
    }

    #[test]
    fn shared_json_is_embedded_as_its_text() {
        let data = SharedJson::parse(r#"{"b":1,"a":[true,null]}"#.to_owned()).unwrap();
        let reply = Success {
            data,
            cached: true,
            processing_time_ms: 0.5,
        };
        assert_eq!(
            serde_json::to_string(&reply).unwrap(),
            r#"{"success":true,"data":{"b":1,"a":[true,null]},"metadata":{"cached":true,"processing_time_ms":0.5}}"#
        );
    }

    #[test]
    fn shared_json_refuses_text_that_is_not_json() {
        assert!(SharedJson::parse("{\"a\":".to_owned()).is_err());
        assert!(SharedJson::parse("1 2".to_owned()).is_err());
    }
}
