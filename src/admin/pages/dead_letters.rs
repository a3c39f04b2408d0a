//! `/admin/dead-letters`: outbox jobs that failed every attempt (`queue.getFailedJobs`), each
//! with a Retry form (`queue.retryJob`, POST with the session's CSRF token). After a retry the
//! browser is sent back (303) with `?retried={job_id}`, shown as a `.notice`. A read-only
//! token sees no Retry button, and its POST is refused (403) before any method runs.

use super::super::session::{CsrfForm, check_csrf};
use super::super::{AdminError, AdminState, Ctx, see_other};
use super::{text, time};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::html;
use serde_json::{Value, json};
use switchboard_actors::records::TokenScope;

/// Dead letters the page lists (newest first).
const MAX_JOBS: u32 = 100;

/// `?retried=` of the request: the job just retried.
fn retried(req: &HttpRequest) -> Option<i64> {
    super::super::query_param(req, "retried").and_then(|v| v.parse().ok())
}

/// `GET /admin/dead-letters`.
pub async fn page(
    req: HttpRequest,
    state: web::Data<AdminState>,
) -> Result<HttpResponse, AdminError> {
    let ctx = Ctx::load(&req, &state).await?;
    let lang = ctx.lang();
    let t = lang.texts();
    let chosen = ctx.chosen_company(&req)?;
    let company_id = chosen.map(|c| c.id);
    let page = ctx
        .call(
            "queue.getFailedJobs",
            json!({"company_id": company_id, "limit": MAX_JOBS}),
        )
        .await?;
    let jobs = page
        .get("jobs")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let may_retry = ctx.session.grant.scope >= TokenScope::Write;
    let csrf = ctx.session.csrf.clone();
    let body = html! {
        @if let Some(job) = retried(&req) {
            p.notice role="status" { (t.retried_prefix) " " (job) ": " (t.retried) }
        }
        @if jobs.is_empty() { p.empty { (t.no_dead_letters) } }
        div.scroll {
            table #dead-letters {
                thead { tr {
                    th scope="col" { (t.job) }
                    @if ctx.is_admin() { th scope="col" { (t.company) } }
                    th scope="col" { (t.kind) }
                    th scope="col" { (t.call_heading) }
                    th scope="col" { (t.attempts) }
                    th scope="col" { (t.last_error) }
                    th scope="col" { (t.created) }
                    @if may_retry { th scope="col" { span.visually-hidden { (t.retry) } } }
                } }
                tbody {
                    @for job in &jobs {
                        @let id = job.get("id").and_then(Value::as_i64).unwrap_or_default();
                        @let company = job.get("company_id").and_then(Value::as_i64).and_then(|c| ctx.company(c));
                        @let zone = company.map_or(chrono_tz::Europe::Berlin, |c| c.zone);
                        tr data-job-id=(id) {
                            td { (id) }
                            @if ctx.is_admin() { td.company { (company.map_or("", |c| c.slug.as_str())) } }
                            td { (text(job, &["kind"]).unwrap_or("")) }
                            td {
                                @if let Some(call_id) = text(job, &["call_id"]) {
                                    a href={ "/admin/calls/" (call_id) } { (call_id) }
                                }
                            }
                            td { (job.get("attempts").and_then(Value::as_u64).unwrap_or(0)) }
                            td { code { (text(job, &["last_error"]).unwrap_or("")) } }
                            td { (time(job, &["created_at"]).map(|s| lang.date_time(s, zone)).unwrap_or_default()) }
                            @if may_retry {
                                td {
                                    form method="post" action={ "/admin/dead-letters/" (id) "/retry" } {
                                        input type="hidden" name="csrf" value=(csrf);
                                        button.retry type="submit" aria-label={ (t.retry) " " (id) } { (t.retry) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(ctx.html(t.dead_letters_heading, body))
}

/// `POST /admin/dead-letters/{job_id}/retry`: 403 without the session's CSRF token, from
/// another site or for a read-only token; 404 for a job the token may not see; else the job is
/// queued again and the browser goes back to the list.
pub async fn retry(
    req: HttpRequest,
    state: web::Data<AdminState>,
    path: web::Path<String>,
    form: Option<web::Form<CsrfForm>>,
) -> Result<HttpResponse, AdminError> {
    let ctx = Ctx::load(&req, &state).await?;
    check_csrf(&req, &ctx.session, &CsrfForm::field(form), ctx.lang())?;
    if ctx.session.grant.scope < TokenScope::Write {
        return Err(AdminError::Forbidden(ctx.lang()));
    }
    let job_id: i64 = path
        .into_inner()
        .parse()
        .map_err(|_| AdminError::NotFound(ctx.lang()))?;
    match ctx
        .rpc
        .call("queue.retryJob", json!({"job_id": job_id}))
        .await
    {
        Ok(_) => {}
        // A second click on Retry: the job is queued already, which is what was asked.
        Err(e) if e.data.as_ref().and_then(|d| d.get("type")) == Some(&json!("job_not_failed")) => {
        }
        Err(e) => return Err(AdminError::from_rpc(ctx.lang(), &e)),
    }
    Ok(see_other(&format!("/admin/dead-letters?retried={job_id}")))
}
