//! The worker pool: claims due jobs up to `jobs.concurrency`, keeps their leases alive while
//! they run, records each outcome, and on shutdown lets running jobs finish within
//! `jobs.shutdown_grace_secs` before releasing the rest to the queue.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use rand::Rng;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{Job, JobError, JobHandler, JobRun, Jobs};
use crate::data::jobs::{self as store, Fence, JobRecord};
use crate::data::{in_background, now};
use crate::metrics::{JobLabels, Metrics};

/// This process's workers.
pub struct Workers {
    inner: Arc<Inner>,
}

struct Inner {
    jobs: Jobs,
    handlers: HashMap<&'static str, Arc<dyn JobHandler>>,
    metrics: Metrics,
    name: String,
    /// Runs in progress (id → attempt), so a shutdown can release the ones it cuts off.
    running: Mutex<HashMap<Uuid, i32>>,
}

impl Workers {
    /// Workers for `handlers`, one per kind.
    pub fn new(jobs: Jobs, handlers: Vec<Arc<dyn JobHandler>>, metrics: Metrics) -> Self {
        let name = format!(
            "{}-{}",
            std::process::id(),
            &Uuid::now_v7().simple().to_string()[20..]
        );
        Self {
            inner: Arc::new(Inner {
                jobs,
                handlers: handlers.into_iter().map(|h| (h.kind(), h)).collect(),
                metrics,
                name,
                running: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Runs until `stop`, then drains or releases running jobs.
    pub async fn run(self, stop: CancellationToken) {
        let config = self.inner.jobs.config().clone();
        let permits = Arc::new(Semaphore::new(config.concurrency.get() as usize));
        let poll = Duration::from_millis(config.poll_interval_ms.get());
        let mut tasks = JoinSet::new();
        while !stop.is_cancelled() {
            while tasks.try_join_next().is_some() {}
            let free = permits.available_permits();
            let claimed = if free == 0 {
                Vec::new()
            } else {
                match self.claim(free).await {
                    Ok(jobs) => jobs,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot claim jobs");
                        Vec::new()
                    }
                }
            };
            if claimed.is_empty() {
                // Polling finds what other processes queue; this process's own jobs wake the
                // workers at once.
                tokio::select! {
                    () = stop.cancelled() => {}
                    () = tokio::time::sleep(poll) => {}
                    () = self.inner.jobs.wake.notified() => {}
                    Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                }
                continue;
            }
            for record in claimed {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    break;
                };
                let inner = self.inner.clone();
                // A job's writes are background work, like the worker's own.
                tasks.spawn(in_background(async move {
                    inner.run_one(record).await;
                    drop(permit);
                }));
            }
        }
        self.drain(tasks, Duration::from_secs(config.shutdown_grace_secs))
            .await;
    }

    async fn claim(&self, limit: usize) -> Result<Vec<JobRecord>, crate::data::DataError> {
        let now = now();
        let lease = chrono::Duration::from_std(self.inner.jobs.config().lease())
            .unwrap_or(chrono::Duration::seconds(60));
        let mut conn = self.inner.jobs.db().write().await?;
        store::claim(
            conn.exec(),
            &self.inner.name,
            u32::try_from(limit).unwrap_or(u32::MAX),
            now,
            now + lease,
        )
        .await
    }

    /// Waits up to `grace` for running jobs, then cuts the rest off and releases them.
    async fn drain(&self, mut tasks: JoinSet<()>, grace: Duration) {
        let finished =
            tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
        if finished.is_ok() {
            return;
        }
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
        let cut_off: Vec<(Uuid, i32)> = self
            .inner
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
            .collect();
        for (id, attempt) in cut_off {
            let fence = Fence {
                id,
                worker: &self.inner.name,
                attempt,
            };
            let released = async {
                let mut conn = self.inner.jobs.db().write().await?;
                store::release(conn.exec(), fence, now()).await
            }
            .await;
            match released {
                Ok(_) => tracing::info!(job.id = %id, "released a running job at shutdown"),
                Err(e) => {
                    tracing::warn!(job.id = %id, error = %e, "cannot release a job; its lease will run out")
                }
            }
        }
    }
}

impl Inner {
    async fn run_one(&self, record: JobRecord) {
        let attempt = record.attempts;
        let run = JobRun {
            job: Job {
                id: record.id,
                kind: record.kind.clone(),
                payload: serde_json::from_str(&record.payload).unwrap_or(serde_json::Value::Null),
                attempt: u32::try_from(attempt).unwrap_or(0),
                max_attempts: u32::try_from(record.max_attempts).unwrap_or(0),
            },
            db: self.jobs.db().clone(),
            worker: self.name.clone(),
            finished: Default::default(),
            wake: self.jobs.wake.clone(),
        };
        self.lock_running().insert(record.id, attempt);
        let outcome = if run.job.attempt > run.job.max_attempts {
            // Claimed again after its last attempt's lease ran out: that worker died mid-run.
            Err(JobError::Permanent(format!(
                "{} (the last attempt's lease ran out)",
                record.last_error.as_deref().unwrap_or("no error recorded")
            )))
        } else {
            match self.handlers.get(record.kind.as_str()) {
                Some(handler) => {
                    tokio::select! {
                        r = handler.run(&run) => r,
                        lost = self.keep_lease(&run) => Err(lost),
                    }
                }
                None => Err(JobError::Permanent(format!(
                    "no handler for job kind `{}`",
                    record.kind
                ))),
            }
        };
        self.record(&run, outcome).await;
        self.lock_running().remove(&record.id);
    }

    fn lock_running(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, i32>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Renews the lease every third of its length; returns only when it was lost.
    async fn keep_lease(&self, run: &JobRun) -> JobError {
        let lease = self.jobs.config().lease();
        loop {
            tokio::time::sleep(lease / 3).await;
            let until = Utc::now() + chrono::Duration::from_std(lease).unwrap_or_default();
            let renewed = async {
                let mut conn = self.jobs.db().write().await?;
                store::extend_lease(conn.exec(), run.fence(), until, now()).await
            }
            .await;
            match renewed {
                Ok(true) => {}
                Ok(false) if run.already_finished() => std::future::pending::<()>().await,
                Ok(false) => return JobError::LeaseLost,
                Err(e) => tracing::warn!(job.id = %run.job.id, error = %e, "cannot renew a lease"),
            }
        }
    }

    async fn record(&self, run: &JobRun, outcome: Result<(), JobError>) {
        let job = &run.job;
        let count = |outcome| {
            self.metrics
                .job_runs
                .get_or_create(&JobLabels {
                    kind: job.kind.clone(),
                    outcome,
                })
                .inc();
        };
        let now = now();
        let result = async {
            if outcome.is_ok() && run.already_finished() {
                // Its handler finished it in its own commit: nothing left to write.
                return Ok::<_, crate::data::DataError>("succeeded");
            }
            let mut conn = self.jobs.db().write().await?;
            let exec = conn.exec();
            match &outcome {
                Ok(()) => Ok(if store::succeed(exec, run.fence(), now).await? {
                    "succeeded"
                } else {
                    "lost"
                }),
                Err(JobError::LeaseLost) => Ok("lost"),
                Err(e @ JobError::Permanent(_)) => {
                    store::bury(exec, run.fence(), &e.to_string(), now).await?;
                    Ok("dead")
                }
                Err(e) if job.is_last_attempt() => {
                    store::bury(exec, run.fence(), &e.to_string(), now).await?;
                    Ok("dead")
                }
                Err(e) => {
                    let at = now + backoff(self.jobs.config(), job.attempt);
                    store::retry_later(exec, run.fence(), at, &e.to_string(), now).await?;
                    Ok("retried")
                }
            }
        }
        .await;
        match (result, &outcome) {
            (Ok(label), Err(e)) => {
                tracing::warn!(job.id = %job.id, job.kind = %job.kind, attempt = job.attempt, error = %e, outcome = label, "job failed");
                count(label);
            }
            (Ok(label), Ok(())) => count(label),
            (Err(e), _) => {
                tracing::error!(job.id = %job.id, error = %e, "cannot record a job's outcome; its lease will run out and it will run again")
            }
        }
    }
}

/// Exponential backoff with jitter: `base * 2^(attempt-1)`, capped, then a random point in its
/// upper half (so retries of jobs that failed together spread out).
fn backoff(config: &crate::config::JobsConfig, attempt: u32) -> chrono::Duration {
    let exp = config
        .backoff_base_ms
        .get()
        .saturating_mul(1u64 << attempt.saturating_sub(1).min(30));
    let capped = exp.min(config.backoff_max_secs.saturating_mul(1000)).max(1);
    let jittered = rand::thread_rng().gen_range(capped.div_ceil(2)..=capped);
    chrono::Duration::milliseconds(i64::try_from(jittered).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_jitter_and_is_capped() {
        let config = crate::config::JobsConfig {
            backoff_base_ms: std::num::NonZeroU64::new(100).expect("not zero"),
            backoff_max_secs: 1,
            ..Default::default()
        };
        for _ in 0..50 {
            let first = backoff(&config, 1).num_milliseconds();
            assert!((50..=100).contains(&first), "{first}");
            let third = backoff(&config, 3).num_milliseconds();
            assert!((200..=400).contains(&third), "{third}");
            let tenth = backoff(&config, 10).num_milliseconds();
            assert!((500..=1000).contains(&tenth), "{tenth}");
        }
    }
}
