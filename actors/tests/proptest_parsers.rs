//! Property tests (issue 10, "no panic reachable from input"): every parser that reads what a
//! client, a caller or Retell sends is fed arbitrary and grammar-shaped input and must answer
//! without panicking; where it is cheap, an invariant or a round trip is checked as well.
//!
//! Case counts are fixed per property ([`CASES`], [`GRAMMAR_CASES`]) so `cargo test` stays
//! quick; failures print the shrunk input to paste into a named regression test.

use chrono::{NaiveDate, NaiveTime};
use proptest::prelude::*;
use serde_json::{Map, Number, Value, json};
use switchboard_actors::domain::collect::{AppointmentArgs, CollectContext, normalize};
use switchboard_actors::domain::correction::{self, CorrectionError, MAX_CORRECTION_CHARS};
use switchboard_actors::domain::date_window::DateWindow;
use switchboard_actors::domain::datetime::{
    DateParseError, MAX_DATE_CHARS, parse_date, parse_time,
};
use switchboard_actors::domain::ids::{CompanyId, EventTypeId};
use switchboard_actors::domain::phone::{DEFAULT_REGION, PhoneNumber};
use switchboard_actors::domain::service_match::{
    MAX_SERVICE_CHARS, ServiceMatchError, match_service,
};
use switchboard_actors::domain::spoken_digits::{MAX_SPOKEN_CHARS, SpokenError, read_digits};
use switchboard_actors::domain::tenant::{BusinessWindow, Service};
use switchboard_actors::domain::text::{self, Limit};
use switchboard_actors::functions::check_availability::SlotArgs;
use switchboard_actors::jsonrpc::{Limits, Request, RpcError, process};
use switchboard_actors::retell::call::RetellCall;
use switchboard_actors::retell::signature;

/// Cases for properties over arbitrary input.
const CASES: u32 = 256;
/// Cases for the date and time grammar, whose token space is larger.
const GRAMMAR_CASES: u32 = 512;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Any JSON value, a few levels deep, with hostile strings and extreme numbers.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        hostile_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Object keys: the names our parsers look for, or anything.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(KEYS).prop_map(str::to_owned),
        any::<String>(),
    ]
}

const KEYS: &[&str] = &[
    "jsonrpc",
    "id",
    "method",
    "params",
    "call_id",
    "agent_id",
    "call_type",
    "call_status",
    "direction",
    "from_number",
    "to_number",
    "start_timestamp",
    "end_timestamp",
    "duration_ms",
    "disconnection_reason",
    "call_analysis",
    "call_summary",
    "user_sentiment",
    "collected_dynamic_variables",
    "retell_llm_dynamic_variables",
    "booking_confirmed",
    "datum",
    "date",
    "uhrzeit",
    "time",
    "name",
    "telefonnummer",
    "phone",
    "dienstleistung",
    "service",
    "email",
    "mitarbeiter_wunsch",
    "notizen",
    "notes",
    "bestaetigt",
    "confirmed",
    "company_id",
    "event_type_id",
    "start",
    "days",
    "limit",
    "idempotency_key",
];

/// Strings mixing ordinary letters with NUL, C1 controls, bidi overrides and long runs.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(
            prop_oneof![
                prop::char::range('a', 'z'),
                Just('\u{0}'),
                Just('\u{85}'),
                Just('\u{202E}'),
                Just('\u{2066}'),
                Just('\n'),
                Just(' '),
                Just('ä'),
                Just('+'),
                Just('@'),
                Just('.'),
                prop::char::range('0', '9'),
            ],
            0..300
        )
        .prop_map(|cs| cs.into_iter().collect()),
    ]
}

/// A "today" anywhere a clock could plausibly say, and at chrono's edges.
fn today() -> impl Strategy<Value = NaiveDate> {
    prop_oneof![
        (1900i32..2300, 1u32..=366).prop_map(|(y, d)| NaiveDate::from_yo_opt(y, d)
            .unwrap_or_else(|| NaiveDate::from_yo_opt(y, 1).expect("day 1 exists"))),
        Just(NaiveDate::MAX),
        Just(NaiveDate::MIN),
    ]
}

