//! Criterion micro benchmarks of switchboard's hot paths, run with
//! `cargo bench --bench core` (never by `cargo test`).
//!
//! What is measured, and with what input:
//! - `jsonrpc/parse_and_serialise_single`: [`process`] on one JSON-RPC 2.0 call with a
//!   trivial dispatcher answering `{"ok": true}`: parse, validate, dispatch, serialise.
//! - `jsonrpc/batch_of_10`: the same on a batch of ten such calls.
//! - `retell/verify_signature_20kib`: [`verify`] of an `X-Retell-Signature` over a ~20 KiB
//!   `call_ended` webhook body (a call object with a long transcript), signed once with
//!   [`sign`] outside the loop.
//! - `parse/date_phrases`: [`parse_date`] over four of issue 17's forms (a named week, an
//!   ordinal word, a US date, an ambiguous weekday); `parse/date_refused_long`: a 1,400-char
//!   phrase refused by the length bound.
//! - `parse/german_date`: [`parse_date`] over six date phrases ("morgen" … "2026-07-15") with
//!   a fixed `today`; one iteration parses the whole list.
//! - `parse/german_time`: [`parse_time`] over five time phrases ("14 Uhr" … "3 pm") with
//!   [`BusinessWindow::default`]; one iteration parses the whole list.
//! - `times/parse_time_typical`: [`parse_time`] on "fünf vor halb vier am Nachmittag".
//! - `times/parse_time_long_refused`: [`parse_time`] on 10 000 characters, refused by its
//!   length bound before any other work.
//! - `times/parse_window_typical` / `times/parse_window_long_refused`: the same for
//!   [`parse_window`] with "egal wann am Donnerstag" and a fixed `today`.
//! - `router/dispatch_trivial_method`: one [`Dispatch`] round trip through a started
//!   [`Router`](switchboard_actors::router::Router) to a bench-local server actor whose one
//!   method answers `{"ok": true}`, inside an actix System (mailboxes, scope check, the
//!   server's method table with params validation, metrics, envelope) — with the company
//!   token's rate-limit check on an in-process limiter whose quota is never reached.
//! - `ratelimit/local_check`: one [`LocalLimiter::check`] of a (company, server) bucket,
//!   cycling over 100 companies, quota never reached: the limiter's cost on the gateway and
//!   custom-function hot paths.
//! - `sim/slots_one_week`: `GET /v2/slots` of the Cal.com simulator for event type 1001 over
//!   seven days in `Europe/Berlin`, through `actix_web::test::call_service` (routing, query
//!   validation, slot grid, JSON reply); the slot computation is private to the crate.

use std::hint::black_box;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::{Actor, Context, Handler, ResponseFuture};
use actix_web::{App, test};
use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use switchboard::sim::calcom::CalcomSim;
use switchboard_actors::domain::correction;
use switchboard_actors::domain::datetime::{parse_date, parse_time};
use switchboard_actors::domain::ids::{CompanyId, EventTypeId};
use switchboard_actors::domain::phone::{DEFAULT_REGION, PhoneNumber};
use switchboard_actors::domain::service_match::match_service;
use switchboard_actors::domain::tenant::BusinessWindow;
use switchboard_actors::domain::tenant::Service;
use switchboard_actors::domain::time_window::parse_window;
use switchboard_actors::jsonrpc::{Limits, Request, RpcError, process};
use switchboard_actors::ratelimit::{Bucket, LocalLimiter, Quotas};
use switchboard_actors::records::TokenGrant;
use switchboard_actors::registry::{Kind, Method, MethodList, MethodTable, Reply, Scope};
use switchboard_actors::retell::signature::{DEFAULT_TOLERANCE_MS, sign, verify};
use switchboard_actors::router::{Dispatch, RouterBuilder};
use switchboard_actors::server::{MethodOutput, ServerCall};
use switchboard_actors::supervision::RestartBudget;

/// A current-thread tokio runtime to drive futures that need no actix System.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// The trivial dispatcher of the JSON-RPC benchmarks: every call answers `{"ok": true}`.
async fn answer_ok(_request: Request) -> Result<Value, RpcError> {
    Ok(json!({ "ok": true }))
}

/// `jsonrpc/*`: [`process`] on a single call and on a batch of ten, trivial dispatcher.
fn jsonrpc(c: &mut Criterion) {
    let rt = runtime();
    let limits = Limits::default();
    let call = |id: u32| {
        json!({
            "jsonrpc": "2.0",
            "id": id,
            "method": "calcom.getSlots",
            "params": { "company_id": 1, "event_type_id": 1001, "date": "2026-07-15" },
        })
    };
    let single = serde_json::to_vec(&call(1)).expect("serialisable");
    let batch = serde_json::to_vec(&Value::Array((1..=10).map(call).collect())).expect("json");
    assert!(rt.block_on(process(&single, &limits, answer_ok)).is_some());

    let mut group = c.benchmark_group("jsonrpc");
    group.bench_function("parse_and_serialise_single", |b| {
        b.iter(|| rt.block_on(process(black_box(&single), &limits, answer_ok)));
    });
    group.bench_function("batch_of_10", |b| {
        b.iter(|| rt.block_on(process(black_box(&batch), &limits, answer_ok)));
    });
    group.finish();
}

