//! The `database` server (issue 15): call stats by local day, branch and service, tenant
//! stats, dead-lettered bookings with what led there, search, the schema, and `query` — the
//! table of refusals pins every kind of SQL it must not run, and after each the stored data
//! is what it was. Runs on SQLite and, with `SWITCHBOARD_TEST_DATABASE_URL` naming
//! PostgreSQL, on PostgreSQL.

use crate::helpers::{ADMIN_TOKEN, TestApp, ended, spawn_app, spawn_app_with};
use crate::isolation::{A_TOKEN, B_TOKEN, tenants};
use chrono::{Duration, Utc};
use chrono_tz::Europe::Berlin;
use serde_json::{Value, json};

/// One JSON-RPC call with `token`; the response object.
async fn rpc_as(app: &TestApp, token: &str, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    app.gateway_raw(&body.to_string(), Some(token)).await.1
}

/// `result.data` of a call that must succeed.
async fn data(app: &TestApp, token: &str, method: &str, params: Value) -> Value {
    let res = rpc_as(app, token, method, params).await;
    assert_eq!(res["result"]["success"], true, "{method}: {res}");
    res["result"]["data"].clone()
}

/// Today in Berlin, the demo tenant's zone.
fn today() -> chrono::NaiveDate {
    Utc::now().with_timezone(&Berlin).date_naive()
}

/// A call that ends with what `args` collected.
async fn call_ending_with(app: &TestApp, call_id: &str, args: Value) {
    let (status, reply) = app
        .function("collect_appointment_data", call_id, args)
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(app.webhook("call_ended", ended(call_id)).await, 204);
}

#[actix_web::test]
async fn call_stats_count_each_booking_state_per_local_day() {
    let app = spawn_app().await;
    app.collect_complete("call_s_booked", "10 Uhr", true).await;
    assert_eq!(app.webhook("call_ended", ended("call_s_booked")).await, 204);
    app.wait_for_booking("call_s_booked").await;
    app.collect_complete("call_s_unconfirmed", "11 Uhr", false)
        .await;
    assert_eq!(
        app.webhook("call_ended", ended("call_s_unconfirmed")).await,
        204
    );
    call_ending_with(&app, "call_s_missing", json!({"name": "Erika Muster"})).await;
    crate::queue::dead_letter(&app, "call_s_failed", 15).await;

    let from = today() - Duration::days(2);
    let stats = data(
        &app,
        ADMIN_TOKEN,
        "database.getCallStats",
        json!({"company_id": 1, "from": from, "to": today()}),
    )
    .await;
    assert_eq!(stats["time_zone"], "Europe/Berlin", "{stats}");
    assert_eq!(stats["group_by"], "day");
    let rows = stats["rows"].as_array().unwrap();
    let days: Vec<&str> = rows.iter().map(|r| r["key"].as_str().unwrap()).collect();
    let expected: Vec<String> = (0..3)
        .map(|d| (from + Duration::days(d)).to_string())
        .collect();
    assert_eq!(days, expected, "every day of the range, in order");
    let counts = json!({"calls": 4, "booked": 1, "unconfirmed": 1, "missing_data": 1,
        "failed": 1, "pending": 0});
    for (key, value) in counts.as_object().unwrap() {
        assert_eq!(&rows[2][key], value, "today's {key}: {stats}");
        assert_eq!(&stats["totals"][key], value, "total {key}: {stats}");
        assert_eq!(rows[0][key], 0, "two days ago {key}: {stats}");
    }
}

