//! MCP resources: what an assistant reads to know a company before it acts
//! (`switchboard://companies/{slug}/…`), read through the same methods the tools call, so a
//! company token reads only its own company, within its scope and rate limits.
//!
//! | URI | read through | shows |
//! |---|---|---|
//! | `…/{slug}/configuration` | `company.list`, `company.get` | name, time zone, branches and their numbers, services and their Cal.com event types, Retell agent, which credentials are set (never a secret) |
//! | `…/{slug}/calls/today` | `webhook.listCalls` | the calls that started today, midnight to midnight in the company's time zone, with their booking state |
//! | `…/{slug}/dead-letters` | `queue.getFailedJobs` | the company's failed booking jobs with reason and attempts |
//!
//! Every resource is one JSON text (`application/json`). A URI that is malformed, too long,
//! of an unknown path or company, or of a company the token may not see is one and the same
//! [`ResourceError::NotFound`], so another company's slugs cannot be probed.

use super::handler::Dispatcher;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use rmcp::model::{CacheScope, ReadResourceResult, Resource, ResourceContents, ResourceTemplate};
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_actors::domain::ids::CompanyId;
use switchboard_actors::domain::onboarding::{RawTenant, Slug};
use switchboard_actors::domain::tenant::CompanyProfile;
use switchboard_actors::domain::text::excerpt;
use switchboard_actors::jsonrpc::{ErrorCode, RpcError};

/// Scheme and path up to the slug of every resource URI.
pub const URI_PREFIX: &str = "switchboard://companies/";

/// Longest URI looked at, bytes: the prefix, a slug of at most 63 characters and the longest
/// path, with room to spare; anything longer is not found without being parsed.
pub const MAX_URI_LEN: usize = 256;

/// Most companies `resources/list` shows an admin token (three resources each); the others
/// are still readable by URI (`resources/templates/list`).
pub const MAX_LISTED_COMPANIES: usize = 100;

/// Most calls `calls/today` shows (`webhook.listCalls`' largest page); `truncated` says more
/// were made.
const MAX_TODAY_CALLS: u32 = 200;

/// Most dead letters `dead-letters` shows (newest first); `truncated` says more are left.
const MAX_DEAD_LETTERS: u32 = 100;

const JSON: &str = "application/json";

/// Why a resource could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    /// No such resource, or one of a company this token may not see (one answer for both,
    /// so another company's slugs cannot be probed). MCP `-32002`-style "resource not found".
    #[error("resource not found: {0}")]
    NotFound(String),
    /// The method behind the resource refused or failed.
    #[error(transparent)]
    Method(#[from] RpcError),
}

/// The three kinds of company resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `configuration`.
    Configuration,
    /// `calls/today`.
    CallsToday,
    /// `dead-letters`.
    DeadLetters,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Configuration, Kind::CallsToday, Kind::DeadLetters];

    /// The path after the slug.
    pub fn path(self) -> &'static str {
        match self {
            Self::Configuration => "configuration",
            Self::CallsToday => "calls/today",
            Self::DeadLetters => "dead-letters",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Self::Configuration => "configuration",
            Self::CallsToday => "today's calls",
            Self::DeadLetters => "failed bookings (dead letters)",
        }
    }

    /// What the resource holds, for an LLM choosing what to read.
    fn description(self) -> &'static str {
        match self {
            Self::Configuration => {
                "The company as an assistant needs it before acting: company_id (pass it as \
                 `company_id` to tools when using an admin token), name, slug, locale, IANA time \
                 zone (every local date and time of the company is in it), whether it is \
                 enabled, booking policy, branches with their phone numbers (E.164) and opening \
                 hours, services with duration and Cal.com event type, the Retell agent id, and \
                 which credentials are set (true/false; secrets are never shown)."
            }
            Self::CallsToday => {
                "The company's phone calls that started today (midnight to midnight in its time \
                 zone), oldest first: call_id, start (UTC and local), caller number, status, \
                 duration, and the booking state as our store knows it: `booked` (with the \
                 appointment), `pending`, `failed` (a dead letter, with the reason), `cancelled` \
                 or `none` (no booking was asked for). Counts per state come first."
            }
            Self::DeadLetters => {
                "The company's failed booking jobs (dead letters), newest first: job id, call \
                 id, attempts, the last error (why it failed), when it failed (UTC) and what it \
                 was to book (service, start, attendee name). Retry one with the tool \
                 queue_retryJob (job_id) after the user agrees; the prompt \
                 triage_failed_bookings walks through it."
            }
        }
    }
}

