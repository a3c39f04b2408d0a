//! `calculate_duration`: how long one or more services take, and when the caller is done if a
//! start time is given. Args: `dienstleistung|service` (one name) or `dienstleistungen|services`
//! (a list or a comma-separated string), optional `uhrzeit|time`.

use super::args::{self, Arg};
use super::{CustomFunction, FunctionDeps, FunctionError, Invocation};
use crate::domain::datetime::parse_time;
use crate::domain::service_match::{ServiceMatchError, match_service};
use crate::domain::text::{self, PHRASE};
use crate::speech::Catalog;
use crate::speech::general::GeneralSay;
use chrono::Duration;
use schemars::JsonSchema;
use serde_json::{Map, Value, json};

/// The args of `calculate_duration`, as the caller said them.
#[derive(Debug, Default, Clone, PartialEq, Eq, JsonSchema)]
#[schemars(description = "The services to time, and optionally when the caller starts.")]
pub struct DurationArgs {
    /// Several services, by name: a list, or one string separated by commas.
    pub dienstleistungen: Option<Vec<String>>,
    /// One service, by name or a usual alias, when only one is asked about.
    pub dienstleistung: Option<String>,
    /// Start time as the caller said it ("14 Uhr", "halb drei"), to tell when they are done.
    pub uhrzeit: Option<String>,
}

/// Services one `calculate_duration` call reads at most.
pub const MAX_SERVICES: usize = 10;

impl DurationArgs {
    /// The args with their aliases, in the order of the fields.
    pub const ARGS: &'static [Arg] = &[args::SERVICES, args::SERVICE, args::TIME];

    /// Reads the args leniently: the list as an array of strings or one string split at `,`
    /// and `;`, at most [`MAX_SERVICES`] of it (a caller never lists more; a client could send
    /// thousands, each matched against every service); the others as [`Arg::text`]. Each
    /// value is cleaned and cut to a [`PHRASE`] ([`text::excerpt`]): a longer one names no
    /// service and no time, and is only quoted back.
    pub fn read(args: &Map<String, Value>) -> Self {
        let phrase = |s: &str| Some(text::excerpt(s, PHRASE.max_chars)).filter(|p| !p.is_empty());
        let dienstleistungen = args::SERVICES.names().find_map(|key| match args.get(key)? {
            Value::Array(items) => Some(
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .filter_map(phrase)
                    .take(MAX_SERVICES)
                    .collect(),
            ),
            Value::String(s) => Some(
                s.split([',', ';'])
                    .filter_map(phrase)
                    .take(MAX_SERVICES)
                    .collect(),
            ),
            _ => None,
        });
        Self {
            dienstleistungen,
            dienstleistung: args::SERVICE.text(args).as_deref().and_then(phrase),
            uhrzeit: args::TIME.text(args).as_deref().and_then(phrase),
        }
    }

    /// The services asked about: the list if one was sent, else the one service.
    fn names(self) -> Vec<String> {
        self.dienstleistungen
            .unwrap_or_else(|| self.dienstleistung.into_iter().collect())
    }
}

/// `calculate_duration`: how long services take.
pub struct CalculateDuration;

impl CustomFunction for CalculateDuration {
    const NAME: &'static str = "calculate_duration";
    const DESCRIPTION: &'static str = "Tell how long one or more services take together and, \
        given a start time, when the caller will be done. The reply has the total minutes and \
        the end time, and says them in `message`.";
    type Args = DurationArgs;
    const ARGS: &'static [Arg] = DurationArgs::ARGS;

    async fn apply(deps: &FunctionDeps, inv: Invocation<'_>) -> Result<Value, FunctionError> {
        run(deps, inv).await
    }
}

async fn run(deps: &FunctionDeps, inv: Invocation<'_>) -> Result<Value, FunctionError> {
    let locale = inv.route.company.locale;
    let services = inv.services(&deps.services).await?;
    let asked = DurationArgs::read(inv.args);
    let start = asked
        .uhrzeit
        .as_deref()
        .and_then(|t| parse_time(t, inv.route.window).ok());
    let names = asked.names();
    if names.is_empty() {
        let text = GeneralSay::WhichServiceForDuration.say(locale);
        return Ok(json!({"success": false, "message": text}));
    }
    let mut matched = Vec::new();
    let mut unknown = Vec::new();
    for name in &names {
        match match_service(name, &services) {
            Ok(s) => matched.push(s),
            Err(ServiceMatchError::Ambiguous { candidates }) => {
                let text = GeneralSay::WhichService {
                    candidates: candidates.clone(),
                }
                .say(locale);
                return Ok(json!({
                    "success": false,
                    "ambiguous_service": name,
                    "candidates": candidates,
                    "message": text,
                }));
            }
            Err(ServiceMatchError::NoMatch | ServiceMatchError::TooLong) => {
                unknown.push(name.clone());
            }
        }
    }
    if !unknown.is_empty() {
        let offered: Vec<String> = services.iter().map(|s| s.name.clone()).collect();
        let text = GeneralSay::ServicesNotOffered {
            asked: unknown.clone(),
            offered,
        }
        .say(locale);
        return Ok(json!({"success": false, "unknown_services": unknown, "message": text}));
    }
    let total = matched
        .iter()
        .fold(0u32, |sum, s| sum.saturating_add(s.duration_min));
    let listed: Vec<String> = matched.iter().map(|s| s.name.clone()).collect();
    let end = start.map(|t| t + Duration::minutes(i64::from(total)));
    let text = GeneralSay::Duration {
        services: listed.clone(),
        total_min: total,
        span: start.zip(end),
    }
    .say(locale);
    Ok(json!({
        "success": true,
        "dienstleistungen": listed,
        "dauer_minuten": total,
        "ende": end.map(|e| e.format("%H:%M").to_string()),
        "message": text,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn at_most_ten_services_are_read_from_a_list_or_a_string() {
        let many: Vec<String> = (0..5_000).map(|i| format!("s{i}")).collect();
        let as_list = json!({"dienstleistungen": many});
        let as_text = json!({"services": many.join(",")});
        for args in [as_list, as_text] {
            let read = DurationArgs::read(args.as_object().unwrap());
            assert_eq!(read.names().len(), MAX_SERVICES);
        }
    }
}
