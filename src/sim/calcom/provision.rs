//! Sandbox provisioning: every tenant served by the sandbox simulator gets an account there
//! for its Cal.com key, with its services as event types, so every tenant of the demo can
//! really book.
//!
//! It goes through `POST /__sim/accounts` at the simulator's URL, so the in-process and an
//! external (`sandbox.calcom_url`) simulator are provisioned alike. [`spawn`] runs it at start
//! and then every [`EVERY`], so a tenant applied while the service runs becomes bookable
//! within seconds.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use switchboard_actors::domain::onboarding::hours::MAX_RANGES_PER_DAY;
use switchboard_actors::domain::onboarding::{
    OpeningHours, Slug, TenantRef, TenantState, TimeRange,
};
use switchboard_actors::ports::Store;

use super::admin::ACCOUNTS_PATH;
use super::catalog::SANDBOX_CALCOM_API_KEY;
use crate::calcom::CalcomClient;
use secrecy::SecretString;
use switchboard_actors::domain::booking::{UpstreamError, WebhookSubscription};
use switchboard_actors::ports::CalendarApi;

/// How often the tenants are provisioned again.
pub const EVERY: Duration = Duration::from_secs(5);

/// Bounds one `POST /__sim/accounts`: the simulator answers from memory.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Why one tenant could not be provisioned.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// Reading the tenants failed.
    #[error("reading tenants: {0}")]
    Store(#[from] switchboard_actors::ports::StoreError),
    /// The simulator could not be reached.
    #[error("simulator unreachable: {0}")]
    Http(#[from] reqwest::Error),
    /// The simulator refused the tenant's webhook subscription, or could not be asked.
    #[error("webhook subscription of tenant {slug} failed: {message}")]
    Webhook {
        /// The tenant.
        slug: String,
        /// The Cal.com client's error.
        message: String,
    },
    /// The simulator refused the account (an event type id of another account, say).
    #[error("simulator refused tenant {slug}: {status} {body}")]
    Refused {
        /// The tenant.
        slug: String,
        /// HTTP status.
        status: u16,
        /// The simulator's `{"error"}` body.
        body: String,
    },
}

/// Starts provisioning the tenants of `store` into the simulator at `sim_url` now and every
/// [`EVERY`] on the current actix System; failures are logged, never fatal. `our_url` is this
/// server's base URL: each tenant with a Cal.com webhook secret is subscribed to its booking
/// events there.
pub fn spawn(store: Arc<dyn Store>, sim_url: String, our_url: String) {
    actix_rt::spawn(async move {
        let clients = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| e.to_string())
            .and_then(|http| {
                CalcomClient::new(&sim_url, REQUEST_TIMEOUT)
                    .map(|calcom| (http, calcom))
                    .map_err(|e| e.to_string())
            });
        let (http, calcom) = match clients {
            Ok(clients) => clients,
            Err(e) => {
                tracing::error!(error = %e, "sandbox provisioning cannot build its HTTP client");
                return;
            }
        };
        let sim = Simulator {
            http: &http,
            calcom: &calcom,
            url: &sim_url,
            our_url: &our_url,
        };
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            for error in provision_all(store.as_ref(), &sim).await {
                tracing::warn!(%error, "sandbox provisioning");
            }
        }
    });
}

/// The simulator being provisioned, and where its webhooks go.
pub struct Simulator<'a> {
    /// Client for the simulator's admin routes.
    pub http: &'a reqwest::Client,
    /// Cal.com client of the simulator (webhook subscriptions).
    pub calcom: &'a CalcomClient,
    /// The simulator's base URL.
    pub url: &'a str,
    /// This server's base URL, e.g. `http://127.0.0.1:8080`.
    pub our_url: &'a str,
}

/// Provisions every tenant without a Cal.com base URL of its own into the simulator; returns
/// what failed (one tenant's failure does not stop the others).
pub async fn provision_all(store: &dyn Store, sim: &Simulator<'_>) -> Vec<ProvisionError> {
    let tenants = match store.list_tenants().await {
        Ok(tenants) => tenants,
        Err(e) => return vec![e.into()],
    };
    let mut errors = Vec::new();
    for summary in tenants {
        if let Err(e) = provision_one(store, sim, summary.id).await {
            errors.push(e);
        }
    }
    errors
}

