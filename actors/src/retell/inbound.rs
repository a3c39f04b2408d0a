//! The answer to Retell's inbound-call webhook (reference/retell.md §1.6): which agent takes a
//! call to one of our numbers and the dynamic variables its prompt reads (`{{business_name}}`,
//! …). Pure: [`answer`] words what [`caller`] and the tenant tables found, at an instant the
//! caller passes in, so every variable is testable without a clock or a database.
//!
//! Variables (`map<string,string>`: Retell takes string values only), worded in the tenant's
//! language by [`crate::speech::inbound`]:
//!
//! | name | value |
//! |---|---|
//! | `business_name`, `branch_name` | the company's and the dialled branch's display names |
//! | `language` | `de` or `en` |
//! | `today` | the local date, e.g. `Dienstag, 24.11.2026`; `today_date` `2026-11-24`; `weekday` `Dienstag` |
//! | `current_time` | local time, e.g. `14:30 Uhr` / `2:30 pm` |
//! | `opening_hours_today` | e.g. `9 bis 18 Uhr`, `heute geschlossen`, `nicht hinterlegt` |
//! | `open_now` | `true`, `false`, or `unknown` when the branch has no hours on file |
//! | `services` | e.g. `Herrenhaarschnitt (30 Minuten), Färben (90 Minuten)` (at most [`MAX_SERVICES_LISTED`]) |
//! | `service_count` | how many services the branch offers, e.g. `2` |
//! | `caller_known` | `true` when the caller's number is a customer or has an appointment, else `false` |
//! | `caller_name` | the customer's name, when stored |
//! | `next_appointment` | e.g. `Färben am Dienstag, 24.11.2026 um 14 Uhr`; with `next_appointment_service`, `next_appointment_date` (`2026-11-24`) and `next_appointment_time` (`14:00`), local |
//!
//! The `caller_*` and `next_appointment*` variables are left out when the caller's number is
//! withheld or not a phone number.

use crate::domain::phone::PhoneNumber;
use crate::domain::tenant::{Service, TenantRoute};
use crate::ports::{AppointmentStore, StoreError};
use crate::speech::inbound::InboundSay;
use crate::speech::{self, Catalog};
use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// Most services named in `services`; `service_count` still counts all of them. Bounds the
/// variable (and the prompt it lands in) whatever a tenant file lists.
pub const MAX_SERVICES_LISTED: usize = 30;

/// What we know about the person calling, from our own tables.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Caller {
    /// The customer's stored name, else the name on their next appointment.
    pub name: Option<String>,
    /// Their next standing appointment with the company.
    pub next: Option<NextAppointment>,
}

/// A caller's next appointment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NextAppointment {
    /// Service name as booked.
    pub service: String,
    /// Start, UTC.
    pub start: DateTime<Utc>,
}

/// Body of our 200 answer: `{"call_inbound": {…}}` (reference/retell.md §1.6).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct InboundAnswer {
    /// What Retell applies to the call.
    pub call_inbound: CallInbound,
}

/// `call_inbound` of the answer; every field optional. All empty: no agent is named, so
/// Retell connects the number's own inbound agent, or rejects the call when it has none.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CallInbound {
    /// The tenant's agent (`retell.agent_id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub override_agent_id: Option<String>,
    /// The prompt's variables (table in the module docs).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub dynamic_variables: BTreeMap<String, String>,
    /// Stored by Retell on the call and sent back in its webhooks: `company` (slug) and
    /// `branch_id`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

impl InboundAnswer {
    /// The empty answer: names no agent and sets nothing (a disabled tenant's calls).
    pub fn refusal() -> Self {
        Self::default()
    }
}

