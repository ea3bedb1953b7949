//! The in-process backend: a moka cache with a time-to-live per entry.

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::future::Cache;
use moka::ops::compute::Op;
use moka::Expiry;

#[derive(Clone, Debug)]
struct Entry {
    value: Value,
    ttl: Duration,
}

#[derive(Clone, Debug)]
enum Value {
    Bytes(Arc<[u8]>),
    Counter(u64),
}

/// Each entry lives for its own TTL from creation; counters keep their first TTL when bumped.
struct PerEntryTtl;

impl Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(&self, _: &String, entry: &Entry, _: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }

    fn expire_after_update(
        &self,
        _: &String,
        entry: &Entry,
        _: Instant,
        remaining: Option<Duration>,
    ) -> Option<Duration> {
        match entry.value {
            Value::Counter(_) => remaining,
            Value::Bytes(_) => Some(entry.ttl),
        }
    }
}

/// What an entry costs beyond its key and value bytes (moka's node, the `Entry`, the `Arc`).
const ENTRY_OVERHEAD: u64 = 96;

/// An in-process cache bounded in bytes and in entries.
#[derive(Clone, Debug)]
pub(super) struct MemoryCache {
    entries: Cache<String, Entry>,
}

impl MemoryCache {
    /// At most `max_bytes` of keys, values and overhead, and at most `max_entries` entries:
    /// moka bounds one weighted capacity, so each entry weighs at least `max_bytes /
    /// max_entries` (a cache of tiny counters still stops at `max_entries`).
    pub(super) fn new(max_entries: u64, max_bytes: u64) -> Self {
        let floor = (max_bytes / max_entries.max(1)).max(1);
        Self {
            entries: Cache::builder()
                .max_capacity(max_bytes)
                .weigher(move |key: &String, entry: &Entry| {
                    let value = match &entry.value {
                        Value::Bytes(b) => b.len() as u64,
                        Value::Counter(_) => 8,
                    };
                    let weight = (key.len() as u64 + value + ENTRY_OVERHEAD).max(floor);
                    u32::try_from(weight).unwrap_or(u32::MAX)
                })
                .expire_after(PerEntryTtl)
                .build(),
        }
    }

    pub(super) async fn get(&self, key: &str) -> Option<Vec<u8>> {
        match self.entries.get(key).await?.value {
            Value::Bytes(b) => Some(b.to_vec()),
            Value::Counter(_) => None,
        }
    }

    pub(super) async fn set(&self, key: String, bytes: Vec<u8>, ttl: Duration) {
        let entry = Entry {
            value: Value::Bytes(bytes.into()),
            ttl,
        };
        self.entries.insert(key, entry).await;
    }

    pub(super) async fn delete(&self, key: &str) {
        self.entries.invalidate(key).await;
    }

    /// Atomically bumps a counter (moka serialises upserts per key).
    pub(super) async fn incr(&self, key: String, ttl: Duration) -> u64 {
        let entry = self
            .entries
            .entry(key)
            .and_upsert_with(|existing| {
                let next = match existing.map(|e| e.into_value().value) {
                    Some(Value::Counter(n)) => n + 1,
                    _ => 1,
                };
                std::future::ready(Entry {
                    value: Value::Counter(next),
                    ttl,
                })
            })
            .await;
        match entry.into_value().value {
            Value::Counter(n) => n,
            Value::Bytes(_) => 1,
        }
    }

    /// Atomically takes one from a counter, keeping its expiry; absent or zero stays as it is.
    pub(super) async fn decr(&self, key: &str) {
        self.entries
            .entry(key.to_owned())
            .and_compute_with(|existing| {
                let op = match existing.map(|e| e.into_value()) {
                    Some(Entry {
                        value: Value::Counter(n),
                        ttl,
                    }) if n > 0 => Op::Put(Entry {
                        value: Value::Counter(n - 1),
                        ttl,
                    }),
                    _ => Op::Nop,
                };
                std::future::ready(op)
            })
            .await;
    }

    pub(super) async fn count(&self, key: &str) -> u64 {
        match self.entries.get(key).await.map(|e| e.value) {
            Some(Value::Counter(n)) => n,
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_cache_stays_within_its_byte_budget() {
        let budget = 1 << 20;
        let cache = MemoryCache::new(100_000, budget);
        // 4 MiB of 16 KiB values into a 1 MiB cache.
        for i in 0..256 {
            let value = vec![b'x'; 16 << 10];
            cache
                .set(format!("k{i}"), value, Duration::from_secs(60))
                .await;
        }
        cache.entries.run_pending_tasks().await;
        assert!(
            cache.entries.weighted_size() <= budget,
            "{} bytes kept, budget {budget}",
            cache.entries.weighted_size()
        );
        assert!(cache.entries.entry_count() < 256);
    }

    #[tokio::test]
    async fn tiny_entries_still_stop_at_the_entry_count() {
        let cache = MemoryCache::new(100, 1 << 20);
        for i in 0..1_000 {
            cache.incr(format!("c{i}"), Duration::from_secs(60)).await;
        }
        cache.entries.run_pending_tasks().await;
        assert!(
            cache.entries.entry_count() <= 100,
            "{}",
            cache.entries.entry_count()
        );
    }
}