#[actix_web::test]
async fn call_stats_group_by_branch_and_service_and_refuse_bad_ranges() {
    let app = spawn_app().await;
    app.collect_complete("call_g_1", "10 Uhr", false).await;
    assert_eq!(app.webhook("call_ended", ended("call_g_1")).await, 204);
    let range = json!({"company_id": 1, "from": today(), "to": today()});

    let mut by = range.clone();
    by["group_by"] = json!("service");
    let services = data(&app, ADMIN_TOKEN, "database.getCallStats", by.clone()).await;
    let rows = services["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{services}");
    assert_eq!(rows[0]["key"], "Herrenhaarschnitt", "{services}");
    assert_eq!(rows[0]["unconfirmed"], 1, "{services}");

    by["group_by"] = json!("branch");
    let branches = data(&app, ADMIN_TOKEN, "database.getCallStats", by).await;
    let rows = branches["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{branches}");
    assert!(rows[0]["key"].is_string(), "{branches}");
    assert_eq!(rows[0]["calls"], 1, "{branches}");

    for (params, why) in [
        (
            json!({"company_id": 1, "from": today(), "to": today() - Duration::days(1)}),
            "from after to",
        ),
        (
            json!({"company_id": 1, "from": today() - Duration::days(92), "to": today()}),
            "93 days",
        ),
        (
            json!({"from": today(), "to": today()}),
            "admin without company_id",
        ),
        (
            json!({"company_id": 1, "from": "yesterday", "to": today()}),
            "not a date",
        ),
    ] {
        let res = rpc_as(&app, ADMIN_TOKEN, "database.getCallStats", params).await;
        assert_eq!(res["error"]["code"], -32602, "{why}: {res}");
    }
    let res = rpc_as(
        &app,
        ADMIN_TOKEN,
        "database.getCallStats",
        json!({"company_id": 999, "from": today(), "to": today()}),
    )
    .await;
    assert_eq!(res["error"]["code"], 3001, "{res}");
}

#[actix_web::test]
async fn tenant_stats_list_every_company_for_operators_only() {
    let t = tenants().await;
    let range = json!({"from": today() - Duration::days(1), "to": today()});
    let stats = data(
        &t.app,
        ADMIN_TOKEN,
        "database.getTenantStats",
        range.clone(),
    )
    .await;
    let rows = stats["rows"].as_array().unwrap();
    // Every company, the sandbox's London example included, in its own zone.
    let london = rows.iter().find(|r| r["slug"] == "thames-physio").unwrap();
    assert_eq!(london["time_zone"], "Europe/London", "{stats}");
    let a = rows.iter().find(|r| r["company_id"] == t.a.0).unwrap();
    let b = rows.iter().find(|r| r["company_id"] == t.b.0).unwrap();
    assert_eq!(a["booked"], 1, "{stats}");
    assert_eq!(b["calls"], 0, "{stats}");
    assert_eq!(b["slug"], "praxis-mond", "{stats}");
    assert_eq!(stats["totals"]["calls"], a["calls"], "{stats}");

    let refused = rpc_as(&t.app, A_TOKEN, "database.getTenantStats", range).await;
    assert_eq!(refused["error"]["code"], -32002, "{refused}");
}

