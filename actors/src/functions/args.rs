//! Reading tool args leniently: LLMs send strings, numbers or booleans, under German names or
//! English aliases.

use serde_json::{Map, Value};

/// The first present, non-empty argument among `names`, as trimmed text.
pub fn text(args: &Map<String, Value>, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| match args.get(*n)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    })
}

/// Names of the date argument (German first, then English aliases).
pub const DATE: &[&str] = &["datum", "date", "ab_datum", "from_date"];
/// Names of the time argument.
pub const TIME: &[&str] = &["uhrzeit", "time"];
/// Names of the service argument.
pub const SERVICE: &[&str] = &["dienstleistung", "service"];
