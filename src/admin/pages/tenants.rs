//! `/admin/tenants`: the tenants the token may see (`company.list`: a company token only its
//! own); `/admin/tenants/{slug}`: one tenant (`company.get`) and its configuration check —
//! Cal.com connection (`calcom.testConnection`), Retell connection and agent
//! (`retell.testConnection`), phone numbers (each branch has at least one), and every service
//! mapped to an event type Cal.com knows (`calcom.getEventTypes`). Another company's slug is
//! 404, like an unknown one.

use super::super::{AdminError, AdminState, Ctx};
use super::{plausible_id, text};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// `GET /admin/tenants`.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AdminState>,
) -> Result<HttpResponse, AdminError> {
    let ctx = Ctx::load(&req, &state).await?;
    let t = ctx.lang().texts();
    let body = html! {
        div.scroll {
            table #tenants {
                thead { tr {
                    th scope="col" { (t.name) }
                    th scope="col" { "Slug" }
                    th scope="col" { (t.time_zone) }
                    th scope="col" { (t.language) }
                } }
                tbody {
                    @for c in &ctx.companies {
                        tr data-slug=(c.slug) {
                            td { a href={ "/admin/tenants/" (c.slug) } { (c.name) } }
                            td { code { (c.slug) } }
                            td { (c.zone.name()) }
                            td { (c.lang.code()) }
                        }
                    }
                }
            }
        }
    };
    Ok(ctx.html(t.tenants_heading, body))
}

/// One line of the configuration check.
struct Check {
    /// `calcom`, `retell`, `numbers` or `services`.
    key: &'static str,
    label: &'static str,
    ok: bool,
    /// What failed, or what was found.
    detail: String,
}

/// The refusal of a check as one line (the method's message; never a credential).
fn failure(e: &switchboard_actors::jsonrpc::RpcError) -> String {
    format!("{} ({})", e.message, e.code)
}

async fn checks(ctx: &Ctx, company: i64, tenant: &Value) -> Vec<Check> {
    let t = ctx.lang().texts();
    let params = json!({"company_id": company});
    let calcom = match ctx.rpc.call("calcom.testConnection", params.clone()).await {
        Ok(found) => (
            true,
            text(&found, &["user", "username"]).unwrap_or("").to_owned(),
        ),
        Err(e) => (false, failure(&e)),
    };
    let retell = match ctx.rpc.call("retell.testConnection", params.clone()).await {
        Ok(found) => {
            let ok = found.get("key_valid") == Some(&Value::Bool(true))
                && found.get("agent_found") != Some(&Value::Bool(false));
            (ok, text(&found, &["agent_id"]).unwrap_or("").to_owned())
        }
        Err(e) => (false, failure(&e)),
    };
    let branches = tenant
        .get("branches")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let without: Vec<&str> = branches
        .iter()
        .filter(|b| {
            b.get("phone_numbers")
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty)
        })
        .filter_map(|b| text(b, &["slug"]))
        .collect();
    let numbers: usize = branches
        .iter()
        .filter_map(|b| b.get("phone_numbers").and_then(Value::as_array))
        .map(Vec::len)
        .sum();
    let numbers = (
        !branches.is_empty() && without.is_empty(),
        if without.is_empty() {
            numbers.to_string()
        } else {
            without.join(", ")
        },
    );
    let services: Vec<&str> = tenant
        .get("services")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| text(s, &["name"]))
        .collect();
    let services = match ctx.rpc.call("calcom.getEventTypes", params).await {
        Ok(found) => {
            let mapped: BTreeSet<&str> = found
                .get("event_types")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|e| text(e, &["service"]))
                .collect();
            let unmapped: Vec<&str> = services
                .iter()
                .copied()
                .filter(|s| !mapped.contains(s))
                .collect();
            (
                !services.is_empty() && unmapped.is_empty(),
                if unmapped.is_empty() {
                    services.len().to_string()
                } else {
                    unmapped.join(", ")
                },
            )
        }
        Err(e) => (false, failure(&e)),
    };
    [
        ("calcom", t.check_calcom, calcom),
        ("retell", t.check_retell, retell),
        ("numbers", t.check_numbers, numbers),
        ("services", t.check_services, services),
    ]
    .into_iter()
    .map(|(key, label, (ok, detail))| Check {
        key,
        label,
        ok,
        detail,
    })
    .collect()
}

fn check_list(ctx: &Ctx, checks: &[Check]) -> Markup {
    let t = ctx.lang().texts();
    html! {
        section {
            h2 { (t.config_check) }
            ul #config-check {
                @for c in checks {
                    li data-check=(c.key) data-ok=(c.ok) class=(if c.ok { "ok" } else { "not-ok" }) {
                        strong { (c.label) } ": " (if c.ok { t.ok } else { t.not_ok })
                        @if !c.detail.is_empty() { " — " span.detail { (c.detail) } }
                    }
                }
            }
        }
    }
}

/// `GET /admin/tenants/{slug}`.
pub async fn detail(
    req: HttpRequest,
    state: web::Data<AdminState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let ctx = Ctx::load(&req, &state).await?;
    let slug = path.into_inner();
    let company = ctx
        .companies
        .iter()
        .find(|c| plausible_id(&slug) && c.slug == slug)
        .cloned()
        .ok_or(AdminError::NotFound(ctx.lang()))?;
    let t = ctx.lang().texts();
    let found = ctx
        .call("company.get", json!({"company_id": company.id}))
        .await?;
    let tenant = found.get("tenant").cloned().unwrap_or(Value::Null);
    let checks = checks(&ctx, company.id, &tenant).await;
    let body = html! {
        dl.facts {
            dt { "Slug" } dd { code { (company.slug) } }
            dt { (t.time_zone) } dd { (company.zone.name()) }
            dt { (t.language) } dd { (company.lang.code()) }
        }
        (check_list(&ctx, &checks))
    };
    Ok(ctx.html(&company.name, body))
}
