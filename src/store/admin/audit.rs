//! The audit log: one row per administrative write, added in that write's transaction, so
//! a change and its record are committed together or not at all.

use super::super::rows::json_column;
use super::super::sql::{Sql, Tx, backend};
use super::AnyStore;
use chrono::{DateTime, Utc};
use switchboard_actors::domain::ids::CompanyId;
use switchboard_actors::domain::onboarding::{AuditEntry, AuditRecord};
use switchboard_actors::ports::StoreError;

/// Most entries one [`log`] call returns, whatever the caller asks for.
pub const MAX_PAGE: u32 = 500;

/// Adds `audit` as a row of `company` (its id and slug, kept when the company goes; `None`:
/// no single tenant) at `at`.
pub(super) async fn record(
    tx: &mut Tx,
    company: Option<(CompanyId, &str)>,
    audit: &AuditRecord,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let changes =
        serde_json::to_string(&audit.changes).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    tx.execute(
        Sql::new(
            "INSERT INTO audit_log (company_id, company_slug, actor, action, changes, \
                 created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(company.map(|(id, _)| id.0))
        .bind(company.map(|(_, slug)| slug))
        .bind(audit.actor.as_str())
        .bind(audit.action.as_str())
        .bind(changes)
        .bind(at),
    )
    .await
    .map(drop)
}

/// An `audit_log` row.
#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    company_id: Option<i64>,
    created_at: DateTime<Utc>,
    actor: String,
    action: String,
    /// JSON array of lines.
    changes: String,
}

/// Entries of `company` (all when `None`), newest first, at most `limit` (capped at
/// [`MAX_PAGE`]), only those below `before_id` when given.
pub(super) async fn log(
    store: &AnyStore,
    company: Option<CompanyId>,
    limit: u32,
    before_id: Option<i64>,
) -> Result<Vec<AuditEntry>, StoreError> {
    let rows: Vec<AuditRow> = store
        .db
        .fetch_all(
            Sql::new(
                "SELECT id, company_id, created_at, actor, action, changes FROM audit_log \
                 WHERE ($1 IS NULL OR company_id = $1) AND ($2 IS NULL OR id < $2) \
                 ORDER BY id DESC LIMIT $3",
            )
            .bind(company.map(|c| c.0))
            .bind(before_id)
            .bind(i64::from(limit.min(MAX_PAGE))),
        )
        .await
        .map_err(backend)?;
    rows.into_iter()
        .map(|row| {
            Ok(AuditEntry {
                changes: json_column("audit_log", "changes", &row.changes)?,
                id: row.id,
                company_id: row.company_id.map(CompanyId),
                at: row.created_at,
                actor: row.actor,
                action: row.action,
            })
        })
        .collect()
}