/// A parsed resource URI: `switchboard://companies/{slug}/{kind}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompanyUri {
    /// The company's slug (a valid [`Slug`]).
    pub slug: String,
    /// Which resource.
    pub kind: Kind,
}

impl CompanyUri {
    /// Parses `uri`; `None` for anything but exactly one of the three paths under a valid
    /// slug (no query, fragment, percent-encoding or trailing slash), or longer than
    /// [`MAX_URI_LEN`] bytes.
    pub fn parse(uri: &str) -> Option<Self> {
        if uri.len() > MAX_URI_LEN {
            return None;
        }
        let (slug, path) = uri.strip_prefix(URI_PREFIX)?.split_once('/')?;
        let kind = Kind::ALL.into_iter().find(|k| k.path() == path)?;
        Slug::parse(slug).ok()?;
        Some(Self {
            slug: slug.to_owned(),
            kind,
        })
    }

    /// The URI.
    pub fn uri(&self) -> String {
        uri(&self.slug, self.kind)
    }
}

fn uri(slug: &str, kind: Kind) -> String {
    format!("{URI_PREFIX}{slug}/{}", kind.path())
}

/// One line of `company.list` (`TenantSummary`): what resolving a slug needs.
#[derive(Debug, Clone, Deserialize)]
pub struct Company {
    /// `companies.id`.
    pub id: CompanyId,
    /// Stable id, e.g. `demo-salon-berlin`.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// IANA zone, e.g. `Europe/Berlin`.
    pub time_zone: String,
}

impl Company {
    /// The company's zone; UTC if the stored name is not one chrono-tz knows (it was
    /// validated when written, so only a newer tz database could make that happen).
    pub fn zone(&self) -> Tz {
        self.time_zone.parse().unwrap_or(Tz::UTC)
    }
}

#[derive(Deserialize)]
struct CompanyList {
    companies: Vec<Company>,
}

