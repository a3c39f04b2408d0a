//! The operators' dashboard at `/admin` (issue 15, DESIGN §4): server-rendered HTML (maud) for
//! practice staff and platform operators, with htmx only as progressive enhancement (the live
//! refresh of today's calls); every page and form works without JavaScript.
//!
//! Every page reads through the JSON-RPC methods with the session's token grant, exactly as
//! `/mcp` does ([`Dispatcher`]), so scope checks, tenant isolation, rate limits and metrics
//! are the gateway's; a company token never sees another company's rows, and a direct URL to
//! one answers 404.
//!
//! # Layout
//! - `mod.rs` — the mount (routes under `/admin`), the security headers of every response,
//!   the page context ([`Page`], [`Ctx`]) and [`AdminError`] (one enum, one place where it
//!   becomes a response).
//! - `session.rs` — sign-in, the `sb_admin` cookie, CSRF, failed sign-in limit.
//! - `i18n.rs` — German and English strings, date and time formats.
//! - `layout.rs` — the page frame (navigation, language links, sign-out) and the sign-in page.
//! - `pages/` — one file per page.
//! - `static/` — htmx (vendored, 0BSD) and the style sheet, compiled into the binary.
//!
//! # URL and markup contract
//! The element ids and classes the browser tests rely on are listed in the README section
//! "Operators' dashboard"; they are part of the interface.

mod i18n;
mod layout;
mod pages;
mod session;

use crate::config::AdminSettings;
use crate::http::AppState;
use crate::mcp::handler::Dispatcher;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use chrono_tz::Tz;
use i18n::Lang;
use maud::Markup;
use serde_json::{Value, json};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use switchboard_actors::jsonrpc::RpcError;
use switchboard_actors::ports::StoreError;

/// `Content-Security-Policy` of every `/admin` response: scripts and styles only from our own
/// files (no inline code, so no `unsafe-inline`), nothing framed, forms posted only to us.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
    base-uri 'none'";

/// htmx 2 (npm `htmx.org`, `dist/htmx.min.js`, 0BSD), served as `/admin/static/htmx.min.js`.
const HTMX_JS: &[u8] = include_bytes!("static/htmx.min.js");
/// The one style sheet, served as `/admin/static/admin.css`.
const ADMIN_CSS: &str = include_str!("static/admin.css");

/// Most companies a page of every company reads one by one (appointments, tenants' checks).
const MAX_COMPANIES: usize = 50;

/// What the dashboard's handlers share.
pub(crate) struct AdminState {
    /// The HTTP surface's state: store, core actors (the router), clock.
    app: AppState,
    /// Idle lifetime of a session (`admin.session_ttl_s`).
    session_ttl: Duration,
    /// `admin.max_sessions_per_token`.
    max_sessions_per_token: u32,
    /// `admin.max_failed_sign_ins_per_minute`.
    max_failures: u32,
    /// Failed sign-ins per client address within the last minute; at most
    /// `admin.max_tracked_addresses` entries, so a flood of addresses cannot grow it.
    failures: moka::future::Cache<IpAddr, u32>,
    /// `admin.calcom_web_url`, without a trailing slash.
    calcom_web_url: String,
}

impl AdminState {
    fn session_ttl_delta(&self) -> chrono::TimeDelta {
        chrono::TimeDelta::from_std(self.session_ttl).unwrap_or(chrono::TimeDelta::hours(8))
    }
}

/// The dashboard's routes under `/admin`, sharing `app` (the HTTP surface's state); nothing is
/// mounted when `settings.enabled` is false.
pub fn configure(cfg: &mut web::ServiceConfig, app: &AppState, settings: &AdminSettings) {
    if !settings.enabled {
        return;
    }
    let state = web::Data::new(AdminState {
        app: app.clone(),
        session_ttl: Duration::from_secs(settings.session_ttl_s),
        max_sessions_per_token: settings.max_sessions_per_token,
        max_failures: settings.max_failed_sign_ins_per_minute,
        failures: moka::future::Cache::builder()
            .max_capacity(settings.max_tracked_addresses)
            .time_to_live(Duration::from_secs(60))
            .build(),
        calcom_web_url: settings.calcom_web_url.trim_end_matches('/').to_owned(),
    });
    cfg.service(
        web::scope("/admin")
            .app_data(state)
            .wrap(from_fn(security_headers))
            .route("", web::get().to(|| async { see_other("/admin/") }))
            .route("/static/htmx.min.js", web::get().to(htmx))
            .route("/static/admin.css", web::get().to(css))
            .route("/login", web::get().to(session::login_form))
            .route("/login", web::post().to(session::login))
            .route("/logout", web::post().to(session::logout))
            .route("/", web::get().to(pages::today::page))
            .route("/calls-table", web::get().to(pages::today::fragment))
            .route("/calls/{call_id}", web::get().to(pages::call::page))
            .route("/appointments", web::get().to(pages::appointments::page))
            .route("/dead-letters", web::get().to(pages::dead_letters::page))
            .route(
                "/dead-letters/{job_id}/retry",
                web::post().to(pages::dead_letters::retry),
            )
            .route("/health", web::get().to(pages::health::page))
            .route("/tenants", web::get().to(pages::tenants::list))
            .route("/tenants/{slug}", web::get().to(pages::tenants::detail))
            .route("/stats", web::get().to(pages::stats::page))
            .default_service(web::to(not_found)),
    );
}

