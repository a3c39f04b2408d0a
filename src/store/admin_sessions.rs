//! [`AdminSessionStore`]: sessions of the operators' dashboard (`/admin`, migration 0013),
//! keyed by the SHA-256 hex digest of the cookie's session id.
//!
//! A session is only as good as its token: the lookup joins `api_tokens` with the same
//! conditions as [`TokenStore::api_token`](switchboard_actors::ports::TokenStore::api_token)
//! (gateway scope, not revoked, not expired, company not disabled), on every request, so
//! revoking a token ends its sessions at once — the gateway's ten-second token memo does not
//! apply here.

use super::AnyStore;
use super::outbox::lease_end;
use super::sql::{Sql, backend};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::time::Duration;
use switchboard_actors::domain::ids::CompanyId;
use switchboard_actors::ports::{AdminSessionStore, StoreError};
use switchboard_actors::records::{AdminSession, NewAdminSession, TokenGrant, TokenScope};

#[async_trait]
impl AdminSessionStore for AnyStore {
    async fn create_admin_session(
        &self,
        session: &NewAdminSession,
        max_per_token: u32,
    ) -> Result<(), StoreError> {
        // The new session takes one of the token's places.
        let keep = i64::from(max_per_token.max(1)) - 1;
        self.db
            .retry(|| async {
                let mut tx = self.db.begin_write().await?;
                tx.execute(
                    Sql::new("DELETE FROM admin_sessions WHERE expires_at <= $1")
                        .bind(session.created_at),
                )
                .await?;
                tx.execute(
                    Sql::new(
                        "DELETE FROM admin_sessions WHERE token_id = $1 AND id NOT IN \
                             (SELECT id FROM admin_sessions WHERE token_id = $1 \
                              ORDER BY created_at DESC, id DESC LIMIT $2)",
                    )
                    .bind(session.token_id)
                    .bind(keep),
                )
                .await?;
                tx.execute(
                    Sql::new(
                        "INSERT INTO admin_sessions (session_sha256, token_id, company_id, csrf, \
                             created_at, last_seen_at, expires_at) \
                         VALUES ($1, $2, $3, $4, $5, $5, $6)",
                    )
                    .bind(session.session_sha256.as_str())
                    .bind(session.token_id)
                    .bind(session.company_id.map(|c| c.0))
                    .bind(session.csrf.as_str())
                    .bind(session.created_at)
                    .bind(session.expires_at),
                )
                .await?;
                tx.commit().await
            })
            .await
            .map_err(backend)
    }

    async fn admin_session(
        &self,
        session_sha256: &str,
        now: DateTime<Utc>,
        idle: Duration,
    ) -> Result<Option<AdminSession>, StoreError> {
        let digest = session_sha256.to_ascii_lowercase();
        let row: Option<(i64, Option<i64>, String, String, String)> = self
            .db
            .fetch_optional(
                Sql::new(
                    "SELECT t.id, t.company_id, t.label, t.scope, s.csrf \
                     FROM admin_sessions s JOIN api_tokens t ON t.id = s.token_id \
                     LEFT JOIN companies c ON c.id = t.company_id \
                     WHERE s.session_sha256 = $1 AND s.expires_at > $2 \
                     AND t.scope IN ('read', 'write', 'admin') AND t.revoked_at IS NULL \
                     AND (t.expires_at IS NULL OR t.expires_at > $2) AND c.disabled_at IS NULL",
                )
                .bind(digest.as_str())
                .bind(now),
            )
            .await
            .map_err(backend)?;
        let Some((token_id, company_id, label, scope, csrf)) = row else {
            return Ok(None);
        };
        let scope = TokenScope::parse(&scope).ok_or_else(|| StoreError::Corrupt {
            table: "api_tokens",
            message: format!("unknown scope {scope:?}"),
        })?;
        let expires_at = lease_end(now, idle);
        // Sliding expiry; a concurrent sign-out that deleted the row in between wins, and this
        // request is the session's last.
        self.db
            .retry(|| {
                self.db.execute(
                    Sql::new(
                        "UPDATE admin_sessions SET last_seen_at = $2, expires_at = $3 \
                         WHERE session_sha256 = $1",
                    )
                    .bind(digest.as_str())
                    .bind(now)
                    .bind(expires_at),
                )
            })
            .await
            .map_err(backend)?;
        Ok(Some(AdminSession {
            grant: TokenGrant {
                token_id: Some(token_id),
                company_id: company_id.map(CompanyId),
                label,
                scope,
            },
            csrf,
            expires_at,
        }))
    }

    async fn delete_admin_session(&self, session_sha256: &str) -> Result<(), StoreError> {
        self.db
            .retry(|| {
                self.db.execute(
                    Sql::new("DELETE FROM admin_sessions WHERE session_sha256 = $1")
                        .bind(session_sha256.to_ascii_lowercase()),
                )
            })
            .await
            .map_err(backend)?;
        Ok(())
    }
}
