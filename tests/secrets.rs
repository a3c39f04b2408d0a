//! Database and Redis URLs are secrets: the real binary, logging at `debug`, never prints the
//! password of either — not when start-up fails, not while the backend is down — and still
//! names the host and port, so an operator can tell which server is meant.

mod common;

use common::{Proc, wait_until_up};
use std::path::Path;
use std::process::{Command, Stdio};

const PASSWORD: &str = "pw-never-printed-7f3a";

/// `switchboard serve` with `env`, logging at debug into `dir/out.log` (stdout and stderr).
fn serve(dir: &Path, env: &[(&str, String)]) -> Command {
    let log = std::fs::File::create(dir.join("out.log")).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    command
        .arg("serve")
        .env("SWITCHBOARD__LOG__LEVEL", "debug")
        .env("SWITCHBOARD__SANDBOX__CALCOM_PORT", "0")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env_remove("RUST_LOG")
        .current_dir(dir)
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log));
    command
}

fn output(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("out.log")).unwrap()
}

#[test]
fn database_url_password_never_printed_on_failed_start() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens there: connecting fails after the pool's acquire timeout.
    let port = common::free_port();
    let url = format!("postgres://switchboard:{PASSWORD}@127.0.0.1:{port}/sb");
    let status = serve(
        dir.path(),
        &[
            ("SWITCHBOARD__DATABASE__URL", url),
            ("SWITCHBOARD__SERVER__PORT", "0".to_owned()),
        ],
    )
    .status()
    .expect("service starts");
    let out = output(dir.path());
    assert!(!status.success(), "start-up must fail: {out}");
    assert!(!out.contains(PASSWORD), "password printed:\n{out}");
    assert!(
        out.contains(&format!("127.0.0.1:{port}/sb")),
        "the failure names host, port and database:\n{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_url_password_never_logged() {
    let dir = tempfile::tempdir().unwrap();
    let (app_port, redis_port) = (common::free_port(), common::free_port());
    // Nothing listens on `redis_port`: every cache operation fails and is logged.
    let redis = format!("redis://:{PASSWORD}@127.0.0.1:{redis_port}/0");
    let app = Proc(
        serve(
            dir.path(),
            &[
                (
                    "SWITCHBOARD__DATABASE__URL",
                    format!("sqlite://{}/sb.db", dir.path().display()),
                ),
                ("SWITCHBOARD__SERVER__PORT", app_port.to_string()),
                ("SWITCHBOARD__REDIS__URL", redis),
                (
                    "SWITCHBOARD__SANDBOX__ADMIN_TOKEN",
                    common::ADMIN.to_owned(),
                ),
            ],
        )
        .spawn()
        .expect("service starts"),
    );
    let client = common::client();
    let base = format!("http://127.0.0.1:{app_port}");
    wait_until_up(&client, &format!("{base}/livez")).await;
    let readyz = client.get(format!("{base}/readyz")).send().await.unwrap();
    let ready: serde_json::Value = readyz.json().await.unwrap();
    assert_eq!(ready["cache"]["backend"], "redis", "{ready}");
    assert_eq!(ready["cache"]["up"], false, "{ready}");
    // A read through the cache: its failure is logged, naming the server.
    let driver = common::Driver {
        client,
        bases: vec![base],
    };
    let answer = driver
        .rpc("calcom.getEventTypes", serde_json::json!({"company_id": 1}))
        .await;
    assert!(
        answer["result"].is_object(),
        "served without the cache: {answer}"
    );
    drop(app);
    let out = output(dir.path());
    assert!(!out.contains(PASSWORD), "password printed:\n{out}");
    assert!(
        out.contains(&format!("127.0.0.1:{redis_port}")),
        "the cache failure names the Redis server:\n{out}"
    );
    assert!(
        !ready.to_string().contains(PASSWORD),
        "password in /readyz: {ready}"
    );
}
