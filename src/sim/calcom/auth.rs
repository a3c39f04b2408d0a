//! Who is calling, by Cal.com's rules for `Authorization: Bearer <token>` (calcom.md §1).
//!
//! Two checks run in Cal.com's order. The global throttler guard runs first on every matched
//! route and looks tokens that start with `cal_` up as API keys: an unknown one is a 401 even
//! on public endpoints. Endpoints with (optional) auth then run `ApiAuthStrategy`, which
//! refuses any token that is not a valid credential. Public endpoints (`GET /v2/slots`) stop
//! after the throttler, so other tokens pass there unchecked.

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest};
use std::future::{Ready, ready};
use std::sync::Arc;

use super::accounts::{Account, Accounts};
use super::context::Ctx;
use super::errors::CalcomError;

/// Prefix that makes Cal.com treat a bearer token as an API key.
const API_KEY_PREFIX: &str = "cal_";

/// `ApiAuthStrategy`'s reply to a request without any credential (`NO_AUTH_PROVIDED_MESSAGE`).
const NO_AUTH: &str = "ApiAuthStrategy - No authentication method provided. Either pass an API key as 'Bearer' header or OAuth client credentials as 'x-cal-secret-key' and 'x-cal-client-id' headers";

/// The bearer token, as Cal.com reads it: the header with the first `"Bearer "` removed.
pub(super) fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let token = value.replacen("Bearer ", "", 1);
    (!token.is_empty()).then_some(token)
}

/// `CustomThrottlerGuard`: unknown `cal_…` keys are refused before anything else.
fn throttler(accounts: &Accounts, token: Option<&str>) -> Result<(), CalcomError> {
    match token {
        Some(t) if t.starts_with(API_KEY_PREFIX) && accounts.by_key(t).is_none() => Err(
            CalcomError::Unauthorized("CustomThrottlerGuard - Invalid API Key".into()),
        ),
        _ => Ok(()),
    }
}

/// A caller of an endpoint whose auth is optional (or required, see [`Caller::require_owner`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Caller {
    /// No credential was sent.
    Anonymous,
    /// The owner of the account whose API key was sent.
    Owner(Arc<Account>),
}

impl Caller {
    fn identify(ctx: &Ctx, req: &HttpRequest) -> Result<Self, CalcomError> {
        let token = bearer(req);
        throttler(ctx.accounts(), token.as_deref())?;
        match token.as_deref() {
            None => Ok(Self::Anonymous),
            Some(key) => ctx.accounts().by_key(key).map(Self::Owner).ok_or_else(|| {
                CalcomError::Unauthorized(
                    "ApiAuthStrategy - api key - Your api key is not valid".into(),
                )
            }),
        }
    }

    /// `ApiAuthGuard` on endpoints where auth is required (`GET /v2/bookings`, `/v2/me`):
    /// the caller's account.
    pub(super) fn require_owner(&self) -> Result<&Arc<Account>, CalcomError> {
        match self {
            Self::Owner(account) => Ok(account),
            Self::Anonymous => Err(CalcomError::Unauthorized(NO_AUTH.into())),
        }
    }

    /// The email Cal.com records as `cancelledByEmail` for this caller.
    pub(super) fn email(&self) -> Option<String> {
        match self {
            Self::Owner(account) => Some(account.host.email.clone()),
            Self::Anonymous => None,
        }
    }
}

fn extract<T>(
    req: &HttpRequest,
    check: impl FnOnce(&Ctx, &HttpRequest) -> Result<T, CalcomError>,
) -> Result<T, actix_web::Error> {
    let ctx = Ctx::of(req)?;
    check(&ctx, req).map_err(|e| ctx.reject(e).into())
}

impl FromRequest for Caller {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(extract(req, Self::identify))
    }
}

/// Passed the throttler only: the guard of public endpoints.
#[derive(Debug, Clone, Copy)]
pub(super) struct Public;

impl FromRequest for Public {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(extract(req, |ctx, req| {
            throttler(ctx.accounts(), bearer(req).as_deref()).map(|()| Public)
        }))
    }
}
