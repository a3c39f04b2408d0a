//! [`TwilioClient`]: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` over reqwest.

use super::SERVICE;
use super::wire::{API_VERSION, CreateMessage, ErrorBody};
use crate::config::redact_url;
use async_trait::async_trait;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{StatusCode, Url, redirect};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchboard_actors::domain::booking::{ErrorAnswer, UpstreamError};
use switchboard_actors::domain::tenant::SmsSettings;
use switchboard_actors::metric_names::API_DURATION_SECONDS;
use switchboard_actors::ports::{Notifier, SentSms, SmsMessage};

/// Why a [`TwilioClient`] could not be built: configuration or start-up faults.
#[derive(Debug, thiserror::Error)]
pub enum TwilioClientError {
    /// The base URL does not parse, is not http(s), or carries a query or fragment.
    #[error("invalid SMS API base URL {url:?}: {reason}")]
    InvalidBaseUrl {
        /// The base URL without password, query or fragment ([`redact_url`]).
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// reqwest could not build its client (in practice: TLS backend initialisation).
    #[error("cannot build the SMS HTTP client: {0}")]
    Build(#[from] reqwest::Error),
}

/// The Twilio Messages API at one base URL (`https://api.twilio.com`, or a simulator),
/// credentials per request, so every tenant of one base URL shares its connection pool.
#[derive(Clone, Debug)]
pub struct TwilioClient {
    http: reqwest::Client,
    base: Url,
    /// Kept for error messages; reqwest enforces it.
    timeout: Duration,
}

/// The part of the 201 message resource we keep (the rest: [`super::wire::MessageResource`]).
#[derive(Deserialize)]
struct Accepted {
    sid: String,
    status: String,
}

impl TwilioClient {
    /// A client for `base_url` (scheme, host, optional path prefix), e.g.
    /// `https://api.twilio.com`. `timeout` bounds each request from connect to the last body
    /// byte. Redirects are not followed: they mean a wrong base URL, and following one would
    /// turn the `POST` into a `GET`.
    ///
    /// # Errors
    /// [`TwilioClientError::InvalidBaseUrl`] for a bad URL, [`TwilioClientError::Build`] when
    /// the TLS backend cannot start.
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, TwilioClientError> {
        let invalid = |reason: &str| TwilioClientError::InvalidBaseUrl {
            url: redact_url(&SecretString::from(base_url)),
            reason: reason.to_owned(),
        };
        let base = Url::parse(base_url).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(invalid("must be an http or https URL"));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(invalid("must not have a query or fragment"));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(redirect::Policy::none())
            .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            base,
            timeout,
        })
    }

    /// `base` + `/2010-04-01/Accounts/{sid}/Messages.json`, the sid percent-encoded.
    fn messages_url(&self, account_sid: &str) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty()
                .extend([API_VERSION, "Accounts", account_sid, "Messages.json"]);
        }
        url
    }

    /// Sends `message` from `settings.from` with the account of `settings` (basic auth
    /// `AccountSid:AuthToken`). 201 → the message's sid and status.
    ///
    /// # Errors
    /// Classified by cause (service `sms`): 400/404 [`UpstreamError::Rejected`] (a refused
    /// number or body: permanent), 401/403 [`UpstreamError::Unauthorized`], 429
    /// [`UpstreamError::RateLimited`] (with `Retry-After` when sent), 5xx
    /// [`UpstreamError::ServerError`], no answer [`UpstreamError::Transport`], an unreadable
    /// 201 [`UpstreamError::Decode`].
    pub async fn send(
        &self,
        settings: &SmsSettings,
        message: &SmsMessage,
    ) -> Result<SentSms, UpstreamError> {
        let form = CreateMessage {
            to: message.to.clone(),
            from: settings.from.clone(),
            body: message.body.clone(),
        };
        let request = self
            .http
            .post(self.messages_url(&settings.account_sid))
            .basic_auth(
                &settings.account_sid,
                Some(settings.auth_token.expose_secret()),
            )
            .form(&form);
        let started = Instant::now();
        let result = exchange(request).await;
        metrics::histogram!(API_DURATION_SECONDS, "service" => SERVICE, "method" => "send_sms")
            .record(started.elapsed().as_secs_f64());
        let (status, headers, body) = result.map_err(|e| self.transport_error(e))?;
        if !status.is_success() {
            let error = status_error(status, &headers, &body);
            tracing::info!(status = status.as_u16(), %error, "SMS request refused");
            return Err(error);
        }
        let accepted: Accepted =
            serde_json::from_slice(&body).map_err(|e| UpstreamError::Decode {
                service: SERVICE,
                message: format!("POST Messages.json: {e}"),
            })?;
        Ok(SentSms {
            sid: accepted.sid,
            status: accepted.status,
        })
    }

    /// The cause chain without the URL (it names the account).
    fn transport_error(&self, error: reqwest::Error) -> UpstreamError {
        let timed_out = error.is_timeout();
        let error = error.without_url();
        let mut parts = vec!["POST Messages.json".to_owned()];
        if timed_out {
            parts.push(format!("timed out after {:?}", self.timeout));
        }
        let mut cause: Option<&dyn std::error::Error> = Some(&error);
        while let Some(e) = cause {
            parts.push(e.to_string());
            cause = e.source();
        }
        UpstreamError::Transport {
            service: SERVICE,
            message: parts.join(": "),
        }
    }
}

/// Status, headers and the whole body; a break while reading the body is a transport failure.
async fn exchange(
    request: reqwest::RequestBuilder,
) -> Result<(StatusCode, HeaderMap, Vec<u8>), reqwest::Error> {
    let response = request.send().await?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await?;
    Ok((status, headers, body.to_vec()))
}

/// A non-2xx answer classified by status; Twilio's JSON error body gives code and message
/// (a body that is not one keeps the status and the first 200 bytes as the message).
fn status_error(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> UpstreamError {
    let answer = match serde_json::from_slice::<ErrorBody>(body) {
        Ok(e) => ErrorAnswer {
            status: status.as_u16(),
            code: Some(e.code.to_string()),
            message: e.message,
        },
        Err(_) => ErrorAnswer {
            status: status.as_u16(),
            code: None,
            message: String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
        },
    };
    let retry_after = headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    match status.as_u16() {
        401 | 403 => UpstreamError::Unauthorized {
            service: SERVICE,
            answer,
        },
        429 => UpstreamError::RateLimited {
            service: SERVICE,
            answer,
            retry_after,
        },
        500..=599 => UpstreamError::ServerError {
            service: SERVICE,
            answer,
            retry_after,
        },
        _ => UpstreamError::Rejected {
            service: SERVICE,
            answer,
        },
    }
}

/// A [`TwilioClient`] with one tenant's account: the [`Notifier`] of that tenant.
pub struct TwilioNotifier {
    client: Arc<TwilioClient>,
    settings: SmsSettings,
}

impl TwilioNotifier {
    /// Sends with `settings` through `client` (whose base URL serves them).
    pub fn new(client: Arc<TwilioClient>, settings: SmsSettings) -> Self {
        Self { client, settings }
    }
}

#[async_trait]
impl Notifier for TwilioNotifier {
    async fn send_sms(&self, message: &SmsMessage) -> Result<SentSms, UpstreamError> {
        self.client.send(&self.settings, message).await
    }
}
