//! [`ReportStore`]: the `database.*` reports — calls counted by booking state (aggregated in
//! SQL), dead-lettered bookings with what led there, and search. The client SQL of
//! `database.query` runs in `query.rs`.

use super::AnyStore;
use super::dialect::Dialect;
use super::rows::BOOK_KIND;
use super::sql::{Sql, backend};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use switchboard_actors::domain::ids::CompanyId;
use switchboard_actors::domain::sql_guard::{
    CheckedQuery, QueryError, QueryOutput, QueryParam, RunLimits, SqlDialect,
};
use switchboard_actors::domain::text::excerpt;
use switchboard_actors::ports::{ReportStore, StoreError};
use switchboard_actors::reports::{
    CallCounts, FailedAppointment, SearchHit, SearchHits, SearchTerms, StatsGrouping, StatsKey,
    StatsRow,
};

/// Characters of a transcript's end shown with a failed appointment.
const TRANSCRIPT_TAIL: usize = 600;

/// The SQL pieces of the reports that differ between the backends.
impl Dialect {
    /// The UTC quarter hour (since the epoch) `calls.started_at` lies in, as BIGINT.
    fn started_quarter(self) -> &'static str {
        match self {
            Dialect::Sqlite => "CAST(strftime('%s', c.started_at) AS INTEGER) / 900",
            Dialect::Postgres => "CAST(FLOOR(EXTRACT(EPOCH FROM c.started_at) / 900) AS BIGINT)",
        }
    }

    /// Whether the call's collected data has a non-null `field`.
    fn collected_has(self, field: &str) -> String {
        match self {
            Dialect::Sqlite => format!("json_extract(c.collected, '$.{field}') IS NOT NULL"),
            Dialect::Postgres => {
                format!("COALESCE(json_typeof(c.collected::json -> '{field}'), 'null') <> 'null'")
            }
        }
    }

    /// Whether the caller confirmed the collected data.
    fn collected_confirmed(self) -> &'static str {
        match self {
            Dialect::Sqlite => "json_extract(c.collected, '$.confirmed') = 1",
            Dialect::Postgres => "(c.collected::json ->> 'confirmed') = 'true'",
        }
    }

    /// A text field of the collected data (`$.name`, `$.service.name`), NULL when absent.
    fn collected_text(self, path: &[&str]) -> String {
        match self {
            Dialect::Sqlite => format!("json_extract(c.collected, '$.{}')", path.join(".")),
            Dialect::Postgres => format!("(c.collected::json #>> '{{{}}}')", path.join(",")),
        }
    }

    /// The last [`TRANSCRIPT_TAIL`] characters of the call's Retell `transcript`. PostgreSQL
    /// cannot unescape a `\u0000` in JSON text: such a payload shows no transcript rather
    /// than failing the listing.
    fn transcript_tail(self) -> String {
        match self {
            Dialect::Sqlite => {
                format!("substr(json_extract(c.payload, '$.transcript'), -{TRANSCRIPT_TAIL})")
            }
            Dialect::Postgres => format!(
                "CASE WHEN strpos(c.payload, '\\u0000') = 0 \
                     THEN right(c.payload::json ->> 'transcript', {TRANSCRIPT_TAIL}) END"
            ),
        }
    }
}

/// One group of the stats statement.
#[derive(sqlx::FromRow)]
struct StatsSqlRow {
    company_id: i64,
    quarter: Option<i64>,
    label: Option<String>,
    calls: i64,
    booked: i64,
    unconfirmed: i64,
    missing_data: i64,
    failed: i64,
    pending: i64,
}

impl StatsSqlRow {
    fn into_row(self, grouping: StatsGrouping) -> StatsRow {
        let count = |n: i64| u64::try_from(n).unwrap_or_default();
        StatsRow {
            company_id: CompanyId(self.company_id),
            key: match grouping {
                StatsGrouping::QuarterHour => StatsKey::QuarterHour(self.quarter.unwrap_or(0)),
                StatsGrouping::Branch | StatsGrouping::Service => StatsKey::Label(self.label),
            },
            counts: CallCounts {
                calls: count(self.calls),
                booked: count(self.booked),
                unconfirmed: count(self.unconfirmed),
                missing_data: count(self.missing_data),
                failed: count(self.failed),
                pending: count(self.pending),
            },
        }
    }
}

