//! [`RetellRecordStore`]: what the `retell.*` methods read and write in our records — the
//! branch numbers compared with the Retell account's, which of Retell's calls we know, and
//! finished calls imported from Retell's history (`retell.importCalls`).
//!
//! An import never changes a row that exists: `INSERT … ON CONFLICT (call_id) DO NOTHING`
//! leaves a call recorded by our webhooks (or by an earlier import) as it is, and a call id
//! recorded for another company untouched (Retell's call ids are global, and a call belongs
//! to the company that first recorded it, see `calls.rs`). A call to another company's
//! branch number is not imported either.

use super::AnyStore;
use super::sql::{Sql, Tx, backend};
use async_trait::async_trait;
use switchboard_actors::domain::ids::{BranchId, CompanyId};
use switchboard_actors::ports::{
    BranchNumber, ImportOutcome, ImportedCall, RetellRecordStore, StoreError,
};
use switchboard_actors::records::CallId;

/// Call ids per `IN (…)` list: far below SQLite's and PostgreSQL's bound-parameter limits,
/// whatever number of ids a caller hands in.
const IDS_PER_QUERY: usize = 500;

/// Inserts `call` unless its call id is recorded or its business number is another
/// company's; says what happened.
async fn import_one(tx: &mut Tx, call: &ImportedCall) -> Result<ImportOutcome, sqlx::Error> {
    // A call to another company's number is that company's history, even when this
    // company's key could list it (a Retell account shared by two tenants).
    if let Some(number) = call.business_number.as_deref() {
        let owner: Option<(i64,)> = tx
            .fetch_optional(
                Sql::new(
                    "SELECT b.company_id FROM phone_numbers p \
                     JOIN branches b ON b.id = p.branch_id WHERE p.number = $1",
                )
                .bind(number),
            )
            .await?;
        if owner.is_some_and(|(owner,)| owner != call.company_id.0) {
            return Ok(ImportOutcome::Foreign);
        }
    }
    // The branch is the company's own branch of the business number, never another
    // company's: the subquery joins through `branches.company_id`.
    let inserted: Option<(i64,)> = tx
        .fetch_optional(
            Sql::new(
                "INSERT INTO calls (call_id, company_id, branch_id, status, from_number, \
                     to_number, direction, started_at, ended_at, duration_ms, \
                     disconnection_reason, payload, summary, sentiment, created_at, updated_at) \
                 VALUES ($1, $2, \
                     (SELECT p.branch_id FROM phone_numbers p \
                      JOIN branches b ON b.id = p.branch_id \
                      WHERE p.number = $3 AND b.company_id = $2), \
                     $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15) \
                 ON CONFLICT (call_id) DO NOTHING \
                 RETURNING id",
            )
            .bind(call.call_id.as_str())
            .bind(call.company_id.0)
            .bind(call.business_number.as_deref())
            .bind(call.status.as_str())
            .bind(call.from_number.as_deref())
            .bind(call.to_number.as_deref())
            .bind(call.direction.as_deref())
            .bind(call.started_at)
            .bind(call.ended_at)
            .bind(call.duration_ms)
            .bind(call.disconnection_reason.as_deref())
            .bind(call.payload.as_str())
            .bind(call.summary.as_deref())
            .bind(call.sentiment.as_deref())
            .bind(call.imported_at),
        )
        .await?;
    if inserted.is_some() {
        return Ok(ImportOutcome::Imported);
    }
    let (owner,): (i64,) = tx
        .fetch_one(
            Sql::new("SELECT company_id FROM calls WHERE call_id = $1").bind(call.call_id.as_str()),
        )
        .await?;
    Ok(if owner == call.company_id.0 {
        ImportOutcome::AlreadyKnown
    } else {
        ImportOutcome::Foreign
    })
}

impl AnyStore {
    async fn import_once(&self, calls: &[ImportedCall]) -> Result<Vec<ImportOutcome>, sqlx::Error> {
        let mut tx = self.db.begin_write().await?;
        let mut outcomes = Vec::with_capacity(calls.len());
        for call in calls {
            outcomes.push(import_one(&mut tx, call).await?);
        }
        tx.commit().await?;
        Ok(outcomes)
    }
}

/// `SELECT call_id FROM calls WHERE company_id = $1 AND call_id IN ($2, …)`.
fn known_sql(company: CompanyId, ids: &[CallId]) -> Sql<'_> {
    let placeholders = (2..ids.len() + 2)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    ids.iter().fold(
        Sql::new(format!(
            "SELECT call_id FROM calls WHERE company_id = $1 AND call_id IN ({placeholders})"
        ))
        .bind(company.0),
        |sql, id| sql.bind(id.as_str()),
    )
}

#[async_trait]
impl RetellRecordStore for AnyStore {
    async fn branch_numbers(&self, company: CompanyId) -> Result<Vec<BranchNumber>, StoreError> {
        let rows: Vec<(String, i64, String)> = self
            .db
            .fetch_all(
                Sql::new(
                    "SELECT p.number, b.id, b.name FROM phone_numbers p \
                     JOIN branches b ON b.id = p.branch_id \
                     WHERE b.company_id = $1 ORDER BY p.number",
                )
                .bind(company.0),
            )
            .await
            .map_err(backend)?;
        Ok(rows
            .into_iter()
            .map(|(phone_number, branch, branch_name)| BranchNumber {
                phone_number,
                branch_id: BranchId(branch),
                branch_name,
            })
            .collect())
    }

    async fn known_calls(
        &self,
        company: CompanyId,
        call_ids: &[CallId],
    ) -> Result<Vec<CallId>, StoreError> {
        let mut known = Vec::new();
        for chunk in call_ids.chunks(IDS_PER_QUERY) {
            let rows: Vec<(String,)> = self
                .db
                .fetch_all(known_sql(company, chunk))
                .await
                .map_err(backend)?;
            for (id,) in rows {
                let id = CallId::parse(id).map_err(|e| StoreError::Corrupt {
                    table: "calls",
                    message: e.to_string(),
                })?;
                known.push(id);
            }
        }
        Ok(known)
    }

    async fn import_calls(&self, calls: &[ImportedCall]) -> Result<Vec<ImportOutcome>, StoreError> {
        if calls.is_empty() {
            return Ok(Vec::new());
        }
        self.db
            .retry(|| self.import_once(calls))
            .await
            .map_err(backend)
    }
}
