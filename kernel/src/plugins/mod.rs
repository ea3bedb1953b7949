//! Plugins: the wasmtime host that runs WebAssembly components implementing the WIT contract in
//! `sdk/wit` (`hearth:plugins@0.1.0`).
//!
//! - `engine`: one `Engine` per process (pooling allocator, fuel, on-disk compiled-code cache)
//!   and one `Linker` (WASI with nothing granted + the Hearth host imports).
//! - `loader`: reads `[[plugins]]` entries, checks file, sha256 pin, world, contract version,
//!   capabilities and the config against the plugin's own JSON Schema, and pre-instantiates.
//! - `call`: one fresh store per call under the plugin's limits; traps, timeouts and limit
//!   breaches become a typed [`PluginCallError`] for that call only, and are counted.
//! - `host/`: one module per host capability (`log`, `clock`, `cache`, `events`, `http`, `mail`).
//! - `kinds/`: one adapter per plugin kind, speaking kernel types; the generated bindings
//!   (`bindings`) never leave this module.
//!
//! The loaded set is swapped atomically on reload: calls in flight keep the set they started
//! with.

mod bindings;
mod call;
mod engine;
pub mod host;
pub mod kinds;
mod loader;
pub mod runner;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use arc_swap::ArcSwap;
use prometheus_client::metrics::counter::Counter;
use serde::Serialize;
use wasmtime::component::Linker;
use wasmtime::Engine;

pub use self::call::CallCost;
use self::call::{CallState, PluginContext};
use crate::cache::Cache;
use crate::config::{
    Capability, OnError, PluginConfig, PluginHostConfig, PluginId, PluginKind, PluginLimits,
};
use crate::metrics::{Metrics, PluginCallLabels, PluginLabels};

/// The contract version (`hearth:plugins@…`) this kernel implements.
pub const CONTRACT_VERSION: &str = "0.1.0";

/// The host could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum PluginHostError {
    /// The engine, cache or linker failed to initialise.
    #[error("plugin engine: {0}")]
    Engine(String),
}

/// Why a set of plugins was refused: every problem found, by plugin.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", self.render())]
pub struct LoadErrors(pub Vec<LoadProblem>);

