//! The `prune_history` timer: deletes what has served its purpose after `jobs.retention_days`:
//! succeeded jobs, and published events with their receipts; and idempotency keys after 48
//! hours. Dead jobs stay for an operator.

use futures_util::future::BoxFuture;

use super::{JobError, JobHandler, JobRun};
use crate::data::{events, idempotency, jobs, now, Database};

/// Runs `prune_history`.
#[derive(Debug, Clone)]
pub struct PruneHistory {
    db: Database,
    retention: chrono::Duration,
}

impl PruneHistory {
    /// Keeps `retention_days` of history.
    pub fn new(db: Database, retention_days: u32) -> Self {
        Self {
            db,
            retention: chrono::Duration::days(i64::from(retention_days)),
        }
    }
}

impl JobHandler for PruneHistory {
    fn kind(&self) -> &'static str {
        "prune_history"
    }

    fn run<'a>(&'a self, _run: &'a JobRun) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let before = now() - self.retention;
            let mut conn = self.db.write().await?;
            let jobs = jobs::delete_succeeded(conn.exec(), before).await?;
            let events = events::delete_published(conn.exec(), before).await?;
            // Idempotency keys are promised for 24 hours; keep them twice that.
            let keys = idempotency::delete_before(conn.exec(), now() - chrono::Duration::hours(48))
                .await?;
            tracing::info!(jobs, events, keys, "history pruned");
            Ok(())
        })
    }
}
