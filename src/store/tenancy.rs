//! [`TenancyStore`]: numbers, companies and their services; and the admin/seed writes that
//! create them.

use super::rows::{
    COMPANY_COLUMNS, CompanyRow, OfferedServiceRow, RouteRow, ServiceRow, WINDOW_TIME_FORMAT,
};
use super::sql::{Sql, backend};
use super::{AnyStore, NewCompany, NewService};
use crate::secrets::{Column, Keyring, Opened};
use async_trait::async_trait;
use chrono::{NaiveTime, Utc};
use std::fmt;
use switchboard_actors::domain::ids::{BranchId, CompanyId};
use switchboard_actors::domain::onboarding::Slug;
use switchboard_actors::domain::phone::PhoneNumber;
use switchboard_actors::domain::tenant::{CompanyProfile, Service, TenantRoute};
use switchboard_actors::ports::{StoreError, TenancyStore};

impl AnyStore {
    /// Creates the company named `new.name`, or updates its locale, time zone and
    /// credentials; returns its id either way. Safe when several instances seed at once.
    /// The credentials are stored sealed with the store's keyring, bound to the company's id
    /// and their column (so the row is written, then its sealed credentials, in one
    /// transaction: the id is known only once the row exists).
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the statement fails or the store has no key.
    pub async fn upsert_company(&self, new: &NewCompany) -> Result<CompanyId, StoreError> {
        if self.keyring.current_id().is_none() {
            return Err(StoreError::backend(format!(
                "cannot store the credentials of company {:?}: no secrets key configured \
                 (set SWITCHBOARD__SECRETS__KEY or secrets.key_file)",
                new.name
            )));
        }
        let now = Utc::now();
        let seal = |company, column, secret| {
            self.keyring
                .seal(company, column, secret)
                .map_err(|e| sqlx::Error::Encode(Box::new(e)))
        };
        let id = self
            .db
            .retry(|| async {
                let mut tx = self.db.begin_write().await?;
                let (id,): (i64,) = tx
                    .fetch_one(
                        Sql::new(
                            "INSERT INTO companies \
                                 (name, slug, locale, time_zone, retell_api_key, calcom_api_key, \
                                 created_at, updated_at) \
                             VALUES ($1, $2, $3, $4, '', '', $5, $5) \
                             ON CONFLICT (name) DO UPDATE SET \
                                 locale = excluded.locale, \
                                 time_zone = excluded.time_zone, \
                                 updated_at = excluded.updated_at \
                             RETURNING id",
                        )
                        .bind(new.name.as_str())
                        .bind(Slug::from_name(&new.name, "company").to_string())
                        .bind(new.locale.as_str())
                        .bind(new.time_zone.name())
                        .bind(now),
                    )
                    .await?;
                let company = CompanyId(id);
                let retell = seal(company, Column::RetellApiKey, &new.retell_api_key)?;
                let calcom = seal(company, Column::CalcomApiKey, &new.calcom_api_key)?;
                tx.execute(
                    Sql::new(
                        "UPDATE companies SET retell_api_key = $1, calcom_api_key = $2 \
                         WHERE id = $3",
                    )
                    .bind(&retell)
                    .bind(&calcom)
                    .bind(id),
                )
                .await?;
                tx.commit().await?;
                Ok(company)
            })
            .await
            .map_err(backend)?;
        Ok(id)
    }