impl LoadErrors {
    fn render(&self) -> String {
        self.0
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// One plugin that could not be loaded.
#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[error("plugin `{plugin}` ({path}): {message}")]
pub struct LoadProblem {
    /// The plugin's id.
    pub plugin: PluginId,
    /// Its component file as configured.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// A plugin's own error, as the WIT `plugin-error` says, or output the kernel refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", content = "message", rename_all = "snake_case")]
pub enum PluginFailure {
    /// The input cannot be handled.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The configuration is unusable for this call.
    #[error("configuration: {0}")]
    Config(String),
    /// A dependency is unavailable.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Anything else the plugin reported.
    #[error("internal: {0}")]
    Internal(String),
    /// The plugin answered, but with something the kernel refuses (e.g. a foreign currency).
    #[error("invalid output: {0}")]
    InvalidOutput(String),
}

impl From<bindings::common::hearth::plugins::types::PluginError> for PluginFailure {
    fn from(e: bindings::common::hearth::plugins::types::PluginError) -> Self {
        use bindings::common::hearth::plugins::types::PluginError as E;
        match e {
            E::InvalidInput(m) => PluginFailure::InvalidInput(m),
            E::Config(m) => PluginFailure::Config(m),
            E::Unavailable(m) => PluginFailure::Unavailable(m),
            E::Internal(m) => PluginFailure::Internal(m),
        }
    }
}

/// A failed plugin call. Only this call failed; the plugin and the kernel carry on.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PluginCallError {
    /// The guest trapped (panic, unreachable, stack overflow, bad memory access, failed host
    /// call) or could not be instantiated.
    #[error("plugin `{plugin}` trapped: {message}")]
    Trap {
        /// Which plugin.
        plugin: PluginId,
        /// What happened.
        message: String,
    },
    /// The call ran past its wall-clock limit.
    #[error("plugin `{plugin}` timed out after {limit_ms} ms")]
    Timeout {
        /// Which plugin.
        plugin: PluginId,
        /// The limit.
        limit_ms: u64,
    },
    /// The call used all its fuel.
    #[error("plugin `{plugin}` ran out of fuel ({limit} units)")]
    Fuel {
        /// Which plugin.
        plugin: PluginId,
        /// The limit.
        limit: u64,
    },
    /// The call tried to grow memory past its cap.
    #[error("plugin `{plugin}` exceeded its memory limit of {limit_mib} MiB")]
    Memory {
        /// Which plugin.
        plugin: PluginId,
        /// The limit.
        limit_mib: u64,
    },
    /// The call returned more than its output cap.
    #[error("plugin `{plugin}` returned {size} bytes, over its output limit of {limit}")]
    Output {
        /// Which plugin.
        plugin: PluginId,
        /// What it returned.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The plugin reported an error of its own, or its output was refused.
    #[error("plugin `{plugin}` failed: {failure}")]
    Plugin {
        /// Which plugin.
        plugin: PluginId,
        /// Its error.
        failure: PluginFailure,
    },
}

impl PluginCallError {
    /// The outcome label: `trap`, `timeout`, `fuel`, `memory`, `output` or `plugin`.
    pub fn kind(&self) -> &'static str {
        match self {
            PluginCallError::Trap { .. } => "trap",
            PluginCallError::Timeout { .. } => "timeout",
            PluginCallError::Fuel { .. } => "fuel",
            PluginCallError::Memory { .. } => "memory",
            PluginCallError::Output { .. } => "output",
            PluginCallError::Plugin { .. } => "plugin",
        }
    }
}

/// Every outcome label, for counters.
pub const OUTCOMES: [&str; 7] = [
    "ok", "trap", "timeout", "fuel", "memory", "output", "plugin",
];

/// Kernel services host imports reach, shared by every plugin.
#[derive(Debug, Clone)]
pub(crate) struct HostServices {
    pub(crate) http: reqwest::Client,
    /// The kernel's job queue (and through it the database): where `mail.send` queues
    /// messages and `events.publish` writes to the outbox. Offline commands have none, and
    /// those capabilities answer with an error.
    pub(crate) jobs: Option<crate::jobs::Jobs>,
}

/// What an operator sees of a loaded plugin.
#[derive(Debug, Clone, Serialize)]
pub struct PluginInfo {
    /// Id.
    pub id: PluginId,
    /// Kind.
    pub kind: PluginKind,
    /// The component file.
    pub path: String,
    /// Its SHA-256.
    pub sha256: String,
    /// The contract version it implements.
    pub contract_version: String,
    /// Position in its kind's chain.
    pub order: i32,
    /// Failure policy.
    pub on_error: OnError,
    /// Granted capabilities.
    pub capabilities: Vec<Capability>,
    /// Per-call limits.
    pub limits: PluginLimits,
}

/// Counters of a plugin's calls since the kernel started (they survive reloads).
#[derive(Debug, Clone, Serialize)]
pub struct PluginStats {
    /// Calls made.
    pub calls: u64,
    /// Calls that failed, by outcome (`trap`, `timeout`, `fuel`, `memory`, `output`, `plugin`).
    pub errors: std::collections::BTreeMap<&'static str, u64>,
    /// Mean wall-clock time per call, in milliseconds.
    pub mean_ms: f64,
    /// Fuel consumed in total.
    pub fuel: u64,
}

#[derive(Clone)]
enum KindPre {
    Pricing(bindings::pricing::PricingPre<CallState>),
    Payments(bindings::payments::PaymentsPre<CallState>),
    ReviewPolicy(bindings::review_policy::ReviewPolicyPre<CallState>),
    Notifier(bindings::notifier::NotifierPre<CallState>),
}

/// A plugin's counters, resolved from the metric families once at load so recording a call is
/// a few atomic adds.
struct PluginCounters {
    /// One per entry of [`OUTCOMES`], same order.
    outcomes: Vec<Counter>,
    seconds: Counter<f64, AtomicU64>,
    fuel: Counter,
}

impl PluginCounters {
    fn new(metrics: &Metrics, id: &PluginId) -> Self {
        let plugin = id.to_string();
        let outcomes = OUTCOMES
            .iter()
            .map(|&outcome| {
                metrics
                    .plugin_calls
                    .get_or_create(&PluginCallLabels {
                        plugin: plugin.clone(),
                        outcome,
                    })
                    .clone()
            })
            .collect();
        let labels = PluginLabels { plugin };
        Self {
            outcomes,
            seconds: metrics.plugin_seconds.get_or_create(&labels).clone(),
            fuel: metrics.plugin_fuel.get_or_create(&labels).clone(),
        }
    }
}

/// A loaded, pre-instantiated plugin.
pub struct Plugin {
    info: PluginInfo,
    engine: Engine,
    pre: KindPre,
    config_json: Arc<str>,
    context: Arc<PluginContext>,
    counters: PluginCounters,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl Plugin {
    /// What the operator configured and what the loader found.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// Its counters.
    pub fn stats(&self) -> PluginStats {
        let mut errors = std::collections::BTreeMap::new();
        let mut calls = 0;
        for (outcome, counter) in OUTCOMES.iter().zip(&self.counters.outcomes) {
            let n = counter.get();
            calls += n;
            if *outcome != "ok" {
                errors.insert(*outcome, n);
            }
        }
        let seconds = self.counters.seconds.get();
        PluginStats {
            calls,
            errors,
            mean_ms: if calls == 0 {
                0.0
            } else {
                seconds * 1000.0 / calls as f64
            },
            fuel: self.counters.fuel.get(),
        }
    }

    fn engine(&self) -> &Engine {
        &self.engine
    }

    fn record(&self, result: &Result<impl Sized, PluginCallError>, cost: CallCost) {
        let outcome = match result {
            Ok(_) => "ok",
            Err(e) => e.kind(),
        };
        if let Some(i) = OUTCOMES.iter().position(|o| *o == outcome) {
            self.counters.outcomes[i].inc();
        }
        self.counters.seconds.inc_by(cost.elapsed.as_secs_f64());
        self.counters.fuel.inc_by(cost.fuel);
        if let Err(e) = result {
            tracing::warn!(plugin.id = %self.info.id, error.kind = e.kind(), error = %e, "plugin call failed");
        }
    }
}

/// A complete, validated set of plugins, ordered by kind, then `order`, then id.
#[derive(Debug, Default)]
pub struct PluginSet {
    plugins: Vec<Arc<Plugin>>,
}

impl PluginSet {
    /// Every plugin.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Plugin>> {
        self.plugins.iter()
    }

    /// The plugins of one kind, in chain order.
    pub fn of_kind(&self, kind: PluginKind) -> impl Iterator<Item = &Arc<Plugin>> {
        self.plugins.iter().filter(move |p| p.info.kind == kind)
    }

    /// A plugin by id.
    pub fn get(&self, id: &str) -> Option<&Arc<Plugin>> {
        self.plugins.iter().find(|p| p.info.id.as_str() == id)
    }

    /// How many plugins.
    pub fn len(&self) -> usize {
        self.plugins.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.plugins.is_empty()
    }
}

/// The plugin host: engine, linker, and the current plugin set.
pub struct PluginHost {
    engine: Engine,
    linker: Linker<CallState>,
    current: ArcSwap<PluginSet>,
    services: HostServices,
    cache: Cache,
    metrics: Metrics,
    /// Serialises reloads so two cannot interleave their swaps.
    reloading: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for PluginHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginHost")
            .field("plugins", &self.current.load().len())
            .finish_non_exhaustive()
    }
}

impl PluginHost {
    /// Builds the engine (compiled-code cache in `cache_dir`) with an empty plugin set.
    pub fn new(
        config: &PluginHostConfig,
        cache_dir: &Path,
        cache: Cache,
        metrics: Metrics,
    ) -> Result<Self, PluginHostError> {
        let engine = engine::engine(config, cache_dir)?;
        let linker = engine::linker(&engine)?;
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| PluginHostError::Engine(format!("http client: {e}")))?;
        Ok(Self {
            engine,
            linker,
            current: ArcSwap::from_pointee(PluginSet::default()),
            services: HostServices { http, jobs: None },
            cache,
            metrics,
            reloading: tokio::sync::Mutex::new(()),
        })
    }