/// A realistic `call_ended` webhook body of at least 20 KiB: a call object whose transcript
/// is a long booking conversation.
fn call_ended_body() -> Vec<u8> {
    let turns = [
        (
            "agent",
            "Guten Tag, Salon Schnittpunkt, Sie sprechen mit dem digitalen Assistenten. Wie kann ich helfen?",
        ),
        (
            "user",
            "Hallo, ich hätte gern einen Termin für einen Herrenhaarschnitt, am liebsten nächsten Dienstag.",
        ),
        (
            "agent",
            "Gern. Am Dienstag, dem 15. Juli, habe ich um 14 Uhr und um halb drei etwas frei. Was passt Ihnen?",
        ),
        (
            "user",
            "Halb drei wäre super. Auf den Namen Müller, Telefonnummer haben Sie ja.",
        ),
        (
            "agent",
            "Ich buche Herrenhaarschnitt am Dienstag, 15. Juli, um 14:30 Uhr für Herrn Müller. Richtig so?",
        ),
        ("user", "Ja, genau so. Vielen Dank!"),
    ];
    let mut transcript = String::new();
    let mut words = Vec::new();
    let mut t = 0.0_f64;
    while transcript.len() < 18 * 1024 {
        for (role, text) in turns {
            let speaker = if role == "agent" { "Agent" } else { "User" };
            transcript.push_str(&format!("{speaker}: {text}\n"));
            words.push(json!({ "role": role, "content": text, "start": t, "end": t + 4.2 }));
            t += 4.5;
        }
    }
    let body = json!({
        "event": "call_ended",
        "call": {
            "call_id": "call_6f0c1b2a9d8e4f7a8b1c2d3e4f5a6b7c",
            "agent_id": "agent_b1f2c3d4e5f6a7b8c9d0",
            "agent_version": 3,
            "call_type": "phone_call",
            "direction": "inbound",
            "from_number": "+4915112345678",
            "to_number": "+4930123456789",
            "call_status": "ended",
            "start_timestamp": 1_783_000_000_000_i64,
            "end_timestamp": 1_783_000_184_000_i64,
            "duration_ms": 184_000,
            "disconnection_reason": "user_hangup",
            "transcript": transcript,
            "transcript_object": &words[..words.len().min(12)],
            "retell_llm_dynamic_variables": { "company_name": "Salon Schnittpunkt" },
            "collected_dynamic_variables": { "booking_confirmed": "true" },
            "call_analysis": {
                "call_summary": "Der Anrufer buchte einen Herrenhaarschnitt für Dienstag, 14:30 Uhr.",
                "user_sentiment": "Positive",
                "call_successful": true,
                "in_voicemail": false,
            },
        },
    });
    let bytes = serde_json::to_vec(&body).expect("serialisable");
    assert!(
        (20 * 1024..24 * 1024).contains(&bytes.len()),
        "{}",
        bytes.len()
    );
    bytes
}

/// `retell/verify_signature_20kib`: [`verify`] of a valid signature over ~20 KiB.
fn retell(c: &mut Criterion) {
    let body = call_ended_body();
    let key = "key_3b9f1e0c7a2d4e6f8a0b1c2d3e4f5a6b";
    let now_ms = 1_783_000_190_000_i64;
    let header = sign(&body, key, now_ms - 1_500);
    verify(Some(&header), &body, key, now_ms, DEFAULT_TOLERANCE_MS).expect("valid signature");

    let mut group = c.benchmark_group("retell");
    group.bench_function("verify_signature_20kib", |b| {
        b.iter(|| {
            verify(
                Some(black_box(&header)),
                black_box(&body),
                key,
                now_ms,
                DEFAULT_TOLERANCE_MS,
            )
        });
    });
    group.finish();
}