/// The companies `d`'s grant may see (`company.list`), by slug; empty for a token that may
/// not list companies.
///
/// # Errors
/// The method's error, other than "forbidden".
pub async fn companies(d: &Dispatcher) -> Result<Vec<Company>, RpcError> {
    let data = match d.call("company.list", json!({})).await {
        Ok(data) => data,
        Err(e) if e.code == ErrorCode::Forbidden.code() => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut list: CompanyList = serde_json::from_value(data)
        .map_err(|e| RpcError::internal(format!("company.list answered an odd shape: {e}")))?;
    list.companies.sort_by(|a, b| a.slug.cmp(&b.slug));
    Ok(list.companies)
}

/// The company with `slug` if `d`'s grant may see it (a token of no company: any; a company
/// token: its own); `None` for an unknown company and for one the grant may not see alike.
/// One indexed lookup by slug, where listing the companies would read every one of them for an
/// operators' token; the methods behind a resource check the grant again.
///
/// # Errors
/// -32603 when the store failed.
pub async fn company(d: &Dispatcher, slug: &str) -> Result<Option<Company>, RpcError> {
    let profile = d
        .store
        .company_by_slug(slug)
        .await
        .map_err(|e| RpcError::internal(format!("company lookup failed: {e}")))?;
    Ok(profile
        .filter(|p| d.grant().company_id.is_none_or(|own| own == p.id))
        .map(Company::from))
}

impl From<CompanyProfile> for Company {
    fn from(p: CompanyProfile) -> Self {
        Self {
            id: p.id,
            slug: p.slug,
            name: p.name,
            time_zone: p.time_zone.name().to_owned(),
        }
    }
}

/// The resources `d`'s grant may read: the three of each company it may see, at most
/// [`MAX_LISTED_COMPANIES`] companies (by slug).
///
/// # Errors
/// [`ResourceError::Method`] when listing the companies failed.
pub async fn list(d: &Dispatcher) -> Result<Vec<Resource>, ResourceError> {
    let companies = companies(d).await?;
    Ok(companies
        .iter()
        .take(MAX_LISTED_COMPANIES)
        .flat_map(|c| {
            Kind::ALL.into_iter().map(move |kind| {
                Resource::new(uri(&c.slug, kind), format!("{}/{}", c.slug, kind.path()))
                    .with_title(format!("{}: {}", c.name, kind.title()))
                    .with_description(kind.description())
                    .with_mime_type(JSON)
            })
        })
        .collect())
}

/// The URI templates (`resources/templates/list`), one per kind.
pub fn templates() -> Vec<ResourceTemplate> {
    Kind::ALL
        .into_iter()
        .map(|kind| {
            ResourceTemplate::new(
                format!("{URI_PREFIX}{{slug}}/{}", kind.path()),
                kind.path().replace('/', "-"),
            )
            .with_title(format!("A company's {}", kind.title()))
            .with_description(format!(
                "{} `slug` is the company's slug (resources/list shows the ones this token may \
                 read).",
                kind.description()
            ))
            .with_mime_type(JSON)
        })
        .collect()
}

/// Reads `uri` for `d`'s grant.
///
/// # Errors
/// [`ResourceError::NotFound`] for a malformed or unknown URI or another company's;
/// [`ResourceError::Method`] when a method behind it failed (e.g. -32003 rate limited).
pub async fn read(d: &Dispatcher, uri: &str) -> Result<ReadResourceResult, ResourceError> {
    let not_found = || ResourceError::NotFound(excerpt(uri, 200));
    let parsed = CompanyUri::parse(uri).ok_or_else(not_found)?;
    let company = company(d, &parsed.slug).await?.ok_or_else(not_found)?;
    let body = match parsed.kind {
        Kind::Configuration => configuration(d, &company).await,
        Kind::CallsToday => calls_today(d, &company, Utc::now()).await,
        Kind::DeadLetters => dead_letters(d, &company).await,
    }
    .map_err(|e| {
        // The company may have been disabled or its token narrowed since it was listed.
        if e.code == ErrorCode::Forbidden.code() {
            not_found()
        } else {
            ResourceError::Method(e)
        }
    })?;
    let text = serde_json::to_string_pretty(&body)
        .map_err(|e| RpcError::internal(format!("resource did not serialise: {e}")))?;
    Ok(ReadResourceResult::new(vec![
        ResourceContents::text(text, parsed.uri()).with_mime_type(JSON),
    ])
    // A token's own view of live data: nobody else's cache, and stale at once.
    .with_cache_scope(CacheScope::Private)
    .with_ttl_ms(0))
}

/// `company.get`'s `result.data`, the parts the configuration shows.
#[derive(Deserialize)]
struct CompanyView {
    company_id: CompanyId,
    tenant: RawTenant,
    credentials: Credentials,
    disabled_at: Option<DateTime<Utc>>,
}

/// `company.get`'s `credentials`: the fingerprint of each one set.
#[derive(Deserialize)]
struct Credentials {
    retell_api_key: Option<String>,
    calcom_api_key: Option<String>,
    calcom_webhook_secret: Option<String>,
    #[serde(default)]
    sms_auth_token: Option<String>,
}

/// The configuration resource: the tenant as declared, with each credential as "set or
/// not" instead of its fingerprint.
async fn configuration(d: &Dispatcher, company: &Company) -> Result<Value, RpcError> {
    let data = d
        .call("company.get", json!({ "company_id": company.id }))
        .await?;
    let view: CompanyView = serde_json::from_value(data)
        .map_err(|e| RpcError::internal(format!("company.get answered an odd shape: {e}")))?;
    let t = view.tenant;
    let c = view.credentials;
    Ok(json!({
        "company_id": view.company_id,
        "slug": t.slug,
        "name": t.name,
        "locale": t.locale,
        "time_zone": t.time_zone,
        "enabled": view.disabled_at.is_none(),
        "disabled_at": view.disabled_at,
        "policy": {
            "change_notice_h": t.policy.change_notice_h,
            "booking_horizon_days": t.policy.booking_horizon_days,
        },
        "branches": t.branches,
        "services": t.services,
        "retell": {
            "agent_id": t.retell.agent_id,
            "api_key_set": c.retell_api_key.is_some(),
        },
        "calcom": {
            "base_url": t.calcom.base_url,
            "team_id": t.calcom.team_id,
            "api_key_set": c.calcom_api_key.is_some(),
            "webhook_secret_set": c.calcom_webhook_secret.is_some(),
        },
        "sms": t.sms.map(|sms| json!({
            "from": sms.from,
            "auth_token_set": c.sms_auth_token.is_some(),
        })),
    }))
}

/// The UTC instants of midnight starting `day` and the next day in `zone` (on a day that
/// begins in a DST gap, the first instant that exists).
pub fn day_bounds(day: NaiveDate, zone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = |d: NaiveDate| {
        let midnight = d.and_time(NaiveTime::MIN);
        // A zone may skip midnight (a DST gap of at most an hour or two in practice): the day
        // then starts at the first local minute that exists.
        (0..=180)
            .find_map(|m| {
                (midnight + Duration::minutes(m))
                    .and_local_timezone(zone)
                    .earliest()
            })
            .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))
    };
    (start(day), start(day.succ_opt().unwrap_or(day)))
}

