//! Reading "yes" out of the loosely typed values LLMs and Retell send (DESIGN §3).

use serde_json::Value;

/// True for `true`, `1`, and the strings `"true"`, `"1"`, `"yes"`, `"ja"` (trimmed,
/// case-insensitive); false for everything else, including `"nein"`, `"false"`, `0`, `null`
/// and words we don't know. A booking must never be made on a value we can't read as "yes".
pub fn is_truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() == Some(1.0),
        Value::String(s) => matches!(
            s.trim().to_lowercase().as_str(),
            "true" | "1" | "yes" | "ja"
        ),
        Value::Null | Value::Array(_) | Value::Object(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn truthy_values_per_design() {
        for v in [
            json!(true),
            json!("true"),
            json!(1),
            json!(1.0),
            json!("1"),
            json!("yes"),
            json!("ja"),
        ] {
            assert!(is_truthy(&v), "{v}");
        }
    }

    #[test]
    fn strings_are_trimmed_and_case_insensitive() {
        for v in [json!(" Ja "), json!("YES"), json!("True\n")] {
            assert!(is_truthy(&v), "{v}");
        }
    }

    #[test]
    fn everything_else_is_falsy() {
        for v in [
            json!(false),
            json!("false"),
            json!("nein"),
            json!("no"),
            json!(0),
            json!(2),
            json!("0"),
            json!(null),
            json!("maybe"),
            json!(""),
            json!(["ja"]),
            json!({"ja": true}),
        ] {
            assert!(!is_truthy(&v), "{v}");
        }
    }
}
