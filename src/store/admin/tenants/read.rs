//! Tenants read back as declared: one tenant, the list, the owners of numbers.

use super::corrupt;
use crate::secrets::Column;
use crate::store::AnyStore;
use crate::store::rows::json_column;
use crate::store::sql::{Arg, Sql, backend};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use switchboard_actors::domain::ids::{CompanyId, EventTypeId};
use switchboard_actors::domain::onboarding::{
    BookingPolicy, BranchSpec, CalcomSettings, CredentialStatus, OpeningHours, RetellSettings,
    ServiceSpec, Slug, SmsSpec, TenantRef, TenantSpec, TenantState, TenantSummary, fingerprint,
};
use switchboard_actors::domain::phone::PhoneNumber;
use switchboard_actors::domain::tenant::Locale;
use switchboard_actors::ports::StoreError;

/// `companies` as administration reads it.
#[derive(sqlx::FromRow)]
struct TenantRow {
    id: i64,
    slug: String,
    name: String,
    locale: String,
    time_zone: String,
    retell_api_key: String,
    calcom_api_key: String,
    calcom_webhook_secret: Option<String>,
    retell_agent_id: Option<String>,
    calcom_base_url: Option<String>,
    calcom_team_id: Option<i64>,
    change_notice_h: i64,
    booking_horizon_days: i64,
    disabled_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    sms_account_sid: Option<String>,
    sms_auth_token: Option<String>,
    sms_from: Option<String>,
    sms_base_url: Option<String>,
}

/// `services` as administration reads it.
#[derive(sqlx::FromRow)]
struct ServiceRow {
    id: i64,
    name: String,
    aliases: String,
    duration_min: i64,
    event_type_id: i64,
    event_type_slug: Option<String>,
    team_id: Option<i64>,
}

/// A line of [`list`].
#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: i64,
    slug: String,
    name: String,
    locale: String,
    time_zone: String,
    disabled_at: Option<DateTime<Utc>>,
    branches: i64,
    phone_numbers: i64,
    services: i64,
}

fn slug_column(table: &'static str, text: &str) -> Result<Slug, StoreError> {
    Slug::parse(text).map_err(|e| corrupt(table, format!("slug: {e}")))
}

fn u32_column(table: &'static str, column: &str, value: i64) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| corrupt(table, format!("{column} out of range: {value}")))
}

