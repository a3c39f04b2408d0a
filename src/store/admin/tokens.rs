//! Tokens as operators manage them: created at random (only the SHA-256 is stored), listed
//! without their digests, revoked.

use super::super::sql::{Sql, backend};
use super::super::token_digest;
use super::{AnyStore, TxError, audit};
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use switchboard_actors::domain::ids::CompanyId;
use switchboard_actors::domain::onboarding::AuditRecord;
use switchboard_actors::domain::text;
use switchboard_actors::ports::StoreError;
use switchboard_actors::records::{NewToken, TokenInfo, TokenKind};

/// Most tokens one tenant may have that are neither revoked nor expired: a tenant's admin
/// token must not fill the table (revoke one to make another).
pub const MAX_ACTIVE_TOKENS_PER_COMPANY: i64 = 100;

/// Most tokens one listing shows, newest first.
pub const MAX_LISTED_TOKENS: i64 = 500;

/// The columns of [`TokenRow`].
const TOKEN_COLUMNS: &str = "id, company_id, scope, label, created_at, expires_at, revoked_at";

/// `api_tokens` as listed.
#[derive(sqlx::FromRow)]
struct TokenRow {
    id: i64,
    company_id: Option<i64>,
    scope: String,
    label: String,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<TokenRow> for TokenInfo {
    fn from(row: TokenRow) -> Self {
        Self {
            id: row.id,
            company_id: row.company_id.map(CompanyId),
            scope: row.scope,
            name: row.label,
            created_at: row.created_at,
            expires_at: row.expires_at,
            revoked_at: row.revoked_at,
        }
    }
}

/// A new random token: `sb_` and 64 hex digits from two v4 UUIDs (244 random bits from the
/// OS generator).
fn random_token() -> String {
    format!(
        "sb_{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Creates a token as `new` says and records `audit` with it.
pub(super) async fn create(
    store: &AnyStore,
    new: &NewToken,
    audit_record: &AuditRecord,
) -> Result<(TokenInfo, SecretString), StoreError> {
    let name = text::NAME
        .clean(&new.name)
        .map_err(|e| StoreError::backend(format!("token name: {e}")))?;
    if name.is_empty() {
        return Err(StoreError::backend("token name: must not be empty"));
    }
    if new.kind == TokenKind::Metrics && new.company_id.is_some() {
        return Err(StoreError::backend("a metrics token belongs to no company"));
    }
    let token = random_token();
    let digest = token_digest(&token);
    let now = Utc::now();
    let (name, digest) = (&name, &digest);
    let info = store
        .write(|mut tx| async move {
            let result: Result<TokenInfo, TxError> = async {
                let company = match new.company_id {
                    None => None,
                    Some(id) => {
                        let found: Option<(String,)> = tx
                            .fetch_optional(
                                Sql::new("SELECT slug FROM companies WHERE id = $1").bind(id.0),
                            )
                            .await?;
                        let (slug,) = found.ok_or_else(|| {
                            StoreError::backend(format!("company {id} does not exist"))
                        })?;
                        let (active,): (i64,) = tx
                            .fetch_one(
                                Sql::new(
                                    "SELECT COUNT(*) FROM api_tokens WHERE company_id = $1 \
                                     AND revoked_at IS NULL \
                                     AND (expires_at IS NULL OR expires_at > $2)",
                                )
                                .bind(id.0)
                                .bind(now),
                            )
                            .await?;
                        if active >= MAX_ACTIVE_TOKENS_PER_COMPANY {
                            return Err(StoreError::Conflict(format!(
                                "tenant {slug} has {active} active tokens, the most allowed; \
                                 revoke one first"
                            ))
                            .into());
                        }
                        Some((id, slug))
                    }
                };
                let row: TokenRow = tx
                    .fetch_one(
                        Sql::new(format!(
                            "INSERT INTO api_tokens (token_sha256, company_id, label, \
                                 created_at, scope, expires_at) \
                             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {TOKEN_COLUMNS}"
                        ))
                        .bind(digest.as_str())
                        .bind(new.company_id.map(|c| c.0))
                        .bind(name.as_str())
                        .bind(now)
                        .bind(new.kind.as_str())
                        .bind(new.expires_at),
                    )
                    .await?;
                let slug = company.as_ref().map(|(id, slug)| (*id, slug.as_str()));
                audit::record(&mut tx, slug, audit_record, now).await?;
                Ok(row.into())
            }
            .await;
            (tx, result)
        })
        .await?;
    Ok((info, SecretString::from(token)))
}

/// Tokens of `company` (all when `None`), newest first, at most [`MAX_LISTED_TOKENS`].
pub(super) async fn list(
    store: &AnyStore,
    company: Option<CompanyId>,
) -> Result<Vec<TokenInfo>, StoreError> {
    let rows: Vec<TokenRow> = store
        .db
        .fetch_all(
            Sql::new(format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens \
                 WHERE $1 IS NULL OR company_id = $1 ORDER BY id DESC LIMIT $2"
            ))
            .bind(company.map(|c| c.0))
            .bind(MAX_LISTED_TOKENS),
        )
        .await
        .map_err(backend)?;
    Ok(rows.into_iter().map(TokenInfo::from).collect())
}

/// Revokes token `id` (of `company` when given) at `now`, keeping an earlier revocation;
/// records `audit` when it was revoked now.
pub(super) async fn revoke(
    store: &AnyStore,
    id: i64,
    company: Option<CompanyId>,
    now: DateTime<Utc>,
    audit_record: &AuditRecord,
) -> Result<Option<TokenInfo>, StoreError> {
    store
        .write(|mut tx| async move {
            let result: Result<Option<TokenInfo>, TxError> = async {
                let first_time = tx
                    .execute(
                        Sql::new(
                            "UPDATE api_tokens SET revoked_at = $3 \
                             WHERE id = $1 AND ($2 IS NULL OR company_id = $2) \
                             AND revoked_at IS NULL",
                        )
                        .bind(id)
                        .bind(company.map(|c| c.0))
                        .bind(now),
                    )
                    .await?
                    > 0;
                let row: Option<TokenRow> = tx
                    .fetch_optional(
                        Sql::new(format!(
                            "SELECT {TOKEN_COLUMNS} FROM api_tokens \
                             WHERE id = $1 AND ($2 IS NULL OR company_id = $2)"
                        ))
                        .bind(id)
                        .bind(company.map(|c| c.0)),
                    )
                    .await?;
                let Some(row) = row else {
                    return Ok(None);
                };
                if first_time {
                    let owner: Option<(i64, String)> = match row.company_id {
                        None => None,
                        Some(company) => {
                            tx.fetch_optional(
                                Sql::new("SELECT id, slug FROM companies WHERE id = $1")
                                    .bind(company),
                            )
                            .await?
                        }
                    };
                    let owner = owner
                        .as_ref()
                        .map(|(id, slug)| (CompanyId(*id), slug.as_str()));
                    audit::record(&mut tx, owner, audit_record, now).await?;
                }
                Ok(Some(row.into()))
            }
            .await;
            (tx, result)
        })
        .await
}
