//! `/admin/stats`: calls and bookings per day over the last 14 days of the company
//! (`database.getCallStats`, grouped by day in the company's time zone), as a server-rendered
//! inline SVG bar chart `#calls-chart` with the same numbers in `#stats-table` beside it (the
//! table is what screen readers read). The operators' token sees one company at a time
//! (`?company=slug`, else the first). Where the method is not there (or refuses), the page says
//! the statistics are not available.

use super::super::{AdminError, AdminState, Company, Ctx};
use super::text;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{Days, Utc};
use maud::{Markup, html};
use serde_json::{Value, json};

/// Days the chart covers, today included.
const DAYS: u64 = 14;

/// Chart geometry, in SVG user units.
const WIDTH: u32 = 640;
const HEIGHT: u32 = 200;
const BAR_AREA: u32 = 170;

/// One day of the statistics: its key (`YYYY-MM-DD`), calls, booked.
struct Day {
    key: String,
    calls: u64,
    booked: u64,
}

fn days(stats: &Value) -> Vec<Day> {
    stats
        .get("rows")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|row| Day {
            key: text(row, &["key"]).unwrap_or("").to_owned(),
            calls: row.get("calls").and_then(Value::as_u64).unwrap_or(0),
            booked: row.get("booked").and_then(Value::as_u64).unwrap_or(0),
        })
        .collect()
}

/// Two bars per day (calls, booked), scaled to the busiest day; decorative for assistive
/// technology, which reads the table.
fn chart(days: &[Day], label: &str) -> Markup {
    let max = days
        .iter()
        .map(|d| d.calls.max(d.booked))
        .max()
        .unwrap_or(0)
        .max(1);
    let slot = WIDTH / u32::try_from(days.len().max(1)).unwrap_or(1).max(1);
    let bar = (slot / 3).max(1);
    let height =
        |n: u64| u32::try_from(n.saturating_mul(u64::from(BAR_AREA)) / max).unwrap_or(BAR_AREA);
    html! {
        svg #calls-chart role="img" aria-label=(label) xmlns="http://www.w3.org/2000/svg"
            viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } preserveAspectRatio="none" {
            @for (i, day) in days.iter().enumerate() {
                @let x = u32::try_from(i).unwrap_or(0) * slot;
                rect.bar-calls x=(x + 2) y=(BAR_AREA - height(day.calls)) width=(bar)
                    height=(height(day.calls)) { title { (day.key) ": " (day.calls) } }
                rect.bar-booked x=(x + 2 + bar) y=(BAR_AREA - height(day.booked)) width=(bar)
                    height=(height(day.booked)) { title { (day.key) ": " (day.booked) } }
            }
            line.axis x1="0" y1=(BAR_AREA) x2=(WIDTH) y2=(BAR_AREA) {}
        }
    }
}

/// `GET /admin/stats`.
pub async fn page(
    req: HttpRequest,
    state: web::Data<AdminState>,
) -> Result<HttpResponse, AdminError> {
    let ctx = Ctx::load(&req, &state).await?;
    let lang = ctx.lang();
    let t = lang.texts();
    let chosen = ctx.chosen_company(&req)?;
    let company: Option<&Company> = chosen.or_else(|| ctx.companies.first());
    let stats = match company {
        None => None,
        Some(company) => {
            let today = Utc::now().with_timezone(&company.zone).date_naive();
            let from = today.checked_sub_days(Days::new(DAYS - 1)).unwrap_or(today);
            let params = json!({"company_id": company.id, "from": from, "to": today,
                "group_by": "day"});
            match ctx.rpc.call("database.getCallStats", params).await {
                Ok(stats) => Some(stats),
                Err(e) => {
                    tracing::warn!(code = e.code, error = %e.message, "dashboard: statistics unavailable");
                    None
                }
            }
        }
    };
    let days = stats.as_ref().map(days).unwrap_or_default();
    let body = html! {
        @if ctx.is_admin() {
            form.filter method="get" action="/admin/stats" {
                label for="company" { (t.company) }
                select #company name="company" {
                    @for c in &ctx.companies {
                        option value=(c.slug) selected[company.is_some_and(|s| s.id == c.id)] { (c.name) }
                    }
                }
                button type="submit" { (t.filter) }
            }
        }
        @if stats.is_none() {
            p.notice #stats-unavailable { (t.stats_unavailable) }
        }
        div.stats {
            figure {
                (chart(&days, t.chart_label))
                figcaption {
                    span.key-calls { (t.calls) } " · " span.key-booked { (t.booked_count) }
                }
            }
            div.scroll {
                table #stats-table {
                    caption { (t.chart_label) }
                    thead { tr {
                        th scope="col" { (t.day) }
                        th scope="col" { (t.calls) }
                        th scope="col" { (t.booked_count) }
                    } }
                    tbody {
                        @for day in &days {
                            tr data-day=(day.key) {
                                th scope="row" {
                                    (day.key.parse::<chrono::NaiveDate>().map(|d| lang.date(d)).unwrap_or_else(|_| day.key.clone()))
                                }
                                td { (day.calls) }
                                td { (day.booked) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(ctx.html(t.stats_heading, body))
}
