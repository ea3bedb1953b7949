//! SQL for the `sessions` table. Only token hashes are stored; see `auth::token`.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{dispatch, DataError, Exec};

/// A session as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRecord {
    /// Hex SHA-256 of the bearer token.
    pub token_hash: String,
    /// Whose session it is.
    pub account_id: Uuid,
    /// Login time (UTC).
    pub created_at: DateTime<Utc>,
    /// After this the token is refused.
    pub expires_at: DateTime<Utc>,
}

/// Stores a new session.
#[tracing::instrument(skip_all, fields(account.id = %session.account_id))]
pub async fn insert(exec: Exec<'_>, session: &SessionRecord) -> Result<(), DataError> {
    let sql = "INSERT INTO sessions (token_hash, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)";
    dispatch!(exec, c => sqlx::query(sql)
        .bind(&session.token_hash)
        .bind(session.account_id)
        .bind(session.created_at)
        .bind(session.expires_at)
        .execute(&mut *c)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Finds a session that has not expired at `now`.
#[tracing::instrument(skip_all)]
pub async fn find_live(
    exec: Exec<'_>,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<SessionRecord>, DataError> {
    let sql = "SELECT token_hash, account_id, created_at, expires_at FROM sessions \
               WHERE token_hash = $1 AND expires_at > $2";
    Ok(dispatch!(exec, c => sqlx::query_as::<_, SessionRecord>(sql)
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&mut *c)
        .await)?)
}

/// Deletes one session; returns whether it existed.
#[tracing::instrument(skip_all)]
pub async fn delete(exec: Exec<'_>, token_hash: &str) -> Result<bool, DataError> {
    let done = dispatch!(exec, c => sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done > 0)
}

/// Deletes every session of an account except `keep`, returning the deleted token hashes (so
/// their cache entries can be dropped too).
#[tracing::instrument(skip_all, fields(account.id = %account_id))]
pub async fn delete_others(
    exec: Exec<'_>,
    account_id: Uuid,
    keep: &str,
) -> Result<Vec<String>, DataError> {
    let sql =
        "DELETE FROM sessions WHERE account_id = $1 AND token_hash <> $2 RETURNING token_hash";
    Ok(dispatch!(exec, c => sqlx::query_scalar::<_, String>(sql)
        .bind(account_id)
        .bind(keep)
        .fetch_all(&mut *c)
        .await)?)
}
