//! Sign-in, the session cookie and CSRF.
//!
//! - Sign-in: the operator pastes a gateway token; it is looked up like the gateway's
//!   (`TokenStore::api_token`, by SHA-256 digest, so no secret is compared in the clear), but
//!   always in the database, never in the gateway's ten-second memo, so a token revoked a
//!   moment ago cannot sign in.
//! - Session: a 256-bit id from the OS RNG, sent only in the `sb_admin` cookie
//!   (`HttpOnly; Secure; SameSite=Strict; Path=/admin`) and stored only as its SHA-256 digest
//!   ([`AdminSessionStore`]). Every request re-reads the session with its token, so a revoked
//!   or expired token ends its sessions at once.
//! - CSRF: a synchronizer token per session in the hidden `csrf` field of every form,
//!   compared in constant time, plus `Origin` / `Sec-Fetch-Site` on every POST (sign-in
//!   included): missing or wrong is 403 and nothing is done.
//! - Failed sign-ins are counted per client address (`admin.max_failed_sign_ins_per_minute`,
//!   in a cache of at most `admin.max_tracked_addresses` addresses); over the limit the form
//!   answers 429 without looking at the token. The token is never echoed or logged.

use super::i18n::Lang;
use super::{AdminError, AdminState, Page};
use crate::store::token_digest;
use actix_web::cookie::{Cookie, CookieBuilder, SameSite};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use serde::Deserialize;
use std::net::IpAddr;
use subtle::ConstantTimeEq;
use switchboard_actors::records::{NewAdminSession, TokenGrant};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "sb_admin";

/// Longest token a sign-in form may carry (gateway tokens are 40–70 characters).
const MAX_TOKEN_LEN: usize = 512;

/// A signed-in request: who, and the session's CSRF token for its forms.
pub struct Session {
    /// The token's grant, re-read with the session on this request.
    pub grant: TokenGrant,
    /// The session's synchronizer token (hidden `csrf` field).
    pub csrf: String,
}

/// The value of cookie `name` of the request, if any (actix-web's `Cookie` header parser).
pub fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.cookie(name).map(|c| c.value().to_owned())
}

/// A cookie of the dashboard: only for `/admin`, never readable by scripts, never sent over
/// plain HTTP by a browser (loopback excepted) or with a cross-site request.
pub fn admin_cookie(name: &'static str, value: String) -> CookieBuilder<'static> {
    Cookie::build(name, value)
        .path("/admin")
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
}

/// `Set-Cookie` of the session id.
fn session_cookie(id: &str) -> String {
    admin_cookie(SESSION_COOKIE, id.to_owned())
        .finish()
        .to_string()
}

/// `Set-Cookie` that deletes the session cookie.
fn cleared_cookie() -> String {
    admin_cookie(SESSION_COOKIE, String::new())
        .max_age(actix_web::cookie::time::Duration::ZERO)
        .finish()
        .to_string()
}

/// 32 random bytes from the OS as 64 lower-case hex digits.
fn random_hex() -> Result<String, AdminError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AdminError::Unavailable(e.to_string()))?;
    Ok(crate::store::lower_hex(&bytes))
}

/// The live session of `req`.
///
/// # Errors
/// [`AdminError::SignedOut`] (303 to the sign-in page) without a cookie or for an unknown,
/// expired or revoked one; [`AdminError::Unavailable`] when the store fails.
pub async fn require(req: &HttpRequest, state: &AdminState) -> Result<Session, AdminError> {
    let id = cookie(req, SESSION_COOKIE).ok_or(AdminError::SignedOut)?;
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AdminError::SignedOut);
    }
    let session = state
        .app
        .store
        .admin_session(&token_digest(&id), Utc::now(), state.session_ttl)
        .await?
        .ok_or(AdminError::SignedOut)?;
    Ok(Session {
        grant: session.grant,
        csrf: session.csrf,
    })
}

/// Whether the request's `Origin` / `Sec-Fetch-Site` say it comes from this site. A request
/// without either (a script, an old browser) passes; a browser sends at least one on POST.
pub fn same_origin(req: &HttpRequest) -> bool {
    if let Some(site) = req.headers().get("sec-fetch-site")
        && !matches!(site.to_str(), Ok("same-origin" | "none"))
    {
        return false;
    }
    match req.headers().get(header::ORIGIN) {
        None => true,
        Some(origin) => {
            let Ok(origin) = origin.to_str() else {
                return false;
            };
            let host = req.connection_info().host().to_owned();
            origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"))
                .is_some_and(|rest| rest.eq_ignore_ascii_case(&host))
        }
    }
}

/// Checks a POST of `session`: same origin and the form's `csrf` equal to the session's, in
/// constant time.
///
/// # Errors
/// [`AdminError::Forbidden`] (403) otherwise.
pub fn check_csrf(
    req: &HttpRequest,
    session: &Session,
    presented: &str,
    lang: Lang,
) -> Result<(), AdminError> {
    let equal: bool = presented.as_bytes().ct_eq(session.csrf.as_bytes()).into();
    if same_origin(req) && equal {
        Ok(())
    } else {
        Err(AdminError::Forbidden(lang))
    }
}

