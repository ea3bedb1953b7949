//! SQL for `idempotency_keys`.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{dispatch, DataError, Exec};

/// A stored key.
#[derive(Debug, Clone, sqlx::FromRow)]
#[allow(missing_docs)]
pub struct KeyRecord {
    pub fingerprint: String,
    /// `running` or `done`.
    pub state: String,
    pub status_code: Option<i32>,
    pub body: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// Claims `key` for a request with `fingerprint`; the existing record if it was taken.
pub async fn claim(
    mut exec: Exec<'_>,
    account: Uuid,
    key: &str,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> Result<Option<KeyRecord>, DataError> {
    let insert = "INSERT INTO idempotency_keys (account_id, key, fingerprint, state, created_at, \
                  updated_at) VALUES ($1, $2, $3, 'running', $4, $4) ON CONFLICT DO NOTHING";
    let inserted = dispatch!(exec.reborrow(), c => sqlx::query(insert)
        .bind(account)
        .bind(key)
        .bind(fingerprint)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    if inserted == 1 {
        return Ok(None);
    }
    let select = "SELECT fingerprint, state, status_code, body, updated_at FROM idempotency_keys \
                  WHERE account_id = $1 AND key = $2";
    Ok(dispatch!(exec, c => sqlx::query_as::<_, KeyRecord>(select)
        .bind(account)
        .bind(key)
        .fetch_optional(&mut *c)
        .await)?)
}

/// Takes over a key whose first request has been running since before `stale_before` (its
/// process died); false if it finished or someone else took it.
pub async fn take_over(
    exec: Exec<'_>,
    account: Uuid,
    key: &str,
    stale_before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, DataError> {
    let sql = "UPDATE idempotency_keys SET updated_at = $1 WHERE account_id = $2 AND key = $3 \
               AND state = 'running' AND updated_at < $4";
    let n = dispatch!(exec, c => sqlx::query(sql)
        .bind(now)
        .bind(account)
        .bind(key)
        .bind(stale_before)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Stores the response of the request that holds `key`.
pub async fn finish(
    exec: Exec<'_>,
    account: Uuid,
    key: &str,
    status_code: i32,
    body: &str,
    now: DateTime<Utc>,
) -> Result<(), DataError> {
    let sql = "UPDATE idempotency_keys SET state = 'done', status_code = $1, body = $2, \
               updated_at = $3 WHERE account_id = $4 AND key = $5";
    dispatch!(exec, c => sqlx::query(sql)
        .bind(status_code)
        .bind(body)
        .bind(now)
        .bind(account)
        .bind(key)
        .execute(&mut *c)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Forgets a key (its request failed on our side and may be retried).
pub async fn release(exec: Exec<'_>, account: Uuid, key: &str) -> Result<(), DataError> {
    let sql =
        "DELETE FROM idempotency_keys WHERE account_id = $1 AND key = $2 AND state = 'running'";
    dispatch!(exec, c => sqlx::query(sql)
        .bind(account)
        .bind(key)
        .execute(&mut *c)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Deletes keys created before `before`; how many.
pub async fn delete_before(exec: Exec<'_>, before: DateTime<Utc>) -> Result<u64, DataError> {
    let sql = "DELETE FROM idempotency_keys WHERE created_at < $1";
    Ok(dispatch!(exec, c => sqlx::query(sql)
        .bind(before)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?)
}
