//! Tokens at the gateway (issue 11): only live tokens authenticate, a revoked one stops
//! within the lookup memo's lifetime, and a token's scope bounds what it may call.

use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use chrono::{DateTime, TimeDelta, Utc};
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};
use switchboard::store::{AnyStore, token_digest};
use switchboard_actors::domain::ids::CompanyId;
use switchboard_actors::domain::onboarding::AuditRecord;
use switchboard_actors::ports::TokenAdminStore as _;
use switchboard_actors::records::{NewToken, TokenKind};

/// The sandbox's demo company, the first one seeded.
const DEMO: CompanyId = CompanyId(1);

fn audit(action: &str) -> AuditRecord {
    AuditRecord {
        actor: "test".into(),
        action: action.into(),
        changes: Vec::new(),
    }
}

/// Creates a token as `switchboard token create` does and returns it with its id.
pub async fn create_token(
    store: &AnyStore,
    company: Option<CompanyId>,
    kind: TokenKind,
    name: &str,
    expires_at: Option<DateTime<Utc>>,
) -> (String, i64) {
    let new = NewToken {
        company_id: company,
        kind,
        name: name.to_owned(),
        expires_at,
    };
    let (info, token) = store
        .create_token(&new, &audit("token create"))
        .await
        .unwrap();
    (token.expose_secret().to_owned(), info.id)
}

/// Stores a fixed `token` as a `write` token of `company`, for suites that name their
/// tokens in constants (`token create` makes random ones). The values are ours (hex, an id,
/// a test constant without quotes), so they are written into the statement.
pub async fn plant_token(db_url: &str, company: CompanyId, token: &str) {
    use sqlx::Executor as _;
    let insert = format!(
        "INSERT INTO api_tokens (token_sha256, company_id, label, created_at, scope) \
         VALUES ('{}', {}, '{token}', '{}', 'write')",
        token_digest(token),
        company.0,
        Utc::now().to_rfc3339()
    );
    if db_url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(db_url).await.unwrap();
        pool.execute(insert.as_str()).await.unwrap();
    } else {
        let pool = sqlx::PgPool::connect(db_url).await.unwrap();
        pool.execute(insert.as_str()).await.unwrap();
    }
}

async fn rpc_as(app: &TestApp, token: &str, method: &str, params: Value) -> (u16, Value) {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    app.gateway_raw(&body.to_string(), Some(token)).await
}

#[actix_web::test]
async fn expired_token_is_refused_by_the_gateway() {
    let app = spawn_app().await;
    let now = Utc::now();
    let (expired, _) = create_token(
        &app.store,
        Some(DEMO),
        TokenKind::Write,
        "expired",
        Some(now - TimeDelta::seconds(1)),
    )
    .await;
    let (current, _) = create_token(
        &app.store,
        Some(DEMO),
        TokenKind::Write,
        "current",
        Some(now + TimeDelta::days(90)),
    )
    .await;
    let (status, reply) = rpc_as(&app, &expired, "queue.getOverview", json!({})).await;
    assert_eq!(status, 401, "{reply}");
    assert_eq!(reply["error"]["code"], -32001, "{reply}");
    let (status, reply) = rpc_as(&app, &current, "queue.getOverview", json!({})).await;
    assert_eq!(
        (status, &reply["result"]["success"]),
        (200, &json!(true)),
        "{reply}"
    );
}

#[actix_web::test]
async fn revoked_token_stops_working_within_the_lookup_ttl() {
    let app = spawn_app_with(&[("SWITCHBOARD__CACHE__LOOKUPS_TTL_S", "0")]).await;
    let (token, id) =
        create_token(&app.store, Some(DEMO), TokenKind::Read, "frontdesk", None).await;
    let (status, reply) = rpc_as(&app, &token, "queue.getOverview", json!({})).await;
    assert_eq!(status, 200, "{reply}");

    let revoked = app
        .store
        .revoke_token(id, Some(DEMO), Utc::now(), &audit("auth.revokeToken"))
        .await
        .unwrap();
    assert!(revoked.is_some_and(|t| t.revoked_at.is_some()));
    let (status, reply) = rpc_as(&app, &token, "queue.getOverview", json!({})).await;
    assert_eq!(status, 401, "{reply}");
    assert_eq!(reply["error"]["code"], -32001, "{reply}");
}

#[actix_web::test]
async fn read_token_cannot_book_or_retry_jobs() {
    let app = spawn_app().await;
    let (read, _) = create_token(&app.store, Some(DEMO), TokenKind::Read, "reader", None).await;
    let (write, _) = create_token(&app.store, Some(DEMO), TokenKind::Write, "writer", None).await;
    let booking = json!({"service": "Herrenhaarschnitt", "date": "2030-01-07", "time": "10:00",
        "name": "Erika", "phone": "+4917612345678"});
    for (method, params) in [
        ("calcom.createBooking", booking),
        ("queue.retryJob", json!({"job_id": 1})),
        (
            "queue.retryFailed",
            json!({"since": "2030-01-01T00:00:00Z"}),
        ),
    ] {
        let (_, reply) = rpc_as(&app, &read, method, params.clone()).await;
        assert_eq!(reply["error"]["code"], -32002, "{method}: {reply}");
        let message = reply["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("needs a write token; this one is read"),
            "{method}: {reply}"
        );
        let (_, reply) = rpc_as(&app, &write, method, params).await;
        assert_ne!(reply["error"]["code"], -32002, "{method}: {reply}");
    }
    let (status, reply) = rpc_as(&app, &read, "queue.getOverview", json!({})).await;
    assert_eq!(
        (status, &reply["result"]["success"]),
        (200, &json!(true)),
        "{reply}"
    );
}