/// The local day of `now` in `company`'s zone.
pub fn today(company: &Company, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&company.zone()).date_naive()
}

/// A call's booking state from its record (`webhook.getCall`'s shape).
fn booking_state(call: &Value) -> &'static str {
    if let Some(appointment) = call.get("appointment").filter(|a| !a.is_null()) {
        return if appointment["status"] == "cancelled" {
            "cancelled"
        } else {
            "booked"
        };
    }
    match call
        .get("booking_job")
        .and_then(|j| j.get("status"))
        .and_then(Value::as_str)
    {
        Some("failed") => "failed",
        Some("done") => "booked",
        Some(_) => "pending",
        None => "none",
    }
}

fn local(value: &Value, zone: Tz) -> Value {
    value
        .as_str()
        .and_then(|s| s.parse::<DateTime<Utc>>().ok())
        .map_or(Value::Null, |t| {
            json!(
                t.with_timezone(&zone)
                    .format("%Y-%m-%d %H:%M:%S %:z")
                    .to_string()
            )
        })
}

/// The calls/today resource.
async fn calls_today(
    d: &Dispatcher,
    company: &Company,
    now: DateTime<Utc>,
) -> Result<Value, RpcError> {
    let zone = company.zone();
    let day = today(company, now);
    let (since, until) = day_bounds(day, zone);
    let data = d
        .call(
            "webhook.listCalls",
            json!({ "company_id": company.id, "since": since, "until": until,
                    "limit": MAX_TODAY_CALLS }),
        )
        .await?;
    let mut counts = serde_json::Map::new();
    for state in ["booked", "pending", "failed", "cancelled", "none"] {
        counts.insert(state.to_owned(), json!(0));
    }
    let calls: Vec<Value> = data["calls"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|call| {
            let state = booking_state(call);
            if let Some(n) = counts.get_mut(state) {
                *n = json!(n.as_u64().unwrap_or(0) + 1);
            }
            let job = &call["booking_job"];
            let appointment = &call["appointment"];
            json!({
                "call_id": call["call_id"],
                "status": call["status"],
                "started_at": call["started_at"],
                "started_local": local(&call["started_at"], zone),
                "from_number": call["from_number"],
                "to_number": call["to_number"],
                "duration_ms": call["duration_ms"],
                "disconnection_reason": call["disconnection_reason"],
                "summary": call["summary"],
                "booking": state,
                "booking_job": if job.is_null() { Value::Null } else { json!({
                    "job_id": job["id"],
                    "status": job["status"],
                    "attempts": job["attempts"],
                    "max_attempts": job["max_attempts"],
                    "last_error": job["last_error"],
                })},
                "appointment": if appointment.is_null() { Value::Null } else { json!({
                    "booking_uid": appointment["booking_uid"],
                    "service": appointment["service_name"],
                    "start": appointment["start"],
                    "start_local": local(&appointment["start"], zone),
                    "status": appointment["status"],
                })},
            })
        })
        .collect();
    Ok(json!({
        "company_id": company.id,
        "slug": company.slug,
        "date": day,
        "time_zone": company.time_zone,
        "since": since,
        "until": until,
        "total": calls.len(),
        "by_booking": counts,
        "truncated": data["truncated"],
        "calls": calls,
    }))
}