async fn htmx() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(HTMX_JS)
}

async fn css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(ADMIN_CSS)
}

async fn not_found(req: HttpRequest) -> HttpResponse {
    AdminError::NotFound(Lang::of(&req, Lang::De)).error_response()
}

/// Adds the security headers to every `/admin` response (pages, errors, static files), and
/// remembers a language chosen with `?lang=` in the `sb_lang` cookie.
async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let chosen = i18n::query_lang(req.request());
    let is_static = req.path().starts_with("/admin/static/");
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !is_static {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if let Some(lang) = chosen {
        let cookie = session::admin_cookie(i18n::LANG_COOKIE, lang.code().to_owned())
            .max_age(actix_web::cookie::time::Duration::days(365))
            .finish();
        if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
            headers.append(header::SET_COOKIE, value);
        }
    }
    Ok(res)
}

/// The value of query parameter `key` of `req` (first occurrence, percent-decoded by the
/// `url` crate's `application/x-www-form-urlencoded` parser); callers parse it into their own
/// type, so no value is used unchecked.
fn query_param(req: &HttpRequest, key: &str) -> Option<String> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, value)| value.into_owned())
}

/// 303 See Other to `location` (after a POST, and for signed-out requests).
fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// An HTML response.
fn html(status: StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(markup.into_string())
}

/// Why a dashboard request was not answered with its page.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AdminError {
    /// No live session: 303 to `/admin/login`.
    #[error("not signed in")]
    SignedOut,
    /// A POST without the session's CSRF token or from another site, or a control the token
    /// may not use: 403, nothing done.
    #[error("forbidden")]
    Forbidden(Lang),
    /// Unknown, malformed or another company's id in the URL: 404, told apart from nothing.
    #[error("not found")]
    NotFound(Lang),
    /// The store or a method failed (the cause is logged, never shown): 503.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        Self::Unavailable(e.to_string())
    }
}

impl AdminError {
    /// A method's refusal as the dashboard answers it: another tenant's or an unknown row is
    /// 404 (the same answer, so ids cannot be probed), a scope refusal 403, the rest 503.
    fn from_rpc(lang: Lang, e: &RpcError) -> Self {
        let kind = e
            .data
            .as_ref()
            .and_then(|d| d.get("type"))
            .and_then(Value::as_str);
        match (e.code, kind) {
            (-32602, Some("not_found")) | (-32002, _) | (3001, _) => Self::NotFound(lang),
            (-32001, _) => Self::Forbidden(lang),
            _ => Self::Unavailable(format!("{} ({})", e.message, e.code)),
        }
    }
}

impl ResponseError for AdminError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::SignedOut => StatusCode::SEE_OTHER,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        match self {
            Self::SignedOut => see_other("/admin/login"),
            Self::Forbidden(lang) => html(
                self.status_code(),
                layout::error(*lang, lang.texts().forbidden),
            ),
            Self::NotFound(lang) => html(
                self.status_code(),
                layout::error(*lang, lang.texts().not_found),
            ),
            Self::Unavailable(cause) => {
                tracing::error!(%cause, "dashboard page unavailable");
                html(
                    self.status_code(),
                    layout::error(Lang::De, Lang::De.texts().unavailable),
                )
            }
        }
    }
}

/// A company the session may see (from `company.list`).
#[derive(Clone, Debug)]
struct Company {
    id: i64,
    slug: String,
    name: String,
    zone: Tz,
    lang: Lang,
}

