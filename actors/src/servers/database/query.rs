//! `database.query`: one read-only `SELECT` over the views of `database.getSchema`, checked
//! and rewritten to the caller's company by [`sql_guard`](crate::domain::sql_guard), run with
//! row and time limits.

use super::DatabaseDeps;
use crate::domain::ids::CompanyId;
use crate::domain::sql_guard::{self, QueryError, QueryOutput, QueryParam, RunLimits};
use crate::jsonrpc::{AppError, ErrorCode, RpcError};
use crate::ports::StoreError;
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::server::require_company;
use crate::servers::store_error;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

/// `database.query`.
pub struct Query;

/// Most parameters one query binds.
pub const MAX_PARAMS: usize = 20;

/// Largest `limit` the schema accepts (the configured `max_rows` may lower it).
pub const MAX_LIMIT: u32 = 1000;

/// Params of `database.query`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryParams {
    /// Company the query reads; defaults to the token's company. An admin token must name
    /// one.
    pub company_id: Option<CompanyId>,
    /// One `SELECT` (or `WITH … SELECT`) in the database's dialect over the views of
    /// database.getSchema, parameters written `$1…$n`; at most 4096 bytes (configurable).
    #[schemars(length(min = 1, max = 4096))]
    pub sql: String,
    /// Values of `$1…$n`: JSON scalars (null, booleans, numbers, strings), at most 20.
    #[schemars(length(max = MAX_PARAMS), with = "Vec<crate::domain::sql_guard::SqlScalar>")]
    #[serde(default)]
    pub params: Vec<Value>,
    /// Rows returned at most, 1–1000 (and at most the configured maximum); default 100.
    #[schemars(range(min = 1, max = MAX_LIMIT))]
    pub limit: Option<u32>,
}

impl Method for Query {
    const NAME: &'static str = "database.query";
    const SUMMARY: &'static str = "Runs one read-only SQL query over the views of \
        database.getSchema (calls, appointments, customers, jobs, branches, services, \
        call_events), which hold only the caller's company's rows. `sql`: exactly one SELECT or \
        WITH … SELECT in the database's dialect (see getSchema), at most 4096 bytes; `params`: \
        up to 20 JSON scalars bound as $1…$n; `limit`: rows, 1–1000, default 100. Anything \
        else — other statements, several statements, other tables or schemas, table \
        functions, functions or casts not listed by getSchema, WITH RECURSIVE, FOR UPDATE, \
        SELECT INTO — is -32602 naming what was refused. A query running past the time limit \
        is -32005, a statement the database refuses (e.g. an unknown column) 3004 with \
        its message. Result: `columns` (name, type), `rows` (lists of \
        values; times as RFC 3339 text), `truncated` (more rows were there), `elapsed_ms`.";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = DatabaseDeps;
    type Params = QueryParams;
    type Output = QueryOutput;

    async fn apply(
        p: QueryParams,
        grant: TokenGrant,
        deps: Arc<DatabaseDeps>,
    ) -> Result<Reply<QueryOutput>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        let limits = deps.limits;
        if p.sql.len() > limits.max_sql_bytes {
            return Err(RpcError::invalid_params(format!(
                "sql is {} bytes; at most {} are allowed",
                p.sql.len(),
                limits.max_sql_bytes
            )));
        }
        let params = p
            .params
            .iter()
            .enumerate()
            .map(|(i, value)| scalar(value).ok_or(i))
            .collect::<Result<Vec<_>, usize>>()
            .map_err(|i| {
                RpcError::invalid_params(format!(
                    "params[{i}] must be a JSON scalar (null, boolean, number or string)"
                ))
            })?;
        let checked = sql_guard::check(&p.sql, deps.reports.sql_dialect(), company, params.len())
            .map_err(|e| query_error(&e))?;
        let run = RunLimits {
            max_rows: p.limit.unwrap_or(100).min(limits.max_rows),
            timeout: limits.timeout,
        };
        let output = deps
            .reports
            .run_query(&checked, &params, run)
            .await
            .map_err(|e| query_error(&e))?;
        Reply::fresh(output)
    }
}

fn scalar(value: &Value) -> Option<QueryParam> {
    Some(match value {
        Value::Null => QueryParam::Null,
        Value::Bool(b) => QueryParam::Bool(*b),
        Value::Number(n) => n
            .as_i64()
            .map(QueryParam::Int)
            .or_else(|| n.as_f64().map(QueryParam::Real))?,
        Value::String(s) => QueryParam::Text(s.clone()),
        Value::Array(_) | Value::Object(_) => return None,
    })
}

/// -32602 for a refusal or an unsupported value, -32005 for the time limit, 3004 otherwise.
/// A statement the database refused is the client's own SQL: the server's primary message
/// (e.g. an unknown column) goes back with the 3004, as it names nothing but the views.
fn query_error(e: &QueryError) -> RpcError {
    match e {
        QueryError::Refused(message) | QueryError::Unsupported(message) => {
            RpcError::invalid_params(message.clone())
        }
        QueryError::Timeout(_) => AppError::new(ErrorCode::Timeout, e.to_string()).into(),
        QueryError::Store(StoreError::Backend { message, .. }) => AppError::new(
            ErrorCode::DatabaseError,
            format!("the database refused the query: {message}"),
        )
        .into(),
        QueryError::Store(store) => store_error(store),
    }
}
