//! `database.getSchema`: the views `database.query` accepts, the functions and casts it
//! allows, and its limits.

use super::DatabaseDeps;
use crate::domain::sql_guard::{CAST_TYPES, FUNCTIONS, SqlDialect, VIEWS};
use crate::jsonrpc::RpcError;
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::servers::database::query::MAX_PARAMS;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `database.getSchema`.
pub struct GetSchema;

/// Params of `database.getSchema`: none.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SchemaParams {}

/// A column of a [`SchemaView`].
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct SchemaColumn {
    /// Column name.
    pub name: &'static str,
    /// `integer`, `text`, `timestamp` (UTC) or `json` (JSON text).
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// What it holds.
    pub description: &'static str,
}

/// One queryable view.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct SchemaView {
    /// Its name in queries.
    pub name: &'static str,
    /// What one row is.
    pub description: &'static str,
    /// Its columns.
    pub columns: Vec<SchemaColumn>,
}

/// The limits of `database.query`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct SchemaLimits {
    /// Most rows one query returns.
    pub max_rows: u32,
    /// A query is stopped after this many milliseconds.
    pub timeout_ms: u64,
    /// Longest `sql`, in bytes.
    pub max_sql_bytes: usize,
    /// Most `params`.
    pub max_params: usize,
}

/// `result.data` of `database.getSchema`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Schema {
    /// The database's SQL dialect: write queries in it.
    pub dialect: SqlDialect,
    /// The views, each holding only the caller's company's rows.
    pub views: Vec<SchemaView>,
    /// The functions a query may call.
    pub functions: &'static [&'static str],
    /// The types a cast may name.
    pub cast_types: &'static [&'static str],
    /// The limits.
    pub limits: SchemaLimits,
}

impl Method for GetSchema {
    const NAME: &'static str = "database.getSchema";
    const SUMMARY: &'static str = "Describes what database.query accepts: the SQL dialect of \
        the database (`sqlite` or `postgres`), the views (name, description, columns with \
        name, type and description; each view holds only the caller's company's rows), the \
        functions and cast types a query may use, and the limits (rows, time, SQL length, \
        params).";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = DatabaseDeps;
    type Params = SchemaParams;
    type Output = Schema;

    async fn apply(
        _p: SchemaParams,
        _grant: TokenGrant,
        deps: Arc<DatabaseDeps>,
    ) -> Result<Reply<Schema>, RpcError> {
        let views = VIEWS
            .iter()
            .map(|v| SchemaView {
                name: v.name,
                description: v.description,
                columns: v
                    .columns
                    .iter()
                    .map(|c| SchemaColumn {
                        name: c.name,
                        kind: c.kind,
                        description: c.description,
                    })
                    .collect(),
            })
            .collect();
        Reply::fresh(Schema {
            dialect: deps.reports.sql_dialect(),
            views,
            functions: FUNCTIONS,
            cast_types: CAST_TYPES,
            limits: SchemaLimits {
                max_rows: deps.limits.max_rows,
                timeout_ms: u64::try_from(deps.limits.timeout.as_millis()).unwrap_or(u64::MAX),
                max_sql_bytes: deps.limits.max_sql_bytes,
                max_params: MAX_PARAMS,
            },
        })
    }
}
