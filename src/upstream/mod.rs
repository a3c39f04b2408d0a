//! What the reqwest adapters of upstream JSON APIs (Cal.com, Retell) share: checking a base
//! URL, building the HTTP client, one request/response exchange, and reading the parts of an
//! error answer that are not specific to one API (a body preview, `Retry-After`).

use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{RequestBuilder, StatusCode, Url, redirect};
use secrecy::{ExposeSecret, SecretString};
use std::time::{Duration, Instant, SystemTime};
use switchboard_actors::domain::booking::{ErrorAnswer, UpstreamError};
use switchboard_actors::metric_names::API_DURATION_SECONDS;

#[cfg(test)]
pub(crate) mod stub;

/// How much of a body that is not a known error shape ends up in the message: enough to
/// recognise an HTML error page or a proxy message, not a whole page in the logs.
pub(crate) const RAW_BODY_PREVIEW_CHARS: usize = 200;

/// `base_url` parsed, if it is an http(s) URL that can be a base and has no query or
/// fragment (the clients append paths and queries of their own).
///
/// # Errors
/// Why the URL is unusable, for the caller's configuration error.
pub(crate) fn parse_base_url(base_url: &str) -> Result<Url, String> {
    let base = Url::parse(base_url).map_err(|e| e.to_string())?;
    if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
        return Err("must be an http or https URL".to_owned());
    }
    if base.query().is_some() || base.fragment().is_some() {
        return Err("must not have a query or fragment".to_owned());
    }
    Ok(base)
}

/// A reqwest client bounding each request by `timeout` (connect to last body byte) and not
/// following redirects: an API that redirects means a wrong base URL (e.g. http instead of
/// https), and following it would turn a `POST` into a `GET`.
///
/// # Errors
/// When the TLS backend cannot start.
pub(crate) fn http_client(timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(timeout)
        .redirect(redirect::Policy::none())
        .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// `Bearer <key>` as a header value marked sensitive, so reqwest/hyper never print it.
///
/// # Errors
/// A key that cannot be a header value is reported as refused credentials
/// ([`UpstreamError::Unauthorized`], 401 `InvalidApiKey`), which is what the API would answer
/// to a garbled key and what the caller can act on; nothing is sent.
pub(crate) fn bearer(
    service: &'static str,
    key: &SecretString,
) -> Result<HeaderValue, UpstreamError> {
    let mut value =
        HeaderValue::from_str(&format!("Bearer {}", key.expose_secret())).map_err(|_| {
            UpstreamError::Unauthorized {
                service,
                answer: ErrorAnswer {
                    status: StatusCode::UNAUTHORIZED.as_u16(),
                    code: Some("InvalidApiKey".to_owned()),
                    message: "the API key contains characters not allowed in an HTTP header"
                        .to_owned(),
                },
            }
        })?;
    value.set_sensitive(true);
    Ok(value)
}

/// Status, headers and the whole body. Reading the body is part of the exchange: a reset in
/// the middle of it is a transport failure, not an unreadable answer — the request may well
/// have been carried out, so the caller must look before repeating it. reqwest reports such a
/// break as `is_decode()` ("error decoding response body"), which is why its kinds are not
/// used to classify.
async fn exchange(
    request: RequestBuilder,
) -> Result<(StatusCode, HeaderMap, Vec<u8>), reqwest::Error> {
    let response = request.send().await?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await?;
    Ok((status, headers, body.to_vec()))
}

/// A 2xx or error answer with how long the exchange took.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
    pub(crate) elapsed: Duration,
}

