//! Cache: one small API (get / set with TTL / delete / counters, namespaced) over an in-process
//! backend (moka) or Redis, chosen by `[cache] backend`.
//!
//! The cache is an accelerator, never a source of truth: when Redis is down or slow, a call gives
//! up after `cache.timeout_ms`, is logged and counted (`hearth_cache_failures_total`), and the
//! caller proceeds as on a miss. After a failure Redis is left alone for a short cool-down so a
//! dead server costs each request nothing. Counters (used for login throttling) are also kept
//! in process, so throttling keeps working on each node meanwhile.

mod memory;
mod redis;

use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::config::{CacheBackendKind, CacheConfig};
use crate::metrics::{CacheFailureLabels, Metrics};

use self::memory::MemoryCache;
use self::redis::RedisCache;

/// Locks that order counter updates on Redis: enough that unrelated keys rarely wait.
const COUNTER_STRIPES: usize = 64;

/// Why a backend call failed. Callers of [`Namespace`] never see it: the cache degrades to a miss.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The backend did not answer within the timeout.
    #[error("cache timed out")]
    Timeout,
    /// The backend failed recently and is cooling down.
    #[error("cache skipped after a recent failure")]
    CoolingDown,
    /// The backend answered with an error or the connection broke.
    #[error("cache backend error: {0}")]
    Backend(String),
    /// The value is larger than `cache.max_value_bytes`; it was not stored.
    #[error("value of {size} bytes not cached (cache.max_value_bytes = {limit})")]
    TooLarge {
        /// The value's size.
        size: usize,
        /// The configured limit.
        limit: u64,
    },
}

impl CacheError {
    fn reason(&self) -> &'static str {
        match self {
            CacheError::Timeout => "timeout",
            CacheError::CoolingDown => "skipped",
            CacheError::Backend(_) => "error",
            CacheError::TooLarge { .. } => "too_large",
        }
    }
}

#[derive(Debug)]
enum Backend {
    Memory(MemoryCache),
    // Boxed: with TLS its client is several times the size of the in-process one.
    Redis(Box<RedisCache>),
}

/// The cache. Cheap to clone; hand out [`Namespace`]s to users.
#[derive(Clone, Debug)]
pub struct Cache {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    backend: Backend,
    /// Counters are kept here too, so a node never counts fewer than its own increments.
    local_counters: MemoryCache,
    /// Striped by key: a counter's in-process and Redis steps happen under its stripe, so both
    /// copies see one node's increments in the same order (see [`Namespace::incr`]).
    counter_stripes: Box<[tokio::sync::Mutex<()>]>,
    /// Larger values are not stored (`cache.max_value_bytes`).
    max_value_bytes: u64,
    metrics: Metrics,
}

impl Cache {
    /// Builds the configured backend. Connecting to Redis is lazy: a server that is down at start
    /// only makes the cache skip until it is back.
    pub fn new(config: &CacheConfig, metrics: Metrics) -> Result<Self, CacheError> {
        let backend = match config.backend {
            CacheBackendKind::Memory => Backend::Memory(MemoryCache::new(
                config.max_entries.get(),
                config.max_bytes.get(),
            )),
            CacheBackendKind::Redis => {
                let url = config
                    .redis_url
                    .as_ref()
                    .ok_or_else(|| CacheError::Backend("cache.redis_url is not set".into()))?;
                Backend::Redis(Box::new(RedisCache::new(
                    url.expose_secret(),
                    &config.key_prefix,
                    Duration::from_millis(config.timeout_ms.get()),
                )?))
            }
        };
        Ok(Self {
            inner: Arc::new(Inner {
                backend,
                local_counters: MemoryCache::new(100_000, 16 << 20),
                counter_stripes: (0..COUNTER_STRIPES)
                    .map(|_| tokio::sync::Mutex::new(()))
                    .collect(),
                max_value_bytes: config.max_value_bytes.get(),
                metrics,
            }),
        })
    }

    /// The lock that orders one counter's two copies on this node.
    fn counter_stripe(&self, key: &str) -> &tokio::sync::Mutex<()> {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(key);
        let stripes = &self.inner.counter_stripes;
        // Truncating the hash on 32-bit targets only changes which stripe a key gets.
        &stripes[hash as usize % stripes.len()]
    }

    /// A view of the cache whose keys all start with `name:`.
    pub fn namespace(&self, name: impl Into<String>) -> Namespace {
        Namespace {
            cache: self.clone(),
            prefix: name.into(),
        }
    }

    /// Whether the backend is a shared server (Redis) rather than in-process.
    pub fn is_shared(&self) -> bool {
        matches!(self.inner.backend, Backend::Redis(_))
    }

