//! Tenancy: company, branch and service as the core sees them.

use super::ids::{BranchId, CompanyId, EventTypeId};
use super::onboarding::{BookingPolicy, OpeningHours};
use chrono::NaiveTime;
use schemars::JsonSchema;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// Language the agent speaks to callers of a company; picks the text of spoken replies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    /// German (the default; first language of our callers).
    #[default]
    De,
    /// English.
    En,
}

impl Locale {
    /// Parses a BCP-47-ish tag (`de`, `de-DE`, `en`, `en-GB`); anything else is `None`.
    pub fn parse(tag: &str) -> Option<Self> {
        match tag.split(['-', '_']).next()?.to_ascii_lowercase().as_str() {
            "de" => Some(Self::De),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    /// The tag stored in the database and sent to Cal.com as `attendee.language`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::De => "de",
            Self::En => "en",
        }
    }
}

/// A company (tenant) with what the core needs at run time. Credentials are secrets and
/// never printed.
#[derive(Clone, Debug)]
pub struct CompanyProfile {
    /// Primary key of the company.
    pub id: CompanyId,
    /// Stable id of the tenant, e.g. `praxis-weber`.
    pub slug: String,
    /// Display name, e.g. `Demo Salon Berlin`.
    pub name: String,
    /// Language of spoken replies and of `attendee.language` on Cal.com bookings.
    pub locale: Locale,
    /// IANA zone of the company; all local dates and times callers say are in this zone.
    pub time_zone: chrono_tz::Tz,
    /// Retell API key (the webhook-badged one): verifies `X-Retell-Signature`. Empty when
    /// not set, and an empty key verifies no signature.
    pub retell_api_key: SecretString,
    /// The tenant's Retell agent (`agent_…`, tenant file `retell.agent_id`): the one the
    /// inbound webhook answers with and the deploy writes to; `None` when not set.
    pub retell_agent_id: Option<String>,
    /// Cal.com API key (`cal_…`), sent as `Authorization: Bearer`. Empty when not set.
    pub calcom_api_key: SecretString,
    /// Cal.com API base URL of this tenant (`https://api.cal.eu`); `None`: the service's
    /// `calcom.base_url` (the simulator in sandbox mode).
    pub calcom_base_url: Option<String>,
    /// Move/cancel notice and booking horizon.
    pub policy: BookingPolicy,
    /// Disabled by an operator: its numbers answer "not in service", nothing is booked, its
    /// tokens do not work; its data is kept.
    pub disabled: bool,
    /// How callers get confirmations by text message; `None`: the tenant sends none, and
    /// the agent never promises one.
    pub sms: Option<SmsSettings>,
    /// Secret of Cal.com's webhooks to this tenant: `X-Cal-Signature-256` is the HMAC-SHA256
    /// of the raw body with it (reference/calcom.md §6). Empty when not set, and then no
    /// webhook is accepted.
    pub calcom_webhook_secret: SecretString,
}

/// A tenant's SMS provider account (Twilio Messages API, or `switchboard sim sms`).
#[derive(Clone, Debug)]
pub struct SmsSettings {
    /// Twilio Account SID (`AC…`), the `{sid}` of the API path and the basic-auth user.
    pub account_sid: String,
    /// Twilio auth token, the basic-auth password. Never logged.
    pub auth_token: SecretString,
    /// Sender: an E.164 number of the account (`From`).
    pub from: String,
    /// API base URL; `None`: the service's `sms.base_url` (the simulator in sandbox mode,
    /// `https://api.twilio.com` in production).
    pub base_url: Option<String>,
}

/// The daily window in which the business takes appointments, used to read "halb drei" as
/// 14:30 and not 02:30. Local time of the company.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BusinessWindow {
    /// Opening time, local to the company.
    pub opens: NaiveTime,
    /// Closing time, local to the company.
    pub closes: NaiveTime,
}

impl Default for BusinessWindow {
    fn default() -> Self {
        Self {
            opens: NaiveTime::from_hms_opt(8, 0, 0).expect("valid"),
            closes: NaiveTime::from_hms_opt(20, 0, 0).expect("valid"),
        }
    }
}

/// Where a dialled number leads: the company and the branch that owns it.
#[derive(Clone, Debug)]
pub struct TenantRoute {
    /// The company that owns the number, with its credentials.
    pub company: CompanyProfile,
    /// The branch that owns the number.
    pub branch_id: BranchId,
    /// The branch's display name, e.g. `Mitte`.
    pub branch_name: String,
    /// The span of the branch's opening hours, which settles 12-hour readings such as
    /// "halb drei".
    pub window: BusinessWindow,
    /// The branch's weekly opening hours; `None`: not stated.
    pub opening_hours: Option<OpeningHours>,
}

/// A service a branch offers, mapped to one Cal.com event type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Service {
    /// Our `services.id`.
    pub id: i64,
    /// The company that offers it.
    pub company_id: CompanyId,
    /// Name the agent speaks and callers' words are matched against first, e.g.
    /// `Herrenhaarschnitt`.
    pub name: String,
    /// Other names callers use ("Herrenschnitt", "men's haircut"), matched case-insensitively.
    pub aliases: Vec<String>,
    /// Length of the appointment in minutes.
    pub duration_min: u32,
    /// The Cal.com event type that books it (a team event type when `team_id` is set).
    pub event_type_id: EventTypeId,
    /// Cal.com team id when the event type belongs to a team.
    pub team_id: Option<i64>,
    /// The branches that offer it; empty: every branch of the company.
    #[serde(default)]
    pub branch_ids: Vec<BranchId>,
}

impl Service {
    /// Whether callers of `branch` may book it.
    pub fn offered_at(&self, branch: BranchId) -> bool {
        self.branch_ids.is_empty() || self.branch_ids.contains(&branch)
    }
}