/// [`exchange`] timed into `mcp_api_duration_seconds{service, method}` — every outcome,
/// transport failures included: slow failures are what the histogram is for. `method` is one
/// of the adapter's fixed operation names; `what` (e.g. `GET /v2/bookings`) and `timeout`
/// name the request in a [`transport_error`].
///
/// # Errors
/// [`UpstreamError::Transport`] when no whole answer arrived.
pub(crate) async fn timed_exchange(
    service: &'static str,
    method: &'static str,
    what: impl FnOnce() -> String,
    timeout: Duration,
    request: RequestBuilder,
) -> Result<Answer, UpstreamError> {
    let started = Instant::now();
    let result = exchange(request).await;
    let elapsed = started.elapsed();
    metrics::histogram!(API_DURATION_SECONDS, "service" => service, "method" => method)
        .record(elapsed.as_secs_f64());
    let (status, headers, body) =
        result.map_err(|e| transport_error(service, what(), timeout, e))?;
    Ok(Answer {
        status,
        headers,
        body,
        elapsed,
    })
}

/// [`UpstreamError::Transport`] for `error` of the request described by `what` (e.g.
/// `GET /v2/bookings`): without the URL, whose query may hold an attendee's email, but with
/// reqwest's cause chain, where the useful part ("Connection refused") lives. `timeout` is
/// the client's, named when it fired.
fn transport_error(
    service: &'static str,
    what: String,
    timeout: Duration,
    error: reqwest::Error,
) -> UpstreamError {
    let timed_out = error.is_timeout();
    let error = error.without_url();
    let mut parts = vec![what];
    if timed_out {
        parts.push(format!("timed out after {timeout:?}"));
    } else if error.is_decode() {
        // reqwest files any failure while reading the body as "error decoding response
        // body", but we decode JSON ourselves: here it is always the connection.
        parts.push("connection broke while reading the body".to_owned());
    }
    let mut cause: Option<&dyn std::error::Error> = Some(&error);
    while let Some(e) = cause {
        parts.push(e.to_string());
        cause = e.source();
    }
    UpstreamError::Transport {
        service,
        message: parts.join(": "),
    }
}

/// The first [`RAW_BODY_PREVIEW_CHARS`] characters of a body that is not a known error
/// shape, or the status's reason phrase when it is empty.
pub(crate) fn raw_preview(status: StatusCode, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        status.canonical_reason().unwrap_or("no body").to_owned()
    } else {
        text.chars().take(RAW_BODY_PREVIEW_CHARS).collect()
    }
}

/// The wait `Retry-After` asks for (RFC 9110 §10.2.3): delay-seconds, or an HTTP date
/// counted from `now` (zero when it has passed). `None` when absent or unreadable.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn headers(retry_after: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(RETRY_AFTER, HeaderValue::from_str(retry_after).unwrap());
        map
    }

    #[test]
    fn retry_after_reads_delay_seconds() {
        assert_eq!(
            retry_after(&headers(" 3 "), SystemTime::now()),
            Some(Duration::from_secs(3))
        );
    }

    #[test]
    fn retry_after_reads_an_http_date_from_now() {
        // Sun, 06 Nov 1994 08:49:37 GMT is 784111777 s after the epoch (RFC 9110 example).
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777 - 90);
        let wait = retry_after(&headers("Sun, 06 Nov 1994 08:49:37 GMT"), now);
        assert_eq!(wait, Some(Duration::from_secs(90)));
    }

    #[test]
    fn retry_after_in_the_past_is_no_wait() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777 + 5);
        let wait = retry_after(&headers("Sun, 06 Nov 1994 08:49:37 GMT"), now);
        assert_eq!(wait, Some(Duration::ZERO));
    }

    #[test]
    fn unreadable_retry_after_is_none() {
        assert_eq!(retry_after(&headers("soon"), SystemTime::now()), None);
        assert_eq!(retry_after(&HeaderMap::new(), SystemTime::now()), None);
    }

    #[test]
    fn base_url_must_be_http_without_query() {
        assert!(parse_base_url("https://api.example.com/prefix").is_ok());
        for bad in [
            "ftp://api.example.com",
            "mailto:a@b.c",
            "https://api.example.com/?x=1",
            "https://api.example.com/#f",
            "not a url",
        ] {
            assert!(parse_base_url(bad).is_err(), "{bad}");
        }
    }
}
