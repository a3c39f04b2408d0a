//! A tenant as operators write it ([`RawTenant`]: the TOML file of `switchboard tenant apply`
//! and the params of `company.*`) and as it is after validation ([`TenantSpec`]). One
//! validation, [`TenantSpec::from_raw`], backs both: a value refused in a file is refused over
//! JSON-RPC with the same message, naming the same key path.

use super::hours::OpeningHours;
use super::slug::Slug;
use crate::domain::ids::EventTypeId;
use crate::domain::phone::PhoneNumber;
use crate::domain::tenant::Locale;
use crate::domain::text::{self, Limit};
use schemars::JsonSchema;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Most branches of one tenant.
pub const MAX_BRANCHES: usize = 100;
/// Most phone numbers of one branch.
pub const MAX_NUMBERS_PER_BRANCH: usize = 100;
/// Most services of one tenant.
pub const MAX_SERVICES: usize = 500;
/// Most aliases of one service.
pub const MAX_ALIASES: usize = 50;
/// Longest appointment, minutes (one day).
pub const MAX_DURATION_MIN: u32 = 1440;
/// Longest move/cancel notice callers can be held to, hours (one year).
pub const MAX_CHANGE_NOTICE_H: u32 = 8760;
/// Farthest booking horizon, days (five years, the end of the date window).
pub const MAX_BOOKING_HORIZON_DAYS: u32 = 1825;
/// Longest credential, bytes.
pub const MAX_SECRET_LEN: usize = 512;

/// Display names of tenants, branches and services: one line, 100 characters.
const NAME: Limit = text::NAME;
/// Aliases callers use for a service.
const ALIAS: Limit = Limit::line(100);

/// A tenant as written: every value still text, so that each refusal can name its key.
/// Unknown keys are refused. Secrets are written as the value itself or, in files only, as
/// `env:NAME` / `file:PATH` (resolved by the caller of [`TenantSpec::from_raw`]). A credential
/// left out is left as it is (a file need not hold secrets that were set another way).
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawTenant {
    /// Stable id of the tenant, `[a-z0-9-]`, e.g. `praxis-weber`.
    pub slug: String,
    /// Display name, e.g. `Praxis Dr. Weber`.
    pub name: String,
    /// Language of spoken replies: `de` or `en`.
    pub locale: String,
    /// IANA time zone in which callers' dates and times are read, e.g. `Europe/Berlin`.
    pub time_zone: String,
    /// Retell credentials of the tenant.
    #[serde(default)]
    pub retell: RawRetell,
    /// Cal.com account of the tenant.
    #[serde(default)]
    pub calcom: RawCalcom,
    /// What callers may do when.
    #[serde(default)]
    pub policy: RawPolicy,
    /// Locations with their phone numbers and opening hours.
    #[serde(default)]
    pub branches: Vec<RawBranch>,
    /// What callers can book, each mapped to a Cal.com event type.
    #[serde(default)]
    pub services: Vec<RawService>,
    /// SMS account for confirmations to callers; left out: the tenant sends none (and
    /// settings stored before are removed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms: Option<RawSms>,
}

/// `[sms]` of a tenant: its Twilio account (Messages API), or `switchboard sim sms`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawSms {
    /// Twilio Account SID: `AC` and 32 hex digits.
    pub account_sid: String,
    /// Twilio auth token; `env:NAME` / `file:PATH` in files. Left out: left as stored.
    pub auth_token: Option<String>,
    /// Sender number of the account, E.164 (`+4915735998877`).
    pub from: String,
    /// API base URL, e.g. `https://api.twilio.com`; when left out, the service's
    /// `sms.base_url` (the simulator in sandbox mode).
    pub base_url: Option<String>,
}

/// `[retell]` of a tenant.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawRetell {
    /// Retell API key (verifies `X-Retell-Signature`); `env:NAME` / `file:PATH` in files.
    pub api_key: Option<String>,
    /// Retell agent id of the tenant, e.g. `agent_…`.
    pub agent_id: Option<String>,
}

