//! The Messages API as Twilio serves it (twilio-oai `spec/json/twilio_api_v2010.json`):
//! create, list and fetch under `/2010-04-01/Accounts/{AccountSid}/`, HTTP basic auth, and
//! Twilio's error body. Faults apply to `POST …/Messages.json` only.

use super::Shared;
use crate::notify::wire::{API_VERSION, ErrorBody, MAX_BODY_CHARS, MessagePage, MessageResource};
use crate::sim::faults::{Action, ErrorStatus, RequestKind};
use actix_web::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use switchboard_actors::domain::phone::PhoneNumber;
use tokio::time::Instant;

/// Default and largest `PageSize` of a list, as Twilio's (50, at most 1000).
const DEFAULT_PAGE_SIZE: usize = 50;
const MAX_PAGE_SIZE: usize = 1000;

/// The GSM 03.38 basic alphabet: a body of these takes 160 characters per segment (153 when
/// split); any other character makes it UCS-2 (70, or 67 when split).
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
    ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// Mounts the three routes.
pub(super) fn mount(cfg: &mut web::ServiceConfig, shared: web::Data<Shared>) {
    let base = format!("/{API_VERSION}/Accounts/{{sid}}");
    cfg.service(
        web::resource(format!("{base}/Messages.json"))
            .app_data(shared.clone())
            .route(web::post().to(create))
            .route(web::get().to(list)),
    )
    .service(
        web::resource(format!("{base}/Messages/{{message}}.json"))
            .app_data(shared)
            .route(web::get().to(fetch)),
    );
}

fn error(status: u16, code: i64, message: impl Into<String>) -> HttpResponse {
    let body = ErrorBody::new(status, code, message);
    let status = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    HttpResponse::build(status).json(body)
}

/// 401 as Twilio answers a missing or wrong credential (error 20003).
fn unauthenticated() -> HttpResponse {
    let mut reply = error(401, 20003, "Authenticate");
    reply.headers_mut().insert(
        WWW_AUTHENTICATE,
        actix_web::http::header::HeaderValue::from_static("Basic realm=\"Twilio API\""),
    );
    reply
}

/// Whether the request's basic auth is the account of the path and its token.
fn authenticated(req: &HttpRequest, shared: &Shared, sid: &str) -> bool {
    let Some(encoded) = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    else {
        return false;
    };
    let Ok(decoded) = STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let Ok(pair) = String::from_utf8(decoded) else {
        return false;
    };
    let Some((user, token)) = pair.split_once(':') else {
        return false;
    };
    user == sid && shared.accounts.authenticates(sid, token)
}

/// Segments the body takes: GSM 7-bit 160 (153 per part), else UCS-2 70 (67 per part).
fn segments(body: &str) -> usize {
    let chars = body.chars().count();
    let (single, part) = if body.chars().all(|c| GSM_BASIC.contains(c)) {
        (160, 153)
    } else {
        (70, 67)
    };
    if chars <= single {
        1
    } else {
        chars.div_ceil(part)
    }
}

fn valid_e164(number: &str) -> bool {
    number.starts_with('+') && PhoneNumber::parse_default(number).is_ok()
}

