//! Plugins: the wasmtime host that runs WebAssembly components implementing the WIT contract in
//! `sdk/wit` (`hearth:plugins@0.1.0`).
//!
//! - `engine`: one `Engine` per process (pooling allocator, fuel, on-disk compiled-code cache)
//!   and one `Linker` (WASI with nothing granted + the Hearth host imports).
//! - `loader`: reads `[[plugins]]` entries, checks file, sha256 pin, world, contract version,
//!   capabilities and the config against the plugin's own JSON Schema, and pre-instantiates.
//! - `plugin`: one loaded plugin (what an operator sees, its counters, its pre-instance);
//!   `error`: load problems and the typed per-call [`PluginCallError`].
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
mod error;
pub mod host;
pub mod kinds;
mod loader;
mod plugin;
pub mod runner;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use wasmtime::component::Linker;
use wasmtime::Engine;

pub use self::call::{
    with_kernel_clock_and_seed, CallCost, CallEnv, EnvOverride, FIXED_INSTANT_MS,
};
use self::call::{CallState, PluginContext};
pub use self::error::{
    LoadErrors, LoadProblem, PluginCallError, PluginFailure, PluginHostError, OUTCOMES,
};
use self::plugin::{KindPre, PluginCounters};
pub use self::plugin::{Plugin, PluginInfo, PluginStats};
use crate::cache::Cache;
use crate::config::{PluginConfig, PluginHostConfig, PluginKind};
use crate::metrics::Metrics;

/// The contract version (`hearth:plugins@…`) this kernel implements.
pub const CONTRACT_VERSION: &str = "0.1.0";

/// Kernel services host imports reach, shared by every plugin.
#[derive(Debug, Clone)]
pub(crate) struct HostServices {
    /// Where `http.send` goes out: `[outbound]`'s rules once the kernel attaches them, the
    /// default ones (nothing private) before.
    pub(crate) http: crate::outbound::Outbound,
    /// The kernel's job queue (and through it the database): where `mail.send` queues
    /// messages and `events.publish` writes to the outbox. Offline commands have none, and
    /// those capabilities answer with an error.
    pub(crate) jobs: Option<crate::jobs::Jobs>,
}

/// The longest a plugin's HTTP request may take; its call's own timeout is usually shorter.
const PLUGIN_HTTP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// How plugins' requests introduce themselves.
const PLUGIN_USER_AGENT: &str = concat!("Hearth-Plugins/", env!("CARGO_PKG_VERSION"));

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
        let http = crate::outbound::Outbound::new(
            &crate::config::OutboundConfig::default(),
            PLUGIN_HTTP_TIMEOUT,
            PLUGIN_USER_AGENT,
        )
        .map_err(|e| PluginHostError::Engine(e.to_string()))?;
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

    /// Applies the operator's `[outbound]` rules to the `http` capability (for plugins loaded
    /// after).
    pub fn attach_outbound(
        &mut self,
        config: &crate::config::OutboundConfig,
    ) -> Result<(), PluginHostError> {
        self.services.http =
            crate::outbound::Outbound::new(config, PLUGIN_HTTP_TIMEOUT, PLUGIN_USER_AGENT)
                .map_err(|e| PluginHostError::Engine(e.to_string()))?;
        Ok(())
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