async fn provision_one(
    store: &dyn Store,
    sim: &Simulator<'_>,
    company: switchboard_actors::domain::ids::CompanyId,
) -> Result<(), ProvisionError> {
    let Some(state) = store.tenant(&TenantRef::Id(company)).await? else {
        return Ok(());
    };
    // Only the profile holds the key: tenant reads show credentials as fingerprints.
    let Some(profile) = store.company(company).await? else {
        return Ok(());
    };
    let key = secrecy::ExposeSecret::expose_secret(&profile.calcom_api_key).to_owned();
    // A tenant with its own Cal.com is not the simulator's; one without a key cannot book.
    if state.spec.calcom.base_url.is_some() || !key.starts_with("cal_") {
        return Ok(());
    }
    // The demo key's account is the catalog the demo tenant was seeded from: it only needs
    // its webhook.
    if key != SANDBOX_CALCOM_API_KEY {
        add_account(sim, &state, &key).await?;
    }
    if !secrecy::ExposeSecret::expose_secret(&profile.calcom_webhook_secret).is_empty() {
        let url = subscriber_url(sim.our_url, state.spec.slug.as_str());
        ensure_webhook(
            sim.calcom,
            &profile.calcom_api_key,
            &url,
            &profile.calcom_webhook_secret,
        )
        .await
        .map_err(|e| ProvisionError::Webhook {
            slug: state.spec.slug.to_string(),
            message: e.to_string(),
        })?;
    }
    Ok(())
}

/// Adds or replaces the simulator account of `state` (`POST /__sim/accounts`).
async fn add_account(
    sim: &Simulator<'_>,
    state: &TenantState,
    key: &str,
) -> Result<(), ProvisionError> {
    let response = sim
        .http
        .post(format!("{}{ACCOUNTS_PATH}", sim.url))
        .json(&account(state, key))
        .send()
        .await?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    Err(ProvisionError::Refused {
        slug: state.spec.slug.to_string(),
        status: status.as_u16(),
        body: response.text().await.unwrap_or_default(),
    })
}

/// The booking events a sandbox tenant is subscribed to (calcom.md §6).
pub const WEBHOOK_TRIGGERS: [&str; 3] = [
    "BOOKING_CREATED",
    "BOOKING_RESCHEDULED",
    "BOOKING_CANCELLED",
];

/// `<base>/api/calcom/webhook/<slug>`: where the simulator posts tenant `slug`'s booking
/// events, `base` being our own server's URL (`http://127.0.0.1:8080`, no trailing slash
/// needed).
pub fn subscriber_url(base: &str, slug: &str) -> String {
    format!("{}/api/calcom/webhook/{slug}", base.trim_end_matches('/'))
}

/// Subscribes `subscriber_url` to [`WEBHOOK_TRIGGERS`] of the account of `key`, signed with
/// `secret`, unless the account already has a subscription to that URL: provisioning runs
/// every [`EVERY`], and asking the simulator (not a flag of ours) keeps it idempotent across
/// restarts of either side. Returns whether a subscription was made.
///
/// # Errors
/// The simulator's refusal or unreachability, as the Cal.com client classifies it.
pub async fn ensure_webhook(
    calcom: &CalcomClient,
    key: &SecretString,
    subscriber_url: &str,
    secret: &SecretString,
) -> Result<bool, UpstreamError> {
    let existing = calcom.list_webhooks(key).await?;
    if existing.iter().any(|w| w.subscriber_url == subscriber_url) {
        return Ok(false);
    }
    let subscription = WebhookSubscription {
        subscriber_url: subscriber_url.to_owned(),
        triggers: WEBHOOK_TRIGGERS.iter().map(|t| (*t).to_owned()).collect(),
        secret: Some(secrecy::ExposeSecret::expose_secret(secret).to_owned()),
        active: true,
    };
    calcom.create_webhook(key, &subscription).await?;
    Ok(true)
}

/// The `POST /__sim/accounts` body of `state`: user = the tenant (username its slug, zone
/// its zone), one event type per service (id, slug or a slug of the name, length, team),
/// working hours the union of its branches' (the simulator's Mon–Fri 09–18 when none is
/// stated).
fn account(state: &TenantState, key: &str) -> Value {
    let spec = &state.spec;
    let team = spec.calcom.team_id;
    let event_types: Vec<Value> = spec
        .services
        .iter()
        .filter_map(|s| {
            let id = s.event_type_id?;
            let slug = s
                .event_type_slug
                .clone()
                .unwrap_or_else(|| Slug::from_name(&s.name, "service").to_string());
            Some(json!({
                "id": id.0,
                "title": s.name,
                "slug": slug,
                "length_min": s.duration_min,
                // The simulator keeps one team per account: the tenant's.
                "team_id": s.team_id.filter(|t| Some(*t) == team),
            }))
        })
        .collect();
    let hours = union(
        spec.branches
            .iter()
            .filter_map(|b| b.opening_hours.as_ref()),
    );
    json!({
        "api_key": key,
        "user": {
            "username": spec.slug.to_string(),
            "name": spec.name,
            "email": format!("{}@sandbox.invalid", spec.slug),
            "time_zone": spec.time_zone.name(),
        },
        "event_types": event_types,
        "working_hours": hours.map(|h| h.to_written()),
        "team": team.map(|id| json!({ "id": id, "slug": format!("{}-team", spec.slug), "name": spec.name })),
    })
}

