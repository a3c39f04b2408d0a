//! Backend outages, with private servers started by the test (the shared CI backends stay
//! untouched): Redis going down mid-run and PostgreSQL restarting mid-run. The service says it
//! is degraded, keeps answering what it can, recovers without a restart of its own, and never
//! loses a webhook it acknowledged. Where the Debian package a test needs (`redis-server`,
//! `postgresql`) is not installed, the test is skipped locally and fails in CI (`CI=true`).

mod common;

use common::{Driver, Proc, spawn_serve_with, wait_until_up};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn redis_server(port: u16) -> Option<Proc> {
    let child = Command::new("redis-server")
        .args([
            "--bind",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .spawn()
        .ok()?;
    Some(Proc(child))
}

async fn wait_for_port(port: u16) {
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nothing listens on {port}");
}

async fn get(driver: &Driver, path: &str) -> (u16, Value) {
    let r = driver
        .client
        .get(format!("{}{path}", driver.bases[0]))
        .bearer_auth(common::ADMIN)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// Waits (bounded) until `/readyz` says `status`.
async fn wait_for_readyz(driver: &Driver, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, body) = get(driver, "/readyz").await;
        if body["status"] == status || Instant::now() > deadline {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One complete confirmed call; returns once its booking job is done (bounded).
async fn book_one(driver: &Driver, plan: &common::Plan) -> Value {
    driver.run_call(plan, 0, 0).await;
    wait_booked(driver, &plan.call_id).await
}

/// The call's record once its booking job is done (bounded wait).
async fn wait_booked(driver: &Driver, call_id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let view = driver
            .rpc("webhook.getCall", json!({"call_id": call_id}))
            .await["result"]["data"]
            .clone();
        if view["booking_job"]["status"] == "done" || Instant::now() > deadline {
            return view;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn confirmed_plans(seed: u64, tag: &str) -> Vec<common::Plan> {
    common::plan(seed, 12, tag, 0)
        .into_iter()
        .filter(|p| p.kind == common::Kind::Confirmed)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_degrades_keeps_serving_and_recovers() {
    let (sim_port, app_port, redis_port) = (
        common::free_port(),
        common::free_port(),
        common::free_port(),
    );
    let Some(redis) = redis_server(redis_port) else {
        common::backend_missing("redis outage test", "redis-server is not installed");
        return;
    };
    wait_for_port(redis_port).await;
    let dir = tempfile::tempdir().unwrap();
    let client = common::client();
    let _sim = common::start_sim(&client, sim_port).await;
    let db = common::database_url(dir.path()).await;
    let redis_url = format!("redis://127.0.0.1:{redis_port}");
    let _app = spawn_serve_with(
        dir.path(),
        &db,
        app_port,
        sim_port,
        "",
        &[("SWITCHBOARD__REDIS__URL", redis_url)],
    );
    let driver = Driver {
        client,
        bases: vec![format!("http://127.0.0.1:{app_port}")],
    };
    wait_until_up(&driver.client, &format!("{}/readyz", driver.bases[0])).await;
    let plans = confirmed_plans(11, "redis");

    assert_eq!(
        wait_for_readyz(&driver, "ready").await["cache"]["backend"],
        "redis"
    );
    assert_eq!(
        book_one(&driver, &plans[0]).await["booking_job"]["status"],
        "done"
    );

    drop(redis);
    let ready = wait_for_readyz(&driver, "degraded").await;
    assert_eq!(ready["status"], "degraded", "{ready}");
    assert_eq!(ready["cache"]["up"], false);
    let (_, health) = get(&driver, "/api/mcp/health").await;
    assert_eq!(health["status"], "degraded", "{health}");
    // Calls go on from the database while Redis is down.
    assert_eq!(
        book_one(&driver, &plans[1]).await["booking_job"]["status"],
        "done"
    );
    let types = driver
        .rpc("calcom.getEventTypes", json!({"company_id": 1}))
        .await;
    assert_eq!(types["result"]["metadata"]["cached"], false, "{types}");

    // Redis comes back on the same port: the cache recovers by itself.
    let _redis = redis_server(redis_port).unwrap();
    wait_for_port(redis_port).await;
    assert_eq!(wait_for_readyz(&driver, "ready").await["status"], "ready");
    assert_eq!(
        book_one(&driver, &plans[2]).await["booking_job"]["status"],
        "done"
    );
    driver
        .rpc("calcom.getEventTypes", json!({"company_id": 1}))
        .await;
    let cached = driver
        .rpc("calcom.getEventTypes", json!({"company_id": 1}))
        .await;
    assert_eq!(cached["result"]["metadata"]["cached"], true, "{cached}");
}

/// A private PostgreSQL cluster in a temp dir (as the `postgres` user when we are root).
struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

fn as_postgres(program: &Path) -> Command {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

impl Postgres {
    fn init(port: u16) -> Option<Self> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path().join("bin"))
            .max()?;
        let dir = tempfile::tempdir().ok()?;
        let _ = Command::new("chown")
            .args(["postgres"])
            .arg(dir.path())
            .status();
        let data = dir.path().join("pg");
        let ok = as_postgres(&bin.join("initdb"))
            .args(["-D"])
            .arg(&data)
            .args(["-U", "switchboard", "--auth=trust"])
            .stdout(Stdio::null())
            .status()
            .ok()?
            .success();
        ok.then_some(Self {
            bin,
            data,
            port,
            _dir: dir,
        })
    }

    fn pg_ctl(&self, args: &[&str]) {
        let options = format!(
            "-p {} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port
        );
        let status = as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(["-w", "-o", &options])
            .args(args)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "pg_ctl {args:?} failed");
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restart_loses_no_acknowledged_webhook_and_recovers() {
    let (sim_port, app_port, pg_port) = (
        common::free_port(),
        common::free_port(),
        common::free_port(),
    );
    let Some(pg) = Postgres::init(pg_port) else {
        common::backend_missing(
            "postgres restart test",
            "the postgresql package is not installed",
        );
        return;
    };
    pg.pg_ctl(&["start"]);
    let dir = tempfile::tempdir().unwrap();
    let client = common::client();
    let _sim = common::start_sim(&client, sim_port).await;
    let db = format!("postgres://switchboard@127.0.0.1:{pg_port}/postgres");
    let _app = spawn_serve_with(dir.path(), &db, app_port, sim_port, "", &[]);
    let driver = Driver {
        client,
        bases: vec![format!("http://127.0.0.1:{app_port}")],
    };
    wait_until_up(&driver.client, &format!("{}/readyz", driver.bases[0])).await;
    let plans = confirmed_plans(12, "pgrestart");
    assert_eq!(
        book_one(&driver, &plans[0]).await["booking_job"]["status"],
        "done"
    );

    let during = plans[1].clone();
    driver.collect(&during, 0, 0).await;

    // The database goes away: not ready, and a webhook is not acknowledged (Retell retries).
    // The operator token, accepted while the database was up, still reads the health report,
    // which names the failure without its error text.
    let (status, health) = get(&driver, "/api/mcp/health").await;
    assert_eq!(status, 200, "{health}");
    pg.pg_ctl(&["-m", "fast", "stop"]);
    let (status, ready) = get(&driver, "/readyz").await;
    assert_eq!(status, 503);
    assert_eq!(ready["database"], "unavailable", "{ready}");
    let (_, health) = get(&driver, "/api/mcp/health").await;
    assert_eq!(health["status"], "unhealthy", "{health}");
    assert_eq!(
        health["services"]["database"]["error"], "unavailable",
        "{health}"
    );
    let ended = json!({"event": "call_ended", "call": {"call_id": "call_pg_down", "direction": "inbound",
        "from_number": "+4915112345678", "to_number": common::DEMO_NUMBER, "call_status": "ended"}});
    let body = serde_json::to_vec(&ended).unwrap();
    let sig = switchboard_actors::retell::signature::sign(
        &body,
        common::RETELL_KEY,
        chrono::Utc::now().timestamp_millis(),
    );
    let r = driver
        .client
        .post(format!("{}/api/mcp/retell/webhook", driver.bases[0]))
        .header("X-Retell-Signature", sig)
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_server_error(),
        "a webhook we cannot store must not be acknowledged: {}",
        r.status()
    );

    // A call that collected its data before the outage ends during it: Retell keeps retrying
    // call_ended (our driver does too) until the webhook is stored, then it is booked.
    let retrying = {
        let driver = Driver {
            client: driver.client.clone(),
            bases: driver.bases.clone(),
        };
        tokio::spawn(async move {
            driver.end(&during).await;
            wait_booked(&driver, &during.call_id).await
        })
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    pg.pg_ctl(&["start"]);
    assert_eq!(
        wait_for_readyz(&driver, "ready").await["status"],
        "ready",
        "recovers without a restart"
    );
    assert_eq!(retrying.await.unwrap()["booking_job"]["status"], "done");
    assert_eq!(
        book_one(&driver, &plans[2]).await["booking_job"]["status"],
        "done"
    );
}
