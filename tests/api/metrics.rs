//! What a Prometheus user gets from `/api/metrics` (HELP on every metric, `queue_depth`, build
//! info, process metrics, booking lag), and that the alert rules and the Grafana dashboard in
//! `deploy/` only name metrics the service exports.

use crate::common::metrics_text;
use crate::helpers::{ADMIN_TOKEN, TestApp, call, ended, spawn_app};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use switchboard_actors::metric_names::{DESCRIPTIONS, Kind};

/// A booked call, then the scrape an operator's Prometheus would take.
async fn scrape_after_a_booking() -> (TestApp, String) {
    let app = spawn_app().await;
    app.collect_complete("call_metrics_1", "14 Uhr", true).await;
    assert_eq!(
        app.webhook("call_started", call("call_metrics_1")).await,
        204
    );
    assert_eq!(
        app.webhook("call_ended", ended("call_metrics_1")).await,
        204
    );
    let view = app.wait_for_booking("call_metrics_1").await;
    assert_eq!(view["booking_job"]["status"], "done", "{view}");
    let text = metrics_text(&app.client, &app.url, ADMIN_TOKEN).await;
    (app, text)
}

/// `(name, type)` of every `# TYPE` line.
fn typed(text: &str) -> Vec<(&str, &str)> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE ")?.split_once(' '))
        .collect()
}

#[actix_web::test]
async fn every_exported_metric_has_help_text() {
    let (_app, text) = scrape_after_a_booking().await;
    let types = typed(&text);
    assert!(types.len() > 20, "{text}");
    for (name, _) in types {
        assert!(
            text.lines()
                .any(|l| l.starts_with(&format!("# HELP {name} ")) && l.len() > name.len() + 8),
            "{name} has no # HELP line"
        );
    }
}

#[actix_web::test]
async fn a_scrape_has_queue_depth_build_info_process_metrics_and_booking_lag() {
    let (_app, text) = scrape_after_a_booking().await;
    for status in ["pending", "running", "failed"] {
        let series = format!("queue_depth{{queue=\"bookings\",status=\"{status}\"}} ");
        assert!(text.contains(&series), "{series} missing:\n{text}");
    }
    assert!(text.contains("queue_oldest_pending_age_seconds{queue=\"bookings\"} "));
    let build = text
        .lines()
        .find(|l| l.starts_with("switchboard_build_info{"))
        .expect("switchboard_build_info");
    for label in ["version=\"", "git_commit=\"", "rustc=\""] {
        assert!(build.contains(label), "{build}");
    }
    assert!(build.ends_with("} 1"), "{build}");
    for name in [
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "process_open_fds",
        "process_start_time_seconds",
    ] {
        assert!(text.contains(&format!("\n{name} ")), "{name} missing");
    }
    let lag_count = text
        .lines()
        .find_map(|l| l.strip_prefix("booking_lag_seconds_count "))
        .and_then(|v| v.parse::<f64>().ok())
        .expect("booking_lag_seconds_count");
    assert!(lag_count >= 1.0, "the booking was timed: {lag_count}");
}

#[actix_web::test]
async fn promtool_check_metrics_finds_nothing_on_a_scrape() {
    let (_app, text) = scrape_after_a_booking().await;
    let Some(output) = run_promtool(&["check", "metrics"], Some(&text)) else {
        return;
    };
    let report = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && report.trim().is_empty(),
        "{report}"
    );
}

#[test]
fn alert_rules_pass_their_promtool_unit_tests() {
    let tests = repo_file("deploy/prometheus/alerts_test.yml");
    let Some(output) = run_promtool(&["test", "rules", tests.to_str().unwrap()], None) else {
        return;
    };
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[actix_web::test]
async fn alerts_and_dashboard_name_only_exported_metrics() {
    let (_app, text) = scrape_after_a_booking().await;
    let known = known_series(&text);
    let alerts = std::fs::read_to_string(repo_file("deploy/prometheus/alerts.yml")).unwrap();
    let rules = alert_exprs(&alerts);
    assert!(rules.len() >= 9, "{rules:?}");
    let dashboard = dashboard();
    let panels = dashboard_exprs(&dashboard);
    assert!(panels.len() >= 25, "{panels:?}");
    for expr in rules.iter().chain(&panels) {
        let names = metric_names(expr);
        assert!(!names.is_empty(), "no metric found in {expr}");
        for name in names {
            assert!(known.contains(&name), "{name} (in {expr}) is not exported");
        }
    }
}

#[test]
fn dashboard_is_an_importable_model_with_a_datasource_input_and_a_company_variable() {
    let d = dashboard();
    assert_eq!(d["__inputs"][0]["name"], "DS_PROMETHEUS");
    assert_eq!(d["__inputs"][0]["pluginId"], "prometheus");
    assert!(d["id"].is_null(), "an import must not carry a database id");
    let variables: Vec<&str> = d["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["name"].as_str())
        .collect();
    assert!(variables.contains(&"company"), "{variables:?}");
    let mut ids = BTreeSet::new();
    for panel in d["panels"].as_array().unwrap() {
        assert!(ids.insert(panel["id"].as_u64().unwrap()), "duplicate id");
        if panel["type"] == "row" {
            continue;
        }
        assert_eq!(panel["datasource"]["uid"], "${DS_PROMETHEUS}", "{panel}");
        let targets = panel["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{}", panel["title"]);
        for target in targets {
            assert_eq!(target["datasource"]["uid"], "${DS_PROMETHEUS}");
        }
    }
}

fn repo_file(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn dashboard() -> Value {
    let text = std::fs::read_to_string(repo_file("deploy/grafana/switchboard.json")).unwrap();
    serde_json::from_str(&text).expect("the dashboard is JSON")
}

/// `promtool args…` with `stdin`; `None` when promtool is not installed (outside CI only).
fn run_promtool(args: &[&str], stdin: Option<&str>) -> Option<std::process::Output> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let child = Command::new("promtool")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("skipped: promtool not available ({e})");
            return None;
        }
        Err(e) => panic!("promtool is required in CI: {e}"),
    };
    let mut input = child.stdin.take().unwrap();
    input
        .write_all(stdin.unwrap_or_default().as_bytes())
        .unwrap();
    drop(input);
    Some(child.wait_with_output().unwrap())
}