/// Words of the German/English date and time grammar, numbers of every size, and filler.
fn grammar_phrase() -> impl Strategy<Value = String> {
    const WORDS: &[&str] = &[
        "am",
        "den",
        "on",
        "the",
        "für",
        "for",
        "zum",
        "nächsten",
        "kommenden",
        "diesen",
        "next",
        "this",
        "coming",
        "morgen",
        "übermorgen",
        "heute",
        "today",
        "tomorrow",
        "früh",
        "vormittag",
        "nachmittag",
        "abend",
        "morning",
        "evening",
        "um",
        "gegen",
        "so",
        "etwa",
        "at",
        "around",
        "about",
        "a",
        "halb",
        "viertel",
        "vor",
        "nach",
        "dreiviertel",
        "uhr",
        "oclock",
        "am",
        "pm",
        "a.m.",
        "p.m.",
        "quarter",
        "past",
        "to",
        "half",
        "montag",
        "dienstag",
        "mittwoch",
        "donnerstag",
        "freitag",
        "samstag",
        "sonntag",
        "monday",
        "tuesday",
        "friday",
        "sunday",
        "januar",
        "februar",
        "juli",
        "dezember",
        "january",
        "july",
        "december",
        "jan.",
        "okt.",
        "in",
        "tagen",
        "days",
        "wochen",
        "weeks",
        "eins",
        "zwei",
        "drei",
        "zwölf",
        "dreizehn",
        "zwanzig",
        "one",
        "twelve",
        "forty-five",
        "st",
        "nd",
        "rd",
        "th",
        ".",
        ":",
        "-",
        "/",
        ",",
    ];
    let token = prop_oneof![
        prop::sample::select(WORDS).prop_map(str::to_owned),
        any::<u8>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u32>().prop_map(|n| format!("{}.{}.", n % 40, n % 14)),
        any::<u32>().prop_map(|n| format!("{}:{:02}", n % 30, n % 70)),
        (any::<i32>(), 0u32..14, 0u32..40).prop_map(|(y, m, d)| format!("{y}-{m:02}-{d:02}")),
        (0u32..40, 0u32..14, any::<i32>()).prop_map(|(d, m, y)| format!("{d}.{m}.{y}")),
    ];
    prop::collection::vec(token, 0..7).prop_map(|t| t.join(" "))
}

fn window() -> BusinessWindow {
    BusinessWindow {
        opens: NaiveTime::from_hms_opt(9, 0, 0).expect("valid"),
        closes: NaiveTime::from_hms_opt(18, 0, 0).expect("valid"),
    }
}

fn services() -> Vec<Service> {
    [
        ("Herrenhaarschnitt", vec!["Herrenschnitt", "men's haircut"]),
        ("Damenhaarschnitt", vec![]),
        ("Färben", vec!["Farbe"]),
        ("X", vec!["ab"]),
    ]
    .into_iter()
    .zip(1..)
    .map(|((name, aliases), id)| Service {
        id,
        company_id: CompanyId(1),
        name: name.to_owned(),
        aliases: aliases.into_iter().map(str::to_owned).collect(),
        duration_min: 30,
        event_type_id: EventTypeId(100 + id),
        team_id: None,
        branch_ids: Vec::new(),
    })
    .collect()
}

fn no_hidden(s: &str, keep: &[char]) -> bool {
    !s.chars().any(|c| text::is_hidden(c) && !keep.contains(&c))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
}

