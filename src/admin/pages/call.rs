//! `/admin/calls/{call_id}`: one call from `webhook.getCall` — transcript, collected appointment
//! data, summary, booking state and, once booked, the link to the booking in Cal.com. A call of
//! another company answers 404 like an unknown one (the method cannot tell them apart either).

use super::super::{AdminError, AdminState, Ctx};
use super::{BookingState, call_status, plausible_id, text, time};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde_json::{Value, json};

/// The web address of booking `uid` in Cal.com for a tenant whose API base URL is `api_base`
/// (`None`: the service's). Cal.com's own hosts serve the app beside the API (`api.cal.com` →
/// `app.cal.com`, `api.cal.eu` → `app.cal.eu`); any other host (self-hosted, the simulator)
/// gets `admin.calcom_web_url`. The booking page is `/booking/{uid}`.
fn calcom_link(api_base: Option<&str>, fallback: &str, uid: &str) -> String {
    let web = api_base
        .and_then(|base| url::Url::parse(base).ok())
        .and_then(|mut url| {
            let host = url.host_str()?.strip_prefix("api.")?.to_owned();
            url.set_host(Some(&format!("app.{host}"))).ok()?;
            url.set_path("");
            Some(url.as_str().trim_end_matches('/').to_owned())
        })
        .unwrap_or_else(|| fallback.to_owned());
    let mut link = url::Url::parse(&web)
        .unwrap_or_else(|_| url::Url::parse("https://app.cal.com").expect("a literal URL parses"));
    link.path_segments_mut()
        .map(|mut segments| {
            segments.pop_if_empty().push("booking").push(uid);
        })
        .ok();
    link.into()
}

fn collected(ctx: &Ctx, call: &Value) -> Markup {
    let t = ctx.lang().texts();
    let Some(data) = call.get("collected").filter(|c| c.is_object()) else {
        return html! { section #collected { h2 { (t.collected) } p { (t.nothing_collected) } } };
    };
    let date = text(data, &["date"])
        .and_then(|d| d.parse::<chrono::NaiveDate>().ok())
        .map(|d| ctx.lang().date(d));
    let fields = [
        (t.field_date, date),
        (
            t.field_time,
            text(data, &["time"]).map(|s| s.chars().take(5).collect()),
        ),
        (t.field_name, text(data, &["name"]).map(str::to_owned)),
        (t.field_phone, text(data, &["phone"]).map(str::to_owned)),
        (t.field_email, text(data, &["email"]).map(str::to_owned)),
        (
            t.field_service,
            text(data, &["service", "name"]).map(str::to_owned),
        ),
        (t.field_staff, text(data, &["staff"]).map(str::to_owned)),
        (t.field_notes, text(data, &["notes"]).map(str::to_owned)),
    ];
    let confirmed = data.get("confirmed") == Some(&Value::Bool(true));
    html! {
        section #collected {
            h2 { (t.collected) }
            dl {
                @for (label, value) in fields {
                    dt { (label) }
                    dd { (value.unwrap_or_else(|| "–".to_owned())) }
                }
                dt { (t.field_confirmed) }
                dd { (if confirmed { t.yes } else { t.no }) }
            }
        }
    }
}

/// `GET /admin/calls/{call_id}`.
pub async fn page(
    req: HttpRequest,
    state: web::Data<AdminState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let ctx = Ctx::load(&req, &state).await?;
    let call_id = path.into_inner();
    if !plausible_id(&call_id) {
        return Err(AdminError::NotFound(ctx.lang()));
    }
    let call = ctx
        .call("webhook.getCall", json!({"call_id": call_id}))
        .await?;
    let lang = ctx.lang();
    let t = lang.texts();
    let company = call
        .get("company_id")
        .and_then(Value::as_i64)
        .and_then(|id| ctx.company(id));
    let zone = company.map_or(chrono_tz::Europe::Berlin, |c| c.zone);
    let state_now = BookingState::of(&call);
    let uid = text(&call, &["appointment", "booking_uid"]);
    let link = match (uid, company) {
        (Some(uid), Some(company)) => {
            let tenant = ctx
                .call("company.get", json!({"company_id": company.id}))
                .await?;
            Some(calcom_link(
                text(&tenant, &["tenant", "calcom", "base_url"]),
                &state.calcom_web_url,
                uid,
            ))
        }
        _ => None,
    };
    let status = text(&call, &["status"]).unwrap_or("");
    let body = html! {
        dl.facts {
            dt { (t.started) }
            dd { (time(&call, &["started_at"]).map(|s| lang.date_time(s, zone)).unwrap_or_default()) }
            @if let Some(company) = company {
                dt { (t.company) } dd.company { (company.name) }
            }
            dt { (t.caller) } dd { (text(&call, &["from_number"]).unwrap_or("–")) }
            dt { (t.status) } dd.call-status data-status=(status) { (call_status(status, lang)) }
        }
        section #booking data-state=(state_now.code()) {
            h2 { (t.booking) }
            p { span.booking-state data-state=(state_now.code()) { (state_now.word(t)) } }
            @if let Some(start) = time(&call, &["appointment", "start"]) {
                p { (text(&call, &["appointment", "service_name"]).unwrap_or("")) ", " (lang.date_time(start, zone)) }
            }
            @if let Some(error) = text(&call, &["booking_job", "last_error"]) {
                p { (t.last_error) ": " code { (error) } }
            }
            @if let Some(link) = &link {
                p { a #calcom-link href=(link) rel="noopener noreferrer" { (t.open_in_calcom) } }
            }
        }
        (collected(&ctx, &call))
        @if let Some(summary) = text(&call, &["summary"]) {
            section #summary { h2 { (t.summary) } p { (summary) } }
        }
        section {
            h2 { (t.transcript) }
            @match text(&call, &["transcript"]) {
                Some(transcript) => pre #transcript { (transcript) },
                None => p #transcript { (t.no_transcript) },
            }
        }
    };
    Ok(ctx.html(&format!("{} {call_id}", t.call_heading), body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_booking_links_to_the_cal_com_app_beside_the_tenants_api() {
        let fallback = "https://app.cal.com";
        assert_eq!(
            calcom_link(Some("https://api.cal.eu"), fallback, "uid1"),
            "https://app.cal.eu/booking/uid1"
        );
        assert_eq!(
            calcom_link(None, fallback, "uid1"),
            "https://app.cal.com/booking/uid1"
        );
        assert_eq!(
            calcom_link(Some("http://127.0.0.1:4000"), "https://cal.example/", "a/b"),
            "https://cal.example/booking/a%2Fb"
        );
    }
}