    /// Opens every stored credential with the store's keyring and, when `apply`, writes
    /// those not sealed with the current key (plaintext from before encryption at rest, or
    /// sealed with a previous key) sealed with it. A value already under the current key is
    /// left as it is, so applying twice writes nothing the second time. A row changed by
    /// someone else meanwhile is left to them (the write checks the values it read). A
    /// credential that is not set (empty, or a NULL webhook secret) is not counted.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when a statement fails; a value that does not open is not an
    /// error but listed in [`ResealReport::unreadable`].
    pub async fn reseal_credentials(&self, apply: bool) -> Result<ResealReport, StoreError> {
        let rows: Vec<(i64, String, String, String, String)> = self
            .db
            .fetch_all(Sql::new(
                "SELECT id, retell_api_key, calcom_api_key, COALESCE(calcom_webhook_secret, ''), \
                     COALESCE(sms_auth_token, '') \
                 FROM companies ORDER BY id",
            ))
            .await
            .map_err(backend)?;
        let mut report = ResealReport {
            companies: rows.len(),
            applied: apply,
            ..ResealReport::default()
        };
        for (id, retell, calcom, webhook, sms) in rows {
            let company = CompanyId(id);
            let stored = [
                (Column::RetellApiKey, &retell),
                (Column::CalcomApiKey, &calcom),
                (Column::CalcomWebhookSecret, &webhook),
                (Column::SmsAuthToken, &sms),
            ];
            // An empty value is a credential that was never set: nothing to seal.
            let fresh = stored.map(|(column, stored)| {
                if stored.is_empty() {
                    Some(String::new())
                } else {
                    report.reseal(&self.keyring, company, column, stored)
                }
            });
            let [
                Some(new_retell),
                Some(new_calcom),
                Some(new_webhook),
                Some(new_sms),
            ] = fresh
            else {
                continue;
            };
            if !apply
                || (new_retell == retell
                    && new_calcom == calcom
                    && new_webhook == webhook
                    && new_sms == sms)
            {
                continue;
            }
            report.written += self
                .db
                .execute(
                    Sql::new(
                        "UPDATE companies SET retell_api_key = $1, calcom_api_key = $2, \
                             calcom_webhook_secret = NULLIF($3, ''), \
                             sms_auth_token = NULLIF($8, '') \
                         WHERE id = $4 AND retell_api_key = $5 AND calcom_api_key = $6 \
                             AND COALESCE(calcom_webhook_secret, '') = $7 \
                             AND COALESCE(sms_auth_token, '') = $9",
                    )
                    .bind(&new_retell)
                    .bind(&new_calcom)
                    .bind(&new_webhook)
                    .bind(id)
                    .bind(&retell)
                    .bind(&calcom)
                    .bind(&webhook)
                    .bind(&new_sms)
                    .bind(&sms),
                )
                .await
                .map_err(backend)?;
        }
        Ok(report)
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
                        "INSERT INTO branches (company_id, name, slug, opens, closes, \
                             created_at) \
                         VALUES ($1, $2, $6, $3, $4, $5) \
                         ON CONFLICT (company_id, name) DO UPDATE SET \
                             opens = excluded.opens, closes = excluded.closes \
                         RETURNING id",
                    )
                    .bind(company.0)
                    .bind(name)
                    .bind(&opens)
                    .bind(&closes)
                    .bind(now)
                    .bind(Slug::from_name(name, "branch").to_string()),
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

/// What [`AnyStore::reseal_credentials`] found (and wrote): counts of the credential values
/// that are set (up to three per company). Its `Display` is the one-line summary `switchboard secrets rotate`
/// prints; no value appears in it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ResealReport {
    /// Companies read.
    pub companies: usize,
    /// Values already sealed with the current key.
    pub current: usize,
    /// Values sealed with a previous key (re-sealed when applied).
    pub previous: usize,
    /// Plaintext values from before encryption at rest (sealed when applied).
    pub plaintext: usize,
    /// Values no configured key opens, one message each naming company and column; their
    /// rows are left alone.
    pub unreadable: Vec<String>,
    /// Whether changes were written (not a dry run).
    pub applied: bool,
    /// Company rows written.
    pub written: u64,
}

