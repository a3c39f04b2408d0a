//! `/admin/appointments`: the upcoming bookings in Cal.com (`calcom.getBookings`,
//! `status=upcoming`), per company in scope: the token's own, the one `?company=slug` names, or
//! (operators' token) every company. A company whose Cal.com does not answer (breaker open,
//! key revoked) is named in a notice; the others are still listed.

use super::super::{AdminError, AdminState, Ctx};
use super::{text, time};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::html;
use serde_json::{Value, json};

/// Bookings asked of Cal.com per company.
const MAX_BOOKINGS: u32 = 50;

/// `GET /admin/appointments`.
pub async fn page(
    req: HttpRequest,
    state: web::Data<AdminState>,
) -> Result<HttpResponse, AdminError> {
    let ctx = Ctx::load(&req, &state).await?;
    let lang = ctx.lang();
    let t = lang.texts();
    let chosen = ctx.chosen_company(&req)?;
    let mut rows = Vec::new();
    let mut failed = Vec::new();
    for company in ctx.scope(chosen) {
        let params = json!({"company_id": company.id, "status": "upcoming", "take": MAX_BOOKINGS});
        match ctx.rpc.call("calcom.getBookings", params).await {
            Ok(found) => rows.extend(
                found
                    .get("bookings")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|b| (company, b.clone())),
            ),
            Err(e) => {
                tracing::warn!(company = company.id, code = e.code, error = %e.message,
                    "dashboard: bookings unavailable");
                failed.push(company.name.as_str());
            }
        }
    }
    rows.sort_by_key(|(_, b)| time(b, &["start"]));
    let body = html! {
        @for name in &failed {
            p.notice.warning { (name) ": " (t.unavailable) }
        }
        @if rows.is_empty() { p.empty { (t.no_appointments) } }
        div.scroll {
            table #appointments {
                thead { tr {
                    th scope="col" { (t.start) }
                    @if ctx.is_admin() { th scope="col" { (t.company) } }
                    th scope="col" { (t.field_service) }
                    th scope="col" { (t.attendee) }
                    th scope="col" { (t.status) }
                } }
                tbody {
                    @for (company, booking) in &rows {
                        tr data-booking-uid=(text(booking, &["uid"]).unwrap_or("")) {
                            td { (time(booking, &["start"]).map(|s| lang.date_time(s, company.zone)).unwrap_or_default()) }
                            @if ctx.is_admin() { td.company { (company.slug) } }
                            td { (text(booking, &["title"]).unwrap_or("")) }
                            td { (booking.get("attendees").and_then(|a| a.get(0)).and_then(|a| text(a, &["name"])).unwrap_or("")) }
                            td { (text(booking, &["status"]).unwrap_or("")) }
                        }
                    }
                }
            }
        }
    };
    Ok(ctx.html(t.appointments_heading, body))
}
