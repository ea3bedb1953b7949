//! Cron-like schedules: at each occurrence the scheduler enqueues one job of the schedule's
//! kind, keyed by the occurrence (`schedule:<name>:<unix seconds>`), so with several kernel
//! processes the timer still fires once. Occurrences missed while no process ran are skipped:
//! the kernel's timers sweep everything due, so the next run catches up.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::{Enqueue, Jobs};
use crate::config::{JobsConfig, DEFAULT_SCHEDULES};

/// The schedules of this kernel.
#[derive(Debug, Clone)]
pub struct Scheduler {
    jobs: Jobs,
    entries: Vec<(String, cron::Schedule)>,
}

impl Scheduler {
    /// The kernel's timers with `[jobs.schedules]` overrides; each enqueues the job kind of its
    /// name.
    pub fn new(jobs: Jobs, config: &JobsConfig) -> Self {
        let entries = DEFAULT_SCHEDULES
            .iter()
            .filter_map(|(name, default)| {
                let schedule = match config.schedules.get(*name) {
                    Some(s) => s.schedule().clone(),
                    None => default.parse::<cron::Schedule>().ok()?,
                };
                Some(((*name).to_owned(), schedule))
            })
            .collect();
        Self { jobs, entries }
    }

    /// Enqueues each schedule's occurrences as they come, until `stop`.
    pub async fn run(self, stop: CancellationToken) {
        let mut next: Vec<Option<DateTime<Utc>>> = self
            .entries
            .iter()
            .map(|(_, s)| s.upcoming(Utc).next())
            .collect();
        while !stop.is_cancelled() {
            let now = Utc::now();
            for (i, (name, schedule)) in self.entries.iter().enumerate() {
                let Some(due) = next[i] else { continue };
                if due > now {
                    continue;
                }
                let options = Enqueue {
                    unique_key: Some(format!("schedule:{name}:{}", due.timestamp())),
                    run_at: Some(due),
                };
                match self
                    .jobs
                    .enqueue(name, &serde_json::json!({}), options)
                    .await
                {
                    Ok(_) => next[i] = schedule.after(&now).next(),
                    Err(e) => {
                        tracing::warn!(schedule = %name, error = %e, "cannot enqueue a scheduled job; retrying")
                    }
                }
            }
            let wait = next
                .iter()
                .flatten()
                .min()
                .and_then(|t| (*t - Utc::now()).to_std().ok())
                .unwrap_or(Duration::from_secs(1))
                .min(Duration::from_secs(1));
            tokio::select! {
                () = stop.cancelled() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }
}
