//! `[cache]`: the cache primitive's backend.

use std::num::NonZeroU64;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::error::Checks;

/// `[cache]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// `backend = "memory"` (in-process, one node) or `"redis"` (shared by every node).
    pub backend: CacheBackendKind,
    /// `max_entries = 100000`: capacity of the in-process cache, in entries.
    pub max_entries: NonZeroU64,
    /// `max_bytes = 67108864` (64 MiB): capacity of the in-process cache, in bytes of keys and
    /// values. Both bounds hold: an entry weighs at least `max_bytes / max_entries`.
    pub max_bytes: NonZeroU64,
    /// `max_value_bytes = 262144` (256 KiB): a larger value is not cached at all, on either
    /// backend (it is counted as `hearth_cache_failures_total{reason="too_large"}`).
    pub max_value_bytes: NonZeroU64,
    /// `redis_url = "redis://127.0.0.1:6379"`: required when `backend = "redis"`.
    pub redis_url: Option<SecretString>,
    /// `timeout_ms = 100`: a Redis call slower than this is abandoned and the cache skipped.
    pub timeout_ms: NonZeroU64,
    /// `key_prefix = "hearth"`: prepended to every Redis key, so several deployments can share one
    /// Redis.
    pub key_prefix: String,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            backend: CacheBackendKind::Memory,
            max_entries: NonZeroU64::new(100_000).expect("100000 is not zero"),
            max_bytes: NonZeroU64::new(64 << 20).expect("64 MiB is not zero"),
            max_value_bytes: NonZeroU64::new(256 << 10).expect("256 KiB is not zero"),
            redis_url: None,
            timeout_ms: NonZeroU64::new(100).expect("100 is not zero"),
            key_prefix: "hearth".into(),
        }
    }
}

/// The cache backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheBackendKind {
    /// In-process (moka).
    Memory,
    /// Redis.
    Redis,
}

impl CacheConfig {
    /// One value fits the cache; the Redis backend needs a `redis://` URL (the memory backend
    /// ignores it).
    pub(super) fn check(&self, checks: &mut Checks) {
        if self.max_value_bytes > self.max_bytes {
            checks.invalid(
                "cache.max_value_bytes",
                "at most `cache.max_bytes` (a value larger than the whole cache is never kept)",
            );
        }
        if self.backend != CacheBackendKind::Redis {
            return;
        }
        match &self.redis_url {
            None => checks.invalid(
                "cache.redis_url",
                "a `redis://` (or `rediss://`, TLS) URL, required when `cache.backend = \"redis\"`",
            ),
            Some(url)
                if !["redis://", "rediss://"]
                    .iter()
                    .any(|scheme| url.expose_secret().starts_with(scheme)) =>
            {
                checks.invalid(
                    "cache.redis_url",
                    "a URL starting with `redis://` (or `rediss://` for TLS)",
                );
            }
            Some(_) => {}
        }
    }
}