    /// Checks the backend answers (always true in-process).
    pub async fn ping(&self) -> Result<(), CacheError> {
        match &self.inner.backend {
            Backend::Memory(_) => Ok(()),
            Backend::Redis(r) => r.ping().await.inspect_err(|e| self.record("ping", e)),
        }
    }

    fn record(&self, op: &'static str, error: &CacheError) {
        self.inner
            .metrics
            .cache_failures
            .get_or_create(&CacheFailureLabels {
                op,
                reason: error.reason(),
            })
            .inc();
        if !matches!(error, CacheError::CoolingDown) {
            tracing::warn!(cache.op = op, error = %error, "cache unavailable; continuing without it");
        }
    }
}

/// A rate decision of [`Namespace::gcra`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gcra {
    /// Whether the request fits the budget (and was counted).
    pub allowed: bool,
    /// Requests still allowed right now.
    pub remaining: u64,
    /// Refused: until one request is allowed. Allowed: until the budget is whole again.
    pub wait: Duration,
}

/// A namespaced view of the [`Cache`]. Failures read as misses and writes that did not happen;
/// they are logged and counted by the cache.
#[derive(Clone, Debug)]
pub struct Namespace {
    cache: Cache,
    prefix: String,
}

impl Namespace {
    fn key(&self, key: &str) -> String {
        format!("{}:{key}", self.prefix)
    }