proptest! {
    #![proptest_config(config(CASES))]

    /// Any body, bytes or JSON, single or batch: one JSON reply (or none), never a panic.
    #[test]
    fn jsonrpc_process_answers_any_body_with_json(
        body in prop_oneof![
            json_value().prop_map(|v| v.to_string().into_bytes()),
            prop::collection::vec(json_value(), 0..8).prop_map(|b| Value::Array(b).to_string().into_bytes()),
            any::<Vec<u8>>(),
        ]
    ) {
        let limits = Limits { max_batch: 5 };
        let reply = runtime().block_on(process(&body, &limits, |req: Request| async move {
            if req.method == "fail" {
                Err(RpcError::method_not_found(&req.method))
            } else {
                Ok(json!({"echo": req.params}))
            }
        }));
        if let Some(reply) = reply {
            let parsed: Value = serde_json::from_str(&reply).expect("reply is JSON");
            prop_assert!(parsed.is_object() || parsed.as_array().is_some_and(|a| !a.is_empty()));
        }
    }

    /// A request object read from any JSON value either is one or is refused.
    #[test]
    fn jsonrpc_request_from_any_value_never_panics(value in json_value()) {
        let _ = Request::from_value(value);
    }

    /// Any header value is refused or accepted without a panic, whatever the clock says.
    #[test]
    fn signature_verify_takes_any_header(
        header in prop_oneof![
            any::<String>(),
            (any::<i64>(), "[0-9a-fA-F]{0,70}").prop_map(|(t, d)| format!("v={t},d={d}")),
            (any::<String>(), any::<String>()).prop_map(|(t, d)| format!("v={t},d={d}")),
        ],
        body in any::<Vec<u8>>(),
        now in any::<i64>(),
        tolerance in any::<i64>(),
    ) {
        let _ = signature::verify(Some(&header), &body, "key", now, tolerance);
    }

    /// What `sign` makes, `verify` accepts at that moment; another body is refused.
    #[test]
    fn signature_round_trips(body in any::<Vec<u8>>(), key in any::<String>().prop_filter("a key", |k| !k.is_empty()), ts in 0i64..i64::MAX / 2) {
        let header = signature::sign(&body, &key, ts);
        prop_assert!(signature::verify(Some(&header), &body, &key, ts, 0).is_ok());
        let mut other = body.clone();
        other.push(b'x');
        prop_assert!(signature::verify(Some(&header), &other, &key, ts, 0).is_err());
    }

    /// Phone numbers: any text is parsed or refused; an accepted one is E.164 and parses back
    /// to itself.
    #[test]
    fn phone_numbers_parse_or_refuse_and_round_trip(input in hostile_text()) {
        if let Ok(phone) = PhoneNumber::parse(&input, DEFAULT_REGION) {
            let e164 = phone.as_str();
            prop_assert!(e164.starts_with('+') && e164[1..].bytes().all(|b| b.is_ascii_digit()));
            let again = PhoneNumber::parse(e164, DEFAULT_REGION).expect("round trip");
            prop_assert_eq!(again.as_str(), e164);
        }
    }

    /// Service matching takes any words, including aliases shorter than the containment rule.
    #[test]
    fn service_matching_takes_any_words(input in prop_oneof![hostile_text(), grammar_phrase()]) {
        let services = services();
        if let Ok(found) = match_service(&input, &services) {
            prop_assert!(services.iter().any(|s| s.id == found.id));
        }
    }

    /// A Retell call object read from any JSON: typed text never holds hidden characters and a
    /// duration is never negative.
    #[test]
    fn retell_call_objects_parse_safely(
        value in prop_oneof![
            json_value(),
            prop::collection::vec((prop::sample::select(KEYS).prop_map(str::to_owned), json_value()), 0..12)
                .prop_map(|kv| {
                    let mut call: Map<String, Value> = kv.into_iter().collect();
                    call.insert("call_id".into(), json!("call_1"));
                    Value::Object(call)
                }),
        ]
    ) {
        if let Ok(call) = serde_json::from_value::<RetellCall>(value) {
            prop_assert!(call.duration_ms.is_none_or(|ms| ms >= 0));
            for field in [&call.agent_id, &call.call_status, &call.direction, &call.from_number,
                          &call.to_number, &call.disconnection_reason, &call.call_type] {
                prop_assert!(field.as_deref().is_none_or(|s| no_hidden(s, &['\n', '\t'])));
            }
            let _ = (call.started_at(), call.ended_at(), call.business_number(), call.booking_confirmed_variable());
        }
    }

    /// The sanitiser: output is free of hidden characters, within the limit, and cleaning twice
    /// changes nothing.
    #[test]
    fn text_cleaning_is_bounded_clean_and_idempotent(input in hostile_text(), max in 0usize..400, multiline in any::<bool>()) {
        let limit = Limit { max_chars: max, multiline };
        if let Ok(clean) = limit.clean(&input) {
            prop_assert!(clean.chars().count() <= max);
            let keep: &[char] = if multiline { &['\n', '\t'] } else { &[] };
            prop_assert!(no_hidden(&clean, keep));
            prop_assert_eq!(limit.clean(&clean), Ok(clean.clone()));
        }
        prop_assert!(text::excerpt(&input, 40).chars().count() <= 41);
    }

    /// `collect_appointment_data` args of any shape: what reaches the patch (and so the store
    /// and Cal.com) is clean, bounded and inside the booking window.
    #[test]
    fn collected_fields_are_clean_bounded_and_in_the_window(
        args in prop::collection::vec((prop::sample::select(KEYS).prop_map(str::to_owned),
            prop_oneof![json_value(), grammar_phrase().prop_map(Value::String)]), 0..10),
        today in today(),
    ) {
        let Ok(args) = serde_json::from_value::<AppointmentArgs>(Value::Object(args.into_iter().collect())) else {
            return Ok(());
        };
        let services = services();
        let ctx = CollectContext {
            today,
            now_local: today.and_hms_opt(10, 0, 0).expect("valid"),
            window: window(),
            services: &services,
            region: DEFAULT_REGION,
            horizon_days: 90,
        };
        let out = normalize(&args, &ctx);
        let p = out.patch;
        for (value, limit) in [(&p.name, text::NAME), (&p.email, text::EMAIL), (&p.staff, text::STAFF), (&p.notes, text::NOTES)] {
            if let Some(v) = value {
                prop_assert!(v.chars().count() <= limit.max_chars);
                let keep: &[char] = if limit.multiline { &['\n', '\t'] } else { &[] };
                prop_assert!(no_hidden(v, keep), "{:?}", v);
            }
        }
        if let Some(date) = p.date {
            prop_assert!(DateWindow::around(today).check(date).is_ok(), "{date} outside the window of {today}");
        }
        for e in &out.errors {
            prop_assert!(e.message(switchboard_actors::domain::tenant::Locale::De).chars().count() < 600);
        }
    }

    /// `check_availability` / `find_next_slot` args of any shape are read or refused.
    #[test]
    fn slot_args_of_any_shape_are_read_or_refused(args in prop::collection::vec((key(), json_value()), 0..8)) {
        let args: Map<String, Value> = args.into_iter().collect();
        if let Ok(read) = SlotArgs::read(&args) {
            for said in [read.datum, read.uhrzeit, read.dienstleistung].into_iter().flatten() {
                prop_assert!(said.chars().count() <= text::PHRASE.max_chars && no_hidden(&said, &[]));
            }
        }
    }
}

