//! [`TenancyStore`]: numbers, companies and their services; and the admin/seed writes that
//! create them.

use super::rows::{CompanyRow, RouteRow, ServiceRow, WINDOW_TIME_FORMAT};
use super::sql::{Sql, backend};
use super::{AnyStore, NewCompany, NewService};
use async_trait::async_trait;
use chrono::{NaiveTime, Utc};
use secrecy::ExposeSecret;
use switchboard_actors::domain::ids::{BranchId, CompanyId};
use switchboard_actors::domain::phone::PhoneNumber;
use switchboard_actors::domain::tenant::{CompanyProfile, Service, TenantRoute};
use switchboard_actors::ports::{StoreError, TenancyStore};

impl AnyStore {
    /// Creates the company named `new.name`, or updates its locale, time zone and
    /// credentials; returns its id either way. Safe when several instances seed at once.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the statement fails.
    pub async fn upsert_company(&self, new: &NewCompany) -> Result<CompanyId, StoreError> {
        let now = Utc::now();
        let (id,): (i64,) = self
            .db
            .retry(|| {
                self.db.fetch_one(
                    Sql::new(
                        "INSERT INTO companies \
                             (name, locale, time_zone, retell_api_key, calcom_api_key, \
                             created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6) \
                         ON CONFLICT (name) DO UPDATE SET \
                             locale = excluded.locale, \
                             time_zone = excluded.time_zone, \
                             retell_api_key = excluded.retell_api_key, \
                             calcom_api_key = excluded.calcom_api_key \
                         RETURNING id",
                    )
                    .bind(new.name.as_str())
                    .bind(new.locale.as_str())
                    .bind(new.time_zone.name())
                    .bind(new.retell_api_key.expose_secret())
                    .bind(new.calcom_api_key.expose_secret())
                    .bind(now),
                )
            })
            .await
            .map_err(backend)?;
        Ok(CompanyId(id))
    }

    /// Creates the branch `name` of `company`, or updates its business window; returns its
    /// id either way. `opens`/`closes` are local times of the company, stored to the minute
    /// (seconds are dropped).
    ///
    /// # Errors
    /// [`StoreError::Backend`] when `company` does not exist or `opens` is not before
    /// `closes`.
    pub async fn upsert_branch(
        &self,
        company: CompanyId,
        name: &str,
        opens: NaiveTime,
        closes: NaiveTime,
    ) -> Result<BranchId, StoreError> {
        let now = Utc::now();
        let opens = opens.format(WINDOW_TIME_FORMAT).to_string();
        let closes = closes.format(WINDOW_TIME_FORMAT).to_string();
        let (id,): (i64,) = self
            .db
            .retry(|| {
                self.db.fetch_one(
                    Sql::new(
                        "INSERT INTO branches (company_id, name, opens, closes, created_at) \
                         VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (company_id, name) DO UPDATE SET \
                             opens = excluded.opens, closes = excluded.closes \
                         RETURNING id",
                    )
                    .bind(company.0)
                    .bind(name)
                    .bind(&opens)
                    .bind(&closes)
                    .bind(now),
                )
            })
            .await
            .map_err(backend)?;
        Ok(BranchId(id))
    }

    /// Routes `number` to `branch`; a number already routed elsewhere moves to `branch`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when `branch` does not exist.
    pub async fn upsert_phone_number(
        &self,
        number: &PhoneNumber,
        branch: BranchId,
    ) -> Result<(), StoreError> {
        let now = Utc::now();
        self.db
            .retry(|| {
                self.db.execute(
                    Sql::new(
                        "INSERT INTO phone_numbers (number, branch_id, created_at) \
                         VALUES ($1, $2, $3) \
                         ON CONFLICT (number) DO UPDATE SET branch_id = excluded.branch_id",
                    )
                    .bind(number.as_str())
                    .bind(branch.0)
                    .bind(now),
                )
            })
            .await
            .map_err(backend)?;
        Ok(())
    }

    /// Creates the service (`company_id`, `name`), or updates its aliases, duration and
    /// Cal.com mapping; returns its id either way.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the company does not exist or `duration_min` is 0.
    pub async fn upsert_service(&self, new: &NewService) -> Result<i64, StoreError> {
        let now = Utc::now();
        let aliases = serde_json::to_string(&new.aliases)
            .map_err(|e| StoreError::backend(format!("aliases: {e}")))?;
        let (id,): (i64,) = self
            .db
            .retry(|| {
                self.db.fetch_one(
                    Sql::new(
                        "INSERT INTO services (company_id, name, aliases, duration_min, \
                             event_type_id, team_id, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7) \
                         ON CONFLICT (company_id, name) DO UPDATE SET \
                             aliases = excluded.aliases, \
                             duration_min = excluded.duration_min, \
                             event_type_id = excluded.event_type_id, \
                             team_id = excluded.team_id \
                         RETURNING id",
                    )
                    .bind(new.company_id.0)
                    .bind(new.name.as_str())
                    .bind(&aliases)
                    .bind(i64::from(new.duration_min))
                    .bind(new.event_type_id.0)
                    .bind(new.team_id)
                    .bind(now),
                )
            })
            .await
            .map_err(backend)?;
        Ok(id)
    }
}

#[async_trait]
impl TenancyStore for AnyStore {
    async fn tenant_by_phone(
        &self,
        number: &PhoneNumber,
    ) -> Result<Option<TenantRoute>, StoreError> {
        let row: Option<RouteRow> = self
            .db
            .fetch_optional(
                Sql::new(
                    "SELECT c.id, c.name, c.locale, c.time_zone, c.retell_api_key, \
                         c.calcom_api_key, b.id AS branch_id, b.name AS branch_name, b.opens, \
                         b.closes \
                     FROM phone_numbers p \
                     JOIN branches b ON b.id = p.branch_id \
                     JOIN companies c ON c.id = b.company_id \
                     WHERE p.number = $1",
                )
                .bind(number.as_str()),
            )
            .await
            .map_err(backend)?;
        row.map(RouteRow::into_route).transpose()
    }

    async fn company(&self, id: CompanyId) -> Result<Option<CompanyProfile>, StoreError> {
        let row: Option<CompanyRow> = self
            .db
            .fetch_optional(
                Sql::new(
                    "SELECT id, name, locale, time_zone, retell_api_key, calcom_api_key \
                     FROM companies WHERE id = $1",
                )
                .bind(id.0),
            )
            .await
            .map_err(backend)?;
        row.map(CompanyRow::into_profile).transpose()
    }

    async fn services(&self, company: CompanyId) -> Result<Vec<Service>, StoreError> {
        // `services.name` is COLLATE "C" on PostgreSQL: byte order, as SQLite sorts.
        let rows: Vec<ServiceRow> = self
            .db
            .fetch_all(
                Sql::new(
                    "SELECT id, company_id, name, aliases, duration_min, event_type_id, \
                         team_id \
                     FROM services WHERE company_id = $1 ORDER BY name, id",
                )
                .bind(company.0),
            )
            .await
            .map_err(backend)?;
        rows.into_iter().map(ServiceRow::into_service).collect()
    }
}