/// `[calcom]` of a tenant.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawCalcom {
    /// Cal.com API key (`cal_…` or `cal_live_…`); `env:NAME` / `file:PATH` in files.
    pub api_key: Option<String>,
    /// Cal.com API base URL without `/v2`, e.g. `https://api.cal.eu`; when left out, the
    /// service's `calcom.base_url` (the simulator in sandbox mode).
    pub base_url: Option<String>,
    /// Cal.com team id when the services are team event types.
    pub team_id: Option<i64>,
    /// Secret of Cal.com webhooks to this tenant.
    pub webhook_secret: Option<String>,
}

/// `[policy]` of a tenant.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    /// Callers may move or cancel an appointment until this many hours before it (default 24).
    pub change_notice_h: Option<u32>,
    /// How many days ahead callers may book (default 90).
    pub booking_horizon_days: Option<u32>,
}

/// One `[[branches]]` entry.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawBranch {
    /// Stable id within the tenant, `[a-z0-9-]`.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// E.164 numbers callers dial (`+494012345678`), unique across all tenants.
    #[serde(default)]
    pub phone_numbers: Vec<String>,
    /// `mon` … `sun` → `"08:00-12:00,14:00-18:00"` or `"closed"`; days left out are closed.
    /// Left out entirely: not stated (no day is refused; 12-hour times are read for 08–20).
    pub opening_hours: Option<BTreeMap<String, String>>,
}

/// One `[[services]]` entry.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    /// Name the agent speaks, unique within the tenant.
    pub name: String,
    /// Other names callers use.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Length of the appointment in minutes.
    pub duration_min: u32,
    /// Cal.com event type id; or give `event_type_slug`.
    pub event_type_id: Option<i64>,
    /// Cal.com event type slug, resolved to its id when applied.
    pub event_type_slug: Option<String>,
    /// Cal.com team of the event type; default `calcom.team_id`.
    pub team_id: Option<i64>,
    /// Slugs of the branches that offer it; all branches when left out.
    pub branches: Option<Vec<String>>,
}

/// A tenant after validation. Credentials that were left out are `None` (left as stored).
#[derive(Clone, Debug)]
pub struct TenantSpec {
    /// Stable id.
    pub slug: Slug,
    /// Display name, cleaned.
    pub name: String,
    /// Language of spoken replies.
    pub locale: Locale,
    /// Zone of callers' local dates and times.
    pub time_zone: chrono_tz::Tz,
    /// Retell settings.
    pub retell: RetellSettings,
    /// Cal.com settings.
    pub calcom: CalcomSettings,
    /// Move/cancel notice and booking horizon.
    pub policy: BookingPolicy,
    /// Branches in the order written; slugs, names and numbers unique.
    pub branches: Vec<BranchSpec>,
    /// Services in the order written; names unique.
    pub services: Vec<ServiceSpec>,
    /// SMS account; `None`: the tenant sends no text messages.
    pub sms: Option<SmsSpec>,
}

/// A tenant's SMS account after validation.
#[derive(Clone, Debug)]
pub struct SmsSpec {
    /// `AC` and 32 hex digits.
    pub account_sid: String,
    /// Auth token; `None`: not given (left as stored).
    pub auth_token: Option<SecretString>,
    /// Sender, E.164.
    pub from: PhoneNumber,
    /// `http(s)://host[:port][/path]` without a trailing slash, query or credentials.
    pub base_url: Option<String>,
}

/// Retell settings of a tenant.
#[derive(Clone, Debug, Default)]
pub struct RetellSettings {
    /// API key; `None`: not given (left as stored).
    pub api_key: Option<SecretString>,
    /// Agent id, 1–128 printable ASCII characters.
    pub agent_id: Option<String>,
}

/// Cal.com settings of a tenant.
#[derive(Clone, Debug, Default)]
pub struct CalcomSettings {
    /// API key, starting `cal_`; `None`: not given (left as stored).
    pub api_key: Option<SecretString>,
    /// `http(s)://host[:port][/path]` without a trailing slash, query or credentials.
    pub base_url: Option<String>,
    /// Team id (> 0) of team event types.
    pub team_id: Option<i64>,
    /// Cal.com webhook secret; `None`: not given (left as stored).
    pub webhook_secret: Option<SecretString>,
}