/// Series names a query may use: every `# TYPE` of the scrape and every described metric,
/// histograms with their `_bucket`, `_sum` and `_count`, and Prometheus' own `up`.
fn known_series(text: &str) -> BTreeSet<String> {
    let histograms = typed(text)
        .into_iter()
        .filter(|(_, kind)| *kind == "histogram")
        .map(|(name, _)| name.to_owned())
        .chain(
            DESCRIPTIONS
                .iter()
                .filter(|d| d.kind == Kind::Histogram)
                .map(|d| d.name.to_owned()),
        );
    let mut known: BTreeSet<String> = typed(text)
        .into_iter()
        .map(|(name, _)| name.to_owned())
        .chain(DESCRIPTIONS.iter().map(|d| d.name.to_owned()))
        .collect();
    for h in histograms.collect::<Vec<_>>() {
        for suffix in ["_bucket", "_sum", "_count"] {
            known.insert(format!("{h}{suffix}"));
        }
    }
    known.insert("up".to_owned());
    known
}

/// The `expr` of every rule: one line, or the indented block after `expr: |`.
fn alert_exprs(yaml: &str) -> Vec<String> {
    let lines: Vec<&str> = yaml.lines().collect();
    let mut exprs = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(rest) = line.trim_start().strip_prefix("expr:") else {
            continue;
        };
        if rest.trim() != "|" {
            exprs.push(rest.trim().to_owned());
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let block: Vec<&str> = lines[i + 1..]
            .iter()
            .take_while(|l| l.len() - l.trim_start().len() > indent)
            .map(|l| l.trim())
            .collect();
        exprs.push(block.join(" "));
    }
    exprs
}

/// Every target's `expr`, rows included.
fn dashboard_exprs(d: &Value) -> Vec<String> {
    fn walk(panels: &Value, out: &mut Vec<String>) {
        for panel in panels.as_array().into_iter().flatten() {
            for target in panel["targets"].as_array().into_iter().flatten() {
                out.extend(target["expr"].as_str().map(str::to_owned));
            }
            walk(&panel["panels"], out);
        }
    }
    let mut out = Vec::new();
    walk(&d["panels"], &mut out);
    out
}

/// PromQL modifiers followed by a list of label names.
const LABEL_LISTS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

/// Other PromQL words that are not series names: operators and aggregations.
#[rustfmt::skip]
const PROMQL_WORDS: &[&str] = &[
    "and", "or", "unless", "bool", "offset", "sum", "min", "max", "avg", "group", "stddev",
    "stdvar", "count", "count_values", "bottomk", "topk", "quantile", "inf", "nan",
];

/// The series names of a PromQL expression: identifiers outside label matchers, ranges,
/// strings and `by (…)` lists, not followed by `(` (a function) and not a PromQL word.
fn metric_names(expr: &str) -> Vec<String> {
    let chars: Vec<char> = expr.chars().collect();
    let word_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let mut names = Vec::new();
    let (mut braces, mut brackets, mut quote) = (0, 0, None);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = quote {
            if c == '\\' {
                i += 1;
            } else if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match c {
            '"' | '\'' | '`' => quote = Some(c),
            '{' => braces += 1,
            '}' => braces -= 1,
            '[' => brackets += 1,
            ']' => brackets -= 1,
            // Numbers and durations (0.95, 1e3, 10m).
            c if c.is_ascii_digit() => {
                while i + 1 < chars.len() && (word_char(chars[i + 1]) || chars[i + 1] == '.') {
                    i += 1;
                }
            }
            c if word_char(c) => {
                let start = i;
                while i < chars.len() && word_char(chars[i]) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let next = chars[i..].iter().find(|c| !c.is_whitespace());
                let variable = start > 0 && chars[start - 1] == '$';
                if LABEL_LISTS.contains(&word.as_str()) && next == Some(&'(') {
                    while i < chars.len() && chars[i] != ')' {
                        i += 1;
                    }
                } else if !(variable
                    || braces > 0
                    || brackets > 0
                    || next == Some(&'(')
                    || PROMQL_WORDS.contains(&word.as_str())
                    || LABEL_LISTS.contains(&word.as_str()))
                {
                    names.push(word);
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    names
}

#[test]
fn metric_names_finds_series_and_skips_functions_labels_and_lists() {
    assert_eq!(
        metric_names(
            r#"histogram_quantile(0.95, sum by (server, le) (rate(mcp_request_duration_seconds_bucket{instance=~"$instance"}[$__rate_interval]))) > 1e3"#
        ),
        ["mcp_request_duration_seconds_bucket"]
    );
    assert_eq!(
        metric_names(
            "count(max by (service) (up) > 0) or vector(0) - time() + queue_depth offset 10m"
        ),
        ["up", "queue_depth"]
    );
}
