//! MCP prompts: task recipes an assistant offers its user, each naming the tools (by their MCP
//! names) and resources to use, in order, what to report and the rules to keep.
//!
//! - `daily_booking_report` (`company`, `date`): one day's calls, bookings and failures of a
//!   company, read-only.
//! - `triage_failed_bookings` (`company`): the company's dead letters, classified by cause,
//!   retried only after the user agrees.
//!
//! `company` is a slug; a company token may leave it out (its own company) and may name no
//! other — an unknown slug and another company's get the same refusal. The company is
//! resolved through `company.list` for the caller's grant, so a prompt never renders anything
//! of a company the token may not see, and its id and time zone are written into the text.

use super::handler::Dispatcher;
use super::resources::{self, Company, Kind};
use chrono::{DateTime, NaiveDate, Utc};
use rmcp::model::{GetPromptResult, JsonObject, Prompt, PromptArgument, PromptMessage, Role};
use serde_json::Value;
use switchboard_actors::domain::onboarding::Slug;
use switchboard_actors::domain::text::excerpt;
use switchboard_actors::jsonrpc::RpcError;

/// Name of the daily report prompt.
pub const DAILY_BOOKING_REPORT: &str = "daily_booking_report";

/// Name of the dead-letter triage prompt.
pub const TRIAGE_FAILED_BOOKINGS: &str = "triage_failed_bookings";

/// Why a prompt could not be rendered (`prompts/get` answers -32602, or the method's error
/// for [`PromptError::Method`]).
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    /// No prompt of this name.
    #[error("Unknown prompt: {0}")]
    Unknown(String),
    /// A required argument is missing or malformed.
    #[error("invalid argument {name}: {reason}")]
    Argument {
        /// The argument.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Looking up the company failed (e.g. -32003 rate limited).
    #[error(transparent)]
    Method(#[from] RpcError),
}

fn company_argument() -> PromptArgument {
    PromptArgument::new("company")
        .with_title("Company slug")
        .with_description(
            "Slug of the company, e.g. `demo-salon-berlin` (resources/list shows the ones this \
             token may read). Leave it out with a company token: its own company. Required with \
             an admin token of no company.",
        )
        .with_required(false)
}

/// Every prompt.
pub fn list() -> Vec<Prompt> {
    vec![
        Prompt::new(
            DAILY_BOOKING_REPORT,
            Some(
                "Report one day of a company: its calls, the bookings they led to, bookings in \
                 Cal.com, and every failure with its reason. Read-only.",
            ),
            Some(vec![
                company_argument(),
                PromptArgument::new("date")
                    .with_title("Day")
                    .with_description(
                        "The day to report, YYYY-MM-DD, in the company's time zone; default \
                         today there.",
                    )
                    .with_required(false),
            ]),
        )
        .with_title("Daily booking report"),
        Prompt::new(
            TRIAGE_FAILED_BOOKINGS,
            Some(
                "Go through a company's failed bookings (dead letters): why each failed, which \
                 can be retried, and retry those the user agrees to.",
            ),
            Some(vec![company_argument()]),
        )
        .with_title("Triage failed bookings"),
    ]
}

/// The prompt `name` rendered with `args` for `d`'s grant.
///
/// # Errors
/// [`PromptError::Unknown`] for an unknown name; [`PromptError::Argument`] for an unknown
/// argument, a malformed slug or date, a missing `company` with an admin token of no company,
/// or a company the token may not see (as for one that does not exist);
/// [`PromptError::Method`] when the company lookup failed.
pub async fn get(
    name: &str,
    args: &JsonObject,
    d: &Dispatcher,
) -> Result<GetPromptResult, PromptError> {
    let allowed: &[&str] = match name {
        DAILY_BOOKING_REPORT => &["company", "date"],
        TRIAGE_FAILED_BOOKINGS => &["company"],
        _ => return Err(PromptError::Unknown(excerpt(name, 80))),
    };
    if let Some(unknown) = args.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(argument(
            "arguments",
            format!(
                "unknown argument {:?}; this prompt takes {}",
                excerpt(unknown, 40),
                allowed.join(", ")
            ),
        ));
    }
    let slug = text_argument(args, "company")?
        .map(parse_slug)
        .transpose()?;
    let date = text_argument(args, "date")?.map(parse_date).transpose()?;
    let company = resolve(d, slug).await?;
    let text = if name == DAILY_BOOKING_REPORT {
        let day = date.unwrap_or_else(|| resources::today(&company, Utc::now()));
        daily_booking_report(&company, day)
    } else {
        triage_failed_bookings(&company)
    };
    Ok(
        GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)]).with_description(
            format!(
                "{} for {} ({})",
                name.replace('_', " "),
                company.name,
                company.slug
            ),
        ),
    )
}