    /// Reads and decodes a JSON value; `None` on a miss, a backend failure or an undecodable value.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        serde_json::from_slice(&self.get_bytes(key).await?).ok()
    }

    /// Reads raw bytes; `None` on a miss or a backend failure.
    pub async fn get_bytes(&self, key: &str) -> Option<Vec<u8>> {
        let key = self.key(key);
        match &self.cache.inner.backend {
            Backend::Memory(m) => m.get(&key).await,
            Backend::Redis(r) => match r.get(&key).await {
                Ok(v) => v,
                Err(e) => {
                    self.cache.record("get", &e);
                    None
                }
            },
        }
    }

    /// Reads and decodes many JSON values at once (one round trip on Redis), in the keys' order;
    /// each `None` as for [`Namespace::get`].
    pub async fn get_many<T: DeserializeOwned>(&self, keys: &[String]) -> Vec<Option<T>> {
        let decode = |bytes: Option<Vec<u8>>| bytes.and_then(|b| serde_json::from_slice(&b).ok());
        if keys.is_empty() {
            return Vec::new();
        }
        let keys: Vec<String> = keys.iter().map(|k| self.key(k)).collect();
        match &self.cache.inner.backend {
            Backend::Memory(m) => {
                let mut values = Vec::with_capacity(keys.len());
                for key in &keys {
                    values.push(decode(m.get(key).await));
                }
                values
            }
            Backend::Redis(r) => match r.get_many(&keys).await {
                Ok(found) => found.into_iter().map(decode).collect(),
                Err(e) => {
                    self.cache.record("get", &e);
                    keys.iter().map(|_| None).collect()
                }
            },
        }
    }

    /// Stores a JSON value for `ttl`.
    pub async fn set<T: Serialize>(&self, key: &str, value: &T, ttl: Duration) {
        if let Ok(bytes) = serde_json::to_vec(value) {
            self.set_bytes(key, bytes, ttl).await;
        }
    }

    /// Stores raw bytes for `ttl`, unless they are larger than `cache.max_value_bytes` (then
    /// nothing is stored, and the refusal is counted).
    pub async fn set_bytes(&self, key: &str, bytes: Vec<u8>, ttl: Duration) {
        let limit = self.cache.inner.max_value_bytes;
        if bytes.len() as u64 > limit {
            let error = CacheError::TooLarge {
                size: bytes.len(),
                limit,
            };
            self.cache.record("set", &error);
            return;
        }
        let key = self.key(key);
        match &self.cache.inner.backend {
            Backend::Memory(m) => m.set(key, bytes, ttl).await,
            Backend::Redis(r) => {
                if let Err(e) = r.set(&key, bytes, ttl).await {
                    self.cache.record("set", &e);
                }
            }
        }
    }

    /// Removes a key.
    pub async fn delete(&self, key: &str) {
        let key = self.key(key);
        match &self.cache.inner.backend {
            Backend::Memory(m) => m.delete(&key).await,
            Backend::Redis(r) => {
                if let Err(e) = r.delete(&key).await {
                    self.cache.record("delete", &e);
                }
            }
        }
    }

    /// Adds one to a counter that lives for `ttl` from its first increment, returning the new
    /// count. On Redis the count is also kept in process, and the larger of the two is returned:
    /// a Redis call that timed out (perhaps after counting) or failed never makes a node count
    /// fewer than its own increments, so a limit built on counters holds at least per node.
    pub async fn incr(&self, key: &str, ttl: Duration) -> u64 {
        let key = self.key(key);
        match &self.cache.inner.backend {
            Backend::Memory(m) => m.incr(key, ttl).await,
            Backend::Redis(r) => {
                // Without the stripe, two parallel increments could reach the two copies in
                // opposite orders and both be told the larger count: neither count is then
                // anyone's own, and a limit of N lets fewer than N through.
                let _stripe = self.cache.counter_stripe(&key).lock().await;
                let local = self.cache.inner.local_counters.incr(key.clone(), ttl).await;
                match r.incr(&key, ttl).await {
                    Ok(n) => n.max(local),
                    Err(e) => {
                        self.cache.record("incr", &e);
                        local
                    }
                }
            }
        }
    }

    /// Takes one back from a counter bumped by [`Namespace::incr`] (a reservation that turned
    /// out not to count). Never below zero; a missing counter stays missing.
    pub async fn decr(&self, key: &str) {
        let key = self.key(key);
        match &self.cache.inner.backend {
            Backend::Memory(m) => m.decr(&key).await,
            Backend::Redis(r) => {
                let _stripe = self.cache.counter_stripe(&key).lock().await;
                if let Err(e) = r.decr(&key).await {
                    self.cache.record("decr", &e);
                }
                self.cache.inner.local_counters.decr(&key).await;
            }
        }
    }

    /// One rate decision on the shared backend, by GCRA: `burst` requests at once, refilled one
    /// per `emission`. `None` on the in-process backend (in-process limiters keep their own
    /// state; see `http::limits`) and when Redis fails (logged and counted), so the caller falls
    /// back to its in-process limiter.
    pub async fn gcra(&self, key: &str, emission: Duration, burst: u32) -> Option<Gcra> {
        let Backend::Redis(r) = &self.cache.inner.backend else {
            return None;
        };
        match r.gcra(&self.key(key), emission, burst).await {
            Ok((allowed, remaining, wait_us)) => Some(Gcra {
                allowed,
                remaining,
                wait: Duration::from_micros(wait_us),
            }),
            Err(e) => {
                self.cache.record("gcra", &e);
                None
            }
        }
    }

    /// Reads counters written by [`Namespace::incr`] and a JSON value together, in one round
    /// trip on Redis (`MGET`): e.g. cache generations and an entry stamped with the generations
    /// it was made in. Each counter is as [`Namespace::count`] reads it, the value as
    /// [`Namespace::get`] does.
    pub async fn counts_and_get<T: DeserializeOwned>(
        &self,
        counters: &[String],
        key: &str,
    ) -> (Vec<u64>, Option<T>) {
        let counters: Vec<String> = counters.iter().map(|c| self.key(c)).collect();
        let key = self.key(key);
        let mut local = Vec::with_capacity(counters.len());
        for counter in &counters {
            local.push(self.cache.inner.local_counters.count(counter).await);
        }
        let (primary, bytes) = match &self.cache.inner.backend {
            Backend::Memory(m) => {
                let mut counts = Vec::with_capacity(counters.len());
                for counter in &counters {
                    counts.push(m.count(counter).await);
                }
                (counts, m.get(&key).await)
            }
            Backend::Redis(r) => {
                let mut keys = counters.clone();
                keys.push(key);
                match r.get_many(&keys).await {
                    Ok(mut found) => {
                        let bytes = found.pop().flatten();
                        let counts = found
                            .into_iter()
                            .map(|c| {
                                c.and_then(|b| std::str::from_utf8(&b).ok()?.parse().ok())
                                    .unwrap_or(0)
                            })
                            .collect();
                        (counts, bytes)
                    }
                    Err(e) => {
                        self.cache.record("get", &e);
                        (vec![0; counters.len()], None)
                    }
                }
            }
        };
        let value = bytes.and_then(|b| serde_json::from_slice(&b).ok());
        let counts = primary
            .into_iter()
            .zip(local)
            .map(|(p, l)| p.max(l))
            .collect();
        (counts, value)
    }

    /// Reads a counter written by [`Namespace::incr`] (0 when absent).
    pub async fn count(&self, key: &str) -> u64 {
        let key = self.key(key);
        let local = self.cache.inner.local_counters.count(&key).await;
        let primary = match &self.cache.inner.backend {
            Backend::Memory(m) => m.count(&key).await,
            Backend::Redis(r) => match r.count(&key).await {
                Ok(n) => n,
                Err(e) => {
                    self.cache.record("get", &e);
                    0
                }
            },
        };
        primary.max(local)
    }
}

#[cfg(test)]
mod tests;