/// What our tables know about the caller at `from_number` (E.164 after normalising; a
/// withheld or malformed number is `Ok(None)`), as of `now`: the customer's name and their
/// next scheduled appointment that has not ended. Two indexed reads, nothing upstream.
///
/// # Errors
/// The store's failure.
pub async fn caller(
    store: &dyn AppointmentStore,
    route: &TenantRoute,
    from_number: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<Caller>, StoreError> {
    let Some(phone) = from_number.and_then(|n| PhoneNumber::parse_default(n).ok()) else {
        return Ok(None);
    };
    let company = route.company.id;
    let (name, upcoming) = futures_util::try_join!(
        store.customer_name(company, phone.as_str()),
        store.upcoming_appointments(company, phone.as_str(), now, 1),
    )?;
    let next = upcoming.into_iter().next();
    Ok(Some(Caller {
        name: name.or_else(|| next.as_ref().map(|a| a.attendee_name.clone())),
        next: next.map(|a| NextAppointment {
            service: a.service_name,
            start: a.start,
        }),
    }))
}

/// The answer for an enabled tenant: its agent (when it has one) and the variables of the
/// module docs at `now`. `services` are those offered at the dialled branch, in the order to
/// name them; `caller` is `None` for a withheld number.
pub fn answer(
    route: &TenantRoute,
    services: &[Service],
    caller: Option<&Caller>,
    now: DateTime<Utc>,
) -> InboundAnswer {
    let company = &route.company;
    let locale = company.locale;
    let local = now.with_timezone(&company.time_zone).naive_local();
    let today = local.date();
    let mut vars = BTreeMap::new();
    let mut set = |name: &str, value: String| {
        vars.insert(name.to_owned(), value);
    };
    set("business_name", company.name.clone());
    set("branch_name", route.branch_name.clone());
    set("language", locale.as_str().to_owned());
    set("today", speech::date(today, locale));
    set("today_date", today.to_string());
    set(
        "weekday",
        speech::weekday(today.weekday(), locale).to_owned(),
    );
    set("current_time", speech::time(local.time(), locale));
    let (hours, open_now) = match &route.opening_hours {
        Some(hours) => {
            let ranges = hours.day(today.weekday()).to_vec();
            let open = ranges
                .iter()
                .any(|r| r.opens <= local.time() && local.time() < r.closes);
            (InboundSay::HoursToday { ranges }, open.to_string())
        }
        None => (InboundSay::HoursNotStated, "unknown".to_owned()),
    };
    set("opening_hours_today", hours.say(locale));
    set("open_now", open_now);
    let listed = services
        .iter()
        .take(MAX_SERVICES_LISTED)
        .map(|s| (s.name.clone(), s.duration_min))
        .collect();
    set(
        "services",
        InboundSay::Services { services: listed }.say(locale),
    );
    set("service_count", services.len().to_string());
    if let Some(caller) = caller {
        let known = caller.name.is_some() || caller.next.is_some();
        set("caller_known", known.to_string());
        if let Some(name) = &caller.name {
            set("caller_name", name.clone());
        }
        if let Some(next) = &caller.next {
            let start = next.start.with_timezone(&company.time_zone).naive_local();
            let phrase = InboundSay::NextAppointment {
                service: next.service.clone(),
                date: start.date(),
                time: start.time(),
            };
            set("next_appointment", phrase.say(locale));
            set("next_appointment_service", next.service.clone());
            set("next_appointment_date", start.date().to_string());
            set(
                "next_appointment_time",
                start.time().format("%H:%M").to_string(),
            );
        }
    }
    let metadata = BTreeMap::from([
        ("company".to_owned(), company.slug.clone()),
        ("branch_id".to_owned(), route.branch_id.to_string()),
    ]);
    InboundAnswer {
        call_inbound: CallInbound {
            override_agent_id: company.retell_agent_id.clone(),
            dynamic_variables: vars,
            metadata,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appointments::testing::{Appointments, CALLER, COMPANY, row};
    use crate::domain::ids::{BranchId, EventTypeId};
    use crate::domain::onboarding::{BookingPolicy, OpeningHours};
    use crate::domain::tenant::{BusinessWindow, CompanyProfile, Locale};
    use chrono::TimeZone;
    use secrecy::SecretString;
    use serde_json::json;

    fn route(locale: Locale, agent: Option<&str>, hours: Option<&[(&str, &str)]>) -> TenantRoute {
        let hours = hours.map(|days| {
            let written = days
                .iter()
                .map(|(d, h)| ((*d).to_owned(), (*h).to_owned()))
                .collect();
            OpeningHours::parse(&written).unwrap()
        });
        TenantRoute {
            company: CompanyProfile {
                id: COMPANY,
                slug: "demo-salon-berlin".into(),
                name: "Demo Salon Berlin".into(),
                locale,
                time_zone: chrono_tz::Europe::Berlin,
                retell_api_key: SecretString::from("key_test"),
                retell_agent_id: agent.map(str::to_owned),
                calcom_api_key: SecretString::from("cal_test"),
                calcom_base_url: None,
                policy: BookingPolicy::default(),
                disabled: false,
                sms: None,
                calcom_webhook_secret: SecretString::from(""),
            },
            branch_id: BranchId(3),
            branch_name: "Mitte".into(),
            window: BusinessWindow::default(),
            opening_hours: hours,
        }
    }

    fn service(name: &str, duration_min: u32) -> Service {
        Service {
            id: 1,
            company_id: COMPANY,
            name: name.into(),
            aliases: vec![],
            duration_min,
            event_type_id: EventTypeId(7),
            team_id: None,
            branch_ids: vec![],
        }
    }

    /// Tuesday 2026-11-24, 14:30 in Berlin (13:30 UTC).
    fn tuesday_afternoon() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 13, 30, 0).unwrap()
    }

    const HOURS: &[(&str, &str)] = &[("tue", "09:00-12:00,14:00-18:00"), ("wed", "09:00-18:00")];

    fn vars(answer: &InboundAnswer) -> serde_json::Value {
        serde_json::to_value(&answer.call_inbound.dynamic_variables).unwrap()
    }

    #[test]
    fn answer_names_the_tenants_agent_and_its_business_variables() {
        let route = route(Locale::De, Some("agent_demo"), Some(HOURS));
        let services = [service("Herrenhaarschnitt", 30), service("Färben", 90)];
        let answer = answer(&route, &services, None, tuesday_afternoon());
        assert_eq!(
            answer.call_inbound.override_agent_id.as_deref(),
            Some("agent_demo")
        );
        assert_eq!(
            vars(&answer),
            json!({
                "business_name": "Demo Salon Berlin",
                "branch_name": "Mitte",
                "language": "de",
                "today": "Dienstag, 24.11.2026",
                "today_date": "2026-11-24",
                "weekday": "Dienstag",
                "current_time": "14:30 Uhr",
                "opening_hours_today": "9 bis 12 Uhr und 14 bis 18 Uhr",
                "open_now": "true",
                "services": "Herrenhaarschnitt (30 Minuten), Färben (90 Minuten)",
                "service_count": "2",
            })
        );
        assert_eq!(
            serde_json::to_value(&answer.call_inbound.metadata).unwrap(),
            json!({"company": "demo-salon-berlin", "branch_id": "3"})
        );
    }

    #[test]
    fn every_variable_is_a_string() {
        let route = route(Locale::En, Some("agent_demo"), Some(HOURS));
        let caller = Caller {
            name: Some("Max Mustermann".into()),
            next: Some(NextAppointment {
                service: "Färben".into(),
                start: tuesday_afternoon(),
            }),
        };
        let body = serde_json::to_value(answer(
            &route,
            &[service("Färben", 90)],
            Some(&caller),
            tuesday_afternoon(),
        ))
        .unwrap();
        for key in ["dynamic_variables", "metadata"] {
            let map = body["call_inbound"][key].as_object().unwrap();
            assert!(!map.is_empty());
            assert!(map.values().all(serde_json::Value::is_string), "{body}");
        }
    }

    #[test]
    fn today_and_hours_are_read_in_the_tenants_zone_and_language() {
        // 23:30 UTC on Tuesday is 00:30 on Wednesday in Berlin.
        let late = Utc.with_ymd_and_hms(2026, 11, 24, 23, 30, 0).unwrap();
        let route = route(Locale::En, None, Some(HOURS));
        let answer = answer(&route, &[], None, late);
        let v = vars(&answer);
        assert_eq!(v["today"], "Wednesday, 25 November 2026");
        assert_eq!(v["weekday"], "Wednesday");
        assert_eq!(v["current_time"], "12:30 am");
        assert_eq!(v["opening_hours_today"], "9 am to 6 pm");
        assert_eq!(v["open_now"], "false");
        assert_eq!(v["services"], "none");
        assert_eq!(v["service_count"], "0");
    }

    #[test]
    fn a_closed_day_and_missing_hours_are_said_as_such() {
        let sunday = Utc.with_ymd_and_hms(2026, 11, 29, 11, 0, 0).unwrap();
        let closed = answer(&route(Locale::De, None, Some(HOURS)), &[], None, sunday);
        assert_eq!(vars(&closed)["opening_hours_today"], "heute geschlossen");
        assert_eq!(vars(&closed)["open_now"], "false");
        let unstated = answer(&route(Locale::De, None, None), &[], None, sunday);
        assert_eq!(vars(&unstated)["opening_hours_today"], "nicht hinterlegt");
        assert_eq!(vars(&unstated)["open_now"], "unknown");
    }

    #[test]
    fn a_known_caller_gets_their_name_and_next_appointment_in_local_time() {
        let route = route(Locale::De, Some("agent_demo"), None);
        let caller = Caller {
            name: Some("Max Mustermann".into()),
            next: Some(NextAppointment {
                service: "Färben".into(),
                // 09:00 UTC in winter is 10:00 in Berlin.
                start: Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap(),
            }),
        };
        let v = vars(&answer(&route, &[], Some(&caller), tuesday_afternoon()));
        assert_eq!(v["caller_known"], "true");
        assert_eq!(v["caller_name"], "Max Mustermann");
        assert_eq!(
            v["next_appointment"],
            "Färben am Donnerstag, 26.11.2026 um 10 Uhr"
        );
        assert_eq!(v["next_appointment_service"], "Färben");
        assert_eq!(v["next_appointment_date"], "2026-11-26");
        assert_eq!(v["next_appointment_time"], "10:00");
    }

    #[test]
    fn a_withheld_caller_gets_no_caller_variables() {
        let route = route(Locale::De, Some("agent_demo"), None);
        let v = vars(&answer(&route, &[], None, tuesday_afternoon()));
        for key in ["caller_known", "caller_name", "next_appointment"] {
            assert!(v.get(key).is_none(), "{key} in {v}");
        }
        let unknown = vars(&answer(
            &route,
            &[],
            Some(&Caller::default()),
            tuesday_afternoon(),
        ));
        assert_eq!(unknown["caller_known"], "false");
        assert!(unknown.get("caller_name").is_none());
    }

    #[test]
    fn the_service_list_is_bounded_and_the_count_is_not() {
        let many: Vec<Service> = (0..MAX_SERVICES_LISTED + 5)
            .map(|i| service(&format!("S{i}"), 15))
            .collect();
        let route = route(Locale::De, None, None);
        let v = vars(&answer(&route, &many, None, tuesday_afternoon()));
        let listed = v["services"].as_str().unwrap().matches("Minuten").count();
        assert_eq!(listed, MAX_SERVICES_LISTED);
        assert_eq!(v["service_count"], (MAX_SERVICES_LISTED + 5).to_string());
    }

    #[test]
    fn a_tenant_without_agent_names_none_and_the_refusal_is_empty() {
        let route = route(Locale::De, None, None);
        let answer = answer(&route, &[], None, tuesday_afternoon());
        assert_eq!(answer.call_inbound.override_agent_id, None);
        assert!(
            serde_json::to_value(&answer).unwrap()["call_inbound"]
                .get("override_agent_id")
                .is_none()
        );
        assert_eq!(
            serde_json::to_value(InboundAnswer::refusal()).unwrap(),
            json!({"call_inbound": {}})
        );
    }

    #[actix_rt::test]
    async fn caller_is_read_from_the_store_by_the_normalised_number() {
        let store = Appointments::default();
        let start = Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap();
        store.rows.lock().unwrap().push(row("uid_1", CALLER, start));
        let route = route(Locale::De, None, None);
        // The number as a German caller might send it, without the country code.
        let found = caller(&store, &route, Some("015112345678"), tuesday_afternoon())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.name.as_deref(), Some("Max"));
        assert_eq!(
            found.next,
            Some(NextAppointment {
                service: "Herrenhaarschnitt".into(),
                start
            })
        );
        for withheld in [None, Some("anonymous"), Some("")] {
            assert_eq!(
                caller(&store, &route, withheld, tuesday_afternoon())
                    .await
                    .unwrap(),
                None,
                "{withheld:?}"
            );
        }
    }

    #[actix_rt::test]
    async fn another_companys_appointment_is_not_the_callers() {
        let store = Appointments::default();
        let mut foreign = row(
            "uid_2",
            CALLER,
            tuesday_afternoon() + chrono::Duration::days(1),
        );
        foreign.company_id = crate::domain::ids::CompanyId(99);
        store.rows.lock().unwrap().push(foreign);
        let route = route(Locale::De, None, None);
        let found = caller(&store, &route, Some(CALLER), tuesday_afternoon())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found, Caller::default());
    }
}
