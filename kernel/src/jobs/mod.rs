//! Durable jobs (the Celery role): a jobs table, enqueued inside the caller's transaction,
//! claimed by workers under a lease, retried with exponential backoff and jitter, and
//! dead-lettered after `jobs.max_attempts`; plus cron-like schedules that enqueue the kernel's
//! timers.
//!
//! Each claim is an attempt fenced by `(worker, attempt)`: once a lease runs out (the worker
//! died or stalled) another worker may claim the job, and the first one can no longer finish
//! it. A handler whose effect is a database write commits it with [`JobRun::commit_with`], so
//! the effect and the completion commit together, once.

mod prune;
pub mod redact;
mod schedule;
mod worker;

pub use prune::PruneHistory;
pub use schedule::Scheduler;
pub use worker::Workers;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::config::JobsConfig;
use crate::data::jobs::{self as store, Fence, JobRecord, NewJob};
use crate::data::{now, DataError, Database, Exec, Tx};

/// Why a job run failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The database failed; retried.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The run lost its lease to another worker; its writes were rolled back.
    #[error("the lease was taken over by another worker")]
    LeaseLost,
    /// A failure worth retrying.
    #[error("{0}")]
    Failed(String),
    /// A failure no retry can fix (bad payload, unknown kind): dead-lettered at once.
    #[error("{0}")]
    Permanent(String),
}

/// A claimed job.
#[derive(Debug, Clone)]
pub struct Job {
    /// Id.
    pub id: Uuid,
    /// Its handler's name.
    pub kind: String,
    /// Data, as enqueued.
    pub payload: serde_json::Value,
    /// This attempt's number, from 1.
    pub attempt: u32,
    /// Attempts before it is dead-lettered.
    pub max_attempts: u32,
}

impl Job {
    /// Whether a failure now dead-letters the job.
    pub fn is_last_attempt(&self) -> bool {
        self.attempt >= self.max_attempts
    }

    /// The payload as `T`; a mismatch is permanent.
    pub fn payload<T: DeserializeOwned>(&self) -> Result<T, JobError> {
        serde_json::from_value(self.payload.clone())
            .map_err(|e| JobError::Permanent(format!("bad payload for `{}`: {e}", self.kind)))
    }
}

/// One run of a job, with the fence that makes its completion exclusive.
pub struct JobRun {
    /// The job.
    pub job: Job,
    db: Database,
    worker: String,
    finished: std::sync::atomic::AtomicBool,
    /// The workers' wake-up ([`Jobs::wake`]): a handler's commit may queue more jobs.
    wake: Arc<Notify>,
}

impl std::fmt::Debug for JobRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobRun")
            .field("job", &self.job)
            .field("worker", &self.worker)
            .finish_non_exhaustive()
    }
}

impl JobRun {
    fn fence(&self) -> Fence<'_> {
        Fence {
            id: self.job.id,
            worker: &self.worker,
            attempt: i32::try_from(self.job.attempt).unwrap_or(i32::MAX),
        }
    }

    /// Starts a transaction on the kernel's database, to finish with [`JobRun::commit_with`].
    pub async fn begin(&self) -> Result<Tx, JobError> {
        Ok(self.db.begin().await?)
    }

    /// Marks this run succeeded inside `tx` and commits it: the handler's writes in `tx` and the
    /// completion commit together. If another worker took the job over, nothing commits and
    /// this is [`JobError::LeaseLost`].
    pub async fn commit_with(&self, mut tx: Tx) -> Result<(), JobError> {
        if !store::succeed(tx.exec(), self.fence(), now()).await? {
            return Err(JobError::LeaseLost);
        }
        tx.commit().await?;
        self.finished
            .store(true, std::sync::atomic::Ordering::Release);
        self.wake.notify_one();
        Ok(())
    }

    fn already_finished(&self) -> bool {
        self.finished.load(std::sync::atomic::Ordering::Acquire)
    }
}

/// Runs jobs of one kind.
pub trait JobHandler: Send + Sync + 'static {
    /// The kind it runs.
    fn kind(&self) -> &'static str;

    /// Runs one attempt. Returning `Ok` marks the job succeeded (if [`JobRun::commit_with`] did
    /// not already).
    fn run<'a>(&'a self, run: &'a JobRun) -> BoxFuture<'a, Result<(), JobError>>;
}

/// Options for one enqueue.
#[derive(Debug, Clone, Default)]
pub struct Enqueue {
    /// At most one job ever with this key: a second enqueue is a no-op.
    pub unique_key: Option<String>,
    /// Not before this time (default: now).
    pub run_at: Option<DateTime<Utc>>,
}

impl Enqueue {
    /// Due now, and at most once ever under `key`.
    pub fn unique(key: String) -> Self {
        Self {
            unique_key: Some(key),
            run_at: None,
        }
    }
}

