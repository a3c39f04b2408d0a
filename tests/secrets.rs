//! Database and Redis URLs are secrets: the real binary, logging at `debug`, never prints the
//! password of either — not when start-up fails, not while the backend is down — and still
//! names the host and port, so an operator can tell which server is meant.
//!
//! Tenants' credentials are secrets at rest (issue 10, finding 7): production refuses to start
//! without the key they are sealed with, or with plaintext ones until `switchboard secrets
//! rotate` has sealed them; the sandbox keeps its generated key across restarts; a credential
//! that does not open fails that tenant's requests only.

mod common;

use common::{Proc, wait_until_up};
use secrecy::{ExposeSecret, SecretString};
use std::path::Path;
use std::process::{Command, Stdio};
use switchboard::secrets::{Keyring, SecretKey};
use switchboard::store::{AnyStore, NewCompany};
use switchboard_actors::domain::ids::CompanyId;
use switchboard_actors::domain::tenant::Locale;
use switchboard_actors::ports::TenancyStore;

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

/// A store on `url` sealing with `key` (base64).
async fn keyed_store(url: &str, key: &str) -> AnyStore {
    let key = SecretKey::from_base64(key, "test key").unwrap();
    AnyStore::connect(url, 1)
        .await
        .unwrap()
        .with_keyring(Keyring::new(key, Vec::new()))
}

/// Company `name` with the simulator's Cal.com key (so its calls work in sandbox mode).
fn tenant(name: &str) -> NewCompany {
    NewCompany {
        name: name.to_owned(),
        locale: Locale::De,
        time_zone: chrono_tz::Europe::Berlin,
        retell_api_key: SecretString::from(format!("key_{PLAINTEXT_MARK}")),
        calcom_api_key: SecretString::from(common::CALCOM_KEY),
    }
}

/// Part of every credential a test stores, to search the output for.
const PLAINTEXT_MARK: &str = "plain-credential-9c1e";

/// Production settings on `db` (the real Cal.com is never called: these services only
/// start, or refuse to).
fn production(db: &str, port: u16, key: Option<&str>) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("SWITCHBOARD__DATABASE__URL", db.to_owned()),
        ("SWITCHBOARD__SERVER__PORT", port.to_string()),
        ("SWITCHBOARD__SANDBOX__ENABLED", "false".to_owned()),
    ];
    if let Some(key) = key {
        env.push(("SWITCHBOARD__SECRETS__KEY", key.to_owned()));
    }
    env
}

/// A fresh database (see [`common::database_url`]) with one company, sealed with
/// [`common::SECRETS_KEY`].
async fn database_with_tenant(dir: &Path) -> (String, CompanyId) {
    let db = common::database_url(dir).await;
    let company = keyed_store(&db, common::SECRETS_KEY)
        .await
        .upsert_company(&tenant("Praxis Mond"))
        .await
        .unwrap();
    (db, company)
}

/// The output of `switchboard serve` with `env`, asserting that it refused to start.
fn refused(dir: &Path, env: &[(&str, String)]) -> String {
    let status = serve(dir, env).status().unwrap();
    let out = output(dir);
    assert!(!status.success(), "start-up must fail: {out}");
    out
}