    /// Connects plugins granted `mail` and `events` to the kernel's job queue and outbox (applies
    /// to plugins loaded after).
    pub fn attach_jobs(&mut self, jobs: crate::jobs::Jobs) {
        self.services.jobs = Some(jobs);
    }

    /// The current set. Hold the `Arc` for the duration of a use: a reload meanwhile does not
    /// affect it.
    pub fn current(&self) -> Arc<PluginSet> {
        self.current.load_full()
    }

    /// Loads every entry independently and reports each one's outcome, in configuration order
    /// (what `hearth plugin check` prints).
    pub async fn check(
        &self,
        configs: &[PluginConfig],
        base_dir: &Path,
    ) -> Vec<Result<Plugin, LoadProblem>> {
        let mut results = Vec::with_capacity(configs.len());
        for config in configs {
            results.push(
                loader::load(self, config, base_dir)
                    .await
                    .map_err(|message| LoadProblem {
                        plugin: config.id.clone(),
                        path: config.path.display().to_string(),
                        message,
                    }),
            );
        }
        results
    }

    /// Loads and validates every entry; either all load or the problems of each that did not.
    /// Relative paths resolve against `base_dir`.
    pub async fn load_set(
        &self,
        configs: &[PluginConfig],
        base_dir: &Path,
    ) -> Result<PluginSet, LoadErrors> {
        let mut plugins = Vec::new();
        let mut problems = Vec::new();
        for result in self.check(configs, base_dir).await {
            match result {
                Ok(p) => plugins.push(Arc::new(p)),
                Err(problem) => problems.push(problem),
            }
        }
        if !problems.is_empty() {
            return Err(LoadErrors(problems));
        }
        plugins.sort_by(|a, b| {
            (a.info.kind, a.info.order, &a.info.id).cmp(&(b.info.kind, b.info.order, &b.info.id))
        });
        Ok(PluginSet { plugins })
    }

