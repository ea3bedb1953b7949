//! SQL for `idempotency_keys`. A key is claimed (`running`) inside the transaction of the
//! effect it guards and finished (`done`, with its response) inside the transaction that
//! completes that effect, so a key never outlives a rolled-back effect nor says `running` for
//! one that committed its outcome. A claim is named by the `updated_at` it wrote, so finishing or
//! releasing it cannot touch a claim someone else took over meanwhile.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{dispatch, DataError, Exec};
use crate::model::KeyState;

/// A stored key.
#[derive(Debug, Clone, sqlx::FromRow)]
#[allow(missing_docs)]
pub struct KeyRecord {
    pub fingerprint: String,
    pub state: KeyState,
    pub status_code: Option<i32>,
    pub body: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// The record of `key`, if any (a look before any work: replay, refuse, or go on).
pub async fn find(
    exec: Exec<'_>,
    account: Uuid,
    key: &str,
) -> Result<Option<KeyRecord>, DataError> {
    let select = "SELECT fingerprint, state, status_code, body, updated_at FROM idempotency_keys \
                  WHERE account_id = $1 AND key = $2";
    Ok(dispatch!(exec, c => sqlx::query_as::<_, KeyRecord>(select)
        .bind(account)
        .bind(key)
        .fetch_optional(&mut *c)
        .await)?)
}

/// Claims `key` for a request with `fingerprint` at `now` (run it in the effect's transaction:
/// on PostgreSQL a concurrent claim of the same key waits for that transaction to end); the
/// existing record if it was taken.
pub async fn claim(
    mut exec: Exec<'_>,
    account: Uuid,
    key: &str,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> Result<Option<KeyRecord>, DataError> {
    let insert = "INSERT INTO idempotency_keys (account_id, key, fingerprint, state, created_at, \
                  updated_at) VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT DO NOTHING";
    let inserted = dispatch!(exec.reborrow(), c => sqlx::query(insert)
        .bind(account)
        .bind(key)
        .bind(fingerprint)
        .bind(KeyState::Running)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    if inserted == 1 {
        return Ok(None);
    }
    find(exec, account, key).await
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
               AND state = $4 AND updated_at < $5";
    let n = dispatch!(exec, c => sqlx::query(sql)
        .bind(now)
        .bind(account)
        .bind(key)
        .bind(KeyState::Running)
        .bind(stale_before)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Stores the response of the claim of `key` made at `claimed_at`; false if that claim is not
/// running any more (released, or taken over by a later request).
pub async fn finish(
    exec: Exec<'_>,
    account: Uuid,
    key: &str,
    claimed_at: DateTime<Utc>,
    status_code: i32,
    body: &str,
    now: DateTime<Utc>,
) -> Result<bool, DataError> {
    let sql = "UPDATE idempotency_keys SET state = $1, status_code = $2, body = $3, \
               updated_at = $4 WHERE account_id = $5 AND key = $6 AND state = $7 \
               AND updated_at = $8";
    let n = dispatch!(exec, c => sqlx::query(sql)
        .bind(KeyState::Done)
        .bind(status_code)
        .bind(body)
        .bind(now)
        .bind(account)
        .bind(key)
        .bind(KeyState::Running)
        .bind(claimed_at)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Forgets the claim of `key` made at `claimed_at` if it is still running (its request failed
/// on our side and may be retried); false if there was none.
pub async fn release(
    exec: Exec<'_>,
    account: Uuid,
    key: &str,
    claimed_at: DateTime<Utc>,
) -> Result<bool, DataError> {
    let sql = "DELETE FROM idempotency_keys WHERE account_id = $1 AND key = $2 \
               AND state = $3 AND updated_at = $4";
    let n = dispatch!(exec, c => sqlx::query(sql)
        .bind(account)
        .bind(key)
        .bind(KeyState::Running)
        .bind(claimed_at)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
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
