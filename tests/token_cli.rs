//! `switchboard token create`: the real binary makes tokens an operator can hand out, storing
//! only their digests; a `metrics` token reads the operator surfaces and nothing else.

mod common;

use std::process::{Command, Output};
use switchboard::store::{AnyStore, token_digest};
use switchboard_actors::ports::TokenStore as _;

/// Runs `switchboard token create` with `args` against the database at `url`.
fn token_create(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["token", "create"])
        .args(args)
        .env("SWITCHBOARD__DATABASE__URL", url)
        .output()
        .expect("the binary runs")
}

#[tokio::test]
async fn token_create_prints_a_metrics_token_that_cannot_use_the_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::database_url(dir.path()).await;
    let out = token_create(&url, &["--scope", "metrics", "--label", "prometheus"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
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
    let out = token_create(
        &url,
        &[
            "--scope",
            "metrics",
            "--company",
            "1",
            "--label",
            "prometheus",
        ],
    );
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "no token printed");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("belongs to no company"), "{stderr}");
}

#[tokio::test]
async fn token_create_without_scope_makes_an_admin_gateway_token() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::database_url(dir.path()).await;
    let out = token_create(&url, &["--label", "ops"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let store = AnyStore::connect(&url, 1).await.unwrap();
    let grant = store
        .api_token(&token_digest(&token))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((grant.company_id, grant.label.as_str()), (None, "ops"));
}
