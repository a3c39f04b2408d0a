//! `calculate_duration`: how long one or more services take, and when the caller is done if a
//! start time is given. Args: `dienstleistung|service` (one name) or `dienstleistungen|services`
//! (a list or a comma-separated string), optional `uhrzeit|time`.

use super::{FunctionDeps, FunctionError, Invocation, args, speech};
use crate::domain::datetime::parse_time;
use crate::domain::service_match::match_service;
use crate::domain::tenant::Locale;
use chrono::Duration;
use serde_json::{Value, json};

fn requested_names(inv: &Invocation<'_>) -> Vec<String> {
    for key in ["dienstleistungen", "services"] {
        match inv.args.get(key) {
            Some(Value::Array(items)) => {
                return items
                    .iter()
                    .filter_map(|v| v.as_str())
                    .map(|s| s.trim().to_owned())
                    .collect();
            }
            Some(Value::String(s)) => {
                return s
                    .split([',', ';'])
                    .map(|p| p.trim().to_owned())
                    .filter(|p| !p.is_empty())
                    .collect();
            }
            _ => {}
        }
    }
    args::text(inv.args, args::SERVICE).into_iter().collect()
}

/// Runs the function.
pub async fn run(deps: &FunctionDeps, inv: Invocation<'_>) -> Result<Value, FunctionError> {
    let locale = inv.route.company.locale;
    let services = deps.store.services(inv.route.company.id).await?;
    let names = requested_names(&inv);
    if names.is_empty() {
        let text = match locale {
            Locale::De => "Für welche Dienstleistung möchten Sie die Dauer wissen?",
            Locale::En => "Which service would you like the duration for?",
        };
        return Ok(json!({"success": false, "message": text}));
    }
    let mut matched = Vec::new();
    let mut unknown = Vec::new();
    for name in &names {
        match match_service(name, &services) {
            Some(s) => matched.push(s),
            None => unknown.push(name.clone()),
        }
    }
    if !unknown.is_empty() {
        let offered: Vec<String> = services.iter().map(|s| s.name.clone()).collect();
        let text = match locale {
            Locale::De => format!(
                "{} bieten wir nicht an. Wir bieten {}.",
                speech::list(&unknown, locale),
                speech::list(&offered, locale)
            ),
            Locale::En => format!(
                "We don't offer {}. We offer {}.",
                speech::list(&unknown, locale),
                speech::list(&offered, locale)
            ),
        };
        return Ok(json!({"success": false, "unknown_services": unknown, "message": text}));
    }
    let total: u32 = matched.iter().map(|s| s.duration_min).sum();
    let listed: Vec<String> = matched.iter().map(|s| s.name.clone()).collect();
    let start =
        args::text(inv.args, args::TIME).and_then(|t| parse_time(&t, inv.route.window).ok());
    let end = start.map(|t| t + Duration::minutes(i64::from(total)));
    let several = listed.len() > 1;
    let mut text = match (locale, several) {
        (Locale::De, false) => format!("{} dauert {total} Minuten.", listed[0]),
        (Locale::De, true) => format!(
            "{} dauern zusammen {total} Minuten.",
            speech::list(&listed, locale)
        ),
        (Locale::En, false) => format!("{} takes {total} minutes.", listed[0]),
        (Locale::En, true) => format!(
            "{} take {total} minutes together.",
            speech::list(&listed, locale)
        ),
    };
    if let (Some(s), Some(e)) = (start, end) {
        text.push(' ');
        text.push_str(&match locale {
            Locale::De => format!(
                "Bei Beginn um {} sind Sie gegen {} fertig.",
                speech::time(s, locale),
                speech::time(e, locale)
            ),
            Locale::En => format!(
                "Starting at {}, you'll be done around {}.",
                speech::time(s, locale),
                speech::time(e, locale)
            ),
        });
    }
    Ok(json!({
        "success": true,
        "dienstleistungen": listed,
        "dauer_minuten": total,
        "ende": end.map(|e| e.format("%H:%M").to_string()),
        "message": text,
    }))
}
