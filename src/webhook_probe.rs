//! [`HttpProbe`]: the reqwest [`WebhookProbe`] — `retell.config.testWebhook`'s requests to our
//! own public URL, sent from outside the way Retell sends them.

use async_trait::async_trait;
use std::time::Duration;
use switchboard_actors::ports::{ProbeError, WebhookProbe};

/// Posts over HTTP(S) with a bounded wait; never follows redirects (Retell does not either,
/// and a redirect would hide which endpoint answered).
pub struct HttpProbe {
    client: reqwest::Client,
}

impl HttpProbe {
    /// A probe that gives up after `timeout` (the whole request).
    ///
    /// # Errors
    /// When the TLS backend cannot be initialised.
    pub fn new(timeout: Duration) -> reqwest::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { client })
    }
}

#[async_trait]
impl WebhookProbe for HttpProbe {
    async fn post(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: Vec<u8>,
    ) -> Result<u16, ProbeError> {
        let mut request = self.client.post(url).body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.map_err(|e| ProbeError {
            url: url.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(response.status().as_u16())
    }
}