/// One tenant as stored, `None` when there is none.
pub(in crate::store::admin) async fn read(
    store: &AnyStore,
    tenant: &TenantRef,
) -> Result<Option<TenantState>, StoreError> {
    let (filter, arg) = match tenant {
        TenantRef::Id(id) => ("id = $1", Arg::from(id.0)),
        TenantRef::Slug(slug) => ("slug = $1", Arg::from(slug.as_str())),
    };
    let mut tx = store.db.begin_snapshot().await.map_err(backend)?;
    let row: Option<TenantRow> = tx
        .fetch_optional(
            Sql::new(format!(
                "SELECT id, slug, name, locale, time_zone, retell_api_key, calcom_api_key, \
                     calcom_webhook_secret, retell_agent_id, calcom_base_url, calcom_team_id, \
                     change_notice_h, booking_horizon_days, disabled_at, created_at, \
                     sms_account_sid, sms_auth_token, sms_from, sms_base_url \
                 FROM companies WHERE {filter}"
            ))
            .bind(arg),
        )
        .await
        .map_err(backend)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let branches: Vec<(i64, String, String, Option<String>)> = tx
        .fetch_all(
            Sql::new(
                "SELECT id, slug, name, opening_hours FROM branches WHERE company_id = $1 \
                 ORDER BY id",
            )
            .bind(row.id),
        )
        .await
        .map_err(backend)?;
    let numbers: Vec<(i64, String)> = tx
        .fetch_all(
            Sql::new(
                "SELECT p.branch_id, p.number FROM phone_numbers p \
                 JOIN branches b ON b.id = p.branch_id \
                 WHERE b.company_id = $1 ORDER BY p.id",
            )
            .bind(row.id),
        )
        .await
        .map_err(backend)?;
    let services: Vec<ServiceRow> = tx
        .fetch_all(
            Sql::new(
                "SELECT id, name, aliases, duration_min, event_type_id, event_type_slug, \
                     team_id \
                 FROM services WHERE company_id = $1 ORDER BY id",
            )
            .bind(row.id),
        )
        .await
        .map_err(backend)?;
    let offered: Vec<(i64, String)> = tx
        .fetch_all(
            Sql::new(
                "SELECT sb.service_id, b.slug FROM service_branches sb \
                 JOIN branches b ON b.id = sb.branch_id \
                 WHERE b.company_id = $1 ORDER BY sb.service_id, sb.position, b.id",
            )
            .bind(row.id),
        )
        .await
        .map_err(backend)?;
    drop(tx);
    let branches = branches
        .into_iter()
        .map(|(id, slug, name, hours)| {
            Ok(BranchSpec {
                slug: slug_column("branches", &slug)?,
                name,
                phone_numbers: numbers
                    .iter()
                    .filter(|(branch, _)| *branch == id)
                    .map(|(_, number)| {
                        PhoneNumber::parse_default(number)
                            .map_err(|e| corrupt("phone_numbers", format!("{number:?}: {e}")))
                    })
                    .collect::<Result<_, _>>()?,
                opening_hours: hours
                    .as_deref()
                    .map(|text| json_column::<OpeningHours>("branches", "opening_hours", text))
                    .transpose()?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let services = services
        .into_iter()
        .map(|s| {
            let mut at = offered
                .iter()
                .filter(|(service, _)| *service == s.id)
                .map(|(_, slug)| slug_column("branches", slug))
                .peekable();
            let branches = at
                .peek()
                .is_some()
                .then(|| at.collect::<Result<Vec<_>, _>>())
                .transpose()?;
            Ok(ServiceSpec {
                aliases: json_column("services", "aliases", &s.aliases)?,
                duration_min: u32_column("services", "duration_min", s.duration_min)?,
                name: s.name,
                event_type_id: Some(EventTypeId(s.event_type_id)),
                event_type_slug: s.event_type_slug,
                team_id: s.team_id,
                branches,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let company = CompanyId(row.id);
    let status = |column: Column, stored: &str| -> Result<Option<String>, StoreError> {
        if stored.is_empty() {
            return Ok(None);
        }
        let secret = store
            .keyring
            .reveal(company, column, stored)
            .map_err(|e| corrupt("companies", e.to_string()))?;
        Ok(Some(fingerprint(&secret)))
    };
    let credentials = CredentialStatus {
        retell_api_key: status(Column::RetellApiKey, &row.retell_api_key)?,
        calcom_api_key: status(Column::CalcomApiKey, &row.calcom_api_key)?,
        calcom_webhook_secret: status(
            Column::CalcomWebhookSecret,
            row.calcom_webhook_secret.as_deref().unwrap_or_default(),
        )?,
        sms_auth_token: status(
            Column::SmsAuthToken,
            row.sms_auth_token.as_deref().unwrap_or_default(),
        )?,
    };
    let sms = match (row.sms_account_sid, row.sms_from) {
        (Some(account_sid), Some(from)) => Some(SmsSpec {
            account_sid,
            auth_token: None,
            from: PhoneNumber::parse_default(&from)
                .map_err(|e| corrupt("companies", format!("sms_from {from:?}: {e}")))?,
            base_url: row.sms_base_url,
        }),
        _ => None,
    };
    let spec = TenantSpec {
        slug: slug_column("companies", &row.slug)?,
        name: row.name,
        locale: Locale::parse(&row.locale)
            .ok_or_else(|| corrupt("companies", format!("unknown locale {:?}", row.locale)))?,
        time_zone: row.time_zone.parse().map_err(|_| {
            corrupt(
                "companies",
                format!("unknown time zone {:?}", row.time_zone),
            )
        })?,
        retell: RetellSettings {
            api_key: None,
            agent_id: row.retell_agent_id,
        },
        calcom: CalcomSettings {
            api_key: None,
            base_url: row.calcom_base_url,
            team_id: row.calcom_team_id,
            webhook_secret: None,
        },
        policy: BookingPolicy {
            change_notice_h: u32_column("companies", "change_notice_h", row.change_notice_h)?,
            booking_horizon_days: u32_column(
                "companies",
                "booking_horizon_days",
                row.booking_horizon_days,
            )?,
        },
        branches,
        services,
        sms,
    };
    Ok(Some(TenantState {
        id: company,
        spec,
        credentials,
        disabled_at: row.disabled_at,
        created_at: row.created_at,
    }))
}

/// Every tenant with its counts, by slug.
pub(in crate::store::admin) async fn list(
    store: &AnyStore,
) -> Result<Vec<TenantSummary>, StoreError> {
    let rows: Vec<SummaryRow> = store
        .db
        .fetch_all(Sql::new(
            // `slug` is COLLATE "C" on PostgreSQL: byte order, as SQLite sorts.
            "SELECT c.id, c.slug, c.name, c.locale, c.time_zone, c.disabled_at, \
                 (SELECT COUNT(*) FROM branches b WHERE b.company_id = c.id) AS branches, \
                 (SELECT COUNT(*) FROM phone_numbers p JOIN branches b ON b.id = p.branch_id \
                  WHERE b.company_id = c.id) AS phone_numbers, \
                 (SELECT COUNT(*) FROM services s WHERE s.company_id = c.id) AS services \
             FROM companies c ORDER BY c.slug",
        ))
        .await
        .map_err(backend)?;
    rows.into_iter()
        .map(|r| {
            Ok(TenantSummary {
                id: CompanyId(r.id),
                branches: u32_column("branches", "count", r.branches)?,
                phone_numbers: u32_column("phone_numbers", "count", r.phone_numbers)?,
                services: u32_column("services", "count", r.services)?,
                slug: r.slug,
                name: r.name,
                locale: r.locale,
                time_zone: r.time_zone,
                disabled_at: r.disabled_at,
            })
        })
        .collect()
}

/// `SELECT number, slug` of the tenants that own `numbers`, one parameter per number.
pub(super) fn owners_sql(numbers: &[PhoneNumber]) -> Sql<'_> {
    let placeholders = (1..=numbers.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    numbers.iter().fold(
        Sql::new(format!(
            "SELECT p.number, c.slug FROM phone_numbers p \
             JOIN branches b ON b.id = p.branch_id \
             JOIN companies c ON c.id = b.company_id \
             WHERE p.number IN ({placeholders})"
        )),
        |sql, number| sql.bind(number.as_str()),
    )
}

/// Which of `numbers` are routed, and to which tenant, in the order given.
pub(in crate::store::admin) async fn phone_owners(
    store: &AnyStore,
    numbers: &[PhoneNumber],
) -> Result<Vec<(PhoneNumber, Slug)>, StoreError> {
    if numbers.is_empty() {
        return Ok(Vec::new());
    }
    let owned: BTreeMap<String, String> = store
        .db
        .fetch_all::<(String, String)>(owners_sql(numbers))
        .await
        .map_err(backend)?
        .into_iter()
        .collect();
    numbers
        .iter()
        .filter_map(|n| owned.get(n.as_str()).map(|slug| (n, slug)))
        .map(|(n, slug)| Ok((n.clone(), slug_column("companies", slug)?)))
        .collect()
}
