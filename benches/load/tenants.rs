//! The tenants a run drives: the sandbox demo tenant and as many more as asked, onboarded
//! the way an operator onboards a business — `company.create` over JSON-RPC with the
//! operators' token (the same validation and audit as `switchboard tenant apply`). Sandbox
//! mode then provisions each into the Cal.com simulator (`sim::calcom::provision`, every
//! 5 s): an account for its Cal.com key with its service as an event type, so every tenant
//! really books.

use crate::common::{ADMIN, CALCOM_KEY, DEMO_NUMBER, RETELL_KEY};
use anyhow::Context;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::Duration;

/// One business the load signs and books for.
#[derive(Debug, Clone)]
pub struct Tenant {
    /// Its slug (`demo-salon-berlin`, `bench-001`, …).
    pub slug: String,
    /// Its company id.
    pub company_id: i64,
    /// The number callers dial (E.164), the call object's `to_number`.
    pub number: String,
    /// The Retell key its requests are signed with.
    pub retell_key: String,
    /// Its Cal.com key (lists its bookings in the simulator).
    pub calcom_key: String,
}

/// The sandbox demo tenant (`examples/tenants/demo-salon-berlin.toml`, company 1).
pub fn demo() -> Tenant {
    Tenant {
        slug: "demo-salon-berlin".into(),
        company_id: 1,
        number: DEMO_NUMBER.into(),
        retell_key: RETELL_KEY.into(),
        calcom_key: CALCOM_KEY.into(),
    }
}

/// Opening hours of the onboarded tenants.
#[derive(Debug, Clone, Copy)]
pub enum Hours {
    /// The demo tenant's: Mon–Fri 09:00–18:00, Sat 10:00–14:00 (what `common::slots` lists).
    Demo,
    /// Every day 08:00–20:00, so every day asked about is a real Cal.com lookup.
    Daily,
}

impl Hours {
    fn json(self) -> Value {
        match self {
            Self::Demo => json!({"mon": "09:00-18:00", "tue": "09:00-18:00", "wed": "09:00-18:00",
                "thu": "09:00-18:00", "fri": "09:00-18:00", "sat": "10:00-14:00", "sun": "closed"}),
            Self::Daily => json!({"mon": "08:00-20:00", "tue": "08:00-20:00", "wed": "08:00-20:00",
                "thu": "08:00-20:00", "fri": "08:00-20:00", "sat": "08:00-20:00", "sun": "08:00-20:00"}),
        }
    }
}

/// A batch of tenants to onboard.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    /// Slug prefix: the tenants are `{prefix}-000` ….
    pub prefix: &'a str,
    /// A digit distinct per batch of a run, so numbers and event type ids never collide.
    pub series: u32,
    /// How many.
    pub count: usize,
    /// Their opening hours.
    pub hours: Hours,
    /// Whether each has a Cal.com webhook secret.
    pub webhooks: bool,
}

/// Onboards the [`Batch`] through `company.create` at `app` and waits
/// (bounded, 90 s) until the simulator at `sim` has an account for each. Each has one branch
/// with its own number (+49 30 5xx …), one 30-minute service "Herrenhaarschnitt" (the name
/// the calls ask for) on its own event type, its own Retell and Cal.com keys and, with
/// `webhooks`, a Cal.com webhook secret as the demo tenant has (the simulator then posts each
/// booking back, as Cal.com does).
///
/// # Errors
/// A refusal of `company.create`, or the simulator not provisioned in time.
pub async fn onboard(
    client: &reqwest::Client,
    app: &str,
    sim: &str,
    batch: Batch<'_>,
) -> anyhow::Result<Vec<Tenant>> {
    let Batch {
        prefix,
        series,
        count,
        hours,
        webhooks,
    } = batch;
    let mut tenants = Vec::with_capacity(count);
    for k in 0..count {
        let slug = format!("{prefix}-{k:03}");
        // Distinct across series (a run onboards several): 8 digits after +49 30.
        let number = format!("+49305{series}{k:06}");
        let retell_key = format!("key_{prefix}_{k:03}_0123456789abcdef");
        let calcom_key = format!("cal_{prefix}_{k:03}_0123456789abcdef");
        let mut calcom = json!({"api_key": calcom_key});
        if webhooks {
            calcom["webhook_secret"] = json!(format!("whsec_{prefix}_{k:03}"));
        }
        let params = json!({
            "slug": slug, "name": format!("Bench {prefix} {k}"), "locale": "de",
            "time_zone": "Europe/Berlin",
            "retell": {"api_key": retell_key},
            "calcom": calcom,
            "branches": [{"slug": "main", "name": "Main", "phone_numbers": [number],
                          "opening_hours": hours.json()}],
            "services": [{"name": "Herrenhaarschnitt", "duration_min": 30,
                          "event_type_id": 100_000 + series * 10_000 + k as u32}],
        });
        let reply = rpc(client, app, "company.create", params).await?;
        let company_id = reply["result"]["data"]["company_id"]
            .as_i64()
            .with_context(|| format!("company.create {slug}: {reply}"))?;
        tenants.push(Tenant {
            slug,
            company_id,
            number,
            retell_key,
            calcom_key,
        });
    }
    wait_provisioned(client, sim, &tenants).await?;
    Ok(tenants)
}

/// One JSON-RPC call with the operators' token.
async fn rpc(
    client: &reqwest::Client,
    app: &str,
    method: &str,
    params: Value,
) -> anyhow::Result<Value> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    Ok(client
        .post(format!("{app}/api/mcp/gateway"))
        .bearer_auth(ADMIN)
        .json(&body)
        .send()
        .await?
        .json()
        .await?)
}

/// Waits until `GET /__sim/accounts` lists every tenant (username = slug).
async fn wait_provisioned(
    client: &reqwest::Client,
    sim: &str,
    tenants: &[Tenant],
) -> anyhow::Result<()> {
    for _ in 0..180 {
        let accounts: Value = client
            .get(format!("{sim}/__sim/accounts"))
            .send()
            .await?
            .json()
            .await?;
        let present: HashSet<&str> = accounts
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|a| a["user"]["username"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        if tenants.iter().all(|t| present.contains(t.slug.as_str())) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    anyhow::bail!("the simulator was not provisioned with the onboarded tenants within 90 s")
}