    /// Loads a new set completely, then swaps it in atomically; on failure nothing changes.
    pub async fn reload(
        &self,
        configs: &[PluginConfig],
        base_dir: &Path,
    ) -> Result<Arc<PluginSet>, LoadErrors> {
        let _guard = self.reloading.lock().await;
        let set = Arc::new(self.load_set(configs, base_dir).await?);
        self.current.store(set.clone());
        tracing::info!(plugins = set.len(), "plugin set swapped in");
        Ok(set)
    }

    /// Installs a set (at startup).
    pub fn install(&self, set: PluginSet) {
        self.current.store(Arc::new(set));
    }

    /// Loads a single component for the plugin developer's runner (`hearth plugin run`): no
    /// pin is required; everything else is checked as for a configured plugin.
    pub async fn load_unpinned(
        &self,
        config: &PluginConfig,
        base_dir: &Path,
    ) -> Result<Plugin, String> {
        loader::load_with(self, config, base_dir, loader::Pin::Unchecked).await
    }

    fn context(&self, config: &PluginConfig) -> Arc<PluginContext> {
        Arc::new(PluginContext {
            id: config.id.clone(),
            grants: config.capabilities.iter().copied().collect::<BTreeSet<_>>(),
            http_allow: config.http_allow.clone(),
            cache: self.cache.namespace(format!("plugin:{}", config.id)),
            services: self.services.clone(),
        })
    }
}

/// Resolves a configured path against a base folder.
fn resolve(base_dir: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base_dir.join(path)
    }
}
