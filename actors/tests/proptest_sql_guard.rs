//! Property tests of `database.query`'s checker (issue 15, "no panic reachable from input"):
//! arbitrary text and SQL-shaped token soup, in both dialects, is checked or refused without
//! panicking; whatever passes names no other table and reads the views only through the
//! company's derived tables.

use proptest::prelude::*;
use switchboard_actors::domain::ids::CompanyId;
use switchboard_actors::domain::sql_guard::{QueryError, SqlDialect, check};

/// Cases per property.
const CASES: u32 = 512;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Tokens of the SQL a client might send, hostile ones included.
const TOKENS: &[&str] = &[
    "SELECT",
    "*",
    "FROM",
    "calls",
    "appointments",
    "api_tokens",
    "companies",
    "WHERE",
    "company_id",
    "=",
    "$1",
    "$2",
    "?",
    ":x",
    "(",
    ")",
    ",",
    ";",
    "JOIN",
    "ON",
    "WITH",
    "RECURSIVE",
    "AS",
    "UNION",
    "ALL",
    "VALUES",
    "1",
    "'x'",
    "\"calls\"",
    "`calls`",
    "[calls]",
    "/*",
    "*/",
    "--",
    "\n",
    "pg_sleep",
    "count",
    "::",
    "regclass",
    "text",
    "INTO",
    "FOR",
    "UPDATE",
    "DELETE",
    "INSERT",
    "PRAGMA",
    "ATTACH",
    "main",
    ".",
    "pg_catalog",
    "LATERAL",
    "generate_series",
    "EXISTS",
    "IN",
    "NOT",
    "NULL",
    "CASE",
    "WHEN",
    "THEN",
    "END",
    "ORDER",
    "BY",
    "LIMIT",
    "GROUP",
    "HAVING",
    "x",
    "c",
    "TABLE",
    "sqlite_master",
    "\u{0}",
    "\u{202E}",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..40).prop_map(|t| t.join(" "))
}

fn dialect() -> impl Strategy<Value = SqlDialect> {
    prop_oneof![Just(SqlDialect::Sqlite), Just(SqlDialect::Postgres)]
}

proptest! {
    #![proptest_config(config())]

    /// Any text: a checked query or a refusal, never a panic.
    #[test]
    fn any_text_is_checked_or_refused(sql in any::<String>(), dialect in dialect(), params in 0usize..4) {
        let _ = check(&sql, dialect, CompanyId(7), params);
    }

    /// SQL-shaped input: what passes names no table outside the views, and every view is
    /// read as `FROM <view> WHERE company_id = <the company>`.
    #[test]
    fn what_passes_reads_only_the_company_s_rows(sql in soup(), dialect in dialect()) {
        match check(&sql, dialect, CompanyId(7), 2) {
            Ok(checked) => {
                let lower = checked.sql.to_lowercase();
                for table in ["api_tokens", "companies", "sqlite_master", "pg_catalog"] {
                    prop_assert!(!lower.contains(table), "{sql} -> {}", checked.sql);
                }
                for view in ["calls", "appointments"] {
                    let read = lower.matches(&format!("from {view}")).count();
                    let scoped = lower.matches(&format!("from {view} where company_id = 7")).count();
                    prop_assert_eq!(read, scoped, "{} -> {}", sql, checked.sql);
                    prop_assert!(!lower.contains(&format!("join {view}")), "{sql} -> {}", checked.sql);
                }
            }
            Err(QueryError::Refused(_)) => {}
            Err(other) => prop_assert!(false, "{sql}: {other:?}"),
        }
    }
}
