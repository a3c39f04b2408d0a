//! `/admin/`: today's calls (live and ended) with their booking state, from
//! `webhook.listCalls` over the company-local day. The operators' token sees every company
//! (each call on its own company's day; `?company=slug` filters) with a `.company` column.
//! `/admin/calls-table` answers the table alone: htmx swaps it in every 5 seconds.

use super::super::{AdminError, AdminState, Company, Ctx};
use super::{BookingState, call_status, time};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Days, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use maud::{Markup, html};
use serde_json::{Value, json};

/// Most calls the page lists (the method's page size).
const MAX_CALLS: u32 = 200;

/// `[start, end)` of a day, UTC.
type Span = (DateTime<Utc>, DateTime<Utc>);

/// Midnight to midnight of today in `zone`, as UTC instants.
fn local_day(now: DateTime<Utc>, zone: Tz) -> Span {
    let today = now.with_timezone(&zone).date_naive();
    let start = |day: chrono::NaiveDate| {
        // A day that starts in a DST gap starts at its first existing instant.
        zone.from_local_datetime(&day.and_time(NaiveTime::MIN))
            .earliest()
            .or_else(|| {
                zone.from_local_datetime(&day.and_hms_opt(1, 0, 0)?)
                    .earliest()
            })
            .map_or(now, |t| t.with_timezone(&Utc))
    };
    let tomorrow = today.checked_add_days(Days::new(1)).unwrap_or(today);
    (start(today), start(tomorrow))
}

/// The calls of today for the companies in scope, oldest first, and whether more were left.
async fn calls(ctx: &Ctx, req: &HttpRequest) -> Result<(Vec<Value>, bool), AdminError> {
    let chosen = ctx.chosen_company(req)?;
    let scope = ctx.scope(chosen);
    let now = Utc::now();
    let days: Vec<(i64, Span)> = scope
        .iter()
        .map(|c| (c.id, local_day(now, c.zone)))
        .collect();
    let (Some(since), Some(until)) = (
        days.iter().map(|(_, (s, _))| *s).min(),
        days.iter().map(|(_, (_, u))| *u).max(),
    ) else {
        return Ok((Vec::new(), false));
    };
    let company_id = chosen
        .map(|c| c.id)
        .or(ctx.session.grant.company_id.map(|c| c.0));
    let listed = ctx
        .call(
            "webhook.listCalls",
            json!({"company_id": company_id, "since": since, "until": until, "limit": MAX_CALLS}),
        )
        .await?;
    let truncated = listed.get("truncated") == Some(&Value::Bool(true));
    let calls = listed
        .get("calls")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|call| {
            // Each call on its own company's day (the union above spans every zone in scope).
            let company = call.get("company_id").and_then(Value::as_i64);
            let started = time(call, &["started_at"]);
            days.iter().any(|(id, (s, u))| {
                Some(*id) == company && started.is_some_and(|t| *s <= t && t < *u)
            })
        })
        .collect();
    Ok((calls, truncated))
}

/// The refreshing table: `#calls` inside the element htmx replaces.
fn table(ctx: &Ctx, req: &HttpRequest, calls: &[Value], truncated: bool) -> Markup {
    let t = ctx.lang().texts();
    let admin = ctx.is_admin();
    let refresh = format!("/admin/calls-table?{}", req.query_string());
    html! {
        div #calls-live hx-get=(refresh) hx-trigger="every 5s" hx-swap="outerHTML" {
            @if calls.is_empty() {
                p.empty { (t.no_calls) }
            }
            div.scroll {
                table #calls {
                    thead { tr {
                        th scope="col" { (t.started) }
                        @if admin { th scope="col" { (t.company) } }
                        th scope="col" { (t.caller) }
                        th scope="col" { (t.status) }
                        th scope="col" { (t.booking) }
                    } }
                    tbody {
                        @for call in calls { (row(ctx, call)) }
                    }
                }
            }
            @if truncated { p.notice { (t.more_calls) } }
        }
    }
}

fn row(ctx: &Ctx, call: &Value) -> Markup {
    let lang = ctx.lang();
    let t = lang.texts();
    let id = call.get("call_id").and_then(Value::as_str).unwrap_or("");
    let company: Option<&Company> = call
        .get("company_id")
        .and_then(Value::as_i64)
        .and_then(|c| ctx.company(c));
    let zone = company.map_or(chrono_tz::Europe::Berlin, |c| c.zone);
    let state = BookingState::of(call);
    let status = call.get("status").and_then(Value::as_str).unwrap_or("");
    let href = format!("/admin/calls/{id}");
    html! {
        tr data-call-id=(id) {
            td data-label=(t.started) { a href=(href) { (time(call, &["started_at"]).map(|s| lang.time(s, zone)).unwrap_or_default()) } }
            @if ctx.is_admin() {
                td.company data-label=(t.company) { (company.map_or("", |c| c.slug.as_str())) }
            }
            td data-label=(t.caller) { (call.get("from_number").and_then(Value::as_str).unwrap_or("–")) }
            td.call-status data-label=(t.status) data-status=(status) { (call_status(status, lang)) }
            td.booking-state data-label=(t.booking) data-state=(state.code()) { (state.word(t)) }
        }
    }
}

/// The `?company=` choice of the operators' token.
fn company_filter(ctx: &Ctx, chosen: Option<&str>) -> Markup {
    let t = ctx.lang().texts();
    html! {
        form.filter method="get" action="/admin/" {
            label for="company" { (t.company) }
            select #company name="company" {
                option value="" { (t.all_companies) }
                @for c in &ctx.companies {
                    option value=(c.slug) selected[chosen == Some(c.slug.as_str())] { (c.name) }
                }
            }
            button type="submit" { (t.filter) }
        }
    }
}

/// `GET /admin/`.
pub async fn page(
    req: HttpRequest,
    state: web::Data<AdminState>,
) -> Result<HttpResponse, AdminError> {
    let ctx = Ctx::load(&req, &state).await?;
    let (calls, truncated) = calls(&ctx, &req).await?;
    let t = ctx.lang().texts();
    let chosen = ctx.chosen_company(&req)?.map(|c| c.slug.as_str());
    let body = html! {
        @if ctx.is_admin() {
            (company_filter(&ctx, chosen))
            p.hint { (t.day_in_zones) }
        }
        p.hint { (t.live_refresh) }
        (table(&ctx, &req, &calls, truncated))
    };
    Ok(ctx.html(t.today_heading, body))
}

/// `GET /admin/calls-table`: the table alone, for htmx. Signed out it answers 401, which
/// htmx leaves unswapped (the page's next full load goes to the sign-in form).
pub async fn fragment(
    req: HttpRequest,
    state: web::Data<AdminState>,
) -> Result<HttpResponse, AdminError> {
    let ctx = match Ctx::load(&req, &state).await {
        Err(AdminError::SignedOut) => return Ok(HttpResponse::Unauthorized().finish()),
        other => other?,
    };
    let (calls, truncated) = calls(&ctx, &req).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(table(&ctx, &req, &calls, truncated).into_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn today_is_the_company_local_day() {
        let now = DateTime::parse_from_rfc3339("2026-07-01T23:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let (since, until) = local_day(now, chrono_tz::Europe::Berlin);
        // 23:30 UTC is already 2 July in Berlin (UTC+2).
        assert_eq!(since.to_rfc3339(), "2026-07-01T22:00:00+00:00");
        assert_eq!(until.to_rfc3339(), "2026-07-02T22:00:00+00:00");
    }
}