/// `parse/*`: German (and English) date and time phrases as callers say them.
fn parse(c: &mut Criterion) {
    const DATES: [&str; 6] = [
        "morgen",
        "übermorgen",
        "nächsten Dienstag",
        "15.07.",
        "15.07.2026",
        "2026-07-15",
    ];
    const TIMES: [&str; 5] = ["14 Uhr", "14:30", "halb drei", "viertel nach zehn", "3 pm"];
    let today = NaiveDate::from_ymd_opt(2026, 7, 1).expect("valid date");
    let window = BusinessWindow::default();
    for phrase in DATES {
        parse_date(phrase, today).unwrap_or_else(|e| panic!("{phrase}: {e}"));
    }
    for phrase in TIMES {
        parse_time(phrase, window).unwrap_or_else(|e| panic!("{phrase}: {e}"));
    }

    let mut group = c.benchmark_group("parse");
    group.bench_function("german_date", |b| {
        b.iter(|| {
            for phrase in DATES {
                let _ = black_box(parse_date(black_box(phrase), today));
            }
        });
    });
    // Issue 17's forms: a named week, an ordinal word, a slash date, an ambiguous weekday.
    const DATE_PHRASES: [&str; 4] = [
        "nächste Woche Mittwoch",
        "am fünfzehnten Dezember",
        "12/17/2026",
        "nächsten Freitag",
    ];
    group.bench_function("date_phrases", |b| {
        b.iter(|| {
            for phrase in DATE_PHRASES {
                let _ = black_box(parse_date(black_box(phrase), today));
            }
        });
    });
    let long = "nächste Woche ".repeat(100);
    group.bench_function("date_refused_long", |b| {
        b.iter(|| black_box(parse_date(black_box(&long), today)));
    });
    group.bench_function("german_time", |b| {
        b.iter(|| {
            for phrase in TIMES {
                let _ = black_box(parse_time(black_box(phrase), window));
            }
        });
    });
    group.finish();
}

/// Issue 17: reading a phone number and choosing a service from what the caller said.
fn phones(c: &mut Criterion) {
    let services: Vec<Service> = [
        ("Herrenhaarschnitt", "Herrenschnitt"),
        ("Damenhaarschnitt", "Damenschnitt"),
        ("Kinderhaarschnitt", "Kinderschnitt"),
        ("Färben", "Coloration"),
        ("Strähnchen", "Highlights"),
        ("Bartrasur", "Bart trimmen"),
    ]
    .iter()
    .zip(1..)
    .map(|((name, alias), id)| Service {
        id,
        company_id: CompanyId(1),
        name: (*name).to_owned(),
        aliases: vec![(*alias).to_owned()],
        duration_min: 30,
        event_type_id: EventTypeId(100 + id),
        team_id: None,
        branch_ids: Vec::new(),
    })
    .collect();
    let mut group = c.benchmark_group("phones");
    group.bench_function("phone_grouped", |b| {
        b.iter(|| black_box(PhoneNumber::parse_default(black_box("0151 1234 5678"))));
    });
    group.bench_function("service_alias", |b| {
        b.iter(|| {
            black_box(match_service(black_box("einen Herrenschnitt bitte"), &services).is_ok())
        });
    });
    group.bench_function("phone_spoken", |b| {
        b.iter(|| {
            black_box(PhoneNumber::from_speech(
                black_box("null eins fünf eins, doppel-null zwo, vierunddreißig fünf sechs"),
                DEFAULT_REGION,
            ))
        });
    });
    group.bench_function("service_misheard", |b| {
        b.iter(|| black_box(match_service(black_box("Damenhaarschnit"), &services).is_ok()));
    });
    group.bench_function("correction", |b| {
        b.iter(|| {
            black_box(correction::current(black_box(
                "nein, nicht Dienstag, Mittwoch",
            )))
        });
    });
    let long = "null eins ".repeat(100);
    group.bench_function("refused_long", |b| {
        b.iter(|| {
            let _ = black_box(PhoneNumber::from_speech(black_box(&long), DEFAULT_REGION));
            let _ = black_box(match_service(black_box(&long), &services));
            let _ = black_box(correction::current(black_box(&long)));
        });
    });
    group.finish();
}

/// The bench-local server actor behind `bench.echo`: runs calls through its method table,
/// as the real servers do.
struct EchoServer {
    methods: MethodTable<()>,
    deps: Arc<()>,
}

impl Actor for EchoServer {
    type Context = Context<Self>;
}

impl Handler<ServerCall> for EchoServer {
    type Result = ResponseFuture<Result<MethodOutput, RpcError>>;

    fn handle(&mut self, msg: ServerCall, _ctx: &mut Self::Context) -> Self::Result {
        self.methods.call(msg, &self.deps)
    }
}

/// `bench.echo`: answers every call with `{"ok": true}`.
struct Echo;

impl Method for Echo {
    const NAME: &'static str = "bench.echo";
    const SUMMARY: &'static str = "Answers {\"ok\": true}.";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = ();
    type Params = Value;
    type Output = Value;

    async fn apply(_: Value, _: TokenGrant, _: Arc<()>) -> Result<Reply<Value>, RpcError> {
        Reply::fresh(json!({ "ok": true }))
    }
}