/// What callers may do when (`[policy]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BookingPolicy {
    /// Callers may move or cancel until this many hours before the appointment.
    pub change_notice_h: u32,
    /// Callers may book at most this many days ahead.
    pub booking_horizon_days: u32,
}

impl Default for BookingPolicy {
    fn default() -> Self {
        Self {
            change_notice_h: 24,
            booking_horizon_days: 90,
        }
    }
}

/// A branch after validation.
#[derive(Clone, Debug, PartialEq)]
pub struct BranchSpec {
    /// Stable id within the tenant.
    pub slug: Slug,
    /// Display name, cleaned.
    pub name: String,
    /// Numbers in E.164, in the order written.
    pub phone_numbers: Vec<PhoneNumber>,
    /// Opening hours; `None`: not stated.
    pub opening_hours: Option<OpeningHours>,
}

/// A service after validation. At least one of `event_type_id` and `event_type_slug` is set;
/// a slug alone is resolved to an id before the service is stored.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceSpec {
    /// Name, cleaned, unique within the tenant.
    pub name: String,
    /// Aliases, cleaned, without repeats.
    pub aliases: Vec<String>,
    /// Length in minutes, 1–1440.
    pub duration_min: u32,
    /// Cal.com event type id.
    pub event_type_id: Option<EventTypeId>,
    /// Cal.com event type slug.
    pub event_type_slug: Option<String>,
    /// Team id: the service's own, else `calcom.team_id`.
    pub team_id: Option<i64>,
    /// Branches that offer it; `None`: all.
    pub branches: Option<Vec<Slug>>,
}

/// A key path into a [`RawTenant`], e.g. `branches[0].phone_numbers[1]`: where a refused
/// value was written. The TOML loader turns it into a line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyPath(pub Vec<KeyPart>);

/// One step of a [`KeyPath`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyPart {
    /// A table key.
    Key(String),
    /// An array index.
    Index(usize),
}

impl KeyPath {
    fn key(&self, key: &str) -> Self {
        let mut parts = self.0.clone();
        parts.push(KeyPart::Key(key.to_owned()));
        Self(parts)
    }

    fn index(&self, index: usize) -> Self {
        let mut parts = self.0.clone();
        parts.push(KeyPart::Index(index));
        Self(parts)
    }