fn argument(name: &'static str, reason: impl Into<String>) -> PromptError {
    PromptError::Argument {
        name,
        reason: reason.into(),
    }
}

/// The string argument `name`, if given; prompt arguments are strings (MCP `prompts/get`).
fn text_argument<'a>(
    args: &'a JsonObject,
    name: &'static str,
) -> Result<Option<&'a str>, PromptError> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(argument(name, "must be a string")),
    }
}

fn parse_slug(s: &str) -> Result<Slug, PromptError> {
    Slug::parse(s).map_err(|e| argument("company", e.to_string()))
}

/// A `YYYY-MM-DD` date, exactly that shape (chrono alone also reads `2026-1-5`).
pub fn parse_date(s: &str) -> Result<NaiveDate, PromptError> {
    let shaped = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    shaped
        .then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| {
            argument(
                "date",
                format!("{:?} is not a date as YYYY-MM-DD", excerpt(s, 40)),
            )
        })
}

/// The company the prompt is about: the one named, if the grant may see it; else the
/// token's own.
async fn resolve(d: &Dispatcher, slug: Option<Slug>) -> Result<Company, PromptError> {
    match (slug, d.grant().company_id) {
        (Some(slug), _) => resources::company(d, slug.as_str()).await?.ok_or_else(|| {
            argument(
                "company",
                format!("no company {} for this token", slug.as_str()),
            )
        }),
        (None, None) => Err(argument(
            "company",
            "required with an admin token of no company (give a slug)",
        )),
        (None, Some(own)) => match d.store.company(own).await {
            Ok(Some(profile)) => Ok(Company::from(profile)),
            Ok(None) => Err(argument("company", "this token's company is not available")),
            Err(e) => Err(PromptError::Method(RpcError::internal(format!(
                "company lookup failed: {e}"
            )))),
        },
    }
}

fn uri(company: &Company, kind: Kind) -> String {
    format!("{}{}/{}", resources::URI_PREFIX, company.slug, kind.path())
}

fn utc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The rules every prompt ends with.
fn rules(company: &Company) -> String {
    format!(
        "Rules:\n\
         - Act only on {name} (company_id {id}); pass \"company_id\": {id} to every tool that \
         takes one.\n\
         - Tools answer times in UTC; show every time to the user in {tz} (the company's time \
         zone), with the date.\n\
         - Never call a tool that changes state (queue_retryJob, queue_retryFailed, \
         calcom_createBooking, calcom_updateBooking, calcom_cancelBooking, \
         appointments_change, appointments_cancel) without asking the user first and getting a \
         clear yes for exactly that action.\n\
         - A tool result with isError says what went wrong and what to do; follow it, and do \
         not guess data you could not read. Show callers' phone numbers only by their last \
         four digits.",
        name = company.name,
        id = company.id,
        tz = company.time_zone,
    )
}