/// `router/dispatch_trivial_method`: a [`Dispatch`] of `bench.echo` with a company token,
/// awaited one after another.
fn router(c: &mut Criterion) {
    let system = actix::System::new();
    let router = system.block_on(async {
        let methods = MethodList::new().with::<Echo>();
        let specs = methods.specs();
        let echo = EchoServer {
            methods: methods.compile(),
            deps: Arc::new(()),
        }
        .start();
        RouterBuilder::default()
            .server(specs, echo.recipient())
            .build(
                Duration::from_secs(5),
                RestartBudget::new(10, Duration::from_secs(60)),
                Arc::new(LocalLimiter::new(&Quotas::uniform(NonZeroU32::MAX))),
            )
            .start()
    });
    let request = Request::from_value(json!({
        "jsonrpc": "2.0",
        "id": 1,
        "method": "bench.echo",
        "params": {},
    }))
    .expect("valid request");
    let grant = TokenGrant::company(
        CompanyId(1),
        switchboard_actors::records::TokenScope::Write,
        "bench",
    );
    let dispatch = || Dispatch {
        request: request.clone(),
        grant: grant.clone(),
        span: tracing::Span::none(),
    };
    system
        .block_on(router.send(dispatch()))
        .expect("router running")
        .expect("bench.echo answers");

    let mut group = c.benchmark_group("router");
    group.bench_function("dispatch_trivial_method", |b| {
        b.iter_custom(|iters| {
            system.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let reply = router.send(dispatch()).await;
                    black_box(reply.expect("router running").expect("ok"));
                }
                start.elapsed()
            })
        });
    });
    group.finish();
}

/// `ratelimit/local_check`: the in-process limiter, one (company, server) check per iteration.
fn ratelimit(c: &mut Criterion) {
    let limiter = LocalLimiter::new(&Quotas::uniform(NonZeroU32::MAX));
    let mut group = c.benchmark_group("ratelimit");
    group.bench_function("local_check", |b| {
        let mut company = 0;
        b.iter(|| {
            company = (company + 1) % 100;
            black_box(limiter.check(CompanyId(company), Bucket::Server("calcom")))
                .expect("under quota");
        });
    });
    group.finish();
}

/// `sim/slots_one_week`: `GET /v2/slots` for event type 1001 over seven days, Berlin time.
fn sim(c: &mut Criterion) {
    const URI: &str = "/v2/slots?eventTypeId=1001&start=2050-09-05&end=2050-09-11\
                       &timeZone=Europe/Berlin";
    let request = || {
        test::TestRequest::get()
            .uri(URI)
            .insert_header(("cal-api-version", "2024-09-04"))
            .to_request()
    };
    let system = actix::System::new();
    let sim = CalcomSim::demo();
    let app = system.block_on(test::init_service(
        App::new().configure(|cfg| sim.configure(cfg)),
    ));
    let reply: Value = system.block_on(test::call_and_read_body_json(&app, request()));
    let days = reply["data"].as_object().map_or(0, serde_json::Map::len);
    assert!(days >= 5, "expected a week of slots, got {reply}");

    let mut group = c.benchmark_group("sim");
    group.bench_function("slots_one_week", |b| {
        b.iter_custom(|iters| {
            system.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let response = test::call_service(&app, request()).await;
                    black_box(test::read_body(response).await);
                }
                start.elapsed()
            })
        });
    });
    group.finish();
}

/// `times/*`: a time and a time window as callers say them, and input over the parsers'
/// length bound (refused first, so its cost does not grow with the input).
fn times(c: &mut Criterion) {
    const TIME: &str = "fünf vor halb vier am Nachmittag";
    const WINDOW: &str = "egal wann am Donnerstag";
    let today = NaiveDate::from_ymd_opt(2026, 12, 2).expect("valid date");
    let window = BusinessWindow::default();
    let long = "halb drei ".repeat(1000);
    parse_time(TIME, window).unwrap_or_else(|e| panic!("{TIME}: {e}"));
    parse_window(WINDOW, window, today).unwrap_or_else(|e| panic!("{WINDOW}: {e}"));
    assert!(parse_time(&long, window).is_err() && parse_window(&long, window, today).is_err());

    let mut group = c.benchmark_group("times");
    group.bench_function("parse_time_typical", |b| {
        b.iter(|| black_box(parse_time(black_box(TIME), window)));
    });
    group.bench_function("parse_time_long_refused", |b| {
        b.iter(|| black_box(parse_time(black_box(&long), window)));
    });
    group.bench_function("parse_window_typical", |b| {
        b.iter(|| black_box(parse_window(black_box(WINDOW), window, today)));
    });
    group.bench_function("parse_window_long_refused", |b| {
        b.iter(|| black_box(parse_window(black_box(&long), window, today)));
    });
    group.finish();
}

criterion_group!(
    benches, jsonrpc, retell, parse, times, phones, router, ratelimit, sim
);
criterion_main!(benches);