#[actix_web::test]
async fn failed_appointments_show_the_reason_and_what_the_caller_said() {
    let app = spawn_app().await;
    let job = crate::queue::dead_letter(&app, "call_f_dead", 16).await;
    // The analysis brings the transcript; its end is what the caller said last.
    let mut analyzed = ended("call_f_dead");
    let said = format!(
        "{} User: Ja, um vier\u{7} bitte, Dienstag passt mir\u{202E} gut.",
        "Agent: Guten Tag. ".repeat(100)
    );
    analyzed["transcript"] = json!(said);
    assert_eq!(app.webhook("call_analyzed", analyzed).await, 204);
    let failures = data(
        &app,
        ADMIN_TOKEN,
        "database.getFailedAppointments",
        json!({"company_id": 1}),
    )
    .await;
    let list = failures["failures"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{failures}");
    let failure = &list[0];
    assert_eq!(failure["job_id"], job["id"], "{failures}");
    assert_eq!(failure["call_id"], "call_f_dead");
    assert!(failure["last_error"].is_string(), "{failures}");
    assert_eq!(failure["collected"]["name"], "Max Mustermann", "{failures}");
    assert_eq!(failure["service_name"], "Herrenhaarschnitt", "{failures}");
    let excerpt = failure["transcript_excerpt"].as_str().unwrap();
    assert!(
        excerpt.ends_with("User: Ja, um vier bitte, Dienstag passt mir gut."),
        "the end of the transcript, control and bidi characters removed: {excerpt}"
    );
    assert!(excerpt.chars().count() <= 601, "bounded: {excerpt}");

    let res = rpc_as(
        &app,
        ADMIN_TOKEN,
        "database.getFailedAppointments",
        json!({"limit": 201}),
    )
    .await;
    assert_eq!(res["error"]["code"], -32602, "{res}");
}

#[actix_web::test]
async fn search_finds_calls_customers_and_appointments_by_name_phone_and_id() {
    let t = tenants().await;
    let find = |q: &str| json!({"q": q});
    let by_name = data(&t.app, A_TOKEN, "database.search", find("mustermann")).await;
    assert!(
        by_name["calls"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == t.a_booked),
        "{by_name}"
    );
    assert_eq!(by_name["appointments"][0]["id"], t.a_booking_uid.as_str());
    // The caller's number written nationally finds the E.164 one.
    let by_phone = data(&t.app, A_TOKEN, "database.search", find("0151 12345678")).await;
    assert!(
        !by_phone["customers"].as_array().unwrap().is_empty(),
        "{by_phone}"
    );
    let by_uid = data(&t.app, A_TOKEN, "database.search", find(&t.a_booking_uid)).await;
    assert_eq!(
        by_uid["appointments"].as_array().unwrap().len(),
        1,
        "{by_uid}"
    );
    // LIKE wildcards match themselves: `%` finds no name.
    let wild = data(&t.app, A_TOKEN, "database.search", find("%")).await;
    for kind in ["calls", "customers", "appointments"] {
        assert_eq!(wild[kind], json!([]), "{kind}: {wild}");
    }
    // B finds none of A's.
    let theirs = data(&t.app, B_TOKEN, "database.search", find("mustermann")).await;
    assert_eq!(
        theirs,
        json!({"calls": [], "customers": [], "appointments": []})
    );
    for q in ["", &"x".repeat(101)] {
        let res = rpc_as(&t.app, A_TOKEN, "database.search", find(q)).await;
        assert_eq!(res["error"]["code"], -32602, "{res}");
    }
}

#[actix_web::test]
async fn schema_documents_the_views_and_limits() {
    let app = spawn_app().await;
    let schema = data(&app, ADMIN_TOKEN, "database.getSchema", json!({})).await;
    let views: Vec<&str> = schema["views"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    for view in [
        "calls",
        "appointments",
        "customers",
        "jobs",
        "branches",
        "services",
    ] {
        assert!(views.contains(&view), "{view}: {schema}");
    }
    assert!(
        !schema.to_string().contains("api_key") && !schema.to_string().contains("token_sha256"),
        "{schema}"
    );
    assert_eq!(schema["limits"]["max_rows"], 1000);
    assert_eq!(schema["limits"]["max_params"], 20);
    assert!(matches!(
        schema["dialect"].as_str(),
        Some("sqlite" | "postgres")
    ));
}

#[actix_web::test]
async fn query_reads_the_views_with_params_and_a_row_limit() {
    let t = tenants().await;
    let one = data(
        &t.app,
        A_TOKEN,
        "database.query",
        json!({"sql": "SELECT c.call_id, c.started_at, a.booking_uid FROM calls c \
                   JOIN appointments a ON a.id = c.appointment_id WHERE c.call_id = $1",
               "params": [t.a_booked]}),
    )
    .await;
    let names: Vec<&str> = one["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["call_id", "started_at", "booking_uid"], "{one}");
    assert_eq!(one["rows"].as_array().unwrap().len(), 1, "{one}");
    assert_eq!(one["rows"][0][0], t.a_booked);
    assert_eq!(one["rows"][0][2], t.a_booking_uid.as_str());
    let started = one["rows"][0][1].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(started).is_ok(),
        "a time is RFC 3339: {started}"
    );
    assert_eq!(one["truncated"], false);

    let capped = data(
        &t.app,
        A_TOKEN,
        "database.query",
        json!({"sql": "SELECT call_id FROM calls ORDER BY call_id", "limit": 1}),
    )
    .await;
    assert_eq!(capped["rows"].as_array().unwrap().len(), 1, "{capped}");
    assert_eq!(capped["truncated"], true, "{capped}");

    let counted = data(
        &t.app,
        A_TOKEN,
        "database.query",
        json!({"sql": "SELECT count(*) AS n, sum(duration_ms) AS total FROM calls"}),
    )
    .await;
    assert!(counted["rows"][0][0].as_i64().unwrap() >= 2, "{counted}");
    assert!(counted["rows"][0][1].is_number(), "{counted}");

    let unknown = rpc_as(
        &t.app,
        A_TOKEN,
        "database.query",
        json!({"sql": "SELECT no_such_column FROM calls"}),
    )
    .await;
    assert_eq!(unknown["error"]["code"], 3004, "{unknown}");
    assert!(
        unknown["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no_such_column"),
        "the database's reason is shown: {unknown}"
    );
}

#[actix_web::test]
async fn query_never_shows_another_company_s_rows() {
    let t = tenants().await;
    for sql in [
        "SELECT * FROM calls WHERE company_id = $1",
        "SELECT c.* FROM calls c JOIN appointments a ON a.company_id = $1",
        "SELECT * FROM (SELECT * FROM jobs) j WHERE j.company_id = $1",
        "WITH x AS (SELECT * FROM customers) SELECT * FROM x WHERE company_id = $1",
        "SELECT * FROM calls WHERE call_id IN (SELECT call_id FROM calls WHERE company_id = $1)",
    ] {
        let seen = data(
            &t.app,
            B_TOKEN,
            "database.query",
            json!({"sql": sql, "params": [t.a.0]}),
        )
        .await;
        assert_eq!(seen["rows"], json!([]), "{sql}: {seen}");
    }
    let mine = data(
        &t.app,
        A_TOKEN,
        "database.query",
        json!({"sql": "SELECT count(*) FROM calls WHERE company_id = $1", "params": [t.a.0]}),
    )
    .await;
    assert!(mine["rows"][0][0].as_i64().unwrap() >= 2, "{mine}");
    // A company token naming another company is refused before any SQL is read.
    let named = rpc_as(
        &t.app,
        B_TOKEN,
        "database.query",
        json!({"sql": "SELECT 1", "company_id": t.a.0}),
    )
    .await;
    assert_eq!(named["error"]["code"], -32002, "{named}");
}

#[actix_web::test]
async fn query_refuses_everything_but_a_single_select_of_the_views_and_changes_nothing() {
    let t = tenants().await;
    let before = t.a_state().await;
    let long = format!("SELECT 1{}", " ".repeat(4100));
    let many: Vec<i64> = (0..21).collect();
    // (what, params, words one of which the refusal names)
    let table: Vec<(&str, Value, &[&str])> = vec![
        ("DELETE FROM calls", json!({}), &["found DELETE"]),
        (
            "UPDATE calls SET status = 'ended'",
            json!({}),
            &["found UPDATE"],
        ),
        ("DROP TABLE calls", json!({}), &["found DROP"]),
        (
            "INSERT INTO calls SELECT * FROM calls",
            json!({}),
            &["found INSERT"],
        ),
        (
            "SELECT 1; DELETE FROM calls",
            json!({}),
            &["found 2 statements"],
        ),
        (
            "PRAGMA query_only = 0",
            json!({}),
            &["PRAGMA", "does not parse"],
        ),
        (
            "ATTACH DATABASE 'x.db' AS x",
            json!({}),
            &["ATTACH", "does not parse"],
        ),
        (
            "SELECT * FROM api_tokens",
            json!({}),
            &["`api_tokens` is not a queryable view"],
        ),
        (
            "SELECT * FROM companies",
            json!({}),
            &["`companies` is not a queryable view"],
        ),
        (
            "SELECT * FROM sqlite_master",
            json!({}),
            &["is not a queryable view"],
        ),
        (
            "SELECT * FROM pg_catalog.pg_tables",
            json!({}),
            &["names a schema"],
        ),
        (
            "SELECT * FROM information_schema.tables",
            json!({}),
            &["names a schema"],
        ),
        (
            "SELECT * FROM \"api_tokens\"",
            json!({}),
            &["is not a queryable view"],
        ),
        (
            "SELECT * FROM calls /* harmless */ JOIN api_tokens ON true",
            json!({}),
            &["`api_tokens` is not a queryable view"],
        ),
        (
            "SELECT (SELECT token_sha256 FROM api_tokens LIMIT 1) FROM calls",
            json!({}),
            &["is not a queryable view"],
        ),
        ("SELECT pg_sleep(5)", json!({}), &["function `pg_sleep`"]),
        (
            "SELECT randomblob(1000000)",
            json!({}),
            &["function `randomblob`"],
        ),
        (
            "SELECT * FROM generate_series(1, 3)",
            json!({}),
            &["table functions"],
        ),
        (
            "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT * FROM r",
            json!({}),
            &["RECURSIVE"],
        ),
        ("SELECT * FROM calls FOR UPDATE", json!({}), &["FOR UPDATE"]),
        ("SELECT * INTO stolen FROM calls", json!({}), &["INTO"]),
        (
            "WITH calls AS (SELECT 1) SELECT * FROM calls",
            json!({}),
            &["name of a view"],
        ),
        ("SELECT $2", json!({"params": [1]}), &["not one of"]),
        (&long, json!({}), &["4096"]),
        ("SELECT 1", json!({"params": many}), &["params", "20"]),
        ("SELECT $1", json!({"params": [{"a": 1}]}), &["params"]),
    ];
    for (sql, extra, words) in table {
        let mut params = json!({"sql": sql});
        for (k, v) in extra.as_object().unwrap() {
            params[k] = v.clone();
        }
        for token in [A_TOKEN, ADMIN_TOKEN] {
            let mut params = params.clone();
            if token == ADMIN_TOKEN {
                params["company_id"] = json!(t.a.0);
            }
            let res = rpc_as(&t.app, token, "database.query", params).await;
            let shown: String = sql.chars().take(60).collect();
            assert_eq!(res["error"]["code"], -32602, "{shown}: {res}");
            let text = res["error"].to_string();
            assert!(
                words.iter().any(|w| text.contains(w)),
                "{shown}: the refusal names none of {words:?}: {res}"
            );
        }
    }
    assert_eq!(
        t.a_state().await,
        before,
        "a refused query changed stored data"
    );
}

#[actix_web::test]
async fn a_slow_query_is_stopped_by_the_time_limit() {
    let app = spawn_app_with(&[("SWITCHBOARD__DATABASE__QUERY__TIMEOUT_MS", "300")]).await;
    // 10^9 combinations of ten digits: far beyond 300 ms on either backend.
    let slow = "WITH d(x) AS (VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) \
                SELECT count(*) FROM d a, d b, d c, d e, d f, d g, d h, d i, d j";
    let res = rpc_as(
        &app,
        ADMIN_TOKEN,
        "database.query",
        json!({"company_id": 1, "sql": slow}),
    )
    .await;
    assert_eq!(res["error"]["code"], -32005, "{res}");
    // Nothing stays read-only or stuck: queries and writes go on.
    let ok = data(
        &app,
        ADMIN_TOKEN,
        "database.query",
        json!({"company_id": 1, "sql": "SELECT count(*) FROM calls"}),
    )
    .await;
    assert_eq!(ok["rows"][0][0], 0, "{ok}");
    app.collect_complete("call_after_slow", "10 Uhr", true)
        .await;
    assert_eq!(
        app.webhook("call_ended", ended("call_after_slow")).await,
        204
    );
    assert_eq!(
        app.wait_for_booking("call_after_slow").await["booking_job"]["status"],
        "done"
    );
}