#[derive(sqlx::FromRow)]
struct FailedRow {
    id: i64,
    company_id: i64,
    kind: String,
    call_id: Option<String>,
    attempts: i64,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    service_name: Option<String>,
    start: Option<String>,
    attendee_name: Option<String>,
    collected: Option<String>,
    transcript: Option<String>,
}

#[derive(sqlx::FromRow)]
struct HitRow {
    id: String,
    company_id: i64,
    name: Option<String>,
    phone: Option<String>,
    at: Option<DateTime<Utc>>,
    status: Option<String>,
}

impl HitRow {
    fn into_hit(self) -> SearchHit {
        SearchHit {
            id: self.id,
            company_id: CompanyId(self.company_id),
            name: self.name,
            phone: self.phone,
            at: self.at,
            status: self.status,
        }
    }
}

/// `%text%` for `LIKE … ESCAPE '\'`, lower case, with `\`, `%` and `_` matching themselves.
fn like_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[async_trait]
impl ReportStore for AnyStore {
    fn sql_dialect(&self) -> SqlDialect {
        match self.db.dialect() {
            Dialect::Sqlite => SqlDialect::Sqlite,
            Dialect::Postgres => SqlDialect::Postgres,
        }
    }

    async fn call_stats(
        &self,
        company: Option<CompanyId>,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        grouping: StatsGrouping,
    ) -> Result<Vec<StatsRow>, StoreError> {
        let d = self.db.dialect();
        let (quarter, label, join) = match grouping {
            StatsGrouping::QuarterHour => (d.started_quarter().to_owned(), "NULL".to_owned(), ""),
            StatsGrouping::Branch => (
                "NULL".to_owned(),
                "b.name".to_owned(),
                "LEFT JOIN branches b ON b.id = c.branch_id AND b.company_id = c.company_id",
            ),
            StatsGrouping::Service => (
                "NULL".to_owned(),
                d.collected_text(&["service", "name"]),
                "",
            ),
        };
        let complete = ["service", "date", "time", "name", "phone"]
            .iter()
            .map(|f| d.collected_has(f))
            .collect::<Vec<_>>()
            .join(" AND ");
        // The latest booking job decides, as webhook.getCall shows it; a call whose data was
        // never booked is judged by what it collected, once it has ended.
        let sql = format!(
            "SELECT company_id, quarter, label, COUNT(*) AS calls, \
                 COUNT(*) FILTER (WHERE state = 'booked') AS booked, \
                 COUNT(*) FILTER (WHERE state = 'unconfirmed') AS unconfirmed, \
                 COUNT(*) FILTER (WHERE state = 'missing_data') AS missing_data, \
                 COUNT(*) FILTER (WHERE state = 'failed') AS failed, \
                 COUNT(*) FILTER (WHERE state = 'pending') AS pending \
             FROM (SELECT c.company_id, {quarter} AS quarter, {label} AS label, \
                 CASE WHEN c.appointment_id IS NOT NULL OR job.status = 'done' THEN 'booked' \
                      WHEN job.status = 'failed' THEN 'failed' \
                      WHEN job.status IS NOT NULL THEN 'pending' \
                      WHEN c.status IN ('registered', 'ongoing') OR c.collected IS NULL \
                          THEN 'none' \
                      WHEN NOT ({complete}) THEN 'missing_data' \
                      WHEN {confirmed} THEN 'none' \
                      ELSE 'unconfirmed' END AS state \
                 FROM calls c {join} \
                 LEFT JOIN jobs job ON job.id = (SELECT MAX(j.id) FROM jobs j \
                     WHERE j.call_id = c.call_id AND j.company_id = c.company_id \
                         AND j.kind = $4) \
                 WHERE ($1 IS NULL OR c.company_id = $1) \
                     AND c.started_at >= $2 AND c.started_at < $3) AS per_call \
             GROUP BY company_id, quarter, label",
            confirmed = d.collected_confirmed(),
        );
        let rows: Vec<StatsSqlRow> = self
            .db
            .fetch_all(
                Sql::new(sql)
                    .bind(company.map(|c| c.0))
                    .bind(since)
                    .bind(until)
                    .bind(BOOK_KIND),
            )
            .await
            .map_err(backend)?;
        Ok(rows.into_iter().map(|r| r.into_row(grouping)).collect())
    }