    fn root(key: &str) -> Self {
        Self::default().key(key)
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, part) in self.0.iter().enumerate() {
            match part {
                KeyPart::Key(k) if i == 0 => f.write_str(k)?,
                KeyPart::Key(k) => write!(f, ".{k}")?,
                KeyPart::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// One refused value: where, and why (a sentence for operators, never a secret's value).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct SpecError {
    /// Where the value was written.
    pub path: KeyPath,
    /// Why it was refused.
    pub message: String,
}

/// Turns a written secret (`env:NAME`, `file:PATH`, or the value) into the secret. Files use
/// one that reads the environment and files; JSON-RPC uses [`literal_secret`], which refuses
/// both forms (a caller must never make the server read its files or environment).
pub type ResolveSecret<'a> = &'a dyn Fn(&str) -> Result<SecretString, String>;

/// The [`ResolveSecret`] of JSON-RPC: the text is the secret; `env:`/`file:` are refused.
///
/// # Errors
/// A message when the text starts with `env:` or `file:`.
pub fn literal_secret(written: &str) -> Result<SecretString, String> {
    if written.starts_with("env:") || written.starts_with("file:") {
        return Err(
            "env: and file: references are read only in tenant files; send the value".into(),
        );
    }
    Ok(SecretString::from(written.to_owned()))
}

/// A credential's fingerprint for operators: `sha256:` and the first 12 hex digits of the
/// SHA-256 of the secret — enough to tell two keys apart, never the key.
pub fn fingerprint(secret: &SecretString) -> String {
    let digest = Sha256::digest(secret.expose_secret().as_bytes());
    format!("sha256:{}", &hex::encode(digest)[..12])
}

/// Collects errors while one raw tenant is read.
struct Check {
    errors: Vec<SpecError>,
}

impl Check {
    fn fail(&mut self, path: KeyPath, message: impl Into<String>) {
        self.errors.push(SpecError {
            path,
            message: message.into(),
        });
    }

    fn name(&mut self, path: KeyPath, limit: Limit, value: &str) -> String {
        match limit.clean(value) {
            Ok(v) if !v.is_empty() => v,
            Ok(_) => {
                self.fail(path, "must not be empty");
                String::new()
            }
            Err(e) => {
                self.fail(path, e.to_string());
                String::new()
            }
        }
    }

    fn slug(&mut self, path: KeyPath, value: &str) -> Option<Slug> {
        Slug::parse(value)
            .map_err(|e| self.fail(path, e.to_string()))
            .ok()
    }

    fn secret(
        &mut self,
        path: KeyPath,
        written: Option<&str>,
        resolve: ResolveSecret<'_>,
    ) -> Option<SecretString> {
        let written = written?;
        match resolve(written) {
            Ok(secret) if secret.expose_secret().trim().is_empty() => {
                self.fail(path, "is empty");
                None
            }
            Ok(secret) if secret.expose_secret().len() > MAX_SECRET_LEN => {
                self.fail(path, format!("is longer than {MAX_SECRET_LEN} bytes"));
                None
            }
            Ok(secret) => Some(SecretString::from(secret.expose_secret().trim().to_owned())),
            Err(e) => {
                self.fail(path, e);
                None
            }
        }
    }
}

impl TenantSpec {
    /// Validates `raw`: every rule of the tenant file (README "Onboard a business"), except
    /// what needs the database or Cal.com (a number owned by another tenant, an event type slug
    /// that does not exist), which the apply step checks. Secrets are resolved with `resolve`.
    ///
    /// # Errors
    /// Every refused value, each with its key path, in the order written.
    pub fn from_raw(raw: &RawTenant, resolve: ResolveSecret<'_>) -> Result<Self, Vec<SpecError>> {
        let mut c = Check { errors: Vec::new() };
        let slug = c.slug(KeyPath::root("slug"), &raw.slug);
        let name = c.name(KeyPath::root("name"), NAME, &raw.name);
        let locale = match raw.locale.as_str() {
            "de" => Some(Locale::De),
            "en" => Some(Locale::En),
            other => {
                c.fail(
                    KeyPath::root("locale"),
                    format!(
                        "{:?} is not a supported locale: use de or en",
                        excerpt(other)
                    ),
                );
                None
            }
        };
        let time_zone = raw
            .time_zone
            .parse::<chrono_tz::Tz>()
            .map_err(|_| {
                c.fail(
                    KeyPath::root("time_zone"),
                    format!(
                        "unknown time zone {:?}: use an IANA name such as Europe/Berlin",
                        excerpt(&raw.time_zone)
                    ),
                )
            })
            .ok();
        let retell = RetellSettings {
            api_key: c.secret(
                KeyPath::root("retell").key("api_key"),
                raw.retell.api_key.as_deref(),
                resolve,
            ),
            agent_id: raw.retell.agent_id.as_ref().and_then(|id| {
                let ok =
                    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic());
                if !ok {
                    c.fail(
                        KeyPath::root("retell").key("agent_id"),
                        "must be 1 to 128 printable ASCII characters",
                    );
                }
                ok.then(|| id.clone())
            }),
        };
        let calcom_path = KeyPath::root("calcom");
        let calcom_key = c.secret(
            calcom_path.key("api_key"),
            raw.calcom.api_key.as_deref(),
            resolve,
        );
        if let Some(key) = &calcom_key
            && !key.expose_secret().starts_with("cal_")
        {
            c.fail(
                calcom_path.key("api_key"),
                "is not a Cal.com API key: those start with cal_ (test) or cal_live_",
            );
        }
        let base_url = raw.calcom.base_url.as_deref().and_then(|u| {
            base_url(u)
                .map_err(|m| c.fail(calcom_path.key("base_url"), m))
                .ok()
        });
        let team_id = raw.calcom.team_id.filter(|id| {
            (*id <= 0)
                .then(|| {
                    c.fail(
                        calcom_path.key("team_id"),
                        "must be a positive Cal.com team id",
                    )
                })
                .is_none()
        });
        let calcom = CalcomSettings {
            api_key: calcom_key,
            base_url,
            team_id,
            webhook_secret: c.secret(
                calcom_path.key("webhook_secret"),
                raw.calcom.webhook_secret.as_deref(),
                resolve,
            ),
        };
        let policy = policy(&mut c, &raw.policy);
        let branches = branches(&mut c, &raw.branches);
        let branch_slugs: BTreeSet<&str> = raw.branches.iter().map(|b| b.slug.as_str()).collect();
        let services = services(&mut c, &raw.services, team_id, &branch_slugs);
        let sms = raw.sms.as_ref().and_then(|r| sms(&mut c, r, resolve));
        match (slug, locale, time_zone) {
            (Some(slug), Some(locale), Some(time_zone)) if c.errors.is_empty() => Ok(Self {
                slug,
                name,
                locale,
                time_zone,
                retell,
                calcom,
                policy,
                branches,
                services,
                sms,
            }),
            _ => Err(c.errors),
        }
    }
}

impl TenantSpec {
    /// The written form, credentials left out (see [`RawTenant`]): what `tenant show` prints
    /// as TOML, and what `company.update` and friends edit before validating it again with
    /// [`TenantSpec::from_raw`]. Reading it back gives an equal spec.
    pub fn to_raw(&self) -> RawTenant {
        RawTenant {
            slug: self.slug.to_string(),
            name: self.name.clone(),
            locale: self.locale.as_str().to_owned(),
            time_zone: self.time_zone.name().to_owned(),
            retell: RawRetell {
                api_key: None,
                agent_id: self.retell.agent_id.clone(),
            },
            calcom: RawCalcom {
                api_key: None,
                base_url: self.calcom.base_url.clone(),
                team_id: self.calcom.team_id,
                webhook_secret: None,
            },
            policy: RawPolicy {
                change_notice_h: Some(self.policy.change_notice_h),
                booking_horizon_days: Some(self.policy.booking_horizon_days),
            },
            branches: self
                .branches
                .iter()
                .map(|b| RawBranch {
                    slug: b.slug.to_string(),
                    name: b.name.clone(),
                    phone_numbers: b.phone_numbers.iter().map(ToString::to_string).collect(),
                    opening_hours: b.opening_hours.as_ref().map(OpeningHours::to_written),
                })
                .collect(),
            services: self
                .services
                .iter()
                .map(|s| RawService {
                    name: s.name.clone(),
                    aliases: s.aliases.clone(),
                    duration_min: s.duration_min,
                    event_type_id: s.event_type_id.map(|id| id.0),
                    event_type_slug: s.event_type_slug.clone(),
                    team_id: s.team_id.filter(|t| Some(*t) != self.calcom.team_id),
                    branches: s
                        .branches
                        .as_ref()
                        .map(|list| list.iter().map(ToString::to_string).collect()),
                })
                .collect(),
            sms: self.sms.as_ref().map(|s| RawSms {
                account_sid: s.account_sid.clone(),
                auth_token: None,
                from: s.from.to_string(),
                base_url: s.base_url.clone(),
            }),
        }
    }
}

fn excerpt(s: &str) -> String {
    text::excerpt(s, 64)
}

fn base_url(written: &str) -> Result<String, String> {
    let url = url::Url::parse(written.trim())
        .map_err(|e| format!("is not a URL ({e}); e.g. https://api.cal.com"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("must be an http or https URL with a host, e.g. https://api.cal.com".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials; put the key in calcom.api_key".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or fragment".into());
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// `[sms]`: a Twilio Account SID (twilio-oai: `^AC[0-9a-fA-F]{32}$`), the token, an E.164
/// sender and an optional base URL. `None` when any of them is refused.
fn sms(c: &mut Check, raw: &RawSms, resolve: ResolveSecret<'_>) -> Option<SmsSpec> {
    let path = KeyPath::root("sms");
    let errors = c.errors.len();
    let sid = raw.account_sid.trim();
    let sid_ok = sid.len() == 34
        && sid.starts_with("AC")
        && sid.bytes().skip(2).all(|b| b.is_ascii_hexdigit());
    if !sid_ok {
        c.fail(
            path.key("account_sid"),
            format!(
                "{:?} is not a Twilio Account SID: AC followed by 32 hex digits",
                excerpt(sid)
            ),
        );
    }
    let auth_token = c.secret(path.key("auth_token"), raw.auth_token.as_deref(), resolve);
    let from = if raw.from.trim_start().starts_with('+') {
        PhoneNumber::parse_default(&raw.from)
            .map_err(|e| c.fail(path.key("from"), e.to_string()))
            .ok()
    } else {
        c.fail(
            path.key("from"),
            format!(
                "{:?} is not in E.164 form: write + and the country code, e.g. +4915735998877",
                excerpt(&raw.from)
            ),
        );
        None
    };
    let base_url = raw.base_url.as_deref().and_then(|u| {
        base_url(u)
            .map_err(|m| c.fail(path.key("base_url"), m))
            .ok()
    });
    if c.errors.len() != errors {
        return None;
    }
    Some(SmsSpec {
        account_sid: sid.to_owned(),
        auth_token,
        from: from?,
        base_url,
    })
}

fn policy(c: &mut Check, raw: &RawPolicy) -> BookingPolicy {
    let default = BookingPolicy::default();
    let path = KeyPath::root("policy");
    let change_notice_h = raw.change_notice_h.unwrap_or(default.change_notice_h);
    if change_notice_h > MAX_CHANGE_NOTICE_H {
        c.fail(
            path.key("change_notice_h"),
            format!("must be at most {MAX_CHANGE_NOTICE_H} hours"),
        );
    }
    let booking_horizon_days = raw
        .booking_horizon_days
        .unwrap_or(default.booking_horizon_days);
    if !(1..=MAX_BOOKING_HORIZON_DAYS).contains(&booking_horizon_days) {
        c.fail(
            path.key("booking_horizon_days"),
            format!("must be 1 to {MAX_BOOKING_HORIZON_DAYS} days"),
        );
    }
    BookingPolicy {
        change_notice_h,
        booking_horizon_days,
    }
}

fn branches(c: &mut Check, raw: &[RawBranch]) -> Vec<BranchSpec> {
    if raw.len() > MAX_BRANCHES {
        c.fail(
            KeyPath::root("branches"),
            format!("at most {MAX_BRANCHES} branches"),
        );
        return Vec::new();
    }
    let mut slugs = BTreeSet::new();
    let mut names = BTreeSet::new();
    let mut numbers = BTreeMap::new();
    let mut out = Vec::with_capacity(raw.len());
    for (i, b) in raw.iter().enumerate() {
        let path = KeyPath::root("branches").index(i);
        let slug = c.slug(path.key("slug"), &b.slug);
        if let Some(s) = &slug
            && !slugs.insert(s.clone())
        {
            c.fail(path.key("slug"), format!("branch slug {s:?} is used twice"));
        }
        let name = c.name(path.key("name"), NAME, &b.name);
        if !name.is_empty() && !names.insert(name.clone()) {
            c.fail(
                path.key("name"),
                format!("branch name {name:?} is used twice"),
            );
        }
        if b.phone_numbers.len() > MAX_NUMBERS_PER_BRANCH {
            c.fail(
                path.key("phone_numbers"),
                format!("at most {MAX_NUMBERS_PER_BRANCH} numbers per branch"),
            );
        }
        let mut phone_numbers = Vec::new();
        for (j, written) in b
            .phone_numbers
            .iter()
            .take(MAX_NUMBERS_PER_BRANCH)
            .enumerate()
        {
            let npath = path.key("phone_numbers").index(j);
            if !written.trim_start().starts_with('+') {
                c.fail(
                    npath,
                    format!(
                        "{:?} is not in E.164 form: write + and the country code, e.g. +494012345678",
                        excerpt(written)
                    ),
                );
                continue;
            }
            match PhoneNumber::parse_default(written) {
                Ok(n) => {
                    if let Some(first) = numbers.insert(n.clone(), npath.clone()) {
                        c.fail(npath, format!("{n} is already listed at {first}"));
                    } else {
                        phone_numbers.push(n);
                    }
                }
                Err(e) => c.fail(npath, e.to_string()),
            }
        }
        let opening_hours = b.opening_hours.as_ref().and_then(|h| {
            OpeningHours::parse(h)
                .map_err(|e| c.fail(path.key("opening_hours"), e.to_string()))
                .ok()
        });
        if let Some(slug) = slug {
            out.push(BranchSpec {
                slug,
                name,
                phone_numbers,
                opening_hours,
            });
        }
    }
    out
}

fn services(
    c: &mut Check,
    raw: &[RawService],
    team_id: Option<i64>,
    branch_slugs: &BTreeSet<&str>,
) -> Vec<ServiceSpec> {
    if raw.len() > MAX_SERVICES {
        c.fail(
            KeyPath::root("services"),
            format!("at most {MAX_SERVICES} services"),
        );
        return Vec::new();
    }
    let mut names = BTreeSet::new();
    let mut out = Vec::with_capacity(raw.len());
    for (i, s) in raw.iter().enumerate() {
        let path = KeyPath::root("services").index(i);
        let name = c.name(path.key("name"), NAME, &s.name);
        if !name.is_empty() && !names.insert(name.to_lowercase()) {
            c.fail(
                path.key("name"),
                format!("service {name:?} is listed twice"),
            );
        }
        if s.aliases.len() > MAX_ALIASES {
            c.fail(
                path.key("aliases"),
                format!("at most {MAX_ALIASES} aliases"),
            );
        }
        let mut aliases: Vec<String> = Vec::new();
        for (j, alias) in s.aliases.iter().take(MAX_ALIASES).enumerate() {
            let alias = c.name(path.key("aliases").index(j), ALIAS, alias);
            if !alias.is_empty() && !aliases.iter().any(|a| a.eq_ignore_ascii_case(&alias)) {
                aliases.push(alias);
            }
        }
        if !(1..=MAX_DURATION_MIN).contains(&s.duration_min) {
            c.fail(
                path.key("duration_min"),
                format!("must be 1 to {MAX_DURATION_MIN} minutes"),
            );
        }
        let event_type_id = s.event_type_id.filter(|id| {
            (*id <= 0)
                .then(|| {
                    c.fail(
                        path.key("event_type_id"),
                        "must be a positive Cal.com event type id",
                    )
                })
                .is_none()
        });
        let event_type_slug = s.event_type_slug.as_ref().and_then(|slug| {
            Slug::parse(slug)
                .map_err(|e| c.fail(path.key("event_type_slug"), e.to_string()))
                .ok()
                .map(|s| s.as_str().to_owned())
        });
        if s.event_type_id.is_none() && s.event_type_slug.is_none() {
            c.fail(
                path.key("name"),
                format!(
                    "service {name:?} is not mapped to a Cal.com event type: set event_type_id or \
                     event_type_slug"
                ),
            );
        }
        let own_team = s.team_id.filter(|id| {
            (*id <= 0)
                .then(|| c.fail(path.key("team_id"), "must be a positive Cal.com team id"))
                .is_none()
        });
        if s.branches.as_ref().is_some_and(Vec::is_empty) {
            c.fail(
                path.key("branches"),
                "lists no branch: name at least one, or leave branches out to offer the \
                 service at every branch",
            );
        }
        let branches = s.branches.as_ref().map(|list| {
            list.iter()
                .enumerate()
                .filter_map(|(j, b)| {
                    let bpath = path.key("branches").index(j);
                    if !branch_slugs.contains(b.as_str()) {
                        c.fail(
                            bpath,
                            format!("no branch with slug {:?} in this tenant", excerpt(b)),
                        );
                        return None;
                    }
                    c.slug(bpath, b)
                })
                .collect::<Vec<_>>()
        });
        out.push(ServiceSpec {
            name,
            aliases,
            duration_min: s.duration_min,
            event_type_id: event_type_id.map(EventTypeId),
            event_type_slug,
            team_id: own_team.or(team_id),
            branches,
        });
    }
    out
}

#[cfg(test)]
mod tests;