fn daily_booking_report(company: &Company, day: NaiveDate) -> String {
    let (since, until) = resources::day_bounds(day, company.zone());
    let (since, until) = (utc(since), utc(until));
    let id = company.id;
    format!(
        "Write the daily booking report of {name} (slug {slug}, company_id {id}) for {day} \
         ({weekday}), in the time zone {tz}: that day runs from {since} to {until} UTC.\n\n\
         Steps:\n\
         1. Read the resource {config} for the branches, their phone numbers and the \
         services.\n\
         2. Call webhook_listCalls with {{\"company_id\": {id}, \"since\": \"{since}\", \
         \"until\": \"{until}\"}}. If the result says truncated, call it again with since = the \
         last call's started_at until you have every call. (For today, the resource \
         {today_uri} shows the same calls with counts.)\n\
         3. Call calcom_getBookings with {{\"company_id\": {id}, \"after_start\": \"{since}\", \
         \"before_end\": \"{until}\"}} for the appointments of that day in Cal.com, whoever \
         booked them.\n\
         4. Call queue_getFailedJobs with {{\"company_id\": {id}}} (or read {dead_uri}) and keep \
         the jobs that failed on that day (their updated_at between {since} and {until}).\n\
         5. For a failed booking you need more about, call webhook_getCall with its call_id.\n\n\
         Report, in this order:\n\
         - Calls: how many, and how many led to a booking, are still pending, failed, were \
         cancelled or asked for no booking.\n\
         - Bookings in Cal.com on that day: how many, by service and branch, with their local \
         start times.\n\
         - Failures: each failed booking with its call id, the service and time the caller \
         wanted, the attempts made and the reason (last_error) in plain words, and what would \
         fix it. Say \"none\" when there are none.\n\
         - Anything unusual: calls that ended without the data the agent should collect, many \
         short calls, a branch with no calls.\n\n\
         This is a read-only task: change nothing. To act on failures, the user can run the \
         prompt {triage}.\n\n{rules}",
        name = company.name,
        slug = company.slug,
        weekday = day.format("%A"),
        tz = company.time_zone,
        config = uri(company, Kind::Configuration),
        today_uri = uri(company, Kind::CallsToday),
        dead_uri = uri(company, Kind::DeadLetters),
        triage = TRIAGE_FAILED_BOOKINGS,
        rules = rules(company),
    )
}