impl Company {
    fn from_json(v: &Value) -> Option<Self> {
        Some(Self {
            id: v.get("id")?.as_i64()?,
            slug: v.get("slug")?.as_str()?.to_owned(),
            name: v.get("name")?.as_str()?.to_owned(),
            zone: v
                .get("time_zone")
                .and_then(Value::as_str)
                .and_then(|z| z.parse().ok())
                .unwrap_or(chrono_tz::Europe::Berlin),
            lang: v
                .get("locale")
                .and_then(Value::as_str)
                .and_then(Lang::parse)
                .unwrap_or(Lang::De),
        })
    }
}

/// What the page frame needs: language, who is signed in, the CSRF token of its forms.
pub(crate) struct Page {
    lang: Lang,
    /// The request path (for the language links).
    path: String,
    /// `None` on the sign-in page.
    who: Option<Who>,
}

struct Who {
    /// The token's company name, or `admin`.
    name: String,
    csrf: String,
}

impl Page {
    /// The frame of the sign-in page: the language from the request, German by default.
    fn signed_out(req: &HttpRequest) -> Self {
        Self {
            lang: Lang::of(req, Lang::De),
            path: req.path().to_owned(),
            who: None,
        }
    }
}

/// A signed-in request: its page frame, a dispatcher with the session's grant, and the
/// companies the grant may see.
struct Ctx {
    page: Page,
    rpc: Dispatcher,
    companies: Vec<Company>,
    /// The session's CSRF token, for checking a POST.
    session: session::Session,
}

impl Ctx {
    /// The signed-in context of `req` (see [`session::require`]).
    async fn load(req: &HttpRequest, state: &AdminState) -> Result<Self, AdminError> {
        let session = session::require(req, state).await?;
        let rpc = Dispatcher::new(
            state.app.core.router.clone(),
            session.grant.clone(),
            Arc::clone(&state.app.store),
        );
        let fallback = Lang::of(req, Lang::De);
        let listed = rpc
            .call("company.list", json!({}))
            .await
            .map_err(|e| AdminError::from_rpc(fallback, &e))?;
        let companies: Vec<Company> = listed
            .get("companies")
            .and_then(Value::as_array)
            .map(|list| list.iter().filter_map(Company::from_json).collect())
            .unwrap_or_default();
        let own = session
            .grant
            .company_id
            .and_then(|id| companies.iter().find(|c| c.id == id.0));
        let lang = Lang::of(req, own.map_or(Lang::De, |c| c.lang));
        let who = Who {
            name: own.map_or_else(|| "admin".to_owned(), |c| c.name.clone()),
            csrf: session.csrf.clone(),
        };
        Ok(Self {
            page: Page {
                lang,
                path: req.path().to_owned(),
                who: Some(who),
            },
            rpc,
            companies,
            session,
        })
    }

    fn lang(&self) -> Lang {
        self.page.lang
    }

    fn is_admin(&self) -> bool {
        self.session.grant.company_id.is_none()
    }

    /// Calls `method`; a refusal becomes the page's error.
    async fn call(&self, method: &str, params: Value) -> Result<Value, AdminError> {
        self.rpc
            .call(method, params)
            .await
            .map_err(|e| AdminError::from_rpc(self.lang(), &e))
    }

    fn company(&self, id: i64) -> Option<&Company> {
        self.companies.iter().find(|c| c.id == id)
    }

    /// The company `?company=slug` names among those the session may see: `Ok(None)` without
    /// the parameter, 404 for a slug it may not see.
    fn chosen_company(&self, req: &HttpRequest) -> Result<Option<&Company>, AdminError> {
        let slug = query_param(req, "company");
        match slug.as_deref() {
            None | Some("") => Ok(None),
            Some(slug) => self
                .companies
                .iter()
                .find(|c| c.slug == slug)
                .map(Some)
                .ok_or(AdminError::NotFound(self.lang())),
        }
    }

    /// The companies a page covers: the one chosen with `?company=`, the token's own, or
    /// (operators' token) every company, at most [`MAX_COMPANIES`].
    fn scope<'a>(&'a self, chosen: Option<&'a Company>) -> Vec<&'a Company> {
        match chosen {
            Some(c) => vec![c],
            None => self.companies.iter().take(MAX_COMPANIES).collect(),
        }
    }

    fn html(&self, title: &str, body: Markup) -> HttpResponse {
        html(StatusCode::OK, layout::frame(&self.page, title, body))
    }
}