/// The dead-letters resource.
async fn dead_letters(d: &Dispatcher, company: &Company) -> Result<Value, RpcError> {
    let data = d
        .call(
            "queue.getFailedJobs",
            json!({ "company_id": company.id, "limit": MAX_DEAD_LETTERS }),
        )
        .await?;
    let jobs = data["jobs"].as_array().cloned().unwrap_or_default();
    Ok(json!({
        "company_id": company.id,
        "slug": company.slug,
        "time_zone": company.time_zone,
        "total": jobs.len(),
        "truncated": !data["next_before_id"].is_null(),
        "jobs": jobs,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_three_paths_of_a_valid_slug_parse() {
        for kind in Kind::ALL {
            let uri = uri("demo-salon-berlin", kind);
            assert_eq!(
                CompanyUri::parse(&uri),
                Some(CompanyUri {
                    slug: "demo-salon-berlin".into(),
                    kind
                })
            );
            assert_eq!(CompanyUri::parse(&uri).unwrap().uri(), uri);
        }
    }

    #[test]
    fn malformed_or_unknown_uris_do_not_parse() {
        for uri in [
            "",
            "switchboard://companies/",
            "switchboard://companies/demo",
            "switchboard://companies/demo/",
            "switchboard://companies/demo/configuration/",
            "switchboard://companies/demo/configuration?x=1",
            "switchboard://companies/demo/configuration#top",
            "switchboard://companies/demo/calls",
            "switchboard://companies/demo/calls/yesterday",
            "switchboard://companies/demo/secrets",
            "switchboard://companies/Demo/configuration",
            "switchboard://companies/de%6Do/configuration",
            "switchboard://companies/-demo/configuration",
            "switchboard://companies/de--mo/configuration",
            "switchboard://companies/../configuration",
            "switchboard://companies/démo/configuration",
            "SWITCHBOARD://companies/demo/configuration",
            "switchboard://tenants/demo/configuration",
            "file:///etc/passwd",
            "switchboard://companies/demo/dead-letters\0",
        ] {
            assert_eq!(CompanyUri::parse(uri), None, "{uri:?}");
        }
    }

    #[test]
    fn an_overlong_uri_is_refused_before_it_is_parsed() {
        let slug = "a".repeat(MAX_URI_LEN);
        assert_eq!(CompanyUri::parse(&uri(&slug, Kind::Configuration)), None);
    }

    #[test]
    fn hostile_uris_never_panic() {
        let pieces = [
            "switchboard://companies/",
            "demo",
            "/",
            "%",
            "%2F",
            "%ff",
            "é",
            "\u{202e}",
            "\u{10ffff}",
            "\0",
            "calls/today",
            "configuration",
            "dead-letters",
            "?",
            "#",
            "..",
            "-",
        ];
        // Every sequence of up to three pieces, then each grown to 100 KB.
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let uri = format!("{a}{b}{c}");
                    let _ = CompanyUri::parse(&uri);
                    let _ = CompanyUri::parse(&uri.repeat(100_000 / uri.len().max(1)));
                }
            }
        }
    }

    #[test]
    fn templates_are_the_three_fixed_uris() {
        let names: Vec<String> = templates().into_iter().map(|t| t.uri_template).collect();
        assert_eq!(
            names,
            [
                "switchboard://companies/{slug}/configuration",
                "switchboard://companies/{slug}/calls/today",
                "switchboard://companies/{slug}/dead-letters",
            ]
        );
    }

    fn company(zone: &str) -> Company {
        Company {
            id: CompanyId(1),
            slug: "demo".into(),
            name: "Demo".into(),
            time_zone: zone.into(),
        }
    }

    #[test]
    fn today_is_the_local_day_of_the_company() {
        // 23:30 UTC on 1 March is already 2 March in Berlin (UTC+1).
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 23, 30, 0).unwrap();
        assert_eq!(
            today(&company("Europe/Berlin"), now),
            NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()
        );
        assert_eq!(
            today(&company("America/New_York"), now),
            NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
        );
    }

    #[test]
    fn a_day_runs_midnight_to_midnight_local_even_across_dst() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // 29 March 2026: clocks go 02:00 → 03:00, so the day has 23 hours.
        let (since, until) = day_bounds(NaiveDate::from_ymd_opt(2026, 3, 29).unwrap(), berlin);
        assert_eq!(since, Utc.with_ymd_and_hms(2026, 3, 28, 23, 0, 0).unwrap());
        assert_eq!(until, Utc.with_ymd_and_hms(2026, 3, 29, 22, 0, 0).unwrap());
        // Santiago skips midnight itself (00:00 → 01:00 on 6 September 2026).
        let santiago: Tz = "America/Santiago".parse().unwrap();
        let (since, _) = day_bounds(NaiveDate::from_ymd_opt(2026, 9, 6).unwrap(), santiago);
        assert_eq!(since, Utc.with_ymd_and_hms(2026, 9, 6, 4, 0, 0).unwrap());
    }

    #[test]
    fn booking_state_follows_appointment_then_job() {
        assert_eq!(booking_state(&json!({})), "none");
        assert_eq!(
            booking_state(&json!({"booking_job": {"status": "failed"}})),
            "failed"
        );
        assert_eq!(
            booking_state(&json!({"booking_job": {"status": "pending"}})),
            "pending"
        );
        assert_eq!(
            booking_state(&json!({"booking_job": {"status": "done"},
                "appointment": {"status": "scheduled"}})),
            "booked"
        );
        assert_eq!(
            booking_state(&json!({"appointment": {"status": "cancelled"}})),
            "cancelled"
        );
    }
}