/// The hours in which any of `all` is open; `None` when none is given. A day whose merged
/// ranges are more than an [`OpeningHours`] day may hold becomes one range, first opening to
/// last closing.
fn union<'a>(all: impl Iterator<Item = &'a OpeningHours>) -> Option<OpeningHours> {
    let all: Vec<&OpeningHours> = all.collect();
    if all.is_empty() {
        return None;
    }
    let mut written = BTreeMap::new();
    for (day, name) in switchboard_actors::domain::onboarding::hours::DAYS {
        let mut ranges: Vec<TimeRange> = all.iter().flat_map(|h| h.day(day)).copied().collect();
        ranges.sort();
        let mut merged: Vec<TimeRange> = Vec::new();
        for r in ranges {
            match merged.last_mut() {
                // Touching ranges merge too: OpeningHours refuses ranges that touch.
                Some(last) if r.opens <= last.closes => last.closes = last.closes.max(r.closes),
                _ => merged.push(r),
            }
        }
        if merged.len() > MAX_RANGES_PER_DAY {
            let (opens, closes) = (merged[0].opens, merged[merged.len() - 1].closes);
            merged = vec![TimeRange { opens, closes }];
        }
        let text = if merged.is_empty() {
            "closed".to_owned()
        } else {
            merged
                .iter()
                .map(|r| format!("{}-{}", r.opens.format("%H:%M"), r.closes.format("%H:%M")))
                .collect::<Vec<_>>()
                .join(",")
        };
        written.insert(name.to_owned(), text);
    }
    OpeningHours::parse(&written).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(pairs: &[(&str, &str)]) -> OpeningHours {
        let written = pairs
            .iter()
            .map(|(d, t)| ((*d).to_owned(), (*t).to_owned()))
            .collect();
        OpeningHours::parse(&written).unwrap()
    }

    #[test]
    fn branch_hours_union_merges_overlaps_per_day() {
        let a = hours(&[("mon", "08:00-12:00,14:00-18:00"), ("sat", "10:00-12:00")]);
        let b = hours(&[("mon", "11:00-15:00"), ("tue", "09:00-17:00")]);
        let written = union([&a, &b].into_iter()).unwrap().to_written();
        assert_eq!(written["mon"], "08:00-18:00");
        assert_eq!(written["tue"], "09:00-17:00");
        assert_eq!(written["sat"], "10:00-12:00");
        assert_eq!(written["sun"], "closed");
        assert!(union(std::iter::empty()).is_none());
    }

    #[test]
    fn subscriber_url_is_the_tenants_webhook_endpoint() {
        assert_eq!(
            subscriber_url("http://127.0.0.1:8080/", "demo-salon-berlin"),
            "http://127.0.0.1:8080/api/calcom/webhook/demo-salon-berlin"
        );
    }

    #[actix_web::test]
    async fn webhook_is_registered_once_however_often_provisioning_runs() {
        let sim = crate::sim::calcom::CalcomSim::demo();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        actix_rt::spawn(sim.serve(listener).unwrap());
        let calcom = CalcomClient::new(&format!("http://{addr}"), Duration::from_secs(5)).unwrap();
        let key = SecretString::from(SANDBOX_CALCOM_API_KEY);
        let secret = SecretString::from("whsec_test");
        let url = subscriber_url("http://127.0.0.1:8080", "demo-salon-berlin");
        assert!(ensure_webhook(&calcom, &key, &url, &secret).await.unwrap());
        assert!(!ensure_webhook(&calcom, &key, &url, &secret).await.unwrap());
        let listed = calcom.list_webhooks(&key).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].subscriber_url, url);
        assert_eq!(listed[0].triggers, WEBHOOK_TRIGGERS);
        assert!(listed[0].active);
    }

    #[test]
    fn service_names_become_url_slugs() {
        assert_eq!(
            Slug::from_name("Erstberatung", "s").as_str(),
            "erstberatung"
        );
        assert_eq!(
            Slug::from_name("First consultation (45')", "s").as_str(),
            "first-consultation-45"
        );
    }
}