    async fn failed_appointments(
        &self,
        company: Option<CompanyId>,
        limit: u32,
    ) -> Result<Vec<FailedAppointment>, StoreError> {
        let d = self.db.dialect();
        let sql = format!(
            "SELECT j.id, j.company_id, j.kind, j.call_id, j.attempts, j.last_error, \
                 j.created_at, j.updated_at, j.service_name, j.start, j.attendee_name, \
                 c.collected, {transcript} AS transcript \
             FROM ({listing}) AS j \
             LEFT JOIN calls c ON c.call_id = j.call_id AND c.company_id = j.company_id \
             WHERE j.status = 'failed' AND ($1 IS NULL OR j.company_id = $1) \
             ORDER BY j.updated_at DESC, j.id DESC LIMIT $2",
            transcript = d.transcript_tail(),
            listing = d.job_listing_from(),
        );
        let rows: Vec<FailedRow> = self
            .db
            .fetch_all(
                Sql::new(sql)
                    .bind(company.map(|c| c.0))
                    .bind(i64::from(limit)),
            )
            .await
            .map_err(backend)?;
        Ok(rows
            .into_iter()
            .map(|row| FailedAppointment {
                job_id: row.id,
                company_id: CompanyId(row.company_id),
                kind: row.kind,
                call_id: row.call_id,
                attempts: row.attempts,
                last_error: row.last_error,
                created_at: row.created_at,
                failed_at: row.updated_at,
                service_name: row.service_name,
                start: row.start,
                attendee_name: row.attendee_name,
                collected: row
                    .collected
                    .and_then(|text| serde_json::from_str(&text).ok()),
                transcript_excerpt: row
                    .transcript
                    .map(|text| excerpt(&text, TRANSCRIPT_TAIL))
                    .filter(|text| !text.is_empty()),
            })
            .collect())
    }

    async fn search(
        &self,
        company: Option<CompanyId>,
        terms: &SearchTerms,
        limit: u32,
    ) -> Result<SearchHits, StoreError> {
        let d = self.db.dialect();
        let pattern = like_pattern(&terms.text);
        let caller = d.collected_text(&["name"]);
        let statements = [
            format!(
                "SELECT c.call_id AS id, c.company_id, {caller} AS name, \
                     c.from_number AS phone, c.started_at AS at, c.status \
                 FROM calls c WHERE ($1 IS NULL OR c.company_id = $1) \
                     AND (c.call_id = $2 OR c.from_number = $3 \
                         OR lower({caller}) LIKE $4 ESCAPE '\\') \
                 ORDER BY c.started_at DESC, c.id DESC LIMIT $5"
            ),
            "SELECT CAST(id AS TEXT) AS id, company_id, name, phone, created_at AS at, \
                 CAST(NULL AS TEXT) AS status \
             FROM customers WHERE ($1 IS NULL OR company_id = $1) \
                 AND (CAST(id AS TEXT) = $2 OR phone = $3 OR lower(name) LIKE $4 ESCAPE '\\') \
             ORDER BY created_at DESC, id DESC LIMIT $5"
                .to_owned(),
            "SELECT booking_uid AS id, company_id, attendee_name AS name, \
                 attendee_phone AS phone, start_at AS at, status \
             FROM appointments WHERE ($1 IS NULL OR company_id = $1) \
                 AND (booking_uid = $2 OR attendee_phone = $3 \
                     OR lower(attendee_name) LIKE $4 ESCAPE '\\') \
             ORDER BY start_at DESC, id DESC LIMIT $5"
                .to_owned(),
        ];
        let mut found = Vec::with_capacity(statements.len());
        for sql in statements {
            let rows: Vec<HitRow> = self
                .db
                .fetch_all(
                    Sql::new(sql)
                        .bind(company.map(|c| c.0))
                        .bind(terms.text.as_str())
                        .bind(terms.phone.as_deref())
                        .bind(pattern.as_str())
                        .bind(i64::from(limit)),
                )
                .await
                .map_err(backend)?;
            found.push(rows.into_iter().map(HitRow::into_hit).collect());
        }
        let mut found = found.into_iter();
        Ok(SearchHits {
            calls: found.next().unwrap_or_default(),
            customers: found.next().unwrap_or_default(),
            appointments: found.next().unwrap_or_default(),
        })
    }

    async fn run_query(
        &self,
        query: &CheckedQuery,
        params: &[QueryParam],
        limits: RunLimits,
    ) -> Result<QueryOutput, QueryError> {
        super::query::run(&self.db, query, params, limits).await
    }
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_wildcards_in_the_text_match_themselves() {
        assert_eq!(like_pattern("50%_A\\b"), "%50\\%\\_a\\\\b%");
    }
}
