//! The success envelope every gateway method returns as its JSON-RPC `result` (DESIGN §5).

use serde_json::{Value, json};

/// Wraps a method's output as
/// `{"success": true, "data": data, "metadata": {"cached": cached, "processing_time_ms": ms}}`
/// (DESIGN §5).
///
/// `processing_time_ms` is fractional milliseconds; a non-finite value (which JSON cannot
/// carry) becomes `null`.
pub fn success_envelope(data: Value, cached: bool, processing_time_ms: f64) -> Value {
    json!({
        "success": true,
        "data": data,
        "metadata": {
            "cached": cached,
            "processing_time_ms": processing_time_ms,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