impl ResealReport {
    /// Counts `stored` and returns the value it should have: the same when sealed with the
    /// current key, sealed anew when plaintext or under a previous key; `None` when it
    /// cannot be opened or sealed (listed in `unreadable`).
    fn reseal(
        &mut self,
        keyring: &Keyring,
        company: CompanyId,
        column: Column,
        stored: &str,
    ) -> Option<String> {
        let secret = match keyring.open(company, column, stored) {
            Ok(Opened::Current(_)) => {
                self.current += 1;
                return Some(stored.to_owned());
            }
            Ok(Opened::Previous(secret)) => {
                self.previous += 1;
                secret
            }
            Ok(Opened::Plaintext(secret)) => {
                self.plaintext += 1;
                secret
            }
            Err(e) => {
                self.unreadable.push(e.to_string());
                return None;
            }
        };
        keyring
            .seal(company, column, &secret)
            .map_err(|e| self.unreadable.push(e.to_string()))
            .ok()
    }
}

impl fmt::Display for ResealReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} companies: {} values under the current key, {} under a previous key, {} in \
             plaintext, {} unreadable; {}",
            self.companies,
            self.current,
            self.previous,
            self.plaintext,
            self.unreadable.len(),
            if self.applied {
                format!("{} rows rewritten", self.written)
            } else {
                "dry run, nothing written".to_owned()
            }
        )
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
                Sql::new(format!(
                    "SELECT {COMPANY_COLUMNS}, b.id AS branch_id, b.name AS branch_name, \
                         b.opens, b.closes, b.opening_hours \
                     FROM phone_numbers p \
                     JOIN branches b ON b.id = p.branch_id \
                     JOIN companies c ON c.id = b.company_id \
                     WHERE p.number = $1"
                ))
                .bind(number.as_str()),
            )
            .await
            .map_err(backend)?;
        row.map(|row| row.into_route(&self.keyring)).transpose()
    }

    async fn company(&self, id: CompanyId) -> Result<Option<CompanyProfile>, StoreError> {
        let row: Option<CompanyRow> = self
            .db
            .fetch_optional(
                Sql::new(format!(
                    "SELECT {COMPANY_COLUMNS} FROM companies c WHERE c.id = $1"
                ))
                .bind(id.0),
            )
            .await
            .map_err(backend)?;
        row.map(|row| row.into_profile(&self.keyring)).transpose()
    }

    async fn company_by_slug(&self, slug: &str) -> Result<Option<CompanyProfile>, StoreError> {
        let row: Option<CompanyRow> = self
            .db
            .fetch_optional(
                Sql::new(format!(
                    "SELECT {COMPANY_COLUMNS} FROM companies c WHERE c.slug = $1"
                ))
                .bind(slug),
            )
            .await
            .map_err(backend)?;
        row.map(|row| row.into_profile(&self.keyring)).transpose()
    }

    async fn services(&self, company: CompanyId) -> Result<Vec<Service>, StoreError> {
        // One round trip (live custom functions ask on every request): each service once per
        // branch offering it, or once with no branch (offered everywhere). `services.name` is
        // COLLATE "C" on PostgreSQL: byte order, as SQLite sorts.
        let rows: Vec<OfferedServiceRow> = self
            .db
            .fetch_all(
                Sql::new(
                    "SELECT s.id, s.company_id, s.name, s.aliases, s.duration_min, \
                         s.event_type_id, s.team_id, sb.branch_id AS offered_at \
                     FROM services s \
                     LEFT JOIN service_branches sb ON sb.service_id = s.id \
                     WHERE s.company_id = $1 ORDER BY s.name, s.id, sb.branch_id",
                )
                .bind(company.0),
            )
            .await
            .map_err(backend)?;
        let mut services: Vec<(ServiceRow, Vec<BranchId>)> = Vec::new();
        for row in rows {
            match services.last_mut() {
                Some((last, branches)) if last.id == row.service.id => {
                    branches.extend(row.offered_at.map(BranchId));
                }
                _ => services.push((
                    row.service,
                    row.offered_at.map(BranchId).into_iter().collect(),
                )),
            }
        }
        services
            .into_iter()
            .map(|(row, branches)| row.into_service(branches))
            .collect()
    }
}