fn triage_failed_bookings(company: &Company) -> String {
    let id = company.id;
    format!(
        "Triage the failed bookings (dead letters) of {name} (slug {slug}, company_id {id}); \
         times in {tz}.\n\n\
         Steps:\n\
         1. Read the resource {dead_uri} (or call queue_getFailedJobs with \
         {{\"company_id\": {id}}}; if next_before_id is set, call it again with \
         \"before_id\" = that value until you have every job). If there are none, say so and \
         stop.\n\
         2. Read the resource {config} for the services and branches.\n\
         3. For each job with a call_id, call webhook_getCall with {{\"call_id\": …}} to see \
         what the caller asked for (service, date, time, name).\n\
         4. Sort each job by the reason in its last_error:\n\
            - slot taken or outside the schedule (2003): call calcom_checkAvailability with \
         {{\"company_id\": {id}, \"service\": …, \"date\": …}} and note free times near the one \
         wanted; a retry would fail again unless the slot is free now.\n\
            - Cal.com or Retell unavailable, timeouts, rate limits (-32004, -32005, -32003): \
         retryable now.\n\
            - an API key refused (2001, 1001), an event type or service not found (2002, \
         3003): not retryable until an administrator fixes the configuration; say what to \
         fix.\n\
            - invalid data (4001–4004): not retryable; the caller must be called back.\n\
         5. Show the user a table: job id, call id, service, wanted local time, attempts, \
         reason, your recommendation (retry / call the caller back / fix configuration).\n\
         6. Ask the user which jobs to retry. Only after a clear yes, call queue_retryJob with \
         {{\"job_id\": …}} for each agreed job (or, if the user agrees to retry all of them, \
         queue_retryFailed with {{\"company_id\": {id}, \"since\": <the oldest agreed job's \
         updated_at>}}).\n\
         7. Wait a minute, then read {dead_uri} again and report which retried jobs succeeded \
         and which failed again, with the new reason.\n\n{rules}",
        name = company.name,
        slug = company.slug,
        tz = company.time_zone,
        dead_uri = uri(company, Kind::DeadLetters),
        config = uri(company, Kind::Configuration),
        rules = rules(company),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use switchboard_actors::domain::ids::CompanyId;
    use switchboard_actors::servers::{
        appointments::AppointmentServer, calcom::CalcomServer, queue::QueueServer,
        webhook::WebhookServer,
    };

    fn company() -> Company {
        Company {
            id: CompanyId(7),
            slug: "demo-salon-berlin".into(),
            name: "Demo Salon Berlin".into(),
            time_zone: "Europe/Berlin".into(),
        }
    }

    fn texts() -> Vec<String> {
        let day = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
        vec![
            daily_booking_report(&company(), day),
            triage_failed_bookings(&company()),
        ]
    }

    /// The tools of the servers whose tools the prompts name.
    fn tool_names() -> BTreeSet<String> {
        [
            CalcomServer::methods(),
            QueueServer::methods(),
            WebhookServer::methods(),
            AppointmentServer::methods(),
        ]
        .concat()
        .iter()
        .map(|spec| super::super::tools::tool_name(spec.name))
        .collect()
    }

    #[test]
    fn every_tool_a_prompt_names_exists() {
        let tools = tool_names();
        let servers = ["calcom_", "queue_", "webhook_", "appointments_"];
        let mut named = 0;
        for text in texts() {
            for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if servers.iter().any(|s| word.starts_with(s)) {
                    assert!(tools.contains(word), "{word} is no tool");
                    named += 1;
                }
            }
        }
        assert!(named > 10, "{named}");
    }

    #[test]
    fn prompts_name_the_tools_their_task_needs() {
        let [daily, triage] = <[String; 2]>::try_from(texts()).unwrap();
        for tool in [
            "webhook_listCalls",
            "calcom_getBookings",
            "queue_getFailedJobs",
        ] {
            assert!(daily.contains(tool), "{tool}");
        }
        for tool in ["queue_getFailedJobs", "queue_retryJob", "webhook_getCall"] {
            assert!(triage.contains(tool), "{tool}");
        }
        for text in [&daily, &triage] {
            assert!(text.contains("company_id 7") && text.contains("Europe/Berlin"));
            assert!(text.contains("without asking the user first"));
        }
    }

    #[test]
    fn the_daily_report_spans_the_local_day_in_utc() {
        let daily = &texts()[0];
        // 29 March 2026 in Berlin: 23 hours, from 23:00 UTC the day before.
        assert!(
            daily.contains("from 2026-03-28T23:00:00Z to 2026-03-29T22:00:00Z"),
            "{daily}"
        );
        assert!(daily.contains("Sunday"));
    }

    #[test]
    fn prompts_list_their_arguments_none_required() {
        let prompts = list();
        let names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, [DAILY_BOOKING_REPORT, TRIAGE_FAILED_BOOKINGS]);
        let args = |i: usize| -> Vec<(String, Option<bool>)> {
            prompts[i]
                .arguments
                .clone()
                .unwrap()
                .into_iter()
                .map(|a| (a.name, a.required))
                .collect()
        };
        assert_eq!(
            args(0),
            [
                ("company".into(), Some(false)),
                ("date".into(), Some(false))
            ]
        );
        assert_eq!(args(1), [("company".into(), Some(false))]);
    }

    #[test]
    fn only_dates_shaped_yyyy_mm_dd_are_read() {
        assert_eq!(
            parse_date("2026-03-29").unwrap(),
            NaiveDate::from_ymd_opt(2026, 3, 29).unwrap()
        );
        for bad in [
            "",
            "2026-3-29",
            "2026-02-30",
            "29.03.2026",
            "2026/03/29",
            "+2026-03-2",
            "2026-03-29T00:00:00Z",
            "２０２６-03-29",
            "today",
        ] {
            assert!(parse_date(bad).is_err(), "{bad:?}");
        }
        assert!(parse_date(&"9".repeat(100_000)).is_err());
    }

    #[test]
    fn a_malformed_slug_is_an_argument_error() {
        for bad in ["Demo", "demo salon", "../x", "", "é"] {
            assert!(
                matches!(
                    parse_slug(bad),
                    Err(PromptError::Argument {
                        name: "company",
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_non_string_argument_is_refused() {
        let args: JsonObject =
            serde_json::from_value(serde_json::json!({"date": 20260329})).unwrap();
        assert!(matches!(
            text_argument(&args, "date"),
            Err(PromptError::Argument { name: "date", .. })
        ));
    }
}
