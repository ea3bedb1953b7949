//! `[jobs]`: durable background jobs, their workers and the kernel's timers.

use std::collections::BTreeMap;
use std::num::{NonZeroU32, NonZeroU64};
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;

use super::error::Checks;

/// The shortest lease: a worker renews its leases well within this, so anything shorter would
/// let a second worker claim a job that is still running.
const MIN_LEASE_SECS: u64 = 3;

/// `[jobs]`: durable background jobs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    /// `concurrency = 4`: jobs one process runs at once.
    pub concurrency: NonZeroU32,
    /// `poll_interval_ms = 250`: how often an idle worker looks for due jobs.
    pub poll_interval_ms: NonZeroU64,
    /// `lease_secs = 60`: a claimed job belongs to its worker this long (at least 3), renewed
    /// while it runs; a job whose worker died is claimed again once the lease runs out.
    pub lease_secs: u64,
    /// `max_attempts = 8`: attempts before a job is dead-lettered.
    pub max_attempts: NonZeroU32,
    /// `backoff_base_ms = 1000`: the delay before the first retry; it doubles each attempt, with
    /// jitter, up to `backoff_max_secs`.
    pub backoff_base_ms: NonZeroU64,
    /// `backoff_max_secs = 3600`
    pub backoff_max_secs: u64,
    /// `shutdown_grace_secs = 10`: on shutdown, running jobs get this long to finish; the rest
    /// are released back to the queue.
    pub shutdown_grace_secs: u64,
    /// `retention_days = 7`: succeeded jobs, and events published with their receipts, are
    /// deleted after this long by the `prune_history` timer (dead jobs stay).
    pub retention_days: NonZeroU32,
    /// `[jobs.schedules]`: cron expressions (with seconds) for the kernel's timers, by name,
    /// e.g. `purge_expired_quotes = "0 */15 * * * *"`.
    pub schedules: BTreeMap<String, CronSchedule>,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            concurrency: NonZeroU32::new(4).expect("4 is not zero"),
            poll_interval_ms: NonZeroU64::new(250).expect("250 is not zero"),
            lease_secs: 60,
            max_attempts: NonZeroU32::new(8).expect("8 is not zero"),
            backoff_base_ms: NonZeroU64::new(1000).expect("1000 is not zero"),
            backoff_max_secs: 3600,
            shutdown_grace_secs: 10,
            retention_days: NonZeroU32::new(7).expect("7 is not zero"),
            schedules: BTreeMap::new(),
        }
    }
}

impl JobsConfig {
    /// The lease as a [`Duration`].
    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_secs)
    }

    pub(super) fn check(&self, checks: &mut Checks) {
        if self.lease_secs < MIN_LEASE_SECS {
            checks.invalid("jobs.lease_secs", "at least 3 seconds");
        }
        for name in self.schedules.keys() {
            if !DEFAULT_SCHEDULES.iter().any(|(known, _)| known == name) {
                let names: Vec<_> = DEFAULT_SCHEDULES.iter().map(|(n, _)| *n).collect();
                checks.invalid(
                    format!("jobs.schedules.{name}"),
                    format!("one of the kernel's schedules: {}", names.join(", ")),
                );
            }
        }
    }
}

/// A parsed cron expression (`sec min hour day-of-month month day-of-week [year]`).
#[derive(Debug, Clone)]
pub struct CronSchedule {
    schedule: cron::Schedule,
}

impl CronSchedule {
    /// The parsed schedule.
    pub fn schedule(&self) -> &cron::Schedule {
        &self.schedule
    }
}

impl FromStr for CronSchedule {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        cron::Schedule::from_str(s)
            .map(|schedule| Self { schedule })
            .map_err(|e| format!("a cron expression with seconds, e.g. \"0 */15 * * * *\" ({e})"))
    }
}

impl<'de> Deserialize<'de> for CronSchedule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

/// The kernel's timers and their default schedules; `[jobs.schedules]` may override these and
/// only these.
pub const DEFAULT_SCHEDULES: &[(&str, &str)] = &[
    ("purge_expired_quotes", "0 */15 * * * *"),
    ("prune_history", "0 30 3 * * *"),
    ("expire_bookings", "0 * * * * *"),
    ("complete_stays", "0 */10 * * * *"),
    ("reconcile_payments", "30 * * * * *"),
    ("reveal_reviews", "0 */5 * * * *"),
];
