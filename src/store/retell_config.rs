//! [`RetellConfigStore`]: a company's overrides of its deployed custom functions, one JSON
//! row per (company, function) in `retell_custom_functions` (migrations/*/0001_init.sql).

use super::AnyStore;
use super::sql::{Sql, backend};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use switchboard_actors::domain::ids::CompanyId;
use switchboard_actors::ports::{RetellConfigStore, StoreError};
use switchboard_actors::retell::deploy::FunctionOverride;

#[async_trait]
impl RetellConfigStore for AnyStore {
    async fn function_overrides(
        &self,
        company: CompanyId,
    ) -> Result<BTreeMap<String, FunctionOverride>, StoreError> {
        let rows: Vec<(String, String)> = self
            .db
            .fetch_all(
                Sql::new("SELECT name, config FROM retell_custom_functions WHERE company_id = $1")
                    .bind(company.0),
            )
            .await
            .map_err(backend)?;
        rows.into_iter()
            .map(|(name, config)| {
                let value = serde_json::from_str(&config).map_err(|e| StoreError::Corrupt {
                    table: "retell_custom_functions",
                    message: format!("override of {name}: {e}"),
                })?;
                Ok((name, value))
            })
            .collect()
    }

    async fn set_function_override(
        &self,
        company: CompanyId,
        name: &str,
        value: &FunctionOverride,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let sql = if value.is_empty() {
            Sql::new("DELETE FROM retell_custom_functions WHERE company_id = $1 AND name = $2")
                .bind(company.0)
                .bind(name)
        } else {
            let config =
                serde_json::to_string(value).map_err(|e| StoreError::backend(e.to_string()))?;
            Sql::new(
                "INSERT INTO retell_custom_functions (company_id, name, config, created_at, \
                     updated_at) VALUES ($1, $2, $3, $4, $4) \
                 ON CONFLICT (company_id, name) DO UPDATE SET config = $3, updated_at = $4",
            )
            .bind(company.0)
            .bind(name)
            .bind(config)
            .bind(now)
        };
        self.db.execute(sql).await.map_err(backend)?;
        Ok(())
    }
}
