//! `[bus]`: the event outbox relay and its subscribers.

use std::num::{NonZeroU32, NonZeroU64};

use serde::Deserialize;

/// `[bus]`: the outbox relay and its subscribers. The transport follows `[cache]`: in-process on
/// the memory cache, Redis Streams consumer groups when `cache.backend = "redis"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BusConfig {
    /// `poll_interval_ms = 100`: how often the relay looks for newly committed events.
    pub poll_interval_ms: NonZeroU64,
    /// `batch_size = 256`: events the relay moves per round.
    pub batch_size: NonZeroU32,
    /// `max_attempts = 5`: quick tries of a failing subscriber before the event is handed, for
    /// that group, to a durable `redeliver_event` job (counted as `deferred` in
    /// `hearth_bus_events_total`), which retries with the jobs' backoff and is dead-lettered,
    /// visible and retryable by admins, after `jobs.max_attempts`.
    pub max_attempts: NonZeroU32,
    /// `retry_base_ms = 50`: the first retry delay; it doubles each attempt (0: retry at once).
    pub retry_base_ms: u64,
    /// `reclaim_idle_secs = 30` (Redis): an event a consumer took but did not acknowledge for this
    /// long (its process died) is taken over by another consumer of the group.
    pub reclaim_idle_secs: NonZeroU64,
    /// `stream_max_len = 100000` (Redis): the stream is trimmed to about this many entries.
    pub stream_max_len: NonZeroU64,
}

impl Default for BusConfig {
    fn default() -> Self {
        Self {
            poll_interval_ms: NonZeroU64::new(100).expect("100 is not zero"),
            batch_size: NonZeroU32::new(256).expect("256 is not zero"),
            max_attempts: NonZeroU32::new(5).expect("5 is not zero"),
            retry_base_ms: 50,
            reclaim_idle_secs: NonZeroU64::new(30).expect("30 is not zero"),
            stream_max_len: NonZeroU64::new(100_000).expect("100000 is not zero"),
        }
    }
}
