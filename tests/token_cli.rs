//! `switchboard token create|list|revoke`: the real binary makes tokens an operator can hand
//! out (only their digests are stored), lists them without the tokens, revokes them, and
//! records each change in the audit log.

mod common;

use std::process::{Command, Output};
use switchboard::store::{AnyStore, token_digest};
use switchboard_actors::domain::ids::CompanyId;
use switchboard_actors::domain::onboarding::{AuditRecord, RawTenant, TenantSpec, literal_secret};
use switchboard_actors::ports::{TenantAdminStore as _, TokenStore as _};
use switchboard_actors::records::{TokenGrant, TokenScope};

/// Runs `switchboard token ARGS…` against the database at `url` as user `ops`.
fn run(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("token")
        .args(args)
        .env("SWITCHBOARD__DATABASE__URL", url)
        .env("USER", "ops")
        .output()
        .expect("the binary runs")
}

/// Stdout of a run that must succeed.
fn succeeded(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// The token on the last line of `token create`.
fn last_line(stdout: &str) -> String {
    stdout.lines().last().unwrap_or_default().to_owned()
}

/// The gateway grant of `token`, which must exist.
async fn grant_of(store: &AnyStore, token: &str) -> TokenGrant {
    store
        .api_token(&token_digest(token))
        .await
        .unwrap()
        .expect("a gateway token")
}

/// A fresh database with the tenant `praxis-weber` (no credentials); its store and id.
async fn with_tenant(dir: &std::path::Path) -> (String, AnyStore, CompanyId) {
    let url = common::database_url(dir).await;
    let store = AnyStore::connect(&url, 1).await.unwrap();
    let raw = RawTenant {
        slug: "praxis-weber".into(),
        name: "Praxis Dr. Weber".into(),
        locale: "de".into(),
        time_zone: "Europe/Berlin".into(),
        ..RawTenant::default()
    };
    let spec = TenantSpec::from_raw(&raw, &literal_secret).unwrap();
    let audit = AuditRecord {
        actor: "test".into(),
        action: "tenant apply".into(),
        changes: Vec::new(),
    };
    let id = store.write_tenant(&spec, &audit).await.unwrap();
    (url, store, id)
}

#[tokio::test]
async fn token_create_prints_the_token_alone_on_its_last_line() {
    let dir = tempfile::tempdir().unwrap();
    let (url, store, id) = with_tenant(dir.path()).await;
    let stdout = succeeded(&run(
        &url,
        &[
            "create",
            "--company",
            "praxis-weber",
            "--expires",
            "90d",
            "--name",
            "frontdesk",
        ],
    ));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].contains("write token \"frontdesk\" for tenant praxis-weber"),
        "{stdout}"
    );
    assert!(lines[0].contains("expires 20"), "{stdout}");
    let token = last_line(&stdout);
    assert!(token.starts_with("sb_") && token.len() == 67, "{token}");
    let grant = grant_of(&store, &token).await;
    assert_eq!(
        (grant.company_id, grant.scope, grant.label.as_str()),
        (Some(id), TokenScope::Write, "frontdesk")
    );

    // By id too, with a scope.
    let stdout = succeeded(&run(
        &url,
        &["create", "--company", &id.0.to_string(), "--scope", "read"],
    ));
    let grant = grant_of(&store, &last_line(&stdout)).await;
    assert_eq!(
        (grant.company_id, grant.scope),
        (Some(id), TokenScope::Read)
    );
}

#[tokio::test]
async fn token_create_prints_a_metrics_token_that_cannot_use_the_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::database_url(dir.path()).await;
    let out = run(
        &url,
        &["create", "--scope", "metrics", "--name", "prometheus"],
    );
    let token = last_line(&succeeded(&out));
    assert!(token.starts_with("sb_") && token.len() == 67, "{token}");

    let store = AnyStore::connect(&url, 1).await.unwrap();
    let digest = token_digest(&token);
    assert!(store.metrics_access(&digest).await.unwrap());
    assert_eq!(store.api_token(&digest).await.unwrap(), None);
}

#[tokio::test]
async fn token_create_refuses_a_metrics_token_for_a_company() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::database_url(dir.path()).await;
    let out = run(
        &url,
        &[
            "create",
            "--scope",
            "metrics",
            "--company",
            "1",
            "--name",
            "prometheus",
        ],
    );
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "no token printed");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("belongs to no company"), "{stderr}");
}

#[tokio::test]
async fn token_create_refuses_an_unknown_tenant_or_lifetime() {
    let dir = tempfile::tempdir().unwrap();
    let (url, ..) = with_tenant(dir.path()).await;
    for (args, says) in [
        (
            &["create", "--company", "nobody"][..],
            "no tenant \"nobody\"",
        ),
        (&["create", "--expires", "90 parsecs"][..], "--expires"),
    ] {
        let out = run(&url, args);
        assert!(!out.status.success(), "{args:?}");
        assert!(out.stdout.is_empty(), "no token printed");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{stderr}");
    }
}

#[tokio::test]
async fn token_create_without_scope_makes_an_admin_gateway_token() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::database_url(dir.path()).await;
    let token = last_line(&succeeded(&run(&url, &["create", "--name", "ops"])));
    let store = AnyStore::connect(&url, 1).await.unwrap();
    let grant = grant_of(&store, &token).await;
    assert_eq!(
        (grant.company_id, grant.scope, grant.label.as_str()),
        (None, TokenScope::Admin, "ops")
    );
}

#[tokio::test]
async fn token_list_shows_no_token_and_revoke_stops_it() {
    let dir = tempfile::tempdir().unwrap();
    let (url, store, id) = with_tenant(dir.path()).await;
    let created = succeeded(&run(
        &url,
        &["create", "--company", "praxis-weber", "--name", "frontdesk"],
    ));
    let secret = last_line(&created);
    succeeded(&run(
        &url,
        &["create", "--scope", "metrics", "--name", "prometheus"],
    ));

    let listed = succeeded(&run(&url, &["list"]));
    assert!(!listed.contains(&secret), "{listed}");
    assert!(!listed.contains(&token_digest(&secret)), "{listed}");
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(
        lines.len(),
        3,
        "header and two tokens, newest first: {listed}"
    );
    assert!(
        lines[1].contains("metrics") && lines[1].contains("prometheus"),
        "{listed}"
    );
    assert!(
        lines[2].contains("praxis-weber") && lines[2].contains("write"),
        "{listed}"
    );
    let token_id = lines[2].split_whitespace().next().unwrap().to_owned();
    let only = succeeded(&run(&url, &["list", "--company", "praxis-weber"]));
    assert_eq!(only.lines().count(), 2, "{only}");

    let revoked = succeeded(&run(&url, &["revoke", &token_id]));
    assert!(revoked.contains("revoked at"), "{revoked}");
    assert_eq!(store.api_token(&token_digest(&secret)).await.unwrap(), None);
    let out = run(&url, &["revoke", "9999"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no token with id 9999"));

    let log = store.audit_log(None, 10, None).await.unwrap();
    let by_cli: Vec<&str> = log
        .iter()
        .filter(|e| e.actor == "cli:ops")
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(by_cli, ["token revoke", "token create", "token create"]);
    assert_eq!(log[0].company_id, Some(id));
}