proptest! {
    #![proptest_config(config(GRAMMAR_CASES))]

    /// German and English dates, said any way, on any day: read or refused, never a panic.
    #[test]
    fn dates_in_any_words_on_any_day_never_panic(input in prop_oneof![grammar_phrase(), hostile_text()], today in today()) {
        let _ = parse_date(&input, today);
    }

    /// Times, said any way: read or refused, never a panic; a time read is a time of day.
    #[test]
    fn times_in_any_words_never_panic(input in prop_oneof![grammar_phrase(), hostile_text()]) {
        let _ = parse_time(&input, window());
    }

    /// Spoken phone numbers: any text, including digit words mixed with other scripts, is
    /// read or refused, never a panic; text past the bound is refused before any reading.
    #[test]
    fn spoken_phone_numbers_are_read_or_refused(
        input in prop_oneof![
            hostile_text(),
            prop::collection::vec(
                prop_oneof![
                    Just("null "), Just("zwo "), Just("doppel"), Just("-null "), Just("zwei mal die "),
                    Just("vierunddreißig "), Just("plus "), Just("(0) "), Just("12 "), Just("Привет "),
                    Just("三 "), Just("thirty "), Just("four "), Just("mal "), Just("und"),
                ],
                0..80,
            ).prop_map(|parts| parts.concat()),
        ]
    ) {
        let result = read_digits(&input);
        if input.chars().count() > MAX_SPOKEN_CHARS {
            prop_assert_eq!(result, Err(SpokenError::TooLong));
        } else if let Ok(digits) = result {
            prop_assert!(digits.chars().all(|c| c.is_ascii_digit() || "+() ".contains(c)));
        }
        let _ = PhoneNumber::from_speech(&input, DEFAULT_REGION);
    }

    /// Service matching with misheard names: any text is matched or refused; text past the
    /// bound is refused before any comparison.
    #[test]
    fn service_matching_refuses_long_text_and_never_panics(
        input in prop_oneof![hostile_text(), "[a-zäöüß ]{0,400}"]
    ) {
        let services = services();
        let result = match_service(&input, &services);
        if input.chars().count() > MAX_SERVICE_CHARS {
            prop_assert_eq!(result.err(), Some(ServiceMatchError::TooLong));
        }
    }

    /// Corrections: any text gives a part of itself or an error; text past the bound is
    /// refused first.
    #[test]
    fn corrections_yield_a_part_of_the_input_or_refuse(
        input in prop_oneof![
            hostile_text(),
            prop::collection::vec(
                prop_oneof![
                    Just("nein, "), Just("nicht "), Just("Dienstag"), Just(", "), Just("— "),
                    Just("sondern "), Just("statt "), Just("make it "), Just("ش "), Just("lieber "),
                ],
                0..60,
            ).prop_map(|parts| parts.concat()),
        ]
    ) {
        match correction::current(&input) {
            Ok(reading) => prop_assert!(input.contains(reading.value)),
            Err(CorrectionError::TooLong) => {
                prop_assert!(input.chars().count() > MAX_CORRECTION_CHARS)
            }
            Err(CorrectionError::OnlyRejected) => {}
        }
        if input.chars().count() > MAX_CORRECTION_CHARS {
            prop_assert_eq!(correction::current(&input), Err(CorrectionError::TooLong));
        }
    }
}

