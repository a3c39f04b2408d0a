//! The JSON-RPC error object and the five standard errors (JSON-RPC 2.0 §5.1).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::codes::AppError;

/// A JSON-RPC error object: `{"code": integer, "message": string, "data"?: any}`
/// (JSON-RPC 2.0 §5.1).
///
/// The standard constructors keep the spec's exact `message` ("Invalid Request", …) so that
/// clients matching on it keep working, and carry the specific reason in
/// `data = {"type": <snake_case code name>, "details": <human-readable reason>}`.
/// Application errors (DESIGN §5) come in through [`RpcError::app`] / `From<AppError>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("JSON-RPC error {code}: {message}")]
pub struct RpcError {
    /// -32768…-32000 is reserved by JSON-RPC; the application codes of DESIGN §5 are the
    /// only other codes we send.
    pub code: i64,
    /// One concise sentence (JSON-RPC 2.0 §5.1).
    pub message: String,
    /// Omitted from the wire when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl RpcError {
    /// -32700: the body is not valid JSON.
    pub const PARSE_ERROR: i64 = -32700;
    /// -32600: the JSON is not a valid Request object (or batch).
    pub const INVALID_REQUEST: i64 = -32600;
    /// -32601: no such method.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// -32602: the method exists but its params are wrong.
    pub const INVALID_PARAMS: i64 = -32602;
    /// -32603: the server failed in a way the caller cannot fix.
    pub const INTERNAL_ERROR: i64 = -32603;

    /// -32700 "Parse error", without details. [`process`](super::process) adds the JSON
    /// parser's position to `data.details`.
    pub fn parse_error() -> Self {
        Self::standard(Self::PARSE_ERROR, "Parse error", "parse_error", None)
    }

    /// -32700 "Parse error" naming where the parser gave up, so the client can find the typo.
    pub(super) fn parse_error_at(err: &serde_json::Error) -> Self {
        Self::standard(
            Self::PARSE_ERROR,
            "Parse error",
            "parse_error",
            Some(err.to_string()),
        )
    }

    /// -32600 "Invalid Request"; `detail` says which member or rule was violated.
    pub fn invalid_request(detail: impl Into<String>) -> Self {
        Self::standard(
            Self::INVALID_REQUEST,
            "Invalid Request",
            "invalid_request",
            Some(detail.into()),
        )
    }

    /// -32601 "Method not found"; `data.details` names the method.
    pub fn method_not_found(method: &str) -> Self {
        Self::standard(
            Self::METHOD_NOT_FOUND,
            "Method not found",
            "method_not_found",
            Some(format!("unknown method `{method}`")),
        )
    }

    /// -32602 "Invalid params"; `detail` says which parameter is wrong and why.
    pub fn invalid_params(detail: impl Into<String>) -> Self {
        Self::standard(
            Self::INVALID_PARAMS,
            "Invalid params",
            "invalid_params",
            Some(detail.into()),
        )
    }

    /// -32603 "Internal error". `detail` is sent to the client: keep secrets and cause chains
    /// out of it and log them instead.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::standard(
            Self::INTERNAL_ERROR,
            "Internal error",
            "internal_error",
            Some(detail.into()),
        )
    }

    /// An application error of DESIGN §5; same as `RpcError::from(err)`.
    pub fn app(err: AppError) -> Self {
        Self::from(err)
    }

    fn standard(code: i64, message: &str, kind: &str, details: Option<String>) -> Self {
        let data = match details {
            Some(details) => json!({ "type": kind, "details": details }),
            None => json!({ "type": kind }),
        };
        Self {
            code,
            message: message.to_owned(),
            data: Some(data),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_errors_use_spec_codes_and_messages() {
        let cases = [
            (RpcError::parse_error(), -32700, "Parse error"),
            (RpcError::invalid_request("x"), -32600, "Invalid Request"),
            (RpcError::method_not_found("x"), -32601, "Method not found"),
            (RpcError::invalid_params("x"), -32602, "Invalid params"),
            (RpcError::internal("x"), -32603, "Internal error"),
        ];
        for (err, code, message) in cases {
            assert_eq!((err.code, err.message.as_str()), (code, message));
        }
    }

    #[test]
    fn details_travel_in_data() {
        let err = RpcError::method_not_found("foo.get");
        assert_eq!(
            err.data,
            Some(json!({"type": "method_not_found", "details": "unknown method `foo.get`"}))
        );
    }

    #[test]
    fn absent_data_is_omitted_on_the_wire() {
        let err = RpcError {
            code: 1,
            message: "m".into(),
            data: None,
        };
        assert_eq!(
            serde_json::to_value(&err).unwrap(),
            json!({"code": 1, "message": "m"})
        );
    }
}