async fn create(
    req: HttpRequest,
    shared: web::Data<Shared>,
    sid: web::Path<(String,)>,
    body: web::Bytes,
) -> HttpResponse {
    let decision = shared.faults.decide(RequestKind::Plain, Instant::now());
    if !decision.delay.is_zero() {
        tokio::time::sleep(decision.delay).await;
    }
    match decision.action {
        Action::Fail(ErrorStatus::TooManyRequests) => {
            return error(429, 20429, "Too Many Requests");
        }
        Action::Fail(ErrorStatus::ServiceUnavailable) => {
            return error(503, 20503, "Service Unavailable");
        }
        Action::Fail(ErrorStatus::InternalServerError) => {
            return error(500, 20500, "Internal Server Error");
        }
        Action::Hang => return std::future::pending().await,
        Action::Pass | Action::CommitThenFail(_) => {}
    }
    let sid = sid.into_inner().0;
    if !authenticated(&req, &shared, &sid) {
        return unauthenticated();
    }
    let form: BTreeMap<String, String> = url::form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let field = |name: &str| form.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let Some(to) = field("To") else {
        return error(400, 21604, "A 'To' phone number is required.");
    };
    if !valid_e164(to) {
        return error(
            400,
            21211,
            format!("The 'To' number {to} is not a valid phone number."),
        );
    }
    let Some(from) = field("From") else {
        return error(400, 21603, "A 'From' phone number is required.");
    };
    if !valid_e164(from) {
        return error(
            400,
            21212,
            format!(
                "The 'From' number {from} is not a valid phone number, shortcode, or \
                 alphanumeric sender ID."
            ),
        );
    }
    let Some(text) = form.get("Body").filter(|b| !b.is_empty()) else {
        return error(400, 21602, "Message body is required.");
    };
    if text.chars().count() > MAX_BODY_CHARS {
        return error(
            400,
            21617,
            "The concatenated message body exceeds the 1600 character limit.",
        );
    }
    let seq = shared.next_seq.fetch_add(1, Ordering::Relaxed);
    let tail = uuid::Uuid::new_v4().simple().to_string();
    // The sequence leads, so sids sort in creation order (`GET /__sim/messages`).
    let message_sid = format!("SM{seq:016x}{}", &tail[..16]);
    let now = shared.clock.now().to_rfc2822();
    let uri = format!("/{API_VERSION}/Accounts/{sid}/Messages/{message_sid}");
    let message = MessageResource {
        account_sid: sid.clone(),
        to: to.to_owned(),
        from: from.to_owned(),
        body: text.clone(),
        status: "queued".into(),
        direction: "outbound-api".into(),
        num_segments: segments(text).to_string(),
        num_media: "0".into(),
        price: None,
        price_unit: Some("USD".into()),
        error_code: None,
        error_message: None,
        date_created: now.clone(),
        date_updated: now,
        date_sent: None,
        api_version: API_VERSION.into(),
        messaging_service_sid: None,
        subresource_uris: BTreeMap::from([
            ("media".to_owned(), format!("{uri}/Media.json")),
            ("feedback".to_owned(), format!("{uri}/Feedback.json")),
        ]),
        uri: format!("{uri}.json"),
        sid: message_sid,
    };
    shared.accounts.record(message.clone());
    HttpResponse::Created().json(message)
}

/// `?PageSize=&Page=` of a list.
#[derive(serde::Deserialize)]
struct Paging {
    #[serde(rename = "PageSize")]
    page_size: Option<usize>,
    #[serde(rename = "Page")]
    page: Option<usize>,
}

async fn list(
    req: HttpRequest,
    shared: web::Data<Shared>,
    sid: web::Path<(String,)>,
    paging: web::Query<Paging>,
) -> HttpResponse {
    let sid = sid.into_inner().0;
    if !authenticated(&req, &shared, &sid) {
        return unauthenticated();
    }
    let size = paging
        .page_size
        .unwrap_or(DEFAULT_PAGE_SIZE)
        .clamp(1, MAX_PAGE_SIZE);
    let page = paging.page.unwrap_or(0);
    let all = shared.accounts.messages(&sid);
    let start = page.saturating_mul(size).min(all.len());
    let messages: Vec<MessageResource> = all.iter().skip(start).take(size).cloned().collect();
    let path = format!("/{API_VERSION}/Accounts/{sid}/Messages.json");
    let page_uri = |p: usize| format!("{path}?PageSize={size}&Page={p}");
    HttpResponse::Ok().json(MessagePage {
        end: (start + messages.len()).saturating_sub(1),
        first_page_uri: page_uri(0),
        next_page_uri: (start + size < all.len()).then(|| page_uri(page + 1)),
        page,
        page_size: size,
        previous_page_uri: (page > 0).then(|| page_uri(page - 1)),
        start,
        uri: page_uri(page),
        messages,
    })
}

async fn fetch(
    req: HttpRequest,
    shared: web::Data<Shared>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (sid, message) = path.into_inner();
    if !authenticated(&req, &shared, &sid) {
        return unauthenticated();
    }
    match shared
        .accounts
        .messages(&sid)
        .into_iter()
        .find(|m| m.sid == message)
    {
        Some(found) => HttpResponse::Ok().json(found),
        None => error(
            404,
            20404,
            format!(
                "The requested resource /{API_VERSION}/Accounts/{sid}/Messages/{message}.json \
                 was not found"
            ),
        ),
    }
}
