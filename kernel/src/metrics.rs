//! Metrics: one Prometheus registry per kernel (so tests with several kernels in one process
//! never share counters), served as text at `GET /metrics`.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use prometheus_client::encoding::{text::encode, EncodeLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// Labels of a cache failure.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CacheFailureLabels {
    /// `get`, `set`, `delete`, `incr` or `ping`.
    pub op: &'static str,
    /// `error` (the backend answered with an error or the connection broke), `timeout`, or
    /// `skipped` (the backend failed recently and is being left alone for a moment).
    pub reason: &'static str,
}

/// Labels of a plugin call outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PluginCallLabels {
    /// The plugin's id.
    pub plugin: String,
    /// `ok`, `trap`, `timeout`, `fuel`, `memory`, `output` or `plugin` (the plugin's own error).
    pub outcome: &'static str,
}

/// Labels naming a plugin.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PluginLabels {
    /// The plugin's id.
    pub plugin: String,
}

/// Labels of a subscriber's outcome with one event.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BusLabels {
    /// The subscriber group.
    pub group: &'static str,
    /// `handled`, `duplicate` (a redelivery, skipped), `unwanted` (nothing in the group takes
    /// its kind, skipped), `failed` (an attempt; it is retried) or `deferred` (handed to a
    /// `redeliver_event` job after every quick attempt).
    pub outcome: &'static str,
}

/// Labels of a job run's outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobLabels {
    /// The job kind.
    pub kind: String,
    /// `succeeded`, `retried`, `dead`, `lost` (the lease was taken over) or `released`.
    pub outcome: &'static str,
}

/// Labels naming a rate-limit budget.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BudgetLabels {
    /// `general`, `register`, `login`, `password`, `quotes` or `bookings`.
    pub budget: &'static str,
}

/// Labels of a password-hashing outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PasswordHashLabels {
    /// `hash` (a new password) or `verify` (a login or current-password check).
    pub op: &'static str,
}

/// The kernel's counters.
#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Arc<Registry>,
    /// Cache calls that did not reach the backend; the request went on without the cache.
    pub cache_failures: Family<CacheFailureLabels, Counter>,
    /// Failed logins (wrong password or unknown email).
    pub login_failures: Counter,
    /// Logins refused with 429 by the throttle.
    pub login_throttled: Counter,
    /// Cached sessions or roles whose seal did not verify (forged, or sealed by another key).
    pub cache_seal_failures: Counter,
    /// Requests refused with 429 by a `[limits]` budget.
    pub rate_limited: Family<BudgetLabels, Counter>,
    /// Argon2 hashes and verifications run (each costs 19 MiB and a core for a moment).
    pub password_hashes: Family<PasswordHashLabels, Counter>,
    /// Password hashes refused with 503 because every hashing slot and the queue were taken.
    pub password_hash_busy: Counter,
    /// Plugin calls by outcome.
    pub plugin_calls: Family<PluginCallLabels, Counter>,
    /// Total wall-clock seconds spent in plugin calls.
    pub plugin_seconds: Family<PluginLabels, Counter<f64, AtomicU64>>,
    /// Total fuel consumed by plugin calls.
    pub plugin_fuel: Family<PluginLabels, Counter>,
    /// Events the relay handed on (to in-process subscribers or the Redis stream).
    pub bus_published: Counter,
    /// Subscriber outcomes per event.
    pub bus_events: Family<BusLabels, Counter>,
    /// Job runs by outcome.
    pub job_runs: Family<JobLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every kernel metric registered.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("hearth");
        let cache_failures = Family::<CacheFailureLabels, Counter>::default();
        registry.register(
            "cache_failures",
            "Cache calls that failed or were skipped; the request proceeded without the cache",
            cache_failures.clone(),
        );
        let login_failures = Counter::default();
        registry.register(
            "login_failures",
            "Failed login attempts",
            login_failures.clone(),
        );
        let login_throttled = Counter::default();
        registry.register(
            "login_throttled",
            "Login attempts refused by the failure throttle",
            login_throttled.clone(),
        );
        let cache_seal_failures = Counter::default();
        registry.register(
            "cache_seal_failures",
            "Cached sessions or roles ignored because their seal did not verify",
            cache_seal_failures.clone(),
        );
        let rate_limited = Family::<BudgetLabels, Counter>::default();
        registry.register(
            "rate_limited",
            "Requests refused with 429 by a [limits] budget",
            rate_limited.clone(),
        );
        let password_hashes = Family::<PasswordHashLabels, Counter>::default();
        registry.register(
            "password_hashes",
            "Argon2 password hashes and verifications run",
            password_hashes.clone(),
        );
        let password_hash_busy = Counter::default();
        registry.register(
            "password_hash_busy",
            "Password hashes refused with 503: every slot and the queue were taken",
            password_hash_busy.clone(),
        );
        let plugin_calls = Family::<PluginCallLabels, Counter>::default();
        registry.register(
            "plugin_calls",
            "Plugin calls by outcome",
            plugin_calls.clone(),
        );
        let plugin_seconds = Family::<PluginLabels, Counter<f64, AtomicU64>>::default();
        registry.register(
            "plugin_call_seconds",
            "Wall-clock seconds spent in plugin calls",
            plugin_seconds.clone(),
        );
        let plugin_fuel = Family::<PluginLabels, Counter>::default();
        registry.register(
            "plugin_fuel",
            "Fuel consumed by plugin calls",
            plugin_fuel.clone(),
        );
        let bus_published = Counter::default();
        registry.register(
            "bus_published",
            "Committed events the outbox relay handed on",
            bus_published.clone(),
        );
        let bus_events = Family::<BusLabels, Counter>::default();
        registry.register(
            "bus_events",
            "Subscriber outcomes per event",
            bus_events.clone(),
        );
        let job_runs = Family::<JobLabels, Counter>::default();
        registry.register("job_runs", "Job runs by outcome", job_runs.clone());
        Self {
            registry: Arc::new(registry),
            bus_published,
            bus_events,
            job_runs,
            cache_failures,
            login_failures,
            login_throttled,
            cache_seal_failures,
            rate_limited,
            password_hashes,
            password_hash_busy,
            plugin_calls,
            plugin_seconds,
            plugin_fuel,
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}