/// The job queue. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Jobs {
    db: Database,
    config: JobsConfig,
    /// Signalled after a commit that may have queued jobs: this process's workers claim at
    /// once instead of at their next poll.
    wake: Arc<Notify>,
}

/// What `GET /v1/admin/jobs` shows.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Overview {
    /// Jobs per state.
    pub counts: Counts,
    /// The most recently dead-lettered jobs with their last error.
    pub dead: Vec<JobView>,
}

/// Jobs per state.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Counts {
    /// Waiting to run (including retries).
    pub queued: i64,
    /// Queued after failing at least once.
    pub retrying: i64,
    /// Claimed by a worker.
    pub running: i64,
    /// Done.
    pub succeeded: i64,
    /// Given up after every attempt.
    pub dead: i64,
}

/// A job as an operator sees it: its payload and last error with addresses and message bodies
/// redacted ([`redact`]).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct JobView {
    /// Id.
    pub id: Uuid,
    /// Kind.
    pub kind: String,
    /// `queued`, `running`, `succeeded` or `dead`.
    pub state: String,
    /// Attempts made.
    pub attempts: i32,
    /// Attempts allowed.
    pub max_attempts: i32,
    /// The last failure.
    pub last_error: Option<String>,
    /// Data, with addresses and message bodies redacted.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// Enqueued.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<JobRecord> for JobView {
    fn from(r: JobRecord) -> Self {
        Self {
            id: r.id,
            kind: r.kind,
            state: r.state,
            attempts: r.attempts,
            max_attempts: r.max_attempts,
            last_error: r.last_error.as_deref().map(redact::text),
            payload: redact::payload(
                serde_json::from_str(&r.payload).unwrap_or(serde_json::Value::Null),
            ),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// What a retry did.
#[derive(Debug, Clone)]
pub enum Retried {
    /// Back in the queue.
    Queued(JobView),
    /// The job is not dead (it is queued, running or done).
    NotDead(String),
    /// No such job.
    NotFound,
}

impl Jobs {
    /// The queue over `db`.
    pub fn new(db: Database, config: &JobsConfig) -> Self {
        Self {
            db,
            config: config.clone(),
            wake: Arc::new(Notify::new()),
        }
    }

    /// Tells this process's workers that jobs may have been queued (call it after the commit).
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    /// The configuration.
    pub fn config(&self) -> &JobsConfig {
        &self.config
    }

    pub(crate) fn db(&self) -> &Database {
        &self.db
    }

    /// Enqueues inside the caller's transaction: the job exists if and only if it commits.
    /// False if `unique_key` was already used.
    pub async fn enqueue_in(
        &self,
        exec: Exec<'_>,
        kind: &str,
        payload: &impl Serialize,
        options: Enqueue,
    ) -> Result<bool, DataError> {
        let now = now();
        let payload = serde_json::to_string(payload)
            .map_err(|e| DataError::Corrupt(format!("job payload: {e}")))?;
        store::insert(
            exec,
            &NewJob {
                id: Uuid::now_v7(),
                kind,
                payload,
                max_attempts: i32::try_from(self.config.max_attempts.get()).unwrap_or(i32::MAX),
                run_at: options.run_at.unwrap_or(now),
                unique_key: options.unique_key,
            },
            now,
        )
        .await
    }

    /// Enqueues on its own.
    pub async fn enqueue(
        &self,
        kind: &str,
        payload: &impl Serialize,
        options: Enqueue,
    ) -> Result<bool, DataError> {
        let mut conn = self.db.write().await?;
        let queued = self.enqueue_in(conn.exec(), kind, payload, options).await?;
        self.wake();
        Ok(queued)
    }

    /// Counts by state and the latest dead letters.
    pub async fn overview(&self, dead_limit: u32) -> Result<Overview, DataError> {
        let mut conn = self.db.acquire().await?;
        let c = store::counts(conn.exec()).await?;
        let dead = store::list_by_state(conn.exec(), "dead", dead_limit).await?;
        Ok(Overview {
            counts: Counts {
                queued: c.queued,
                retrying: c.retrying,
                running: c.running,
                succeeded: c.succeeded,
                dead: c.dead,
            },
            dead: dead.into_iter().map(JobView::from).collect(),
        })
    }

    /// Puts a dead job back in the queue with a fresh set of attempts.
    pub async fn retry(&self, id: Uuid) -> Result<Retried, DataError> {
        let mut conn = self.db.write().await?;
        if let Some(revived) = store::revive(conn.exec(), id, now()).await? {
            return Ok(Retried::Queued(revived.into()));
        }
        Ok(match store::find(conn.exec(), id).await? {
            Some(r) => Retried::NotDead(r.state),
            None => Retried::NotFound,
        })
    }
}
