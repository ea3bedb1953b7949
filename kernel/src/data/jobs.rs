//! SQL for `jobs`. A run is fenced by `(worker, attempts)`: every state change after the claim
//! matches both, so a worker whose lease ran out (and whose job was claimed again) changes
//! nothing.

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::{dispatch, DataError, Exec};

/// A job to insert.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    /// UUIDv7.
    pub id: Uuid,
    /// The handler's name.
    pub kind: &'a str,
    /// JSON.
    pub payload: String,
    /// Attempts before it is dead-lettered.
    pub max_attempts: i32,
    /// Not before.
    pub run_at: DateTime<Utc>,
    /// At most one job ever with this key (scheduled runs, per-event fan-out).
    pub unique_key: Option<String>,
}

/// Inserts a queued job; false if one with the same `unique_key` already exists.
#[tracing::instrument(skip_all, fields(job.kind = job.kind))]
pub async fn insert(
    exec: Exec<'_>,
    job: &NewJob<'_>,
    now: DateTime<Utc>,
) -> Result<bool, DataError> {
    let sql =
        "INSERT INTO jobs (id, kind, payload, state, attempts, max_attempts, run_at, unique_key, \
               created_at, updated_at) VALUES ($1, $2, $3, 'queued', 0, $4, $5, $6, $7, $7) \
               ON CONFLICT DO NOTHING";
    let done = dispatch!(exec, c => sqlx::query(sql)
        .bind(job.id)
        .bind(job.kind)
        .bind(&job.payload)
        .bind(job.max_attempts)
        .bind(job.run_at)
        .bind(&job.unique_key)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// A job as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
#[allow(missing_docs)]
pub struct JobRecord {
    pub id: Uuid,
    pub kind: String,
    pub payload: String,
    pub state: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: DateTime<Utc>,
    pub lease_until: Option<DateTime<Utc>>,
    pub worker: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, kind, payload, state, attempts, max_attempts, run_at, lease_until, \
                       worker, last_error, created_at, updated_at, finished_at";

/// Claims up to `limit` jobs that are due, or whose lease ran out, for `worker` until
/// `lease_until`; each claim counts as an attempt. PostgreSQL skips rows another worker is
/// claiming (`FOR UPDATE SKIP LOCKED`); SQLite runs the single statement under its write lock.
pub async fn claim(
    exec: Exec<'_>,
    worker: &str,
    limit: u32,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Vec<JobRecord>, DataError> {
    let pick = "SELECT id FROM jobs WHERE (state = 'queued' AND run_at <= $3) \
                OR (state = 'running' AND lease_until < $3) ORDER BY run_at LIMIT $4";
    let lock = match exec {
        Exec::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        Exec::Sqlite(_) => "",
    };
    let sql = format!(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, worker = $1, lease_until = $2, \
         updated_at = $3 WHERE id IN ({pick}{lock}) RETURNING {COLUMNS}"
    );
    Ok(dispatch!(exec, c => sqlx::query_as::<_, JobRecord>(&sql)
        .bind(worker)
        .bind(lease_until)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *c)
        .await)?)
}

/// The fence of one run.
#[derive(Debug, Clone, Copy)]
pub struct Fence<'a> {
    /// The job.
    pub id: Uuid,
    /// The worker that claimed it.
    pub worker: &'a str,
    /// The attempt number of that claim.
    pub attempt: i32,
}

/// What a fenced update does to the run.
#[derive(Clone, Copy)]
enum Transition<'a> {
    Succeed,
    Retry { at: DateTime<Utc>, error: &'a str },
    Bury { error: &'a str },
    Release,
    Extend { lease_until: DateTime<Utc> },
}

/// Applies `transition` to the fenced run; false if the run no longer holds the job.
async fn fenced(
    exec: Exec<'_>,
    fence: Fence<'_>,
    transition: Transition<'_>,
    now: DateTime<Utc>,
) -> Result<bool, DataError> {
    let done = dispatch!(exec, c => {
        let mut qb = QueryBuilder::new("UPDATE jobs SET ");
        match transition {
            Transition::Succeed => {
                qb.push("state = 'succeeded', lease_until = NULL, last_error = NULL, finished_at = ")
                    .push_bind(now);
            }
            Transition::Retry { at, error } => {
                qb.push("state = 'queued', lease_until = NULL, run_at = ").push_bind(at);
                qb.push(", last_error = ").push_bind(error);
            }
            Transition::Bury { error } => {
                qb.push("state = 'dead', lease_until = NULL, finished_at = ").push_bind(now);
                qb.push(", last_error = ").push_bind(error);
            }
            Transition::Release => {
                // The attempt is not counted: the run was interrupted, not failed.
                qb.push("state = 'queued', lease_until = NULL, attempts = attempts - 1, run_at = ")
                    .push_bind(now);
            }
            Transition::Extend { lease_until } => {
                qb.push("lease_until = ").push_bind(lease_until);
            }
        }
        qb.push(", updated_at = ").push_bind(now);
        qb.push(" WHERE id = ").push_bind(fence.id);
        qb.push(" AND worker = ").push_bind(fence.worker);
        qb.push(" AND attempts = ").push_bind(fence.attempt);
        qb.push(" AND state = 'running'");
        qb.build().execute(&mut *c).await.map(|r| r.rows_affected())
    })?;
    Ok(done == 1)
}

/// Marks the run succeeded; false if the run no longer holds the job.
pub async fn succeed(
    exec: Exec<'_>,
    fence: Fence<'_>,
    now: DateTime<Utc>,
) -> Result<bool, DataError> {
    fenced(exec, fence, Transition::Succeed, now).await
}

/// Puts the job back in the queue for another attempt at `retry_at`, keeping the error.
pub async fn retry_later(
    exec: Exec<'_>,
    fence: Fence<'_>,
    retry_at: DateTime<Utc>,
    error: &str,
    now: DateTime<Utc>,
) -> Result<bool, DataError> {
    let transition = Transition::Retry {
        at: retry_at,
        error,
    };
    fenced(exec, fence, transition, now).await
}

/// Dead-letters the job with its last error.
pub async fn bury(
    exec: Exec<'_>,
    fence: Fence<'_>,
    error: &str,
    now: DateTime<Utc>,
) -> Result<bool, DataError> {
    fenced(exec, fence, Transition::Bury { error }, now).await
}

/// Gives a running job back to the queue at once without counting the attempt (shutdown).
pub async fn release(
    exec: Exec<'_>,
    fence: Fence<'_>,
    now: DateTime<Utc>,
) -> Result<bool, DataError> {
    fenced(exec, fence, Transition::Release, now).await
}

/// Extends the lease of a run still in progress; false if it was lost.
pub async fn extend_lease(
    exec: Exec<'_>,
    fence: Fence<'_>,
    lease_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, DataError> {
    fenced(exec, fence, Transition::Extend { lease_until }, now).await
}

/// Job counts by state, plus queued jobs that have failed at least once.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
#[allow(missing_docs)]
pub struct Counts {
    pub queued: i64,
    pub retrying: i64,
    pub running: i64,
    pub succeeded: i64,
    pub dead: i64,
}

/// Counts jobs by state.
pub async fn counts(exec: Exec<'_>) -> Result<Counts, DataError> {
    let sql = "SELECT \
        COALESCE(SUM(CASE WHEN state = 'queued' THEN 1 ELSE 0 END), 0) AS queued, \
        COALESCE(SUM(CASE WHEN state = 'queued' AND attempts > 0 THEN 1 ELSE 0 END), 0) AS retrying, \
        COALESCE(SUM(CASE WHEN state = 'running' THEN 1 ELSE 0 END), 0) AS running, \
        COALESCE(SUM(CASE WHEN state = 'succeeded' THEN 1 ELSE 0 END), 0) AS succeeded, \
        COALESCE(SUM(CASE WHEN state = 'dead' THEN 1 ELSE 0 END), 0) AS dead FROM jobs";
    Ok(dispatch!(exec, c => sqlx::query_as::<_, Counts>(sql).fetch_one(&mut *c).await)?)
}

/// Jobs in `state`, most recently changed first.
pub async fn list_by_state(
    exec: Exec<'_>,
    state: &str,
    limit: u32,
) -> Result<Vec<JobRecord>, DataError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM jobs WHERE state = $1 ORDER BY updated_at DESC, id DESC LIMIT $2"
    );
    Ok(dispatch!(exec, c => sqlx::query_as::<_, JobRecord>(&sql)
        .bind(state)
        .bind(i64::from(limit))
        .fetch_all(&mut *c)
        .await)?)
}

/// A job by id.
pub async fn find(exec: Exec<'_>, id: Uuid) -> Result<Option<JobRecord>, DataError> {
    let sql = format!("SELECT {COLUMNS} FROM jobs WHERE id = $1");
    Ok(dispatch!(exec, c => sqlx::query_as::<_, JobRecord>(&sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?)
}

/// Puts a dead job back in the queue with a fresh set of attempts; the job as revived, or none
/// if it is not dead.
pub async fn revive(
    exec: Exec<'_>,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<JobRecord>, DataError> {
    let sql = format!(
        "UPDATE jobs SET state = 'queued', attempts = 0, run_at = $1, finished_at = NULL, \
         worker = NULL, updated_at = $1 WHERE id = $2 AND state = 'dead' RETURNING {COLUMNS}"
    );
    Ok(dispatch!(exec, c => sqlx::query_as::<_, JobRecord>(&sql)
        .bind(now)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?)
}

/// Deletes jobs that succeeded before `before` (dead ones stay for an operator); how many.
pub async fn delete_succeeded(exec: Exec<'_>, before: DateTime<Utc>) -> Result<u64, DataError> {
    let sql = "DELETE FROM jobs WHERE state = 'succeeded' AND finished_at < $1";
    Ok(dispatch!(exec, c => sqlx::query(sql)
        .bind(before)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?)
}
