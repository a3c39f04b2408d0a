//! `/admin/health`: the circuit breakers and upstreams — the data `GET /api/mcp/health` shows.
//! A company token sees only its own company's breakers and the state of its upstreams; the
//! operators' token also sees the database, the cache and the upstream addresses.

use super::super::{AdminError, AdminState, Ctx};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::html;
use switchboard_actors::resilience::BreakerState;
use switchboard_actors::tenant::ListBreakers;

/// The `.breaker-state` word of `state` (the same in both languages: operators' vocabulary).
fn state_word(state: &BreakerState) -> &'static str {
    match state {
        BreakerState::Closed => "closed",
        BreakerState::Open { .. } => "open",
        BreakerState::HalfOpen => "half-open",
    }
}

/// `GET /admin/health`.
pub async fn page(
    req: HttpRequest,
    state: web::Data<AdminState>,
) -> Result<HttpResponse, AdminError> {
    let ctx = Ctx::load(&req, &state).await?;
    let t = ctx.lang().texts();
    let own = ctx.session.grant.company_id;
    let breakers: Vec<_> = state
        .app
        .core
        .tenants
        .send(ListBreakers)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|b| own.is_none_or(|c| c == b.company))
        .filter_map(|b| ctx.company(b.company.0).map(|c| (b, c)))
        .collect();
    let upstream = |service: &str| {
        if breakers
            .iter()
            .any(|(b, _)| b.service == service && !matches!(b.state, BreakerState::Closed))
        {
            t.down
        } else {
            t.up
        }
    };
    let admin = ctx.is_admin();
    let (database, cache) = if admin {
        let db = state.app.store.ping().await;
        if let Err(e) = &db {
            tracing::error!(error = %e, "dashboard health: database unavailable");
        }
        let cache = state.app.cache.health().await;
        (Some(db.is_ok()), Some(cache.up))
    } else {
        (None, None)
    };
    let body = html! {
        section {
            h2 { (t.breakers) }
            @if breakers.is_empty() { p.empty { (t.no_breakers) } }
            div.scroll {
                table #breakers {
                    thead { tr {
                        th scope="col" { (t.service) }
                        th scope="col" { (t.company) }
                        th scope="col" { (t.state) }
                    } }
                    tbody {
                        @for (breaker, company) in &breakers {
                            tr data-service=(breaker.service) data-company=(company.slug) {
                                td { (breaker.service) }
                                td.company { (company.name) }
                                td.breaker-state { (state_word(&breaker.state)) }
                            }
                        }
                    }
                }
            }
        }
        section {
            h2 { (t.upstreams) }
            div.scroll {
                table #upstreams {
                    thead { tr {
                        th scope="col" { (t.service) }
                        th scope="col" { (t.state) }
                        @if admin { th scope="col" { (t.base_url) } }
                    } }
                    tbody {
                        tr data-upstream="calcom" {
                            td { "Cal.com" } td { (upstream("calcom")) }
                            @if admin { td { code { (state.app.calcom_base_url) } } }
                        }
                        tr data-upstream="retell" {
                            td { "Retell" } td { (upstream("retell")) }
                            @if admin { td { code { (state.app.retell_base_url) } } }
                        }
                        @if let Some(up) = database {
                            tr data-upstream="database" {
                                td { (t.database) } td { (if up { t.up } else { t.down }) } td {}
                            }
                        }
                        @if let Some(up) = cache {
                            tr data-upstream="cache" {
                                td { (t.cache) } td { (if up { t.up } else { t.down }) } td {}
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(ctx.html(t.health_heading, body))
}