/// A form whose only field is the CSRF token (sign-out, retry).
#[derive(Deserialize)]
pub struct CsrfForm {
    /// The session's synchronizer token.
    #[serde(default)]
    pub csrf: String,
}

impl CsrfForm {
    /// The `csrf` field of a POST; empty (so refused with 403) when the body is missing or is
    /// not a form, instead of the extractor's 400/415.
    pub fn field(form: Option<web::Form<CsrfForm>>) -> String {
        form.map(|f| f.into_inner().csrf).unwrap_or_default()
    }
}

/// The sign-in form.
#[derive(Deserialize)]
pub struct SignInForm {
    /// The gateway token pasted by the operator.
    #[serde(default)]
    token: String,
}

/// `GET /admin/login`: the form, or straight to the dashboard when signed in.
pub async fn login_form(req: HttpRequest, state: web::Data<AdminState>) -> HttpResponse {
    if require(&req, &state).await.is_ok() {
        return super::see_other("/admin/");
    }
    let page = Page::signed_out(&req);
    super::html(
        actix_web::http::StatusCode::OK,
        super::layout::login(&page, None),
    )
}

/// The client address failed sign-ins are counted against: the TCP peer.
fn client(req: &HttpRequest) -> Option<IpAddr> {
    req.peer_addr().map(|a| a.ip())
}

/// `POST /admin/login`: a good token → a new session, 303 to `/admin/`; a bad one → the form
/// again with 401 and `.error`; over the failure limit → 429; cross-site → 403.
pub async fn login(
    req: HttpRequest,
    state: web::Data<AdminState>,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, AdminError> {
    let page = Page::signed_out(&req);
    if !same_origin(&req) {
        return Err(AdminError::Forbidden(page.lang));
    }
    let t = page.lang.texts();
    let address = client(&req);
    if let Some(address) = address
        && state.failures.get(&address).await.unwrap_or(0) >= state.max_failures
    {
        return Ok(super::html(
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
            super::layout::login(&page, Some(t.too_many_attempts)),
        ));
    }
    let token = form.token.trim();
    let grant = if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        None
    } else {
        state.app.store.api_token(&token_digest(token)).await?
    };
    let Some((grant, token_id)) = grant.and_then(|g| g.token_id.map(|id| (g, id))) else {
        if let Some(address) = address {
            let failures = state.failures.get(&address).await.unwrap_or(0);
            state.failures.insert(address, failures + 1).await;
        }
        return Ok(super::html(
            actix_web::http::StatusCode::UNAUTHORIZED,
            super::layout::login(&page, Some(t.bad_token)),
        ));
    };
    let id = random_hex()?;
    let now = Utc::now();
    state
        .app
        .store
        .create_admin_session(
            &NewAdminSession {
                session_sha256: token_digest(&id),
                token_id,
                company_id: grant.company_id,
                csrf: random_hex()?,
                created_at: now,
                expires_at: now + state.session_ttl_delta(),
            },
            state.max_sessions_per_token,
        )
        .await?;
    tracing::info!(token = %grant.actor(), "dashboard sign-in");
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/admin/"))
        .insert_header((header::SET_COOKIE, session_cookie(&id)))
        .finish())
}

/// `POST /admin/logout`: deletes the session (CSRF-checked), clears the cookie, 303 to the
/// sign-in page.
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AdminState>,
    form: Option<web::Form<CsrfForm>>,
) -> Result<HttpResponse, AdminError> {
    let session = require(&req, &state).await?;
    check_csrf(
        &req,
        &session,
        &CsrfForm::field(form),
        Lang::of(&req, Lang::De),
    )?;
    if let Some(id) = cookie(&req, SESSION_COOKIE) {
        state
            .app
            .store
            .delete_admin_session(&token_digest(&id))
            .await?;
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/admin/login"))
        .insert_header((header::SET_COOKIE, cleared_cookie()))
        .finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn a_cross_site_post_is_not_same_origin() {
        let req = TestRequest::post()
            .insert_header(("host", "dash.example"))
            .insert_header(("origin", "https://evil.example"))
            .to_http_request();
        assert!(!same_origin(&req));
        let req = TestRequest::post()
            .insert_header(("sec-fetch-site", "cross-site"))
            .to_http_request();
        assert!(!same_origin(&req));
        let req = TestRequest::post()
            .insert_header(("host", "dash.example"))
            .insert_header(("origin", "https://dash.example"))
            .insert_header(("sec-fetch-site", "same-origin"))
            .to_http_request();
        assert!(same_origin(&req));
    }

    #[test]
    fn the_session_cookie_is_http_only_secure_strict_and_scoped_to_admin() {
        let cookie = session_cookie("ab");
        for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/admin"] {
            assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
        }
    }

    #[test]
    fn session_ids_are_256_random_bits() {
        let (a, b) = (random_hex().unwrap(), random_hex().unwrap());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }
}
