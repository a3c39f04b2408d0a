//! [`LockStore`]: the per-company booking lock shared by all instances, and the readiness
//! probe.

use super::AnyStore;
use super::outbox::lease_end;
use super::sql::{Sql, backend};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::time::Duration;
use switchboard_actors::domain::ids::CompanyId;
use switchboard_actors::ports::{LockStore, StoreError};

/// The longest lease a lock takes. SQLite compares times as RFC 3339 text, which orders
/// correctly only for four-digit years, so a lease may not reach past year 9999.
const MAX_LOCK_LEASE: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

#[async_trait]
impl LockStore for AnyStore {
    async fn try_lock_tenant(
        &self,
        company: CompanyId,
        holder: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let until = lease_end(now, lease.min(MAX_LOCK_LEASE));
        // One statement: insert, or take over an expired lease, or extend our own. Two
        // instances racing for a free lock serialise on the primary key; the loser then
        // sees the winner's live lease and gets no row back.
        let taken: Option<(String,)> = self
            .db
            .retry(|| {
                self.db.fetch_optional(
                    Sql::new(
                        "INSERT INTO tenant_locks (company_id, holder, locked_until) \
                         VALUES ($1, $2, $3) \
                         ON CONFLICT (company_id) DO UPDATE SET holder = excluded.holder, \
                             locked_until = excluded.locked_until \
                         WHERE tenant_locks.locked_until < $4 \
                             OR tenant_locks.holder = excluded.holder \
                         RETURNING holder",
                    )
                    .bind(company.0)
                    .bind(holder)
                    .bind(until)
                    .bind(now),
                )
            })
            .await
            .map_err(backend)?;
        Ok(taken.is_some())
    }

    async fn unlock_tenant(&self, company: CompanyId, holder: &str) -> Result<(), StoreError> {
        self.db
            .retry(|| {
                self.db.execute(
                    Sql::new("DELETE FROM tenant_locks WHERE company_id = $1 AND holder = $2")
                        .bind(company.0)
                        .bind(holder),
                )
            })
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await.map_err(backend)
    }
}