/// Sandbox settings on `db` and a free port, and a driver of the service they start (admin
/// token [`common::ADMIN`]).
fn sandbox(db: &str) -> (Vec<(&'static str, String)>, common::Driver) {
    let port = common::free_port();
    let env = vec![
        ("SWITCHBOARD__DATABASE__URL", db.to_owned()),
        ("SWITCHBOARD__SERVER__PORT", port.to_string()),
        (
            "SWITCHBOARD__SANDBOX__ADMIN_TOKEN",
            common::ADMIN.to_owned(),
        ),
    ];
    let driver = common::Driver {
        client: common::client(),
        bases: vec![format!("http://127.0.0.1:{port}")],
    };
    (env, driver)
}

/// Overwrites every stored credential with a plaintext one, as rows from before encryption at
/// rest look.
async fn make_plaintext(url: &str) {
    use sqlx::Connection;
    let sql = format!(
        "UPDATE companies SET retell_api_key = 'key_{PLAINTEXT_MARK}', \
         calcom_api_key = 'cal_{PLAINTEXT_MARK}'"
    );
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query(&sql).execute(&mut conn).await.unwrap();
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(&sql).execute(&mut conn).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_without_key_refuses_to_start_with_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = database_with_tenant(dir.path()).await;
    let out = refused(dir.path(), &production(&db, 0, None));
    assert!(
        out.contains("1 companies have stored credentials, but no secrets key is configured")
            && out.contains("SWITCHBOARD__SECRETS__KEY"),
        "the refusal names the setting:\n{out}"
    );
    assert!(!out.contains(PLAINTEXT_MARK), "credential printed:\n{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_with_plaintext_credentials_starts_only_after_secrets_rotate() {
    let dir = tempfile::tempdir().unwrap();
    let (db, company) = database_with_tenant(dir.path()).await;
    make_plaintext(&db).await;
    let key = Some(common::SECRETS_KEY);
    let out = refused(dir.path(), &production(&db, 0, key));
    assert!(
        out.contains("2 stored credentials are in plaintext")
            && out.contains("switchboard secrets rotate"),
        "the refusal says what to run:\n{out}"
    );

    let rotate = |dry_run: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard"));
        command.args(["secrets", "rotate"]);
        if dry_run {
            command.arg("--dry-run");
        }
        let out = command
            .envs(production(&db, 0, key))
            .env("SWITCHBOARD__LOG__LEVEL", "warn")
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let planned = rotate(true);
    assert!(
        planned.contains("2 in plaintext") && planned.contains("dry run, nothing written"),
        "{planned}"
    );
    let done = rotate(false);
    assert!(
        done.contains("2 in plaintext") && done.contains("1 rows rewritten"),
        "{done}"
    );
    let again = rotate(false);
    assert!(
        again.contains("2 values under the current key") && again.contains("0 rows rewritten"),
        "idempotent: {again}"
    );
    for printed in [&planned, &done, &again] {
        assert!(!printed.contains(PLAINTEXT_MARK), "{printed}");
    }
    let profile = keyed_store(&db, common::SECRETS_KEY)
        .await
        .company(company)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        profile.calcom_api_key.expose_secret(),
        format!("cal_{PLAINTEXT_MARK}")
    );

    let port = common::free_port();
    let _app = Proc(
        serve(dir.path(), &production(&db, port, key))
            .spawn()
            .unwrap(),
    );
    wait_until_up(&common::client(), &format!("http://127.0.0.1:{port}/livez")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_restart_on_same_database_keeps_working() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::database_url(dir.path()).await;
    let (env, driver) = sandbox(&db);
    let event_types = |company: i64| {
        let driver = &driver;
        async move {
            driver
                .rpc(
                    "calcom.getEventTypes",
                    serde_json::json!({"company_id": company}),
                )
                .await
        }
    };
    let key_file = db
        .strip_prefix("sqlite://")
        .map(|file| std::path::PathBuf::from(format!("{file}.key")));

    let first = Proc(serve(dir.path(), &env).spawn().unwrap());
    wait_until_up(&driver.client, &format!("{}/readyz", driver.bases[0])).await;
    let answer = event_types(1).await;
    assert!(answer["result"].is_object(), "{answer}");
    drop(first);
    // A file database keeps its generated key beside it, for the owner only; a company stored
    // with it meanwhile is readable after the restart.
    let second_company = match &key_file {
        Some(path) => {
            let key = std::fs::read_to_string(path).unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(path).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "{}", path.display());
            }
            let company = keyed_store(&db, &key)
                .await
                .upsert_company(&tenant("Praxis Mond"))
                .await
                .unwrap();
            Some((company, key))
        }
        None => None,
    };

    let _second = Proc(serve(dir.path(), &env).spawn().unwrap());
    wait_until_up(&driver.client, &format!("{}/readyz", driver.bases[0])).await;
    let answer = event_types(1).await;
    assert!(
        answer["result"].is_object(),
        "demo tenant after restart: {answer}"
    );
    if let (Some((company, key)), Some(path)) = (second_company, &key_file) {
        let answer = event_types(company.0).await;
        assert!(
            answer["result"].is_object(),
            "second tenant after restart: {answer}"
        );
        assert_eq!(
            std::fs::read_to_string(path).unwrap(),
            key,
            "the key file is kept"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecryptable_credential_fails_that_tenants_requests_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::database_url(dir.path()).await;
    let (mut env, driver) = sandbox(&db);
    env.push(("SWITCHBOARD__SECRETS__KEY", common::SECRETS_KEY.to_owned()));
    let _app = Proc(serve(dir.path(), &env).spawn().unwrap());
    wait_until_up(&driver.client, &format!("{}/readyz", driver.bases[0])).await;
    // Sealed with a key this service does not have.
    let stranger = keyed_store(&db, SecretKey::generate_base64().as_str())
        .await
        .upsert_company(&tenant("Praxis Mond"))
        .await
        .unwrap();
    for _ in 0..3 {
        let refused = driver
            .rpc(
                "calcom.getEventTypes",
                serde_json::json!({"company_id": stranger.0}),
            )
            .await;
        let message = refused["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(&format!("companies.retell_api_key of company {stranger}")),
            "{refused}"
        );
        assert!(!refused.to_string().contains(PLAINTEXT_MARK), "{refused}");
    }
    let demo = driver
        .rpc("calcom.getEventTypes", serde_json::json!({"company_id": 1}))
        .await;
    assert!(
        demo["result"].is_object(),
        "other tenants are served: {demo}"
    );
    let out = output(dir.path());
    assert!(!out.contains(PLAINTEXT_MARK), "credential printed:\n{out}");
    assert!(!out.contains(common::SECRETS_KEY), "key printed:\n{out}");
}
