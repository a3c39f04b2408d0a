//! `switchboard circuit-status`: prints the circuit breakers of a running service, read from
//! its `GET /api/mcp/health`.

use anyhow::Context as _;
use serde_json::Value;

/// Fetches `{url}/api/mcp/health` with `token` (admin or metrics scope) and prints one line
/// per breaker. Errors when the service cannot be reached, refuses the token, or answers
/// something that is not a health document.
pub async fn run(url: &str, token: Option<&str>) -> anyhow::Result<()> {
    let health_url = format!("{}/api/mcp/health", url.trim_end_matches('/'));
    let mut request = reqwest::Client::new().get(&health_url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("cannot reach {health_url}; is `switchboard serve` running?"))?;
    anyhow::ensure!(
        response.status() != reqwest::StatusCode::UNAUTHORIZED,
        "{health_url} needs an admin or metrics-scope token: pass --token \
         (`switchboard token create --scope metrics --label …` makes one)"
    );
    let body: Value = response
        .json()
        .await
        .with_context(|| format!("{health_url} did not answer a health document"))?;
    print!("{}", render(&body)?);
    Ok(())
}

/// The table printed for a health document.
pub fn render(health: &Value) -> anyhow::Result<String> {
    let breakers = health["breakers"]
        .as_array()
        .context("the health document has no `breakers` list (older server?)")?;
    let mut out = format!(
        "service status: {}\n",
        health["status"].as_str().unwrap_or("unknown")
    );
    if breakers.is_empty() {
        out.push_str(
            "no circuit breakers yet (one starts with the first upstream call of a company)\n",
        );
        return Ok(out);
    }
    out.push_str(&format!(
        "{:<10} {:>8}  {:<10} {}\n",
        "UPSTREAM", "COMPANY", "STATE", "RETRY AFTER"
    ));
    for b in breakers {
        let retry = b["retry_after_s"]
            .as_f64()
            .map_or_else(|| "-".to_owned(), |s| format!("{s:.0} s"));
        out.push_str(&format!(
            "{:<10} {:>8}  {:<10} {}\n",
            b["service"].as_str().unwrap_or("?"),
            b["company_id"].to_string(),
            b["state"].as_str().unwrap_or("?"),
            retry
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_one_line_per_breaker_with_retry_after() {
        let health = json!({"status": "degraded", "breakers": [
            {"service": "calcom", "company_id": 1, "state": "open", "retry_after_s": 41.2},
            {"service": "calcom", "company_id": 2, "state": "closed", "retry_after_s": null}]});
        let text = render(&health).unwrap();
        assert!(text.starts_with("service status: degraded\n"));
        assert!(
            text.contains("calcom            1  open       41 s"),
            "{text}"
        );
        assert!(text.contains("calcom            2  closed     -"), "{text}");
    }

    #[test]
    fn missing_breakers_list_is_an_error() {
        assert!(render(&json!({"status": "healthy"})).is_err());
    }
}
