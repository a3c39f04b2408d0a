//! [`TwilioClient`]: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` over reqwest.

use super::SERVICE;
use super::wire::{API_VERSION, CreateMessage, ErrorBody};
use crate::config::redact_url;
use crate::upstream;
use async_trait::async_trait;
use reqwest::header::HeaderMap;
use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use switchboard_actors::domain::booking::{ErrorAnswer, UpstreamError};
use switchboard_actors::domain::tenant::SmsSettings;
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
        let base = upstream::parse_base_url(base_url).map_err(|reason| {
            TwilioClientError::InvalidBaseUrl {
                url: redact_url(&SecretString::from(base_url)),
                reason,
            }
        })?;
        let http = upstream::http_client(timeout)?;
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
        let upstream::Answer {
            status,
            headers,
            body,
            ..
        } = upstream::timed_exchange(
            SERVICE,
            "send_sms",
            || "POST Messages.json".to_owned(),
            self.timeout,
            request,
        )
        .await?;
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
    let retry_after = upstream::retry_after(headers, SystemTime::now());
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