/// A date phrase from issue 17's grammar: weeks, parts of weeks, ordinal words, slashes,
/// mixed with digits and words of other scripts.
fn week_and_ordinal_phrase() -> impl Strategy<Value = String> {
    const WORDS: &[&str] = &[
        "nächste",
        "nächster",
        "übernächsten",
        "übernächste",
        "diese",
        "woche",
        "week",
        "after",
        "next",
        "from",
        "today",
        "in",
        "der",
        "anfang",
        "mitte",
        "ende",
        "end",
        "early",
        "heute",
        "morgen",
        "acht",
        "tagen",
        "einer",
        "ersten",
        "zehnten",
        "fünfzehnter",
        "einundzwanzigsten",
        "dreißigsten",
        "zwölften",
        "twenty",
        "first",
        "thirty-first",
        "fifteenth",
        "mittwoch",
        "freitag",
        "friday",
        "dezember",
        "jänner",
        "dez.",
        "jan",
        "/",
        ".",
        "-",
        "12/17",
        "05/06/2027",
        "2026/12/15",
        "月曜日",
        "пятница",
        "الجمعة",
        "\u{202E}",
    ];
    let token = prop_oneof![
        prop::sample::select(WORDS).prop_map(str::to_owned),
        any::<u16>().prop_map(|n| n.to_string()),
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(token, 0..12).prop_map(|words| words.join(" "))
}

proptest! {
    #![proptest_config(config(GRAMMAR_CASES))]

    /// Weeks, ordinals and slashes in any order, mixed scripts, on any day: never a panic.
    #[test]
    fn week_and_ordinal_dates_never_panic(input in week_and_ordinal_phrase(), today in today()) {
        let _ = parse_date(&input, today);
    }

    /// Input longer than the documented bound is refused as too long, whatever it says.
    #[test]
    fn dates_over_the_bound_are_refused(prefix in week_and_ordinal_phrase(), extra in 1usize..2000) {
        let input = format!("{prefix}{}", "ä".repeat(MAX_DATE_CHARS + extra));
        let today = NaiveDate::from_ymd_opt(2026, 12, 2).expect("a day");
        prop_assert_eq!(
            parse_date(&input, today),
            Err(DateParseError::TooLong { max: MAX_DATE_CHARS })
        );
    }
}
